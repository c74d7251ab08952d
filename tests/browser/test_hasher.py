"""The on-device hasher (src/reclaim/web/static/hashing/) in headless Chromium.

The page under test is served with the portal's strict CSP from a loopback server; the
hashes it computes are checked against Meta's C++ PDQ (through reference.tsv and the
pdqhash package), Python's hashlib, and the module's own slow twins.
"""

from __future__ import annotations

import csv
import hashlib
import io
import random
import statistics
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from PIL import Image, ImageOps, features
from playwright.sync_api import Page

from tests.browser.conftest import StaticSite

pytestmark = pytest.mark.browser

PDQ_DIR = "threatexchange/pdq"
VIDEO_DIR = "threatexchange/video"

# PDQ's own acceptance rule for a port, for images of quality 80 or more.
MAX_PDQ_DISTANCE = 10
MAX_MEDIAN_PDQ_DISTANCE = 2
MAX_QUALITY_DELTA = 10


@dataclass(frozen=True, slots=True)
class Reference:
    """One row of reference.tsv (hashes made with Meta's C++ PDQ via pdqhash)."""

    path: str
    md5: str
    sha256: str
    pdq_rgb: str
    quality_rgb: int


def hamming(a: str, b: str) -> int:
    return (int(a, 16) ^ int(b, 16)).bit_count()


# The page's pattern videos start with this MP4 file-type box (see hasher-page.js).
MP4_HEADER = b"\x00\x00\x00\x18ftypisom\x00\x00\x02\x00isommp41"


def pattern_digests(size: int, prefix: bytes = b"") -> tuple[str, str]:
    """MD5 and SHA-256 of `prefix` and then the page's synthetic bytes: byte i is the XOR
    of i's 4 bytes."""
    md5 = hashlib.md5(prefix)  # noqa: S324 (an exchange format, not a security use)
    sha256 = hashlib.sha256(prefix)
    step = 16 * 1024 * 1024
    for start in range(0, size, step):
        i = np.arange(start, min(start + step, size), dtype=np.uint32)
        chunk = ((i ^ (i >> 8) ^ (i >> 16) ^ (i >> 24)) & 0xFF).astype(np.uint8).tobytes()
        md5.update(chunk)
        sha256.update(chunk)
    return md5.hexdigest(), sha256.hexdigest()


def reference_pdq(image: Image.Image) -> tuple[str, int]:
    """PDQ hex and quality by Meta's C++ code, of the pixels as stored, as reference.tsv."""
    import pdqhash

    bits, quality = pdqhash.compute(np.asarray(image.convert("RGB")))
    return f"{int(''.join(str(b) for b in bits), 2):064x}", int(quality)


def media_url(site: StaticSite, directory: Path, name: str, data: bytes) -> str:
    """Write a generated file where the site serves it and return its URL."""
    (directory / name).write_bytes(data)
    return site.url(f"/generated/{name}")


def asymmetric_picture() -> Image.Image:
    """An asymmetric picture: rotating or flipping it changes its PDQ a lot."""
    ys, xs = np.mgrid[0:240, 0:360]
    rgb = np.stack([xs * 255 // 359, ys * 255 // 239, (xs // 40 + ys // 30) % 2 * 200], axis=-1)
    image = Image.fromarray(rgb.astype(np.uint8))
    image.paste((250, 250, 250), (20, 30, 140, 90))
    image.paste((10, 10, 10), (250, 150, 330, 220))
    return image


def encode_video(codec: str, container: str) -> bytes:
    """A second of moving synthetic frames, encoded with PyAV."""
    import av

    buffer = io.BytesIO()
    with av.open(buffer, mode="w", format=container) as output:
        stream = output.add_stream(codec, rate=10)
        stream.width, stream.height, stream.pix_fmt = 96, 64, "yuv420p"
        stream.time_base = Fraction(1, 10)
        ys, xs = np.mgrid[0:64, 0:96]
        for n in range(10):
            rgb = np.stack([(xs * 2 + n * 10) % 256, (ys * 3) % 256, (xs + ys + n) % 256], axis=-1)
            frame = av.VideoFrame.from_ndarray(rgb.astype(np.uint8), format="rgb24")
            output.mux(stream.encode(frame))
        output.mux(stream.encode(None))
    return buffer.getvalue()


@pytest.fixture(scope="module")
def references(testdata: Path) -> list[Reference]:
    with (testdata / PDQ_DIR / "reference.tsv").open(newline="") as table:
        return [
            Reference(
                path=row["path"],
                md5=row["md5"],
                sha256=row["sha256"],
                pdq_rgb=row["pdq_rgb"],
                quality_rgb=int(row["quality_rgb"]),
            )
            for row in csv.DictReader(table, delimiter="\t")
        ]


def hash_urls(page: Page, urls: list[str], **options: Any) -> list[dict[str, Any]]:
    outcomes: list[dict[str, Any]] = page.evaluate(
        "([urls, options]) => hasherTest.hashUrls(urls, options)", [urls, options]
    )
    return outcomes


def report(capsys: pytest.CaptureFixture[str], line: str) -> None:
    """Print past pytest's capture, so the figure shows in every test run's output."""
    with capsys.disabled():
        print(f"\n    {line}")


@pytest.mark.parametrize("decoder", ["webcodecs", "canvas"])
def test_pdq_md5_sha256_agree_with_meta_reference(
    hasher_page: Page,
    site: StaticSite,
    references: list[Reference],
    capsys: pytest.CaptureFixture[str],
    decoder: str,
) -> None:
    """Chromium decodes through WebCodecs; browsers without it through a canvas."""
    urls = [site.url(f"/testdata/{PDQ_DIR}/{r.path}") for r in references]
    outcomes = hash_urls(hasher_page, urls, canvasOnly=decoder == "canvas")

    assert [o.get("error") for o in outcomes] == [None] * len(references)
    results = [o["result"] for o in outcomes]
    for ref, result in zip(references, results, strict=True):
        assert (result["md5"], result["sha256"]) == (ref.md5, ref.sha256), ref.path
        assert result["kind"] == "image", ref.path

    graded = [
        (ref, result)
        for ref, result in zip(references, results, strict=True)
        if ref.quality_rgb >= 80 and Path(ref.path).suffix in {".jpg", ".png", ".webp"}
    ]
    distances = {ref.path: hamming(result["pdq"]["hash"], ref.pdq_rgb) for ref, result in graded}
    quality_deltas = {
        ref.path: abs(result["pdq"]["quality"] - ref.quality_rgb) for ref, result in graded
    }
    median = statistics.median(distances.values())
    report(
        capsys,
        f"PDQ ({decoder}) vs Meta's C++ (pdq_rgb) over {len(graded)} images: Hamming max "
        f"{max(distances.values())}, median {median}, mean "
        f"{statistics.mean(distances.values()):.2f}; quality |delta| max "
        f"{max(quality_deltas.values())}; distances {sorted(distances.values())}",
    )
    assert len(graded) >= 30
    assert {p: d for p, d in distances.items() if d > MAX_PDQ_DISTANCE} == {}
    assert median <= MAX_MEDIAN_PDQ_DISTANCE
    assert {p: d for p, d in quality_deltas.items() if d > MAX_QUALITY_DELTA} == {}


def test_other_formats_and_transparent_pixels(
    hasher_page: Page, site: StaticSite, generated_dir: Path
) -> None:
    """GIF, BMP, AVIF, and PNGs whose transparent pixels hide colours that Pillow (so the
    reference, and the platforms) hash: they agree with Meta's C++ PDQ too."""
    picture = asymmetric_picture()
    pixels = np.asarray(picture.convert("RGBA")).copy()
    pixels[:, :, 3] = 128
    half_transparent = Image.fromarray(pixels)
    pixels[:120, :, 3] = 0
    hidden_colours = Image.fromarray(pixels)
    cases = [
        ("picture.gif", picture, "GIF"),
        ("picture.bmp", picture, "BMP"),
        ("half-transparent.png", half_transparent, "PNG"),
        ("hidden-colours.png", hidden_colours, "PNG"),
    ]
    if features.check("avif"):
        cases.append(("picture.avif", picture, "AVIF"))
    urls = {}
    for name, image, fmt in cases:
        buffer = io.BytesIO()
        image.save(buffer, fmt)
        urls[media_url(site, generated_dir, name, buffer.getvalue())] = buffer.getvalue()

    for outcome in hash_urls(hasher_page, list(urls)):
        expected, quality = reference_pdq(Image.open(io.BytesIO(urls[outcome["url"]])))
        pdq = outcome["result"]["pdq"]
        assert hamming(pdq["hash"], expected) <= 2, outcome["url"]
        assert abs(pdq["quality"] - quality) <= MAX_QUALITY_DELTA, outcome["url"]


@pytest.mark.parametrize("orientation", [3, 6, 8])
def test_exif_orientation_is_not_applied(
    hasher_page: Page, site: StaticSite, generated_dir: Path, orientation: int
) -> None:
    """PDQ hashes pixels as stored, like Pillow and Meta's tools, not as displayed."""
    exif = Image.Exif()
    exif[0x0112] = orientation
    urls = {}
    for fmt, options in [("JPEG", {"quality": 95}), ("PNG", {}), ("WEBP", {"lossless": True})]:
        buffer = io.BytesIO()
        asymmetric_picture().save(buffer, fmt, exif=exif.tobytes(), **options)
        data = buffer.getvalue()
        urls[media_url(site, generated_dir, f"oriented-{orientation}.{fmt.lower()}", data)] = data

    for outcome in hash_urls(hasher_page, list(urls)):
        data = urls[outcome["url"]]
        stored = Image.open(io.BytesIO(data))
        assert stored.getexif()[0x0112] == orientation
        as_stored, _ = reference_pdq(stored)
        as_displayed, _ = reference_pdq(ImageOps.exif_transpose(stored))
        got = outcome["result"]["pdq"]["hash"]
        assert hamming(got, as_stored) <= 2, outcome["url"]
        assert hamming(got, as_displayed) > 64, outcome["url"]
        assert outcome["result"]["md5"] == hashlib.md5(data).hexdigest()  # noqa: S324


@pytest.mark.parametrize("decoder", ["webcodecs", "canvas"])
def test_images_wider_than_a_canvas_may_be(
    hasher_page: Page, site: StaticSite, generated_dir: Path, decoder: str
) -> None:
    """Wider than Chromium's 16384-pixel texture limit: read in tiles, hashed in full."""
    ys, xs = np.mgrid[0:400, 0:18_000]
    rgb = np.stack([(xs // 7) % 256, (ys * xs // 5000) % 256, (xs // 300 + ys // 50) % 2 * 255], -1)
    buffer = io.BytesIO()
    Image.fromarray(rgb.astype(np.uint8)).save(buffer, "JPEG", quality=90)
    url = media_url(site, generated_dir, "panorama.jpg", buffer.getvalue())
    expected, quality = reference_pdq(Image.open(buffer))

    [outcome] = hash_urls(hasher_page, [url], canvasOnly=decoder == "canvas")

    assert hamming(outcome["result"]["pdq"]["hash"], expected) <= 2
    assert outcome["result"]["pdq"]["quality"] == quality


def test_images_this_browser_cannot_decode_get_digests_only(
    hasher_page: Page, site: StaticSite, generated_dir: Path
) -> None:
    """Chromium reads no TIFF or HEIC (Safari does): exact digests, and why no PDQ."""
    tiff = io.BytesIO()
    asymmetric_picture().save(tiff, "TIFF")
    files = {
        "scan.tiff": (tiff.getvalue(), "image/tiff"),
        "photo.heic": (
            b"\x00\x00\x00\x18ftypheic\x00\x00\x00\x00mif1heic" + bytes(999),
            "image/heic",
        ),
    }
    urls = {
        media_url(site, generated_dir, name, data): (data, mime)
        for name, (data, mime) in files.items()
    }
    for outcome in hash_urls(hasher_page, list(urls), worker=True):
        data, mime = urls[outcome["url"]]
        result = outcome["result"]
        assert result["sha256"] == hashlib.sha256(data).hexdigest()
        assert (result["kind"], result["mime"], result["pdq"]) == ("image", mime, None)
        assert result["pdqSkipped"]["code"] == "undecodable"


def test_worker_gives_the_same_results_as_the_direct_import(
    hasher_page: Page, site: StaticSite, references: list[Reference]
) -> None:
    urls = [site.url(f"/testdata/{PDQ_DIR}/{r.path}") for r in references[::9]]
    urls.append(site.url(f"/testdata/{VIDEO_DIR}/doorknob-hd-no-bar.mp4"))
    urls.append(site.url("/test/hasher.html"))  # not an image: both must refuse it alike

    direct = hash_urls(hasher_page, urls)
    in_worker = hash_urls(hasher_page, urls, worker=True)

    assert in_worker == direct
    assert [("error" in o) for o in direct] == [False] * (len(urls) - 1) + [True]


def test_files_chosen_in_a_file_input(
    hasher_page: Page, testdata: Path, references: list[Reference]
) -> None:
    """The portal's path: files picked in an <input type=file>, hashed in a worker."""
    reference = references[0]
    image = testdata / PDQ_DIR / reference.path
    video = testdata / VIDEO_DIR / "pattern-sd-grey-bar.mp4"
    hasher_page.set_input_files("#files", [image, video])

    outcomes = hasher_page.evaluate("hasherTest.hashInput({worker: true})")

    assert [o["name"] for o in outcomes] == [image.name, video.name]
    from_image, from_video = (o["result"] for o in outcomes)
    assert from_image["md5"] == reference.md5
    assert from_image["sha256"] == reference.sha256
    assert from_image["pdq"]["hash"] == reference.pdq_rgb
    assert from_video["sha256"] == hashlib.sha256(video.read_bytes()).hexdigest()
    assert from_video["pdq"] is None


def test_a_file_gone_from_the_device_is_unreadable(
    hasher_page: Page, testdata: Path, tmp_path: Path
) -> None:
    photo = tmp_path / "photo.jpg"
    photo.write_bytes((testdata / PDQ_DIR / "bridge-mods/aaa-orig.jpg").read_bytes())
    hasher_page.set_input_files("#files", photo)
    photo.unlink()

    for worker in (False, True):
        [outcome] = hasher_page.evaluate("worker => hasherTest.hashInput({worker})", worker)
        assert outcome["error"]["code"] == "unreadable"


def test_videos_get_exact_digests_and_no_pdq(
    hasher_page: Page, site: StaticSite, testdata: Path, generated_dir: Path
) -> None:
    files = {
        site.url(f"/testdata/{VIDEO_DIR}/doorknob-hd-no-bar.mp4"): (
            (testdata / VIDEO_DIR / "doorknob-hd-no-bar.mp4").read_bytes(),
            "video/mp4",
        ),
    }
    for codec, container, name, mime in [
        ("libx264", "mp4", "synthetic.mp4", "video/mp4"),
        ("libvpx", "webm", "synthetic.webm", "video/webm"),
    ]:
        data = encode_video(codec, container)
        files[media_url(site, generated_dir, name, data)] = (data, mime)

    for outcome in hash_urls(hasher_page, list(files)):
        data, mime = files[outcome["url"]]
        assert outcome["result"] == {
            "md5": hashlib.md5(data).hexdigest(),  # noqa: S324
            "sha256": hashlib.sha256(data).hexdigest(),
            "pdq": None,
            "pdqSkipped": None,
            "kind": "video",
            "mime": mime,
            "size": len(data),
        }


def test_files_that_are_not_images_or_videos_are_refused(hasher_page: Page) -> None:
    hasher_page.set_input_files(
        "#files",
        [
            {"name": "holiday.jpg", "mimeType": "image/jpeg", "buffer": b"just some text\n" * 20},
            {"name": "empty.png", "mimeType": "image/png", "buffer": b""},
            {"name": "page.mp4", "mimeType": "video/mp4", "buffer": b"<!doctype html><p>hi"},
        ],
    )
    for worker in (False, True):
        outcomes = hasher_page.evaluate("worker => hasherTest.hashInput({worker})", worker)
        assert [o["error"]["code"] for o in outcomes] == ["unsupported"] * 3
        assert [o["error"]["name"] for o in outcomes] == ["HashError"] * 3
        assert "not an image or a video" in outcomes[0]["error"]["message"]
        assert "empty" in outcomes[1]["error"]["message"]


def test_broken_images_are_refused_as_undecodable(
    hasher_page: Page, site: StaticSite, testdata: Path, generated_dir: Path
) -> None:
    jpeg = (testdata / PDQ_DIR / "bridge-mods/square-128x128.jpg").read_bytes()
    scan = jpeg.index(b"\xff\xda")
    png = (testdata / PDQ_DIR / "misc-images/modes/L.png").read_bytes()
    broken = {
        "garbage.jpg": b"\xff\xd8\xff" + bytes(range(256)) * 4,
        "no-scan.jpg": jpeg[:scan],
        "scan-is-noise.jpg": jpeg[: scan + 20] + random.Random(1).randbytes(4000),
        "no-image-data.png": png[:33],
        "header-only.webp": b"RIFF\x04\x00\x00\x00WEBP",
    }
    urls = [media_url(site, generated_dir, name, data) for name, data in broken.items()]
    for worker in (False, True):
        outcomes = hash_urls(hasher_page, urls, worker=worker)
        codes = {o["url"].rsplit("/", 1)[1]: o.get("error", {}).get("code") for o in outcomes}
        assert codes == dict.fromkeys(broken, "undecodable")


def test_size_limits(
    hasher_page: Page, site: StaticSite, testdata: Path, generated_dir: Path
) -> None:
    image_url = site.url(f"/testdata/{PDQ_DIR}/bridge-mods/aaa-orig.jpg")
    video_url = site.url(f"/testdata/{VIDEO_DIR}/doorknob-hd-no-bar.mp4")
    [image] = hash_urls(hasher_page, [image_url], maxImageBytes=100_000)
    [video] = hash_urls(hasher_page, [video_url], maxVideoBytes=100_000)
    assert image["error"]["code"] == video["error"]["code"] == "too_large"
    assert "limit is 0.1 MB" in image["error"]["message"]

    # A small file that claims 40000 x 40000 pixels (a decompression bomb): the exact
    # digests are still worth reporting, but the image is never decoded.
    bomb = bytearray((testdata / PDQ_DIR / "misc-images/modes/L.png").read_bytes())
    bomb[16:24] = (40_000).to_bytes(4, "big") * 2
    bomb_url = media_url(site, generated_dir, "bomb.png", bytes(bomb))
    [few_pixels] = hash_urls(hasher_page, [image_url], maxImagePixels=1_000_000)
    [outcome] = hash_urls(hasher_page, [bomb_url], worker=True, maxImagePixels=50_000_000)
    for result in (few_pixels["result"], outcome["result"]):
        assert result["pdq"] is None
        assert result["pdqSkipped"]["code"] == "too_large"
    assert outcome["result"]["md5"] == hashlib.md5(bomb).hexdigest()  # noqa: S324
    assert "40000×40000 pixels" in outcome["result"]["pdqSkipped"]["message"]


def test_progress_rises_to_one(hasher_page: Page, site: StaticSite) -> None:
    image_url = site.url(f"/testdata/{PDQ_DIR}/bridge-mods/aaa-orig.jpg")
    for worker in (False, True):
        image = hasher_page.evaluate(
            "([url, worker]) => hasherTest.hashUrlWithProgress(url, {worker})", [image_url, worker]
        )
        video = hasher_page.evaluate(
            "worker => hasherTest.hashPattern(20_000_000, {worker})", worker
        )
        for outcome in (image, video):
            progress = outcome["progress"]
            assert "result" in outcome
            assert len(progress) >= 3
            assert progress == sorted(set(progress))
            assert 0 < progress[0] < 1
            assert progress[-1] == 1


def test_hashing_can_be_aborted(hasher_page: Page) -> None:
    for worker in (False, True):
        outcome = hasher_page.evaluate(
            "worker => hasherTest.hashPattern(40_000_000, {worker, abort: true})", worker
        )
        assert outcome["error"]["name"] == "AbortError"
        assert len(outcome["progress"]) == 1


@pytest.mark.slow
def test_a_large_file_is_hashed_in_a_stream(
    hasher_page: Page, capsys: pytest.CaptureFixture[str]
) -> None:
    size = 200 * 1024 * 1024 + 12_345  # not a whole number of chunks or blocks
    outcome = hasher_page.evaluate("size => hasherTest.hashPattern(size, {worker: true})", size)
    speed = hasher_page.evaluate("hasherTest.digestSpeed(64)")
    md5, sha256 = pattern_digests(size, prefix=MP4_HEADER)
    assert (outcome["result"]["md5"], outcome["result"]["sha256"]) == (md5, sha256)
    assert outcome["result"]["size"] == len(MP4_HEADER) + size
    report(
        capsys,
        f"{size / 1e6:.0f} MB hashed in a worker in {outcome['milliseconds'] / 1000:.2f} s "
        f"({size / 1e3 / outcome['milliseconds']:.0f} MB/s, MD5 and SHA-256 together); "
        f"compute alone: MD5 {speed['md5']:.0f} MB/s, SHA-256 {speed['sha256']:.0f} MB/s",
    )


def test_digests_agree_with_hashlib_at_every_block_boundary(hasher_page: Page) -> None:
    rng = random.Random(7)
    lengths = [*range(0, 200), 1000, 4095, 4096, 4097, 65_536 + 7, 1_000_003]
    cases = [
        {"length": n, "cuts": sorted(rng.sample(range(n + 1), min(n + 1, 5)))} for n in lengths
    ]
    got = hasher_page.evaluate("cases => hasherTest.digestPieces(cases)", cases)
    for case, digests in zip(cases, got, strict=True):
        md5, sha256 = pattern_digests(case["length"])
        assert digests == {"md5": md5, "sha256": sha256}, case


def test_streaming_pdq_agrees_with_the_reference_order_twin(hasher_page: Page) -> None:
    sizes = [(64, 64), (5, 5), (4, 40), (40, 4), (63, 65), (1000, 37), (37, 1000), (777, 555)]
    cases = [
        {"width": w, "height": h, "seed": seed, "smooth": smooth}
        for seed, (w, h) in enumerate(sizes)
        for smooth in (False, True)
    ]
    for case, twins in zip(
        cases, hasher_page.evaluate("cases => hasherTest.pdqTwins(cases)", cases), strict=True
    ):
        fast, slow = twins["fast"], twins["slow"]
        assert hamming(fast["hash"], slow["hash"]) <= 1, case
        assert abs(fast["quality"] - slow["quality"]) <= 1, case
