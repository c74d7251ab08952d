"""The urgent path's threatening account becomes an offender identifier at intake, so a
new victim of a known account is linked at once."""

from __future__ import annotations

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from reclaim.cases.domain import Situation
from reclaim.cases.models import Case
from reclaim.config import Settings
from reclaim.intake.submission import Receipt, submit_report
from reclaim.linkage import clusters, linking
from reclaim.linkage.domain import (
    Identifier,
    IdentifierKind,
    IdentifierSource,
    threat_account_identifier,
)
from reclaim.linkage.media_index import MediaPdqIndex
from reclaim.linkage.models import CaseIdentifier, OffenderIdentifier
from reclaim.security.field_crypto import field_cipher
from tests.support.clock import FakeClock
from tests.support.intake import a_policy, a_report
from tests.support.linkage import linkage_keys


@pytest.mark.parametrize(
    ("account", "platform", "expected"),
    [
        ("@User_Alpha", "IG", Identifier(IdentifierKind.HANDLE, "user_alpha", "instagram")),
        (
            "＠ｕｓｅｒ＿ａｌｐｈａ",
            "Instagram",
            Identifier(IdentifierKind.HANDLE, "user_alpha", "instagram"),
        ),
        ("user_alpha", "", Identifier(IdentifierKind.HANDLE, "user_alpha", None)),
        (
            "https://www.instagram.com/user_alpha/",
            "",
            Identifier(IdentifierKind.HANDLE, "user_alpha", "instagram"),
        ),
        ("sunny.day", "LINE", Identifier(IdentifierKind.LINE_ID, "sunny.day")),
        ("0912 345 678", "", Identifier(IdentifierKind.PHONE, "+886912345678")),
        ("Bad.Guy@Example.org", "", Identifier(IdentifierKind.EMAIL, "bad.guy@example.org")),
        ("a man who said he was a model scout", "", None),
    ],
)
def test_what_reporters_type_as_the_account_is_normalised(
    account: str, platform: str, expected: Identifier | None
) -> None:
    assert threat_account_identifier(account, platform) == expected


def test_a_new_victim_of_a_known_account_links_at_once(
    session: Session, settings: Settings, clock: FakeClock
) -> None:
    keys = linkage_keys(settings)
    cipher = field_cipher(settings)

    def urgent(account: str, platform: str) -> Case:
        receipt: Receipt = submit_report(
            session,
            a_report(
                situation=Situation.THREAT,
                urls=(),
                files=(),
                description="",
                threat_account=account,
                threat_platform=platform,
            ),
            policy=a_policy(),
            cipher=cipher,
            clock=clock,
            identifier_keys=keys,
        )
        case = session.scalar(select(Case).where(Case.number == receipt.case_number))
        assert case is not None
        return case

    first = urgent("@user_alpha", "Instagram")
    # recorded at intake, before any linking ran: from the reporter, encrypted
    rows = session.execute(
        select(CaseIdentifier.source, OffenderIdentifier).join(OffenderIdentifier)
    ).all()
    assert [(source, keys.reveal(row), row.platform) for source, row in rows] == [
        (IdentifierSource.REPORTER, "user_alpha", "instagram")
    ]
    assert "user_alpha" not in rows[0][1].value
    second = urgent("https://instagram.com/User_Alpha", "")
    linking.link_case(
        session, second, keys=keys, media_index=MediaPdqIndex(), max_distance=31, clock=clock
    )
    assert clusters.member_ids(session, clusters.cluster_id_of(session, first.id) or 0) == [
        first.id,
        second.id,
    ]


def test_an_account_in_an_encrypted_description_is_found_at_intake(
    session: Session, settings: Settings, clock: FakeClock
) -> None:
    keys = linkage_keys(settings)
    submit_report(
        session,
        a_report(description="他說他是 ＠user_alpha，說要公開照片"),
        policy=a_policy(),
        cipher=field_cipher(settings),
        clock=clock,
        identifier_keys=keys,
    )
    rows = session.execute(
        select(CaseIdentifier.source, OffenderIdentifier).join(OffenderIdentifier)
    ).all()
    assert [(source, keys.reveal(row)) for source, row in rows] == [
        (IdentifierSource.DESCRIPTION, "user_alpha")
    ]
