"""A whole cluster referred to police from the cluster view, as one package: the
supervisor refers it, the police liaison sees only the cases referred to their agency,
downloads one package that verifies, and every look is audited."""

from __future__ import annotations

from collections.abc import Callable

from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import select

from reclaim import audit
from reclaim.accounts.domain import Role
from reclaim.accounts.models import User
from reclaim.audit.domain import AuditTag
from reclaim.audit.models import AuditEvent
from reclaim.cases.domain import AgeGroup
from reclaim.linkage import identifiers
from reclaim.linkage.domain import IdentifierKind
from reclaim.referrals import agencies
from reclaim.referrals.domain import AgencyKind
from reclaim.referrals.models import Referral
from reclaim.referrals.verifying import verify_package
from reclaim.security.signing import signing_keyring
from tests.support.cases import make_case, make_user
from tests.support.linkage import linkage_keys
from tests.support.referrals import make_agency
from tests.web.conftest import csrf_from

Login = Callable[..., User]
EN = {"accept-language": "en"}


def _named(app: FastAPI, handle: str, age: AgeGroup = AgeGroup.UNDER_18) -> str:
    state = app.state.reclaim
    with state.sessions() as session:
        case = make_case(session, age=age, description="Synthetic words, not for police.")
        identifiers.add_by_analyst(
            session,
            case,
            IdentifierKind.HANDLE,
            handle,
            actor_id=make_user(session).id,
            keys=linkage_keys(state.settings),
        )
        session.commit()
        return case.number


def _events(app: FastAPI, tag: AuditTag) -> list[AuditEvent]:
    with app.state.reclaim.sessions() as session:
        return list(session.scalars(select(AuditEvent).where(AuditEvent.tag == tag.value)))


def test_a_cluster_goes_to_police_as_one_package_and_police_see_only_it(
    app: FastAPI, client: TestClient, login_as: Login
) -> None:
    numbers = [_named(app, "@user_alpha") for _ in range(3)]
    adult = _named(app, "user_alpha", AgeGroup.ADULT)  # no consent: left out
    unrelated = _named(app, "someone_else")
    with app.state.reclaim.sessions() as session:
        make_agency(session, "Police unit", AgencyKind.POLICE)
        make_agency(session)  # social services: not offered for a cluster
        session.commit()
    login_as(Role.SUPERVISOR)
    page = client.get(f"/console/cases/{numbers[0]}/cluster", headers=EN)
    assert page.status_code == 200 and "Refer the cluster" in page.text
    assert "Police unit" in page.text and "Social Welfare" not in page.text
    with app.state.reclaim.sessions() as session:
        police_id = session.scalar(
            select(agencies.Agency.id).where(agencies.Agency.name == "Police unit")
        )
    response = client.post(
        f"/console/cases/{numbers[0]}/cluster/refer",
        data={"csrf_token": csrf_from(page.text), "agency_id": str(police_id), "share": "words"},
        follow_redirects=False,
    )
    assert response.status_code == 303
    assert "sent=3" in response.headers["location"] and "left_out=1" in response.headers["location"]
    assert len(_events(app, AuditTag.CLUSTER_REFERRED)) == 1
    shown = client.get(response.headers["location"], headers=EN).text
    assert "3 cases sent, 1 left out" in shown

    police = login_as(Role.POLICE_LIAISON)
    with app.state.reclaim.sessions() as session:
        unit = session.get_one(agencies.Agency, police_id)
        agencies.add_member(session, unit, session.get_one(User, police.id), actor=audit.SYSTEM)
        session.commit()
        reference = session.scalars(
            select(Referral.reference).where(Referral.status != "cancelled").order_by(Referral.id)
        ).first()
    case_page = client.get(f"/console/referred/{reference}", headers=EN).text
    assert f'href="/console/referred/{reference}/cluster" data-cluster="3"' in case_page
    # police do not get the hotline's cluster view
    assert client.get(f"/console/cases/{numbers[0]}/cluster").status_code == 403
    view = client.get(f"/console/referred/{reference}/cluster", headers=EN)
    assert view.status_code == 200
    assert all(f'data-case="{n}"' in view.text for n in numbers)
    assert adult not in view.text and unrelated not in view.text
    assert "user_alpha" in view.text and 'data-reason="identifier"' in view.text
    assert "Account handle" in view.text and "Offender identifier" in view.text
    viewed = [e for e in _events(app, AuditTag.REFERRAL_VIEWED) if e.details["what"] == "cluster"]
    assert len(viewed) == 3
    package = client.get(f"/console/referred/{reference}/cluster-package")
    assert package.status_code == 200
    keys = signing_keyring(app.state.reclaim.settings).public_keys()
    verified = verify_package(package.content, keys)
    assert verified.ok, verified.problems
    assert verified.case == f"cluster of 3 cases: {', '.join(sorted(numbers))}"
    # no consent for words: the minors' cases went without them
    assert b"Synthetic words, not for police." not in package.content
    tampered = bytearray(package.content)
    tampered[len(tampered) // 3] ^= 0x01
    assert not verify_package(bytes(tampered), keys).ok
    assert len(_events(app, AuditTag.EVIDENCE_EXPORTED)) == 3


def test_other_agencies_and_roles_get_nothing(
    app: FastAPI, client: TestClient, login_as: Login
) -> None:
    numbers = [_named(app, "user_beta") for _ in range(2)]
    with app.state.reclaim.sessions() as session:
        make_agency(session, "Police unit", AgencyKind.POLICE)
        make_agency(session, "Another unit", AgencyKind.POLICE)
        session.commit()
    login_as(Role.SUPERVISOR)
    page = client.get(f"/console/cases/{numbers[0]}/cluster", headers=EN)
    with app.state.reclaim.sessions() as session:
        police_id = session.scalar(
            select(agencies.Agency.id).where(agencies.Agency.name == "Police unit")
        )
        other_id = session.scalar(
            select(agencies.Agency.id).where(agencies.Agency.name == "Another unit")
        )
    client.post(
        f"/console/cases/{numbers[0]}/cluster/refer",
        data={"csrf_token": csrf_from(page.text), "agency_id": str(police_id)},
    )
    with app.state.reclaim.sessions() as session:
        reference = session.scalars(select(Referral.reference)).first()
    login_as(Role.ANALYST)
    assert client.get(f"/console/referred/{reference}/cluster").status_code == 403
    assert (
        client.post(
            f"/console/cases/{numbers[0]}/cluster/refer",
            data={"csrf_token": csrf_from(page.text), "agency_id": str(police_id)},
        ).status_code
        == 403
    )
    elsewhere = login_as(Role.POLICE_LIAISON)
    with app.state.reclaim.sessions() as session:
        unit = session.get_one(agencies.Agency, other_id)
        agencies.add_member(session, unit, session.get_one(User, elsewhere.id), actor=audit.SYSTEM)
        session.commit()
    assert client.get(f"/console/referred/{reference}/cluster").status_code == 404
    assert client.get(f"/console/referred/{reference}/cluster-package").status_code == 404


def test_the_permission_table_says_who_refers_and_who_reads_a_cluster() -> None:
    from reclaim.web.console import cluster_referrals, permissions
    from reclaim.web.console.permissions import Gate

    expected = {
        "console.case.cluster.refer": frozenset({Role.SUPERVISOR}),
        "console.referred.cluster": frozenset({Role.SOCIAL_WORKER, Role.POLICE_LIAISON}),
        "console.referred.cluster_package": frozenset({Role.SOCIAL_WORKER, Role.POLICE_LIAISON}),
    }
    assert sorted(r.name for r in cluster_referrals.router.routes) == sorted(expected)  # type: ignore[attr-defined]
    for name, roles in expected.items():
        granted = permissions.ROUTES[name]
        assert (granted.gate, granted.roles) == (Gate.STAFF, roles), name
