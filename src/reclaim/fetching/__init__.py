"""Safe fetching of reported URLs, and the encrypted quarantine for what is fetched.

The fetcher is the only way Reclaim's server reaches out to a URL someone reported;
see :mod:`reclaim.fetching.fetcher` for the guarantees.  It takes its limits as a
plain :class:`FetchPolicy` and never reads settings itself.
"""

from reclaim.fetching.addresses import AllowRule, blocked_reason, is_public, parse_allowlist
from reclaim.fetching.errors import (
    BlockedAddressError,
    BlockedPortError,
    BlockedSchemeError,
    ConnectError,
    ContentTypeError,
    FetchError,
    FetchProtocolError,
    FetchTimeoutError,
    InvalidUrlError,
    NonCanonicalHostError,
    RedirectLoopError,
    ResolutionError,
    TLSError,
    TooLargeError,
    TooManyRedirectsError,
)
from reclaim.fetching.fetcher import FetchPolicy, FetchResult, RedirectHop, SafeFetcher
from reclaim.fetching.pages import extract_author_urls, extract_media_urls
from reclaim.fetching.resolver import Resolver, SystemResolver
from reclaim.fetching.urls import SafeUrl

__all__ = [
    "AllowRule",
    "BlockedAddressError",
    "BlockedPortError",
    "BlockedSchemeError",
    "ConnectError",
    "ContentTypeError",
    "FetchError",
    "FetchPolicy",
    "FetchProtocolError",
    "FetchResult",
    "FetchTimeoutError",
    "InvalidUrlError",
    "NonCanonicalHostError",
    "RedirectHop",
    "RedirectLoopError",
    "ResolutionError",
    "Resolver",
    "SafeFetcher",
    "SafeUrl",
    "SystemResolver",
    "TLSError",
    "TooLargeError",
    "TooManyRedirectsError",
    "blocked_reason",
    "extract_author_urls",
    "extract_media_urls",
    "is_public",
    "parse_allowlist",
]
