"""`reclaim patrol add|list|remove|run` against a loopback platform."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from reclaim.config import load_settings
from reclaim.hashing import hash_image_bytes
from reclaim.platforms.models import Platform
from reclaim.storage.db import make_engine, make_session_factory
from reclaim.takedown.models import Notice
from tests.cli.conftest import Invoke
from tests.support.cases import bank_verified
from tests.support.http import LoopbackServer, content
from tests.support.takedown import case_with_urls
from tests.support.testdata import PDQ_IMAGES

ORIGINAL = (PDQ_IMAGES / "bridge-mods/aaa-orig.jpg").read_bytes()
REUPLOAD = (PDQ_IMAGES / "bridge-mods/blur-a-little.jpg").read_bytes()


def test_add_list_run_remove(
    reclaim: Invoke, cli_env: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("RECLAIM_FETCH_ALLOWLIST", '["127.0.0.1/32"]')
    monkeypatch.setenv("RECLAIM_PATROL_HOST_INTERVAL_SECONDS", "0")
    server = LoopbackServer().start()
    try:
        server.routes["/board"] = content(b'<html><img src="/new/a.jpg"></html>', "text/html")
        server.routes["/new/a.jpg"] = content(REUPLOAD, "image/jpeg")
        engine = make_engine(cli_env["RECLAIM_DATABASE_URL"])
        with make_session_factory(engine).begin() as session:
            platform = Platform(name="Loopboard", language="en")
            session.add(platform)
            session.flush()
            old = server.url("/board/old.jpg")
            case = case_with_urls(
                session, [old], platform=platform, pictures={old: [(old, ORIGINAL)]}
            )
            limits = load_settings().hashing_limits()
            bank_verified(session, hash_image_bytes(ORIGINAL, limits).pdq.signal)
            number = case.number

        assert reclaim("patrol", "add", "ftp://x/", "--case", number).exit_code == 2
        added = reclaim("patrol", "add", server.url("/board"), "--case", number)
        assert added.exit_code == 0, added.output
        assert number in reclaim("patrol", "list").output

        ran = reclaim("patrol", "run")
        assert ran.exit_code == 0, ran.output
        assert "1 re-uploads added, 1 notices drafted" in ran.output
        again = reclaim("patrol", "run")
        assert "0 re-uploads added, 0 notices drafted" in again.output

        with make_session_factory(engine)() as session:
            assert session.scalar(select(func.count()).select_from(Notice)) == 1
        engine.dispose()
        assert reclaim("patrol", "remove", "1").exit_code == 0
        assert number not in reclaim("patrol", "list").output
        assert reclaim("patrol", "remove", "1").exit_code == 2
    finally:
        server.stop()
