"""Referrals in a real browser, end to end (issue 13's "done when").

A minor's urgent sextortion case: the reporter let a social worker contact them and
refused the police their contact and words.  A supervisor decides the item in the
browser; the mandatory referral is proposed with its 24-hour deadline and shows on the
dashboard.  The supervisor sends it to social services and refers the case to a police
unit too; both agencies get an email on loopback SMTP.  The police liaison logs in
and sees only that referral, without the reporter's contact; downloads the evidence
package, which verifies with `reclaim evidence verify` and with openssl and sha256sum
alone; one changed byte fails.
"""

from __future__ import annotations

import io
import shutil
import subprocess
import sys
import zipfile
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from sqlalchemy import select

from reclaim import audit
from reclaim.accounts.domain import Role
from reclaim.accounts.models import User
from reclaim.cases.domain import AgeGroup, Situation
from reclaim.referrals import agencies, consent
from reclaim.referrals.domain import AgencyKind, ConsentHow, ConsentSubject, ReferralStatus
from reclaim.referrals.models import Referral
from reclaim.security.field_crypto import field_cipher
from tests.browser.conftest import LiveServer, staff_context
from tests.support.cases import make_case
from tests.support.referrals import make_agency
from tests.support.smtp import LoopbackSmtp, RecordingHandler

if TYPE_CHECKING:
    from playwright.sync_api import Browser, Page

pytestmark = pytest.mark.browser

SOCIAL = "Taipei City Social Welfare Department"
POLICE = "Taipei Police Women and Children Unit"
PROFILE = "https://social.example/profile/offender_account_42"
CONTACT = "line: sunny_day"
RECLAIM = Path(sys.executable).parent / "reclaim"


@pytest.fixture
def live(tmp_path: Path, mailbox: tuple[LoopbackSmtp, RecordingHandler]) -> Iterator[LiveServer]:
    with LiveServer(
        tmp_path,
        smtp_port=mailbox[0].port,
        smtp_security="none",
        mail_from="Hotline <referrals@hotline.example>",
    ) as server:
        yield server


@pytest.fixture
def supervisor_page(browser: Browser, live: LiveServer) -> Iterator[Page]:
    context = staff_context(browser, live, Role.SUPERVISOR, "Browser Supervisor")
    page = context.new_page()  # type: ignore[attr-defined]
    yield page
    context.close()  # type: ignore[attr-defined]


def _the_case(live: LiveServer) -> str:
    with live.app.state.reclaim.sessions() as session:
        make_agency(session, SOCIAL, email="social@taipei.example.gov")
        make_agency(session, POLICE, AgencyKind.POLICE, email="unit@police.example.gov")
        case = make_case(
            session,
            urls=[PROFILE],
            urgent=True,
            age=AgeGroup.UNDER_18,
            situation=Situation.THREAT,
            contact=CONTACT,
            cipher=field_cipher(live.settings),
            description="He says he will post them tonight.",
        )
        reporter = audit.Actor.reporter(case.id)
        for subject, granted in (
            (ConsentSubject.SOCIAL_WORKER, True),
            (ConsentSubject.POLICE, False),
        ):
            consent.record_consent(
                session, case, subject, granted=granted, how=ConsentHow.PORTAL, actor=reporter
            )
        session.commit()
        return case.number


def _referrals(live: LiveServer) -> dict[str, Referral]:
    with live.app.state.reclaim.sessions() as session:
        rows = session.scalars(select(Referral)).all()
        found = {r.agency.name: r for r in rows}
        session.expunge_all()
        return found


def test_a_minors_case_referred_to_social_services_and_police(
    browser: Browser,
    supervisor_page: Page,
    live: LiveServer,
    mailbox: tuple[LoopbackSmtp, RecordingHandler],
    tmp_path: Path,
) -> None:
    page = supervisor_page
    live.clock.now = datetime.now(UTC)  # the outbox runs on the system's clock
    number = _the_case(live)

    # The decision, in the browser, makes the referral a duty with a 24-hour deadline.
    page.goto(f"{live.url}/console/cases/{number}")
    decided_at = live.clock.now
    page.get_by_label("Intimate image of a minor (self-generated)").check()
    page.get_by_role("button", name="Record decision").click()
    page.wait_for_url(f"**/console/cases/{number}?notice=decided*")
    proposed = _referrals(live)[SOCIAL]
    assert proposed.mandatory and proposed.status is ReferralStatus.DRAFT
    assert proposed.deadline_at == decided_at + timedelta(hours=24)
    page.goto(f"{live.url}/console/takedown")
    due = page.locator(f"section.referrals-due tr[data-referral='{proposed.reference}']")
    assert number in due.inner_text()

    # The supervisor sends it, and refers the case to the police unit as well.
    due.get_by_role("link", name=number).click()
    page.get_by_role("button", name="Send the referral").click()
    page.get_by_label("Agency", exact=True).select_option(label=f"{POLICE} (Police)")
    page.get_by_label("Reporter's contact details").check()
    page.get_by_label("Reporter's own words").check()
    page.get_by_role("button", name="Draft the referral").click()
    page.get_by_role("button", name="Send the referral").click()
    sent = _referrals(live)
    assert {name: r.status for name, r in sent.items()} == {
        SOCIAL: ReferralStatus.SENT,
        POLICE: ReferralStatus.SENT,
    }
    assert sent[POLICE].sent_shares == ["case"]  # the reporter refused the police
    assert sorted(r.rcpt_tos[0] for r in mailbox[1].received) == [
        "social@taipei.example.gov",
        "unit@police.example.gov",
    ]
    assert all(CONTACT not in r.parsed().as_string() for r in mailbox[1].received)

    # The police liaison sees only that referral, without the reporter's contact.
    officer_context = staff_context(browser, live, Role.POLICE_LIAISON, "Officer Lin")
    with live.app.state.reclaim.sessions() as session:
        officer = session.scalars(select(User).where(User.display_name == "Officer Lin")).one()
        unit = session.scalars(select(agencies.Agency).where(agencies.Agency.name == POLICE)).one()
        agencies.add_member(session, unit, officer, actor=audit.SYSTEM)
        session.commit()
    officer_page = officer_context.new_page()  # type: ignore[attr-defined]
    officer_page.goto(f"{live.url}/console/referred")
    rows = officer_page.locator("table.data tbody tr")
    assert rows.count() == 1 and number in rows.inner_text()
    rows.get_by_role("link").click()
    shown = officer_page.locator("main").inner_text()
    assert PROFILE in shown and number in shown
    assert CONTACT not in officer_page.content()
    assert "Analysts' decisions" not in shown  # not shared: no decisions
    assert "He says he will post them tonight." not in officer_page.content()
    assert officer_page.request.get(f"{live.url}/console/cases/{number}").status == 403

    # The package verifies with Reclaim and with standard tools; one byte breaks it.
    with officer_page.expect_download() as download:
        officer_page.get_by_role("link", name="Download the signed evidence package").click()
    package = tmp_path / "package.zip"
    download.value.save_as(package)
    officer_page.goto(f"{live.url}/console/evidence-key")
    published = tmp_path / "published.pem"
    published.write_text(officer_page.locator("pre").first.inner_text().strip() + "\n")
    checked = subprocess.run(
        [str(RECLAIM), "evidence", "verify", str(package), "--key", str(published)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert checked.returncode == 0, checked.stdout + checked.stderr
    assert "OK: case" in checked.stdout
    manifest = zipfile.ZipFile(package).read("manifest.json").decode()
    assert CONTACT not in manifest and "case:item:decided" not in manifest
    assert "self_generated_minor" not in manifest  # the decision was not shared
    if shutil.which("openssl") and shutil.which("sha256sum"):
        unpacked = tmp_path / "unpacked"
        zipfile.ZipFile(io.BytesIO(package.read_bytes())).extractall(unpacked)
        signature = subprocess.run(
            [
                "openssl",
                "pkeyutl",
                "-verify",
                "-pubin",
                "-inkey",
                str(published),
                "-rawin",
                "-in",
                "manifest.json",
                "-sigfile",
                "manifest.sig",
            ],
            cwd=unpacked,
            capture_output=True,
            text=True,
            check=False,
        )
        assert signature.returncode == 0, signature.stdout + signature.stderr
        sums = subprocess.run(
            ["sha256sum", "-c", "SHA256SUMS"], cwd=unpacked, capture_output=True, check=False
        )
        assert sums.returncode == 0
    tampered = bytearray(package.read_bytes())
    tampered[len(tampered) // 3] ^= 0x01
    broken = tmp_path / "tampered.zip"
    broken.write_bytes(bytes(tampered))
    refused = subprocess.run(
        [str(RECLAIM), "evidence", "verify", str(broken), "--key", str(published)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert refused.returncode == 1
    officer_context.close()  # type: ignore[attr-defined]
