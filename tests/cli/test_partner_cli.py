"""`reclaim partner create|list|key-create|key-revoke`."""

import re

from sqlalchemy import select

from reclaim.partners.keys import authenticate
from reclaim.partners.models import ApiKey
from reclaim.storage.db import make_engine, make_session_factory
from tests.cli.conftest import Invoke

KEY = re.compile(r"^rcl_[a-z0-9]{8}_[A-Za-z0-9_-]{43}$", re.MULTILINE)


def test_create_a_partner_and_a_key_shown_once(reclaim: Invoke, cli_env: dict[str, str]) -> None:
    assert reclaim("platform", "seed").exit_code == 0
    created = reclaim("partner", "create", "Dcard T&S", "--platform", "Dcard")
    assert created.exit_code == 0, created.output
    issued = reclaim(
        "partner",
        "key-create",
        "Dcard T&S",
        "--scope",
        "hashes:read",
        "--scope",
        "match",
        "--name",
        "HMA production",
        "--expires-days",
        "90",
    )
    assert issued.exit_code == 0, issued.output
    (key,) = KEY.findall(issued.output)
    assert "not shown again" in " ".join(issued.output.split())

    listed = reclaim("partner", "list")
    assert listed.exit_code == 0
    prefix = key.split("_")[1]
    assert f"rcl_{prefix}_…" in listed.output
    assert key not in listed.output  # the secret is never shown again
    assert "active" in listed.output

    engine = make_engine(cli_env["RECLAIM_DATABASE_URL"])
    try:
        with make_session_factory(engine)() as session:
            caller = authenticate(session, key)
            assert {s.value for s in caller.scopes} == {"hashes:read", "match"}
            row = session.scalar(select(ApiKey).where(ApiKey.prefix == prefix))
            assert row is not None and row.expires_at is not None
        revoked = reclaim("partner", "key-revoke", prefix)
        assert revoked.exit_code == 0, revoked.output
        assert "revoked" in reclaim("partner", "list").output
        with make_session_factory(engine)() as session:
            row = session.scalar(select(ApiKey).where(ApiKey.prefix == prefix))
            assert row is not None and row.revoked_at is not None
    finally:
        engine.dispose()


def test_mistakes_are_explained(reclaim: Invoke) -> None:
    assert reclaim("platform", "seed").exit_code == 0
    no_platform = reclaim("partner", "create", "X", "--platform", "Nowhere")
    assert no_platform.exit_code == 1
    assert "no platform named 'Nowhere'" in " ".join(no_platform.output.split())
    assert reclaim("partner", "create", "Dcard T&S", "--platform", "Dcard").exit_code == 0
    second = reclaim("partner", "create", "Another", "--platform", "Dcard")
    assert "already has a partner identity" in " ".join(second.output.split())
    bad_scope = reclaim("partner", "key-create", "Dcard T&S", "--scope", "admin")
    assert bad_scope.exit_code == 1
    assert "unknown scope(s) admin" in " ".join(bad_scope.output.split())
    no_scope = reclaim("partner", "key-create", "Dcard T&S")
    assert "at least one scope" in " ".join(no_scope.output.split())
    unknown = reclaim("partner", "key-create", "Nobody", "--scope", "match")
    assert "no partner named 'Nobody'" in " ".join(unknown.output.split())
    assert "no key with prefix" in reclaim("partner", "key-revoke", "zzzzzzzz").output.replace(
        "\n", " "
    )
