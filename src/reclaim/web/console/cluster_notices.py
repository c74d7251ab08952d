"""Console route for one account notice covering a cluster's reports of one account.

From the cluster view a supervisor picks an account the cluster's cases name (a
handle, profile URL or LINE ID) on one platform of the directory; the notice names the
account's profile page and cites every case of the cluster naming it, with what each
reported on that platform (linkage finds the cases, takedown drafts the notice: they
meet here, above both).  The draft is then approved and sent like any notice
(``console.notice.send``), and each cited case's page shows it.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, HTTPException, Request
from fastapi.responses import Response

from reclaim import audit
from reclaim.cases import casework
from reclaim.linkage import accounts, clusters
from reclaim.platforms.models import Platform
from reclaim.takedown.account_notices import draft_cluster_account_notice
from reclaim.takedown.notices import NoticeError
from reclaim.web.common import state_of
from reclaim.web.console.auth import Staff
from reclaim.web.console.linkage import keys_of
from reclaim.web.console.permissions import permitted
from reclaim.web.console.responses import redirect

router = APIRouter()


@router.post("/cases/{number}/cluster/account-notice", name="console.case.cluster.account_notice")
def draft_account_notice(
    request: Request,
    number: str,
    staff: Annotated[Staff, permitted("console.case.cluster.account_notice")],
    account: Annotated[str, Form(max_length=40)] = "",
) -> Response:
    """``account``: "identifier id:platform id", one of the cluster's account choices."""
    case = casework.find_case(staff.db, number)
    if case is None:
        raise HTTPException(404, "no such case")
    members = [c.id for c in clusters.cluster_cases(staff.db, case)]
    choices = {c.key: c for c in accounts.account_choices(staff.db, members, keys_of(request))}
    choice = choices.get(account.strip())
    if choice is None:
        return redirect(f"/console/cases/{case.number}/cluster?account_error=choose#account-notice")
    platform = staff.db.get_one(Platform, choice.platform_id)
    cited = accounts.items_on_platform(staff.db, choice.case_ids, platform.id)
    try:
        notice = draft_cluster_account_notice(
            staff.db,
            platform,
            choice.profile_url,
            cited,
            actor=audit.Actor.user(staff.user.id),
            clock=state_of(request).clock,
            details={
                "cluster": clusters.cluster_id_of(staff.db, case.id) or case.id,
                "identifier": choice.identifier_id,
            },
        )
    except NoticeError:
        staff.db.rollback()
        return redirect(f"/console/cases/{case.number}/cluster?account_error=open#account-notice")
    staff.db.commit()
    return redirect(f"/console/notices/{notice.id}")
