"""The SMTP transport against real mail servers on loopback (aiosmtpd, and a scripted one)."""

from __future__ import annotations

import email.utils
from collections.abc import Iterator

import pytest

from reclaim.delivery import (
    EmailMessage,
    PermanentDeliveryError,
    SmtpSettings,
    SmtpTransport,
    TemporaryDeliveryError,
)
from tests.delivery.conftest import NOW
from tests.support.smtp import (
    QUEUE_ID,
    LoopbackSmtp,
    PasswordCheck,
    RecordingHandler,
    ScriptedSmtp,
    SelfSigned,
    closed_port,
)

SUBJECT_ZH = "【移除通知】請於 24 小時內移除兒少性影像（案件 R-2025-000042）"
SUBJECT_EN = "Removal notice: remove within 24 hours (case R-2025-000042)"
TEXT_ZH = "您好：\n以下網址含有兒少性影像，請依法移除：\nhttps://media.example.com/a/1.jpg\n"
HTML_ZH = "<p>您好：</p><p>以下網址含有兒少性影像，請依法移除。</p>"
MESSAGE_ID = "<notice-42-a1b2c3@reclaim.invalid>"


def notice(subject: str = SUBJECT_ZH, **changes: object) -> EmailMessage:
    values: dict[str, object] = {
        "from_addr": "Reclaim 兒少性影像處理中心 <notices@reclaim.invalid>",
        "to_addrs": ("abuse@platform.example",),
        "subject": subject,
        "text_body": TEXT_ZH,
        "html_body": HTML_ZH,
        "message_id": MESSAGE_ID,
        "headers": (("X-Reclaim-Notice", "N-2025-000042"),),
        "reply_to": "hotline@reclaim.invalid",
        "language": "zh-TW",
    }
    values.update(changes)
    return EmailMessage(**values)  # type: ignore[arg-type]


def plain(port: int, **changes: object) -> SmtpSettings:
    values: dict[str, object] = {
        "host": "127.0.0.1",
        "port": port,
        "security": "none",
        "timeout": 5.0,
        "local_hostname": "reclaim.test",
    }
    values.update(changes)
    return SmtpSettings(**values)  # type: ignore[arg-type]


def transport(settings: SmtpSettings, **kwargs: object) -> SmtpTransport:
    return SmtpTransport(settings, clock=lambda: NOW, **kwargs)  # type: ignore[arg-type]


# --- what arrives -------------------------------------------------------------------


@pytest.mark.parametrize(("subject", "language"), [(SUBJECT_ZH, "zh-TW"), (SUBJECT_EN, "en")])
def test_a_notice_arrives_whole_in_either_language(
    smtp_server: LoopbackSmtp, handler: RecordingHandler, subject: str, language: str
) -> None:
    receipt = transport(plain(smtp_server.port)).send(notice(subject, language=language))

    assert receipt.transport == "smtp"
    assert receipt.response_code == 250
    assert receipt.remote_id == QUEUE_ID
    assert receipt.message_id == MESSAGE_ID
    assert receipt.accepted_at == NOW
    assert receipt.refused_recipients == ()
    [received] = handler.received
    assert received.mail_from == "notices@reclaim.invalid"
    assert received.rcpt_tos == ("abuse@platform.example",)
    # What crossed the wire is 7-bit: encoded words in headers, base64 or QP bodies.
    assert received.content.isascii()
    assert all(len(line) <= 998 for line in received.content.split(b"\r\n"))
    message = received.parsed()
    assert message["Subject"] == subject
    assert message["Message-ID"] == MESSAGE_ID
    assert email.utils.parsedate_to_datetime(message["Date"]) == NOW
    assert message["From"].addresses[0].display_name == "Reclaim 兒少性影像處理中心"
    assert message["Reply-To"] == "hotline@reclaim.invalid"
    assert message["X-Reclaim-Notice"] == "N-2025-000042"
    assert message["Auto-Submitted"] == "auto-generated"
    assert message["Content-Language"] == language
    assert message.get_content_type() == "multipart/alternative"
    parts = list(message.iter_parts())
    assert [part.get_content_type() for part in parts] == ["text/plain", "text/html"]
    assert all(part.get_content_charset() == "utf-8" for part in parts)
    assert parts[0].get_content().replace("\r\n", "\n") == TEXT_ZH
    assert HTML_ZH in parts[1].get_content()


def test_a_non_ascii_subject_is_rfc_2047_encoded_on_the_wire(
    smtp_server: LoopbackSmtp, handler: RecordingHandler
) -> None:
    transport(plain(smtp_server.port)).send(notice())
    raw_headers = handler.received[0].content.split(b"\r\n\r\n", 1)[0].decode("ascii")
    subject_lines = raw_headers.split("Subject:", 1)[1].split("\r\n")
    assert subject_lines[0].strip().startswith("=?utf-8?")


def test_every_recipient_gets_the_same_message_once(
    smtp_server: LoopbackSmtp, handler: RecordingHandler
) -> None:
    to = (
        "abuse@platform.example",
        "Trust & Safety <tns@platform.example>",
        "abuse@platform.example",
    )
    transport(plain(smtp_server.port)).send(notice(to_addrs=to))
    [received] = handler.received
    assert received.rcpt_tos == ("abuse@platform.example", "tns@platform.example")


def test_the_same_message_id_on_every_retry(
    smtp_server: LoopbackSmtp, handler: RecordingHandler
) -> None:
    sender = transport(plain(smtp_server.port))
    sender.send(notice())
    sender.send(notice())
    ids = {received.parsed()["Message-ID"] for received in handler.received}
    assert ids == {MESSAGE_ID}


def test_some_recipients_refused_is_still_a_delivery(
    smtp_server: LoopbackSmtp, handler: RecordingHandler
) -> None:
    handler.rcpt_replies["gone@platform.example"] = "550 5.1.1 no such user"
    receipt = transport(plain(smtp_server.port)).send(
        notice(to_addrs=("abuse@platform.example", "gone@platform.example"))
    )
    assert receipt.refused_recipients == ("gone@platform.example",)
    assert handler.received[0].rcpt_tos == ("abuse@platform.example",)


# --- TLS and authentication ---------------------------------------------------------


@pytest.fixture
def starttls_server(handler: RecordingHandler, certificate: SelfSigned) -> Iterator[LoopbackSmtp]:
    controller = LoopbackSmtp(
        handler,
        tls_context=certificate.server_context,
        require_starttls=True,
        authenticator=PasswordCheck("reclaim", "correct horse battery staple"),
    )
    controller.start()
    yield controller
    controller.stop()


@pytest.fixture
def implicit_tls_server(
    handler: RecordingHandler, certificate: SelfSigned
) -> Iterator[LoopbackSmtp]:
    controller = LoopbackSmtp(handler, ssl_context=certificate.server_context)
    controller.start()
    yield controller
    controller.stop()


def test_starttls_with_authentication(
    starttls_server: LoopbackSmtp, handler: RecordingHandler, certificate: SelfSigned
) -> None:
    settings = plain(
        starttls_server.port,
        security="starttls",
        username="reclaim",
        password="correct horse battery staple",
    )
    receipt = transport(settings, ssl_context=certificate.client_context).send(notice())
    assert receipt.response_code == 250
    [received] = handler.received
    assert received.tls
    assert received.authenticated_as == "reclaim"
    assert received.parsed()["Subject"] == SUBJECT_ZH


def test_a_wrong_password_is_permanent(
    starttls_server: LoopbackSmtp, handler: RecordingHandler, certificate: SelfSigned
) -> None:
    settings = plain(starttls_server.port, security="starttls", username="reclaim", password="no")
    with pytest.raises(PermanentDeliveryError) as caught:
        transport(settings, ssl_context=certificate.client_context).send(notice())
    assert caught.value.code == 535
    assert handler.received == []


def test_implicit_tls(
    implicit_tls_server: LoopbackSmtp, handler: RecordingHandler, certificate: SelfSigned
) -> None:
    settings = plain(implicit_tls_server.port, security="tls")
    transport(settings, ssl_context=certificate.client_context).send(notice())
    assert handler.received[0].tls


def test_the_default_context_does_not_trust_a_self_signed_relay(
    starttls_server: LoopbackSmtp, handler: RecordingHandler
) -> None:
    settings = plain(starttls_server.port, security="starttls")
    with pytest.raises(PermanentDeliveryError, match="certificate"):
        transport(settings).send(notice())
    assert handler.received == []


def test_implicit_tls_verifies_too(implicit_tls_server: LoopbackSmtp) -> None:
    with pytest.raises(PermanentDeliveryError, match="certificate"):
        transport(plain(implicit_tls_server.port, security="tls")).send(notice())


def test_a_relay_without_starttls_is_never_used_in_clear(
    smtp_server: LoopbackSmtp, handler: RecordingHandler, certificate: SelfSigned
) -> None:
    settings = plain(smtp_server.port, security="starttls")
    with pytest.raises(PermanentDeliveryError, match="STARTTLS"):
        transport(settings, ssl_context=certificate.client_context).send(notice())
    assert handler.received == []


def test_credentials_are_not_sent_in_clear_to_another_machine() -> None:
    with pytest.raises(ValueError, match="unencrypted"):
        SmtpSettings(host="mail.example.org", security="none", username="u", password="p")
    # A relay on this machine may take them without TLS.
    SmtpSettings(host="127.0.0.1", security="none", username="u", password="p")


# --- refusals and failures ----------------------------------------------------------


def test_451_for_the_recipient_is_temporary(
    smtp_server: LoopbackSmtp, handler: RecordingHandler
) -> None:
    handler.rcpt_replies["abuse@platform.example"] = "451 4.7.1 greylisted, try again later"
    with pytest.raises(TemporaryDeliveryError) as caught:
        transport(plain(smtp_server.port)).send(notice())
    assert caught.value.code == 451
    assert not caught.value.possibly_delivered
    assert handler.received == []


def test_550_for_every_recipient_is_permanent(
    smtp_server: LoopbackSmtp, handler: RecordingHandler
) -> None:
    handler.rcpt_replies["abuse@platform.example"] = "550 5.1.1 no such user"
    with pytest.raises(PermanentDeliveryError) as caught:
        transport(plain(smtp_server.port)).send(notice())
    assert caught.value.code == 550
    assert "abuse@platform.example" in str(caught.value)


def test_one_temporary_refusal_among_permanent_ones_is_worth_a_retry(
    smtp_server: LoopbackSmtp, handler: RecordingHandler
) -> None:
    handler.rcpt_replies["a@platform.example"] = "550 5.1.1 no such user"
    handler.rcpt_replies["b@platform.example"] = "452 4.2.2 mailbox full"
    with pytest.raises(TemporaryDeliveryError) as caught:
        transport(plain(smtp_server.port)).send(
            notice(to_addrs=("a@platform.example", "b@platform.example"))
        )
    assert caught.value.code == 452


@pytest.mark.parametrize(
    ("reply", "error"),
    [
        ("451 4.3.0 local problem, try later", TemporaryDeliveryError),
        ("554 5.7.1 message refused as spam", PermanentDeliveryError),
    ],
)
def test_the_final_reply_to_data_decides(
    smtp_server: LoopbackSmtp,
    handler: RecordingHandler,
    reply: str,
    error: type[Exception],
) -> None:
    handler.data_reply = reply
    with pytest.raises(error) as caught:
        transport(plain(smtp_server.port)).send(notice())
    assert caught.value.code == int(reply[:3])  # type: ignore[attr-defined]
    assert not caught.value.possibly_delivered  # type: ignore[attr-defined]


def test_a_closed_port_is_temporary() -> None:
    with pytest.raises(TemporaryDeliveryError, match="could not reach"):
        transport(plain(closed_port())).send(notice())


def test_a_busy_greeting_is_temporary() -> None:
    server = ScriptedSmtp("busy").start()
    try:
        with pytest.raises(TemporaryDeliveryError) as caught:
            transport(plain(server.port)).send(notice())
        assert caught.value.code == 421
    finally:
        server.stop()


def test_a_silent_server_times_out_as_temporary() -> None:
    server = ScriptedSmtp("silent").start()
    try:
        with pytest.raises(TemporaryDeliveryError) as caught:
            transport(plain(server.port, timeout=0.3)).send(notice())
        assert not caught.value.possibly_delivered
    finally:
        server.stop()


def test_a_hang_up_after_the_message_may_have_delivered_it() -> None:
    # The crash window the outbox exists for: the relay has the whole message but
    # Reclaim never hears the 250.  The retry must carry the same Message-ID.
    server = ScriptedSmtp("vanish").start()
    try:
        with pytest.raises(TemporaryDeliveryError) as caught:
            transport(plain(server.port)).send(notice())
        assert caught.value.possibly_delivered
        assert server.messages_sent == 1
    finally:
        server.stop()


# --- the commit point -----------------------------------------------------------------


def test_the_commit_point_comes_before_the_relay_has_the_message(
    smtp_server: LoopbackSmtp, handler: RecordingHandler
) -> None:
    seen_at_commit: list[int] = []
    receipt = transport(plain(smtp_server.port)).send(
        notice(), commit_point=lambda: seen_at_commit.append(len(handler.received))
    )
    assert seen_at_commit == [0]  # called once, with nothing accepted yet
    assert receipt.response_code == 250
    assert len(handler.received) == 1


def test_a_failing_commit_point_sends_nothing(
    smtp_server: LoopbackSmtp, handler: RecordingHandler
) -> None:
    class DatabaseGone(Exception):
        pass

    def commit() -> None:
        raise DatabaseGone("could not record 'committing'")

    sender = transport(plain(smtp_server.port))
    with pytest.raises(DatabaseGone):
        sender.send(notice(subject="never delivered"), commit_point=commit)
    # The relay discarded the unfinished message and is ready for the next one.
    sender.send(notice(subject="delivered"))
    assert [r.parsed()["Subject"] for r in handler.received] == ["delivered"]


def test_a_hang_up_after_the_commit_point_is_reported_as_possibly_delivered() -> None:
    server = ScriptedSmtp("vanish").start()
    commits: list[str] = []
    try:
        with pytest.raises(TemporaryDeliveryError) as caught:
            transport(plain(server.port)).send(
                notice(), commit_point=lambda: commits.append("committing")
            )
    finally:
        server.stop()
    assert commits == ["committing"]
    assert caught.value.possibly_delivered


def test_lines_starting_with_a_dot_survive(
    smtp_server: LoopbackSmtp, handler: RecordingHandler
) -> None:
    text = "Items:\n.\n..two dots\n.hidden\nend\n"
    transport(plain(smtp_server.port)).send(notice(SUBJECT_EN, text_body=text, html_body=None))
    assert handler.received[0].parsed().get_content().replace("\r\n", "\n") == text
