"""Offender identifiers and the reasons that link cases: pure values.

An identifier is what names the person behind a case: an account's handle on a
platform, a profile URL the platform's structure does not let us read a handle from, a
phone number, an email address, a LINE ID, a payment account, or the text of a threat.
Reporters and analysts write the same account many ways (``@user_alpha``,
``user_alpha``, ``https://www.instagram.com/user_alpha/``, ``＠ｕｓｅｒ＿ａｌｐｈａ``);
:func:`normalise` turns each way into one :class:`Identifier` whose ``key`` is what
lookups compare (through a keyed hash: the key itself is stored only encrypted).

Handles are compared without their platform: a handle written without a URL names no
platform, and one offender often uses one handle on several platforms.  The platform,
when known, is kept beside the handle and shown with every link, so an analyst sees a
link between an Instagram and a TikTok ``user_alpha`` for what it is.

Threat texts are compared by similarity, not equality: :func:`shingles` cuts a text into
overlapping 5-character pieces (Chinese is not written with spaces, so words will not
do) and :func:`jaccard` says how much two texts share; ``linkage/scripts.py`` finds the
candidates with MinHash.
"""

from __future__ import annotations

import enum
import re
import unicodedata
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from urllib.parse import parse_qs, urlsplit

import phonenumbers


class IdentifierKind(enum.StrEnum):
    HANDLE = "handle"  # a username on a platform (platform kept beside it when known)
    PROFILE_URL = "profile_url"  # a profile page whose handle we cannot read reliably
    PHONE = "phone"  # E.164
    EMAIL = "email"
    LINE_ID = "line_id"
    PAYMENT = "payment"  # a bank account, e-wallet or crypto address
    THREAT_TEXT = "threat_text"  # the message the offender sent (compared by similarity)


class IdentifierSource(enum.StrEnum):
    """Where a case's identifier came from (shown with it)."""

    ANALYST = "analyst"  # entered on the case page
    POSTED_BY = "posted_by"  # the account an analyst says posted an item
    ITEM_URL = "item_url"  # a reported URL that is a profile page
    DESCRIPTION = "description"  # an @handle or profile URL in the reporter's words
    REPORTER = "reporter"  # "the account threatening you", from the report form
    PAGE = "page"  # the author a fetched page declares (its platform's structure)


class LinkReason(enum.StrEnum):
    """Why two cases are linked; a pair can have several."""

    IDENTIFIER = "identifier"  # the same offender identifier
    SAME_MEDIA = "same_media"  # a picture with the same MD5 / SHA-256 / PDQ
    SIMILAR_MEDIA = "similar_media"  # PDQ hashes within the bank match distance
    SAME_PAGE = "same_page"  # the same reported URL
    SAME_HOST = "same_host"  # the same site, when it is not a known platform
    THREAT_SCRIPT = "threat_script"  # near-identical threat messages


class InvalidIdentifierError(ValueError):
    """The text cannot be this kind of identifier; ``code`` names why (for the page)."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code


@dataclass(frozen=True, slots=True)
class Identifier:
    """One normalised identifier: ``(kind, key)`` is its identity."""

    kind: IdentifierKind
    key: str
    platform: str | None = None  # for handles and profile URLs, when known

    @property
    def lookup_text(self) -> str:
        """What the keyed hash is computed over (kind-separated, so a phone number and
        a payment account with the same digits stay apart)."""
        return f"{self.kind.value}\0{self.key}"


#: Most characters an identifier keeps (a threat message may be long).
MAX_LENGTH = {IdentifierKind.THREAT_TEXT: 4000}
DEFAULT_MAX_LENGTH = 320
_HANDLE = re.compile(r"[\w.\-]{1,64}")
_SPACE = re.compile(r"\s+")


def fold(text: str) -> str:
    """NFKC (full-width letters and ＠ become ASCII), case-folded, spaces collapsed."""
    return _SPACE.sub(" ", unicodedata.normalize("NFKC", text)).strip().casefold()


# --- profile URLs -> handles, per platform ---------------------------------------------

#: Platform -> registrable domains; the handle rule is in :func:`_handle_from_path`.
PROFILE_HOSTS: dict[str, tuple[str, ...]] = {
    "instagram": ("instagram.com",),
    "x": ("x.com", "twitter.com"),
    "facebook": ("facebook.com", "fb.com"),
    "tiktok": ("tiktok.com",),
    "threads": ("threads.net", "threads.com"),
    "telegram": ("t.me", "telegram.me"),
    "youtube": ("youtube.com",),
    "dcard": ("dcard.tw",),
    "reddit": ("reddit.com",),
    "line": ("line.me",),
}
#: First path segments that are pages of the platform, not accounts.
_NOT_ACCOUNTS = frozenset(
    {
        "p", "reel", "reels", "stories", "explore", "accounts", "tv", "direct",
        "home", "search", "i", "intent", "hashtag", "share", "watch", "groups",
        "pages", "events", "messages", "settings", "login", "video", "f", "r",
        "joinchat", "s", "c", "channel", "shorts",
    }
)  # fmt: skip


def platform_of_host(host: str) -> str | None:
    host = host.lower().rstrip(".").removeprefix("www.").removeprefix("m.")
    for platform, domains in PROFILE_HOSTS.items():
        if any(host == d or host.endswith("." + d) for d in domains):
            return platform
    return None


def identifier_from_url(url: str) -> Identifier | None:
    """The account a profile URL names, when the platform's URL structure says so
    reliably; a post's URL, a search page or an unknown site gives None."""
    try:
        parts = urlsplit(unicodedata.normalize("NFKC", url.strip()))
    except ValueError:
        return None
    if parts.scheme.lower() not in ("http", "https") or not parts.hostname:
        return None
    platform = platform_of_host(parts.hostname)
    if platform is None:
        return None
    segments = [s for s in parts.path.split("/") if s]
    handle = _handle_from_path(platform, segments, parts.query)
    if handle is None:
        return None
    if platform == "line":
        return Identifier(IdentifierKind.LINE_ID, handle)
    return Identifier(IdentifierKind.HANDLE, handle, platform)


def _handle_from_path(  # noqa: PLR0911 - one answer per platform rule, read top down
    platform: str, segments: list[str], query: str
) -> str | None:
    if platform == "facebook" and segments == ["profile.php"]:
        ids = parse_qs(query).get("id")
        return f"id:{ids[0]}" if ids and ids[0].isdigit() else None
    if platform == "line":  # line.me/ti/p/~someid
        if len(segments) == 3 and segments[:2] == ["ti", "p"] and segments[2].startswith("~"):
            return _clean_handle(segments[2][1:])
        return None
    if platform == "reddit":
        if len(segments) >= 2 and segments[0] in ("user", "u"):
            return _clean_handle(segments[1])
        return None
    if not segments:
        return None
    first = segments[0]
    if platform in ("tiktok", "threads", "youtube", "dcard"):
        # Their profiles are /@handle; a bare first segment is something else.
        return _clean_handle(first[1:]) if first.startswith("@") and len(segments) == 1 else None
    if first.lower() in _NOT_ACCOUNTS or (len(segments) > 1 and platform != "x"):
        return None
    if platform == "x" and len(segments) > 1 and segments[1] != "with_replies":
        return None
    return _clean_handle(first)


def _clean_handle(text: str) -> str | None:
    handle = fold(text).lstrip("@")
    return handle if _HANDLE.fullmatch(handle) else None


# --- the account a reporter says is threatening them ----------------------------------

#: What reporters type as the app (folded) -> the platform key of ``PROFILE_HOSTS``.
PLATFORM_NAMES: dict[str, str] = {
    "instagram": "instagram", "ig": "instagram", "x": "x", "twitter": "x",
    "facebook": "facebook", "fb": "facebook", "messenger": "facebook", "臉書": "facebook",
    "tiktok": "tiktok", "抖音": "tiktok", "threads": "threads", "telegram": "telegram",
    "tg": "telegram", "youtube": "youtube", "dcard": "dcard", "reddit": "reddit",
    "line": "line",
}  # fmt: skip
_EMAIL_LIKE = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s]+")
_PHONE_LIKE = re.compile(r"\+?[\d\s\-()]{7,20}")


def platform_named(text: str | None) -> str | None:
    """The platform key for what a reporter typed as the app ("IG", "Instagram")."""
    return PLATFORM_NAMES.get(fold(text or "").replace(" ", ""))


def threat_account_identifier(
    account: str, platform: str | None, *, region: str = "TW"
) -> Identifier | None:
    """The threatening account from the urgent path's form, as an identifier: a profile
    URL (its handle), an email, a phone number, a LINE ID (platform LINE) or a handle
    with the platform the reporter named; None when it parses as none of them."""
    text = unicodedata.normalize("NFKC", account).strip()
    named = platform_named(platform)
    try:
        if "/" in text:
            return identifier_from_url(text) or normalise(IdentifierKind.PROFILE_URL, text)
        if _EMAIL_LIKE.fullmatch(text):
            return normalise(IdentifierKind.EMAIL, text)
        if _PHONE_LIKE.fullmatch(text) and sum(c.isdigit() for c in text) >= 7:
            return normalise(IdentifierKind.PHONE, text, region=region)
        if named == "line":
            return normalise(IdentifierKind.LINE_ID, text)
        handle = normalise(IdentifierKind.HANDLE, text)
    except InvalidIdentifierError:
        return None
    return Identifier(handle.kind, handle.key, named)


# --- normalising what people write -----------------------------------------------------


def normalise(kind: IdentifierKind, text: str, *, region: str = "TW") -> Identifier:
    """One identifier from what someone wrote; raises InvalidIdentifierError.

    A handle written as a profile URL becomes that platform's handle; a profile URL of a
    platform whose handles we cannot read stays a canonical profile URL.
    """
    limit = MAX_LENGTH.get(kind, DEFAULT_MAX_LENGTH)
    if not text.strip():
        raise InvalidIdentifierError("empty", "an identifier cannot be empty")
    if len(text) > limit:
        raise InvalidIdentifierError("too_long", f"at most {limit} characters")
    if kind in _URL_KINDS and "/" in unicodedata.normalize("NFKC", text):
        found = identifier_from_url(text)
        if found is not None:
            return found
    if kind is IdentifierKind.PHONE:
        return Identifier(kind, _phone(text, region))
    return _NORMALISERS[kind](text)


def _handle(text: str) -> Identifier:
    handle = _clean_handle(text)
    if handle is None:
        raise InvalidIdentifierError("bad_handle", "letters, digits, '.', '_' or '-'")
    return Identifier(IdentifierKind.HANDLE, handle)


def _line_id(text: str) -> Identifier:
    line_id = _clean_handle(text)
    if line_id is None:
        raise InvalidIdentifierError("bad_line_id", "not a LINE ID")
    return Identifier(IdentifierKind.LINE_ID, line_id)


def _profile_url(text: str) -> Identifier:
    try:
        parts = urlsplit(unicodedata.normalize("NFKC", text.strip()))
    except ValueError:
        parts = None
    if parts is None or parts.scheme.lower() not in ("http", "https") or not parts.hostname:
        raise InvalidIdentifierError("bad_url", "a profile URL starts with https://")
    host = parts.hostname.lower().removeprefix("www.")
    path = parts.path.rstrip("/") or "/"
    return Identifier(IdentifierKind.PROFILE_URL, f"https://{host}{path}", platform_of_host(host))


def _phone(text: str, region: str) -> str:
    try:
        number = phonenumbers.parse(unicodedata.normalize("NFKC", text), region)
    except phonenumbers.NumberParseException:
        number = None
    if number is None or not phonenumbers.is_possible_number(number):
        raise InvalidIdentifierError("bad_phone", "not a phone number")
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


_EMAIL = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s]+")


def _email(text: str) -> Identifier:
    address = fold(text)
    if not _EMAIL.fullmatch(address):
        raise InvalidIdentifierError("bad_email", "not an email address")
    return Identifier(IdentifierKind.EMAIL, address)


_SEPARATORS = re.compile(r"[\s\-_.]")


def _payment(text: str) -> Identifier:
    """Separators dropped; hex (0x…) and bech32 (bc1…) addresses lower-cased, others
    kept as written: base58 crypto addresses are case-sensitive."""
    value = _SEPARATORS.sub("", unicodedata.normalize("NFKC", text))
    if value.lower().startswith(("0x", "bc1", "tb1", "ltc1")):
        value = value.lower()
    return Identifier(IdentifierKind.PAYMENT, value)


def _threat_text(text: str) -> Identifier:
    return Identifier(IdentifierKind.THREAT_TEXT, fold(text))


_URL_KINDS = (IdentifierKind.HANDLE, IdentifierKind.PROFILE_URL, IdentifierKind.LINE_ID)
_NORMALISERS: dict[IdentifierKind, Callable[[str], Identifier]] = {
    IdentifierKind.HANDLE: _handle,
    IdentifierKind.PROFILE_URL: _profile_url,
    IdentifierKind.LINE_ID: _line_id,
    IdentifierKind.EMAIL: _email,
    IdentifierKind.PAYMENT: _payment,
    IdentifierKind.THREAT_TEXT: _threat_text,
}


# --- finding identifiers in what reporters wrote ----------------------------------------

_URL_IN_TEXT = re.compile(r"https?://[^\s<>\"'，。、）)]+", re.IGNORECASE)
_MENTION = re.compile(r"(?<![\w@.])@([\w.\-]{2,64})")


def identifiers_in_text(text: str) -> Iterator[Identifier]:
    """Profile URLs and ``@handles`` in free text (NFKC first, so ``＠ｘ`` counts).

    Only tokens whose shape is unambiguous: a bare word is not taken for a handle.
    """
    folded = unicodedata.normalize("NFKC", text)
    for match in _URL_IN_TEXT.finditer(folded):
        found = identifier_from_url(match.group(0))
        if found is not None:
            yield found
    without_urls = _URL_IN_TEXT.sub(" ", folded)
    for match in _MENTION.finditer(without_urls):
        handle = _clean_handle(match.group(1).rstrip(".-"))
        if handle:
            yield Identifier(IdentifierKind.HANDLE, handle)


# --- threat scripts ---------------------------------------------------------------------

SHINGLE = 5
#: Chinese packs a word into one or two characters: shorter pieces for it.
CJK_SHINGLE = 3
_NOT_TEXT = re.compile(r"[\W_]+")
_CJK = re.compile(r"[\u3040-\u30ff\u3400-\u9fff\uac00-\ud7af]")


def shingles(text: str, size: int | None = None) -> frozenset[str]:
    """Overlapping pieces of the folded text without punctuation or spaces (so a
    changed comma or line break does not matter): 5 characters, 3 where at least a
    third of the text is Chinese, Japanese or Korean."""
    compact = _NOT_TEXT.sub("", fold(text))
    if size is None:
        cjk = len(_CJK.findall(compact))
        size = CJK_SHINGLE if compact and cjk * 3 >= len(compact) else SHINGLE
    if len(compact) <= size:
        return frozenset({compact}) if compact else frozenset()
    return frozenset(compact[i : i + size] for i in range(len(compact) - size + 1))


def jaccard(first: frozenset[str], second: frozenset[str]) -> float:
    if not first or not second:
        return 0.0
    return len(first & second) / len(first | second)


#: Two threat messages sharing this much (Jaccard of shingles) are one script.
SCRIPT_SIMILARITY = 0.6
