"""The reporter's say over referrals, on their case page (included template
``portal/_referrals.html``): two questions in plain words, the answers recorded as
consent (``referrals.consent``), and what was shared with whom and what came of it.

Kept apart from ``my_case`` so the case page itself changes by one include and one
context line."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Form, Request, Response
from fastapi.responses import RedirectResponse
from sqlalchemy.orm import Session

from reclaim import audit
from reclaim.cases.models import Case
from reclaim.referrals import consent, referring
from reclaim.referrals.domain import DELIVERED, ConsentHow, ConsentSubject, Share
from reclaim.web.common import current_time
from reclaim.web.deps import DbSession
from reclaim.web.portal import case_cookie, pages

router = APIRouter()
STATUS_PATH = "/case/status"


def referral_context(session: Session, case: Case) -> dict[str, Any]:
    """What the case page shows about referrals: the reporter's answers, and each
    agency told (by kind and name, never a person), what went, and — where the reporter
    consented — what the agency did."""
    state = consent.current(session, case.id)
    told = []
    for referral in referring.for_case(session, case.id):
        if referral.status not in DELIVERED:
            continue
        shared = set(referral.sent_shares or [])
        told.append(
            {
                "kind": referral.agency.kind.value,
                "agency": referral.agency.name,
                "region": referral.agency.region or "",
                "sent_at": referral.sent_at,
                "contact": Share.CONTACT.value in shared,
                "words": Share.WORDS.value in shared,
                "outcome": referral.outcome if state.for_kind(referral.agency.kind) else None,
            }
        )
    return {"consent_state": state, "told": told}


@router.post("/case/consent", include_in_schema=False)
def answer(
    request: Request,
    session: DbSession,
    social_worker: Annotated[str, Form()] = "",
    police: Annotated[str, Form()] = "",
) -> Response:
    secret = pages.settings_of(request).secret_bytes
    found = case_cookie.read(
        secret,
        request.cookies.get(case_cookie.COOKIE),
        lambda case_id: session.get(Case, case_id),
        current_time(request),
    )
    if found is None:
        return RedirectResponse("/case?expired=1", status_code=303)
    case, _issued = found
    previous = consent.current(session, case.id)
    for subject, given, before in (
        (ConsentSubject.SOCIAL_WORKER, social_worker, previous.social_worker),
        (ConsentSubject.POLICE, police, previous.police),
    ):
        if given not in ("yes", "no") or (given == "yes") is before:
            continue  # not answered, or unchanged
        consent.record_consent(
            session,
            case,
            subject,
            granted=given == "yes",
            how=ConsentHow.PORTAL,
            actor=audit.Actor.reporter(case.id),
            clock=request.app.state.reclaim.clock,
        )
    session.commit()
    return RedirectResponse(f"{STATUS_PATH}?consent=saved#referrals-title", status_code=303)
