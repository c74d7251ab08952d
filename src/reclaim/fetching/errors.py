"""Why a fetch was refused or failed, as types an analyst's screen can explain.

Every error names the URL it concerns; the message is written for a hotline analyst
(what was refused and why), not for a network engineer.  HTTP error statuses are not
errors: a 404 or 410 is how takedown verification learns that content is gone, so
those come back as results.
"""

from __future__ import annotations

from reclaim.fetching.addresses import IPAddress


class FetchError(Exception):
    """Base class: the URL could not be fetched safely."""

    def __init__(self, message: str, *, url: str | None = None) -> None:
        super().__init__(message)
        self.url = url


class InvalidUrlError(FetchError):
    """The URL is malformed or uses a form the fetcher refuses to interpret."""


class NonCanonicalHostError(InvalidUrlError):
    """The host is a numeric IPv4 address in an obfuscated form (hex, octal, integer).

    Such hosts are how address filters are bypassed (``http://0x7f000001/`` is
    127.0.0.1), and no legitimate link needs them, so they are refused outright.
    """


class BlockedSchemeError(FetchError):
    """The URL's scheme is not http or https."""


class BlockedAddressError(FetchError):
    """The host is, or resolves to, an address the fetcher must not connect to."""

    def __init__(
        self,
        message: str,
        *,
        url: str | None = None,
        address: IPAddress | None = None,
        reason: str | None = None,
    ) -> None:
        super().__init__(message, url=url)
        self.address = address
        self.reason = reason


class BlockedPortError(BlockedAddressError):
    """The port is not one the fetcher may connect to."""


class ResolutionError(FetchError):
    """The host name could not be resolved to any address."""


class ConnectError(FetchError):
    """No connection could be opened to the (checked) address."""


class TLSError(ConnectError):
    """The TLS handshake failed, e.g. the certificate does not match the host name."""


class FetchProtocolError(FetchError):
    """The server's response was not valid HTTP."""


class FetchTimeoutError(FetchError):
    """The fetch took longer than allowed (connect, read, or the whole fetch)."""


class TooManyRedirectsError(FetchError):
    """The server redirected more times than the policy allows."""


class RedirectLoopError(TooManyRedirectsError):
    """A redirect pointed back to a URL already visited in this fetch."""


class TooLargeError(FetchError):
    """The response body is larger than the size cap."""

    def __init__(self, message: str, *, url: str | None = None, limit: int) -> None:
        super().__init__(message, url=url)
        self.limit = limit


class ContentTypeError(FetchError):
    """The content is not an image, video or HTML page, or lies about its type."""

    def __init__(
        self,
        message: str,
        *,
        url: str | None = None,
        declared: str | None = None,
        sniffed: str | None = None,
    ) -> None:
        super().__init__(message, url=url)
        self.declared = declared
        self.sniffed = sniffed
