"""A video banked from a review matches its edited copies through the match API and
the hash feed; a different video does not (shared test media; copies made with PyAV)."""

from __future__ import annotations

import importlib
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from reclaim.banks import videos
from reclaim.cases import decisions, review
from reclaim.cases.domain import Classification
from reclaim.domain.signals import SignalType
from reclaim.exchange.api import _entry, vpdq_fingerprint
from reclaim.fetching import SafeFetcher
from reclaim.hashing import HashingLimits, VideoHashes, VpdqFeature, hash_bytes, match_vpdq
from tests.support.cases import make_case, make_user
from tests.support.http import LoopbackOnlyBackend, LoopbackServer, content
from tests.support.settings import require_or_skip
from tests.support.testdata import VIDEOS
from tests.support.videos import variant, with_logo
from tests.web.api.conftest import PartnerKey

ORIGINAL = VIDEOS / "chair-orig-22-sd-bar.mp4"
OTHERS = [VIDEOS / "pattern-sd-grey-bar.mp4", VIDEOS / "doorknob-hd-no-bar.mp4"]


@pytest.fixture(scope="module")
def copies() -> dict[str, bytes]:
    # Trimmed at whole seconds: vPDQ samples one frame a second from the start, so a
    # trim by a fraction of a second shifts every sampled frame; on this fast-moving
    # video a 0.5 s shift leaves only about 15 % of frames within distance 31.
    return {
        "re-encoded": variant(ORIGINAL, crf=36),
        "trimmed": variant(ORIGINAL, skip_seconds=2.0, max_seconds=21.0),
        "logo": variant(ORIGINAL, draw=with_logo),
        "resized": variant(ORIGINAL, size=(240, 360)),
    }


@pytest.fixture
def server() -> Iterator[LoopbackServer]:
    started = LoopbackServer().start()
    yield started
    started.stop()


def frames_of(data: bytes) -> list[dict[str, Any]]:
    hashes = hash_bytes(data, HashingLimits())
    assert isinstance(hashes, VideoHashes)
    return [{"pdq": f.value, "quality": f.quality, "timestamp": f.timestamp} for f in hashes.frames]


def bank_from_review(app: FastAPI, server: LoopbackServer) -> None:
    """Fetch the original for review, decide it: the decision banks its vPDQ."""
    state = app.state.reclaim
    settings = state.settings.model_copy(update={"fetch_allowlist": ["127.0.0.1/32"]})
    server.routes["/clip.mp4"] = content(ORIGINAL.read_bytes(), "video/mp4")
    matcher = state.match_engine()
    with state.sessions() as session:
        case = make_case(session, urls=[server.url("/clip.mp4")])
        analyst = make_user(session)
        fetcher = SafeFetcher(review.fetch_policy(settings), network_backend=LoopbackOnlyBackend())
        outcome = review.fetch_for_review(
            session,
            case.items[0].id,
            fetcher=fetcher,
            store=review.quarantine_store(settings),
            matcher=matcher,
            policy=review.ReviewPolicy.from_settings(settings),
            actor_id=analyst.id,
        )
        (found,) = outcome.found
        kinds = {link.signal.type for link in found.media.signals}
        assert kinds == {SignalType.MD5, SignalType.SHA256, SignalType.VPDQ}
        decisions.decide(
            session,
            case.items[0],
            Classification.SELF_GENERATED_MINOR,
            analyst_id=analyst.id,
            reason=None,
            policy=decisions.DecisionPolicy(require_second_analyst=False),
        )
        session.commit()


def test_a_reviewed_video_matches_its_copies_through_the_api_and_the_feed(
    app: FastAPI,
    client: TestClient,
    partner: PartnerKey,
    server: LoopbackServer,
    copies: dict[str, bytes],
) -> None:
    bank_from_review(app, server)

    # The feed carries the banked video with its frames, as python-threatexchange's
    # vPDQ signal lists them.
    feed = client.get("/api/v1/hashes", headers=partner.headers, params={"signal_type": "vpdq"})
    assert feed.status_code == 200, feed.text
    (entry,) = feed.json()["entries"]
    assert (entry["bank"], entry["category"], entry["verified"]) == (
        "unverified",
        "self_generated_minor",
        False,
    )
    assert len(entry["frames"]) >= 20
    fetched = _entry(entry)  # what the threatexchange plugin hands python-threatexchange
    assert fetched.signal_type == "vpdq"
    assert vpdq_fingerprint(fetched.signal) == entry["value"]
    banked = videos.features(videos.from_threatexchange(fetched.signal))

    body = {"videos": [{"frames": frames_of(data)} for data in copies.values()]}
    body["videos"] += [{"frames": frames_of(other.read_bytes())} for other in OTHERS]
    answer = client.post("/api/v1/match", headers=partner.headers, json=body)
    assert answer.status_code == 200, answer.text
    results = answer.json()["videos"]
    assert answer.json()["video_rule"]["distance"] == 31
    for name, result in zip(copies, results, strict=False):
        (match,) = result["matches"]
        assert match["value"] == entry["value"], name
        assert match["query_percent"] >= 80 and match["target_percent"] >= 80, name
        assert match["category"] == "self_generated_minor"
        # A partner holding the feed's frames decides the same with vPDQ's rule.
        assert match_vpdq(sent(body, result["index"]), banked).is_match, name
    for result in results[len(copies) :]:
        assert result["matches"] == []
        assert not match_vpdq(sent(body, result["index"]), banked).is_match


def sent(body: dict[str, Any], index: int) -> list[VpdqFeature]:
    frames = body["videos"][index]["frames"]
    return [VpdqFeature(i, f["timestamp"], f["pdq"], f["quality"]) for i, f in enumerate(frames)]


def test_match_requests_are_bounded(client: TestClient, partner: PartnerKey) -> None:
    frame = {"pdq": "ab" * 32, "quality": 90, "timestamp": 0.0}
    too_long = {"videos": [{"frames": [frame] * 3601}]}
    assert client.post("/api/v1/match", headers=partner.headers, json=too_long).status_code == 422
    empty = client.post("/api/v1/match", headers=partner.headers, json={})
    assert empty.status_code == 422
    assert empty.json()["error"]["code"] == "nothing_to_match"
    fingerprint = {"signals": [{"signal_type": "vpdq", "value": "ab" * 32}]}
    assert (
        client.post("/api/v1/match", headers=partner.headers, json=fingerprint).status_code == 422
    )
    fine = client.post(
        "/api/v1/match", headers=partner.headers, json={"videos": [{"frames": [frame]}]}
    )
    assert fine.status_code == 200 and fine.json()["videos"][0]["matches"] == []
    assert json.loads(fine.text)["results"] == []


def test_openapi_documents_video_matching(client: TestClient) -> None:
    schema = client.get("/api/v1/openapi.json").json()
    assert "VideoIn" in schema["components"]["schemas"]
    assert "VideoMatchOut" in schema["components"]["schemas"]


def test_python_threatexchange_with_its_vpdq_extension_matches_the_feed(
    *,
    app: FastAPI,
    client: TestClient,
    partner: PartnerKey,
    server: LoopbackServer,
    copies: dict[str, bytes],
    tmp_path: Path,
) -> None:
    """The feed's vPDQ entry, as the plugin hands it on, against Meta's own vPDQ hasher
    (the native ``vpdq`` package) run on the copies: python-threatexchange's VPDQSignal
    decides the match.  Needs ``pip install vpdq`` (built against FFmpeg's libraries:
    Debian's libavcodec-dev and friends)."""
    try:
        extension = importlib.import_module("threatexchange.extensions.vpdq.vpdq")
    except ImportError as exc:  # scripts/install-test-deps builds it
        require_or_skip(f"python-threatexchange's vPDQ extension needs `vpdq` ({exc})")
    signal_type = extension.VPDQSignal
    bank_from_review(app, server)
    feed = client.get("/api/v1/hashes", headers=partner.headers, params={"signal_type": "vpdq"})
    (entry,) = feed.json()["entries"]
    banked = signal_type.validate_signal_str(_entry(entry).signal)
    for name, data in copies.items():
        path = tmp_path / f"{name}.mp4"
        path.write_bytes(data)
        result = signal_type.compare_hash(
            signal_type.hash_from_file(path), banked, compare_match_pct_thresh=80.0
        )
        assert result.match, (name, result.distance)
    for other in OTHERS:
        result = signal_type.compare_hash(
            signal_type.hash_from_file(other), banked, compare_match_pct_thresh=80.0
        )
        assert not result.match, other.name
