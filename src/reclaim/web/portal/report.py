"""The report form and its confirmation.

One form in steps: with JavaScript the steps are shown one at a time and files are
hashed on the device (report.js); without it every step shows at once and URL-only
reports still work.  The form's only file fields are the hashes the page computed.
"""

from __future__ import annotations

import math
from dataclasses import replace
from typing import Annotated, Any

from fastapi import APIRouter, Form, Request, Response
from pydantic import BaseModel
from sqlalchemy.exc import IntegrityError

from reclaim.intake import receipts, submission
from reclaim.intake.creation_limits import CreationPolicy, admit
from reclaim.intake.domain import InvalidInputError, Problem, RawReport, parse_report
from reclaim.linkage.identifiers import keys_for
from reclaim.security.signing import signing_keyring
from reclaim.security.throttle import Throttle
from reclaim.web.common import current_time, render
from reclaim.web.deps import DbSession, client_address
from reclaim.web.portal import pages
from reclaim.web.portal.pages import _

router = APIRouter()

#: The form's steps, in order: (step id, field names shown in the step).
STEPS = (
    ("who", ("reporter_role",)),
    ("age", ("age_group",)),
    ("situation", ("situation",)),
    ("where", ("urls",)),
    ("files", ("files",)),
    ("more", ("description", "contact", "contact_consent", "form")),
)


class ReportForm(BaseModel):
    """The fields as posted; every one a string, so nothing fails before validation."""

    idempotency_key: str = ""
    reporter_role: str = ""
    age_group: str = ""
    situation: str = ""
    urls: str = ""
    file: list[str] = []
    description: str = ""
    contact: str = ""
    contact_consent: str = ""
    threat_account: str = ""
    threat_platform: str = ""

    def raw(self) -> RawReport:
        return RawReport(
            idempotency_key=self.idempotency_key,
            reporter_role=self.reporter_role,
            age_group=self.age_group,
            situation=self.situation,
            urls=self.urls,
            files=tuple(self.file),
            description=self.description,
            contact=self.contact,
            contact_consent=bool(self.contact_consent),
            threat_account=self.threat_account,
            threat_platform=self.threat_platform,
        )


@router.get("/report", include_in_schema=False)
def report_form(request: Request) -> Response:
    return render(
        request,
        "portal/report.html",
        form_context(request, RawReport(idempotency_key=pages.new_form_key()), ()),
    )


@router.get("/urgent", include_in_schema=False)
def urgent_form(request: Request) -> Response:
    """Someone is threatening the reporter now: the numbers and the advice first, then
    a report that needs no link and no file."""
    raw = RawReport(
        idempotency_key=pages.new_form_key(),
        reporter_role="self",
        age_group="unsure",
        situation="threat",
    )
    return render(request, "portal/urgent.html", form_context(request, raw, ()))


@router.post("/urgent", include_in_schema=False)
def submit_urgent(
    request: Request, session: DbSession, form: Annotated[ReportForm, Form()]
) -> Response:
    # Whatever the form says, this path is about a threat: it becomes an urgent case.
    raw = replace(form.raw(), situation="threat")
    return _submit(request, session, raw, "portal/urgent.html")


@router.post("/report", include_in_schema=False)
def submit_report(
    request: Request, session: DbSession, form: Annotated[ReportForm, Form()]
) -> Response:
    return _submit(request, session, form.raw(), "portal/report.html")


def _submit(request: Request, session: DbSession, raw: RawReport, template: str) -> Response:
    try:
        report = parse_report(raw, pages.input_limits(request), language=pages.language(request))
    except InvalidInputError as invalid:
        if any(p.field == "form" for p in invalid.problems):
            raw = replace(raw, idempotency_key=pages.new_form_key())
        context = form_context(request, raw, invalid.problems)
        return render(request, template, context, status=400)

    settings = pages.settings_of(request)
    until = admit(
        session,
        report.idempotency_key,
        client=client_address(request),
        policy=CreationPolicy.from_settings(settings),
        throttle=Throttle(settings.secret_bytes, clock=request.app.state.reclaim.clock),
    )
    if until is not None:
        # Refused for now, but the form stays as typed, with the advice and numbers.
        minutes = max(1, math.ceil((until - current_time(request)).total_seconds() / 60))
        problem = Problem(
            "form",
            _(
                "Many reports have been sent just now, so we cannot take this one yet. "
                "Your answers are kept: please send again in %(minutes)s minutes. "
                "If someone is threatening you, do not wait: read the advice and call "
                "one of the numbers on this page."
            ),
            {"minutes": minutes},
        )
        context = form_context(request, raw, (problem,)) | {"limited": True}
        return render(request, template, context, status=429)

    options: dict[str, Any] = {
        "policy": pages.intake_policy(request),
        "cipher": pages.cipher(request),
        # offender identifiers the report states (the threatening account): linkage
        "identifier_keys": keys_for(pages.cipher(request), settings.secret_bytes),
    }
    try:
        receipt = submission.submit_report(session, report, **options)
        session.commit()
    except IntegrityError:
        # The same form sent twice at once: the other request made the report.
        session.rollback()
        receipt = submission.submit_report(session, report, **options)
    if report.threat_account and not receipt.repeated:
        # A new victim of a known account is linked now, not at the next minute's run.
        request.app.state.reclaim.huey.reclaim_tasks.linkage.link_new_cases()
    body = receipts.receipt_body(
        hotline=settings.hotline_name,
        case_number=receipt.case_number,
        received_at=receipt.received_at or current_time(request),
        files=report.files,
    )
    return render(
        request,
        "portal/confirmation.html",
        {
            "receipt": receipt,
            "check_url": settings.base_url.rstrip("/") + "/case",
            "signed_receipt": receipts.sign_receipt(signing_keyring(settings), body),
            "verify_url": settings.base_url.rstrip("/") + "/receipt",
        },
    )


def form_context(request: Request, raw: RawReport, problems: tuple[Problem, ...]) -> dict[str, Any]:
    wrong = {problem.field for problem in problems}
    first_error_step = next(
        (number for number, (_id, fields) in enumerate(STEPS, 1) if wrong & set(fields)), None
    )
    return {
        **pages.form_state(request, problems, raw.files),
        "form": raw,
        "first_error_step": first_error_step,
        "limited": False,
        "steps": [step for step, _fields in STEPS],
    }
