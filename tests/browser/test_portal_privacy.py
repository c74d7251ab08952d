"""The privacy promise, proven: a report with pictures and videos sends none of their
bytes.

Every request the browser makes while the report is filled in and sent (pages,
scripts, the hashing worker's modules, the form) is recorded with its body.  The test
fails if any body, as sent or percent-decoded, holds any 64-byte slice of any of the
files, or if the report's requests carry more than 2 KB per file in all (which no
encoding of the files themselves could fit in), or if any request leaves the portal's
origin.
"""

from __future__ import annotations

from pathlib import Path
from urllib.parse import unquote_to_bytes

import numpy as np
import pytest
from playwright.sync_api import Browser, Request

from tests.browser.conftest import LiveServer
from tests.browser.portal_support import (
    PHOTOS,
    Media,
    fill_report,
    receipt,
    synthetic_photo,
    the_case,
    video,
)
from tests.support.cases import signal_links

pytestmark = pytest.mark.browser

WINDOW = 64
BYTES_PER_FILE = 2048


def windows(data: bytes) -> set[bytes]:
    return {data[i : i + WINDOW] for i in range(len(data) - WINDOW + 1)}


def leaks(bodies: list[bytes], files: list[bytes]) -> list[tuple[int, int]]:
    """(file index, offset) of every 64-byte slice of a file that some body contains.

    The bodies are small, so each of their 64-byte windows goes in a set; the files are
    large, so their windows are found with numpy: the first 8 bytes of every window of
    a file, as one integer, are looked up among the bodies' windows' first 8 bytes, and
    only those candidates are compared in full."""
    body_windows = set().union(*(windows(body) for body in bodies)) if bodies else set()
    if not body_windows:
        return []
    prefixes = np.array(
        sorted({int.from_bytes(w[:8], "little") for w in body_windows}), dtype=np.uint64
    )
    found = []
    for index, data in enumerate(files):
        count = len(data) - WINDOW + 1
        if count <= 0:
            continue
        array = np.frombuffer(data, dtype=np.uint8)
        keys = np.zeros(count, dtype=np.uint64)
        for k in range(8):
            keys |= array[k : k + count].astype(np.uint64) << np.uint64(8 * k)
        for offset in np.flatnonzero(np.isin(keys, prefixes)):
            if data[offset : offset + WINDOW] in body_windows:
                found.append((index, int(offset)))
    return found


def leaks_slowly(bodies: list[bytes], files: list[bytes]) -> list[tuple[int, int]]:
    """The obvious twin of leaks(): every window of every file, looked up one by one."""
    body_windows = set().union(*(windows(body) for body in bodies)) if bodies else set()
    return [
        (index, offset)
        for index, data in enumerate(files)
        for offset in range(len(data) - WINDOW + 1)
        if data[offset : offset + WINDOW] in body_windows
    ]


def test_the_leak_finder_finds_what_its_slow_twin_finds() -> None:
    rng = np.random.default_rng(5)
    files = [rng.integers(0, 256, size=n, dtype=np.uint8).tobytes() for n in (50, 3000, 20_000)]
    clean = [b"csrf_token=abc&urls=https%3A%2F%2Fexample.com", bytes(200)]
    planted = [clean[0] + files[1][1000:1064], files[2][:63] + b"x" + files[2][-64:]]

    assert leaks(clean, files) == leaks_slowly(clean, files) == []
    assert leaks(planted, files) == leaks_slowly(planted, files) == [(1, 1000), (2, 19_936)]


def test_no_byte_of_the_pictures_or_videos_leaves_the_device(
    browser: Browser, live_server: LiveServer, tmp_path: Path
) -> None:
    media = [
        synthetic_photo(tmp_path, "photo.jpg", seed=11),
        synthetic_photo(tmp_path, "drawing.png", seed=12, fmt="PNG"),
        Media(next(iter(sorted(PHOTOS.rglob("*.jpg"))))),
        video("doorknob-hd-no-bar.mp4"),
        video("pattern-sd-grey-bar.mp4"),
    ]
    context = browser.new_context(viewport={"width": 360, "height": 740}, locale="zh-TW")
    requests: list[Request] = []
    # (a bound method cannot be given: Playwright tags its handlers with an attribute)
    context.on("request", lambda request: requests.append(request))  # noqa: PLW0108
    page = context.new_page()

    fill_report(
        page, live_server, situation="both", urls=("https://x.example/p/1",), files=tuple(media)
    )

    number, _pin = receipt(page)
    files = [i for i in the_case(live_server, number).items if i.kind.value == "file"]
    assert len(files) == 5
    # Both videos were played on the device and hashed as videos (vPDQ frame lists).
    vpdq = [link for i in files for link in signal_links(i) if link.signal.type.value == "vpdq"]
    assert len(vpdq) == 2
    context.close()

    assert requests, "no request was recorded"
    # The videos play from blob: URLs of the page's own origin: reads of the chosen File
    # in the browser's memory, never a network request (and never with a body).
    local = [r for r in requests if r.url.startswith(f"blob:{live_server.url}/")]
    assert len(local) >= 2 and all(r.post_data_buffer is None for r in local)
    outside = [
        r.url for r in requests if not r.url.startswith(live_server.url + "/") and r not in local
    ]
    assert outside == []
    bodies = []
    for request in requests:
        body = request.post_data_buffer or b""
        url = request.url.encode()
        bodies += [body, unquote_to_bytes(body.replace(b"+", b" ")), url]
    assert leaks(bodies, [m.data for m in media]) == []
    sent = sum(len(r.post_data_buffer or b"") for r in requests)
    assert 0 < sent <= BYTES_PER_FILE * len(media), f"{sent} bytes sent for {len(media)} files"
    # The bound means something: the files are far larger than what was sent.
    assert sum(len(m.data) for m in media) > 100 * sent
