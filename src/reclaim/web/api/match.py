"""``POST /api/v1/match``: up to 1,000 signals and 10 videos against every bank, in memory."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, FastAPI, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse, Response
from sqlalchemy.orm import Session
from starlette.background import BackgroundTask

from reclaim.banks import feed_guard, partner_match
from reclaim.banks.domain import SELF_REPORTED_BANK
from reclaim.banks.engine import Match, VideoMatch
from reclaim.banks.feed import UnknownBankError
from reclaim.matching.video import FrameList
from reclaim.partners import match_volumes
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


def _count_volumes(
    app: FastAPI, partner_id: int, found: list[list[Match]], video_found: list[list[VideoMatch]]
) -> BackgroundTask | None:
    """Count the answer for the statistics, in memory; when the interval has passed,
    a task that writes what this process gathered, run in a thread once the answer has
    been sent (so neither the event loop nor the partner waits for the write lock)."""
    state = app.state.reclaim
    day = state.clock().astimezone(state.settings.zone).date()
    tally: match_volumes.VolumeTally = state.match_volumes
    tally.add(match_volumes.count_answer(partner_id, day, found, video_found))
    due = tally.take_if_due()
    if due is None:
        return None
    return BackgroundTask(match_volumes.flush, state.sessions, tally, due)


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
    and SHA-256 exactly.  One result per input signal, in order, matches best first.

    Videos (`videos`, each a vPDQ frame list) match banked videos under vPDQ's rule:
    frames within the rule's distance, and at least the rule's share of the sent
    video's frames and of the banked video's frames matching (both percentages are in
    the answer)."""
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

    rule = state.settings.video_rule()
    clips = [
        FrameList.from_frames(
            (i, f.timestamp, f.pdq.lower(), f.quality) for i, f in enumerate(v.frames)
        )
        for v in body.videos
    ]

    def search(session: Session) -> tuple[list[list[Match]], list[list[VideoMatch]]]:
        found = partner_match.match_batch(
            session, engine, queries, max_distance=radius, dihedral=body.dihedral, banks=body.banks
        )
        return found, partner_match.match_videos(session, engine, clips, rule, banks=body.banks)

    try:
        if len(queries) <= INLINE_BATCH and not clips:
            found, video_found = await run_read(request.app, search)
        else:
            found, video_found = await run_in_threadpool(read_now, request.app, search)
    except UnknownBankError as exc:
        raise ApiError(404, "unknown_bank", str(exc)) from None
    self_reported = [m.entry_id for ms in found for m in ms if m.bank == SELF_REPORTED_BANK]
    if self_reported:
        # The flood guard counts which partners match each self-reported hash.
        await run_in_threadpool(_note_matches, request.app, caller.partner_id, self_reported)
    write_volumes = _count_volumes(request.app, caller.partner_id, found, video_found)
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
    answer: dict[str, Any] = {"max_distance": radius, "results": results}
    if clips:
        answer["videos"] = [
            {
                "index": index,
                "frames": len(clip),
                "matches": [
                    {
                        "entry_id": m.entry_id,
                        "bank": m.bank,
                        "value": m.signal.value,
                        "query_percent": round(m.query_percent, 2),
                        "target_percent": round(m.target_percent, 2),
                        "verified": m.verified,
                        "category": m.category.value,
                    }
                    for m in matches
                ],
            }
            for index, (clip, matches) in enumerate(zip(clips, video_found, strict=True))
        ]
        answer["video_rule"] = {
            "distance": rule.distance,
            "quality_threshold": rule.quality_threshold,
            "query_match_percent": rule.query_match_percent,
            "target_match_percent": rule.target_match_percent,
        }
    return JSONResponse(answer, background=write_volumes)
