import json

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from reclaim import audit
from reclaim.audit.domain import ActorKind
from reclaim.audit.models import AuditEvent
from reclaim.cases.items import assign_platforms
from reclaim.platforms.directory import (
    PlatformImportError,
    PlatformRecord,
    export_records,
    import_records,
    parse_records,
    seed_records,
    write_records,
)
from reclaim.platforms.models import Platform, PlatformDomain
from tests.support.cases import make_case

OPERATOR = audit.Actor(ActorKind.OPERATOR)


def test_the_seed_lists_the_platforms_that_matter() -> None:
    records = seed_records()
    names = {r.name for r in records}
    assert len(records) >= 30
    assert {"LINE", "Dcard", "PTT", "Instagram (Meta)", "Telegram"} <= names
    domains = [d for r in records for d in r.domains]
    assert len(domains) == len(set(domains)), "a domain is listed for two platforms"
    assert all(r.abuse_email == "" for r in records), "contacts are for operators to fill in"


def test_seeding_and_resolving_hosts(session: Session) -> None:
    import_records(session, seed_records(), actor=OPERATOR)
    case = make_case(
        session,
        urls=[
            "https://scontent.xx.fbcdn.net/v/t1/123.jpg",
            "https://www.dcard.tw/f/girl/p/1",
            "https://unknown-host.example/x.jpg",
            "http://203.0.113.7/x.jpg",
        ],
        files=1,
    )
    items = case.items
    unassigned = assign_platforms(session, items)
    names = {
        item.url: item.page.platform.name if item.page and item.page.platform else None
        for item in items[:4]
    }
    assert names["https://scontent.xx.fbcdn.net/v/t1/123.jpg"] == "Facebook (Meta)"
    assert names["https://www.dcard.tw/f/girl/p/1"] == "Dcard"
    # Unknown hosts are for an analyst; a file from a device has no platform to ask.
    assert unassigned == items[2:4]


def test_import_round_trips_in_both_formats(session: Session) -> None:
    records = [
        PlatformRecord(
            "Example Social",
            ("cdn.example.social", "example.social"),
            abuse_email="abuse@example.social",
            language="zh_TW",
            notes='逗號, 引號"',
        ),
        PlatformRecord(
            "Other Host", ("other.example",), webhook_url="https://hooks.other.example/r"
        ),
    ]
    for fmt in ("json", "csv"):
        assert parse_records(write_records(records, fmt), fmt) == records
    import_records(session, records, actor=OPERATOR)
    assert export_records(session) == sorted(records, key=lambda r: r.name)


def test_reimport_keeps_contacts_the_file_leaves_empty(session: Session) -> None:
    import_records(
        session, [PlatformRecord("P", ("p.example",), abuse_email="a@p.example")], actor=OPERATOR
    )
    outcome = import_records(
        session, [PlatformRecord("P", ("p.example", "q.example"))], actor=OPERATOR
    )
    assert (outcome.created, outcome.updated, outcome.domains) == (0, 1, 1)
    (record,) = export_records(session)
    assert record.abuse_email == "a@p.example"
    assert record.domains == ("p.example", "q.example")


@pytest.mark.parametrize(
    ("document", "problem"),
    [
        ({"format": "other"}, "format"),
        (
            {"format": "reclaim-platforms/1", "platforms": [{"domains": ["a.example"]}]},
            "name is required",
        ),
        (
            {
                "format": "reclaim-platforms/1",
                "platforms": [{"name": "A", "domains": ["http://a"]}],
            },
            "not a domain",
        ),
        (
            {
                "format": "reclaim-platforms/1",
                "platforms": [{"name": "A", "webhook_url": "http://a.example"}],
            },
            "https",
        ),
        (
            {"format": "reclaim-platforms/1", "platforms": [{"name": "A", "colour": "red"}]},
            "unknown field",
        ),
        (
            {
                "format": "reclaim-platforms/1",
                "platforms": [
                    {"name": "A", "domains": ["x.example"]},
                    {"name": "B", "domains": ["x.example"]},
                ],
            },
            "both A and B",
        ),
    ],
)
def test_bad_files_are_refused_whole(session: Session, document: object, problem: str) -> None:
    with pytest.raises(PlatformImportError, match=problem):
        parse_records(json.dumps(document), "json")


def test_a_domain_owned_by_another_platform_refuses_the_import(session: Session) -> None:
    import_records(session, [PlatformRecord("A", ("a.example",))], actor=OPERATOR)
    session.commit()
    events = session.scalar(select(func.count()).select_from(AuditEvent))
    with pytest.raises(PlatformImportError, match="already belongs to A"):
        import_records(
            session,
            [PlatformRecord("New", ("new.example",)), PlatformRecord("B", ("a.example",))],
            actor=OPERATOR,
        )
    session.rollback()
    assert session.scalar(select(func.count()).select_from(Platform)) == 1
    assert session.scalar(select(func.count()).select_from(PlatformDomain)) == 1
    assert session.scalar(select(func.count()).select_from(AuditEvent)) == events
