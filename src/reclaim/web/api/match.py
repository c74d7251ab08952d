"""``POST /api/v1/match``: up to 1,000 signals against every bank, in memory."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, FastAPI, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse, Response
from sqlalchemy.orm import Session

from reclaim.banks import feed_guard, partner_match
from reclaim.banks.domain import SELF_REPORTED_BANK
from reclaim.banks.engine import Match
from reclaim.banks.feed import UnknownBankError
from reclaim.web.api.auth import Matcher
from reclaim.web.api.deps import read_now, run_read
from reclaim.web.api.errors import ApiError, ErrorBody
from reclaim.web.api.routing import ApiRoute
from reclaim.web.api.schemas import MatchRequest, MatchResponse

router = APIRouter(tags=["match"], route_class=ApiRoute)


def _note_matches(app: FastAPI, partner_id: int, entry_ids: list[int]) -> None:
    state = app.state.reclaim
    with state.sessions() as session:
        feed_guard.record_matches(
            session,
            partner_id,
            entry_ids,
            policy=feed_guard.GuardPolicy.from_settings(state.settings),
            clock=state.clock,
        )
        session.commit()


#: Larger batches search in a worker thread (the index releases the GIL); smaller
#: ones take less time than the hop there and back.
INLINE_BATCH = 8


@router.post(
    "/match",
    response_model=MatchResponse,
    summary="Match signals against Reclaim's banks",
    responses={404: {"model": ErrorBody, "description": "A bank in `banks` does not exist."}},
)
async def match(request: Request, caller: Matcher, body: MatchRequest) -> Response:
    """PDQ within `max_distance` (optionally through the 8 rotations and flips), MD5
    and SHA-256 exactly.  One result per input signal, in order, matches best first."""
    state = request.app.state.reclaim
    try:
        radius = partner_match.allowed_distance(
            body.max_distance, state.settings.match_max_distance
        )
    except partner_match.MatchRequestError as exc:
        raise ApiError(422, exc.code, str(exc)) from None
    queries = [
        partner_match.MatchQuery(s.signal(), tuple(s.dihedral) if s.dihedral else None)
        for s in body.signals
    ]
    # The first match loads the saved index (or builds it from the banks): never on
    # the event loop.
    engine = state.matcher or await run_in_threadpool(state.match_engine)

    def search(session: Session) -> list[list[Match]]:
        return partner_match.match_batch(
            session, engine, queries, max_distance=radius, dihedral=body.dihedral, banks=body.banks
        )

    try:
        if len(queries) <= INLINE_BATCH:
            found = await run_read(request.app, search)
        else:
            found = await run_in_threadpool(read_now, request.app, search)
    except UnknownBankError as exc:
        raise ApiError(404, "unknown_bank", str(exc)) from None
    self_reported = [m.entry_id for ms in found for m in ms if m.bank == SELF_REPORTED_BANK]
    if self_reported:
        # The flood guard counts which partners match each self-reported hash.
        await run_in_threadpool(_note_matches, request.app, caller.partner_id, self_reported)
    # Built as plain data: at thousands of matches a second, a response model's
    # validation would cost more than the search.
    results: list[dict[str, Any]] = [
        {
            "index": index,
            "signal_type": query.signal.type.value,
            "value": query.signal.value,
            "matches": [
                {
                    "entry_id": m.entry_id,
                    "bank": m.bank,
                    "signal_type": m.signal.type.value,
                    "value": m.signal.value,
                    "distance": m.distance,
                    "verified": m.verified,
                    "category": m.category.value,
                }
                for m in matches
            ],
        }
        for index, (query, matches) in enumerate(zip(queries, found, strict=True))
    ]
    return JSONResponse({"max_distance": radius, "results": results})
