"""Strict parsing of reported URLs into a :class:`SafeUrl`.

A ``SafeUrl`` only exists once its text parsed: http or https, no user name or
password, a host that is either a canonical IP literal or a valid (IDNA-encoded) DNS
name, a port in range.  Everything downstream (address checks, connection pinning,
the Host header, TLS server name) works from these parsed parts and never re-parses
the text, so no two layers can disagree about where a URL points.

Numeric hosts are the classic way around an address filter: ``inet_aton`` reads
``0x7f000001``, ``2130706433``, ``0177.0.0.1`` and ``127.1`` all as 127.0.0.1, and
browsers do the same.  Rather than reproduce that grammar, any host whose last label
is numeric must be a canonical dotted quad, or it is refused as non-canonical.
"""

from __future__ import annotations

import ipaddress
import re
import socket
from dataclasses import dataclass
from urllib.parse import quote, urljoin, urlsplit

import idna

from reclaim.fetching.addresses import IPAddress
from reclaim.fetching.errors import BlockedSchemeError, InvalidUrlError, NonCanonicalHostError

MAX_URL_LENGTH = 8192
_DEFAULT_PORTS = {"http": 80, "https": 443}
_LABEL = re.compile(r"[a-z0-9_-]{1,63}")
# WHATWG URL "ends in a number": such a host is parsed as IPv4 by browsers.
_NUMERIC_LABEL = re.compile(r"[0-9]+|0x[0-9a-f]*", re.IGNORECASE)
# Characters left as they are in a path or query; anything else is percent-encoded
# (existing %XX escapes are kept, so encoding is idempotent).
_PATH_SAFE = "/%:@!$&'()*+,;=-._~"
_QUERY_SAFE = _PATH_SAFE + "?"


@dataclass(frozen=True, slots=True)
class SafeUrl:
    """An http(s) URL in canonical form, split into the parts the fetcher uses.

    ``host`` is lower-case ASCII: an IDNA-encoded DNS name or an IP literal (IPv6
    without brackets).  ``ip`` is set when the host is an IP literal, in which case no
    DNS resolution takes place.
    """

    scheme: str
    host: str
    port: int
    target: str
    ip: IPAddress | None = None

    @classmethod
    def parse(cls, text: str) -> SafeUrl:
        return _parse(text)

    def join(self, reference: str) -> SafeUrl:
        """Resolve a (possibly relative) redirect ``Location`` against this URL."""
        reference = reference.strip()
        if not reference:
            raise InvalidUrlError("empty redirect location", url=str(self))
        _reject_controls(reference, reference)
        return _parse(urljoin(str(self), reference))

    @property
    def host_for_url(self) -> str:
        if isinstance(self.ip, ipaddress.IPv6Address):
            return f"[{self.host}]"
        return self.host

    @property
    def authority(self) -> str:
        """The Host header value: the host, plus the port when it is not the default."""
        if self.port == _DEFAULT_PORTS[self.scheme]:
            return self.host_for_url
        return f"{self.host_for_url}:{self.port}"

    def __str__(self) -> str:
        return f"{self.scheme}://{self.authority}{self.target}"


def _parse(text: str) -> SafeUrl:
    raw = text.strip()
    if len(raw) > MAX_URL_LENGTH:
        raise InvalidUrlError(f"URL is longer than {MAX_URL_LENGTH} characters")
    _reject_controls(raw, text)
    scheme, colon, _ = raw.partition(":")
    if not colon or not re.fullmatch(r"[A-Za-z][A-Za-z0-9+.-]*", scheme):
        raise InvalidUrlError(f"not an absolute URL (it must start with https://): {raw!r}")
    scheme = scheme.lower()
    if scheme not in _DEFAULT_PORTS:
        raise BlockedSchemeError(f"only http and https URLs can be fetched, not {scheme}:", url=raw)
    try:
        parts = urlsplit(raw)
    except ValueError as exc:
        raise InvalidUrlError(f"malformed URL {raw!r}: {exc}", url=raw) from None
    if not raw[len(scheme) + 1 :].startswith("//") or not parts.netloc:
        raise InvalidUrlError(f"URL has no host: {raw!r}", url=raw)
    if "@" in parts.netloc:
        raise InvalidUrlError(
            "URL contains a user name or password (user:pass@host); such URLs are refused "
            "because they disguise the real host",
            url=raw,
        )
    host_text, port = _split_host_port(parts.netloc, scheme, raw)
    host, ip = _parse_host(host_text, raw)
    path = quote(parts.path, safe=_PATH_SAFE) or "/"
    if not path.startswith("/"):
        raise InvalidUrlError(f"URL path must be absolute: {raw!r}", url=raw)
    target = path + (f"?{quote(parts.query, safe=_QUERY_SAFE)}" if parts.query else "")
    return SafeUrl(scheme=scheme, host=host, port=port, target=target, ip=ip)


def _reject_controls(value: str, original: str) -> None:
    # urlsplit silently deletes tabs and newlines, which would make the URL we check
    # differ from the one a person sees; refuse instead.
    if any(ord(ch) < 0x21 or ord(ch) == 0x7F for ch in value):
        raise InvalidUrlError(
            f"URL contains spaces or control characters: {original[:200]!r}", url=original
        )


def _split_host_port(netloc: str, scheme: str, raw: str) -> tuple[str, int]:
    if netloc.startswith("["):
        end = netloc.find("]")
        if end == -1:
            raise InvalidUrlError(f"unterminated IPv6 literal in {raw!r}", url=raw)
        host, rest = netloc[: end + 1], netloc[end + 1 :]
    else:
        host = netloc.partition(":")[0]
        rest = netloc[len(host) :]
    if not rest:
        return host, _DEFAULT_PORTS[scheme]
    port_part = rest[1:] if rest.startswith(":") else ""
    # isdigit() alone would accept "²" and other Unicode digits that int() rejects.
    if not (port_part.isascii() and port_part.isdigit()):
        raise InvalidUrlError(f"URL has a malformed port: {raw!r}", url=raw)
    port = int(port_part)
    if not 1 <= port <= 65535:
        raise InvalidUrlError(f"URL port {port} is out of range", url=raw)
    return host, port


def _parse_host(text: str, raw: str) -> tuple[str, IPAddress | None]:
    if not text:
        raise InvalidUrlError(f"URL has an empty host: {raw!r}", url=raw)
    if text.startswith("["):
        return _parse_ipv6_literal(text[1:-1], raw)
    if "%" in text:
        raise InvalidUrlError(f"percent-encoded host names are refused: {raw!r}", url=raw)
    host = _to_ascii_host(text, raw)
    labels = host.split(".")
    if _NUMERIC_LABEL.fullmatch(labels[-1]):
        return _parse_ipv4_literal(host, raw)
    if len(host) > 253 or not all(_LABEL.fullmatch(label) for label in labels):
        raise InvalidUrlError(f"URL host {host!r} is not a valid host name", url=raw)
    return host, None


def _to_ascii_host(text: str, raw: str) -> str:
    if text.isascii():
        host = text.lower()
    else:
        # UTS 46 mapping also folds full-width digits and ideographic full stops, so
        # "１２７。０。０。１" becomes "127.0.0.1" here and meets the numeric check.
        try:
            host = idna.encode(text, uts46=True, transitional=False).decode("ascii")
        except idna.IDNAError as exc:
            raise InvalidUrlError(f"URL host {text!r} is not a valid IDNA name: {exc}") from None
    # A trailing dot names the same host; drop it so "localhost." compares as itself.
    if host.endswith(".") and len(host) > 1:
        host = host[:-1]
    return host


def _parse_ipv4_literal(host: str, raw: str) -> tuple[str, IPAddress]:
    try:
        address = ipaddress.IPv4Address(host)
    except ValueError:
        pass
    else:
        # ipaddress accepts only four decimal parts without leading zeros.
        return str(address), address
    try:
        meaning = f"it would be read as {socket.inet_ntoa(socket.inet_aton(host))}"
    except OSError:
        meaning = "it is not a valid address"
    raise NonCanonicalHostError(
        f"URL host {host!r} is a numeric address in a non-standard form ({meaning}); "
        "only dotted-decimal IPv4 addresses are accepted",
        url=raw,
    )


def _parse_ipv6_literal(text: str, raw: str) -> tuple[str, IPAddress]:
    if "%" in text:
        raise InvalidUrlError(f"IPv6 zone identifiers are refused: {raw!r}", url=raw)
    try:
        address = ipaddress.IPv6Address(text)
    except ValueError:
        raise InvalidUrlError(f"URL host [{text}] is not a valid IPv6 address") from None
    return str(address), address
