"""The staff password policy: long enough, not a common password, not easily guessed.

Common passwords come from the ranked list of the 30,000 passwords most often found in
leaked password dumps that ships with ``zxcvbn`` (Dropbox's strength estimator, the
maintained Python port, MIT licence).  We did not write a list of our own: a list made
from memory misses what people really choose, and the one in zxcvbn is curated and
kept with the estimator.  A password is refused when it, or its core with leading and
trailing digits and punctuation removed (``Password2024!`` → ``password``), is on the
list, compared case-insensitively after Unicode normalisation.

zxcvbn's estimate then refuses what is not on the list but still quick to guess:
keyboard walks, repeats, dates, leet spellings of dictionary words, and the account's
own email address or name.  Staff accounts also have TOTP and login throttling, so the
bar is zxcvbn's score 3 ("safely unguessable against a throttled online attack and
moderately protected from an offline one"), not a score 4 that would push people
towards passwords they write down.
"""

from __future__ import annotations

import enum
import string
import threading
import unicodedata
from collections.abc import Iterable
from functools import cache

from zxcvbn import zxcvbn
from zxcvbn.frequency_lists import FREQUENCY_LISTS

#: argon2 hashes any length; the cap keeps a megabyte "password" from occupying a worker.
MAX_LENGTH = 256
#: zxcvbn's matching is quadratic in the length; it refuses longer input outright.
_ESTIMATE_LENGTH = 72
_MIN_SCORE = 3
_EDGES = string.digits + string.punctuation + string.whitespace
# zxcvbn keeps the user inputs of the current call in a module-level dictionary, so two
# threads estimating at once could see each other's inputs.
_zxcvbn_lock = threading.Lock()


class PasswordProblem(enum.StrEnum):
    TOO_SHORT = "too_short"
    TOO_LONG = "too_long"
    COMMON = "common"
    GUESSABLE = "guessable"


def normalise(password: str) -> str:
    """The form compared with the list: NFKC, case-folded, outer whitespace removed."""
    return unicodedata.normalize("NFKC", password).casefold().strip()


@cache
def _common_passwords() -> frozenset[str]:
    return frozenset(normalise(p) for p in FREQUENCY_LISTS["passwords"])


def is_common(password: str) -> bool:
    """On the common-password list, as typed or once its decoration is stripped."""
    common = _common_passwords()
    typed = normalise(password)
    core = typed.strip(_EDGES)
    return typed in common or (bool(core) and core in common)


def is_guessable(password: str, personal: Iterable[str] = ()) -> bool:
    """zxcvbn scores it below 3, or it is only the account's own name and address."""
    inputs = [part for text in personal for part in _personal_words(text)]
    if _only_personal(password, inputs):
        return True
    with _zxcvbn_lock:
        result = zxcvbn(password[:_ESTIMATE_LENGTH], user_inputs=inputs)
    return int(result["score"]) < _MIN_SCORE


def _only_personal(password: str, words: list[str]) -> bool:
    """True when the letters of the password are nothing but personal words strung
    together (``Mei.Lin.2024`` for mei.lin@…): zxcvbn undercounts such joins."""
    letters = "".join(ch for ch in normalise(password) if ch.isalpha())
    vocabulary = {w for w in words if w.isalpha() and len(w) >= 3}
    if not letters or not vocabulary:
        return False
    # reachable[i]: letters[:i] splits into vocabulary words.
    reachable = [True] + [False] * len(letters)
    for end in range(1, len(letters) + 1):
        reachable[end] = any(
            reachable[end - len(word)] and letters.endswith(word, 0, end)
            for word in vocabulary
            if len(word) <= end
        )
    return reachable[-1]


def _personal_words(text: str) -> list[str]:
    """An email address counts whole and by its parts (``li.wei@hotline.tw`` → li, wei…)."""
    words = [text.lower()]
    for separator in "@.-_+ ":
        text = text.replace(separator, " ")
    words.extend(word for word in text.lower().split() if len(word) >= 3)
    return words


def problems(
    password: str, *, min_length: int, personal: Iterable[str] = ()
) -> list[PasswordProblem]:
    """Everything wrong with a proposed password (empty when it is acceptable)."""
    if len(password) > MAX_LENGTH:
        return [PasswordProblem.TOO_LONG]
    found = []
    if len(password) < min_length:
        found.append(PasswordProblem.TOO_SHORT)
    if is_common(password):
        found.append(PasswordProblem.COMMON)
    elif password and is_guessable(password, personal):
        found.append(PasswordProblem.GUESSABLE)
    return found
