"""What the portal's forms send, checked at the boundary.

A report form becomes a :class:`ReportInput` whose parts are already valid (URLs that
are http/https and not too long, hashes of the right form, bounded text), or an
:class:`InvalidInputError` listing every problem at once, so the reporter fixes them in
one go.  Nothing is stored from a form that does not parse.

Problems carry English message ids marked with ``_`` so that the catalog extractor
finds them; the web layer translates them in the reporter's language when it shows
them.  This module knows nothing of requests or languages.
"""

from __future__ import annotations

import dataclasses
import re
import unicodedata
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TypeVar
from urllib.parse import urlsplit, urlunsplit

from reclaim.cases.domain import AgeGroup, MediaKind, ReporterRole, Situation
from reclaim.domain.addresses import is_email
from reclaim.domain.signals import InvalidSignalError, Signal, SignalType
from reclaim.intake.device_video import MAX_FRAME_LENGTH, MAX_VIDEO_FRAMES, parse_frames

MAX_URL_LENGTH = 2048
MAX_DESCRIPTION_LENGTH = 4000
MAX_CONTACT_LENGTH = 254
MAX_THREAT_ACCOUNT_LENGTH = 200
MAX_THREAT_PLATFORM_LENGTH = 100
# A hidden file field: kind, MD5, SHA-256, PDQ and its quality, with separators.
MAX_FILE_FIELD_LENGTH = 200
IDEMPOTENCY_KEY = re.compile(r"[A-Za-z0-9_-]{16,64}")

_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
_PHONE = re.compile(r"\+?[0-9(][0-9 ()\-]{4,24}")
# A LINE ID (Taiwan's usual messenger): 4-20 of letters, digits, ".", "_" and "-",
# written as "LINE: id" or "line id" so that it is not taken for a mistyped address.
_LINE_ID = re.compile(r"line(?:\s*id)?\s*[:：]?\s*@?([a-z0-9._-]{4,20})", re.IGNORECASE)
# What urlsplit leaves of a host: a name (IDN letters allowed) or an IPv6 literal.
_HOST = re.compile(r"[a-z0-9\u00a1-\uffff._~%-]+|[0-9a-f:.]+")


_E = TypeVar("_E", ReporterRole, AgeGroup, Situation)


def _(message: str) -> str:
    """Mark a message id for the catalogs; the web layer translates it when shown."""
    return message


@dataclass(frozen=True, slots=True)
class Problem:
    """One thing wrong with a form: the field it belongs to and what to say."""

    field: str
    message: str
    # (dataclasses.field in full: the attribute above is named `field` too)
    values: Mapping[str, object] = dataclasses.field(default_factory=dict)


class InvalidInputError(ValueError):
    def __init__(self, problems: Sequence[Problem]) -> None:
        super().__init__("; ".join(f"{p.field}: {p.message}" for p in problems))
        self.problems = tuple(problems)


@dataclass(frozen=True, slots=True)
class FileHashes:
    """What the reporter's device computed for one file: never the file itself."""

    media_kind: MediaKind
    md5: Signal
    sha256: Signal
    pdq: Signal | None = None
    pdq_quality: int | None = None
    #: A video's vPDQ frames as ``(timestamp_seconds, pdq_hex, quality)``, in order
    #: (numbered from 0); empty when the browser could not play the video.
    frames: tuple[tuple[float, str, int], ...] = ()

    def signals(self) -> list[tuple[Signal, int | None]]:
        found: list[tuple[Signal, int | None]] = [(self.md5, None), (self.sha256, None)]
        if self.pdq is not None:
            found.append((self.pdq, self.pdq_quality))
        return found

    def encode(self) -> str:
        """The hidden form field this was parsed from (see :func:`parse_file`)."""
        parts = [self.media_kind.value, self.md5.value, self.sha256.value]
        if self.pdq is not None:
            parts += [self.pdq.value, str(self.pdq_quality)]
        if self.frames:
            parts.append(";".join(f"{v},{q},{t:.3f}" for t, v, q in self.frames))
        return ":".join(parts)


@dataclass(frozen=True, slots=True)
class InputLimits:
    max_urls: int
    max_files: int


@dataclass(frozen=True, slots=True)
class RawReport:
    """A report form's fields as strings, as the browser sent them."""

    idempotency_key: str = ""
    reporter_role: str = ""
    age_group: str = ""
    situation: str = ""
    urls: str = ""
    files: Sequence[str] = ()
    description: str = ""
    contact: str = ""
    contact_consent: bool = False
    # The urgent path: who is threatening, and where (both optional).
    threat_account: str = ""
    threat_platform: str = ""


@dataclass(frozen=True, slots=True)
class ReportInput:
    """A valid report: what :func:`parse_report` returns and the intake service takes."""

    idempotency_key: str
    reporter_role: ReporterRole
    age_group: AgeGroup
    situation: Situation
    urls: tuple[str, ...]
    files: tuple[FileHashes, ...]
    description: str | None
    contact: str | None
    contact_consent: bool
    language: str
    threat_account: str | None = None
    threat_platform: str | None = None


@dataclass(frozen=True, slots=True)
class Items:
    """URLs and files to add to a case."""

    urls: tuple[str, ...]
    files: tuple[FileHashes, ...]


def parse_report(raw: RawReport, limits: InputLimits, *, language: str) -> ReportInput:
    """The report, or InvalidInputError naming every problem.

    A report of a threat needs no web address and no file: a child being blackmailed
    may have neither, and must still be able to report (it becomes an urgent case).
    """
    raw = normalised(raw)
    problems: list[Problem] = []
    key = raw.idempotency_key.strip()
    if not IDEMPOTENCY_KEY.fullmatch(key):
        problems.append(
            Problem("form", _("This form has expired. Please check your answers and send again."))
        )
    role = _choice(
        ReporterRole, raw.reporter_role, "reporter_role", _("Choose who is reporting."), problems
    )
    age = _choice(
        AgeGroup,
        raw.age_group,
        "age_group",
        _("Choose how old the person was when the picture or video was made."),
        problems,
    )
    situation = _choice(
        Situation, raw.situation, "situation", _("Choose what is happening."), problems
    )
    items = _items(
        raw.urls, raw.files, limits, problems, required=situation is None or not situation.is_threat
    )
    threat_account = _text(
        raw.threat_account, MAX_THREAT_ACCOUNT_LENGTH, "threat_account", problems
    )
    threat_platform = _text(
        raw.threat_platform, MAX_THREAT_PLATFORM_LENGTH, "threat_platform", problems
    )
    description = _text(raw.description, MAX_DESCRIPTION_LENGTH, "description", problems)
    contact = parse_contact(raw.contact, raw.contact_consent, problems)
    if problems or role is None or age is None or situation is None:
        raise InvalidInputError(problems)
    return ReportInput(
        idempotency_key=key,
        reporter_role=role,
        age_group=age,
        situation=situation,
        urls=items.urls,
        files=items.files,
        description=description,
        contact=contact,
        contact_consent=contact is not None,
        language=language,
        threat_account=threat_account if situation.is_threat else None,
        threat_platform=threat_platform if situation.is_threat else None,
    )


def nfkc(text: str) -> str:
    """Text as typed, in compatibility form: the full-width letters, digits and
    punctuation of Chinese keyboards (``ＲＣ－７Ｋ２Ｍ``, ``０９１２``) become ASCII."""
    return unicodedata.normalize("NFKC", text)


def normalised(raw: RawReport) -> RawReport:
    """Every typed field of a report in NFKC form (hidden file fields are the page's)."""
    return dataclasses.replace(
        raw,
        idempotency_key=nfkc(raw.idempotency_key),
        reporter_role=nfkc(raw.reporter_role),
        age_group=nfkc(raw.age_group),
        situation=nfkc(raw.situation),
        urls=nfkc(raw.urls),
        description=nfkc(raw.description),
        contact=nfkc(raw.contact),
        threat_account=nfkc(raw.threat_account),
        threat_platform=nfkc(raw.threat_platform),
    )


def parse_items(urls: str, files: Sequence[str], limits: InputLimits) -> Items:
    """URLs and files added to an existing case (at least one of them)."""
    problems: list[Problem] = []
    items = _items(nfkc(urls), files, limits, problems)
    if problems:
        raise InvalidInputError(problems)
    return items


def parse_contact_change(contact: str, consent: bool) -> str | None:
    """A new contact for a case (None removes it)."""
    problems: list[Problem] = []
    value = parse_contact(nfkc(contact), consent, problems)
    if problems:
        raise InvalidInputError(problems)
    return value


def _items(
    urls_text: str,
    file_fields: Sequence[str],
    limits: InputLimits,
    problems: list[Problem],
    *,
    required: bool = True,
) -> Items:
    """URLs and files, at least one of them when ``required`` (unless those given were
    refused)."""
    urls = parse_urls(urls_text, limits.max_urls, problems)
    files = parse_files(file_fields, limits.max_files, problems)
    refused = any(p.field in ("urls", "files") for p in problems)
    if required and not urls and not files and not refused:
        problems.append(Problem("urls", _("Add at least one web address or one picture or video.")))
    return Items(tuple(urls), tuple(files))


# --- URLs ----------------------------------------------------------------------------


def parse_urls(text: str, max_urls: int, problems: list[Problem]) -> list[str]:
    """One URL per line (blank lines ignored); duplicates removed, order kept."""
    found: dict[str, None] = {}
    for number, line in enumerate(text.splitlines(), start=1):
        candidate = line.strip()
        if not candidate:
            continue
        url, message = normalise_url(candidate)
        if url is None:
            problems.append(Problem("urls", message, {"line": number}))
        else:
            found.setdefault(url, None)
    if len(found) > max_urls:
        problems.append(
            Problem("urls", _("At most %(max)s web addresses in one report."), {"max": max_urls})
        )
    return list(found)


def normalise_url(text: str) -> tuple[str | None, str]:
    """The URL in canonical form (scheme and host in lower case), or why it is refused."""
    if len(text) > MAX_URL_LENGTH:
        return None, _("Line %(line)s: this web address is too long.")
    if _CONTROL.search(text) or any(c.isspace() for c in text):
        return None, _("Line %(line)s: a web address cannot contain spaces.")
    try:
        parts = urlsplit(text)
        host, port = parts.hostname, parts.port  # .port raises for one that is no number
    except ValueError:
        return None, _("Line %(line)s: this is not a web address.")
    if parts.scheme.lower() not in {"http", "https"}:
        return None, _("Line %(line)s: a web address starts with https:// or http://.")
    if not host or not _HOST.fullmatch(host):
        return None, _("Line %(line)s: this is not a web address.")
    userinfo = parts.netloc.rpartition("@")[0]
    netloc = (f"{userinfo}@" if userinfo else "") + (f"[{host}]" if ":" in host else host)
    if port is not None:
        netloc += f":{port}"
    canonical = urlunsplit(
        (parts.scheme.lower(), netloc, parts.path or "/", parts.query, parts.fragment)
    )
    return canonical, ""


# --- files ---------------------------------------------------------------------------


def parse_files(fields: Sequence[str], max_files: int, problems: list[Problem]) -> list[FileHashes]:
    """Hidden fields the page's hasher wrote; duplicates (same SHA-256) removed."""
    found: dict[str, FileHashes] = {}
    bad = 0
    for value in fields:
        if not value.strip():
            continue
        parsed = parse_file(value)
        if parsed is None:
            bad += 1
        else:
            found.setdefault(parsed.sha256.value, parsed)
    if bad:
        problems.append(
            Problem(
                "files",
                _("%(count)s of the files could not be read. Please choose them again."),
                {"count": bad},
            )
        )
    if len(found) > max_files:
        problems.append(
            Problem("files", _("At most %(max)s files in one report."), {"max": max_files})
        )
    return list(found.values())


def parse_file(value: str) -> FileHashes | None:
    """``image:<md5>:<sha256>[:<pdq>:<quality>]`` or ``video:<md5>:<sha256>[:<frames>]``,
    frames being ``pdq,quality,timestamp`` joined by ``;`` (see parse_frames)."""
    parts = value.strip().split(":")
    is_video = parts[0] == MediaKind.VIDEO.value
    limit = MAX_FILE_FIELD_LENGTH + (MAX_VIDEO_FRAMES * (MAX_FRAME_LENGTH + 1) if is_video else 0)
    if len(value) > limit:
        return None
    try:
        kind = MediaKind(parts[0])
        if len(parts) not in ((3, 4) if kind is MediaKind.VIDEO else (3, 5)):
            raise ValueError("wrong number of parts")
        md5 = Signal.parse(SignalType.MD5, parts[1])
        sha256 = Signal.parse(SignalType.SHA256, parts[2])
        if is_constant(md5.value) or is_constant(sha256.value):
            raise ValueError("no real file has this digest")
        if kind is MediaKind.VIDEO:
            frames = parse_frames(parts[3]) if len(parts) == 4 else ()
            return FileHashes(kind, md5, sha256, frames=frames)
        pdq = Signal.parse(SignalType.PDQ, parts[3]) if len(parts) == 5 else None
        if pdq is not None and not (parts[4].isdigit() and 0 <= int(parts[4]) <= 100):
            raise ValueError("quality out of range")
        if pdq is None or is_constant(pdq.value):
            # No real picture has a PDQ of one repeated digit: keep the exact hashes only.
            return FileHashes(kind, md5, sha256)
        return FileHashes(kind, md5, sha256, pdq, int(parts[4]))
    except (ValueError, InvalidSignalError):
        return None


def is_constant(hex_digest: str) -> bool:
    """A digest of one repeated digit (all zeros, all ``f``): what a forged or broken
    hasher sends, never what MD5 or SHA-256 of a real file is (the chance is 2^-124)."""
    return len(set(hex_digest.lower())) <= 1


# --- text ----------------------------------------------------------------------------


def _text(value: str, limit: int, name: str, problems: list[Problem]) -> str | None:
    # NUL and other control characters: PostgreSQL refuses NUL, and nobody types them.
    text = _CONTROL.sub("", value.replace("\r\n", "\n")).strip()
    if len(text) > limit:
        problems.append(
            Problem(
                name,
                _("Please keep this under %(max)s characters (now %(length)s)."),
                {"max": limit, "length": len(text)},
            )
        )
    return text or None


def parse_contact(value: str, consent: bool, problems: list[Problem]) -> str | None:
    """An email address, a phone number or a LINE ID, only with consent to be contacted."""
    text = nfkc(value).strip()
    if not text:
        return None
    if len(text) > MAX_CONTACT_LENGTH or _CONTROL.search(text):
        problems.append(
            Problem("contact", _("Enter an email address, a phone number or a LINE ID."))
        )
        return None
    is_phone = _PHONE.fullmatch(text) is not None and sum(c.isdigit() for c in text) >= 6
    line = _LINE_ID.fullmatch(text)
    if line is not None:
        text = f"LINE: {line.group(1)}"
    elif not is_phone and not is_email(text):
        problems.append(
            Problem("contact", _("Enter an email address, a phone number or a LINE ID."))
        )
        return None
    if not consent:
        problems.append(
            Problem(
                "contact_consent",
                _("Tick the box if we may contact you, or leave the contact empty."),
            )
        )
        return None
    return text


def _choice(
    enum_type: type[_E], value: str, name: str, message: str, problems: list[Problem]
) -> _E | None:
    try:
        return enum_type(value.strip())
    except ValueError:
        problems.append(Problem(name, message))
        return None
