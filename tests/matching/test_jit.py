"""The numba glue: kernels compile without warnings, and work where nothing can be cached."""

from __future__ import annotations

import numpy as np

from reclaim.matching._jit import njit, popcount64


def test_a_function_numba_cannot_cache_still_compiles() -> None:
    # Code from exec() has no source file, so numba finds no cache location for it, as
    # with a read-only install and no writable cache directory: njit must fall back.
    namespace: dict[str, object] = {"popcount64": popcount64, "np": np}
    exec(  # noqa: S102 - a fixed snippet, to get a function without a source file
        "def bits(x):\n    return popcount64(x)\n",
        namespace,
    )
    function = namespace["bits"]
    assert callable(function)
    compiled = njit(function)
    assert compiled(np.uint64(0xFF00FF)) == 16
