"""Console routes for admins: platforms' partner identities and their API keys.

A key's plaintext is shown once, on the page that answers its creation, and never
again (only its SHA-256 is stored).  Every change is audited by services/partners.py.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Form, HTTPException, Request
from fastapi.responses import Response
from sqlalchemy import select

from reclaim import audit
from reclaim.partners import keys as partners
from reclaim.partners.keys import PartnerError
from reclaim.partners.models import Partner
from reclaim.platforms.models import Platform
from reclaim.web.common import current_time
from reclaim.web.common import render as page
from reclaim.web.console.auth import Staff
from reclaim.web.console.permissions import permitted
from reclaim.web.console.responses import redirect as redirect_to

router = APIRouter()


def _listing(
    request: Request, staff: Staff, *, error: str | None = None, status: int = 200
) -> Response:
    now = current_time(request)
    taken = set(staff.db.scalars(select(Partner.platform_id)))
    context: dict[str, Any] = {
        "active": "partners",
        "partners": partners.list_partners(staff.db),
        "platforms": [
            p
            for p in staff.db.scalars(select(Platform).order_by(Platform.name))
            if p.id not in taken
        ],
        "key_state": lambda key: partners.key_state(key, now),
        "error": error,
    }
    return page(request, "console/partners.html", context, status)


@router.get("/partners", name="console.partners")
def partner_list(
    request: Request, staff: Annotated[Staff, permitted("console.partners")]
) -> Response:
    return _listing(request, staff)


@router.post("/partners", name="console.partners.create")
def partner_create(
    request: Request,
    staff: Annotated[Staff, permitted("console.partners.create")],
    name: Annotated[str, Form(max_length=120)],
    platform_id: Annotated[int, Form()],
    contact_email: Annotated[str, Form(max_length=254)] = "",
) -> Response:
    platform = staff.db.get(Platform, platform_id)
    if platform is None:
        raise HTTPException(404, "no such platform")
    try:
        partners.create_partner(
            staff.db,
            name,
            platform.name,
            contact_email=contact_email.strip() or None,
            actor=audit.Actor.user(staff.user.id),
        )
    except PartnerError as exc:
        staff.db.rollback()
        return _listing(request, staff, error=str(exc), status=400)
    staff.db.commit()
    return redirect_to("/console/partners")


@router.post("/partners/{partner_id}/keys", name="console.partner.key_create")
def key_create(
    request: Request,
    partner_id: int,
    staff: Annotated[Staff, permitted("console.partner.key_create")],
    *,
    scopes: Annotated[list[str], Form()],
    key_name: Annotated[str, Form(max_length=120)] = "",
    expires_days: Annotated[int, Form(ge=0, le=3650)] = 0,
) -> Response:
    partner = staff.db.get(Partner, partner_id)
    if partner is None:
        raise HTTPException(404, "no such partner")
    try:
        issued = partners.create_key(
            staff.db,
            partner,
            partners.parse_scopes(scopes),
            name=key_name,
            expires_at=(
                current_time(request) + timedelta(days=expires_days) if expires_days else None
            ),
            actor=audit.Actor.user(staff.user.id),
        )
    except PartnerError as exc:
        staff.db.rollback()
        return _listing(request, staff, error=str(exc), status=400)
    staff.db.commit()
    context = {"active": "partners", "partner": partner, "plaintext": issued.plaintext}
    return page(request, "console/partner_key.html", context)


@router.post("/partners/keys/{prefix}/revoke", name="console.partner.key_revoke")
def key_revoke(
    prefix: str, staff: Annotated[Staff, permitted("console.partner.key_revoke")]
) -> Response:
    try:
        partners.revoke_key(staff.db, prefix, actor=audit.Actor.user(staff.user.id))
    except PartnerError:
        raise HTTPException(404, "no such key") from None
    staff.db.commit()
    return redirect_to("/console/partners")
