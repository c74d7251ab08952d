"""ExactIndex (MD5 / SHA-256 equality) agrees with a plain dict on every sequence of edits."""

from __future__ import annotations

import hashlib

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from reclaim.matching import MD5_BYTES, SHA256_BYTES, ExactIndex, hex_to_digests


def digest_of(value: int, size: int) -> bytes:
    # A small value space, so digests repeat across ids; trailing zero bytes included.
    return hashlib.sha256(str(value).encode()).digest()[: size - 2] + b"\x00\x00"


edits = st.lists(
    st.tuples(st.sampled_from(["add", "remove"]), st.integers(0, 30), st.integers(0, 8)),
    max_size=40,
)


@settings(max_examples=60, deadline=None)
@given(steps=edits, size=st.sampled_from([MD5_BYTES, SHA256_BYTES]), merge_limit=st.integers(1, 10))
def test_lookup_matches_a_dict(
    steps: list[tuple[str, int, int]], size: int, merge_limit: int
) -> None:
    index = ExactIndex(size, merge_limit=merge_limit)
    model: dict[int, bytes] = {}
    for kind, id_, value in steps:
        if kind == "add":
            index.add([id_], np.frombuffer(digest_of(value, size), np.uint8).reshape(1, size))
            model[id_] = digest_of(value, size)
        else:
            assert index.remove([id_, 10**9]) == (1 if model.pop(id_, None) is not None else 0)
        assert len(index) == len(model)
    queries = [digest_of(v, size) for v in range(9)]
    result = index.lookup(np.frombuffer(b"".join(queries), np.uint8).reshape(-1, size))
    expected = {(q, i, 0) for q, d in enumerate(queries) for i, m in model.items() if m == d}
    assert result.rows() == expected


def test_build_and_hex_digests() -> None:
    md5s = [hashlib.md5(t, usedforsecurity=False).hexdigest() for t in (b"a", b"b", b"a")]
    index = ExactIndex.build([1, 2, 3], hex_to_digests(md5s, MD5_BYTES))
    result = index.lookup(hex_to_digests([md5s[0], "0" * 32], MD5_BYTES))
    assert result.rows() == {(0, 1, 0), (0, 3, 0)}
    index.add([1], hex_to_digests([md5s[1]], MD5_BYTES))  # replaces id 1's digest
    assert index.lookup(hex_to_digests([md5s[1]], MD5_BYTES)).rows() == {(0, 1, 0), (0, 2, 0)}


def test_items_rebuild_the_same_index() -> None:
    digests = hex_to_digests([f"{i:032x}" for i in (5, 6, 5, 7)], MD5_BYTES)
    index = ExactIndex.build([10, 11, 12, 13], digests)
    index.remove([11])
    index.add([14], hex_to_digests([f"{8:032x}"], MD5_BYTES))  # pending, not yet merged
    ids, saved = index.items()
    assert sorted(ids.tolist()) == [10, 12, 13, 14]
    copy = ExactIndex.build(ids, saved)
    queries = hex_to_digests([f"{i:032x}" for i in (5, 6, 7, 8)], MD5_BYTES)
    assert copy.lookup(queries).rows() == index.lookup(queries).rows()
    empty_ids, empty = ExactIndex(MD5_BYTES).items()
    assert empty_ids.shape == (0,) and empty.shape == (0, MD5_BYTES)


def test_wrong_digest_size_is_refused() -> None:
    index = ExactIndex(SHA256_BYTES)
    with pytest.raises(ValueError, match="shape"):
        index.lookup(np.zeros((1, MD5_BYTES), np.uint8))
    with pytest.raises(ValueError, match="hex"):
        hex_to_digests(["abc"], MD5_BYTES)
