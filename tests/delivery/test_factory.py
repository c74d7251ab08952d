"""Transports built from Settings: the setting names map where they should."""

from __future__ import annotations

import ipaddress
from pathlib import Path

import pytest

from reclaim.delivery import PermanentDeliveryError, WebhookMessage
from reclaim.delivery.factory import (
    retry_policy,
    smtp_settings,
    smtp_transport,
    webhook_fetch_policy,
    webhook_transport,
)
from tests.support.settings import TEST_QUARANTINE_KEY, make_settings


def test_smtp_settings_come_from_the_delivery_settings(tmp_path: Path) -> None:
    settings = make_settings(
        tmp_path,
        smtp_host="mail.hotline.example",
        smtp_port=587,
        smtp_security="starttls",
        smtp_username="reclaim",
        smtp_password="app-password",
        smtp_timeout_seconds=12,
        smtp_local_hostname="reclaim.hotline.example",
    )
    smtp = smtp_settings(settings)
    assert (smtp.host, smtp.port, smtp.security) == ("mail.hotline.example", 587, "starttls")
    assert (smtp.username, smtp.password) == ("reclaim", "app-password")
    assert smtp.timeout == 12
    assert smtp.local_hostname == "reclaim.hotline.example"
    assert "app-password" not in repr(smtp)
    assert smtp_transport(settings).settings == smtp


def test_the_defaults_are_safe(tmp_path: Path) -> None:
    smtp = smtp_settings(make_settings(tmp_path))
    assert smtp.security == "starttls"
    assert (smtp.username, smtp.password) == (None, None)


def test_webhooks_share_the_fetch_allow_list_but_not_its_redirects(tmp_path: Path) -> None:
    settings = make_settings(
        tmp_path,
        fetch_allowlist=["127.0.0.1/32:8443"],
        fetch_allowed_ports=[443, 8443],
        webhook_timeout_seconds=7,
    )
    policy = webhook_fetch_policy(settings)
    assert [str(rule) for rule in policy.allowlist] == ["127.0.0.1/32:8443"]
    assert policy.allowed_ports == frozenset({443, 8443})
    assert policy.max_redirects == 0
    assert policy.total_timeout == 7
    assert policy.connect_timeout <= 7
    assert policy.allowlist[0].permits(ipaddress.ip_address("127.0.0.1"), 8443)


def test_the_retry_policy_comes_from_settings(tmp_path: Path) -> None:
    policy = retry_policy(
        make_settings(
            tmp_path,
            delivery_retry_base_seconds=30,
            delivery_retry_cap_seconds=3600,
            delivery_max_attempts=4,
        )
    )
    assert (policy.base_seconds, policy.cap_seconds, policy.max_attempts) == (30, 3600, 4)


def test_production_webhooks_must_be_https(tmp_path: Path) -> None:
    settings = make_settings(
        tmp_path,
        environment="production",
        secret_key="Qm9-vT3x_Lr8eWk2NcYp4sHd7JfGu1Za",
        quarantine_keys={"k1": TEST_QUARANTINE_KEY},
        quarantine_current_key_id="k1",
    )
    hook = WebhookMessage("http://hooks.platform.example/", "s3cret", b"{}", "k-1", "notice.sent")
    with pytest.raises(PermanentDeliveryError, match="https"):
        webhook_transport(settings).send(hook)
