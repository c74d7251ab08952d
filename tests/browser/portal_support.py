"""Helpers for the portal's browser tests: test media, filling in the report form the
way a person does, reading the confirmation, and looking at the live server's data."""

from __future__ import annotations

import hashlib
import io
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from playwright.sync_api import Page
from sqlalchemy import select
from sqlalchemy.orm import Session

from reclaim.banks.models import Bank, BankEntry
from reclaim.cases.models import Case
from tests.browser.conftest import LiveServer
from tests.support.cases import signal_links
from tests.support.settings import REPO, require_or_skip

VIDEOS = REPO.parent / "shared" / "testdata" / "threatexchange" / "video"
PHOTOS = REPO.parent / "shared" / "testdata" / "threatexchange" / "pdq"
AXE = REPO / "node_modules" / "axe-core" / "axe.min.js"
NEXT = "fieldset.step:not([hidden]) [data-next]"


@dataclass(frozen=True)
class Media:
    path: Path

    @property
    def data(self) -> bytes:
        return self.path.read_bytes()

    @property
    def md5(self) -> str:
        return hashlib.md5(self.data).hexdigest()  # noqa: S324 - an exchange format

    @property
    def sha256(self) -> str:
        return hashlib.sha256(self.data).hexdigest()


def synthetic_photo(directory: Path, name: str, seed: int, fmt: str = "JPEG") -> Media:
    """A made-up picture (gradients and blocks) with enough detail for a good PDQ."""
    rng = np.random.default_rng(seed)
    ys, xs = np.mgrid[0:300, 0:400]
    blocks = rng.integers(0, 255, size=(6, 8, 3))
    rgb = blocks[ys // 50, xs // 50] // 2 + np.stack([xs * 127 // 399, ys * 127 // 299, xs * 0], -1)
    buffer = io.BytesIO()
    Image.fromarray(rgb.astype(np.uint8)).save(
        buffer, fmt, **({"quality": 92} if fmt == "JPEG" else {})
    )
    path = directory / name
    path.write_bytes(buffer.getvalue())
    return Media(path)


def video(name: str) -> Media:
    path = VIDEOS / name
    if not path.is_file():
        pytest.fail(f"test video missing: {path}")
    return Media(path)


def choose_language(page: Page, live: LiveServer, language: str) -> None:
    page.goto(f"{live.url}/language/{language}?next=/")


def next_step(page: Page) -> None:
    page.click(NEXT)


def wait_for_files(page: Page, count: int) -> None:
    """Until ``count`` files have been hashed (or refused) in the visible picker."""
    page.wait_for_function(
        "n => document.querySelectorAll('.file.ready, .file.failed').length >= n",
        arg=count,
        timeout=60_000,
    )


def fill_report(
    page: Page,
    live: LiveServer,
    *,
    situation: str = "online",
    urls: tuple[str, ...] = (),
    files: tuple[Media, ...] = (),
    description: str = "",
    contact: str = "",
) -> None:
    """Fill in the report form step by step, as a person would, and send it."""
    page.goto(f"{live.url}/report")
    page.check("input[name=reporter_role][value=self]")
    next_step(page)
    page.check("input[name=age_group][value=under_18]")
    next_step(page)
    page.check(f"input[name=situation][value={situation}]")
    next_step(page)
    page.fill("#urls", "\n".join(urls))
    next_step(page)
    if files:
        page.set_input_files("#file-input", [str(m.path) for m in files])
        wait_for_files(page, len(files))
    next_step(page)
    page.fill("#description", description)
    if contact:
        page.fill("#contact", contact)
        page.check("input[name=contact_consent]")
    with page.expect_navigation():
        page.click("button[type=submit]")


def receipt(page: Page) -> tuple[str, str]:
    number = page.text_content("[data-case-number]")
    pin = page.text_content("[data-pin]")
    assert number and pin
    return number.strip(), pin.strip()


def the_case(live: LiveServer, number: str) -> Case:
    with live.sessions() as session:  # type: ignore[attr-defined]
        case = session.scalar(select(Case).where(Case.number == number))
        assert case is not None
        for item in case.items:
            _ = [link.signal for link in signal_links(item)]  # loaded before the session closes
        session.expunge_all()
        return case  # type: ignore[no-any-return]


def self_reported(session: Session) -> list[BankEntry]:
    return list(
        session.scalars(
            select(BankEntry).join(Bank).where(Bank.name == "self-reported").order_by(BankEntry.id)
        )
    )


def require_axe() -> Path:
    if not AXE.is_file():
        require_or_skip(f"axe-core is not installed at {AXE} (run scripts/install-test-deps)")
    return AXE


def axe_violations(page: Page, live: LiveServer) -> list[dict[str, object]]:
    """Serious and critical axe-core violations on the page as it is now.

    axe is served from the page's own origin (a route the test answers), so the
    portal's strict CSP stays as it is."""
    axe = require_axe()
    page.route(
        f"{live.url}/__test__/axe.min.js",
        lambda route: route.fulfill(path=axe, content_type="text/javascript; charset=utf-8"),
    )
    if not page.evaluate("typeof window.axe !== 'undefined'"):
        page.add_script_tag(url=f"{live.url}/__test__/axe.min.js")
    found: list[dict[str, object]] = page.evaluate(
        """async () => {
            const result = await axe.run(document, {resultTypes: ["violations"]});
            return result.violations
                .filter((v) => v.impact === "serious" || v.impact === "critical")
                .map((v) => ({id: v.id, impact: v.impact, help: v.help,
                              nodes: v.nodes.map((n) => n.target.join(" "))}));
        }"""
    )
    return found
