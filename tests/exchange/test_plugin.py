"""reclaim.exchange against a live server: fetch, checkpoints, deletions, opinions,
feedback, and bad credentials."""

from __future__ import annotations

import secrets
from typing import Any

import pytest
from threatexchange.exchanges.auth import SignalExchangeAPIInvalidAuthException
from threatexchange.exchanges.fetch_state import SignalOpinion, SignalOpinionCategory
from threatexchange.extensions.manifest import ThreatExchangeExtensionManifest
from threatexchange.signal_type.md5 import VideoMD5Signal
from threatexchange.signal_type.pdq.signal import PdqSignal
from threatexchange.signal_type.sha256 import VideoSHA256Signal

from reclaim.domain.signals import Signal
from reclaim.exchange import (
    ReclaimCollabConfig,
    ReclaimCredentials,
    ReclaimSignalExchangeAPI,
)
from tests.exchange.conftest import Exchange
from tests.support.cases import PDQ_A

TYPES = [PdqSignal, VideoMD5Signal, VideoSHA256Signal]


def api_for(exchange: Exchange, key: str | None = None, **config: Any) -> ReclaimSignalExchangeAPI:
    collab = ReclaimCollabConfig(name="reclaim-test", base_url=exchange.url, **config)
    return ReclaimSignalExchangeAPI.for_collab(collab, ReclaimCredentials(key or exchange.key.key))


def fetch(api: ReclaimSignalExchangeAPI, state: dict[int, Any], checkpoint: Any = None) -> Any:
    for delta in api.fetch_iter(TYPES, checkpoint):
        ReclaimSignalExchangeAPI.naive_fetch_merge(state, delta.updates)
        checkpoint = delta.checkpoint
    return checkpoint


def test_the_manifest_loads_as_threatexchange_loads_it() -> None:
    manifest = ThreatExchangeExtensionManifest.load_from_module_name("reclaim.exchange")
    assert manifest.apis == (ReclaimSignalExchangeAPI,)
    assert ReclaimSignalExchangeAPI.get_name() == "reclaim"


def test_fetch_follows_the_feed_and_applies_withdrawals(exchange: Exchange) -> None:
    md5 = secrets.token_hex(16)
    pdq_self = f"{int(PDQ_A, 16) ^ 0xFF:064x}"
    exchange.bank([Signal.parse("pdq", PDQ_A), Signal.parse("md5", md5)])
    exchange.bank([Signal.parse("pdq", pdq_self)], name="self-reported", verified=False)
    api = api_for(exchange)
    state: dict[int, Any] = {}
    checkpoint = fetch(api, state)
    assert checkpoint.cursor == "3"
    converted = ReclaimSignalExchangeAPI.naive_convert_to_signal_type(TYPES, api.collab, state)
    assert set(converted[PdqSignal]) == {PDQ_A, pdq_self}
    assert set(converted[VideoMD5Signal]) == {md5}
    seen = converted[PdqSignal][PDQ_A].get_as_opinions()
    # HMA routes by tag: the bank, whether someone saw it, and what it is of.
    assert [(o.category, o.tags) for o in seen] == [
        (SignalOpinionCategory.POSITIVE_CLASS, {"csam", "verified", "category:csam"})
    ]
    seed = converted[PdqSignal][pdq_self].get_as_opinions()
    assert [(o.category, o.tags) for o in seed] == [
        (
            SignalOpinionCategory.INVESTIGATION_SEED,
            {"self-reported", "unverified", "category:unknown"},
        )
    ]

    exchange.withdraw([Signal.parse("pdq", PDQ_A)])
    checkpoint = fetch(api, state, checkpoint)
    assert checkpoint.cursor == "4"
    converted = ReclaimSignalExchangeAPI.naive_convert_to_signal_type(TYPES, api.collab, state)
    assert set(converted[PdqSignal]) == {pdq_self}


def test_a_signal_in_two_banks_survives_withdrawal_from_one(exchange: Exchange) -> None:
    signal = Signal.parse("pdq", PDQ_A)
    exchange.bank([signal])
    exchange.bank([signal], name="self-reported", verified=False)
    api = api_for(exchange)
    state: dict[int, Any] = {}
    checkpoint = fetch(api, state)
    both = ReclaimSignalExchangeAPI.naive_convert_to_signal_type(TYPES, api.collab, state)
    assert both[PdqSignal][PDQ_A].banks == {"csam": True, "self-reported": False}
    exchange.withdraw([signal], "self-reported")
    fetch(api, state, checkpoint)
    one = ReclaimSignalExchangeAPI.naive_convert_to_signal_type(TYPES, api.collab, state)
    assert one[PdqSignal][PDQ_A].banks == {"csam": True}


def test_a_bank_filter_in_the_collab(exchange: Exchange) -> None:
    exchange.bank([Signal.parse("md5", "a" * 32)])
    exchange.bank([Signal.parse("md5", "b" * 32)], name="self-reported", verified=False)
    api = api_for(exchange, bank="self-reported")
    state: dict[int, Any] = {}
    fetch(api, state)
    converted = ReclaimSignalExchangeAPI.naive_convert_to_signal_type(TYPES, api.collab, state)
    assert set(converted[VideoMD5Signal]) == {"b" * 32}


def test_label_sends_feedback(exchange: Exchange) -> None:
    exchange.bank([Signal.parse("pdq", PDQ_A)])
    api = api_for(exchange)
    api.report_opinion(
        PdqSignal, PDQ_A, SignalOpinion(True, SignalOpinionCategory.NEGATIVE_CLASS, set())
    )
    from sqlalchemy import select

    from reclaim.partners.models import Feedback

    with exchange.server.app.state.reclaim.sessions() as session:
        assert session.scalars(select(Feedback.outcome)).all() == ["not_violating"]


def test_bad_credentials(exchange: Exchange) -> None:
    assert not ReclaimCredentials("not-a-key")._are_valid()
    wrong = "rcl_aaaaaaaa_" + "A" * 43
    with pytest.raises(SignalExchangeAPIInvalidAuthException, match="invalid_api_key"):
        list(api_for(exchange, key=wrong).fetch_iter(TYPES, None))
