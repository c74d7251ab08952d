"""The OpenAPI description: served without a key, partner routes only; and schemathesis
against it (no 5xx, every response as documented) with a seeded bank and a real key."""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from pathlib import Path

import pytest
import schemathesis
from fastapi import FastAPI
from fastapi.testclient import TestClient
from huey import MemoryHuey
from hypothesis import HealthCheck, given, settings
from schemathesis import checks

from reclaim.domain.signals import Signal
from reclaim.storage.db import make_engine
from reclaim.web.api.deps import close_readers
from reclaim.web.app import create_app
from tests.support.cases import PDQ_A, flip_bits
from tests.support.settings import make_settings
from tests.support.takedown import make_notice
from tests.web.api.conftest import PartnerKey, add_partner, bank

SPEC = "/api/v1/openapi.json"


def test_the_spec_lists_the_partner_api_only(client: TestClient) -> None:
    response = client.get(SPEC)
    assert response.status_code == 200
    spec = response.json()
    assert spec["openapi"].startswith("3.")
    assert set(spec["paths"]) == {
        "/api/v1/hashes",
        "/api/v1/hashes/snapshot",
        "/api/v1/match",
        "/api/v1/feedback",
        "/api/v1/notices",
        "/api/v1/notices/{notice_id}",
        "/api/v1/notices/{notice_id}/acknowledge",
        "/api/v1/notices/{notice_id}/resolve",
    }
    assert spec["components"]["securitySchemes"]["apiKey"]["scheme"] == "bearer"
    for path in spec["paths"].values():
        for operation in path.values():
            assert {"401", "403", "422", "429"} <= set(operation["responses"])
    # Swagger UI would need a CDN's scripts (the CSP forbids them): no docs page.
    assert client.get("/api/v1/docs").status_code == 404
    assert client.get("/docs").status_code == 404
    assert client.get("/openapi.json").status_code == 404


def test_unknown_api_paths_are_json_errors(client: TestClient) -> None:
    response = client.get("/api/v1/nothing-here")
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "http_404"
    assert client.put("/api/v1/match").json()["error"]["code"] == "http_405"


# --- schemathesis ------------------------------------------------------------------


@pytest.fixture(scope="module")
def seeded(
    tmp_path_factory: pytest.TempPathFactory, sqlite_template: Path
) -> Iterator[tuple[FastAPI, PartnerKey]]:
    import shutil

    tmp_path = tmp_path_factory.mktemp("schemathesis")
    database = tmp_path / "reclaim.sqlite3"
    shutil.copyfile(sqlite_template, database)
    app_settings = make_settings(
        tmp_path,
        database_url=f"sqlite:///{database}",
        api_burst=100_000,
        api_rate_per_second=100_000,
    )
    app = create_app(app_settings, huey=MemoryHuey("schemathesis", immediate=True))
    with app.state.reclaim.sessions() as session:
        key = add_partner(session)
        bank(session, [Signal.parse("pdq", PDQ_A), Signal.parse("pdq", flip_bits(PDQ_A, 9))])
        bank(
            session,
            [Signal.parse("md5", secrets.token_hex(16)) for _ in range(5)],
            name="self-reported",
            verified=False,
        )
        make_notice(session, app_settings, "Photo Site")
    yield app, key
    close_readers(app)
    app.state.reclaim.engine.dispose()
    make_engine(f"sqlite:///{database}").dispose()


def test_the_api_keeps_its_contract(seeded: tuple[FastAPI, PartnerKey]) -> None:
    """Every operation, 50 generated requests each (with a valid key); about 30 s."""
    app, key = seeded
    partner_api = schemathesis.openapi.from_asgi(SPEC, app)
    operations = [result.ok() for result in partner_api.get_all_operations()]
    assert len(operations) == 9  # 8 paths, /feedback with GET and POST
    statuses: dict[str, set[int]] = {}

    for operation in operations:

        @given(case=operation.as_strategy())
        @settings(
            max_examples=50,
            deadline=None,
            derandomize=True,
            database=None,
            suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
        )
        def run(case: schemathesis.Case) -> None:
            response = case.call_and_validate(
                headers=key.headers,
                checks=[
                    checks.not_a_server_error,
                    checks.status_code_conformance,
                    checks.content_type_conformance,
                    checks.response_schema_conformance,
                    checks.response_headers_conformance,
                ],
            )
            statuses.setdefault(case.operation.label, set()).add(response.status_code)

        run()
    # The key worked for every operation (the key check runs before body validation).
    assert len(statuses) == 9
    assert all(not codes & {401, 403, 429} for codes in statuses.values()), statuses
    assert sum(200 in codes for codes in statuses.values()) >= 6, statuses
