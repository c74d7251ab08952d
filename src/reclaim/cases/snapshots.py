"""Page snapshots: the HTML of a reported page as the review fetch saw it, kept
encrypted in the quarantine like media (for a sextortion profile page it may be all
the evidence there is), with the server's status and response headers.  Purged with
the media when its retention ends, unless the case is held (``cases.retention``)."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.orm import Session

from reclaim.cases.models import PageSnapshot
from reclaim.fetching import FetchResult
from reclaim.fetching.quarantine import QuarantineError, QuarantineStore

#: Response headers kept with a snapshot (evidence of what the server said).
MAX_HEADERS = 50


@dataclass(frozen=True, slots=True)
class Snapshot:
    object_id: str
    final_url: str
    status: int
    headers: dict[str, str]
    content_type: str
    size: int
    sha256: str


def keep_page(item_id: int, result: FetchResult, *, store: QuarantineStore) -> Snapshot | str:
    """Store the page encrypted; the snapshot, or why it could not be kept."""
    object_id = secrets.token_hex(16)
    try:
        stored = store.put(
            object_id, result.content, {"item": str(item_id), "url": result.final_url, "page": "1"}
        )
    except QuarantineError as exc:
        return str(exc)
    headers = {str(k).lower(): str(v)[:1000] for k, v in list(result.headers.items())[:MAX_HEADERS]}
    return Snapshot(
        object_id=object_id,
        final_url=result.final_url,
        status=result.status_code,
        headers=headers,
        content_type=result.content_type or "text/html",
        size=stored.size,
        sha256=stored.sha256,
    )


def record(
    session: Session, item_id: int, snapshot: Snapshot, *, now: datetime, expires_at: datetime
) -> PageSnapshot:
    row = PageSnapshot(
        item_id=item_id,
        object_id=snapshot.object_id,
        final_url=snapshot.final_url,
        http_status=snapshot.status,
        headers=snapshot.headers,
        content_type=snapshot.content_type,
        size=snapshot.size,
        sha256=snapshot.sha256,
        fetched_at=now,
        expires_at=expires_at,
    )
    session.add(row)
    return row
