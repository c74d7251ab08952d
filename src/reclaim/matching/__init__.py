"""Matching: find banked hashes near a query, exactly.

``PdqIndex`` is the fast exact Hamming-range index for PDQ hashes (multi-index hashing
with numba kernels); ``BruteForceIndex`` is its slow reference twin; ``ExactIndex``
looks up MD5 and SHA-256 digests.  This package is pure: it imports nothing from
storage, services or the web layer.  See docs/matching.md for the design.
"""

from reclaim.matching.brute import BruteForceIndex
from reclaim.matching.codec import MAX_DISTANCE, PDQ_BYTES, hashes_to_hex, hex_to_hashes
from reclaim.matching.exact import MD5_BYTES, SHA256_BYTES, ExactIndex, hex_to_digests
from reclaim.matching.pdq_index import PdqIndex, Tuning
from reclaim.matching.protocol import PdqMatcher
from reclaim.matching.result import SearchResult

__all__ = [
    "MAX_DISTANCE",
    "MD5_BYTES",
    "PDQ_BYTES",
    "SHA256_BYTES",
    "BruteForceIndex",
    "ExactIndex",
    "PdqIndex",
    "PdqMatcher",
    "SearchResult",
    "Tuning",
    "hashes_to_hex",
    "hex_to_digests",
    "hex_to_hashes",
]
