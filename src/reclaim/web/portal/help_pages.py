"""Short help pages: the "four no" principles for young people, advice for parents and
teachers, and what happens after a report (sources: docs/safety.md)."""

from __future__ import annotations

from fastapi import APIRouter, HTTPException, Request, Response

from reclaim.web.common import render

router = APIRouter()

#: The help pages, by the last part of their path.
PAGES = {
    "four-no": "portal/help_four_no.html",
    "parents": "portal/help_parents.html",
    "after-a-report": "portal/help_after.html",
}


@router.get("/help/{name}", include_in_schema=False)
def help_page(request: Request, name: str) -> Response:
    template = PAGES.get(name)
    if template is None:
        raise HTTPException(404)
    return render(request, template, {})
