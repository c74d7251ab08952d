"""Console routes for the agency directory (admins): agencies, their contacts and
public keys, and which staff accounts work for each.  Admins see no case content here:
an agency page lists no referrals."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Form, HTTPException, Request
from fastapi.responses import Response

from reclaim import audit
from reclaim.accounts.users import find_user
from reclaim.referrals import agencies
from reclaim.referrals.agencies import AgencyError, AgencyRecord
from reclaim.referrals.domain import AgencyKind
from reclaim.referrals.models import Agency
from reclaim.security.field_crypto import Purpose
from reclaim.web.common import render
from reclaim.web.console.auth import Staff
from reclaim.web.console.permissions import permitted
from reclaim.web.console.responses import cipher_of, redirect

router = APIRouter()
FIELDS = ("name", "kind", "region", "email", "webhook_url", "language", "public_key", "notes")


def _page(
    request: Request,
    staff: Staff,
    template: str,
    *,
    agency: Agency | None = None,
    problems: list[str] | None = None,
    form: dict[str, str] | None = None,
    status: int = 200,
) -> Response:
    context: dict[str, Any] = {
        "active": "agencies",
        "agencies": agencies.list_agencies(staff.db),
        "agency": agency,
        "members": agencies.members(staff.db, agency) if agency else [],
        "kinds": list(AgencyKind),
        "problems": problems or [],
        "form": form or {},
        "notice": request.query_params.get("notice"),
    }
    return render(request, template, context, status)


def _record(form: dict[str, str]) -> AgencyRecord:
    return AgencyRecord(**{name: form.get(name, "").strip() for name in FIELDS})


async def _form(request: Request) -> dict[str, str]:
    data = await request.form()
    return {name: str(data.get(name, ""))[:4000] for name in (*FIELDS, "webhook_secret")}


@router.get("/agencies", name="console.agencies")
def agency_list(
    request: Request, staff: Annotated[Staff, permitted("console.agencies")]
) -> Response:
    return _page(request, staff, "console/agencies.html")


@router.post("/agencies", name="console.agencies.create")
async def agency_create(
    request: Request, staff: Annotated[Staff, permitted("console.agencies.create")]
) -> Response:
    form = await _form(request)
    try:
        agency = agencies.save_agency(
            staff.db, _record(form), actor=audit.Actor.user(staff.user.id)
        )
        _set_secret(request, agency, form)
    except AgencyError as exc:
        staff.db.rollback()
        return _page(
            request, staff, "console/agencies.html", problems=exc.problems, form=form, status=400
        )
    staff.db.commit()
    return redirect(f"/console/agencies/{agency.id}?notice=saved")


def _agency(staff: Staff, agency_id: int) -> Agency:
    agency = staff.db.get(Agency, agency_id)
    if agency is None:
        raise HTTPException(404, "no such agency")
    return agency


def _set_secret(request: Request, agency: Agency, form: dict[str, str]) -> None:
    secret = form.get("webhook_secret", "").strip()
    if secret:
        agency.webhook_secret = cipher_of(request).encrypt(secret, purpose=Purpose.WEBHOOK_SECRET)


@router.get("/agencies/{agency_id}", name="console.agency")
def agency_page(
    request: Request, agency_id: int, staff: Annotated[Staff, permitted("console.agency")]
) -> Response:
    return _page(request, staff, "console/agency.html", agency=_agency(staff, agency_id))


@router.post("/agencies/{agency_id}", name="console.agency.update")
async def agency_update(
    request: Request, agency_id: int, staff: Annotated[Staff, permitted("console.agency.update")]
) -> Response:
    agency = _agency(staff, agency_id)
    form = await _form(request)
    try:
        agencies.save_agency(
            staff.db, _record(form), actor=audit.Actor.user(staff.user.id), agency=agency
        )
        _set_secret(request, agency, form)
    except AgencyError as exc:
        staff.db.rollback()
        return _page(
            request, staff, "console/agency.html", agency=agency, problems=exc.problems, status=400
        )
    staff.db.commit()
    return redirect(f"/console/agencies/{agency.id}?notice=saved")


@router.post("/agencies/{agency_id}/members", name="console.agency.member")
def agency_member(
    request: Request,
    agency_id: int,
    staff: Annotated[Staff, permitted("console.agency.member")],
    email: Annotated[str, Form()] = "",
) -> Response:
    agency = _agency(staff, agency_id)
    user = find_user(staff.db, email.strip()[:254])
    try:
        if user is None:
            raise AgencyError(["user: no staff account with this email"])
        agencies.add_member(staff.db, agency, user, actor=audit.Actor.user(staff.user.id))
    except AgencyError as exc:
        staff.db.rollback()
        return _page(
            request, staff, "console/agency.html", agency=agency, problems=exc.problems, status=400
        )
    staff.db.commit()
    return redirect(f"/console/agencies/{agency.id}?notice=member")
