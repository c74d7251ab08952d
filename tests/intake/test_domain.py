"""The report form's fields, checked at the boundary: every problem named at once,
with a message the catalogs translate."""

from __future__ import annotations

from dataclasses import replace

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from reclaim.cases.domain import AgeGroup, MediaKind, ReporterRole, Situation
from reclaim.domain.signals import Signal, SignalType
from reclaim.intake.domain import (
    MAX_DESCRIPTION_LENGTH,
    MAX_URL_LENGTH,
    FileHashes,
    InputLimits,
    InvalidInputError,
    Problem,
    RawReport,
    normalise_url,
    parse_contact_change,
    parse_file,
    parse_items,
    parse_report,
)
from reclaim.web.i18n import read_catalog

LIMITS = InputLimits(max_urls=3, max_files=2)
MD5 = "0123456789abcdef0123456789abcdef"
SHA = "ab" * 32
PDQ = "f8f8f0cee0f4a84f06370a22038f63f0b36e2ed596621e1d33e6b39c4e9c9b22"
IMAGE = f"image:{MD5}:{SHA}:{PDQ}:87"


def raw(**changes: object) -> RawReport:
    form = RawReport(
        idempotency_key="k" * 32,
        reporter_role="self",
        age_group="under_18",
        situation="threat",
        urls="https://forum.example.net/t/1\n",
        files=(IMAGE,),
        description="  It started in a game.  ",
        contact="",
        contact_consent=False,
    )
    return replace(form, **changes)  # type: ignore[arg-type]


def problems(form: RawReport, limits: InputLimits = LIMITS) -> list[Problem]:
    with pytest.raises(InvalidInputError) as refused:
        parse_report(form, limits, language="en")
    return list(refused.value.problems)


def fields(form: RawReport) -> set[str]:
    return {p.field for p in problems(form)}


def test_a_valid_form_parses() -> None:
    report = parse_report(raw(), LIMITS, language="en")

    assert (report.reporter_role, report.age_group, report.situation) == (
        ReporterRole.SELF,
        AgeGroup.UNDER_18,
        Situation.THREAT,
    )
    assert report.urls == ("https://forum.example.net/t/1",)
    assert report.files == (
        FileHashes(
            MediaKind.IMAGE,
            Signal(SignalType.MD5, MD5),
            Signal(SignalType.SHA256, SHA),
            Signal(SignalType.PDQ, PDQ),
            87,
        ),
    )
    assert report.description == "It started in a game."
    assert (report.contact, report.contact_consent, report.language) == (None, False, "en")


def test_urls_are_normalised_and_duplicates_removed() -> None:
    text = "\n  HTTPS://Forum.Example.NET/t/1  \n\nhttps://forum.example.net/t/1\nhttp://x.example:8080\n"
    report = parse_report(raw(urls=text, files=()), LIMITS, language="en")
    assert report.urls == ("https://forum.example.net/t/1", "http://x.example:8080/")


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("ftp://files.example/a.jpg", "starts with https://"),
        ("javascript:alert(1)", "starts with https://"),
        ("data:text/html,hi", "starts with https://"),
        ("forum.example.net/t/1", "starts with https://"),
        ("https://", "not a web address"),
        ("https://exa mple.com/", "cannot contain spaces"),
        ("https://example.com:99999/", "not a web address"),
        ("https://<script>/", "not a web address"),
        ("https://example.com/" + "a" * MAX_URL_LENGTH, "too long"),
    ],
)
def test_bad_urls_are_refused_with_their_line(url: str, message: str) -> None:
    [problem] = problems(raw(urls=f"https://ok.example/\n{url}"))
    assert problem.field == "urls"
    assert message in problem.message
    assert problem.values == {"line": 2}


def test_too_many_urls() -> None:
    urls = "\n".join(f"https://example.com/{n}" for n in range(4))
    [problem] = problems(raw(urls=urls))
    assert (problem.field, problem.values) == ("urls", {"max": 3})


@pytest.mark.parametrize(
    "value",
    [
        f"image:{MD5}:{SHA}:{PDQ}:101",  # quality out of range
        f"image:{MD5}:{SHA}:{PDQ}:-1",
        f"image:{MD5}:{SHA}:{PDQ}",  # PDQ without quality
        f"image:{MD5[:-1]}:{SHA}",  # short MD5
        f"image:{MD5}:{SHA[:-1]}g:{PDQ}:90",  # not hexadecimal
        f"video:{MD5}:{SHA}:{PDQ}:90",  # videos have no PDQ here
        f"audio:{MD5}:{SHA}",
        f"image:{MD5}:{SHA}:{PDQ}:90:extra",
        "image:" + "0" * 300,
        "",
    ],
)
def test_malformed_file_hashes_are_refused(value: str) -> None:
    assert parse_file(value) is None
    if value:
        assert "files" in fields(raw(files=(IMAGE, value)))


def test_files_without_pdq_and_videos_parse() -> None:
    assert parse_file(f"image:{MD5.upper()}:{SHA}") == FileHashes(
        MediaKind.IMAGE, Signal(SignalType.MD5, MD5), Signal(SignalType.SHA256, SHA)
    )
    video = parse_file(f"video:{MD5}:{SHA}")
    assert video is not None and video.media_kind is MediaKind.VIDEO


def test_the_same_file_twice_is_one_file_and_too_many_files_are_refused() -> None:
    report = parse_report(raw(files=(IMAGE, IMAGE)), LIMITS, language="en")
    assert len(report.files) == 1
    others = tuple(f"video:{MD5}:{n + 1:064x}" for n in range(3))
    [problem] = problems(raw(files=others))
    assert (problem.field, problem.values) == ("files", {"max": 2})


def test_a_url_or_a_file_is_required() -> None:
    [problem] = problems(raw(situation="online", urls=" \n", files=()))
    assert problem.field == "urls"
    assert "at least one" in problem.message


@pytest.mark.parametrize("situation", ["threat", "both"])
def test_a_threat_needs_no_link_and_no_file(situation: str) -> None:
    """A child being blackmailed may have neither; the report must still go through."""
    form = raw(situation=situation, urls="", files=(), threat_account=" @bad.guy_99 ")
    report = parse_report(form, LIMITS, language="zh_TW")
    assert (report.urls, report.files) == ((), ())
    assert report.threat_account == "@bad.guy_99" and report.threat_platform is None
    online = parse_report(raw(situation="online", threat_account="someone"), LIMITS, language="en")
    assert online.threat_account is None  # only a threat keeps who threatens


def test_full_width_input_from_chinese_keyboards_is_read_as_ascii() -> None:
    report = parse_report(
        raw(
            urls="ｈｔｔｐｓ：／／ｆｏｒｕｍ．ｅｘａｍｐｌｅ．ｎｅｔ／ｔ／１",
            contact="０９１２－３４５－６７８",
            contact_consent=True,
        ),
        LIMITS,
        language="zh_TW",
    )
    assert report.urls == ("https://forum.example.net/t/1",)
    assert report.contact == "0912-345-678"


@pytest.mark.parametrize(
    ("typed", "stored"),
    [
        ("LINE: kid.2010", "LINE: kid.2010"),
        ("line id kid_2010", "LINE: kid_2010"),
        ("ＬＩＮＥ：ｋｉｄ２０１０", "LINE: kid2010"),
    ],
)
def test_a_line_id_is_a_contact(typed: str, stored: str) -> None:
    assert parse_contact_change(typed, True) == stored


@pytest.mark.parametrize(
    "value",
    [
        f"image:{'0' * 32}:{SHA}",
        f"image:{MD5}:{'0' * 64}",
        f"video:{'f' * 32}:{SHA}",
        f"image:{MD5}:{'a' * 64}:{PDQ}:90",
    ],
)
def test_digests_no_real_file_has_are_refused(value: str) -> None:
    assert parse_file(value) is None


def test_a_constant_pdq_is_dropped_and_the_exact_hashes_kept() -> None:
    parsed = parse_file(f"image:{MD5}:{SHA}:{'0' * 64}:100")
    assert parsed is not None and parsed.pdq is None and parsed.sha256.value == SHA


def test_overlong_text_is_refused_and_control_characters_dropped() -> None:
    [problem] = problems(raw(description="x" * (MAX_DESCRIPTION_LENGTH + 1)))
    assert problem.field == "description"
    assert problem.values == {"max": MAX_DESCRIPTION_LENGTH, "length": MAX_DESCRIPTION_LENGTH + 1}
    report = parse_report(raw(description="a\x00b\r\nc"), LIMITS, language="en")
    assert report.description == "ab\nc"


@pytest.mark.parametrize("contact", ["kid@example.com", "+886 912-345-678", "(02) 2345 6789"])
def test_a_contact_needs_consent(contact: str) -> None:
    report = parse_report(raw(contact=contact, contact_consent=True), LIMITS, language="en")
    assert (report.contact, report.contact_consent) == (contact, True)
    assert fields(raw(contact=contact)) == {"contact_consent"}


@pytest.mark.parametrize("contact", ["call me maybe", "12345", "a@b", "x" * 300 + "@example.com"])
def test_a_contact_must_be_an_email_or_a_phone(contact: str) -> None:
    assert fields(raw(contact=contact, contact_consent=True)) == {"contact"}


def test_every_problem_is_named_at_once() -> None:
    form = raw(
        idempotency_key="short",
        reporter_role="king",
        age_group="",
        situation="later",
        urls="ftp://x.example/",
        description="x" * 5000,
    )
    assert fields(form) == {
        "form",
        "reporter_role",
        "age_group",
        "situation",
        "urls",
        "description",
    }


def test_items_and_contact_changes_for_a_case() -> None:
    items = parse_items("https://a.example/x", [IMAGE], LIMITS)
    assert (len(items.urls), len(items.files)) == (1, 1)
    with pytest.raises(InvalidInputError):
        parse_items("", [], LIMITS)
    assert parse_contact_change("", False) is None
    assert parse_contact_change("kid@example.com", True) == "kid@example.com"
    with pytest.raises(InvalidInputError):
        parse_contact_change("kid@example.com", False)


@pytest.mark.parametrize("language", ["en", "zh_TW"])
def test_every_message_is_translated(language: str) -> None:
    catalog = read_catalog(language)
    form = raw(
        idempotency_key="?",
        reporter_role="",
        age_group="",
        situation="",
        urls="ftp://x\n" + "\n".join(f"https://e.example/{n}" for n in range(5)),
        files=("bad", *(f"video:{MD5}:{n + 1:064x}" for n in range(3))),
        description="x" * 5000,
        contact="kid@example.com",
    )
    for problem in [*problems(form), *problems(raw(situation="online", urls="", files=()))]:
        message = catalog.get(problem.message)
        assert message is not None and message.string, problem.message
        assert (message.string % dict(problem.values)) != ""


hex_of = st.integers(min_value=0)


@given(
    kind=st.sampled_from(MediaKind),
    md5=st.binary(min_size=16, max_size=16),
    sha=st.binary(min_size=32, max_size=32),
    pdq=st.one_of(st.none(), st.binary(min_size=32, max_size=32)),
    quality=st.integers(min_value=0, max_value=100),
)
def test_the_hidden_field_round_trips(
    kind: MediaKind, md5: bytes, sha: bytes, pdq: bytes | None, quality: int
) -> None:
    assume(len(set(md5)) > 1 and len(set(sha)) > 1 and (pdq is None or len(set(pdq)) > 1))
    with_pdq = pdq is not None and kind is MediaKind.IMAGE
    hashed = FileHashes(
        kind,
        Signal(SignalType.MD5, md5.hex()),
        Signal(SignalType.SHA256, sha.hex()),
        Signal(SignalType.PDQ, pdq.hex()) if with_pdq and pdq else None,
        quality if with_pdq else None,
    )
    assert parse_file(hashed.encode()) == hashed


@given(st.text(max_size=300))
def test_any_text_is_a_url_or_a_reason(text: str) -> None:
    url, message = normalise_url(text.strip() or "x")
    assert (url is None) == bool(message)
    if url is not None:
        assert url.startswith(("http://", "https://"))
        assert normalise_url(url) == (url, "")  # canonical form is a fixed point


def test_a_videos_frame_list_parses_round_trips_and_is_bounded() -> None:
    frames = ";".join(f"{n:064x},{50 + n},{n:.3f}" for n in range(1, 4))
    video = parse_file(f"video:{MD5}:{SHA}:{frames}")
    assert video is not None
    assert video.frames == tuple((float(n), f"{n:064x}", 50 + n) for n in range(1, 4))
    assert video.encode() == f"video:{MD5}:{SHA}:{frames}"
    assert parse_file(video.encode()) == video
    one = f"{1:064x},90,0.000"
    assert parse_file(f"video:{MD5}:{SHA}:" + ";".join([one] * 3600)) is not None
    for bad in (
        ";".join([one] * 3601),  # too many frames
        "",  # an empty list
        f"{1:064x},90",  # a frame of two fields
        f"{1:063x}g,90,0",  # not hex
        f"{1:064x},101,0",  # quality over 100
        f"{1:064x},-1,0",  # negative quality
        f"{1:064x},90,-1",  # negative time
        f"{1:064x},90,nan",  # not a time
        f"{1:064x},90,2;{2:064x},90,1",  # time going back
    ):
        assert parse_file(f"video:{MD5}:{SHA}:{bad}") is None, bad
    # A picture has no frame list.
    assert parse_file(f"image:{MD5}:{SHA}:{one}") is None
