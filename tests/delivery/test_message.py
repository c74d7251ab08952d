"""Messages: what is checked when they are built, and the MIME they turn into."""

from __future__ import annotations

import email
import email.policy
import re
from datetime import UTC, datetime, timedelta, timezone

import pytest
from hypothesis import given
from hypothesis import strategies as st

from reclaim.delivery import (
    EmailMessage,
    WebhookMessage,
    build_mime,
    make_message_id,
    message_id_domain,
)

NOW = datetime(2025, 3, 14, 9, 26, 53, tzinfo=UTC)
MESSAGE_ID = "<notice-42-a1@reclaim.invalid>"


def mail(**changes: object) -> EmailMessage:
    values: dict[str, object] = {
        "from_addr": "Reclaim <notices@reclaim.invalid>",
        "to_addrs": ("abuse@platform.example",),
        "subject": "Removal notice",
        "text_body": "Please remove https://media.example.com/a.jpg\n",
        "html_body": None,
        "message_id": MESSAGE_ID,
    }
    values.update(changes)
    return EmailMessage(**values)  # type: ignore[arg-type]


def reparsed(message: EmailMessage, date: datetime = NOW) -> email.message.EmailMessage:
    raw = build_mime(message, date=date).as_bytes()
    parsed = email.message_from_bytes(raw, policy=email.policy.default)
    assert isinstance(parsed, email.message.EmailMessage)
    return parsed


# --- MIME ---------------------------------------------------------------------------


def test_a_text_only_message_is_a_single_part() -> None:
    parsed = reparsed(mail())
    assert parsed.get_content_type() == "text/plain"
    assert parsed.get_content_charset() == "utf-8"
    assert parsed["MIME-Version"] == "1.0"
    assert parsed.get_content().replace("\r\n", "\n") == mail().text_body


def test_alternative_parts_carry_no_headers_of_their_own_beyond_content() -> None:
    parsed = reparsed(mail(html_body="<p>移除</p>", language="zh-TW"))
    assert parsed["Content-Language"] == "zh-TW"
    for part in parsed.iter_parts():
        assert {name.lower() for name in part} <= {"content-type", "content-transfer-encoding"}


def test_the_date_is_the_callers_clock_in_its_own_zone() -> None:
    taipei = NOW.astimezone(timezone(timedelta(hours=8)))
    parsed = reparsed(mail(), date=taipei)
    assert "+0800" in parsed["Date"]
    assert parsed["Date"].datetime == NOW


def test_a_naive_date_is_refused() -> None:
    with pytest.raises(ValueError, match="timezone"):
        build_mime(mail(), date=datetime(2025, 1, 1))  # noqa: DTZ001 - naive on purpose


def test_a_reminder_threads_under_the_first_notice() -> None:
    first, second = "<notice-42-a1@reclaim.invalid>", "<notice-42-a2@reclaim.invalid>"
    parsed = reparsed(mail(message_id="<notice-42-a3@reclaim.invalid>", references=(first, second)))
    assert parsed["In-Reply-To"] == second
    assert parsed["References"].split() == [first, second]


_PRINTABLE = st.characters(blacklist_categories=("Cc", "Cs", "Zl", "Zp"))


@given(subject=st.text(_PRINTABLE, min_size=1, max_size=300))
def test_any_subject_survives_the_trip(subject: str) -> None:
    raw = build_mime(mail(subject=subject), date=NOW).as_bytes()
    assert raw.isascii()
    parsed = email.message_from_bytes(raw, policy=email.policy.default)
    # Headers unfold whitespace runs; what a reader sees is the same words.
    assert " ".join(str(parsed["Subject"]).split()) == " ".join(subject.split())


# --- checks at construction ---------------------------------------------------------


@pytest.mark.parametrize(
    "changes",
    [
        {"subject": "Notice\r\nBcc: everyone@example.com"},
        {"subject": "Notice\u2028Bcc: everyone@example.com"},
        {"subject": "Notice\x0cBcc: everyone@example.com"},
        {"to_addrs": ()},
        {"to_addrs": ("a@example.com, b@example.com",)},
        {"to_addrs": ("not an address",)},
        {"to_addrs": ("用戶@例子.台灣",)},
        {"from_addr": "notices@reclaim.invalid\nX-Evil: 1"},
        {"reply_to": "two@example.com, three@example.com"},
        {"message_id": "notice-42@reclaim.invalid"},
        {"message_id": "<notice 42@reclaim.invalid>"},
        {"message_id": "<notice@42@reclaim.invalid>"},
        {"references": ("no-brackets@example.com",)},
        {"headers": (("Bcc", "everyone@example.com"),)},
        {"headers": (("Message-ID", "<other@example.com>"),)},
        {"headers": (("X-Reclaim-Notice", "N-1\r\nX-Evil: 1"),)},
        {"headers": (("Bad Name", "x"),)},
        {"language": "zh_TW; evil"},
    ],
)
def test_malformed_emails_are_refused(changes: dict[str, object]) -> None:
    with pytest.raises(ValueError):  # noqa: PT011 - each case has its own message
        mail(**changes)


def test_envelope_addresses_are_bare_and_unique() -> None:
    message = mail(
        from_addr="Reclaim 通報 <notices@reclaim.invalid>",
        to_addrs=("A <a@example.com>", "a@example.com", "b@example.com"),
    )
    assert message.envelope_from == "notices@reclaim.invalid"
    assert message.envelope_to == ("a@example.com", "b@example.com")


@pytest.mark.parametrize(
    "changes",
    [
        {"secret": ""},
        {"event": "Notice Sent"},
        {"idempotency_key": "has space"},
        {"idempotency_key": "line\nbreak"},
        {"body": b"not json"},
        {"body": b"\xff\xfe"},
    ],
)
def test_malformed_webhooks_are_refused(changes: dict[str, object]) -> None:
    values: dict[str, object] = {
        "url": "https://hooks.platform.example/reclaim",
        "secret": "s3cret",
        "body": b'{"notice": "N-1"}',
        "idempotency_key": "notice-1-a1",
        "event": "notice.sent",
    }
    values.update(changes)
    with pytest.raises(ValueError):  # noqa: PT011
        WebhookMessage(**values)  # type: ignore[arg-type]


def test_the_secret_stays_out_of_logs() -> None:
    hook = WebhookMessage("https://h.example/", "s3cret-value", b"{}", "k-1", "notice.sent")
    assert "s3cret-value" not in repr(hook)


# --- Message-IDs --------------------------------------------------------------------


def test_a_message_id_from_an_outbox_key() -> None:
    assert make_message_id("notice-42-a1", "Reclaim.Host") == "<notice-42-a1@reclaim.host>"
    assert make_message_id("n/42 .ü", "reclaim.host") == "<n=2F42=20=2E=C3=BC@reclaim.host>"


def test_the_domain_comes_from_the_sender() -> None:
    assert message_id_domain("Reclaim <notices@Hotline.Example>") == "hotline.example"


@pytest.mark.parametrize(("key", "domain"), [("", "reclaim.host"), ("k", "bad domain"), ("k", "")])
def test_message_id_inputs_are_checked(key: str, domain: str) -> None:
    with pytest.raises(ValueError):  # noqa: PT011
        make_message_id(key, domain)


@given(a=st.text(min_size=1, max_size=40), b=st.text(min_size=1, max_size=40))
def test_message_ids_are_valid_and_one_to_one(a: str, b: str) -> None:
    first, second = make_message_id(a, "reclaim.host"), make_message_id(b, "reclaim.host")
    assert re.fullmatch(r"<[A-Za-z0-9_=-]+@reclaim\.host>", first)
    assert (first == second) == (a == b)
    mail(message_id=first)  # accepted by the message's own check
