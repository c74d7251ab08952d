"""Search across cases by case number, URL, site, hash, offender identifier and date.

Every search is audited: who searched, by which key, how many cases it found.  The
query itself is kept in the trail when it names no person (a case number, hash, site or
date); for a URL or an identifier the trail keeps its keyed hash instead, so a
supervisor can tell two searches for one account apart without the trail holding it.
"""

from __future__ import annotations

import enum
import re
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from reclaim import audit
from reclaim.audit.domain import AuditTag
from reclaim.banks.models import Signal as SignalRow
from reclaim.cases import pages
from reclaim.cases.domain import CaseStatus
from reclaim.cases.models import Case, Item, Page
from reclaim.domain.clock import Clock, system_clock
from reclaim.domain.signals import SignalType
from reclaim.linkage.domain import IdentifierKind, InvalidIdentifierError, normalise
from reclaim.linkage.identifiers import Keys
from reclaim.linkage.linking import cases_with_signals
from reclaim.linkage.media_index import MediaPdqIndex
from reclaim.linkage.models import CaseIdentifier, OffenderIdentifier
from reclaim.security.lookup_hashes import LookupPurpose

#: Most cases one search lists.
LIMIT = 200


class SearchKey(enum.StrEnum):
    CASE_NUMBER = "case_number"
    URL = "url"
    HOST = "host"
    HASH = "hash"  # MD5 (32 hex), SHA-256 (64 hex, exact) or PDQ (64 hex, by distance)
    IDENTIFIER = "identifier"  # any kind: tried as each kind it can be
    DATE = "date"  # YYYY-MM-DD, or YYYY-MM-DD..YYYY-MM-DD (in the operator's time zone)


class SearchError(ValueError):
    def __init__(self, code: str) -> None:
        super().__init__(code)
        self.code = code


@dataclass(frozen=True, slots=True)
class Found:
    case_id: int
    number: str
    status: CaseStatus
    created_at: datetime
    why: str  # what matched: "pdq:12" (distance), "md5", "handle", a host...


@dataclass(frozen=True, slots=True)
class SearchOutcome:
    key: SearchKey
    found: list[Found]
    truncated: bool


_HEX = re.compile(r"[0-9a-f]+")


def search(
    session: Session,
    key: SearchKey,
    query: str,
    *,
    keys: Keys,
    media_index: MediaPdqIndex,
    max_distance: int,
    zone: ZoneInfo,
) -> SearchOutcome:
    text = query.strip()
    if not text:
        raise SearchError("empty")
    matches: dict[int, str]
    if key is SearchKey.CASE_NUMBER:
        number = select(Case.id).where(Case.number == text.upper())
        matches = dict.fromkeys(session.scalars(number), "number")
    elif key is SearchKey.URL:
        matches = _by_url(session, text)
    elif key is SearchKey.HOST:
        matches = _by_host(session, text)
    elif key is SearchKey.HASH:
        matches = _by_hash(session, text.lower(), media_index, max_distance)
    elif key is SearchKey.IDENTIFIER:
        matches = _by_identifier(session, text, keys)
    else:
        matches = _by_date(session, text, zone)
    rows = session.execute(
        select(Case.id, Case.number, Case.status, Case.created_at)
        .where(Case.id.in_(list(matches)))
        .order_by(Case.created_at.desc(), Case.id.desc())
        .limit(LIMIT)
    ).all()
    return SearchOutcome(
        key,
        [Found(i, n, CaseStatus(s), c, matches[i]) for i, n, s, c in rows],
        len(matches) > LIMIT,
    )


def _by_url(session: Session, text: str) -> dict[int, str]:
    try:
        parts = urlsplit(text)
    except ValueError:
        raise SearchError("bad_url") from None
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise SearchError("bad_url")
    page = session.scalar(select(Page.id).where(Page.url == pages.page_url(text)))
    rows = session.scalars(
        select(Item.case_id).where(or_(Item.page_id == page, Item.url == text)).distinct()
    )
    return dict.fromkeys(rows, "url")


def _by_host(session: Session, text: str) -> dict[int, str]:
    host = text.lower().removeprefix("https://").removeprefix("http://").split("/")[0]
    host = host.removeprefix("www.")
    if not host or "." not in host:
        raise SearchError("bad_host")
    prefixes = [f"{scheme}://{sub}{host}/" for scheme in ("https", "http") for sub in ("", "www.")]
    rows = session.scalars(
        select(Item.case_id)
        .join(Page, Page.id == Item.page_id)
        .where(or_(*(Page.url.startswith(p, autoescape=True) for p in prefixes)))
        .distinct()
    )
    return dict.fromkeys(rows, host)


def _by_hash(
    session: Session, text: str, media_index: MediaPdqIndex, max_distance: int
) -> dict[int, str]:
    if not _HEX.fullmatch(text) or len(text) not in (32, 64):
        raise SearchError("bad_hash")
    types = [SignalType.MD5] if len(text) == 32 else [SignalType.SHA256, SignalType.PDQ]
    exact = dict(
        session.execute(
            select(SignalRow.id, SignalRow.type).where(
                SignalRow.type.in_(types), SignalRow.value == text
            )
        ).all()
    )
    why = {signal_id: str(kind) for signal_id, kind in exact.items()}
    if len(text) == 64:
        media_index.sync(session)
        for hit in media_index.similar([text], max_distance):
            if hit.signal_id not in why or hit.distance == 0:
                why[hit.signal_id] = f"pdq:{hit.distance}"
    found: dict[int, str] = {}
    for case_id, signal_id in cases_with_signals(session, why):
        found.setdefault(case_id, why[signal_id])
    return found


def _by_identifier(session: Session, text: str, keys: Keys) -> dict[int, str]:
    candidates = {}
    for kind in IdentifierKind:
        try:
            identifier = normalise(kind, text)
        except InvalidIdentifierError:
            continue
        candidates[keys.lookup(identifier)] = identifier.kind.value
    if not candidates:
        raise SearchError("bad_identifier")
    rows = session.execute(
        select(CaseIdentifier.case_id, OffenderIdentifier.lookup)
        .join(OffenderIdentifier, OffenderIdentifier.id == CaseIdentifier.identifier_id)
        .where(OffenderIdentifier.lookup.in_(list(candidates)))
        .distinct()
    )
    return {case_id: candidates[lookup] for case_id, lookup in rows}


def _by_date(session: Session, text: str, zone: ZoneInfo) -> dict[int, str]:
    first, _, last = text.partition("..")
    try:
        start = date.fromisoformat(first.strip())
        end = date.fromisoformat(last.strip()) if last else start
    except ValueError:
        raise SearchError("bad_date") from None
    if end < start:
        raise SearchError("bad_date")
    since = datetime.combine(start, time(), zone)
    until = datetime.combine(end + timedelta(days=1), time(), zone)
    rows = session.scalars(
        select(Case.id).where(Case.created_at >= since, Case.created_at < until).limit(LIMIT + 1)
    )
    return dict.fromkeys(rows, "date")


#: Keys whose query names no person: kept in the audit trail as typed.
_PLAIN = frozenset({SearchKey.CASE_NUMBER, SearchKey.HOST, SearchKey.HASH, SearchKey.DATE})


def record(
    session: Session,
    key: str,
    outcome: SearchOutcome | None,
    *,
    error: str | None,
    viewer_id: int,
    keys: Keys,
    query: str,
    clock: Clock = system_clock,
) -> None:
    """Audit one search (also a refused one)."""
    known = SearchKey(key) if key in set(SearchKey) else None
    details: dict[str, object] = {
        "key": key[:32],
        "found": len(outcome.found) if outcome else 0,
        "error": error,
    }
    if known in _PLAIN:
        details["query"] = query[:200]
    else:
        details["query_hash"] = keys.hasher.digest(query, purpose=LookupPurpose.SEARCH_QUERY)
    audit.record(
        session,
        AuditTag.CASES_SEARCHED,
        actor=audit.Actor.user(viewer_id),
        details=details,
        clock=clock,
    )
