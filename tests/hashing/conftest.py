"""Fixtures for the hashing tests.

Hashing every frame of the six sample videos is the slowest thing these tests do
(about 20 s), so each video is hashed once per session and shared.
"""

from __future__ import annotations

import pytest

from reclaim.hashing import HashingLimits, VideoHashes, hash_file
from tests.support.testdata import VIDEO_STEMS, VIDEOS


@pytest.fixture
def limits() -> HashingLimits:
    return HashingLimits()


@pytest.fixture(scope="session")
def every_frame() -> dict[str, VideoHashes]:
    """Each sample video hashed at every frame, as Meta's reference lists are."""
    hashed = {}
    for stem in VIDEO_STEMS:
        result = hash_file(VIDEOS / f"{stem}.mp4", HashingLimits(), seconds_per_hash=0)
        assert isinstance(result, VideoHashes)
        hashed[stem] = result
    return hashed
