"""Check my case: the case number + PIN form, the case's status page, and what the
reporter can do there (add items, withdraw, change or remove their contact)."""

from __future__ import annotations

import math
from typing import Annotated, Any

from fastapi import APIRouter, Form, Request, Response
from fastapi.responses import RedirectResponse
from pydantic import BaseModel
from sqlalchemy.orm import Session

from reclaim.cases.domain import ItemKind
from reclaim.cases.models import Case, Item
from reclaim.domain.signals import SignalType
from reclaim.intake import reporter_case, submission
from reclaim.intake.case_access import AccessPolicy, Outcome, check_case
from reclaim.intake.domain import (
    InvalidInputError,
    Problem,
    parse_contact_change,
    parse_items,
)
from reclaim.security.throttle import Throttle
from reclaim.takedown.progress import case_progress
from reclaim.web.common import current_time, render
from reclaim.web.deps import DbSession, client_address
from reclaim.web.portal import case_cookie, pages
from reclaim.web.portal.consent import referral_context
from reclaim.web.portal.pages import _

router = APIRouter()
STATUS_PATH = "/case/status"
#: What a redirect back to the status page may say happened (?done=...).
NOTICES = frozenset({"added", "nothing_new", "withdrawn", "contact", "contact_removed"})


class CheckForm(BaseModel):
    case_number: str = ""
    pin: str = ""


class ItemsForm(BaseModel):
    urls: str = ""
    file: list[str] = []


class WithdrawForm(BaseModel):
    item: list[str] = []
    everything: str = ""
    confirm: str = ""


class ContactForm(BaseModel):
    contact: str = ""
    contact_consent: str = ""
    remove: str = ""


def _secret(request: Request) -> bytes:
    return pages.settings_of(request).secret_bytes


# --- checking --------------------------------------------------------------------------


@router.get("/case", include_in_schema=False)
def check_form(request: Request) -> Response:
    expired = request.query_params.get("expired") == "1"
    return render(request, "portal/check.html", {"number": "", "expired": expired})


@router.post("/case", include_in_schema=False)
def check(request: Request, session: DbSession, form: Annotated[CheckForm, Form()]) -> Response:
    settings = pages.settings_of(request)
    result = check_case(
        session,
        form.case_number[:64],
        form.pin[:64],
        client=client_address(request),
        policy=AccessPolicy.from_settings(settings),
        throttle=Throttle(_secret(request), clock=request.app.state.reclaim.clock),
    )
    session.commit()
    if result.outcome is Outcome.LOCKED and result.locked_until is not None:
        minutes = math.ceil((result.locked_until - current_time(request)).total_seconds() / 60)
        return render(request, "portal/locked.html", {"minutes": max(1, minutes)}, 429)
    if result.outcome is Outcome.REFUSED or result.case is None:
        context = {"number": form.case_number[:64], "refused": True}
        return render(request, "portal/check.html", context, 400)
    response = RedirectResponse(STATUS_PATH, status_code=303)
    value = case_cookie.issue(_secret(request), result.case, current_time(request))
    case_cookie.set_cookie(response, value, secure=settings.secure_cookies)
    return response


@router.post("/case/leave", include_in_schema=False)
def leave(request: Request) -> Response:
    response = RedirectResponse("/", status_code=303)
    case_cookie.delete_cookie(response, secure=pages.settings_of(request).secure_cookies)
    return response


# --- the status page -------------------------------------------------------------------


def _open_case(request: Request, session: Session) -> tuple[Case, str] | None:
    """The case the cookie opens, and the cookie's renewed value."""
    now = current_time(request)
    found = case_cookie.read(
        _secret(request),
        request.cookies.get(case_cookie.COOKIE),
        lambda case_id: session.get(Case, case_id),
        now,
    )
    if found is None:
        return None
    case, issued = found
    return case, case_cookie.issue(_secret(request), case, now, issued)


def _expired() -> Response:
    return RedirectResponse("/case?expired=1", status_code=303)


@router.get(STATUS_PATH, include_in_schema=False)
def status(request: Request, session: DbSession) -> Response:
    opened = _open_case(request, session)
    if opened is None:
        return _expired()
    case, cookie = opened
    done = request.query_params.get("done")
    context = status_context(request, session, case, notice=done if done in NOTICES else None)
    response = render(request, "portal/status.html", context)
    case_cookie.set_cookie(response, cookie, secure=pages.settings_of(request).secure_cookies)
    return response


def status_context(
    request: Request,
    session: Session,
    case: Case,
    *,
    notice: str | None = None,
    problems: tuple[Problem, ...] = (),
    form: ItemsForm | None = None,
    contact_form: ContactForm | None = None,
    confirm_items: frozenset[int] = frozenset(),
) -> dict[str, Any]:
    contact = reporter_case.current_contact(case, pages.cipher(request))
    items = sorted(case.items, key=lambda item: (item.withdrawn_at is not None, item.id))
    entered = form or ItemsForm()
    return {
        **pages.form_state(request, problems, entered.file),
        "case": case,
        "timeline": reporter_case.timeline(
            case,
            case_progress(session, case.id),
            staff_looked=reporter_case.staff_has_looked(session, case),
        ),
        "items": items,
        "live_items": [item for item in items if item.withdrawn_at is None],
        "url_kind": ItemKind.URL,
        "contact": reporter_case.mask_contact(contact) if contact else None,
        "notice": notice,
        "urls_text": entered.urls,
        "contact_form": contact_form or ContactForm(),
        "fingerprints": {item.id: file_fingerprints(item) for item in items},
        "confirm_items": [i for i in items if i.id in confirm_items and i.withdrawn_at is None],
        **referral_context(session, case),  # portal/_referrals.html (issue 13)
    }


def file_fingerprints(item: Item) -> dict[str, str]:
    """A file item's exact hashes by type (``sha256``, ``md5``), for the reporter to
    find the row of a file by choosing it again (hashed on the device)."""
    return {
        link.signal.type.value: link.signal.value
        for media in item.device_media
        for link in media.signals
        if link.signal.type in (SignalType.SHA256, SignalType.MD5)
    }


def _refused(
    request: Request,
    session: Session,
    case: Case,
    problems: tuple[Problem, ...],
    *,
    form: ItemsForm | None = None,
    contact_form: ContactForm | None = None,
) -> Response:
    """The status page again, saying what to fix (and keeping what was entered)."""
    context = status_context(
        request, session, case, problems=problems, form=form, contact_form=contact_form
    )
    return render(request, "portal/status.html", context, 400)


# --- what the reporter can change ------------------------------------------------------


@router.post("/case/items", include_in_schema=False)
def add_items(request: Request, session: DbSession, form: Annotated[ItemsForm, Form()]) -> Response:
    opened = _open_case(request, session)
    if opened is None:
        return _expired()
    case, _cookie = opened
    try:
        items = parse_items(form.urls, form.file, pages.input_limits(request))
    except InvalidInputError as invalid:
        return _refused(request, session, case, invalid.problems, form=form)
    added = submission.add_items(session, case, items, policy=pages.intake_policy(request))
    session.commit()
    return _back("added" if added.urls or added.files else "nothing_new")


@router.post("/case/withdraw", include_in_schema=False)
def withdraw(
    request: Request, session: DbSession, form: Annotated[WithdrawForm, Form()]
) -> Response:
    opened = _open_case(request, session)
    if opened is None:
        return _expired()
    case, _cookie = opened
    if form.everything and not form.confirm:
        problem = Problem(
            "confirm", _("Tick the box to confirm that you want to withdraw everything.")
        )
        return _refused(request, session, case, (problem,))
    ids = None if form.everything else {int(v) for v in form.item if v.isdigit()}
    if ids is not None and not form.confirm:
        # Withdrawing cannot be undone by the reporter: say what it is and ask first.
        context = status_context(request, session, case, confirm_items=frozenset(ids))
        return render(request, "portal/status.html", context)
    reporter_case.withdraw_items(session, case, ids)
    session.commit()
    return _back("withdrawn")


@router.post("/case/contact", include_in_schema=False)
def change_contact(
    request: Request, session: DbSession, form: Annotated[ContactForm, Form()]
) -> Response:
    opened = _open_case(request, session)
    if opened is None:
        return _expired()
    case, _cookie = opened
    contact: str | None = None
    if not form.remove:
        try:
            contact = parse_contact_change(form.contact, bool(form.contact_consent))
        except InvalidInputError as invalid:
            return _refused(request, session, case, invalid.problems, contact_form=form)
        if contact is None:
            problem = Problem("contact", _("Enter an email address, a phone number or a LINE ID."))
            return _refused(request, session, case, (problem,), contact_form=form)
    reporter_case.change_contact(session, case, contact, cipher=pages.cipher(request))
    session.commit()
    return _back("contact" if contact else "contact_removed")


def _back(done: str) -> Response:
    return RedirectResponse(f"{STATUS_PATH}?done={done}", status_code=303)
