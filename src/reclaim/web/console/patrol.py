"""Console routes for the patrol (supervisors): the pages watched for re-uploads of a
case's confirmed content, adding and removing them (audited in ``scanning.patrol``)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Request
from fastapi.responses import Response

from reclaim import audit
from reclaim.scanning import patrol
from reclaim.web.common import render
from reclaim.web.console.auth import Staff
from reclaim.web.console.permissions import permitted
from reclaim.web.console.responses import redirect

router = APIRouter()


def _page(
    request: Request,
    staff: Staff,
    *,
    problem: str | None = None,
    form: dict[str, str] | None = None,
    status: int = 200,
) -> Response:
    context: dict[str, Any] = {
        "active": "patrol",
        "watches": patrol.active_watches(staff.db),
        "problem": problem,
        "form": form or {},
        "done": request.query_params.get("done"),
    }
    return render(request, "console/patrol.html", context, status)


@router.get("/patrol", name="console.patrol")
def patrol_list(request: Request, staff: Annotated[Staff, permitted("console.patrol")]) -> Response:
    return _page(request, staff)


@router.post("/patrol", name="console.patrol.add")
async def patrol_add(
    request: Request, staff: Annotated[Staff, permitted("console.patrol.add")]
) -> Response:
    data = await request.form()
    form = {name: str(data.get(name, ""))[:2000].strip() for name in ("url", "case")}
    try:
        patrol.add_watch(staff.db, form["url"], form["case"], actor=audit.Actor.user(staff.user.id))
    except patrol.PatrolError as exc:
        staff.db.rollback()
        return _page(request, staff, problem=str(exc), form=form, status=400)
    staff.db.commit()
    return redirect("/console/patrol?done=added")


@router.post("/patrol/remove", name="console.patrol.remove")
async def patrol_remove(
    request: Request, staff: Annotated[Staff, permitted("console.patrol.remove")]
) -> Response:
    data = await request.form()
    try:
        patrol.remove_watch(
            staff.db, int(str(data.get("watch", "0")) or 0), actor=audit.Actor.user(staff.user.id)
        )
    except (patrol.PatrolError, ValueError):
        staff.db.rollback()
        return _page(request, staff, problem="no such watched page", status=404)
    staff.db.commit()
    return redirect("/console/patrol?done=removed")
