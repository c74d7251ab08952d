"""Drafting notices from decided pages (one per platform, one per page whatever the
number of cases, held on conflicting decisions), sending, reminders, expiry, account
notices for offenders' profiles, and rendering in the platform's language."""

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from reclaim import audit
from reclaim.audit.domain import ActorKind, AuditTag
from reclaim.audit.models import AuditEvent
from reclaim.cases.domain import CaseStatus, Classification
from reclaim.cases.items import assign_platforms
from reclaim.cases.models import Case
from reclaim.config import Settings
from reclaim.domain.states import IllegalTransitionError
from reclaim.platforms.directory import PlatformRecord, import_records
from reclaim.platforms.models import Platform
from reclaim.takedown.domain import NoticeKind, NoticeStatus, PageOutcome
from reclaim.takedown.models import Delivery, Notice
from reclaim.takedown.notices import (
    NoticeError,
    NoticePolicy,
    draft_account_notice,
    draft_notices,
    mark_sent,
    move,
    notices_of_case,
    queue_notice,
    queue_reminders,
)
from reclaim.takedown.pending import (
    account_items,
    held_pages,
    items_without_platform,
    pending_pages,
)
from reclaim.takedown.rendering import render_notice
from tests.support.cases import make_case
from tests.support.clock import FakeClock
from tests.support.settings import make_settings
from tests.support.takedown import decide, picture

ACTOR = audit.Actor(ActorKind.USER, None)
T0 = datetime(2026, 11, 1, 9, 0, tzinfo=UTC)
PICTURES = {
    "https://photos.example/p/2": [
        ("https://img.photos.example/2a.jpg", "first picture"),
        ("https://img.photos.example/2b.jpg", "second picture"),
    ]
}


@pytest.fixture
def settings(tmp_path) -> Settings:  # type: ignore[no-untyped-def]
    return make_settings(tmp_path, hotline_name="Test Hotline", hotline_email="hotline@example.org")


@pytest.fixture
def policy(settings: Settings) -> NoticePolicy:
    return NoticePolicy.from_settings(settings)


def _platforms(session: Session) -> None:
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


def _case(
    session: Session,
    urls: dict[str, Classification | None],
    pictures: dict[str, list[tuple[str, str]]] | None = None,
    clock: FakeClock | None = None,
) -> Case:
    """A case reporting ``urls``, their pages showing ``pictures``, each decided as given
    (through the decision service, covering every picture on the page)."""
    if session.scalar(select(Platform.id).limit(1)) is None:
        _platforms(session)
    case = make_case(session, urls=list(urls))
    assign_platforms(session, case.items)
    for item in case.items:
        for url, content in (pictures or {}).get(item.url or "", []):
            picture(session, item, url, content)
    for item in case.items:
        classification = urls[item.url or ""]
        if classification is not None:
            decide(session, item, classification, clock=clock or (lambda: T0))
    session.flush()
    session.refresh(case)
    return case


def _media(notice: Notice) -> dict[str, list[str | None]]:
    return {np.page.url: [nm.media.url for nm in np.media] for np in notice.pages}


def test_one_notice_per_platform_names_every_decided_picture(
    session: Session, policy: NoticePolicy
) -> None:
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
        PICTURES,
    )
    drafts = draft_notices(session, case, policy, actor=ACTOR)
    by_platform = {n.platform.name: [p.page.url for p in n.pages] for n in drafts}
    assert by_platform == {
        "Photo Site": ["https://cdn.photos.example/a.jpg", "https://photos.example/p/2"],
        "Forum": ["https://forum.example/t/1"],
    }
    assert all(n.kind is NoticeKind.CONTENT and n.status is NoticeStatus.DRAFT for n in drafts)
    # Both pictures the page showed are named, not only the last one fetched.
    assert _media(drafts[0])["https://photos.example/p/2"] == [
        "https://img.photos.example/2a.jpg",
        "https://img.photos.example/2b.jpg",
    ]
    assert {np.classification for np in drafts[0].pages} == {
        Classification.SELF_GENERATED_MINOR,
        Classification.ADULT_NCII,
    }
    assert [i.url for i in items_without_platform(case)] == ["https://nobody.example/x.jpg"]
    # Drafting again adds nothing: the pages are covered.
    assert draft_notices(session, case, policy, actor=ACTOR) == []
    assert [p.page.url for p in pending_pages(session, case)] == [
        "https://nobody.example/x.jpg"  # waiting for an analyst to name its platform
    ]
    assert notices_of_case(session, case) == drafts


def test_a_page_reported_in_two_cases_is_noticed_once(
    session: Session, policy: NoticePolicy
) -> None:
    clock = FakeClock(T0)
    first = _case(session, {"https://photos.example/p/7": Classification.SELF_GENERATED_MINOR})
    (item,) = first.items
    one = picture(session, item, "https://img.photos.example/7a.jpg", "seven a")
    # The first case decided before the second picture was found; the second case
    # (the same page, written with a fragment) decided only the second picture.
    second = make_case(session, urls=["https://photos.example/p/7#comment-3"])
    (other,) = second.items
    assert other.page_id == item.page_id
    two = picture(session, other, "https://img.photos.example/7b.jpg", "seven b")
    decide(session, item, Classification.SELF_GENERATED_MINOR, media=[one], clock=clock)
    decide(session, other, Classification.CSAM, media=[two], clock=clock)

    (notice,) = draft_notices(session, second, policy, actor=ACTOR, clock=clock)
    (page,) = notice.pages
    assert page.classification is Classification.CSAM  # the strictest of the two cases
    assert sorted(nm.media_id for nm in page.media) == sorted([one.id, two.id])
    assert draft_notices(session, first, policy, actor=ACTOR, clock=clock) == []
    assert notices_of_case(session, first) == notices_of_case(session, second) == [notice]
    drafted = session.scalars(
        select(AuditEvent.details).where(
            AuditEvent.tag == AuditTag.NOTICE_CHANGED.value, AuditEvent.target_id == notice.id
        )
    ).one()
    assert drafted["cases"] == sorted([first.number, second.number])
    assert (drafted["pages"], drafted["media"]) == (1, 2)

    queue_notice(session, notice, actor=ACTOR, clock=clock)
    mark_sent(session, notice, policy, clock=clock)
    assert notice.deadline_at == T0 + timedelta(hours=24)
    # Sending moved both cases on: they now wait for the platform.
    assert [c.status for c in (first, second)] == [CaseStatus.AWAITING_REMOVAL] * 2


def test_conflicting_decisions_hold_the_page_until_a_supervisor_settles_it(
    session: Session, policy: NoticePolicy
) -> None:
    adult = _case(session, {"https://photos.example/p/9": Classification.ADULT_NCII})
    minor = _case(session, {"https://photos.example/p/9": Classification.CSAM})
    for case in (adult, minor):
        assert draft_notices(session, case, policy, actor=ACTOR) == []
        (held,) = held_pages(session, case)
        assert held.page.url == "https://photos.example/p/9"
        assert held.cases == {adult.number, minor.number}
        assert sorted(held.classifications) == [Classification.ADULT_NCII, Classification.CSAM]
    assert session.scalars(select(Notice)).all() == []

    # A supervisor decides the adult case's item again: one notice, the minor's deadline.
    decide(session, adult.items[0], Classification.CSAM)
    assert held_pages(session, adult) == []
    (notice,) = draft_notices(session, adult, policy, actor=ACTOR)
    assert [p.classification for p in notice.pages] == [Classification.CSAM]


def test_queue_send_remind_expire(session: Session, policy: NoticePolicy) -> None:
    clock = FakeClock(T0)
    case = _case(
        session,
        {
            "https://photos.example/p/1": Classification.ADULT_NCII,
            "https://photos.example/p/2": Classification.CSAM,
        },
        PICTURES,
    )
    assert case.status is CaseStatus.ACTIONED  # every item decided, notices to go
    (notice,) = draft_notices(session, case, policy, actor=ACTOR, clock=clock)
    (delivery,) = queue_notice(session, notice, actor=ACTOR, clock=clock)
    assert (delivery.channel, delivery.status) == ("email", "pending")
    assert notice.status == NoticeStatus.QUEUED
    assert case.status is CaseStatus.ACTIONED  # nothing reached the platform yet

    clock.now += timedelta(minutes=1)
    mark_sent(session, notice, policy, clock=clock)
    assert notice.status == NoticeStatus.SENT
    assert notice.deadline_at == clock.now + timedelta(hours=24)  # the strictest: a minor
    assert all(p.next_check_at == clock.now + timedelta(hours=1) for p in notice.pages)
    assert all(p.outcome is PageOutcome.PENDING for p in notice.pages)
    assert case.status is CaseStatus.AWAITING_REMOVAL

    assert queue_reminders(session, policy, clock=clock) == []
    clock.now += timedelta(hours=24)
    (reminder,) = queue_reminders(session, policy, clock=clock)
    assert reminder.purpose == "reminder" and reminder.idempotency_key != delivery.idempotency_key
    clock.now += timedelta(days=30)
    assert queue_reminders(session, policy, clock=clock) == []
    assert notice.status == NoticeStatus.EXPIRED
    tags = session.scalars(
        select(AuditEvent.details).where(AuditEvent.target_type == "notice").order_by(AuditEvent.id)
    )
    assert [d.get("to", d.get("status")) for d in tags] == ["draft", "queued", "sent", "expired"]


def test_illegal_moves_and_missing_contacts_are_refused(
    session: Session, policy: NoticePolicy
) -> None:
    case = _case(session, {"https://silent.example/1": Classification.CSAM})
    (notice,) = draft_notices(session, case, policy, actor=ACTOR)
    with pytest.raises(NoticeError, match="Silent has no abuse email"):
        queue_notice(session, notice, actor=ACTOR)
    assert session.scalars(select(Delivery)).all() == []
    with pytest.raises(IllegalTransitionError):
        move(session, notice, NoticeStatus.REMOVED, actor=ACTOR)


def test_an_offenders_account_goes_to_its_platform_as_an_account_notice(
    session: Session, policy: NoticePolicy, settings: Settings
) -> None:
    clock = FakeClock(T0)
    case = _case(
        session,
        {
            "https://forum.example/u/extorter": Classification.SEXTORTION_THREAT,
            "https://forum.example/t/5": Classification.CSAM,
        },
    )
    account, content = case.items
    # A sextortion threat calls for no content notice: the content notice has one page.
    (content_notice,) = draft_notices(session, case, policy, actor=ACTOR, clock=clock)
    assert [p.page.url for p in content_notice.pages] == ["https://forum.example/t/5"]
    assert account_items(session, case) == [account]
    with pytest.raises(NoticeError, match="threat or grooming"):
        draft_account_notice(session, content, actor=ACTOR, clock=clock)

    notice = draft_account_notice(session, account, actor=ACTOR, clock=clock)
    assert notice.kind is NoticeKind.ACCOUNT
    assert [(p.page.url, p.media) for p in notice.pages] == [
        ("https://forum.example/u/extorter", [])
    ]
    assert account_items(session, case) == []
    en = render_notice(session, notice, settings)
    assert "an account used for sexual extortion" in en.subject
    assert "threaten a person with their intimate images" in en.text
    assert "grooming" not in en.text
    with pytest.raises(NoticeError, match="already open"):
        draft_account_notice(session, account, actor=ACTOR, clock=clock)
    queue_notice(session, notice, actor=ACTOR, clock=clock)
    mark_sent(session, notice, policy, clock=clock)
    assert notice.deadline_at == T0 + policy.account_deadline


def test_grooming_goes_as_an_account_notice_and_an_ai_image_as_a_childs(
    session: Session, settings: Settings
) -> None:
    """A groomer's profile is an account notice named for grooming; a sexual image of a
    child made with AI is removed within the minor's deadline."""
    policy = NoticePolicy.from_settings(settings)
    clock = FakeClock(T0)
    case = _case(
        session,
        {
            "https://forum.example/u/groomer": Classification.GROOMING,
            "https://photos.example/p/ai": Classification.SYNTHETIC_MINOR,
        },
        {"https://photos.example/p/ai": [("https://img.photos.example/ai.jpg", "ai")]},
        clock=clock,
    )
    groomer = case.items[0]
    (content_notice,) = draft_notices(session, case, policy, actor=ACTOR, clock=clock)
    assert [p.page.url for p in content_notice.pages] == ["https://photos.example/p/ai"]
    assert account_items(session, case) == [groomer]
    zh = render_notice(session, content_notice, settings)
    assert "以人工智慧生成或變造的兒童性影像" in zh.text
    assert settings.legal_basis_minor_zh_tw in zh.text
    assert zh.document["items"][0]["deadline_hours"] == settings.notice_deadline_hours_minor

    account = draft_account_notice(session, groomer, actor=ACTOR, clock=clock)
    assert [p.classification for p in account.pages] == [Classification.GROOMING]
    en = render_notice(session, account, settings)
    assert "an account used to groom a child" in en.subject
    assert "grooming" in en.text and "sexual extortion" not in en.text
    assert en.document["items"][0]["category"] == "grooming"


def test_rendering_in_both_languages(session: Session, settings: Settings) -> None:
    policy = NoticePolicy.from_settings(settings)
    case = _case(
        session,
        {
            "https://photos.example/p/2": Classification.SELF_GENERATED_MINOR,
            "https://forum.example/t/<b>1</b>": Classification.ADULT_NCII,
        },
        PICTURES,
    )
    photo, forum = draft_notices(session, case, policy, actor=ACTOR)
    case.items[0].posted_by = "@leaker_2026"
    zh = render_notice(session, photo, settings)
    assert "張貼帳號：@leaker_2026" in zh.text and "@leaker_2026" in zh.html
    assert zh.document["items"][0]["posted_by"] == "@leaker_2026"
    assert zh.language == "zh_TW"
    assert zh.subject.startswith(f"移除通知 {photo.reference}")
    assert "https://photos.example/p/2" in zh.text and "未成年人的私密影像" in zh.text
    # Every decided picture is listed under its page, in the text, the HTML and the data.
    for url in ("https://img.photos.example/2a.jpg", "https://img.photos.example/2b.jpg"):
        assert url in zh.text and url in zh.html
    assert [m["url"] for m in zh.document["items"][0]["media"]] == [
        "https://img.photos.example/2a.jpg",
        "https://img.photos.example/2b.jpg",
    ]
    assert settings.legal_basis_minor_zh_tw in zh.text  # the legal basis in Chinese
    assert settings.legal_basis_minor not in zh.text
    assert "hotline@example.org" in zh.text
    en = render_notice(session, forum, settings, reminder=2)
    assert en.subject.endswith("(reminder 2)") and "within 72 hours" in en.subject
    assert settings.legal_basis_adult in en.text
    assert "&lt;b&gt;1&lt;/b&gt;" in en.html and "<b>1</b>" not in en.html
    assert "<b>1</b>" in en.text
    assert en.document["items"][0]["category"] == "adult_ncii"
    assert en.document["reference"] == forum.reference
    assert case.number not in en.text + en.html + str(en.document)  # the victim's case stays ours
    assert case.number not in zh.text + zh.html + str(zh.document)


def test_a_sent_notice_gives_an_absolute_deadline_in_the_operators_zone(
    session: Session, settings: Settings
) -> None:
    policy = NoticePolicy.from_settings(settings)
    case = _case(session, {"https://forum.example/t/8": Classification.ADULT_NCII})
    (notice,) = draft_notices(session, case, policy, actor=ACTOR)
    queue_notice(session, notice, actor=ACTOR)
    mark_sent(session, notice, policy, clock=lambda: T0)
    rendered = render_notice(session, notice, settings)
    # 72 hours after 09:00 UTC on 1 November is 17:00 in Taipei on 4 November.
    assert "2026-11-04 17:00 (UTC+08; 2026-11-04 09:00 UTC)" in rendered.text
    assert "2026-11-04 17:00" in rendered.subject


def test_a_withdrawn_item_is_not_noticed(session: Session, policy: NoticePolicy) -> None:
    case = _case(session, {"https://photos.example/p/3": Classification.CSAM})
    case.items[0].withdrawn_at = T0
    session.flush()
    assert draft_notices(session, case, policy, actor=ACTOR) == []
    assert pending_pages(session, case) == []
