"""Cases linked by identifiers, pictures, pages, sites and threat scripts; clusters."""

from __future__ import annotations

import io
import json
import zipfile
from datetime import timedelta

import pytest
from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session, sessionmaker

from reclaim import audit
from reclaim.accounts.domain import Role
from reclaim.audit.domain import AuditTag
from reclaim.audit.models import AuditEvent
from reclaim.cases.domain import AgeGroup, Situation
from reclaim.cases.models import Case
from reclaim.config import Settings
from reclaim.fetching.quarantine import QuarantineStore
from reclaim.linkage import clusters, identifiers, linking
from reclaim.linkage.domain import IdentifierKind, LinkReason
from reclaim.linkage.identifiers import Keys
from reclaim.linkage.media_index import MediaPdqIndex
from reclaim.linkage.models import CaseLink, OffenderIdentifier
from reclaim.referrals import cluster_referral, consent
from reclaim.referrals.domain import (
    AgencyKind,
    ConsentHow,
    ConsentSubject,
    ReferralPolicy,
    Share,
)
from reclaim.referrals.verifying import verify_package
from reclaim.security.field_crypto import keyring
from reclaim.security.signing import signing_keyring
from tests.support.cases import PDQ_A, attach, flip_bits, make_case, make_user, md5, pdq
from tests.support.clock import FakeClock
from tests.support.linkage import linkage_keys
from tests.support.referrals import make_agency

SCRIPT = (
    "I have your photos. Send 5000 NTD to my account by tonight or I will send them "
    "to everyone at your school and your parents."
)


@pytest.fixture
def keys(settings: Settings) -> Keys:
    return linkage_keys(settings)


def link(
    session: Session, case: Case, keys: Keys, clock: FakeClock, index: MediaPdqIndex | None = None
) -> linking.LinkOutcome:
    return linking.link_case(
        session, case, keys=keys, media_index=index or MediaPdqIndex(), max_distance=31, clock=clock
    )


def reasons(session: Session, first: Case, second: Case) -> set[LinkReason]:
    a, b = sorted((first.id, second.id))
    return {
        LinkReason(r)
        for r in session.scalars(
            select(CaseLink.reason).where(CaseLink.case_id == a, CaseLink.other_case_id == b)
        )
    }


def test_identifiers_are_stored_encrypted_and_found_by_keyed_hash(
    session: Session, keys: Keys, clock: FakeClock
) -> None:
    analyst = make_user(session)
    case = make_case(session)
    row = identifiers.add_by_analyst(
        session,
        case,
        IdentifierKind.PHONE,
        "0912-345-678",
        actor_id=analyst.id,
        keys=keys,
        clock=clock,
    )
    stored = session.get(OffenderIdentifier, row.id)
    assert stored is not None
    assert "912345678" not in stored.value and "912345678" not in stored.lookup
    assert keys.reveal(stored) == "+886912345678"
    again = identifiers.add_by_analyst(
        session,
        make_case(session),
        IdentifierKind.PHONE,
        "+886 912 345 678",
        actor_id=analyst.id,
        keys=keys,
        clock=clock,
    )
    assert again.id == row.id
    events = session.scalars(
        select(AuditEvent).where(AuditEvent.tag == AuditTag.IDENTIFIER_ADDED)
    ).all()
    assert len(events) == 2
    assert all("912" not in str(e.details) for e in events)


def test_posted_by_profile_urls_and_descriptions_become_identifiers(
    session: Session, keys: Keys, clock: FakeClock
) -> None:
    posted = make_case(session, urls=["https://example.org/leak/1.jpg"])
    posted.items[0].posted_by = "@User_Alpha"
    profile = make_case(session, urls=["https://www.instagram.com/user_alpha/"])
    described = make_case(
        session, description="the account ＠ｕｓｅｒ＿ａｌｐｈａ keeps messaging me"
    )
    session.flush()
    for case in (posted, profile, described):
        link(session, case, keys, clock)
    assert reasons(session, posted, profile) == {LinkReason.IDENTIFIER}
    assert reasons(session, posted, described) == {LinkReason.IDENTIFIER}
    views = identifiers.case_identifiers(session, profile.id, keys)
    assert [(v.kind, v.value, v.platform, v.other_cases) for v in views] == [
        (IdentifierKind.HANDLE, "user_alpha", "instagram", 2)
    ]


def test_links_by_media_pages_hosts_and_scripts(
    session: Session, keys: Keys, clock: FakeClock
) -> None:
    analyst = make_user(session)
    first = make_case(
        session, urls=["https://leaks.example/a/1", "https://www.instagram.com/p/X1/"], files=1
    )
    same_hash = make_case(session, files=1)
    near_pdq = make_case(session, files=1)
    same_page = make_case(session, urls=["https://leaks.example/a/1"])
    same_site = make_case(session, urls=["https://leaks.example/b/2"])
    same_platform_only = make_case(session, urls=["https://www.instagram.com/p/Y2/"])
    script = make_case(session)
    unrelated = make_case(session, files=1)
    attach(session, first.items[2], md5("one"), pdq(PDQ_A))
    attach(session, same_hash.items[0], md5("one"))
    attach(session, near_pdq.items[0], pdq(flip_bits(PDQ_A, 10)))
    attach(session, unrelated.items[0], md5("other"), pdq(flip_bits(PDQ_A, 60)))
    for case, text in ((first, SCRIPT), (script, SCRIPT.replace("5000", "3000") + "!!")):
        identifiers.add_by_analyst(
            session,
            case,
            IdentifierKind.THREAT_TEXT,
            text,
            actor_id=analyst.id,
            keys=keys,
            clock=clock,
        )
    index = MediaPdqIndex()
    outcome = link(session, first, keys, clock, index)
    assert reasons(session, first, same_hash) == {LinkReason.SAME_MEDIA}
    assert reasons(session, first, near_pdq) == {LinkReason.SIMILAR_MEDIA}
    assert reasons(session, first, same_page) == {LinkReason.SAME_PAGE, LinkReason.SAME_HOST}
    assert reasons(session, first, same_site) == {LinkReason.SAME_HOST}
    assert reasons(session, first, script) == {LinkReason.THREAT_SCRIPT}
    assert reasons(session, first, same_platform_only) == set()
    assert reasons(session, first, unrelated) == set()
    assert outcome.linked_case_ids == {
        same_hash.id,
        near_pdq.id,
        same_page.id,
        same_site.id,
        script.id,
    }
    detail = session.scalars(
        select(CaseLink.detail).where(CaseLink.reason == LinkReason.SIMILAR_MEDIA)
    ).one()
    assert detail == {"distance": 10}
    similarity = session.scalars(
        select(CaseLink.detail).where(CaseLink.reason == LinkReason.THREAT_SCRIPT)
    ).one()["similarity"]
    assert 0.6 <= similarity < 1
    # idempotent: linking again adds nothing
    assert link(session, first, keys, clock, index).new_links == 0
    assert len(clusters.member_ids(session, first.id)) == 6


def test_clusters_merge_and_growth_raises_every_member(
    session: Session, keys: Keys, clock: FakeClock
) -> None:
    a = make_case(session, urls=["https://leaks.example/1"])
    b = make_case(session, urls=["https://leaks.example/1"])
    c = make_case(session, urls=["https://other-leaks.example/2"])
    d = make_case(session, urls=["https://other-leaks.example/2"])
    link(session, b, keys, clock)
    link(session, d, keys, clock)
    assert clusters.cluster_id_of(session, b.id) == a.id
    assert clusters.cluster_id_of(session, d.id) == c.id
    later = clock() + timedelta(days=10)
    assert clusters.growing(session, [a.id, b.id, c.id, d.id], now=later) == {}
    clock.advance(days=10)
    bridge = make_case(session, urls=["https://leaks.example/1", "https://other-leaks.example/9"])
    link(session, bridge, keys, clock)
    assert {clusters.cluster_id_of(session, x.id) for x in (a, b, c, d, bridge)} == {a.id}
    raised = clusters.growing(session, [a.id, b.id, c.id, d.id, bridge.id], now=clock())
    assert raised == {x.id: 4 for x in (a, b, c, d, bridge)}
    assert [x.id for x in clusters.cluster_cases(session, d)] == sorted(
        x.id for x in (a, b, c, d, bridge)
    )


def test_twelve_reports_from_different_children_end_in_one_explained_cluster(
    session: Session, keys: Keys, clock: FakeClock, settings: Settings
) -> None:
    """The article's shape: one account, many victims, written many ways, over a month."""
    analyst = make_user(session)
    index = MediaPdqIndex()
    spellings = [
        "@user_alpha",
        "user_alpha",
        "https://www.instagram.com/user_alpha/",
        "＠ｕｓｅｒ＿ａｌｐｈａ",
        "USER_ALPHA",
        "https://instagram.com/User_Alpha?igsh=x1",
        "ｕｓｅｒ＿ａｌｐｈａ",
        "@user_alpha",
        "https://www.instagram.com/user_alpha",
    ]
    cases: list[Case] = []
    for day, written in enumerate(spellings):
        clock.advance(days=3)
        case = make_case(
            session,
            age=AgeGroup.UNDER_18,
            situation=Situation.THREAT,
            created_at=clock(),
            files=1 if day < 2 else 0,
            contact="first-child@example.org" if day == 0 else None,
            cipher=keys.cipher,
            description=f"Synthetic words of child {day}.",
        )
        identifiers.add_by_analyst(
            session,
            case,
            IdentifierKind.HANDLE,
            written,
            actor_id=analyst.id,
            keys=keys,
            clock=clock,
        )
        cases.append(case)
    # two reports where the account was named only in the description and the posted-by
    by_description = make_case(
        session,
        description="他說他是 ＠user_alpha，說要公開照片",
        created_at=clock(),
        age=AgeGroup.UNDER_18,
    )
    by_posted = make_case(
        session, urls=["https://leaks.example/x/7"], created_at=clock(), age=AgeGroup.UNDER_18
    )
    by_posted.items[0].posted_by = "https://www.instagram.com/user_alpha/"
    cases += [by_description, by_posted]
    # two share a picture (a third child was sent the same one, slightly re-encoded)
    attach(session, cases[0].items[0], md5("same-picture"), pdq(PDQ_A))
    attach(session, cases[1].items[0], md5("same-picture"), pdq(flip_bits(PDQ_A, 4)))
    # one only brings the threat message: the same script as another child's
    script_only = make_case(session, created_at=clock(), age=AgeGroup.UNDER_18)
    identifiers.add_by_analyst(
        session,
        cases[3],
        IdentifierKind.THREAT_TEXT,
        SCRIPT,
        actor_id=analyst.id,
        keys=keys,
        clock=clock,
    )
    identifiers.add_by_analyst(
        session,
        script_only,
        IdentifierKind.THREAT_TEXT,
        SCRIPT.replace("5000", "8000").replace("tonight", "tomorrow"),
        actor_id=analyst.id,
        keys=keys,
        clock=clock,
    )
    cases.append(script_only)
    assert len(cases) == 12
    for case in cases:
        link(session, case, keys, clock, index)

    cluster = clusters.cluster_id_of(session, cases[0].id)
    assert cluster is not None
    assert clusters.member_ids(session, cluster) == sorted(c.id for c in cases)
    assert reasons(session, cases[0], cases[1]) == {
        LinkReason.IDENTIFIER,
        LinkReason.SAME_MEDIA,
        LinkReason.SIMILAR_MEDIA,
    }
    assert reasons(session, cases[3], script_only) == {LinkReason.THREAT_SCRIPT}
    assert reasons(session, cases[0], by_posted) == {LinkReason.IDENTIFIER}
    # every link says why
    for row in session.scalars(select(CaseLink)):
        assert row.reason in set(LinkReason) and row.shared
    # one identifier row for every spelling
    handles = session.scalars(
        select(OffenderIdentifier).where(OffenderIdentifier.kind == IdentifierKind.HANDLE)
    ).all()
    assert [keys.reveal(h) for h in handles] == ["user_alpha"]
    assert handles[0].platform == "instagram"

    # the cluster referred to police as one package that verifies
    refer_cluster_to_police_and_verify(session, cases, keys, clock, settings)


def refer_cluster_to_police_and_verify(
    session: Session, cases: list[Case], keys: Keys, clock: FakeClock, settings: Settings
) -> None:
    police = make_agency(session, "Police unit", AgencyKind.POLICE)
    supervisor = make_user(session, Role.SUPERVISOR)
    # one child's reporter consented to police having their contact; none to their words
    consent.record_consent(
        session,
        cases[1],
        ConsentSubject.POLICE,
        granted=True,
        how=ConsentHow.PHONE,
        actor=audit.Actor.user(supervisor.id),
        recorded_by_id=supervisor.id,
    )
    outcome = cluster_referral.refer_cluster(
        session,
        cases[5],
        police,
        [Share.CONTACT, Share.WORDS],
        ReferralPolicy(),
        sender_id=supervisor.id,
        secret=b"test-secret",
        clock=clock,
    )
    assert outcome.left_out == []
    assert sorted(r.case_id for r in outcome.referrals) == sorted(c.id for c in cases)
    referrals = cluster_referral.cluster_referrals(session, outcome.referrals[3])
    assert sorted(r.id for r in referrals) == sorted(r.id for r in outcome.referrals)
    store = QuarantineStore(settings.data_dir / "quarantine", keyring(settings), clock=clock)
    package = cluster_referral.build(
        session,
        referrals,
        keys=keys,
        cipher=keys.cipher,
        store=store,
        keyring=signing_keyring(settings),
        actor="user 1",
        actor_id=supervisor.id,
        clock=clock,
    )
    verified = verify_package(package.data, signing_keyring(settings).public_keys())
    assert verified.ok, verified.problems
    assert verified.case is not None and verified.case.startswith("cluster of 12 cases")
    with zipfile.ZipFile(io.BytesIO(package.data)) as archive:
        manifest = json.loads(archive.read("manifest.json"))
    assert len(manifest["cases"]) == 12
    assert manifest["cluster"]["cases"] == sorted(c.number for c in cases)
    # every link between the referred cases is there, each with its reason
    assert len(manifest["cluster"]["links"]) == session.scalar(
        select(func.count()).select_from(CaseLink)
    )
    assert all(link["reason"] in set(LinkReason) for link in manifest["cluster"]["links"])
    handle = [i for i in manifest["cluster"]["identifiers"] if i["kind"] == "handle"]
    assert handle[0]["value"] == "user_alpha" and len(handle[0]["cases"]) == 11
    # consent per case: the first child's contact did not go (no consent), words neither
    assert "first-child@example.org" not in json.dumps(manifest, ensure_ascii=False)
    assert "Synthetic words of child 0" not in json.dumps(manifest, ensure_ascii=False)
    by_case = {part["shared"]["case"]: part["shared"] for part in manifest["cases"]}
    assert "contact" in by_case[cases[1].number]["shares"]
    assert "contact" not in by_case[cases[0].number]["shares"]
    assert "Synthetic words of child 1" in json.dumps(manifest, ensure_ascii=False)
    # one byte changed anywhere fails
    for position in (40, len(package.data) // 2, len(package.data) - 30):
        tampered = bytearray(package.data)
        tampered[position] ^= 0x01
        assert not verify_package(bytes(tampered), signing_keyring(settings).public_keys()).ok
    exported = session.scalars(
        select(AuditEvent).where(AuditEvent.tag == AuditTag.EVIDENCE_EXPORTED.value)
    ).all()
    assert len(exported) == 12


def test_a_page_many_cases_report_links_each_to_the_first_and_the_latest(
    session: Session, keys: Keys, clock: FakeClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Past the fan-out, a case links to the first case sharing the page and the latest
    ones: the cluster stays whole without storing every pair."""
    monkeypatch.setattr(linking, "FANOUT", 3)
    cases = []
    for _ in range(7):  # each linked as it arrives
        cases.append(make_case(session, urls=["https://leaks.example/viral"]))
        link(session, cases[-1], keys, clock)
    last = cases[-1]
    linked = set(
        session.scalars(
            select(CaseLink.case_id).where(
                CaseLink.other_case_id == last.id, CaseLink.reason == LinkReason.SAME_PAGE
            )
        )
    )
    assert linked == {cases[0].id, cases[4].id, cases[5].id}
    assert clusters.member_ids(session, cases[0].id) == sorted(c.id for c in cases)
    # 3 + 3 + 3 + 3 for the cases after the third, 0 + 1 + 2 before: 15, not 21 pairs.
    assert (
        session.scalar(
            select(func.count())
            .select_from(CaseLink)
            .where(CaseLink.reason == LinkReason.SAME_PAGE)
        )
        == 15
    )


def test_new_cases_are_linked_once_in_order(
    engine: Engine, session: Session, keys: Keys, clock: FakeClock
) -> None:
    from reclaim.linkage import arrivals

    sessions = sessionmaker(bind=engine)
    a = make_case(session, urls=["https://leaks.example/1"])
    b = make_case(session, urls=["https://leaks.example/1"])
    session.commit()
    index = MediaPdqIndex()

    def link(**options: int) -> int:
        return arrivals.link_new_cases(
            sessions, keys=keys, media_index=index, max_distance=31, clock=clock, **options
        )

    assert link(batch=1) == 1
    assert link() == 1
    assert link() == 0
    assert reasons(session, a, b) == {LinkReason.SAME_PAGE, LinkReason.SAME_HOST}
    c = make_case(session, urls=["https://leaks.example/1"])
    session.commit()
    assert link() == 1
    assert clusters.member_ids(session, a.id) == [a.id, b.id, c.id]
