"""Transports built from :class:`~reclaim.config.Settings`, for the entry points.

The transports themselves take plain values (:class:`SmtpSettings`, a
:class:`SafeFetcher`, a :class:`RetryPolicy`) so tests and services never need a
Settings object; these adapters are the one place that knows the setting names.
Settings is only named in type annotations, so importing the delivery package does
not import the configuration machinery.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from reclaim.delivery.smtp import SmtpSettings, SmtpTransport
from reclaim.delivery.transport import RetryPolicy
from reclaim.delivery.webhook import WebhookTransport
from reclaim.domain.clock import Clock, system_clock
from reclaim.fetching import FetchPolicy, SafeFetcher

if TYPE_CHECKING:
    from reclaim.config import Settings

#: What a receiver may say back; kept for the attempt log, the rest is not read.
WEBHOOK_RESPONSE_BYTES = 64 * 1024
WEBHOOK_USER_AGENT = "Reclaim-Webhooks/0.1 (child-protection hotline; removal notices)"


def smtp_settings(settings: Settings) -> SmtpSettings:
    password = settings.smtp_password
    return SmtpSettings(
        host=settings.smtp_host,
        port=settings.smtp_port,
        security=settings.smtp_security,
        username=settings.smtp_username,
        password=password.get_secret_value() if password is not None else None,
        timeout=settings.smtp_timeout_seconds,
        local_hostname=settings.smtp_local_hostname,
    )


def smtp_transport(settings: Settings, *, clock: Clock = system_clock) -> SmtpTransport:
    return SmtpTransport(smtp_settings(settings), clock=clock)


def webhook_fetch_policy(settings: Settings) -> FetchPolicy:
    """The fetcher's rules for webhooks: the fetch allow-list and ports, webhook timing.

    Webhooks obey ``RECLAIM_FETCH_ALLOWLIST`` and ``RECLAIM_FETCH_ALLOWED_PORTS``
    like every other outbound request (see :meth:`FetchPolicy.allowing`).
    """
    timeout = settings.webhook_timeout_seconds
    return FetchPolicy(
        max_bytes=WEBHOOK_RESPONSE_BYTES,
        total_timeout=timeout,
        connect_timeout=min(timeout, settings.fetch_connect_timeout_seconds),
        read_timeout=timeout,
        max_redirects=0,
        user_agent=WEBHOOK_USER_AGENT,
    ).allowing(settings.fetch_allowlist, settings.fetch_allowed_ports)


def webhook_transport(settings: Settings, *, clock: Clock = system_clock) -> WebhookTransport:
    """Plain http is allowed outside production only (a receiver on a test machine)."""
    return WebhookTransport(
        SafeFetcher(webhook_fetch_policy(settings)),
        clock=clock,
        allow_plain_http=settings.environment != "production",
    )


def retry_policy(settings: Settings) -> RetryPolicy:
    return RetryPolicy(
        base_seconds=settings.delivery_retry_base_seconds,
        cap_seconds=settings.delivery_retry_cap_seconds,
        max_attempts=settings.delivery_max_attempts,
    )
