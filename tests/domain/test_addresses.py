"""The one email rule and the one https-URL rule."""

from __future__ import annotations

import pytest

from reclaim.domain.addresses import (
    InvalidAddressError,
    is_email,
    parse_email,
    parse_https_url,
)
from reclaim.domain.languages import Language


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (" Abuse@Example.ORG ", "abuse@example.org"),
        ("trust+safety@mail.example.co.uk", "trust+safety@mail.example.co.uk"),
    ],
)
def test_email_addresses_are_trimmed_and_lower_cased(text: str, expected: str) -> None:
    assert parse_email(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "",
        "abuse",
        "abuse@",
        "@example.org",
        "a b@example.org",
        "abuse@example",
        "a@b@c.org",
        "abuse@example.",
        "x" * 65 + "@example.org",
        "a@" + "b" * 250 + ".org",
    ],
)
def test_what_is_not_an_email_address_is_refused(text: str) -> None:
    assert not is_email(text)
    with pytest.raises(InvalidAddressError):
        parse_email(text)


def test_https_urls_only() -> None:
    assert (
        parse_https_url(" https://hooks.example.org/reclaim ")
        == "https://hooks.example.org/reclaim"
    )
    for bad in [
        "http://hooks.example.org/",
        "https://",
        "hooks.example.org",
        "https://a b.org/",
        "javascript:alert(1)",
        "https://x.org/" + "a" * 2048,
    ]:
        with pytest.raises(InvalidAddressError):
            parse_https_url(bad)


def test_languages_parse_from_catalog_names_and_tags() -> None:
    assert Language.parse("zh_TW") is Language.parse("zh-tw") is Language.ZH_TW
    assert Language.parse("EN") is Language.EN
    assert Language.parse("fr") is None
    assert Language.ZH_TW.tag == "zh-TW"
    assert Language.ZH_TW.native_name == "繁體中文"
