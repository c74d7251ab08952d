"""`reclaim demo`: demo staff can log in on a development machine (password + TOTP)."""

from __future__ import annotations

import re

import pyotp
import pytest
from sqlalchemy import select

from reclaim.accounts import totp, users
from reclaim.accounts.models import User
from reclaim.config import load_settings
from reclaim.demo.seed import DEMO_PASSWORD, DEMO_STAFF
from reclaim.platforms.models import Platform
from reclaim.security.field_crypto import field_cipher
from reclaim.security.secret_hashes import verify_secret
from reclaim.storage.db import make_engine, make_session_factory
from tests.cli.conftest import Invoke


@pytest.fixture
def development(cli_env: dict[str, str], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RECLAIM_ENVIRONMENT", "development")


def printed_secrets(output: str) -> dict[str, str]:
    return dict(re.findall(r"(\S+@demo\.reclaim\.test)\n\s+TOTP ([A-Z2-7]{32})\n", output))


def test_demo_staff_are_enrolled_with_the_printed_secrets(
    reclaim: Invoke, development: None, cli_env: dict[str, str]
) -> None:
    result = reclaim("demo")
    assert result.exit_code == 0, result.output
    shown = printed_secrets(result.output)
    assert set(shown) == {email for email, _, _ in DEMO_STAFF}
    assert DEMO_PASSWORD in result.output

    again = printed_secrets(reclaim("demo").output)
    assert again == shown  # fixed per account: a developer's authenticator keeps working

    cipher = field_cipher(load_settings())
    engine = make_engine(cli_env["RECLAIM_DATABASE_URL"])
    with make_session_factory(engine)() as session:
        for user in session.scalars(select(User)):
            assert users.is_enrolled(user)
            assert user.password_hash and verify_secret(user.password_hash, DEMO_PASSWORD)
            secret = totp.unseal(cipher, user.totp_secret or "")
            assert secret == shown[user.email]
            assert pyotp.TOTP(secret).now().isdigit()
        # The platform directory is seeded once, so notices can be tried at once.
        assert len(session.scalars(select(Platform)).all()) >= 30
    engine.dispose()


def test_demo_refuses_outside_development(reclaim: Invoke) -> None:
    assert reclaim("demo").exit_code == 1
