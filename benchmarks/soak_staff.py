"""The soak's staff and notice load (benchmarks/soak.py): a slow platform on loopback,
analysts fetching its pages for review through the console, and notices queued to a
loopback mail server and delivered by the workers.

Everything is synthetic: the platform's pages show generated pictures; the staff user
and the cases are made in the database by the factories the tests use (a staff session
is started directly, as the second-factor login would leave it).
"""

from __future__ import annotations

import email
import email.policy
import http.server
import io
import secrets
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import httpx
from aiosmtpd.controller import Controller
from PIL import Image, ImageDraw
from sqlalchemy.orm import Session, sessionmaker
from tests.support.cases import make_case, make_user
from tests.support.takedown import case_with_urls, notice_for

from reclaim.accounts.domain import Role
from reclaim.accounts.staff_sessions import SessionPolicy, start
from reclaim.config import Settings
from reclaim.platforms.models import Platform
from reclaim.takedown.notices import NoticePolicy
from reclaim.web.csrf import CSRF_COOKIE, STAFF_COOKIE, token_for

PLATFORM = "Soak Platform"
ABUSE = "abuse@soak-platform.example"


# --- a platform that answers slowly ----------------------------------------------------


def picture(n: int) -> bytes:
    """A small synthetic picture, different for each ``n``."""
    image = Image.new("RGB", (320, 240), (n * 37 % 256, n * 91 % 256, n * 53 % 256))
    draw = ImageDraw.Draw(image)
    for k in range(8):
        x = (n * 13 + k * 41) % 300
        draw.rectangle((x, k * 28, x + 20 + k * 3, k * 28 + 20), fill=(255 - k * 30, k * 30, 128))
    out = io.BytesIO()
    image.save(out, format="PNG")
    return out.getvalue()


class SlowPlatform(http.server.ThreadingHTTPServer):
    """``/page/N``: an HTML page with one picture, answered after ``delay`` seconds."""

    daemon_threads = True

    def __init__(self, port: int, delay: float) -> None:
        super().__init__(("127.0.0.1", port), _PlatformHandler)
        self.delay = delay
        self.thread = threading.Thread(target=self.serve_forever, daemon=True)

    def url(self, n: int) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}/page/{n}"


class _PlatformHandler(http.server.BaseHTTPRequestHandler):
    server: SlowPlatform

    def do_GET(self) -> None:
        parts = self.path.strip("/").split("/")
        if len(parts) == 2 and parts[0] == "page" and parts[1].isdigit():
            time.sleep(self.server.delay)
            n = int(parts[1])
            body = f'<html><body><p>post {n}</p><img src="/img/{n}.png"></body></html>'
            self._answer("text/html; charset=utf-8", body.encode())
        elif len(parts) == 2 and parts[0] == "img" and parts[1].endswith(".png"):
            self._answer("image/png", picture(int(parts[1].removesuffix(".png"))))
        else:
            self.send_error(404)

    def _answer(self, kind: str, body: bytes) -> None:
        self.send_response(200)
        self.send_header("Content-Type", kind)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:
        pass


# --- analysts reviewing slow pages -----------------------------------------------------


@dataclass(frozen=True)
class Analyst:
    cookies: dict[str, str]
    csrf: str
    items: list[tuple[str, int]]  # (case number, item id) of a URL on the slow platform


def prepare_analyst(
    sessions: sessionmaker[Session], settings: Settings, platform: SlowPlatform, items: int
) -> Analyst:
    """An analyst with a live session, and ``items`` cases each with one slow page."""
    with sessions.begin() as session:
        user = make_user(session, Role.ANALYST, f"Soak Analyst {secrets.token_hex(2)}")
        started = start(
            session,
            user,
            SessionPolicy.of(settings.session_idle_minutes, settings.session_absolute_hours),
            mfa_passed=True,
        )
        base = secrets.randbelow(10**8)
        found: list[tuple[str, int]] = []
        for n in range(items):
            case = make_case(session, urls=[platform.url(base + n)])
            found.append((case.number, case.items[0].id))
    seed = secrets.token_urlsafe(32)
    csrf = token_for(settings.secret_bytes, seed, started.token)
    return Analyst({STAFF_COOKIE: started.token, CSRF_COOKIE: seed}, csrf, found)


def analyst_load(
    url: str, analyst: Analyst, offset: int, record: Any, stop: threading.Event
) -> None:
    """Open a case, fetch its slow page for review; the next case; until stopped."""
    with httpx.Client(base_url=url, timeout=60, cookies=analyst.cookies) as client:
        n = offset
        while not stop.is_set():
            number, item_id = analyst.items[n % len(analyst.items)]
            n += 2
            try:
                record.timed(
                    "console GET case",
                    lambda number=number: client.get(f"/console/cases/{number}"),
                )
                record.timed(
                    "console fetch slow page",
                    lambda item_id=item_id: client.post(
                        f"/console/items/{item_id}/fetch",
                        data={"csrf_token": analyst.csrf},
                        follow_redirects=False,
                    ),
                    ok=303,
                )
            except httpx.HTTPError:
                time.sleep(0.1)


# --- notices through the workers -----------------------------------------------------


@dataclass
class Mailbox:
    """What the loopback mail server received: per notice reference, the arrival times."""

    arrived: dict[str, list[float]] = field(default_factory=dict)
    message_ids: list[str] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        message = email.message_from_bytes(envelope.content, policy=email.policy.default)
        with self.lock:
            reference = str(message.get("X-Reclaim-Notice", "?"))
            self.arrived.setdefault(reference, []).append(time.time())
            self.message_ids.append(str(message.get("Message-ID", "")))
        return "250 OK"


def mail_server(port: int) -> tuple[Controller, Mailbox]:
    box = Mailbox()
    controller = Controller(box, hostname="127.0.0.1", port=port, ready_timeout=10.0)
    controller.start()
    return controller, box


@dataclass
class NoticeLoad:
    queued: dict[str, float] = field(default_factory=dict)  # reference -> when committed
    errors: list[str] = field(default_factory=list)


def notice_load(
    sessions: sessionmaker[Session],
    settings: Settings,
    enqueue_delivery: Callable[[], object],
    *,
    every: float,
    load: NoticeLoad,
    stop: threading.Event,
) -> None:
    """Every ``every`` seconds: a decided case and its notice queued to the soak
    platform (the outbox row committed with it), then the delivery job enqueued as the
    console does; the workers send it."""
    policy = NoticePolicy.from_settings(settings)
    with sessions.begin() as session:
        platform = Platform(
            name=f"{PLATFORM} {secrets.token_hex(2)}", language="en", abuse_email=ABUSE
        )
        session.add(platform)
        session.flush()
        platform_id = platform.id
    n = 0
    while not stop.wait(every):
        n += 1
        page = f"https://soak-platform.example/u/{secrets.token_hex(4)}/{n}"
        try:
            with sessions.begin() as session:
                platform = session.get_one(Platform, platform_id)
                case = case_with_urls(
                    session, [page], platform=platform, pictures={page: [(f"{page}.jpg", page)]}
                )
                notice, _ = notice_for(session, case, policy, stage="queued")
                reference = notice.reference
            load.queued[reference] = time.time()
            enqueue_delivery()
        except Exception as exc:  # counted, not fatal: the soak reports it
            load.errors.append(f"{type(exc).__name__}: {exc}"[:200])
