"""The one rule for an email address and the one rule for an https URL.

Staff forms, the command line, imports and the portal all check addresses with these,
so an address accepted in one place is accepted everywhere (and refused everywhere).
Both are deliberately loose about what the world allows and strict about what Reclaim
needs: an email address with a local part, an ``@`` and a dotted domain, no spaces;
an absolute ``https://`` URL with a host.  Whether a mailbox exists is not knowable
here; whether a URL is safe to fetch is the fetcher's question, asked when it fetches.
"""

from __future__ import annotations

import re
from urllib.parse import urlsplit

MAX_EMAIL = 254
MAX_URL = 2048
_EMAIL = re.compile(r"[^@\s]{1,64}@[^@\s]+\.[^@\s.]+")


class InvalidAddressError(ValueError):
    """Not an email address or https URL Reclaim can use (the message says why)."""


def normalise_email(text: str) -> str:
    """Trimmed and lower-cased (the domain is case-blind; in practice local parts are too)."""
    return text.strip().lower()


def is_email(text: str) -> bool:
    return len(text) <= MAX_EMAIL and _EMAIL.fullmatch(text) is not None


def parse_email(text: str) -> str:
    """The normalised address, or InvalidAddressError."""
    address = normalise_email(text)
    if not is_email(address):
        raise InvalidAddressError(f"{text.strip()[:80]!r} is not an email address")
    return address


def parse_https_url(text: str) -> str:
    """The trimmed URL if it is an absolute https URL with a host, or InvalidAddressError."""
    url = text.strip()
    if len(url) > MAX_URL or any(c.isspace() for c in url):
        raise InvalidAddressError("an https:// URL has no spaces and at most 2,048 characters")
    parts = urlsplit(url)
    if parts.scheme.lower() != "https" or not parts.hostname:
        raise InvalidAddressError(f"{url[:80]!r} is not an https:// URL")
    return url
