"""The notices inbox: ``GET /api/v1/notices``, ``POST …/{id}/acknowledge`` and ``…/resolve``.

A partner only ever sees the notices sent to its own platform; any other id is 404.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Path, Query, Request
from sqlalchemy.orm import Session

from reclaim.domain.states import IllegalTransitionError
from reclaim.takedown import answers, partner_inbox
from reclaim.takedown.domain import NoticeStatus
from reclaim.takedown.models import Notice
from reclaim.takedown.notices import NoticePolicy
from reclaim.web.api.auth import NoticesReader
from reclaim.web.api.deps import ReadSession
from reclaim.web.api.errors import ApiError, ErrorBody
from reclaim.web.api.paging import CURSOR_ERROR, cursor_position, page_of
from reclaim.web.api.routing import ApiRoute
from reclaim.web.api.schemas import NoticeOut, NoticePage, NoticeStatusName, ResolveRequest
from reclaim.web.deps import DbSession

router = APIRouter(tags=["notices"], route_class=ApiRoute)
_NOT_FOUND: dict[int | str, dict[str, Any]] = {
    404: {"model": ErrorBody, "description": "No such notice was sent to your platform."}
}
NoticeId = Annotated[int, Path(ge=1, le=2**62)]


@router.get(
    "/notices",
    response_model=NoticePage,
    summary="Notices sent to your platform, oldest first",
    responses=CURSOR_ERROR,
)
def list_notices(
    session: ReadSession,
    caller: NoticesReader,
    status: Annotated[
        list[NoticeStatusName] | None, Query(description="Only these statuses (repeatable).")
    ] = None,
    cursor: Annotated[str | None, Query(max_length=32)] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
) -> NoticePage:
    after = cursor_position(cursor)
    rows = partner_inbox.list_notices(
        session,
        caller.platform_id,
        statuses=[NoticeStatus(s) for s in status] if status else None,
        after_id=after,
        limit=limit + 1,
    )
    page = page_of(rows, limit=limit, after=after)
    return NoticePage(
        notices=[notice_out(n) for n in page.rows],
        next_cursor=page.next_cursor,
        has_more=page.has_more,
    )


@router.get("/notices/{notice_id}", response_model=NoticeOut, responses=_NOT_FOUND)
def get_notice(session: ReadSession, caller: NoticesReader, notice_id: NoticeId) -> NoticeOut:
    return notice_out(_notice(session, caller.platform_id, notice_id))


@router.post(
    "/notices/{notice_id}/acknowledge",
    response_model=NoticeOut,
    summary="Say you received a notice",
    responses=_NOT_FOUND,
)
def acknowledge(
    request: Request, session: DbSession, caller: NoticesReader, notice_id: NoticeId
) -> NoticeOut:
    """Idempotent: a notice already acknowledged (or further along) is left as it is."""
    notice = _notice(session, caller.platform_id, notice_id)
    policy = NoticePolicy.from_settings(request.app.state.reclaim.settings)
    answers.acknowledge(session, notice, policy, actor=caller.actor, via=answers.Via.API)
    session.commit()
    return notice_out(notice)


@router.post(
    "/notices/{notice_id}/resolve",
    response_model=NoticeOut,
    summary="Say what you did with each page",
    responses={
        **_NOT_FOUND,
        409: {"model": ErrorBody, "description": "The notice is closed."},
    },
)
def resolve(
    request: Request,
    session: DbSession,
    caller: NoticesReader,
    notice_id: NoticeId,
    body: ResolveRequest,
) -> NoticeOut:
    """`removed`, `not_found` or `refused` (with a reason) per item (a noticed page).
    Reclaim records your answer and checks removals itself at once: a page counts as
    removed when a check finds it (or every decided picture on it) gone, not on your
    word alone."""
    notice = _notice(session, caller.platform_id, notice_id)
    policy = NoticePolicy.from_settings(request.app.state.reclaim.settings)
    claims = [answers.PageClaim(item.id, item.outcome, item.reason) for item in body.items]
    try:
        answers.resolve(session, notice, claims, policy, actor=caller.actor, via=answers.Via.API)
    except answers.AnswerError as exc:
        session.rollback()
        status = 409 if exc.code == "notice_closed" else 422
        raise ApiError(status, exc.code, str(exc)) from None
    except IllegalTransitionError as exc:
        session.rollback()
        raise ApiError(409, "illegal_transition", str(exc)) from None
    session.commit()
    return notice_out(notice)


def _notice(session: Session, platform_id: int, notice_id: int) -> Notice:
    try:
        return partner_inbox.get_notice(session, platform_id, notice_id)
    except partner_inbox.UnknownNoticeError as exc:
        raise ApiError(404, "unknown_notice", str(exc)) from None


def notice_out(notice: Notice) -> NoticeOut:
    return NoticeOut.model_validate(
        {
            "id": notice.id,
            "reference": notice.reference,
            "status": notice.status.value,
            "created_at": notice.created_at,
            "sent_at": notice.sent_at,
            "deadline": notice.deadline_at,
            "acknowledged_at": notice.acknowledged_at,
            "resolved_at": notice.resolved_at,
            "kind": notice.kind.value,
            "items": [
                {
                    "id": page.id,
                    "url": page.page.url,
                    "category": page.classification.value,
                    "outcome": page.outcome.value,
                    "platform_outcome": page.platform_outcome.value
                    if page.platform_outcome
                    else None,
                    "platform_reason": page.platform_reason,
                    "removed_at": page.removed_at,
                    "media": [
                        {
                            "id": noticed.id,
                            "url": noticed.media.url,
                            "outcome": noticed.outcome.value,
                            "removed_at": noticed.removed_at,
                        }
                        for noticed in page.media
                    ],
                }
                for page in notice.pages
            ],
        }
    )
