from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from reclaim import audit
from reclaim.audit.domain import ActorKind
from reclaim.audit.models import AuditEvent
from reclaim.cases.domain import Classification, ItemKind, new_case_number
from reclaim.cases.items import assign_platforms
from reclaim.cases.models import Case, Item
from reclaim.config import Settings
from reclaim.domain.states import IllegalTransitionError
from reclaim.platforms.directory import PlatformRecord, import_records
from reclaim.takedown.domain import NoticeStatus
from reclaim.takedown.models import Delivery
from reclaim.takedown.notices import (
    NoticeError,
    NoticePolicy,
    draft_notices,
    items_without_platform,
    mark_sent,
    move,
    queue_notice,
    queue_reminders,
)
from reclaim.takedown.rendering import render_notice
from tests.support.clock import FakeClock
from tests.support.settings import make_settings

ACTOR = audit.Actor(ActorKind.USER, None)
T0 = datetime(2026, 11, 1, 9, 0, tzinfo=UTC)


@pytest.fixture
def settings(tmp_path) -> Settings:  # type: ignore[no-untyped-def]
    return make_settings(tmp_path, hotline_name="Test Hotline", hotline_email="hotline@example.org")


def _case(session: Session, urls: dict[str, Classification | None]) -> Case:
    import_records(
        session,
        [
            PlatformRecord(
                "Photo Site",
                ("photos.example",),
                abuse_email="abuse@photos.example",
                language="zh_TW",
            ),
            PlatformRecord(
                "Forum", ("forum.example",), webhook_url="https://hooks.forum.example/n"
            ),
            PlatformRecord("Silent", ("silent.example",)),
        ],
        actor=ACTOR,
    )
    case = Case(number=new_case_number(), pin_hash="x")
    session.add(case)
    session.flush()
    for url, classification in urls.items():
        session.add(
            Item(case_id=case.id, kind=ItemKind.URL, url=url, classification=classification)
        )
    session.flush()
    session.refresh(case)
    assign_platforms(session, case.items)
    session.flush()
    return case


def test_one_notice_per_platform_for_decided_items(session: Session, settings: Settings) -> None:
    case = _case(
        session,
        {
            "https://cdn.photos.example/a.jpg": Classification.SELF_GENERATED_MINOR,
            "https://photos.example/p/2": Classification.ADULT_NCII,
            "https://forum.example/t/1": Classification.CSAM,
            "https://forum.example/t/2": Classification.NOT_ACTIONABLE,
            "https://forum.example/t/3": None,
            "https://nobody.example/x.jpg": Classification.CSAM,
        },
    )
    policy = NoticePolicy.from_settings(settings)
    drafts = draft_notices(session, case, policy, actor=ACTOR)
    by_platform = {n.platform.name: [i.item.url for i in n.items] for n in drafts}
    assert by_platform == {
        "Photo Site": ["https://cdn.photos.example/a.jpg", "https://photos.example/p/2"],
        "Forum": ["https://forum.example/t/1"],
    }
    assert [i.url for i in items_without_platform(session, case, policy)] == [
        "https://nobody.example/x.jpg"
    ]
    # Drafting again adds nothing: the items are covered.
    assert draft_notices(session, case, policy, actor=ACTOR) == []


def test_queue_send_remind_expire(session: Session, settings: Settings) -> None:
    clock = FakeClock(T0)
    case = _case(
        session,
        {
            "https://photos.example/p/1": Classification.ADULT_NCII,
            "https://photos.example/p/2": Classification.CSAM,
        },
    )
    policy = NoticePolicy.from_settings(settings)
    (notice,) = draft_notices(session, case, policy, actor=ACTOR, clock=clock)
    (delivery,) = queue_notice(session, notice, actor=ACTOR, clock=clock)
    assert (delivery.channel, delivery.status) == ("email", "pending")
    assert notice.status == NoticeStatus.QUEUED

    clock.now += timedelta(minutes=1)
    mark_sent(session, notice, policy, clock=clock)
    assert notice.status == NoticeStatus.SENT
    assert notice.deadline_at == clock.now + timedelta(hours=24)  # the strictest: a minor
    assert all(i.next_check_at == clock.now + timedelta(hours=1) for i in notice.items)

    assert queue_reminders(session, policy, clock=clock) == []
    clock.now += timedelta(hours=24)
    (reminder,) = queue_reminders(session, policy, clock=clock)
    assert reminder.purpose == "reminder" and reminder.idempotency_key != delivery.idempotency_key
    clock.now += timedelta(days=30)
    assert queue_reminders(session, policy, clock=clock) == []
    assert notice.status == NoticeStatus.EXPIRED
    tags = session.scalars(select(AuditEvent.details).where(AuditEvent.target_type == "notice"))
    assert [d.get("to", d.get("status")) for d in tags] == ["draft", "queued", "sent", "expired"]


def test_illegal_moves_and_missing_contacts_are_refused(
    session: Session, settings: Settings
) -> None:
    case = _case(session, {"https://silent.example/1": Classification.CSAM})
    policy = NoticePolicy.from_settings(settings)
    (notice,) = draft_notices(session, case, policy, actor=ACTOR)
    with pytest.raises(NoticeError, match="Silent has no abuse email"):
        queue_notice(session, notice, actor=ACTOR)
    assert session.scalars(select(Delivery)).all() == []
    with pytest.raises(IllegalTransitionError):
        move(session, notice, NoticeStatus.REMOVED, actor=ACTOR)


def test_rendering_in_both_languages(session: Session, settings: Settings) -> None:
    case = _case(
        session,
        {
            "https://photos.example/p/1": Classification.SELF_GENERATED_MINOR,
            "https://forum.example/t/<b>1</b>": Classification.ADULT_NCII,
        },
    )
    policy = NoticePolicy.from_settings(settings)
    photo, forum = draft_notices(session, case, policy, actor=ACTOR)
    photo.items[0].item.posted_by = "@leaker_2026"
    zh = render_notice(session, photo, settings)
    assert "張貼帳號：@leaker_2026" in zh.text and "@leaker_2026" in zh.html
    assert zh.document["items"][0]["posted_by"] == "@leaker_2026"
    assert zh.language == "zh_TW"
    assert zh.subject.startswith(f"移除通知 {photo.reference}")
    assert "https://photos.example/p/1" in zh.text and "未成年人的私密影像" in zh.text
    assert "Child and Youth Sexual Exploitation Prevention Act" in zh.text
    assert "hotline@example.org" in zh.text
    en = render_notice(session, forum, settings, reminder=2)
    assert en.subject.endswith("(reminder 2)") and "72 h" in en.subject
    assert "&lt;b&gt;1&lt;/b&gt;" in en.html and "<b>1</b>" not in en.html
    assert "<b>1</b>" in en.text
    assert en.document["items"][0]["category"] == "adult_ncii"
    assert en.document["reference"] == forum.reference
    assert case.number not in en.text + en.html + str(en.document)  # the victim's case stays ours
