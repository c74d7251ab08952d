"""``GET /api/v1/hashes`` (the feed) and ``GET /api/v1/hashes/snapshot`` (a bank file)."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query, Request
from fastapi.responses import JSONResponse, Response, StreamingResponse

from reclaim.banks import feed as hash_feed
from reclaim.banks import videos
from reclaim.banks.formats import BankFormat
from reclaim.domain.signals import SignalType
from reclaim.web.api.auth import HashesReader
from reclaim.web.api.deps import ReadSession, readers
from reclaim.web.api.errors import ApiError, ErrorBody
from reclaim.web.api.routing import ApiRoute
from reclaim.web.api.schemas import FeedPageOut, SignalTypeName

router = APIRouter(tags=["hash feed"], route_class=ApiRoute)

_MEDIA_TYPES = {
    BankFormat.LOCAL_FILE: "text/plain; charset=utf-8",
    BankFormat.CSV: "text/csv; charset=utf-8",
    BankFormat.JSONL: "application/x-ndjson",
}
_SUFFIXES = {BankFormat.LOCAL_FILE: "txt", BankFormat.CSV: "csv", BankFormat.JSONL: "jsonl"}


@router.get(
    "/hashes",
    response_model=FeedPageOut,
    summary="Signals added or withdrawn since a cursor",
    responses={
        400: {"model": ErrorBody, "description": "The cursor is not one this feed gave out."},
        404: {"model": ErrorBody, "description": "No such bank."},
    },
)
def feed(
    *,
    request: Request,
    session: ReadSession,
    caller: HashesReader,
    cursor: Annotated[
        str | None,
        Query(max_length=32, description="`next_cursor` of the previous page; omit to start."),
    ] = None,
    limit: Annotated[int, Query(ge=1, le=10_000, description="Entries per page.")] = 1000,
    bank: Annotated[str | None, Query(max_length=64, description="Only this bank.")] = None,
    signal_type: Annotated[
        list[SignalTypeName] | None, Query(description="Only these types (repeatable).")
    ] = None,
) -> Response:
    """Changes in a stable order: paging while signals are added never skips or repeats
    one.  A withdrawn signal comes back as a tombstone (`deleted: true`)."""
    settings = request.app.state.reclaim.settings
    try:
        page = hash_feed.read_feed(
            session,
            cursor=hash_feed.parse_cursor(cursor),
            limit=min(limit, settings.api_feed_max_limit),
            bank=bank,
            signal_types=[SignalType(t) for t in signal_type] if signal_type else None,
        )
    except hash_feed.CursorError as exc:
        raise ApiError(400, "invalid_cursor", str(exc)) from None
    except hash_feed.UnknownBankError as exc:
        raise ApiError(404, "unknown_bank", str(exc)) from None
    body: dict[str, Any] = {
        "entries": [
            {
                "id": e.entry_id,
                "signal_type": e.signal.type.value,
                "value": e.signal.value,
                "bank": e.bank,
                "category": e.category.value,
                "verified": e.verified,
                "quality": e.quality,
                "deleted": e.deleted,
                "added_at": _iso(e.added_at),
                "withdrawn_at": _iso(e.withdrawn_at) if e.withdrawn_at else None,
                "withdrawn_reason": e.withdrawn_reason if e.deleted else None,
                **({"frames": videos.compact_frames(e.frames)} if e.frames is not None else {}),
            }
            for e in page.entries
        ],
        "next_cursor": str(page.next_cursor),
        "has_more": page.has_more,
    }
    return JSONResponse(body, headers={"cache-control": "no-store"})


@router.get(
    "/hashes/snapshot",
    response_model=None,
    summary="A bank's active signals as a file",
    responses={
        200: {
            "description": "The file, streamed.  `X-Reclaim-Cursor`: follow the feed from "
            "this cursor afterwards.",
            "content": {"text/plain": {}, "text/csv": {}, "application/x-ndjson": {}},
            "headers": {"X-Reclaim-Cursor": {"schema": {"type": "string"}}},
        },
        404: {"model": ErrorBody, "description": "No such bank."},
    },
)
def snapshot(
    request: Request,
    session: ReadSession,
    caller: HashesReader,
    bank: Annotated[str, Query(min_length=1, max_length=64)],
    format: Annotated[
        Literal["local_file", "csv", "jsonl"],
        Query(description="python-threatexchange's `local_file`, CSV or JSON lines."),
    ] = "local_file",
) -> Response:
    """Every active signal of one bank, in one of the three bank formats."""
    chosen = BankFormat(format)
    # The request's transaction ends here: streaming reads in short transactions of its
    # own, and must not hold this one open while the client reads.
    session.rollback()
    try:
        exported = hash_feed.snapshot(readers(request.app), bank, chosen)
    except hash_feed.UnknownBankError as exc:
        raise ApiError(404, "unknown_bank", str(exc)) from None
    return StreamingResponse(
        exported.chunks,
        media_type=_MEDIA_TYPES[chosen],
        headers={
            "x-reclaim-cursor": str(exported.cursor),
            "content-disposition": f'attachment; filename="{bank}.{_SUFFIXES[chosen]}"',
            "cache-control": "no-store",
        },
    )


def _iso(moment: Any) -> str:
    text: str = moment.isoformat()
    return text.replace("+00:00", "Z")
