from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from huey import MemoryHuey, SqliteHuey

from reclaim.web.app import create_app
from reclaim.web.security import CONTENT_SECURITY_POLICY
from tests.support.settings import make_settings


def test_health_reports_database_and_queue(client: TestClient) -> None:
    response = client.get("/healthz")
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "ok"
    assert body["database"] == {"ok": True}
    assert body["queue"]["ok"] is True


def test_health_is_degraded_when_the_database_is_unreachable(tmp_path: Path) -> None:
    missing = tmp_path / "no-such-dir" / "nested" / "db.sqlite3"
    settings = make_settings(tmp_path, database_url=f"sqlite:///{missing}")
    app = create_app(settings, huey=MemoryHuey("t"))
    missing.parent.rmdir()  # make_engine created it; take it away again
    with TestClient(app) as client:
        response = client.get("/healthz")
    assert response.status_code == 503
    assert response.json()["database"]["ok"] is False


def test_health_reports_the_sqlite_queue(tmp_path: Path) -> None:
    settings = make_settings(tmp_path)
    huey = SqliteHuey("t", filename=str(tmp_path / "q.sqlite3"))
    with TestClient(create_app(settings, huey=huey)) as client:
        queue = client.get("/healthz").json()["queue"]
    assert queue == {"ok": True, "backend": "sqlite", "pending": 0}


@pytest.mark.parametrize("path", ["/", "/healthz", "/static/css/app.css", "/no-such-page"])
def test_security_headers_on_every_response(client: TestClient, path: str) -> None:
    response = client.get(path)
    assert response.headers["content-security-policy"] == CONTENT_SECURITY_POLICY
    assert response.headers["x-content-type-options"] == "nosniff"
    assert response.headers["referrer-policy"] == "no-referrer"
    assert response.headers["x-frame-options"] == "DENY"


def test_the_csp_allows_no_inline_code_and_no_other_origin() -> None:
    assert "unsafe-inline" not in CONTENT_SECURITY_POLICY
    assert "unsafe-eval" not in CONTENT_SECURITY_POLICY
    assert "http" not in CONTENT_SECURITY_POLICY
    assert "default-src 'none'" in CONTENT_SECURITY_POLICY


def test_pages_have_no_inline_scripts_or_styles(client: TestClient) -> None:
    html = client.get("/").text
    assert "<script>" not in html
    assert "style=" not in html
    assert "<style" not in html


def test_traditional_chinese_is_the_default(client: TestClient) -> None:
    response = client.get("/")
    assert 'lang="zh-Hant-TW"' in response.text
    assert "協助" in response.text


def test_the_browser_language_is_honoured(client: TestClient) -> None:
    response = client.get("/", headers={"accept-language": "en-GB,en;q=0.9"})
    assert 'lang="en"' in response.text
    assert "Reclaim helps get sexual images" in response.text


def test_the_language_switch_remembers_the_choice(client: TestClient) -> None:
    response = client.get("/language/en?next=/", follow_redirects=False)
    assert response.status_code == 303
    assert response.headers["location"] == "/"
    assert 'lang="en"' in client.get("/").text


@pytest.mark.parametrize("target", ["//evil.example/", "https://evil.example/", "javascript:x"])
def test_the_language_switch_is_not_an_open_redirect(client: TestClient, target: str) -> None:
    response = client.get("/language/en", params={"next": target}, follow_redirects=False)
    assert response.headers["location"] == "/"


def test_the_match_engine_is_saved_at_shutdown_and_reloaded(tmp_path: Path) -> None:
    from reclaim.banks.banking import NewEntry, add_signals, get_bank
    from reclaim.banks.domain import EntrySource
    from reclaim.domain.signals import Signal
    from reclaim.migrations import upgrade
    from reclaim.storage.db import make_engine

    settings = make_settings(tmp_path)
    database = make_engine(settings.database_url)
    upgrade(database)
    value = "ab" * 32
    app = create_app(settings, huey=MemoryHuey("t"))
    with TestClient(app):
        state = app.state.reclaim
        with state.sessions.begin() as session:
            bank = get_bank(session, "unverified")
            add_signals(
                session,
                bank,
                [NewEntry(Signal.parse("pdq", value))],
                source=EntrySource.IMPORT,
                source_ref=None,
                min_pdq_quality=50,
            )
        with state.sessions() as session:
            assert len(state.match_engine().match(session, [Signal.parse("pdq", value)])) == 1
    assert (settings.index_dir / "meta.json").exists()
    again = create_app(settings, huey=MemoryHuey("t"))
    with TestClient(again):
        engine = again.state.reclaim.match_engine()
        assert engine.position == 1 and len(engine) == 1
    database.dispose()
