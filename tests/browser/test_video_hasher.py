"""vPDQ on the reporter's device (src/reclaim/web/static/hashing/vpdq.js) in headless
Chromium: the browser's frame list of each shared test video must match the server's
vPDQ of the same file under vPDQ's rule, in both directions."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Page

from reclaim.hashing import HashingLimits, VideoHashes, VpdqFeature, hash_bytes, match_vpdq
from tests.browser.conftest import StaticSite

pytestmark = pytest.mark.browser

VIDEO_DIR = "threatexchange/video"
# The shared videos Chromium plays (H.264 in MP4).
VIDEOS = [
    "chair-22-sd-grey-bar.mp4",
    "chair-22-with-small-logo-bar.mp4",
    "chair-orig-22-sd-bar.mp4",
    "doorknob-hd-no-bar.mp4",
    "pattern-sd-grey-bar.mp4",
    "test-padded-dimensions.mp4",
]
LIMITS = HashingLimits()


def browser_frames(page: Page, url: str, **options: Any) -> tuple[list[VpdqFeature], float]:
    outcome = page.evaluate("([url, o]) => hasherTest.videoFramesOf(url, o)", [url, options])
    frames = outcome["frames"]
    assert frames is not None, f"{url}: the browser could not play it"
    return [
        VpdqFeature(n, f["timestamp"], f["pdq"], f["quality"]) for n, f in enumerate(frames)
    ], float(outcome["ms"])


def server_frames(path: Path) -> list[VpdqFeature]:
    hashes = hash_bytes(path.read_bytes(), LIMITS)
    assert isinstance(hashes, VideoHashes)
    return list(hashes.frames)


def report(capsys: pytest.CaptureFixture[str], line: str) -> None:
    with capsys.disabled():
        print(f"\n    {line}")


@pytest.mark.parametrize("name", VIDEOS)
def test_browser_frame_list_matches_the_servers_vpdq_both_ways(
    hasher_page: Page,
    site: StaticSite,
    testdata: Path,
    name: str,
    capsys: pytest.CaptureFixture[str],
) -> None:
    browser, ms = browser_frames(hasher_page, site.url(f"/testdata/{VIDEO_DIR}/{name}"))
    server = server_frames(testdata / VIDEO_DIR / name)
    forward = match_vpdq(browser, server)
    backward = match_vpdq(server, browser)
    report(
        capsys,
        f"{name}: browser {len(browser)} frames, server {len(server)}; browser->server "
        f"{forward.query_percent:.1f}%/{forward.target_percent:.1f}%, server->browser "
        f"{backward.query_percent:.1f}%/{backward.target_percent:.1f}% ({ms:.0f} ms)",
    )
    assert abs(len(browser) - len(server)) <= 1
    assert forward.is_match
    assert backward.is_match


def test_a_video_the_browser_cannot_play_gets_no_frame_list(
    hasher_page: Page, site: StaticSite, generated_dir: Path
) -> None:
    # An MP4 file-type box and then noise: the sniffer calls it a video, no decoder can play it.
    (generated_dir / "broken.mp4").write_bytes(
        b"\x00\x00\x00\x18ftypisom\x00\x00\x02\x00isommp41" + bytes(range(256)) * 400
    )
    outcome = hasher_page.evaluate(
        "u => hasherTest.videoFramesOf(u)", site.url("/generated/broken.mp4")
    )
    assert outcome["frames"] is None


def test_in_browser_hashing_time_of_a_30_second_phone_video(
    hasher_page: Page, site: StaticSite, generated_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A figure, not a timed assertion: a 30-second 720 x 1280 (portrait phone) H.264
    video at 30 frames/s, hashed at one frame a second."""
    import av
    import numpy as np

    path = generated_dir / "phone.mp4"
    rng = np.random.default_rng(19)
    with av.open(str(path), mode="w") as out:
        stream = out.add_stream("libx264", rate=30)
        stream.width, stream.height, stream.pix_fmt = 720, 1280, "yuv420p"
        stream.options = {"preset": "veryfast", "crf": "28"}
        base = rng.integers(0, 255, size=(40, 24, 3), dtype=np.uint8)
        for number in range(30 * 30):
            scene = np.roll(base, number // 30, axis=0)  # a new picture every second
            pixels = np.kron(scene, np.ones((32, 30, 1), dtype=np.uint8))
            frame = av.VideoFrame.from_ndarray(pixels, format="rgb24")
            out.mux(stream.encode(frame))
        out.mux(stream.encode(None))
    frames, ms = browser_frames(hasher_page, site.url("/generated/phone.mp4"))
    server = server_frames(path)
    result = match_vpdq(frames, server)
    report(
        capsys,
        f"30-second 720x1280 video: {len(frames)} frames hashed in the browser in {ms:.0f} ms "
        f"({ms / len(frames):.0f} ms a frame); matches the server's "
        f"{result.query_percent:.0f}%/{result.target_percent:.0f}%",
    )
    assert len(frames) == 30
    assert result.is_match
