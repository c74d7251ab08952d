"""The home page: what Reclaim does, the privacy promise, who to call now."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response

from reclaim.web.common import render

router = APIRouter()


@router.get("/", include_in_schema=False)
def home(request: Request) -> Response:
    return render(request, "portal/home.html", {})
