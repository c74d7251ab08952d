"""The real `threatexchange` CLI (python-threatexchange) against a live Reclaim server:
add the extension, configure a collaboration, fetch, withdraw in Reclaim, fetch again,
and match a photo."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from reclaim.domain.signals import Signal
from tests.exchange.conftest import Exchange
from tests.support.testdata import PDQ_IMAGES, pdq_reference

PHOTO = "bridge-mods/aaa-orig.jpg"
OTHER_PDQ = "358c86641a5269ab5b0db5f1b2315c1642cef9652c39b6ced9f646d91f071927"
# python-threatexchange 1.2's PDQ index loses its only entry when saved and loaded
# again, so the CLI's index must hold at least two hashes for `match` to work.
THIRD_PDQ = "a5e1d7c8f00b9e2d3c4b5a69788796a5b4c3d2e1f00f1e2d3c4b5a6978877665"


def _threatexchange() -> list[str]:
    script = Path(sys.executable).with_name("threatexchange")
    return [str(script)] if script.is_file() else [sys.executable, "-m", "threatexchange"]


@pytest.fixture
def tx(tmp_path: Path, exchange: Exchange):  # type: ignore[no-untyped-def]
    home = tmp_path / "home"
    home.mkdir()
    env = {
        **os.environ,
        "HOME": str(home),  # the CLI's credential file lookups (~/.tx_*) stay in here
        "TX_STATEDIR": str(tmp_path / "threatexchange"),
        "TX_RECLAIM_API_KEY": exchange.key.key,
    }

    def run(*args: str) -> str:
        done = subprocess.run(
            [*_threatexchange(), *args],
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
        assert done.returncode == 0, (
            f"threatexchange {' '.join(args)}:\n{done.stdout}\n{done.stderr}"
        )
        return done.stdout

    return run


def test_fetch_withdraw_fetch_and_match(exchange: Exchange, tx) -> None:  # type: ignore[no-untyped-def]
    photo = next(r for r in pdq_reference() if r.path == PHOTO)
    exchange.bank([Signal.parse("pdq", photo.pdq), Signal.parse("md5", photo.md5)])
    exchange.bank(
        [Signal.parse("pdq", OTHER_PDQ), Signal.parse("pdq", THIRD_PDQ)],
        name="self-reported",
        verified=False,
    )

    added = tx("config", "extensions", "add", "reclaim.exchange")
    assert "reclaim - ReclaimSignalExchangeAPI" in added
    assert "reclaim.exchange" in tx("config", "extensions", "list")
    tx(
        "config",
        "collab",
        "edit",
        "reclaim",
        "reclaim-test",
        "--create",
        "--base-url",
        exchange.url,
    )
    assert "reclaim reclaim-test" in tx("config", "collab", "list")

    tx("fetch")
    fetched = tx("dataset", "--print-signals")
    assert photo.pdq in fetched
    assert OTHER_PDQ in fetched
    assert photo.md5 in fetched

    exchange.withdraw([Signal.parse("pdq", OTHER_PDQ)], "self-reported")
    tx("fetch")
    refetched = tx("dataset", "--print-signals")
    assert OTHER_PDQ not in refetched  # the tombstone deleted it
    assert photo.pdq in refetched

    matched = tx("match", "photo", str(PDQ_IMAGES / PHOTO))
    assert "reclaim-test" in matched
    assert "pdq" in matched
    assert "POSITIVE_CLASS" in matched  # analyst-confirmed in Reclaim
