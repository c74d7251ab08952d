"""vPDQ on the reporter's device (src/reclaim/web/static/hashing/vpdq.js) in headless
Chromium: the browser's frame list of each shared test video must match the server's
vPDQ of the same file under vPDQ's rule, in both directions."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Browser, Page

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


#: A mid-range Android phone as Lighthouse's mobile audit approximates one: a phone's
#: screen, touch and user agent, and the CPU slowed four times (CDP throttling).
PHONE = {
    "viewport": {"width": 412, "height": 915},
    "device_scale_factor": 2.625,
    "is_mobile": True,
    "has_touch": True,
    "user_agent": (
        "Mozilla/5.0 (Linux; Android 14; Pixel 7) AppleWebKit/537.36 "
        "(KHTML, like Gecko) Chrome/130.0.0.0 Mobile Safari/537.36"
    ),
}
PHONE_CPU_SLOWDOWN = 4


def phone_video(path: Path) -> None:
    """A 30-second 720 x 1280 (portrait phone) H.264 video at 30 frames/s."""
    import av
    import numpy as np

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


@pytest.mark.parametrize("device", ["desktop", "phone"])
def test_in_browser_hashing_time_of_a_30_second_phone_video(
    browser: Browser,
    site: StaticSite,
    generated_dir: Path,
    device: str,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """A figure, not a timed assertion: the phone video hashed at one frame a second,
    in desktop Chromium and in Chromium emulating a mid-range phone."""
    path = generated_dir / "phone.mp4"
    if not path.exists():
        phone_video(path)
    context = browser.new_context(**PHONE) if device == "phone" else browser.new_context()
    try:
        page = context.new_page()
        if device == "phone":
            cdp = context.new_cdp_session(page)
            cdp.send("Emulation.setCPUThrottlingRate", {"rate": PHONE_CPU_SLOWDOWN})
        page.goto(site.url("/test/hasher.html"))
        page.wait_for_function("window.hasherTestReady === true")
        frames, ms = browser_frames(page, site.url("/generated/phone.mp4"))
    finally:
        context.close()
    server = server_frames(path)
    result = match_vpdq(frames, server)
    where = f"phone (CPU {PHONE_CPU_SLOWDOWN}x slower)" if device == "phone" else "desktop"
    report(
        capsys,
        f"30-second 720x1280 video, {where}: {len(frames)} frames hashed in the browser in "
        f"{ms:.0f} ms ({ms / len(frames):.0f} ms a frame); matches the server's "
        f"{result.query_percent:.0f}%/{result.target_percent:.0f}%",
    )
    assert len(frames) == 30
    assert result.is_match
