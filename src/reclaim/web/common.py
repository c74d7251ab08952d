"""What every audience's pages share: the application state, rendering a template in
the request's language, and the language itself.

The portal, the console and the partner API each import this, never each other and
never ``web.app`` (which mounts them all): the audience is the security boundary.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from fastapi import Request
from fastapi.responses import Response
from fastapi.templating import Jinja2Templates
from huey import Huey
from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from reclaim.banks.engine import MatchEngine
from reclaim.config import Settings
from reclaim.documents.words import Wording
from reclaim.domain.clock import Clock, system_clock
from reclaim.domain.languages import Language
from reclaim.linkage.media_index import MediaPdqIndex
from reclaim.partners.match_volumes import VolumeTally
from reclaim.takedown.labels import LABELS
from reclaim.web.csrf import CSRF_FIELD, csrf_token, set_csrf_cookie
from reclaim.web.i18n import LANGUAGES, Catalogs

WEB_DIR = Path(__file__).parent
LANGUAGE_COOKIE = "reclaim_lang"


@dataclass
class AppState:
    """What request handlers reach through ``request.app.state.reclaim``."""

    settings: Settings
    engine: Engine
    sessions: sessionmaker[Session]
    huey: Huey
    catalogs: Catalogs
    templates: Jinja2Templates
    #: Match volumes counted by this process, not yet written (partners/match_volumes.py).
    match_volumes: VolumeTally
    #: The time, for every request (tests pass a fake clock; services take it as an argument).
    clock: Clock = system_clock
    matcher: MatchEngine | None = None
    _matcher_lock: threading.Lock = field(default_factory=threading.Lock)
    #: Every PDQ hash held, for "a similar picture in another case" (linkage).
    media_index: MediaPdqIndex = field(default_factory=MediaPdqIndex)

    def match_engine(self) -> MatchEngine:
        """The in-memory engine, loaded from the saved index on first use (once)."""
        with self._matcher_lock:
            if self.matcher is None:
                with self.sessions() as session:
                    self.matcher = MatchEngine.load(self.settings.index_dir, session)
            return self.matcher


def current_time(request: Request) -> datetime:
    """The current time as the app sees it."""
    return state_of(request).clock()


def state_of(request: Request) -> AppState:
    state: AppState = request.app.state.reclaim
    return state


def render(request: Request, template: str, context: dict[str, Any], status: int = 200) -> Response:
    """Render a page in the request's language."""
    state = state_of(request)
    wording = wording_of(request)
    translator = state.catalogs.get(wording.language)
    response = state.templates.TemplateResponse(
        request,
        template,
        {
            **translator.template_globals(),
            # Statuses and times in words (reclaim.documents.templates' filters read it).
            "wording": wording,
            "languages": LANGUAGES,
            "csrf_token": csrf_token(request),
            "csrf_field": CSRF_FIELD,
            "settings": state.settings,
            **context,
        },
        status_code=status,
    )
    set_csrf_cookie(request, response)
    # Pages may show case numbers, PINs or case details: never keep them in caches.
    response.headers["cache-control"] = "no-store"
    return response


def wording_of(request: Request) -> Wording:
    """The request's language, the status labels and the operator's clock, for pages
    and documents alike."""
    state = state_of(request)
    translator = state.catalogs.get(language_of(request))
    return Wording(
        language=Language(translator.language),
        translate=translator.gettext,
        labels=LABELS,
        zone=state.settings.zone,
    )


def language_of(request: Request) -> str:
    state = state_of(request)
    return state.catalogs.negotiate(
        request.query_params.get("lang") or request.cookies.get(LANGUAGE_COOKIE),
        request.headers.get("accept-language"),
    )
