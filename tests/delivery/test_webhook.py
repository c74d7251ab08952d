"""The webhook transport against a receiver on loopback that checks what it is sent."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from reclaim.delivery import (
    PermanentDeliveryError,
    TemporaryDeliveryError,
    WebhookMessage,
    WebhookTransport,
    sign,
)
from reclaim.fetching import FetchPolicy, SafeFetcher, parse_allowlist
from tests.support.http import (
    LoopbackOnlyBackend,
    ScriptedResolver,
    TestCertificates,
    make_certificates,
)
from tests.support.smtp import closed_port
from tests.support.webhooks import SECRET, Answer, WebhookReceiver, post_raw

BODY = json.dumps(
    {"notice": "N-2025-000042", "items": ["https://media.example.com/a/1.jpg"]},
    ensure_ascii=False,
).encode()
KEY = "notice-42-attempt-7f3e"
LOOPBACK = ("127.0.0.1/32",)


@pytest.fixture
def guard() -> Iterator[LoopbackOnlyBackend]:
    backend = LoopbackOnlyBackend()
    yield backend
    assert backend.violations == [], "the webhook tried to dial a non-loopback address"


@pytest.fixture
def resolver() -> ScriptedResolver:
    return ScriptedResolver()


def make_transport(
    guard: LoopbackOnlyBackend,
    resolver: ScriptedResolver,
    *,
    allow: tuple[str, ...] = LOOPBACK,
    clock: object = None,
    allow_plain_http: bool = True,
    certificates: TestCertificates | None = None,
    timeout: float = 5.0,
) -> WebhookTransport:
    policy = FetchPolicy(
        max_bytes=64 * 1024,
        total_timeout=timeout,
        connect_timeout=min(1.0, timeout),
        read_timeout=timeout,
        max_redirects=0,
        allowlist=parse_allowlist(allow),
    )
    fetcher = SafeFetcher(
        policy,
        resolver=resolver,
        network_backend=guard,
        ssl_context=certificates.client_context if certificates else None,
    )
    return WebhookTransport(
        fetcher,
        clock=clock or (lambda: datetime.now(UTC)),  # type: ignore[arg-type]
        allow_plain_http=allow_plain_http,
    )


@pytest.fixture
def webhook(guard: LoopbackOnlyBackend, resolver: ScriptedResolver) -> WebhookTransport:
    return make_transport(guard, resolver)


def message(url: str, **changes: object) -> WebhookMessage:
    values: dict[str, object] = {
        "url": url,
        "secret": SECRET,
        "body": BODY,
        "idempotency_key": KEY,
        "event": "notice.sent",
    }
    values.update(changes)
    return WebhookMessage(**values)  # type: ignore[arg-type]


# --- delivery -----------------------------------------------------------------------


def test_a_signed_notice_is_delivered_and_verified(
    webhook: WebhookTransport, receiver: WebhookReceiver
) -> None:
    receipt = webhook.send(message(receiver.url()))

    assert receipt.transport == "webhook"
    assert receipt.response_code == 200
    assert receipt.message_id == KEY
    assert json.loads(receipt.detail) == {"received": KEY, "duplicate": False}
    [call] = receiver.calls
    assert call.status == 200
    assert call.body == BODY
    assert call.headers["Content-Type"] == "application/json"
    assert call.headers["Reclaim-Event"] == "notice.sent"
    assert call.headers["Idempotency-Key"] == KEY
    assert call.headers["Reclaim-Signature"].startswith("t=")
    assert call.headers["User-Agent"].startswith("Reclaim")
    assert receiver.acted_on == {KEY: BODY}


def test_a_retry_is_signed_afresh_and_acted_on_once(
    guard: LoopbackOnlyBackend, resolver: ScriptedResolver, receiver: WebhookReceiver
) -> None:
    # The crash window: the first call arrived but Reclaim did not record it.  The
    # retry is a new signed request (not a replay) with the same Idempotency-Key.
    now = [datetime.now(UTC)]
    webhook = make_transport(guard, resolver, clock=lambda: now[0])
    first = webhook.send(message(receiver.url()))
    now[0] += timedelta(seconds=30)
    second = webhook.send(message(receiver.url()))
    assert first.response_code == second.response_code == 200
    assert json.loads(second.detail)["duplicate"] is True
    assert len(receiver.acted_on) == 1
    signatures = {call.headers["Reclaim-Signature"] for call in receiver.calls}
    assert len(signatures) == 2


def test_https_to_a_named_host_pinned_to_its_checked_address(
    guard: LoopbackOnlyBackend, resolver: ScriptedResolver, tmp_path: Path
) -> None:
    host = "hooks.platform-test.org"
    certificates = make_certificates(host, tmp_path)
    resolver.set(host, ["127.0.0.1"])
    receiver = WebhookReceiver(tls=certificates.server_context).start()
    try:
        webhook = make_transport(guard, resolver, certificates=certificates, allow_plain_http=False)
        receipt = webhook.send(message(receiver.url(scheme="https", host=host)))
    finally:
        receiver.stop()
    assert receipt.response_code == 200
    assert resolver.calls == [host]


# --- what the receiver refuses --------------------------------------------------------


def test_a_wrong_secret_is_refused_permanently(
    webhook: WebhookTransport, receiver: WebhookReceiver
) -> None:
    with pytest.raises(PermanentDeliveryError) as caught:
        webhook.send(message(receiver.url(), secret="not-the-platforms-secret"))
    assert caught.value.code == 401
    assert receiver.acted_on == {}


def test_a_stale_timestamp_is_refused(
    guard: LoopbackOnlyBackend, resolver: ScriptedResolver, receiver: WebhookReceiver
) -> None:
    slow_clock = lambda: datetime.now(UTC) - timedelta(minutes=10)  # noqa: E731
    webhook = make_transport(guard, resolver, clock=slow_clock)
    with pytest.raises(PermanentDeliveryError) as caught:
        webhook.send(message(receiver.url()))
    assert caught.value.code == 401
    assert "old" in str(caught.value)


def test_a_tampered_body_is_refused(webhook: WebhookTransport, receiver: WebhookReceiver) -> None:
    webhook.send(message(receiver.url()))
    original = receiver.calls[0]
    tampered = original.body.replace(b"N-2025-000042", b"N-2025-000043")
    assert tampered != original.body
    assert post_raw(receiver, original.headers, tampered) == 401


def test_a_replayed_request_is_refused(
    webhook: WebhookTransport, receiver: WebhookReceiver
) -> None:
    webhook.send(message(receiver.url()))
    captured = receiver.calls[0]
    assert post_raw(receiver, captured.headers, captured.body) == 409
    assert len(receiver.acted_on) == 1


def test_a_forged_request_without_the_secret_is_refused(receiver: WebhookReceiver) -> None:
    headers = {
        "Content-Type": "application/json",
        "Reclaim-Signature": sign("guessed", BODY, int(time.time())),
    }
    assert post_raw(receiver, headers, BODY) == 401
    assert post_raw(receiver, {"Content-Type": "application/json"}, BODY) == 401


# --- how answers are sorted -----------------------------------------------------------


def test_a_server_error_is_temporary(webhook: WebhookTransport, receiver: WebhookReceiver) -> None:
    receiver.answer = Answer(500, body=b'{"error": "database down"}')
    with pytest.raises(TemporaryDeliveryError) as caught:
        webhook.send(message(receiver.url()))
    assert caught.value.code == 500
    assert caught.value.retry_after is None
    assert "database down" in str(caught.value)


def test_a_client_error_is_permanent(webhook: WebhookTransport, receiver: WebhookReceiver) -> None:
    receiver.answer = Answer(400, body=b'{"error": "unknown notice format"}')
    with pytest.raises(PermanentDeliveryError) as caught:
        webhook.send(message(receiver.url()))
    assert caught.value.code == 400


def test_429_carries_retry_after_seconds(
    webhook: WebhookTransport, receiver: WebhookReceiver
) -> None:
    receiver.answer = Answer(429, headers=(("Retry-After", "120"),))
    with pytest.raises(TemporaryDeliveryError) as caught:
        webhook.send(message(receiver.url()))
    assert caught.value.code == 429
    assert caught.value.retry_after == 120


def test_503_carries_retry_after_as_a_date(
    guard: LoopbackOnlyBackend, resolver: ScriptedResolver, receiver: WebhookReceiver
) -> None:
    now = datetime.now(UTC).replace(microsecond=0)
    webhook = make_transport(guard, resolver, clock=lambda: now)
    later = (now + timedelta(minutes=30)).strftime("%a, %d %b %Y %H:%M:%S GMT")
    receiver.answer = Answer(503, headers=(("Retry-After", later),))
    with pytest.raises(TemporaryDeliveryError) as caught:
        webhook.send(message(receiver.url()))
    assert caught.value.retry_after == 1800


def test_a_redirect_is_not_followed(webhook: WebhookTransport, receiver: WebhookReceiver) -> None:
    receiver.answer = Answer(307, headers=(("Location", receiver.url("/elsewhere")),))
    with pytest.raises(PermanentDeliveryError, match="redirect") as caught:
        webhook.send(message(receiver.url()))
    assert caught.value.code == 307
    assert [call.path for call in receiver.calls] == ["/hooks/reclaim"]


def test_a_receiver_too_slow_to_answer_is_temporary(
    guard: LoopbackOnlyBackend, resolver: ScriptedResolver, receiver: WebhookReceiver
) -> None:
    receiver.delay = 1.5
    webhook = make_transport(guard, resolver, timeout=0.4)
    with pytest.raises(TemporaryDeliveryError) as caught:
        webhook.send(message(receiver.url()))
    assert caught.value.possibly_delivered


def test_a_closed_port_is_temporary(webhook: WebhookTransport) -> None:
    with pytest.raises(TemporaryDeliveryError) as caught:
        webhook.send(message(f"http://127.0.0.1:{closed_port()}/hooks"))
    assert not caught.value.possibly_delivered


# --- where webhooks may go ----------------------------------------------------------


def test_a_private_destination_is_refused_unless_allow_listed(
    guard: LoopbackOnlyBackend, resolver: ScriptedResolver, receiver: WebhookReceiver
) -> None:
    webhook = make_transport(guard, resolver, allow=())
    with pytest.raises(PermanentDeliveryError, match="loopback"):
        webhook.send(message(receiver.url()))
    assert receiver.calls == []
    assert guard.attempts == []


def test_a_name_resolving_to_a_private_address_is_refused(
    webhook: WebhookTransport, resolver: ScriptedResolver
) -> None:
    resolver.set("hooks.platform.example", ["10.1.2.3"])
    with pytest.raises(PermanentDeliveryError, match="private"):
        webhook.send(message("http://hooks.platform.example/reclaim"))


def test_an_allow_list_on_another_port_does_not_admit_this_one(
    guard: LoopbackOnlyBackend, resolver: ScriptedResolver, receiver: WebhookReceiver
) -> None:
    other = receiver.port + 1 if receiver.port < 65535 else receiver.port - 1
    webhook = make_transport(guard, resolver, allow=(f"127.0.0.1/32:{other}",))
    with pytest.raises(PermanentDeliveryError, match="port"):
        webhook.send(message(receiver.url()))
    assert receiver.calls == []


def test_plain_http_is_refused_unless_allowed(
    guard: LoopbackOnlyBackend, resolver: ScriptedResolver, receiver: WebhookReceiver
) -> None:
    webhook = make_transport(guard, resolver, allow_plain_http=False)
    with pytest.raises(PermanentDeliveryError, match="https"):
        webhook.send(message(receiver.url()))
    assert receiver.calls == []


@pytest.mark.parametrize(
    "url", ["ftp://hooks.example/x", "http://0x7f000001/x", "https://user:pw@hooks.example/"]
)
def test_unusable_urls_are_permanent(webhook: WebhookTransport, url: str) -> None:
    with pytest.raises(PermanentDeliveryError):
        webhook.send(message(url))
