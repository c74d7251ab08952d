"""The web application: portal, console and partner API share one FastAPI app."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from fastapi.templating import Jinja2Templates
from huey import Huey
from sqlalchemy import Engine, text
from starlette.exceptions import HTTPException as StarletteHTTPException

from reclaim import __version__
from reclaim.audit.keys import use_settings as use_audit_keys
from reclaim.cases.domain import CaseStatus, Classification
from reclaim.config import Settings
from reclaim.documents.templates import install_filters
from reclaim.domain.clock import Clock, system_clock
from reclaim.jobs.queue import make_huey, queue_status
from reclaim.jobs.registry import register_tasks
from reclaim.partners import match_volumes
from reclaim.storage.db import make_engine, make_session_factory
from reclaim.takedown.domain import NoticeStatus, PageOutcome, VerificationOutcome
from reclaim.web import api, console, portal
from reclaim.web.common import LANGUAGE_COOKIE, WEB_DIR, AppState, render, state_of
from reclaim.web.console.auth import LoginRequiredError, RoleRefusedError
from reclaim.web.i18n import LANGUAGES, Catalogs
from reclaim.web.security import SecurityHeadersMiddleware


def create_app(
    settings: Settings,
    *,
    engine: Engine | None = None,
    huey: Huey | None = None,
    clock: Clock = system_clock,
) -> FastAPI:
    """Build the app from settings; tests pass their own engine, queue and clock."""
    owns_engine = engine is None
    use_audit_keys(settings)
    database = engine or make_engine(settings.database_url)
    state = AppState(
        settings=settings,
        engine=database,
        sessions=make_session_factory(database),
        huey=huey or make_huey(settings),
        catalogs=Catalogs(settings.default_language),
        templates=Jinja2Templates(directory=WEB_DIR / "templates"),
        match_volumes=match_volumes.VolumeTally(settings.api_match_volume_flush_seconds),
        clock=clock,
    )
    state.templates.env.autoescape = True
    # Times on the operator's clock and statuses in words, on every page (| when, | label).
    install_filters(state.templates.env)
    state.templates.env.globals.update(
        CaseStatus=CaseStatus,
        Classification=Classification,
        NoticeStatus=NoticeStatus,
        PageOutcome=PageOutcome,
        VerificationOutcome=VerificationOutcome,
    )
    # The in-process consumer (reclaim serve) runs the same scheduled tasks as a worker.
    register_tasks(
        state.huey,
        settings,
        state.sessions,
        clock=state.clock,
        translate=state.catalogs.get(settings.default_language).gettext,
    )

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        yield
        # What this process counted since its last write (a hard crash loses it).
        match_volumes.flush(state.sessions, state.match_volumes)
        if state.matcher is not None:
            # The next start loads this and syncs only what changed meanwhile.
            state.matcher.save(settings.index_dir)
        if owns_engine:
            database.dispose()

    app = FastAPI(
        lifespan=lifespan,
        title="Reclaim",
        version=__version__,
        docs_url=None,
        redoc_url=None,
        openapi_url=None,
    )
    app.state.reclaim = state
    app.add_middleware(SecurityHeadersMiddleware, https=settings.base_url.startswith("https://"))
    app.mount("/static", StaticFiles(directory=WEB_DIR / "static"), name="static")
    _add_core_routes(app)
    _add_error_pages(app)
    # The partner API first: its routes are matched on every API request, thousands a
    # second; JSON errors (422 included) and its own OpenAPI description.
    app.include_router(api.router)
    api.add_error_handlers(app)
    app.include_router(portal.router)
    app.include_router(console.router)
    return app


def _add_error_pages(app: FastAPI) -> None:
    """People get a page in their language; the partner API gets JSON."""

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> Response:
        if request.url.path.startswith("/api/"):
            return JSONResponse(
                {"error": {"code": f"http_{exc.status_code}", "message": str(exc.detail)}},
                status_code=exc.status_code,
                headers=exc.headers,
            )
        context: dict[str, Any] = {"status": exc.status_code, "detail": exc.detail}
        if isinstance(exc, RoleRefusedError):
            context.update(role=exc.role, allowed=exc.allowed)
        response = render(request, "error.html", context, exc.status_code)
        for name, value in (exc.headers or {}).items():
            response.headers[name] = value
        return response

    @app.exception_handler(LoginRequiredError)
    async def login_required(_request: Request, exc: LoginRequiredError) -> Response:
        return RedirectResponse(exc.location, status_code=303)


def _add_core_routes(app: FastAPI) -> None:
    @app.get("/healthz", include_in_schema=False)
    def healthz(request: Request) -> JSONResponse:
        state = state_of(request)
        database: dict[str, Any] = {"ok": True}
        try:
            with state.engine.connect() as connection:
                connection.execute(text("SELECT 1"))
        except Exception as exc:
            database = {"ok": False, "error": type(exc).__name__}
        queue = queue_status(state.huey)
        ok = database["ok"] and queue.ok
        body = {
            "status": "ok" if ok else "degraded",
            "version": __version__,
            "database": database,
            "queue": {"ok": queue.ok, "backend": queue.backend, "pending": queue.pending}
            | ({"error": queue.error} if queue.error else {}),
        }
        return JSONResponse(body, status_code=200 if ok else 503)

    @app.get("/language/{language}", include_in_schema=False)
    def choose_language(language: str, request: Request) -> Response:
        target = request.query_params.get("next", "/")
        if not target.startswith("/") or target.startswith("//"):
            target = "/"  # never an open redirect
        response = RedirectResponse(target, status_code=303)
        if language in LANGUAGES:
            response.set_cookie(
                LANGUAGE_COOKIE, language, max_age=365 * 86400, samesite="lax", httponly=True
            )
        return response
