"""python-threatexchange extension: Reclaim's hash feed as an exchange.

    threatexchange config extensions add reclaim.exchange
    threatexchange config collab edit reclaim my-reclaim --create \\
        --base-url https://reclaim.example.org
    TX_RECLAIM_API_KEY=rcl_… threatexchange fetch

See docs/partners.md (Hasher-Matcher-Actioner too).  This package imports nothing else
from Reclaim (an import-linter contract keeps it so).
"""

from __future__ import annotations

from threatexchange.extensions.manifest import ThreatExchangeExtensionManifest

from reclaim.exchange.api import (
    API_NAME,
    ReclaimCheckpoint,
    ReclaimClient,
    ReclaimCollabConfig,
    ReclaimCredentials,
    ReclaimEntry,
    ReclaimSignalExchangeAPI,
    ReclaimSignalMetadata,
)

TX_MANIFEST = ThreatExchangeExtensionManifest(apis=(ReclaimSignalExchangeAPI,))

__all__ = [
    "API_NAME",
    "TX_MANIFEST",
    "ReclaimCheckpoint",
    "ReclaimClient",
    "ReclaimCollabConfig",
    "ReclaimCredentials",
    "ReclaimEntry",
    "ReclaimSignalExchangeAPI",
    "ReclaimSignalMetadata",
]
