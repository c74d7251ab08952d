"""Console routes for referring a whole cluster to an agency (one evidence package).

The hotline's side: a supervisor refers every case of a cluster from the cluster view
(``console.case.cluster.refer``).  The agency's side: a police liaison who received a
case of a cluster sees the cluster restricted to the cases referred to their agency
(``console.referred.cluster``) and downloads one signed package for them
(``console.referred.cluster_package``); every look is audited per referral.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import Response

from reclaim.cases import casework
from reclaim.cases.review import quarantine_store
from reclaim.referrals import access, cluster_referral, referring
from reclaim.referrals.domain import AgencyKind, ReferralRefused, Share
from reclaim.referrals.models import Agency, Referral
from reclaim.security.signing import signing_keyring
from reclaim.web.common import render, state_of
from reclaim.web.console.auth import Staff
from reclaim.web.console.linkage import keys_of
from reclaim.web.console.permissions import permitted
from reclaim.web.console.responses import cipher_of, download, redirect, settings_of

router = APIRouter()

#: Agencies a cluster is referred to: those that investigate (police, prosecutors).
INVESTIGATORS = (AgencyKind.POLICE, AgencyKind.PROSECUTOR)


@router.post("/cases/{number}/cluster/refer", name="console.case.cluster.refer")
async def refer_cluster(
    request: Request,
    number: str,
    staff: Annotated[Staff, permitted("console.case.cluster.refer")],
) -> Response:
    case = casework.find_case(staff.db, number)
    if case is None:
        raise HTTPException(404, "no such case")
    form = await request.form()
    agency_id = str(form.get("agency_id", ""))
    agency = staff.db.get(Agency, int(agency_id)) if agency_id.isdigit() else None
    if agency is None or agency.kind not in INVESTIGATORS:
        return redirect(f"/console/cases/{case.number}/cluster?error=agency")
    wanted = [Share(v) for v in form.getlist("share") if v in {s.value for s in Share}]
    settings = settings_of(request)
    try:
        outcome = cluster_referral.refer_cluster(
            staff.db,
            case,
            agency,
            wanted,
            referring.policy_of(settings),
            sender_id=staff.user.id,
            secret=settings.secret_key.get_secret_value().encode(),
            clock=state_of(request).clock,
        )
    except ReferralRefused as exc:
        staff.db.rollback()
        return redirect(f"/console/cases/{case.number}/cluster?error={exc.code}")
    staff.db.commit()
    request.app.state.reclaim.huey.reclaim_tasks.referrals.deliver_referrals()
    return redirect(
        f"/console/cases/{case.number}/cluster?notice=referred"
        f"&sent={len(outcome.referrals)}&left_out={len(outcome.left_out)}"
    )


def _mine(staff: Staff, reference: str) -> list[Referral]:
    referral = access.referral_for_member(staff.db, staff.user.id, reference)
    if referral is None:
        raise HTTPException(404, "no such referral")
    return cluster_referral.cluster_referrals(staff.db, referral)


@router.get("/referred/{reference}/cluster", name="console.referred.cluster")
def referred_cluster(
    request: Request,
    reference: str,
    staff: Annotated[Staff, permitted("console.referred.cluster")],
) -> Response:
    referrals = _mine(staff, reference)
    part = cluster_referral.cluster_part(staff.db, referrals, keys_of(request))
    for referral in referrals:
        access.record_view(
            staff.db,
            referral,
            viewer_id=staff.user.id,
            what="cluster",
            clock=state_of(request).clock,
        )
    staff.db.commit()
    context = {
        "active": "referred",
        "reference": reference,
        "referrals": referrals,
        "cluster": part,
    }
    return render(request, "console/referred_cluster.html", context)


@router.get("/referred/{reference}/cluster-package", name="console.referred.cluster_package")
def referred_cluster_package(
    request: Request,
    reference: str,
    staff: Annotated[Staff, permitted("console.referred.cluster_package")],
) -> Response:
    referrals = _mine(staff, reference)
    settings = settings_of(request)
    package = cluster_referral.build(
        staff.db,
        referrals,
        keys=keys_of(request),
        cipher=cipher_of(request),
        store=quarantine_store(settings),
        keyring=signing_keyring(settings),
        actor=f"user {staff.user.id} ({referrals[0].agency.name})",
        actor_id=staff.user.id,
        clock=state_of(request).clock,
    )
    staff.db.commit()
    return download(package.data, package.filename, headers={"x-package-sha256": package.sha256})
