"""The enrolment pages behind a one-time link: password, authenticator, recovery codes.

The link's token is the credential until enrolment is complete, so every step looks it
up again; nothing about the enrolment travels in the forms.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Form, Request
from fastapi.responses import Response

from reclaim.accounts import enrolment, totp
from reclaim.accounts.models import EnrolmentToken, User
from reclaim.accounts.passwords import MAX_LENGTH
from reclaim.web.common import render
from reclaim.web.console.responses import cipher_of, redirect, settings_of
from reclaim.web.deps import DbSession

router = APIRouter()

PasswordField = Annotated[str, Form(max_length=MAX_LENGTH * 4)]
CodeField = Annotated[str, Form(max_length=64)]


def _invalid(request: Request) -> Response:
    return render(request, "console/enrol_invalid.html", {}, 404)


def _step_one(
    request: Request, user: User, token: str, *, problems: list[str], status: int = 200
) -> Response:
    context = {
        "person": user,
        "token": token,
        "problems": problems,
        "min_length": settings_of(request).password_min_length,
    }
    return render(request, "console/enrol_password.html", context, status)


def _step_two(
    request: Request,
    db: DbSession,
    enrolled: EnrolmentToken,
    token: str,
    *,
    error: bool = False,
) -> Response:
    user = enrolment.user_of(db, enrolled)
    secret = enrolment.authenticator_secret(user, cipher_of(request))
    uri = totp.provisioning_uri(secret, user.email)
    context: dict[str, Any] = {
        "person": user,
        "token": token,
        "secret": totp.grouped(secret),
        "qr": totp.qr_data_uri(uri),
        "error": error,
    }
    return render(request, "console/enrol_authenticator.html", context, 400 if error else 200)


@router.get("/enrol/{token}", name="console.enrol")
def enrol_page(request: Request, token: str, db: DbSession) -> Response:
    found = enrolment.find(db, token)
    if found is None:
        return _invalid(request)
    user = enrolment.user_of(db, found)
    if enrolment.password_chosen(user):
        return redirect(f"/console/enrol/{token}/authenticator")
    return _step_one(request, user, token, problems=[])


@router.post("/enrol/{token}/password", name="console.enrol.password")
def enrol_password(
    request: Request,
    token: str,
    db: DbSession,
    password: PasswordField = "",
    confirm: PasswordField = "",
) -> Response:
    found = enrolment.find(db, token, lock=True)
    if found is None:
        return _invalid(request)
    user = enrolment.user_of(db, found)
    if password != confirm:
        return _step_one(request, user, token, problems=["mismatch"], status=400)
    problems = enrolment.choose_password(
        db,
        found,
        password,
        min_length=settings_of(request).password_min_length,
        cipher=cipher_of(request),
    )
    if problems:
        return _step_one(request, user, token, problems=[p.value for p in problems], status=400)
    db.commit()
    return redirect(f"/console/enrol/{token}/authenticator")


@router.get("/enrol/{token}/authenticator", name="console.enrol.authenticator")
def enrol_authenticator(request: Request, token: str, db: DbSession) -> Response:
    found = enrolment.find(db, token)
    if found is None:
        return _invalid(request)
    if not enrolment.password_chosen(enrolment.user_of(db, found)):
        return redirect(f"/console/enrol/{token}")
    return _step_two(request, db, found, token)


@router.post("/enrol/{token}/authenticator", name="console.enrol.authenticator.submit")
def enrol_confirm(request: Request, token: str, db: DbSession, code: CodeField = "") -> Response:
    found = enrolment.find(db, token, lock=True)
    if found is None:
        return _invalid(request)
    user = enrolment.user_of(db, found)
    if not enrolment.password_chosen(user):
        return redirect(f"/console/enrol/{token}")
    codes = enrolment.confirm_authenticator(
        db, found, code, cipher=cipher_of(request), clock=request.app.state.reclaim.clock
    )
    if codes is None:
        return _step_two(request, db, found, token, error=True)
    db.commit()
    context = {"person": user, "codes": codes}
    return render(request, "console/enrol_done.html", context)
