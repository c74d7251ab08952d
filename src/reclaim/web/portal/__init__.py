"""The public portal: home, report, confirmation, check my case.  Every state-changing
request carries a CSRF token (attached here, once, for all routes)."""

from __future__ import annotations

from fastapi import APIRouter, Depends

from reclaim.web.csrf import csrf_protect
from reclaim.web.portal import (
    consent,
    help_pages,
    home,
    my_case,
    receipt_check,
    report,
    transparency,
)

router = APIRouter(dependencies=[Depends(csrf_protect)])
for _module in (home, report, my_case, receipt_check, help_pages, consent, transparency):
    router.include_router(_module.router)
