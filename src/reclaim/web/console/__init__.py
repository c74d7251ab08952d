"""The staff console under /console: every route needs a staff session (see auth.py)
and every state-changing request a CSRF token (attached here, once, for all)."""

from __future__ import annotations

from fastapi import APIRouter, Depends

from reclaim.web.console import (
    accounts,
    agencies,
    audit_trail,
    banks,
    cases,
    cluster_notices,
    cluster_referrals,
    linkage,
    notices,
    partners,
    patrol,
    queue,
    referrals,
    review,
    statistics,
    takedown,
    users,
)
from reclaim.web.csrf import csrf_protect

router = APIRouter(prefix="/console", dependencies=[Depends(csrf_protect)])
for _module in (
    accounts,
    users,
    audit_trail,
    queue,
    cases,
    review,
    notices,
    takedown,
    banks,
    partners,
    referrals,
    agencies,
    linkage,
    statistics,
    cluster_referrals,
    cluster_notices,
    patrol,
):
    router.include_router(_module.router)
