"""Console routes for referrals.

Hotline side (analysts and supervisors): a case's referrals, consent recorded by
phone, drafting, sending (supervisors), legal holds (supervisors).

Agency side (social workers and police liaisons): the referrals their agency received
and, for each, only what it shared (``referrals.sharing``), every look audited; the
evidence package; answering.  A referral of another agency, or one not sent, is a 404
like one that does not exist.

Without logging in: the one-time answer link from the email, and the hotline's public
signing key (what agencies check packages with).
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Form, HTTPException, Request
from fastapi.responses import Response
from sqlalchemy import select

from reclaim import audit
from reclaim.audit.domain import ActorKind
from reclaim.cases import casework, holds
from reclaim.cases.models import Case
from reclaim.cases.review import quarantine_store
from reclaim.domain.states import IllegalTransitionError
from reclaim.referrals import access, cluster_referral, consent, evidence, referring, sharing
from reclaim.referrals.domain import (
    AgencyKind,
    ConsentHow,
    ConsentSubject,
    ReferralRefused,
    ReferralStatus,
    Share,
)
from reclaim.referrals.models import Agency, Referral
from reclaim.security.signing import public_key_pem, public_key_text, signing_keyring
from reclaim.web.common import current_time, render
from reclaim.web.console.auth import Staff
from reclaim.web.console.permissions import may, permitted
from reclaim.web.console.responses import cipher_of, download, redirect, settings_of

router = APIRouter()

#: What agency staff may answer (acknowledge first, then accept or decline, then close).
ANSWERS = (
    ReferralStatus.ACKNOWLEDGED,
    ReferralStatus.ACCEPTED,
    ReferralStatus.DECLINED,
    ReferralStatus.CLOSED,
)


def _case(staff: Staff, number: str) -> Case:
    case = casework.find_case(staff.db, number)
    if case is None:
        raise HTTPException(404, "no such case")
    return case


def _referral(staff: Staff, reference: str) -> Referral:
    referral = staff.db.scalar(select(Referral).where(Referral.reference == reference[:20]))
    if referral is None:
        raise HTTPException(404, "no such referral")
    return referral


def _actor(staff: Staff) -> audit.Actor:
    return audit.Actor.user(staff.user.id)


# --- the hotline's side ----------------------------------------------------------------


def _case_page(
    request: Request, staff: Staff, case: Case, *, error: str | None = None, status: int = 200
) -> Response:
    context: dict[str, Any] = {
        "active": "queue",
        "case": case,
        "referrals": referring.for_case(staff.db, case.id),
        "agencies": list(staff.db.scalars(select(Agency).order_by(Agency.name))),
        "consents": consent.history(staff.db, case.id),
        "consent_state": consent.current(staff.db, case.id),
        "holds": holds.holds(staff.db, case.id),
        "active_hold": holds.active_hold(staff.db, case.id),
        "shares": [Share.DECISIONS, Share.CONTACT, Share.WORDS, Share.MEDIA],
        "subjects": list(ConsentSubject),
        "ways": [h for h in ConsentHow if h is not ConsentHow.PORTAL],
        "can_send": may(staff, "console.referral.send"),
        "can_hold": may(staff, "console.case.hold"),
        "error": error,
        "notice": request.query_params.get("notice"),
        "now": current_time(request),
    }
    return render(request, "console/case_referrals.html", context, status)


@router.get("/cases/{number}/referrals", name="console.case.referrals")
def case_referrals(
    request: Request, number: str, staff: Annotated[Staff, permitted("console.case.referrals")]
) -> Response:
    return _case_page(request, staff, _case(staff, number))


@router.post("/cases/{number}/referrals", name="console.case.referrals.draft")
async def draft_referral(
    request: Request,
    number: str,
    staff: Annotated[Staff, permitted("console.case.referrals.draft")],
) -> Response:
    case = _case(staff, number)
    form = await request.form()
    agency_id = str(form.get("agency_id", ""))
    agency = staff.db.get(Agency, int(agency_id)) if agency_id.isdigit() else None
    if agency is None:
        return _case_page(request, staff, case, error="agency", status=400)
    wanted = [Share(v) for v in form.getlist("share") if v in {s.value for s in Share}]
    referring.draft(
        staff.db,
        case,
        agency,
        wanted,
        actor=_actor(staff),
        created_by_id=staff.user.id,
        mandatory=referring.mandatory(staff.db, case) and agency.kind is not AgencyKind.HOTLINE,
        clock=request.app.state.reclaim.clock,
    )
    staff.db.commit()
    return redirect(f"/console/cases/{case.number}/referrals?notice=drafted")


@router.post("/cases/{number}/consent", name="console.case.consent")
def record_consent(
    request: Request,
    number: str,
    *,
    staff: Annotated[Staff, permitted("console.case.consent")],
    subject: Annotated[str, Form()] = "",
    answer: Annotated[str, Form()] = "",
    how: Annotated[str, Form()] = "",
) -> Response:
    case = _case(staff, number)
    if (
        subject not in {s.value for s in ConsentSubject}
        or answer not in ("yes", "no")
        or how not in {h.value for h in ConsentHow if h is not ConsentHow.PORTAL}
    ):
        return _case_page(request, staff, case, error="consent", status=400)
    consent.record_consent(
        staff.db,
        case,
        ConsentSubject(subject),
        granted=answer == "yes",
        how=ConsentHow(how),
        actor=_actor(staff),
        recorded_by_id=staff.user.id,
        clock=request.app.state.reclaim.clock,
    )
    staff.db.commit()
    return redirect(f"/console/cases/{case.number}/referrals?notice=consent")


@router.post("/cases/{number}/hold", name="console.case.hold")
def set_hold(
    request: Request,
    number: str,
    staff: Annotated[Staff, permitted("console.case.hold")],
    reason: Annotated[str, Form()] = "",
) -> Response:
    case = _case(staff, number)
    try:
        holds.set_hold(
            staff.db,
            case,
            reason,
            actor=_actor(staff),
            set_by_id=staff.user.id,
            clock=request.app.state.reclaim.clock,
        )
    except holds.HoldError as exc:
        staff.db.rollback()
        return _case_page(request, staff, case, error=exc.code, status=400)
    staff.db.commit()
    return redirect(f"/console/cases/{case.number}/referrals?notice=held")


@router.post("/cases/{number}/hold/release", name="console.case.hold.release")
def release_hold(
    request: Request,
    number: str,
    staff: Annotated[Staff, permitted("console.case.hold.release")],
    reason: Annotated[str, Form()] = "",
) -> Response:
    case = _case(staff, number)
    try:
        holds.release_hold(
            staff.db,
            case,
            reason,
            actor=_actor(staff),
            released_by_id=staff.user.id,
            clock=request.app.state.reclaim.clock,
        )
    except holds.HoldError as exc:
        staff.db.rollback()
        return _case_page(request, staff, case, error=exc.code, status=400)
    staff.db.commit()
    return redirect(f"/console/cases/{case.number}/referrals?notice=released")


@router.post("/referrals/{reference}/send", name="console.referral.send")
def send_referral(
    request: Request, reference: str, staff: Annotated[Staff, permitted("console.referral.send")]
) -> Response:
    referral = _referral(staff, reference)
    settings = settings_of(request)
    try:
        referring.send(
            staff.db,
            referral,
            referring.policy_of(settings),
            sender_id=staff.user.id,
            secret=settings.secret_key.get_secret_value().encode(),
            clock=request.app.state.reclaim.clock,
        )
    except ReferralRefused as exc:
        staff.db.rollback()
        return _case_page(request, staff, referral.case, error=exc.code, status=409)
    staff.db.commit()
    # Send now rather than at the next minute's run.
    request.app.state.reclaim.huey.reclaim_tasks.referrals.deliver_referrals()
    return redirect(f"/console/cases/{referral.case.number}/referrals?notice=sent")


@router.post("/referrals/{reference}/cancel", name="console.referral.cancel")
def cancel_referral(
    request: Request, reference: str, staff: Annotated[Staff, permitted("console.referral.cancel")]
) -> Response:
    referral = _referral(staff, reference)
    try:
        referring.cancel(
            staff.db, referral, actor=_actor(staff), clock=request.app.state.reclaim.clock
        )
    except IllegalTransitionError:
        staff.db.rollback()
        return _case_page(request, staff, referral.case, error="not_a_draft", status=409)
    staff.db.commit()
    return redirect(f"/console/cases/{referral.case.number}/referrals?notice=cancelled")


# --- the agency's side -----------------------------------------------------------------


def _mine(staff: Staff, reference: str) -> Referral:
    referral = access.referral_for_member(staff.db, staff.user.id, reference)
    if referral is None:
        raise HTTPException(404, "no such referral")
    return referral


@router.get("/referred", name="console.referred")
def referred(request: Request, staff: Annotated[Staff, permitted("console.referred")]) -> Response:
    context = {
        "active": "referred",
        "referrals": access.referrals_for_member(staff.db, staff.user.id),
    }
    return render(request, "console/referred.html", context)


@router.get("/referred/{reference}", name="console.referred.case")
def referred_case(
    request: Request, reference: str, staff: Annotated[Staff, permitted("console.referred.case")]
) -> Response:
    referral = _mine(staff, reference)
    shared = sharing.shared_case(staff.db, referral, cipher=cipher_of(request))
    access.record_view(
        staff.db, referral, viewer_id=staff.user.id, clock=request.app.state.reclaim.clock
    )
    staff.db.commit()
    context = {
        "active": "referred",
        "referral": referral,
        "shared": shared,
        "answers": [a for a in ANSWERS if referral.status is not a],
        "outcomes": referring.OUTCOMES,
        "error": request.query_params.get("error"),
        # other cases of the same cluster referred to this agency (cluster_referrals.py)
        "cluster_cases": len(cluster_referral.cluster_referrals(staff.db, referral)),
    }
    return render(request, "console/referred_case.html", context)


@router.get("/referred/{reference}/package", name="console.referred.package")
def referred_package(
    request: Request,
    reference: str,
    staff: Annotated[Staff, permitted("console.referred.package")],
) -> Response:
    referral = _mine(staff, reference)
    settings = settings_of(request)
    package = evidence.build(
        staff.db,
        referral,
        cipher=cipher_of(request),
        store=quarantine_store(settings),
        keyring=signing_keyring(settings),
        actor=f"user {staff.user.id} ({referral.agency.name})",
        actor_id=staff.user.id,
        clock=request.app.state.reclaim.clock,
    )
    staff.db.commit()
    return download(package.data, package.filename, headers={"x-package-sha256": package.sha256})


def _answer(
    staff_db: Any,
    referral: Referral,
    status: str,
    outcome: str,
    text: str,
    *,
    actor: audit.Actor,
    who: str,
    clock: Any,
) -> str | None:
    """Record an answer; returns an error code, or None."""
    if status not in {a.value for a in ANSWERS}:
        return "answer"
    try:
        referring.answer(
            staff_db,
            referral,
            ReferralStatus(status),
            actor=actor,
            who=who,
            outcome=outcome or None,
            text=text,
            clock=clock,
        )
    except (ReferralRefused, IllegalTransitionError):
        staff_db.rollback()
        return "answer"
    return None


@router.post("/referred/{reference}/answer", name="console.referred.answer")
def referred_answer(
    request: Request,
    reference: str,
    *,
    staff: Annotated[Staff, permitted("console.referred.answer")],
    status: Annotated[str, Form()] = "",
    outcome: Annotated[str, Form()] = "",
    text: Annotated[str, Form()] = "",
) -> Response:
    referral = _mine(staff, reference)
    error = _answer(
        staff.db,
        referral,
        status,
        outcome,
        text,
        actor=_actor(staff),
        who=f"user {staff.user.id} ({referral.agency.name})",
        clock=request.app.state.reclaim.clock,
    )
    if error:
        return redirect(f"/console/referred/{referral.reference}?error={error}")
    staff.db.commit()
    return redirect(f"/console/referred/{referral.reference}")


# --- without logging in ------------------------------------------------------------------


@router.get("/referral-answer/{token}", name="console.referral_answer")
def answer_link(request: Request, token: str) -> Response:
    with request.app.state.reclaim.sessions() as session:
        referral = referring.by_token(session, token)
        if referral is None:
            raise HTTPException(404, "this link was used or does not exist")
        context = {
            "reference": referral.reference,
            "agency": referral.agency.name,
            "token": token,
            "answers": [a for a in ANSWERS if a is not ReferralStatus.CLOSED],
            "outcomes": referring.OUTCOMES,
            "done": False,
        }
    return render(request, "console/referral_answer.html", context)


@router.post("/referral-answer/{token}", name="console.referral_answer.submit")
def answer_link_submit(
    request: Request,
    token: str,
    status: Annotated[str, Form()] = "",
    outcome: Annotated[str, Form()] = "",
    text: Annotated[str, Form()] = "",
) -> Response:
    state = request.app.state.reclaim
    with state.sessions() as session:
        referral = referring.by_token(session, token)
        if referral is None:
            raise HTTPException(404, "this link was used or does not exist")
        error = _answer(
            session,
            referral,
            status,
            outcome,
            text,
            actor=audit.Actor(ActorKind.ANONYMOUS),
            who=f"agency {referral.agency_id} (one-time link)",
            clock=state.clock,
        )
        if error:
            raise HTTPException(409, "this answer does not fit the referral's state")
        referral.answer_token_hash = None  # one time only
        session.commit()
        context = {"reference": referral.reference, "agency": referral.agency.name, "done": True}
    return render(request, "console/referral_answer.html", context)


@router.get("/evidence-key", name="console.evidence_key")
def evidence_key(request: Request) -> Response:
    """The hotline's public signing keys: what agencies verify packages with."""
    keys = signing_keyring(settings_of(request)).public_keys()
    context = {
        "keys": [
            {"id": key_id, "text": public_key_text(key), "pem": public_key_pem(key)}
            for key_id, key in sorted(keys.items())
        ],
        "current": settings_of(request).signing_current_key_id,
    }
    return render(request, "console/evidence_key.html", context)
