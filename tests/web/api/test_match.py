"""POST /api/v1/match: PDQ by distance (and through rotations), MD5 and SHA-256 exactly,
bounded batches, and clear errors for bad input."""

from __future__ import annotations

import random
import secrets
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from huey import MemoryHuey

from reclaim.banks.banking import get_bank, withdraw_signals
from reclaim.domain.signals import Signal, pdq_distance
from reclaim.web.app import create_app
from tests.support.cases import PDQ_A, flip_bits
from tests.support.settings import make_settings
from tests.support.testdata import THREATEXCHANGE
from tests.web.api.conftest import BankSignals, PartnerKey, add_partner
from tests.web.api.test_auth import error_of

MATCH = "/api/v1/match"
DIHEDRAL = THREATEXCHANGE / "pdq" / "dih"


def ask(client: TestClient, key: PartnerKey, signals: list[dict[str, Any]], **options: Any) -> Any:
    response = client.post(MATCH, headers=key.headers, json={"signals": signals, **options})
    assert response.status_code == 200, response.text
    return response.json()


def pdq_in(value: str, **extra: Any) -> dict[str, Any]:
    return {"signal_type": "pdq", "value": value, **extra}


def test_pdq_md5_and_sha256_match_per_input(
    client: TestClient, partner: PartnerKey, banked: BankSignals
) -> None:
    md5, sha = secrets.token_hex(16), secrets.token_hex(32)
    entries = banked(
        [Signal.parse("pdq", PDQ_A), Signal.parse("md5", md5), Signal.parse("sha256", sha)]
    )
    body = ask(
        client,
        partner,
        [
            pdq_in(flip_bits(PDQ_A, 7)),
            {"signal_type": "md5", "value": md5.upper()},
            {"signal_type": "sha256", "value": sha},
            pdq_in(secrets.token_hex(32)),
        ],
    )
    assert body["max_distance"] == 31
    results = body["results"]
    assert [r["index"] for r in results] == [0, 1, 2, 3]
    assert results[0]["matches"] == [
        {
            "entry_id": entries[0],
            "bank": "csam",
            "signal_type": "pdq",
            "value": PDQ_A,
            "distance": 7,
            "verified": True,
            "category": "csam",
        }
    ]
    assert results[1]["value"] == md5  # canonical lower case
    assert [m["entry_id"] for m in results[1]["matches"]] == [entries[1]]
    assert [m["distance"] for m in results[2]["matches"]] == [0]
    assert results[3]["matches"] == []


def test_max_distance_is_bounded_by_the_request_and_the_settings(
    client: TestClient, partner: PartnerKey, banked: BankSignals
) -> None:
    banked([Signal.parse("pdq", PDQ_A)])
    near = [pdq_in(flip_bits(PDQ_A, 6))]
    assert ask(client, partner, near, max_distance=5)["results"][0]["matches"] == []
    assert len(ask(client, partner, near, max_distance=6)["results"][0]["matches"]) == 1
    too_far = client.post(
        MATCH, headers=partner.headers, json={"signals": near, "max_distance": 32}
    )
    assert error_of(too_far) == (422, "invalid_request")


def test_the_operator_setting_caps_max_distance(tmp_path: Path, database_url: str) -> None:
    settings = make_settings(tmp_path, database_url=database_url, match_max_distance=10)
    app = create_app(settings, huey=MemoryHuey("cap", immediate=True))
    with TestClient(app, base_url="http://127.0.0.1") as client:
        with app.state.reclaim.sessions() as session:
            key = add_partner(session)
        body = ask(client, key, [pdq_in(PDQ_A)])
        assert body["max_distance"] == 10
        refused = client.post(
            MATCH, headers=key.headers, json={"signals": [pdq_in(PDQ_A)], "max_distance": 20}
        )
        assert error_of(refused) == (422, "max_distance_too_large")


def test_withdrawn_signals_no_longer_match(
    app: FastAPI, client: TestClient, partner: PartnerKey, banked: BankSignals
) -> None:
    banked([Signal.parse("pdq", PDQ_A)], name="self-reported", verified=False)
    first = ask(client, partner, [pdq_in(PDQ_A)])["results"][0]["matches"]
    assert [(m["bank"], m["verified"]) for m in first] == [("self-reported", False)]
    with app.state.reclaim.sessions() as session:
        withdraw_signals(session, get_bank(session, "self-reported"), [Signal.parse("pdq", PDQ_A)])
        session.commit()
    assert ask(client, partner, [pdq_in(PDQ_A)])["results"][0]["matches"] == []


def test_banks_filter(client: TestClient, partner: PartnerKey, banked: BankSignals) -> None:
    banked([Signal.parse("pdq", PDQ_A)])
    banked([Signal.parse("pdq", PDQ_A)], name="ngo-list", verified=False)
    both = ask(client, partner, [pdq_in(PDQ_A)])["results"][0]["matches"]
    assert sorted(m["bank"] for m in both) == ["csam", "ngo-list"]
    one = ask(client, partner, [pdq_in(PDQ_A)], banks=["ngo-list"])["results"][0]["matches"]
    assert [m["bank"] for m in one] == ["ngo-list"]
    unknown = client.post(
        MATCH, headers=partner.headers, json={"signals": [pdq_in(PDQ_A)], "banks": ["nope"]}
    )
    assert error_of(unknown) == (404, "unknown_bank")


def _dihedral(path: Path) -> list[str]:
    from tests.matching.test_dihedral import dihedral_hashes

    return [row.tobytes().hex() for row in dihedral_hashes(path)]


def test_dihedral_matches_a_rotated_copy(
    client: TestClient, partner: PartnerKey, banked: BankSignals
) -> None:
    original = _dihedral(DIHEDRAL / "bridge-1-original.jpg")[0]
    banked([Signal.parse("pdq", original)])
    rotated = _dihedral(DIHEDRAL / "bridge-2-rotate-90.jpg")
    plain = ask(client, partner, [pdq_in(rotated[0])])["results"][0]["matches"]
    assert plain == []
    turned = ask(client, partner, [pdq_in(rotated[0], dihedral=rotated)], dihedral=True)
    assert [m["value"] for m in turned["results"][0]["matches"]] == [original]


@pytest.mark.parametrize(
    ("body", "code"),
    [
        ({"signals": [pdq_in(PDQ_A)], "dihedral": True}, "dihedral_variants_required"),
        ({"signals": [pdq_in(PDQ_A, dihedral=[PDQ_A] * 8)]}, "unexpected_dihedral_variants"),
        (
            {"signals": [{"signal_type": "md5", "value": "a" * 32, "dihedral": [PDQ_A] * 8}]},
            "unexpected_dihedral_variants",
        ),
        ({"signals": [pdq_in(PDQ_A, dihedral=[PDQ_A] * 7)], "dihedral": True}, "invalid_request"),
        ({"signals": [pdq_in(PDQ_A[:32])]}, "invalid_signal"),
        ({"signals": [{"signal_type": "md5", "value": PDQ_A}]}, "invalid_signal"),
        ({"signals": [pdq_in("g" * 64)]}, "invalid_signal"),
        ({"signals": [{"signal_type": "tmk", "value": PDQ_A}]}, "invalid_request"),
        ({"signals": [{"signal_type": "pdq", "value": 42}]}, "invalid_request"),
        ({"signals": [pdq_in(PDQ_A)], "colour": "blue"}, "unknown_field"),
        ({"signals": [pdq_in(PDQ_A, quality=100)]}, "unknown_field"),
        ({"signals": []}, "nothing_to_match"),
        ({}, "nothing_to_match"),
        ({"signals": [{"signal_type": "vpdq", "value": PDQ_A}]}, "video_in_signals"),
        ({"videos": [{"frames": []}]}, "invalid_request"),
        ({"signals": [pdq_in(PDQ_A)] * 1001}, "batch_too_large"),
        ({"signals": [pdq_in(PDQ_A)], "max_distance": -1}, "invalid_request"),
        ({"signals": "pdq"}, "invalid_request"),
    ],
)
def test_bad_requests_are_422_with_a_code(
    client: TestClient, partner: PartnerKey, body: dict[str, Any], code: str
) -> None:
    response = client.post(MATCH, headers=partner.headers, json=body)
    assert error_of(response) == (422, code)
    assert response.json()["error"]["details"]


def test_malformed_json_and_oversized_bodies(client: TestClient, partner: PartnerKey) -> None:
    headers = {**partner.headers, "content-type": "application/json"}
    broken = client.post(MATCH, headers=headers, content=b'{"signals": [')
    assert error_of(broken) == (422, "invalid_json")
    huge = b'{"signals": [' + b" " * (3 * 1024 * 1024) + b"]}"
    assert error_of(client.post(MATCH, headers=headers, content=huge)) == (413, "body_too_large")

    def chunks() -> Iterator[bytes]:  # no Content-Length: counted while read
        yield b'{"signals": ['
        for _ in range(40):
            yield b" " * 100_000
        yield b"]}"

    chunked = client.post(MATCH, headers=headers, content=chunks())
    assert error_of(chunked) == (413, "body_too_large")


def test_a_batch_of_1000_agrees_with_brute_force(
    client: TestClient, partner: PartnerKey, banked: BankSignals
) -> None:
    """The engine (the fast path) against a plain loop over every banked hash."""
    rng = random.Random(7)
    bank_hashes = [f"{rng.getrandbits(256):064x}" for _ in range(400)]
    entry_ids = banked([Signal.parse("pdq", h) for h in bank_hashes])
    queries = [
        f"{int(rng.choice(bank_hashes), 16) ^ _noise(rng):064x}"
        if i % 2
        else f"{rng.getrandbits(256):064x}"
        for i in range(1000)
    ]
    body = ask(client, partner, [pdq_in(q) for q in queries], max_distance=24)
    by_value = dict(zip(bank_hashes, entry_ids, strict=True))
    for query, result in zip(queries, body["results"], strict=True):
        expected = sorted(
            (pdq_distance(query, h), by_value[h])
            for h in bank_hashes
            if pdq_distance(query, h) <= 24
        )
        assert [(m["distance"], m["entry_id"]) for m in result["matches"]] == expected


def _noise(rng: random.Random) -> int:
    bits = rng.sample(range(256), rng.randint(0, 30))
    return int(np.bitwise_or.reduce([1 << b for b in bits], initial=0)) if bits else 0
