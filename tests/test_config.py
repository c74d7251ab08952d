import re
from pathlib import Path

import pytest
from pydantic import ValidationError

from reclaim.config import InsecureSettingsError, Settings, load_settings
from tests.support.settings import TEST_AUDIT_KEY, TEST_QUARANTINE_KEY, TEST_SIGNING_KEY

DOCS = Path(__file__).resolve().parents[1] / "docs" / "configuration.md"


def test_every_setting_is_documented() -> None:
    documented = set(re.findall(r"`(RECLAIM_[A-Z0-9_]+)`", DOCS.read_text(encoding="utf-8")))
    expected = {f"RECLAIM_{name.upper()}" for name in Settings.model_fields}
    assert expected - documented == set(), "undocumented settings"
    # The settings file variable is read by load_settings, not a field.
    assert documented - expected <= {"RECLAIM_SETTINGS_FILE"}, (
        "documented settings that do not exist"
    )


def test_default_secret_is_refused_outside_development() -> None:
    with pytest.raises(ValidationError, match="RECLAIM_SECRET_KEY"):
        load_settings(environment="production")
    with pytest.raises(ValidationError):
        load_settings(environment="test")
    assert issubclass(InsecureSettingsError, ValueError)


def test_development_mode_accepts_the_default_secret() -> None:
    assert load_settings(environment="development").is_development


def test_environment_variables_and_settings_file(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    settings_file = tmp_path / "reclaim.env"
    settings_file.write_text(
        "RECLAIM_PORT=9001\nRECLAIM_SECRET_KEY=from-the-file-Vh7q2Lx9Ke4WmT3z\n"
        f'RECLAIM_QUARANTINE_KEYS={{"k1": "{TEST_QUARANTINE_KEY}"}}\n'
        "RECLAIM_QUARANTINE_CURRENT_KEY_ID=k1\n"
        f'RECLAIM_SIGNING_KEYS={{"s1": "{TEST_SIGNING_KEY}"}}\n'
        "RECLAIM_SIGNING_CURRENT_KEY_ID=s1\n"
        f'RECLAIM_AUDIT_KEYS={{"a1": "{TEST_AUDIT_KEY}"}}\n'
        "RECLAIM_AUDIT_CURRENT_KEY_ID=a1\n"
    )
    monkeypatch.setenv("RECLAIM_SETTINGS_FILE", str(settings_file))
    monkeypatch.setenv("RECLAIM_MAX_IMAGE_PIXELS", "1234")
    settings = load_settings()
    assert settings.port == 9001
    assert settings.max_image_pixels == 1234  # environment wins over the file
    assert settings.secret_key.get_secret_value() == "from-the-file-Vh7q2Lx9Ke4WmT3z"
    assert "from-the-file" not in repr(settings)


def test_bad_values_are_refused_with_the_setting_named(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RECLAIM_PORT", "not-a-port")
    with pytest.raises(ValidationError, match="port"):
        load_settings(environment="development")


def test_unknown_setting_names_are_refused() -> None:
    with pytest.raises(ValidationError):
        load_settings(environment="development", no_such_setting=1)


def test_the_development_quarantine_key_is_refused_outside_development() -> None:
    with pytest.raises(ValidationError, match="RECLAIM_QUARANTINE_KEYS"):
        load_settings(environment="production", secret_key="Qm9-vT3x_Lr8eWk2NcYp4sHd7JfGu1Za")


def test_the_development_signing_key_is_refused_outside_development() -> None:
    with pytest.raises(ValidationError, match="RECLAIM_SIGNING_KEYS"):
        load_settings(
            environment="production",
            secret_key="Qm9-vT3x_Lr8eWk2NcYp4sHd7JfGu1Za",
            quarantine_keys={"k1": TEST_QUARANTINE_KEY},
            quarantine_current_key_id="k1",
        )


def test_the_current_signing_key_must_exist() -> None:
    with pytest.raises(ValidationError, match="RECLAIM_SIGNING_CURRENT_KEY_ID"):
        load_settings(
            environment="production",
            secret_key="Qm9-vT3x_Lr8eWk2NcYp4sHd7JfGu1Za",
            quarantine_keys={"k1": TEST_QUARANTINE_KEY},
            quarantine_current_key_id="k1",
            signing_keys={"s1": TEST_SIGNING_KEY},
            signing_current_key_id="s2",
        )


def test_the_current_quarantine_key_must_exist() -> None:
    with pytest.raises(ValidationError, match="RECLAIM_QUARANTINE_CURRENT_KEY_ID"):
        load_settings(
            environment="production",
            secret_key="Qm9-vT3x_Lr8eWk2NcYp4sHd7JfGu1Za",
            quarantine_keys={"k1": TEST_QUARANTINE_KEY},
            quarantine_current_key_id="k2",
            signing_keys={"s1": TEST_SIGNING_KEY},
            signing_current_key_id="s1",
        )


def test_the_time_zone_is_checked_and_defaults_to_taipei() -> None:
    settings = load_settings(environment="development")
    assert settings.time_zone == "Asia/Taipei" and settings.zone.key == "Asia/Taipei"
    assert load_settings(environment="development", time_zone="Europe/London").zone.key == (
        "Europe/London"
    )
    with pytest.raises(ValidationError, match="time_zone"):
        load_settings(environment="development", time_zone="UTC+8")


def _production(**overrides: object) -> Settings:
    values: dict[str, object] = {
        "environment": "production",
        "quarantine_keys": {"k1": TEST_QUARANTINE_KEY},
        "quarantine_current_key_id": "k1",
        "signing_keys": {"s1": TEST_SIGNING_KEY},
        "signing_current_key_id": "s1",
        "audit_keys": {"a1": TEST_AUDIT_KEY},
        "audit_current_key_id": "a1",
    }
    values.update(overrides)
    return load_settings(**values)


@pytest.mark.parametrize(
    ("secret", "complaint"),
    [
        ("x", "is 1 characters long"),
        ("changeme", "is 8 characters long"),
        ("a" * 64, "too few characters"),
        ("passwordpasswordpassword", "too few characters"),
        ("0123012301230123012301230123", "too few characters"),
        ("abababababababababababababababab", "too few characters"),
        ("abcdefghijklmnopqrstuvwxyz", "easy to guess"),
        ("my-secret-key-0123456789abcdef", "easy to guess"),
        ("qwertyuiop-asdfghjkl-zxcvbnm", "easy to guess"),
    ],
)
def test_production_refuses_short_or_guessable_secret_keys(secret: str, complaint: str) -> None:
    with pytest.raises(ValidationError, match=f"RECLAIM_SECRET_KEY .*{complaint}"):
        _production(secret_key=secret)


def test_generated_secret_keys_pass() -> None:
    import secrets

    for _ in range(50):
        assert _production(secret_key=secrets.token_urlsafe(32)).secret_key
        assert _production(secret_key=secrets.token_hex(16)).secret_key


def test_the_development_audit_key_and_a_missing_current_audit_key_are_refused() -> None:
    with pytest.raises(ValidationError, match="RECLAIM_AUDIT_KEYS still holds"):
        load_settings(
            environment="production",
            secret_key="Qm9-vT3x_Lr8eWk2NcYp4sHd7JfGu1Za",
            quarantine_keys={"k1": TEST_QUARANTINE_KEY},
            quarantine_current_key_id="k1",
            signing_keys={"s1": TEST_SIGNING_KEY},
            signing_current_key_id="s1",
        )
    with pytest.raises(ValidationError, match="RECLAIM_AUDIT_CURRENT_KEY_ID"):
        _production(secret_key="Qm9-vT3x_Lr8eWk2NcYp4sHd7JfGu1Za", audit_current_key_id="a2")
