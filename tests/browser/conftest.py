"""Playwright fixtures for tests that drive Debian's Chromium.

Reusable by any browser test: ``browser`` (one Chromium per session), ``page`` (a fresh
context and page per test, closed afterwards) and ``StaticSite``, a loopback HTTP
server for static files that sends the portal's strict Content-Security-Policy.

Chromium is never downloaded (no ``playwright install``): the system's is launched,
``/usr/bin/chromium`` unless ``RECLAIM_CHROMIUM`` names another. Without it the tests
are skipped, except under CI (``CI=true``), where a missing browser is a failure
(``require_or_skip``).
"""

from __future__ import annotations

import mimetypes
import os
import threading
from collections.abc import Iterator, Mapping
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from tests.support.settings import require_or_skip

if TYPE_CHECKING:
    from playwright.sync_api import Browser, Page

REPO = Path(__file__).resolve().parents[2]
STATIC_DIR = REPO / "src" / "reclaim" / "web" / "static"
PAGES_DIR = Path(__file__).resolve().parent / "pages"

CHROMIUM_ARGS = (
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    # The test machine has no internet; without these Chromium keeps dialling out.
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
)

# What the portal will send: scripts, workers and fetches from our own origin only, so
# no inline script, eval or new Function can run.
STRICT_CSP = (
    "default-src 'self'; script-src 'self'; worker-src 'self'; connect-src 'self'; "
    "img-src 'self' blob: data:; media-src blob:; style-src 'self'; object-src 'none'; "
    "base-uri 'none'; "
    "frame-ancestors 'none'; form-action 'self'"
)

CONTENT_TYPES = {
    ".js": "text/javascript; charset=utf-8",  # module scripts are refused without it
    ".mjs": "text/javascript; charset=utf-8",
    ".html": "text/html; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".json": "application/json",
    ".tsv": "text/tab-separated-values; charset=utf-8",
    ".webp": "image/webp",
}


@pytest.fixture(scope="session")
def chromium_executable() -> Path:
    path = Path(os.environ.get("RECLAIM_CHROMIUM", "/usr/bin/chromium"))
    if not path.is_file():
        require_or_skip(
            f"Chromium not found at {path}; install Debian's chromium or set RECLAIM_CHROMIUM"
        )
    return path


# Package scope, not session: Playwright's sync API keeps an event loop running in the
# main thread while it is open, which would break asyncio.run() in tests after these.
@pytest.fixture(scope="package")
def browser(chromium_executable: Path) -> Iterator[Browser]:
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        require_or_skip("playwright is not installed (pip install -e '.[test]')")
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(
            executable_path=str(chromium_executable), args=list(CHROMIUM_ARGS)
        )
        yield launched
        launched.close()


@pytest.fixture
def page(browser: Browser) -> Iterator[Page]:
    context = browser.new_context()
    opened = context.new_page()
    yield opened
    context.close()


class StaticSite:
    """Serve directories on 127.0.0.1, each under a URL prefix, with a strict CSP.

    ``StaticSite({"/static/": STATIC_DIR})`` serves ``STATIC_DIR/app.js`` at
    ``site.url("/static/app.js")``. Use as a context manager; the port is random.
    """

    def __init__(self, mounts: Mapping[str, Path], csp: str = STRICT_CSP) -> None:
        self.mounts = {prefix: root.resolve() for prefix, root in mounts.items()}
        handler = type("Handler", (_StaticHandler,), {"site": self})
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self._server.daemon_threads = True
        self.csp = csp
        self.requests: list[str] = []
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def origin(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    def url(self, path: str) -> str:
        return self.origin + path

    def resolve(self, url_path: str) -> Path | None:
        """The file a URL path names, or None (outside every mount, or missing)."""
        for prefix, root in self.mounts.items():
            if url_path.startswith(prefix):
                candidate = (root / url_path[len(prefix) :]).resolve()
                if candidate.is_relative_to(root) and candidate.is_file():
                    return candidate
        return None

    def __enter__(self) -> StaticSite:
        self._thread.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join()


class _StaticHandler(BaseHTTPRequestHandler):
    site: StaticSite

    def do_GET(self) -> None:
        path = self.path.split("?", 1)[0].split("#", 1)[0]
        self.site.requests.append(path)
        file = self.site.resolve(path)
        if file is None:
            self.send_error(HTTPStatus.NOT_FOUND)
            return
        content_type = CONTENT_TYPES.get(file.suffix) or (
            mimetypes.guess_type(file.name)[0] or "application/octet-stream"
        )
        body = file.read_bytes()
        self.send_response(HTTPStatus.OK)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Content-Security-Policy", self.site.csp)
        self.send_header("X-Content-Type-Options", "nosniff")
        self.send_header("Cache-Control", "no-store")
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:
        """Keep test output quiet."""


# --- a live Reclaim server ----------------------------------------------------------


class LiveServer:
    """Reclaim served by uvicorn on a loopback port, in a thread, on a migrated SQLite
    database of its own.  ``app`` and ``settings`` are the running instance's."""

    def __init__(self, tmp_path: Path, **overrides: object) -> None:
        import socket

        import uvicorn
        from huey import MemoryHuey

        from reclaim.migrations import upgrade
        from reclaim.storage.db import make_engine
        from reclaim.web.app import create_app
        from tests.support.clock import FakeClock, mid_totp_step
        from tests.support.settings import make_settings

        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            port = probe.getsockname()[1]
        self.settings = make_settings(
            tmp_path, base_url=f"http://127.0.0.1:{port}", port=port, **overrides
        )
        engine = make_engine(self.settings.database_url)
        upgrade(engine)
        engine.dispose()
        # Frozen mid-way through a TOTP step: the codes tests type are the app's codes.
        self.clock = FakeClock(mid_totp_step())
        self.app = create_app(
            self.settings, huey=MemoryHuey("live", immediate=True), clock=self.clock
        )
        config = uvicorn.Config(
            self.app, host="127.0.0.1", port=port, log_level="warning", lifespan="on"
        )
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(target=self._server.run, daemon=True)
        self.url = f"http://127.0.0.1:{port}"

    def __enter__(self) -> LiveServer:
        import time

        self._thread.start()
        deadline = time.monotonic() + 20
        while not self._server.started:
            if time.monotonic() > deadline or not self._thread.is_alive():
                raise RuntimeError("the live server did not start")
            time.sleep(0.02)
        return self

    def __exit__(self, *exc_info: object) -> None:
        self._server.should_exit = True
        self._thread.join(timeout=10)

    def sessions(self) -> object:
        """A database session on the server's database (``with live.sessions() as s``)."""
        return self.app.state.reclaim.sessions()


# --- the in-browser hasher's test page (test_hasher.py, test_video_hasher.py) -----------


@pytest.fixture(scope="module")
def generated_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Synthetic media written by the tests, served under /generated/."""
    return tmp_path_factory.mktemp("generated")


@pytest.fixture(scope="module")
def site(testdata: Path, generated_dir: Path) -> Iterator[StaticSite]:
    mounts = {
        "/static/": STATIC_DIR,
        "/test/": PAGES_DIR,
        "/testdata/": testdata,
        "/generated/": generated_dir,
    }
    with StaticSite(mounts) as started:
        yield started


@pytest.fixture
def hasher_page(page: Page, site: StaticSite) -> Iterator[Page]:
    """The test page, loaded under the strict CSP; fails the test on any page error."""
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.on("console", lambda message: message.type == "error" and errors.append(message.text))
    page.goto(site.url("/test/hasher.html"))
    page.wait_for_function("window.hasherTestReady === true")
    yield page
    assert page.evaluate("hasherTest.violations()") == []
    assert errors == []


@pytest.fixture
def live_server(tmp_path: Path) -> Iterator[LiveServer]:
    with LiveServer(tmp_path) as server:
        yield server


@pytest.fixture
def portal(browser: Browser, live_server: LiveServer) -> Iterator[Page]:
    """A phone in Taiwan (360 px wide, zh-TW) on the live server; fails the test on any
    script error."""
    context = browser.new_context(viewport={"width": 360, "height": 740}, locale="zh-TW")
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    yield page
    context.close()
    unexpected = [e for e in errors if "status of 4" not in e]  # 400/404/429 pages on purpose
    assert unexpected == []


def staff_context(
    browser: Browser, live: LiveServer, role: object, name: str, locale: str = "en-US"
) -> object:
    """A browser context logged in to ``live`` as a new, enrolled staff member.

    The session is started through the sessions service and its cookie handed to the
    browser, as the login page would (the login pages have their own browser tests).
    """
    from reclaim.accounts import staff_sessions
    from reclaim.accounts.staff_sessions import SessionPolicy
    from reclaim.web.csrf import STAFF_COOKIE
    from tests.support.cases import make_user

    settings = live.settings
    with live.app.state.reclaim.sessions() as session:
        user = make_user(session, role, name)  # type: ignore[arg-type]
        policy = SessionPolicy.of(settings.session_idle_minutes, settings.session_absolute_hours)
        started = staff_sessions.start(session, user, policy, mfa_passed=True)
        session.commit()
    context = browser.new_context(locale=locale)
    context.add_cookies([{"name": STAFF_COOKIE, "value": started.token, "url": live.url}])
    return context
