"""The feed guard on the console's banks page, in Chromium: a self-reported hash held
out of the feed is listed with why, axe-core finds no serious or critical violation on
the page with a hold open (in zh_TW and en), and an analyst's "put back" returns the
hash to the feed."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest
from sqlalchemy import select

from reclaim.accounts.domain import Role
from reclaim.audit.domain import AuditTag
from reclaim.audit.models import AuditEvent
from reclaim.banks import feed_guard
from reclaim.banks.domain import HoldReason
from tests.browser.conftest import LiveServer, staff_context
from tests.browser.portal_support import axe_violations
from tests.support.cases import bank_entries, bank_unverified, md5

if TYPE_CHECKING:
    from playwright.sync_api import Browser

pytestmark = pytest.mark.browser


@pytest.mark.parametrize("language", ["zh_TW", "en"])
def test_a_held_hash_is_shown_accessibly_and_put_back(
    browser: Browser, live_server: LiveServer, language: str
) -> None:
    live = live_server
    held = md5(f"a meme everybody uploads ({language})")
    with live.app.state.reclaim.sessions() as session:
        bank_unverified(session, held)
        entry = bank_entries(session, "self-reported")[held.value]
        [hold] = feed_guard.consider(
            session, {entry.id: 7}, reason=HoldReason.MANY_MATCHES, threshold=5
        )
        hold_id = hold.id
        session.commit()

    context = staff_context(browser, live, Role.ANALYST, "Browser Analyst")
    page = context.new_page()  # type: ignore[attr-defined]
    page.goto(live.url + f"/console/banks?lang={language}")
    row = page.locator("tr", has=page.locator(f'form[action="/console/banks/holds/{hold_id}"]'))
    assert f"md5:{held.value[:16]}" in row.inner_text()
    assert page.locator('[data-figure="held"]').inner_text() == "1"
    assert axe_violations(page, live) == []

    row.locator('button[value="restored"]').click()
    page.wait_for_load_state()
    assert page.locator('[data-figure="held"]').inner_text() == "0"
    assert page.locator('[data-figure="restored"]').inner_text() == "1"
    assert axe_violations(page, live) == []
    with live.app.state.reclaim.sessions() as session:
        assert bank_entries(session, "self-reported")[held.value].withdrawn_at is None
        released = session.scalars(
            select(AuditEvent).where(AuditEvent.tag == AuditTag.SIGNAL_HOLD_RELEASED.value)
        ).all()
        assert len(released) == 1
    context.close()  # type: ignore[attr-defined]
