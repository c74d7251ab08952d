"""Which accounts of a cluster can be noticed, on which platform and profile page, and
the account notice that cites each case naming the account (both backends)."""

from __future__ import annotations

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from reclaim import audit
from reclaim.cases.models import Case, Page
from reclaim.config import Settings
from reclaim.linkage import accounts, identifiers
from reclaim.linkage.domain import IdentifierKind
from reclaim.linkage.identifiers import Keys
from reclaim.platforms.models import Platform, PlatformDomain
from reclaim.takedown import account_notices
from reclaim.takedown.notices import NoticeError
from reclaim.takedown.rendering import render_notice
from tests.support.cases import make_case, make_user
from tests.support.linkage import linkage_keys

ACTOR = audit.Actor.user(None)


@pytest.fixture
def keys(settings: Settings) -> Keys:
    return linkage_keys(settings)


def _platform(session: Session, name: str, domain: str) -> Platform:
    platform = Platform(name=name, abuse_email=f"abuse@{domain}", language="en")
    platform.domains.append(PlatformDomain(domain=domain))
    session.add(platform)
    session.flush()
    return platform


def _naming(session: Session, keys: Keys, kind: IdentifierKind, text: str, **kw: object) -> Case:
    case = make_case(session, **kw)  # type: ignore[arg-type]
    identifiers.add_by_analyst(session, case, kind, text, actor_id=make_user(session).id, keys=keys)
    return case


def test_profile_pages_per_platform() -> None:
    page = accounts.profile_page
    assert page(IdentifierKind.HANDLE, "user_alpha", "instagram") == (
        "https://www.instagram.com/user_alpha/"
    )
    assert (
        page(IdentifierKind.HANDLE, "user_alpha", "tiktok") == "https://www.tiktok.com/@user_alpha"
    )
    assert page(IdentifierKind.HANDLE, "id:1234", "facebook") == (
        "https://www.facebook.com/profile.php?id=1234"
    )
    assert page(IdentifierKind.LINE_ID, "alpha_line", "line") == "https://line.me/ti/p/~alpha_line"
    assert page(IdentifierKind.LINE_ID, "alpha_line", "instagram") is None
    assert page(IdentifierKind.HANDLE, "user_alpha", None) is None
    assert page(IdentifierKind.PHONE, "+886912345678", "line") is None


def test_choices_and_one_notice_citing_the_cases(
    session: Session, keys: Keys, settings: Settings
) -> None:
    instagram = _platform(session, "Instagram", "instagram.com")
    _platform(session, "TikTok", "tiktok.com")
    forum = _platform(session, "Forum", "forum.example")
    urls = ["https://www.instagram.com/p/one/", "https://elsewhere.example/x"]
    via_url = _naming(
        session, keys, IdentifierKind.HANDLE, "https://www.instagram.com/user_alpha/", urls=urls
    )
    bare = _naming(session, keys, IdentifierKind.HANDLE, "@USER_ALPHA")
    profile = _naming(
        session, keys, IdentifierKind.PROFILE_URL, "https://forum.example/members/alpha"
    )
    phone = _naming(session, keys, IdentifierKind.PHONE, "0912 345 678")
    for page in session.scalars(select(Page).where(Page.url.contains("instagram"))):
        page.platform_id = instagram.id
    session.flush()
    ids = [via_url.id, bare.id, profile.id, phone.id]
    choices = {(c.value, c.platform_name): c for c in accounts.account_choices(session, ids, keys)}
    # The handle is on Instagram (a profile URL said so), not on TikTok; the forum's
    # profile URL is on the forum; a phone number is no account.
    assert set(choices) == {
        ("user_alpha", "Instagram"),
        ("https://forum.example/members/alpha", "Forum"),
    }
    alpha = choices[("user_alpha", "Instagram")]
    assert alpha.case_ids == tuple(sorted((via_url.id, bare.id)))
    assert choices[("https://forum.example/members/alpha", "Forum")].platform_id == forum.id

    cited = accounts.items_on_platform(session, alpha.case_ids, instagram.id)
    assert cited == {via_url.id: [via_url.items[0].id], bare.id: []}
    with pytest.raises(NoticeError):
        account_notices.draft_cluster_account_notice(
            session, instagram, alpha.profile_url, {}, actor=ACTOR
        )
    notice = account_notices.draft_cluster_account_notice(
        session, instagram, alpha.profile_url, cited, actor=ACTOR
    )
    assert [c.number for c in account_notices.cited_cases(session, notice.id)] == sorted(
        [via_url.number, bare.number]
    )
    assert account_notices.account_notices_citing(session, bare.id) == [notice]
    assert account_notices.account_notices_citing(session, phone.id) == []
    with pytest.raises(NoticeError, match="already open"):
        account_notices.draft_cluster_account_notice(
            session, instagram, alpha.profile_url, cited, actor=ACTOR
        )
    rendered = render_notice(session, notice, settings)
    cases = {c["case"]: c["urls"] for c in rendered.document["cases"]}
    assert cases == {via_url.number: ["https://www.instagram.com/p/one/"], bare.number: []}
    assert rendered.document["items"][0]["url"] == "https://www.instagram.com/user_alpha/"
