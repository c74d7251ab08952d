"""Console routes: the audit trail, for supervisors and admins (who see case events by
their case reference, with the details withheld: ``trail.visible_details``).

Looking at the trail is itself audited (``audit:trail:viewed``), and so is every
export (``audit:trail:exported``), with the filters used.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator
from typing import Annotated, Any

from fastapi import APIRouter, Request
from fastapi.responses import Response, StreamingResponse

from reclaim.accounts.domain import Role
from reclaim.audit.domain import AuditTag
from reclaim.oversight import trail as trail_service
from reclaim.oversight.domain import TrailFilter
from reclaim.web.common import current_time, render, state_of
from reclaim.web.console.auth import Staff
from reclaim.web.console.permissions import permitted

router = APIRouter()

#: Spreadsheet programs run a cell that starts like a formula; such cells get a quote.
_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def _reads_cases(staff: Staff) -> bool:
    """Admins see no case content: for them the details of case events are withheld."""
    return staff.role is not Role.ADMIN


def _filter(request: Request, staff: Staff) -> TrailFilter:
    query = request.query_params
    return trail_service.resolve_filter(
        staff.db,
        case_number=query.get("case", "")[:64],
        user_email=query.get("user", "")[:254],
        tag=query.get("tag", "")[:64],
    )


def _page_number(request: Request) -> int:
    text = request.query_params.get("page", "1")
    return int(text) if text.isdigit() and len(text) < 9 else 1


@router.get("/audit", name="console.audit")
def audit_page(request: Request, staff: Annotated[Staff, permitted("console.audit")]) -> Response:
    trail = _filter(request, staff)
    found = trail_service.search(staff.db, trail, page=_page_number(request))
    labels = trail_service.labels_for(staff.db, found.events)
    rows = [
        {
            "event": event,
            "actor": labels.actor(event),
            "target": labels.target(event),
            "case_number": labels.case_number(event),
            "details": trail_service.details_text(
                trail_service.visible_details(event, case_content=_reads_cases(staff))
            ),
        }
        for event in found.events
    ]
    trail_service.record_view(staff.db, trail, found.page, viewer_id=staff.user.id)
    staff.db.commit()
    context: dict[str, Any] = {
        "active": "audit",
        "trail": trail,
        "found": found,
        "rows": rows,
        "tags": [tag.value for tag in AuditTag],
        "query": trail.as_details(),
    }
    return render(request, "console/audit.html", context)


def _start_export(staff: Staff, trail: TrailFilter, fmt: str) -> int:
    """Record the export (committed before the first byte) and fix its extent."""
    up_to = trail_service.start_export(staff.db, trail, fmt, viewer_id=staff.user.id)
    staff.db.commit()
    return up_to


def _download_headers(request: Request, fmt: str) -> dict[str, str]:
    stamp = current_time(request).strftime("%Y%m%dT%H%M%SZ")
    disposition = f'attachment; filename="reclaim-audit-{stamp}.{fmt}"'
    return {"content-disposition": disposition, "cache-control": "no-store"}


def _csv_cell(value: Any) -> str:
    if value is None:
        return ""
    text = trail_service.details_text(value) if isinstance(value, dict) else str(value)
    return "'" + text if text.startswith(_FORMULA_STARTS) else text


@router.get("/audit/export.csv", name="console.audit.export_csv")
def export_csv(
    request: Request, staff: Annotated[Staff, permitted("console.audit.export_csv")]
) -> Response:
    trail = _filter(request, staff)
    up_to = _start_export(staff, trail, "csv")
    factory = state_of(request).sessions

    def lines() -> Iterator[str]:
        buffer = io.StringIO()
        writer = csv.writer(buffer)
        writer.writerow(trail_service.EXPORT_FIELDS)
        for batch in trail_service.export_batches(
            factory, trail, up_to=up_to, case_content=_reads_cases(staff)
        ):
            for row in batch:
                writer.writerow([_csv_cell(row[name]) for name in trail_service.EXPORT_FIELDS])
            yield buffer.getvalue()
            buffer.seek(0)
            buffer.truncate()
        yield buffer.getvalue()

    return StreamingResponse(
        lines(),
        media_type="text/csv; charset=utf-8",
        headers=_download_headers(request, "csv"),
    )


@router.get("/audit/export.json", name="console.audit.export_json")
def export_json(
    request: Request, staff: Annotated[Staff, permitted("console.audit.export_json")]
) -> Response:
    trail = _filter(request, staff)
    up_to = _start_export(staff, trail, "json")
    factory = state_of(request).sessions

    def chunks() -> Iterator[str]:
        yield "["
        separator = "\n"
        for batch in trail_service.export_batches(
            factory, trail, up_to=up_to, case_content=_reads_cases(staff)
        ):
            for row in batch:
                yield separator + json.dumps(row, ensure_ascii=False, sort_keys=True)
                separator = ",\n"
        yield "\n]\n"

    return StreamingResponse(
        chunks(),
        media_type="application/json",
        headers=_download_headers(request, "json"),
    )
