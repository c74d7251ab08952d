"""The partner API, v1: the hash feed, matching, feedback and the notices inbox.

Platforms authenticate with API keys (``Authorization: Bearer``); every error is JSON
``{"error": {"code", "message"}}``.  The OpenAPI description of these routes alone is
served at ``/api/v1/openapi.json`` (there is no Swagger page: it would need scripts
from a CDN, which the CSP forbids).  docs/partners.md is the guide for platforms.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.openapi.utils import get_openapi
from fastapi.responses import JSONResponse

from reclaim import __version__
from reclaim.web.api import feedback, hashes, match, notices
from reclaim.web.api.errors import COMMON_RESPONSES, add_error_handlers
from reclaim.web.api.routing import ApiRoute

__all__ = ["add_error_handlers", "openapi_schema", "router"]

PREFIX = "/api/v1"
DESCRIPTION = """\
Reclaim's partner API: pull the hash feed (with withdrawals as tombstones), match
signals against Reclaim's banks, report what you did, and answer removal notices.

Authenticate with `Authorization: Bearer rcl_<prefix>_<secret>`.  Errors are
`{"error": {"code": "...", "message": "..."}}`.  See docs/partners.md.
"""

router = APIRouter(prefix=PREFIX, route_class=ApiRoute, responses=COMMON_RESPONSES)
for module in (hashes, match, feedback, notices):
    router.include_router(module.router)


def openapi_schema(base_url: str | None = None) -> dict[str, Any]:
    return get_openapi(
        title="Reclaim partner API",
        version=f"1 ({__version__})",
        description=DESCRIPTION,
        routes=router.routes,
        servers=[{"url": base_url}] if base_url else None,
    )


@router.get("/openapi.json", include_in_schema=False)
def openapi(request: Request) -> JSONResponse:
    """The OpenAPI description of the partner API (no key needed)."""
    state = request.app.state
    schema: dict[str, Any] | None = getattr(state, "api_openapi", None)
    if schema is None:
        schema = openapi_schema()
        state.api_openapi = schema
    return JSONResponse(schema)
