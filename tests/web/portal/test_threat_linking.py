"""Two children report the same threatening account through the urgent path, written
two ways: the second case is linked to the first as soon as it is sent (the portal
records the account as an offender identifier and runs linking at once)."""

from __future__ import annotations

import re

from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import select

from reclaim.cases.models import Case
from reclaim.linkage import clusters
from tests.support.portal import sessions
from tests.web.portal.test_urgent import urgent_form

_NUMBER = re.compile(r"data-case-number>(RC-[0-9A-Z]{4}-[0-9A-Z]{4})<")


def _report(client: TestClient, account: str, platform: str) -> str:
    form = urgent_form(client, threat_account=account, threat_platform=platform)
    response = client.post("/urgent", data=form)
    assert response.status_code == 200, response.text
    number = _NUMBER.search(response.text)
    assert number is not None
    return number.group(1)


def test_a_new_victim_of_a_known_account_is_linked_when_the_report_is_sent(
    app: FastAPI, client: TestClient
) -> None:
    first = _report(client, "@not.a.friend_2009", "IG")
    second = _report(client, "https://www.instagram.com/Not.A.Friend_2009/", "")
    other = _report(client, "@someone.else", "Instagram")
    with sessions(app) as session:
        ids = {
            number: session.scalars(select(Case.id).where(Case.number == number)).one()
            for number in (first, second, other)
        }
        cluster = clusters.cluster_id_of(session, ids[second])
        assert cluster is not None
        assert clusters.member_ids(session, cluster) == sorted([ids[first], ids[second]])
        assert clusters.cluster_id_of(session, ids[other]) is None
