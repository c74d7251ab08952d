"""Near-identical threat scripts: MinHash bands to find candidates, Jaccard to decide.

Every threat text gets a MinHash signature of its shingles (``domain.shingles``), cut
into bands; each band's values are stored as a keyed hash (``ThreatBand``), so two
texts that share a band meet in one indexed lookup, and the table says nothing about
the text to someone without the server's secret.  A candidate becomes a link only when
the exact Jaccard similarity of the two decrypted texts reaches
``domain.SCRIPT_SIMILARITY``: the link's reason states that figure.

With 16 bands of 4 values, texts that are 60% alike share a band with probability
≈ 0.87, 80% alike ≈ 0.9996; 30% alike ≈ 0.12 (then rejected by the exact check).
"""

from __future__ import annotations

import functools
from typing import Any

from datasketch import MinHash

from reclaim.linkage.domain import shingles
from reclaim.security.lookup_hashes import LookupHasher, LookupPurpose

BANDS = 16
ROWS = 4
#: Fixed, so signatures made today and next year agree.
SEED = 1
#: Named, so a library upgrade that changes its default cannot change stored bands.
SCHEME = "affine32"


@functools.cache
def _permutations() -> Any:
    """The hash permutations for SEED, drawn once (drawing them is most of the cost)."""
    return MinHash(num_perm=BANDS * ROWS, seed=SEED, scheme=SCHEME).permutations


def band_digests(text: str, hasher: LookupHasher) -> list[tuple[int, str]]:
    """(band number, keyed digest of the band's MinHash values) for a threat text."""
    pieces = shingles(text)
    if not pieces:
        return []
    minhash = MinHash(num_perm=BANDS * ROWS, seed=SEED, permutations=_permutations(), scheme=SCHEME)
    minhash.update_batch([piece.encode("utf-8") for piece in sorted(pieces)])
    values = [int(v) for v in minhash.hashvalues]
    return [
        (
            band,
            hasher.digest(
                f"{band}:" + ",".join(str(v) for v in values[band * ROWS : (band + 1) * ROWS]),
                purpose=LookupPurpose.THREAT_SCRIPT_BAND,
            ),
        )
        for band in range(BANDS)
    ]
