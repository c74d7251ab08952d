from __future__ import annotations

import pytest

from reclaim.accounts.passwords import MAX_LENGTH, PasswordProblem, is_common, problems

PERSONAL = ("mei.lin@staff.reclaim.test", "Mei Lin")


@pytest.mark.parametrize(
    "password",
    [
        "password",
        "PASSWORD",
        " password ",
        "Password2024!",
        "!!qwerty123",
        "iloveyou",
        "ｐａｓｓｗｏｒｄ",
    ],
)
def test_common_passwords_are_recognised_however_decorated(password: str) -> None:
    assert is_common(password)


@pytest.mark.parametrize("password", ["lantern orchard seventeen kettles", "2024", "!!!"])
def test_uncommon_passwords_are_not(password: str) -> None:
    assert not is_common(password)


@pytest.mark.parametrize(
    ("password", "expected"),
    [
        ("lantern orchard seventeen kettles", []),
        ("Tr0ub4dor&3-harbour", []),
        ("short", [PasswordProblem.TOO_SHORT, PasswordProblem.GUESSABLE]),
        ("correcthorse", [PasswordProblem.GUESSABLE]),
        ("password123456", [PasswordProblem.COMMON]),
        ("1q2w3e4r5t6y7u8i", [PasswordProblem.GUESSABLE]),
        ("abcabcabcabcabc", [PasswordProblem.GUESSABLE]),
        ("Mei.Lin.2024!!", [PasswordProblem.GUESSABLE]),
        ("meilin@staff.reclaim.test", [PasswordProblem.GUESSABLE]),
        ("x" * (MAX_LENGTH + 1), [PasswordProblem.TOO_LONG]),
        ("", [PasswordProblem.TOO_SHORT]),
    ],
)
def test_the_policy(password: str, expected: list[PasswordProblem]) -> None:
    assert problems(password, min_length=12, personal=PERSONAL) == expected


def test_long_strong_passwords_are_fine() -> None:
    # Longer than zxcvbn will look at; its first 72 characters decide.
    password = "lantern orchard seventeen kettles " * 5
    assert len(password) > 72
    assert problems(password, min_length=12) == []


def test_the_minimum_length_is_a_setting() -> None:
    assert problems("violet harbour lamps", min_length=24) == [PasswordProblem.TOO_SHORT]
    assert problems("violet harbour lamps", min_length=12) == []
