"""The analyst sees which banked video a fetched video matches, with both shares."""

from __future__ import annotations

import io
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from PIL import Image
from sqlalchemy import select

from reclaim.accounts.domain import Role
from reclaim.accounts.models import User
from reclaim.audit.domain import AuditTag
from reclaim.audit.models import AuditEvent
from reclaim.cases.models import QuarantinedMedia
from reclaim.config import Settings
from tests.support.http import LoopbackServer, content
from tests.support.settings import make_settings
from tests.support.testdata import VIDEOS
from tests.support.videos import variant
from tests.web.console.test_review import decide, fetch, url_case

Login = Callable[..., User]
ORIGINAL = VIDEOS / "chair-orig-22-sd-bar.mp4"


@pytest.fixture
def db_settings(tmp_path: Path, database_url: str) -> Settings:
    return make_settings(
        tmp_path,
        database_url=database_url,
        fetch_allowlist=["127.0.0.1/32"],
        fetch_total_timeout_seconds=30,
    )


@pytest.fixture
def server() -> Iterator[LoopbackServer]:
    started = LoopbackServer().start()
    yield started
    started.stop()


def test_a_reupload_shows_the_banked_video_it_matches(
    app: FastAPI, client: TestClient, login_as: Login, server: LoopbackServer
) -> None:
    server.routes["/first.mp4"] = content(ORIGINAL.read_bytes(), "video/mp4")
    trimmed = variant(ORIGINAL, skip_seconds=3.0)
    server.routes["/again.mp4"] = content(trimmed, "video/mp4")
    login_as(Role.ANALYST)
    first, (first_item,) = url_case(app, server.url("/first.mp4"))
    fetch(client, first, first_item)
    assert decide(client, first, first_item, "adult_ncii").status_code == 303

    again, (again_item,) = url_case(app, server.url("/again.mp4"))
    fetch(client, again, again_item)
    page = client.get(f"/console/cases/{again}", headers={"accept-language": "en"}).text
    assert "Banked videos this video matches: 1" in page
    assert "Bank “unverified”" in page and "(adult_ncii): 100.0 % of this video" in page
    assert "87.0 % of its frames match this video" in page
    chinese = client.get(f"/console/cases/{again}", headers={"accept-language": "zh-TW"}).text
    assert "此影片符合的已入庫影片：1 部" in chinese


def test_a_video_has_a_blurred_keyframe_strip_behind_a_click(
    app: FastAPI, client: TestClient, login_as: Login, server: LoopbackServer
) -> None:
    server.routes["/clip.mp4"] = content(ORIGINAL.read_bytes(), "video/mp4")
    login_as(Role.ANALYST)
    number, (item_id,) = url_case(app, server.url("/clip.mp4"))
    fetch(client, number, item_id)
    page = client.get(f"/console/cases/{number}", headers={"accept-language": "en"}).text
    assert "Show blurred preview" in page
    with app.state.reclaim.sessions() as session:
        (copy,) = session.scalars(select(QuarantinedMedia)).all()
        copy_id = copy.id
    strip = client.get(f"/console/media/{copy_id}/preview")
    assert strip.status_code == 200 and strip.headers["content-type"] == "image/jpeg"
    picture = Image.open(io.BytesIO(strip.content))
    assert picture.mode == "L"  # greyscale
    assert picture.width > 2 * picture.height  # several keyframes side by side
    with app.state.reclaim.sessions() as session:
        tags = list(session.scalars(select(AuditEvent.tag).order_by(AuditEvent.id)))
    assert AuditTag.ITEM_PREVIEWED.value in tags


def device_field(data: bytes, seed: str) -> str:
    """The portal's file field for a video, as vpdq.js sends it (the server's vPDQ of the
    same file stands in for the browser's: tests/browser/test_video_hasher.py shows the
    two match under vPDQ's rule)."""
    import hashlib

    from reclaim.hashing import HashingLimits, VideoHashes, hash_bytes

    hashes = hash_bytes(data, HashingLimits())
    assert isinstance(hashes, VideoHashes)
    frames = ";".join(f"{f.value},{f.quality},{f.timestamp:.3f}" for f in hashes.frames)
    md5 = hashlib.md5(seed.encode() + data).hexdigest()  # noqa: S324
    return f"video:{md5}:{hashlib.sha256(data).hexdigest()}:{frames}"


def test_a_portal_hash_only_report_of_a_reencoded_copy_matches_the_banked_video(
    app: FastAPI, client: TestClient, login_as: Login, server: LoopbackServer
) -> None:
    from reclaim.banks.models import BankEntry, VideoFrames
    from reclaim.cases.models import Case
    from reclaim.domain.signals import SignalType
    from tests.support.portal import submit

    server.routes["/first.mp4"] = content(ORIGINAL.read_bytes(), "video/mp4")
    login_as(Role.ANALYST)
    first, (first_item,) = url_case(app, server.url("/first.mp4"))
    fetch(client, first, first_item)
    assert decide(client, first, first_item, "adult_ncii").status_code == 303

    reencoded = variant(ORIGINAL, crf=36)
    other = (VIDEOS / "pattern-sd-grey-bar.mp4").read_bytes()
    number, _pin = submit(
        client,
        urls="",
        file=[device_field(reencoded, "copy"), device_field(other, "other")],
    )
    with app.state.reclaim.sessions() as session:
        case_id = session.scalars(select(Case.id).where(Case.number == number)).one()
        # Both videos' vPDQ are banked in the self-reported bank, unverified, frames stored.
        entries = session.scalars(select(BankEntry)).all()
        device_vpdq = [
            e for e in entries if e.signal.type is SignalType.VPDQ and e.source_ref == number
        ]
        assert len(device_vpdq) == 2
        assert all(not e.verified for e in device_vpdq)
        assert len(session.scalars(select(VideoFrames)).all()) == 3
    page = client.get(f"/console/cases/{number}", headers={"accept-language": "en"}).text
    assert case_id
    assert page.count("Banked videos this video matches: 1") == 1
    assert "Bank “unverified”" in page and "(adult_ncii)" in page


def test_a_bad_frame_list_is_refused_and_changes_nothing(app: FastAPI, client: TestClient) -> None:
    from reclaim.banks.models import VideoFrames
    from reclaim.cases.models import Case
    from tests.support.portal import report_form

    good = device_field((VIDEOS / "pattern-sd-grey-bar.mp4").read_bytes(), "x")
    head, frames = good.rsplit(":", 1)
    for bad in (
        f"{head}:{frames.replace(',', ',101,', 1)}",  # a frame of four fields
        f"{head}:{'0' * 63}g,90,0.000",  # not hex
        f"{head}:{frames.split(';')[0].rsplit(',', 1)[0]},-1",  # negative time
        f"{head}:" + ";".join([frames.split(";")[0]] * 3601),  # too many frames
    ):
        response = client.post("/report", data=report_form(client, file=[bad]))
        assert response.status_code == 400, bad[:120]
        assert "有 1 個檔案無法讀取，請重新選擇。" in response.text
    with app.state.reclaim.sessions() as session:
        assert session.scalars(select(Case)).all() == []
        assert session.scalars(select(VideoFrames)).all() == []
