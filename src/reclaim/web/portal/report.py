"""The report form and its confirmation.

One form in steps: with JavaScript the steps are shown one at a time and files are
hashed on the device (report.js); without it every step shows at once and URL-only
reports still work.  The form's only file fields are the hashes the page computed.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Annotated, Any

from fastapi import APIRouter, Form, Request, Response
from pydantic import BaseModel
from sqlalchemy.exc import IntegrityError

from reclaim.intake import submission
from reclaim.intake.domain import InvalidInputError, Problem, RawReport, parse_report
from reclaim.web.common import render
from reclaim.web.deps import DbSession
from reclaim.web.portal import pages

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
        )


@router.get("/report", include_in_schema=False)
def report_form(request: Request) -> Response:
    return render(
        request,
        "portal/report.html",
        form_context(request, RawReport(idempotency_key=pages.new_form_key()), ()),
    )


@router.post("/report", include_in_schema=False)
def submit_report(
    request: Request, session: DbSession, form: Annotated[ReportForm, Form()]
) -> Response:
    raw = form.raw()
    try:
        report = parse_report(raw, pages.input_limits(request), language=pages.language(request))
    except InvalidInputError as invalid:
        if any(p.field == "form" for p in invalid.problems):
            raw = replace(raw, idempotency_key=pages.new_form_key())
        context = form_context(request, raw, invalid.problems)
        return render(request, "portal/report.html", context, status=400)

    options: dict[str, Any] = {
        "policy": pages.intake_policy(request),
        "cipher": pages.cipher(request),
    }
    try:
        receipt = submission.submit_report(session, report, **options)
        session.commit()
    except IntegrityError:
        # The same form sent twice at once: the other request made the report.
        session.rollback()
        receipt = submission.submit_report(session, report, **options)
    return render(
        request,
        "portal/confirmation.html",
        {
            "receipt": receipt,
            "check_url": pages.settings_of(request).base_url.rstrip("/") + "/case",
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
        "steps": [step for step, _fields in STEPS],
    }
