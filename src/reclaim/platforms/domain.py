"""Platforms and the domains they serve: which platform hosts a URL.

A platform lists the registrable domains it serves (``fbcdn.net``, ``instagram.com``);
a URL's host belongs to the platform whose domain is the longest suffix of the host on
a label boundary, so ``scontent.xx.fbcdn.net`` is Meta's and ``notfbcdn.net`` is not.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping

import idna

_LABEL = re.compile(r"[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?")


class InvalidDomainError(ValueError):
    """Not a domain a platform can serve (no scheme, path, port, wildcard or IP)."""


def normalise_domain(text: str) -> str:
    """Lower-case ASCII (punycode) form; ``*.`` and a leading dot are accepted and dropped."""
    candidate = text.strip().lower().removeprefix("*.").removeprefix(".").rstrip(".")
    if not candidate or any(c in candidate for c in "/:@ ?#*"):
        raise InvalidDomainError(f"{text!r} is not a domain name (e.g. example.com)")
    try:
        ascii_form = idna.encode(candidate, uts46=True).decode("ascii")
    except idna.IDNAError:
        raise InvalidDomainError(f"{text!r} is not a valid domain name") from None
    labels = ascii_form.split(".")
    if len(labels) < 2 or not all(_LABEL.fullmatch(label) for label in labels):
        raise InvalidDomainError(f"{text!r} is not a valid domain name")
    if labels[-1].isdigit():
        raise InvalidDomainError(f"{text!r} is an address, not a domain name")
    return ascii_form


def host_suffixes(host: str) -> list[str]:
    """``a.b.example.com`` → ``[a.b.example.com, b.example.com, example.com, com]``."""
    labels = host.lower().rstrip(".").split(".")
    return [".".join(labels[i:]) for i in range(len(labels))]


def platform_for_host(host: str, domains: Mapping[str, int]) -> int | None:
    """The platform id owning the longest matching domain suffix of ``host``, if any."""
    for suffix in host_suffixes(host):
        owner = domains.get(suffix)
        if owner is not None:
            return owner
    return None


def duplicates(domains: Iterable[str]) -> set[str]:
    seen: set[str] = set()
    repeated: set[str] = set()
    for domain in domains:
        (repeated if domain in seen else seen).add(domain)
    return repeated
