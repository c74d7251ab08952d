"""Fetch for review, previews, reveals and decisions through HTTP, with a loopback server."""

from __future__ import annotations

import hashlib
import io
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from PIL import Image
from sqlalchemy import select

from reclaim.accounts.domain import Role
from reclaim.accounts.models import User
from reclaim.audit.domain import AuditTag
from reclaim.audit.models import AuditEvent
from reclaim.banks.domain import UNVERIFIED_BANK, Category
from reclaim.cases.domain import Classification, DecisionStatus
from reclaim.cases.models import Decision, Item, QuarantinedMedia
from reclaim.config import Settings
from reclaim.web.security import CONTENT_SECURITY_POLICY
from tests.support.cases import bank_entries, make_case, synthetic_png, verified_entries
from tests.support.http import LoopbackServer, content
from tests.support.settings import make_settings
from tests.web.conftest import csrf_from

Login = Callable[..., User]
EN = {"accept-language": "en"}


@pytest.fixture
def db_settings(tmp_path: Path, database_url: str) -> Settings:
    """The console may fetch from loopback test servers (and nowhere else private)."""
    return make_settings(
        tmp_path,
        database_url=database_url,
        fetch_allowlist=["127.0.0.1/32"],
        fetch_total_timeout_seconds=5,
    )


@pytest.fixture
def server() -> Iterator[LoopbackServer]:
    started = LoopbackServer().start()
    yield started
    started.stop()


def url_case(app: FastAPI, *urls: str) -> tuple[str, list[int]]:
    with app.state.reclaim.sessions() as session:
        case = make_case(session, urls=urls)
        session.commit()
        return case.number, [item.id for item in case.items]


def audit_tags(app: FastAPI) -> list[str]:
    with app.state.reclaim.sessions() as session:
        return list(session.scalars(select(AuditEvent.tag).order_by(AuditEvent.id)))


def fetch(client: TestClient, number: str, item_id: int) -> str:
    token = csrf_from(client.get(f"/console/cases/{number}").text)
    response = client.post(
        f"/console/items/{item_id}/fetch", data={"csrf_token": token}, follow_redirects=False
    )
    assert response.status_code == 303
    return str(response.headers["location"])


def only_media(app: FastAPI) -> QuarantinedMedia:
    with app.state.reclaim.sessions() as session:
        (media,) = session.scalars(select(QuarantinedMedia)).all()
        session.expunge(media)
        return media


def test_fetch_then_preview_then_reveal(
    app: FastAPI, client: TestClient, login_as: Login, server: LoopbackServer
) -> None:
    picture = synthetic_png(11, (400, 300))
    server.routes["/leak.png"] = content(picture, "image/png")
    login_as(Role.ANALYST)
    number, (item_id,) = url_case(app, server.url("/leak.png"))

    location = fetch(client, number, item_id)
    assert location == f"/console/cases/{number}?notice=fetched#item-{item_id}"
    media = only_media(app)
    page = client.get(location, headers=EN).text
    assert "Fetched for review. Nothing is shown until you ask for it." in page
    # Nothing is displayed by default: a link to the preview, no <img> at all.
    assert "<img" not in page
    assert f'data-preview-src="/console/media/{media.id}/preview"' in page

    preview = client.get(f"/console/media/{media.id}/preview")
    assert preview.status_code == 200
    assert preview.headers["content-type"] == "image/jpeg"
    assert "no-store" in preview.headers["cache-control"]
    with Image.open(io.BytesIO(preview.content)) as image:
        assert image.mode == "L" and max(image.size) <= 256

    media_page = client.get(f"/console/media/{media.id}", headers=EN).text
    assert "<img" not in media_page  # still behind a click
    assert "<img" in client.get(f"/console/media/{media.id}?preview=1").text
    token = csrf_from(media_page)
    unconfirmed = client.post(
        f"/console/media/{media.id}/reveal", data={"csrf_token": token}, headers=EN
    )
    assert unconfirmed.status_code == 400
    assert "Tick the box" in unconfirmed.text

    revealed = client.post(
        f"/console/media/{media.id}/reveal", data={"csrf_token": token, "confirm": "yes"}
    )
    assert revealed.status_code == 200
    assert revealed.content == picture
    assert revealed.headers["content-type"] == "image/png"
    assert revealed.headers["cache-control"].startswith("no-store")
    assert revealed.headers["content-disposition"] == f'inline; filename="media-{media.id}.png"'
    csp = revealed.headers["content-security-policy"]
    assert "img-src 'self'" in csp and "default-src 'none'" in csp and "script-src" not in csp
    assert revealed.headers["x-content-type-options"] == "nosniff"

    tags = audit_tags(app)
    assert tags.count(AuditTag.ITEM_FETCHED.value) == 1
    assert tags.count(AuditTag.ITEM_PREVIEWED.value) == 1
    assert tags.count(AuditTag.ITEM_REVEALED.value) == 1  # the refused attempt is not a reveal


def test_a_failed_fetch_says_why_on_the_case_page(
    app: FastAPI, client: TestClient, login_as: Login, server: LoopbackServer
) -> None:
    login_as(Role.ANALYST)
    number, (gone, private) = url_case(app, server.url("/gone.jpg"), "http://10.0.0.1/a.jpg")
    assert "notice=fetch_failed" in fetch(client, number, gone)
    assert "notice=fetch_failed" in fetch(client, number, private)
    page = client.get(f"/console/cases/{number}", headers=EN).text
    assert "The server answered with an error status." in page
    assert "Refused: the address is private, internal or not allowed." in page
    assert audit_tags(app).count(AuditTag.ITEM_FETCH_FAILED.value) == 2


def test_a_file_item_cannot_be_fetched(app: FastAPI, client: TestClient, login_as: Login) -> None:
    login_as(Role.ANALYST)
    with app.state.reclaim.sessions() as session:
        case = make_case(session, files=1)
        session.commit()
        number, item_id = case.number, case.items[0].id
    token = csrf_from(client.get(f"/console/cases/{number}").text)
    response = client.post(
        f"/console/items/{item_id}/fetch", data={"csrf_token": token}, headers=EN
    )
    assert response.status_code == 409
    assert "Only URL items can be fetched." in response.text


@pytest.mark.parametrize("role", [Role.SOCIAL_WORKER, Role.POLICE_LIAISON, Role.ADMIN])
def test_media_is_for_analysts_and_supervisors_only(
    app: FastAPI, client: TestClient, login_as: Login, server: LoopbackServer, role: Role
) -> None:
    server.routes["/x.png"] = content(synthetic_png(12), "image/png")
    login_as(Role.ANALYST)
    number, (item_id,) = url_case(app, server.url("/x.png"))
    fetch(client, number, item_id)
    media = only_media(app)
    login_as(role)
    assert client.get(f"/console/media/{media.id}").status_code == 403
    assert client.get(f"/console/media/{media.id}/preview").status_code == 403
    assert AuditTag.ITEM_PREVIEWED.value not in audit_tags(app)


def test_the_pages_keep_the_strict_csp(
    app: FastAPI, client: TestClient, login_as: Login, server: LoopbackServer
) -> None:
    server.routes["/y.png"] = content(synthetic_png(13), "image/png")
    login_as(Role.ANALYST)
    number, (item_id,) = url_case(app, server.url("/y.png"))
    fetch(client, number, item_id)
    media = only_media(app)
    for path in (f"/console/cases/{number}", f"/console/media/{media.id}", "/console/"):
        response = client.get(path)
        assert response.headers["content-security-policy"] == CONTENT_SECURITY_POLICY
        assert "<script>" not in response.text and "style=" not in response.text
    script = client.get("/static/console/review.js")
    assert script.status_code == 200 and "javascript" in script.headers["content-type"]


# --- decisions ---------------------------------------------------------------------


def decide(client: TestClient, number: str, item_id: int, classification: str, reason: str = ""):  # type: ignore[no-untyped-def]
    token = csrf_from(client.get(f"/console/cases/{number}").text)
    return client.post(
        f"/console/items/{item_id}/decisions",
        data={"csrf_token": token, "classification": classification, "reason": reason},
        headers=EN,
        follow_redirects=False,
    )


def test_a_decision_banks_unverified_until_someone_looks(
    app: FastAPI, client: TestClient, login_as: Login, server: LoopbackServer
) -> None:
    picture = synthetic_png(14)
    sha = hashlib.sha256(picture).hexdigest()
    server.routes["/z.png"] = content(picture, "image/png")
    login_as(Role.ANALYST)
    number, (item_id,) = url_case(app, server.url("/z.png"))
    fetch(client, number, item_id)
    # Before the click, the page says what deciding an unseen picture does.
    before = client.get(f"/console/cases/{number}", headers=EN).text
    assert "Nobody here has seen it: deciding it banks it as unverified." in before
    assert "banked as unverified (nobody has seen it)" in before
    missing_reason = decide(client, number, item_id, "not_actionable")
    assert missing_reason.status_code == 400
    assert "“Not actionable” needs a reason." in missing_reason.text
    assert decide(client, number, item_id, "bogus").status_code == 400

    done = decide(client, number, item_id, "self_generated_minor")
    assert done.status_code == 303
    assert "notice=decided" in done.headers["location"]
    minor = Category.SELF_GENERATED_MINOR
    with app.state.reclaim.sessions() as session:
        item = session.get(Item, item_id)
        assert item is not None and item.classification is Classification.SELF_GENERATED_MINOR
        unverified = bank_entries(session, UNVERIFIED_BANK)
        assert sha in unverified and unverified[sha].category is minor
        assert verified_entries(session, minor) == {}
    page = client.get(f"/console/cases/{number}", headers=EN).text
    assert "Intimate image of a minor (self-generated)" in page
    assert "no need to view" not in page  # an unverified entry is no reason not to look

    # Looking at the blurred preview is seeing it: the hashes become verified.
    media = only_media(app)
    assert client.get(f"/console/media/{media.id}/preview").status_code == 200
    with app.state.reclaim.sessions() as session:
        verified = verified_entries(session, minor)
        assert sha in verified and verified[sha].withdrawn_at is None
        assert verified[sha].verified_via is not None
        assert bank_entries(session, UNVERIFIED_BANK)[sha].withdrawn_at is not None
    after = client.get(f"/console/cases/{number}", headers=EN).text
    assert "Deciding it banks it as verified:" in after


def test_a_decision_covers_the_pictures_ticked(
    app: FastAPI, client: TestClient, login_as: Login, server: LoopbackServer
) -> None:
    server.routes["/thread"] = content(
        b"<!doctype html><img src='/a.png'><img src='/b.png'>", "text/html; charset=utf-8"
    )
    server.routes["/a.png"] = content(synthetic_png(21), "image/png")
    server.routes["/b.png"] = content(synthetic_png(22), "image/png")
    login_as(Role.ANALYST)
    number, (item_id,) = url_case(app, server.url("/thread"))
    fetch(client, number, item_id)
    with app.state.reclaim.sessions() as session:
        item = session.get_one(Item, item_id)
        wanted = next(m.id for m in item.media if m.url == server.url("/b.png"))
    token = csrf_from(client.get(f"/console/cases/{number}").text)
    done = client.post(
        f"/console/items/{item_id}/decisions",
        data={
            "csrf_token": token,
            "classification": "csam",
            "media_listed": "1",
            "media": [str(wanted)],
        },
        follow_redirects=False,
    )
    assert done.status_code == 303
    with app.state.reclaim.sessions() as session:
        decision = session.scalar(select(Decision))
        assert decision is not None and [m.id for m in decision.media] == [wanted]


class TestTwoAnalysts:
    @pytest.fixture
    def db_settings(self, tmp_path: Path, database_url: str) -> Settings:
        return make_settings(tmp_path, database_url=database_url, require_second_analyst=True)

    def test_a_confirmation_waits_for_a_second_analyst(
        self, app: FastAPI, client: TestClient, login_as: Login
    ) -> None:
        first = login_as(Role.ANALYST)
        number, (item_id,) = url_case(app, "https://img.example.org/a.jpg")
        assert (
            "notice=awaiting_second" in decide(client, number, item_id, "csam").headers["location"]
        )
        page = client.get(f"/console/cases/{number}", headers=EN).text
        assert "Waiting for a second analyst" in page
        assert "Agree with this decision" not in page  # not to the analyst who decided
        with app.state.reclaim.sessions() as session:
            decision = session.scalar(select(Decision))
            assert decision is not None
            decision_id = decision.id
        token = csrf_from(page)
        same = client.post(
            f"/console/decisions/{decision_id}/agree", data={"csrf_token": token}, headers=EN
        )
        assert same.status_code == 409
        assert "someone other than the analyst who decided" in same.text

        second = login_as(Role.SUPERVISOR)
        page = client.get(f"/console/cases/{number}", headers=EN).text
        assert "Agree with this decision" in page
        agreed = client.post(
            f"/console/decisions/{decision_id}/agree",
            data={"csrf_token": csrf_from(page)},
            follow_redirects=False,
        )
        assert agreed.status_code == 303
        with app.state.reclaim.sessions() as session:
            decision = session.get(Decision, decision_id)
            assert decision is not None
            assert decision.status is DecisionStatus.RECORDED
            assert (decision.analyst_id, decision.second_analyst_id) == (first.id, second.id)
        assert AuditTag.DECISION_AGREED.value in audit_tags(app)
