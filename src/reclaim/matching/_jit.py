"""numba glue: a caching ``njit`` that never crashes, and a hardware popcount.

Compiled kernels are cached on disk (``cache=True``) so only the first process on a
machine pays the compile time.  numba looks for a writable cache directory beside the
source file, then in the user's cache directory (or ``NUMBA_CACHE_DIR``); when none is
writable, as in a read-only container with no home directory, numba refuses to decorate
the function at all.  Matching must keep working there, so we fall back to an uncached
kernel: slower to start, identical results.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar, cast

import numba
from llvmlite import ir  # type: ignore[import-untyped]
from numba import types
from numba.extending import intrinsic

F = TypeVar("F", bound=Callable[..., Any])


def njit(function: F) -> F:
    """``numba.njit(cache=True, nogil=True)``, uncached when no cache dir is writable."""
    try:
        return cast(F, numba.njit(cache=True, nogil=True)(function))
    except RuntimeError:
        # "cannot cache function ...: no locator available": no writable cache dir.
        return cast(F, numba.njit(cache=False, nogil=True)(function))


def _popcount64(typingctx: Any, value: Any) -> Any:
    """Number of set bits of a uint64, compiled to the CPU's POPCNT instruction.

    numba has no popcount of its own (``np.bitwise_count`` does not compile), and the
    portable bit-twiddling version costs a dozen instructions per word in the hottest loop.
    """

    def codegen(context: Any, builder: Any, signature: Any, args: Any) -> Any:
        return builder.ctpop(args[0])

    if value != types.uint64:
        return None
    return types.uint64(types.uint64), codegen


# Typed as Any: numba's stubs describe an intrinsic's Python-side signature (which
# includes the typing context), not how compiled code calls it.
popcount64: Any = intrinsic(_popcount64)


def _prefetch(typingctx: Any, address: Any) -> Any:
    """Ask the CPU to start loading the cache line at ``address`` (an integer pointer).

    The index's searches are a few thousand independent cache misses; issuing them all
    before using any lets the memory system overlap them, where plain loads would fill
    the CPU's reorder buffer and stall after a dozen or so.
    """

    def codegen(context: Any, builder: Any, signature: Any, args: Any) -> Any:
        byte_pointer = ir.IntType(8).as_pointer()
        int32 = ir.IntType(32)
        function_type = ir.FunctionType(ir.VoidType(), [byte_pointer, int32, int32, int32])
        function = builder.module.declare_intrinsic("llvm.prefetch", [byte_pointer], function_type)
        pointer = builder.inttoptr(args[0], byte_pointer)
        # read (0), keep in all cache levels (3), data cache (1)
        builder.call(
            function, [pointer, ir.Constant(int32, 0), ir.Constant(int32, 3), ir.Constant(int32, 1)]
        )
        return context.get_dummy_value()

    if address != types.intp:
        return None
    return types.void(types.intp), codegen


prefetch: Any = intrinsic(_prefetch)
