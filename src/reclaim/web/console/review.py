"""Console routes: fetch for review, blurred previews, reveals, decisions.

Media is never shown unasked: the case page offers a blurred preview behind a click,
and the original only through a POST that the analyst confirms (audited each time,
never cached).  Only analysts and supervisors reach these routes.
"""

from __future__ import annotations

import mimetypes
from typing import Annotated

from fastapi import APIRouter, Form, HTTPException, Request
from fastapi.responses import Response

from reclaim.cases import decisions, media_view, review, viewing
from reclaim.cases.domain import Classification, DecisionStatus
from reclaim.cases.models import Case, Decision, Item, QuarantinedMedia
from reclaim.fetching import SafeFetcher
from reclaim.linkage import identifiers
from reclaim.referrals import referring
from reclaim.web.common import current_time, render, state_of
from reclaim.web.console.auth import Staff
from reclaim.web.console.cases import case_url, render_case
from reclaim.web.console.linkage import keys_of, link_now
from reclaim.web.console.permissions import permitted
from reclaim.web.console.responses import redirect

router = APIRouter()

#: Served with the original bytes of a reveal: the response is an image or a video
#: from our own origin and may load nothing else.
REVEAL_CSP = (
    "default-src 'none'; img-src 'self'; media-src 'self'; style-src 'self'; "
    "frame-ancestors 'none'; base-uri 'none'; form-action 'none'"
)
NO_STORE = {"cache-control": "no-store, max-age=0", "pragma": "no-cache", "expires": "0"}


def _item_or_404(staff: Staff, item_id: int) -> Item:
    item = staff.db.get(Item, item_id)
    if item is None:
        raise HTTPException(404, "no such item")
    return item


def _media_or_404(staff: Staff, media_id: int) -> QuarantinedMedia:
    media = staff.db.get(QuarantinedMedia, media_id)
    if media is None:
        raise HTTPException(404, "no such media")
    return media


# --- fetching --------------------------------------------------------------------


@router.post("/items/{item_id}/fetch", name="console.item.fetch")
def fetch_item(
    request: Request,
    item_id: int,
    staff: Annotated[Staff, permitted("console.item.fetch")],
) -> Response:
    """Fetch in the request: the analyst waits for the answer anyway, and each fetch
    is capped by the fetcher's time limit (RECLAIM_FETCH_TOTAL_TIMEOUT_SECONDS)."""
    state = state_of(request)
    settings = state.settings
    matcher = state.match_engine()
    try:
        # The service ends every transaction before it goes to the network.
        outcome = review.fetch_for_review(
            staff.db,
            item_id,
            fetcher=SafeFetcher(review.fetch_policy(settings)),
            store=review.quarantine_store(settings),
            matcher=matcher,
            policy=review.ReviewPolicy.from_settings(settings),
            actor_id=staff.user.id,
            clock=state.clock,
        )
    except review.ReviewError as exc:
        staff.db.rollback()
        item = _item_or_404(staff, item_id)
        return render_case(
            request, staff, item.case, status=409, error=exc.code, error_item=item.id
        )
    item = _item_or_404(staff, item_id)
    if outcome.page_url and outcome.authors:
        # The page's declared author on its own platform is an identifier of the case.
        added = identifiers.from_page(
            staff.db,
            item.case,
            item.id,
            outcome.page_url,
            outcome.authors,
            keys=keys_of(request),
            clock=state.clock,
        )
        if added:
            link_now(request, staff, item.case)
    staff.db.commit()
    notice = "fetched" if outcome.ok else "fetch_failed"
    return redirect(case_url(item.case, notice, f"item-{item.id}"))


# --- decisions -------------------------------------------------------------------


@router.post("/items/{item_id}/decisions", name="console.item.decide")
def decide(
    request: Request,
    item_id: int,
    staff: Annotated[Staff, permitted("console.item.decide")],
    *,
    classification: Annotated[str, Form()] = "",
    reason: Annotated[str, Form()] = "",
    media: Annotated[list[str] | None, Form()] = None,
    media_listed: Annotated[str, Form()] = "",
) -> Response:
    """``media``: the pictures the decision covers (checkboxes); the form lists them all
    (``media_listed``), so none ticked means none."""
    item = _item_or_404(staff, item_id)
    case = item.case
    try:
        chosen = Classification(classification)
    except ValueError:
        return render_case(
            request, staff, case, status=400, error="bad_classification", error_item=item.id
        )
    try:
        chosen_media = (
            [int(value) for value in media or [] if value.isdigit()] if media_listed else None
        )
        decision = decisions.decide(
            staff.db,
            item,
            chosen,
            analyst_id=staff.user.id,
            reason=reason,
            policy=decisions.DecisionPolicy.from_settings(state_of(request).settings),
            media_ids=chosen_media,
            matcher=state_of(request).match_engine(),
            clock=state_of(request).clock,
        )
    except decisions.DecisionError as exc:
        staff.db.rollback()
        return render_case(request, staff, case, status=400, error=exc.code, error_item=item.id)
    _propose_referral(request, staff, case)
    staff.db.commit()
    waiting = decision.status is DecisionStatus.AWAITING_SECOND
    return redirect(case_url(case, "awaiting_second" if waiting else "decided", f"item-{item.id}"))


@router.post("/decisions/{decision_id}/agree", name="console.decision.agree")
def agree(
    request: Request,
    decision_id: int,
    staff: Annotated[Staff, permitted("console.decision.agree")],
) -> Response:
    decision = staff.db.get(Decision, decision_id)
    if decision is None:
        raise HTTPException(404, "no such decision")
    item = decision.item
    try:
        decisions.agree(
            staff.db,
            decision,
            reviewer_id=staff.user.id,
            policy=decisions.DecisionPolicy.from_settings(state_of(request).settings),
            matcher=state_of(request).match_engine(),
            clock=state_of(request).clock,
        )
    except decisions.DecisionError as exc:
        staff.db.rollback()
        return render_case(
            request, staff, item.case, status=409, error=exc.code, error_item=item.id
        )
    _propose_referral(request, staff, item.case)
    staff.db.commit()
    return redirect(case_url(item.case, "agreed", f"item-{item.id}"))


def _propose_referral(request: Request, staff: Staff, case: Case) -> None:
    """A decision that makes reporting a duty (a minor's images) proposes the referral,
    with its legal deadline, in the decision's transaction."""
    state = state_of(request)
    referring.propose_mandatory(
        staff.db, case, referring.policy_of(state.settings), clock=state.clock
    )


# --- looking at media ------------------------------------------------------------


def _media_page(
    request: Request,
    staff: Staff,
    media: QuarantinedMedia,
    *,
    status: int = 200,
    error: str | None = None,
) -> Response:
    state = state_of(request)
    item = media.item
    view = media_view.copy_view(
        staff.db,
        media,
        matcher=state.match_engine(),
        max_distance=state.settings.match_max_distance,
        video_rule=state.settings.video_rule(),
    )
    context = {
        "active": "queue",
        "media": media,
        "view": view,
        "item": item,
        "case": item.case,
        "matches": view.matches,
        "video_matches": view.video_matches,
        "confirmed_match": view.verified_match,
        "has_preview": viewing.has_preview(media),
        "show_preview": request.query_params.get("preview") == "1",
        "error": error,
        "now": current_time(request),
    }
    return render(request, "console/review_media.html", context, status)


@router.get("/media/{media_id}", name="console.media")
def media_page(
    request: Request,
    media_id: int,
    staff: Annotated[Staff, permitted("console.media")],
) -> Response:
    return _media_page(request, staff, _media_or_404(staff, media_id))


@router.get("/media/{media_id}/preview", name="console.media.preview")
def media_preview(
    request: Request,
    media_id: int,
    staff: Annotated[Staff, permitted("console.media.preview")],
) -> Response:
    media = _media_or_404(staff, media_id)
    try:
        data = viewing.preview(
            staff.db,
            media,
            store=review.quarantine_store(state_of(request).settings),
            actor_id=staff.user.id,
            min_pdq_quality=state_of(request).settings.bank_min_pdq_quality,
            clock=state_of(request).clock,
        )
    except review.ReviewError as exc:
        raise HTTPException(
            404 if exc.code in {"no_preview", "purged"} else 500, str(exc)
        ) from None
    staff.db.commit()
    headers = {**NO_STORE, "content-disposition": f'inline; filename="preview-{media.id}.jpg"'}
    return Response(data, media_type="image/jpeg", headers=headers)


@router.post("/media/{media_id}/reveal", name="console.media.reveal")
def media_reveal(
    request: Request,
    media_id: int,
    staff: Annotated[Staff, permitted("console.media.reveal")],
    confirm: Annotated[str, Form()] = "",
) -> Response:
    """The original, once per confirmed request; the form asks first."""
    media = _media_or_404(staff, media_id)
    if confirm != "yes":
        return _media_page(request, staff, media, status=400, error="confirm_required")
    try:
        content = viewing.reveal(
            staff.db,
            media,
            store=review.quarantine_store(state_of(request).settings),
            actor_id=staff.user.id,
            min_pdq_quality=state_of(request).settings.bank_min_pdq_quality,
            clock=state_of(request).clock,
        )
    except review.ReviewError as exc:
        staff.db.rollback()
        return _media_page(request, staff, media, status=410, error=exc.code)
    staff.db.commit()
    extension = mimetypes.guess_extension(content.content_type) or ".bin"
    headers = {
        **NO_STORE,
        "content-disposition": f'inline; filename="media-{media.id}{extension}"',
        "content-security-policy": REVEAL_CSP,
    }
    return Response(content.data, media_type=content.content_type, headers=headers)
