"""``POST /api/v1/feedback`` (what the platform did) and ``GET`` (its own reports)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request

from reclaim.banks.feed_guard import GuardPolicy
from reclaim.partners import feedback as feedback_service
from reclaim.web.api.auth import FeedbackSender
from reclaim.web.api.deps import ReadSession
from reclaim.web.api.errors import ApiError
from reclaim.web.api.paging import CURSOR_ERROR, cursor_position, page_of
from reclaim.web.api.routing import ApiRoute
from reclaim.web.api.schemas import (
    FeedbackAccepted,
    FeedbackOut,
    FeedbackPage,
    FeedbackRequest,
    signal_type_name,
)
from reclaim.web.deps import DbSession

router = APIRouter(tags=["feedback"], route_class=ApiRoute)


@router.post(
    "/feedback",
    response_model=FeedbackAccepted,
    summary="Report what you did about signals or matches",
)
def send_feedback(
    request: Request, session: DbSession, caller: FeedbackSender, body: FeedbackRequest
) -> FeedbackAccepted:
    """Per signal (`signal_type` + `value`) or per match (`entry_id`): `removed`,
    `blocked_upload`, `not_violating` or `pending_review`.  All or nothing; a retried
    request is counted once."""
    reports = [
        feedback_service.FeedbackReport(
            outcome=item.outcome,
            signal=item.signal(),
            entry_id=item.entry_id,
            url=item.url,
            observed_at=item.observed_at,
        )
        for item in body.feedback
    ]
    try:
        recorded = feedback_service.record_feedback(
            session,
            caller.partner_id,
            reports,
            actor=caller.actor,
            guard=GuardPolicy.from_settings(request.app.state.reclaim.settings),
        )
    except feedback_service.FeedbackError as exc:
        session.rollback()
        raise ApiError(422, exc.code, str(exc)) from None
    session.commit()
    return FeedbackAccepted(accepted=recorded.accepted, duplicates=recorded.duplicates)


@router.get(
    "/feedback",
    response_model=FeedbackPage,
    summary="Your own feedback, oldest first",
    responses=CURSOR_ERROR,
)
def list_feedback(
    session: ReadSession,
    caller: FeedbackSender,
    cursor: Annotated[str | None, Query(max_length=32)] = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
) -> FeedbackPage:
    after = cursor_position(cursor)
    page = page_of(
        feedback_service.list_feedback(session, caller.partner_id, after_id=after, limit=limit + 1),
        limit=limit,
        after=after,
    )
    return FeedbackPage(
        feedback=[
            FeedbackOut(
                id=r.id,
                signal_type=signal_type_name(r.signal.type),
                value=r.signal.value,
                entry_id=r.entry_id,
                outcome=r.outcome,
                url=r.url,
                observed_at=r.observed_at,
                created_at=r.created_at,
            )
            for r in page.rows
        ],
        next_cursor=page.next_cursor,
        has_more=page.has_more,
    )
