"""Identifiers written many ways are one; profile URLs give handles; scripts compare."""

from __future__ import annotations

import pytest

from reclaim.linkage.domain import (
    Identifier,
    IdentifierKind,
    InvalidIdentifierError,
    identifier_from_url,
    identifiers_in_text,
    jaccard,
    normalise,
    shingles,
)

H = IdentifierKind.HANDLE
ALPHA = Identifier(H, "user_alpha")


@pytest.mark.parametrize(
    "written",
    [
        "user_alpha",
        "@user_alpha",
        "  @User_Alpha ",
        "＠ｕｓｅｒ＿ａｌｐｈａ",
        "ｕｓｅｒ＿ａｌｐｈａ",
    ],
)
def test_a_handle_written_many_ways_is_one_identifier(written: str) -> None:
    assert normalise(H, written).key == "user_alpha"


@pytest.mark.parametrize(
    ("url", "platform"),
    [
        ("https://www.instagram.com/user_alpha/", "instagram"),
        ("https://instagram.com/User_Alpha?igsh=abc", "instagram"),
        ("https://x.com/user_alpha", "x"),
        ("https://twitter.com/user_alpha/with_replies", "x"),
        ("https://www.tiktok.com/@user_alpha", "tiktok"),
        ("https://www.threads.net/@user_alpha", "threads"),
        ("https://t.me/user_alpha", "telegram"),
        ("https://www.facebook.com/user_alpha", "facebook"),
        ("https://www.reddit.com/user/user_alpha/", "reddit"),
        ("ｈｔｔｐｓ：／／ｗｗｗ．ｉｎｓｔａｇｒａｍ．ｃｏｍ／ｕｓｅｒ＿ａｌｐｈａ", "instagram"),
    ],
)
def test_profile_urls_give_the_platforms_handle(url: str, platform: str) -> None:
    assert identifier_from_url(url) == Identifier(H, "user_alpha", platform)
    assert normalise(H, url) == Identifier(H, "user_alpha", platform)


@pytest.mark.parametrize(
    "url",
    [
        "https://www.instagram.com/p/Cx1abc/",  # a post
        "https://www.instagram.com/explore/",
        "https://www.tiktok.com/user_alpha",  # tiktok profiles are /@name
        "https://x.com/user_alpha/status/1",
        "https://example.com/user_alpha",  # not a platform we can read
        "ftp://instagram.com/user_alpha",
    ],
)
def test_urls_that_do_not_name_an_account_reliably_give_nothing(url: str) -> None:
    assert identifier_from_url(url) is None


def test_facebook_numeric_profiles_and_line_ids() -> None:
    assert identifier_from_url("https://www.facebook.com/profile.php?id=1000123") == Identifier(
        H, "id:1000123", "facebook"
    )
    assert identifier_from_url("https://line.me/ti/p/~Alpha.Line") == Identifier(
        IdentifierKind.LINE_ID, "alpha.line"
    )


def test_phone_numbers_become_e164() -> None:
    phone = IdentifierKind.PHONE
    assert normalise(phone, "0912-345-678").key == "+886912345678"
    assert normalise(phone, "+886 912 345 678").key == "+886912345678"
    assert normalise(phone, "０９１２３４５６７８").key == "+886912345678"
    assert normalise(phone, "(415) 555-0123", region="US").key == "+14155550123"
    with pytest.raises(InvalidIdentifierError) as caught:
        normalise(phone, "not a phone")
    assert caught.value.code == "bad_phone"


def test_emails_payments_and_line_ids() -> None:
    assert normalise(IdentifierKind.EMAIL, " Alpha@Example.COM ").key == "alpha@example.com"
    with pytest.raises(InvalidIdentifierError):
        normalise(IdentifierKind.EMAIL, "alpha at example")
    pay = IdentifierKind.PAYMENT
    assert normalise(pay, "700-1234-5678 90").key == "70012345678 90".replace(" ", "")
    assert normalise(pay, "0xAbC123").key == "0xabc123"
    # base58 addresses are case-sensitive: kept as written
    assert normalise(pay, "1BoatSLRHtKNngkdXEeobR76b53LETtpyT").key == (
        "1BoatSLRHtKNngkdXEeobR76b53LETtpyT"
    )
    assert normalise(IdentifierKind.LINE_ID, "@Alpha_Line").key == "alpha_line"


def test_kinds_stay_apart_in_lookups() -> None:
    assert Identifier(IdentifierKind.PAYMENT, "0912345678").lookup_text != (
        Identifier(IdentifierKind.PHONE, "0912345678").lookup_text
    )


@pytest.mark.parametrize("bad", ["", "   ", "two words", "a" * 400])
def test_bad_handles_are_refused(bad: str) -> None:
    with pytest.raises(InvalidIdentifierError):
        normalise(H, bad)


def test_handles_and_profile_urls_are_found_in_free_text() -> None:
    text = (
        "他用 ＠ｕｓｅｒ＿ａｌｐｈａ 威脅我，also https://www.instagram.com/user_beta/ "
        "and mail me at someone@example.com"
    )
    found = list(identifiers_in_text(text))
    assert Identifier(H, "user_alpha") in found
    assert Identifier(H, "user_beta", "instagram") in found
    assert all(i.key != "example.com" for i in found)  # an email is not an @handle


def test_threat_scripts_compare_by_shingles() -> None:
    script = "If you don't send 5000 NTD by tonight, I will send your photos to your school."
    edited = "If you dont send 3000 NTD by tonight I will send your photos to your school!!"
    other = "Hi, how are you? Let's meet at the library after class tomorrow."
    assert jaccard(shingles(script), shingles(edited)) >= 0.6
    assert jaccard(shingles(script), shingles(other)) < 0.1
    zh = "如果你不在今晚之前匯款五千元，我就把你的照片寄給你的學校和家人。"
    zh_edit = "如果你不在今晚前匯款三千元，我就把你的照片寄給你的學校和家人"
    assert jaccard(shingles(zh), shingles(zh_edit)) >= 0.6
