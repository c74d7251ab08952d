"""The platform directory: who hosts what, and how to reach them.

Import and export in JSON (``{"format": "reclaim-platforms/1", "platforms": [...]}``) or
CSV (one row per platform, domains separated by spaces).  An import is checked whole
before anything is written: one bad row refuses the file and changes nothing.
Platforms are matched by name; an import updates what the file says and never blanks a
contact field the file leaves empty (so re-importing the seed keeps operators' edits).
Webhook secrets are never exported and never imported from files; supervisors set
them in the console.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass, field
from importlib import resources
from typing import Any, Literal
from urllib.parse import urlsplit

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from reclaim import audit
from reclaim.audit.domain import AuditTag
from reclaim.domain.addresses import InvalidAddressError, parse_email, parse_https_url
from reclaim.domain.languages import Language
from reclaim.platforms.domain import InvalidDomainError, normalise_domain, platform_for_host
from reclaim.platforms.models import Platform, PlatformDomain

FORMAT_TAG = "reclaim-platforms/1"
CSV_COLUMNS = ("name", "domains", "abuse_email", "webhook_url", "jurisdiction", "language", "notes")
#: The languages a platform can receive notices in.
LANGUAGES = tuple(language.value for language in Language)
Format = Literal["json", "csv"]


class PlatformImportError(ValueError):
    """The file cannot be imported; ``problems`` names each bad row."""

    def __init__(self, problems: Sequence[str]) -> None:
        super().__init__("; ".join(problems[:10]) + (" …" if len(problems) > 10 else ""))
        self.problems = list(problems)


@dataclass(frozen=True, slots=True)
class PlatformRecord:
    name: str
    domains: tuple[str, ...] = field(default_factory=tuple)
    abuse_email: str = ""
    webhook_url: str = ""
    jurisdiction: str = ""
    language: str = "en"
    notes: str = ""


@dataclass(frozen=True, slots=True)
class ImportOutcome:
    created: int
    updated: int
    domains: int


# --- reading and writing files --------------------------------------------------------


def parse_records(text: str, fmt: Format) -> list[PlatformRecord]:
    rows: list[dict[str, Any]]
    if fmt == "json":
        try:
            document = json.loads(text)
        except json.JSONDecodeError as exc:
            raise PlatformImportError([f"not JSON: {exc.msg} at line {exc.lineno}"]) from None
        if not isinstance(document, dict) or document.get("format") != FORMAT_TAG:
            raise PlatformImportError([f'expected an object with "format": "{FORMAT_TAG}"'])
        rows = document.get("platforms") or []
        if not isinstance(rows, list):
            raise PlatformImportError(['"platforms" must be a list'])
    else:
        reader = csv.DictReader(io.StringIO(text))
        missing = {"name", "domains"} - set(reader.fieldnames or ())
        if missing:
            raise PlatformImportError([f"CSV header lacks {', '.join(sorted(missing))}"])
        rows = [
            {**row, "domains": (row.get("domains") or "").replace(",", " ").split()}
            for row in reader
        ]
    records: list[PlatformRecord] = []
    problems: list[str] = []
    for number, row in enumerate(rows, start=1):
        try:
            records.append(_record(row))
        except ValueError as exc:
            problems.append(f"platform {number}: {exc}")
    problems += _conflicts(records)
    if problems:
        raise PlatformImportError(problems)
    return records


def _text(row: dict[str, Any], key: str, limit: int) -> str:
    value = row.get(key) or ""
    if not isinstance(value, str):
        raise ValueError(f"{key} must be text")
    value = value.strip()
    if len(value) > limit:
        raise ValueError(f"{key} is longer than {limit} characters")
    return value


def _record(row: Any) -> PlatformRecord:
    if not isinstance(row, dict):
        raise ValueError("must be an object")
    unknown = set(row) - set(CSV_COLUMNS)
    if unknown:
        raise ValueError(f"unknown field(s) {', '.join(sorted(unknown))}")
    name = _text(row, "name", 120)
    if not name:
        raise ValueError("name is required")
    raw_domains = row.get("domains") or []
    if not isinstance(raw_domains, list) or not all(isinstance(d, str) for d in raw_domains):
        raise ValueError("domains must be a list of domain names")
    try:
        domains = tuple(dict.fromkeys(normalise_domain(d) for d in raw_domains))
    except InvalidDomainError as exc:
        raise ValueError(f"{name}: {exc}") from None
    try:
        email = parse_email(raw) if (raw := _text(row, "abuse_email", 254)) else ""
        webhook = parse_https_url(raw) if (raw := _text(row, "webhook_url", 2048)) else ""
    except InvalidAddressError as exc:
        raise ValueError(f"{name}: {exc}") from None
    language = _text(row, "language", 8) or "en"
    if language not in LANGUAGES:
        raise ValueError(f"{name}: language must be one of {', '.join(LANGUAGES)}")
    return PlatformRecord(
        name=name,
        domains=domains,
        abuse_email=email,
        webhook_url=webhook,
        jurisdiction=_text(row, "jurisdiction", 64),
        language=language,
        notes=_text(row, "notes", 2000),
    )


def _conflicts(records: Sequence[PlatformRecord]) -> list[str]:
    problems: list[str] = []
    names: set[str] = set()
    owners: dict[str, str] = {}
    for record in records:
        if record.name.lower() in names:
            problems.append(f"{record.name}: listed twice")
        names.add(record.name.lower())
        for domain in record.domains:
            if domain in owners and owners[domain] != record.name:
                problems.append(f"{domain} is listed for both {owners[domain]} and {record.name}")
            owners[domain] = record.name
    return problems


def write_records(records: Iterable[PlatformRecord], fmt: Format) -> str:
    if fmt == "json":
        rows = [asdict(r) | {"domains": list(r.domains)} for r in records]
        return json.dumps({"format": FORMAT_TAG, "platforms": rows}, ensure_ascii=False, indent=1)
    out = io.StringIO()
    writer = csv.DictWriter(out, CSV_COLUMNS, lineterminator="\n")
    writer.writeheader()
    for record in records:
        writer.writerow(asdict(record) | {"domains": " ".join(record.domains)})
    return out.getvalue()


def seed_records() -> list[PlatformRecord]:
    """The platforms Reclaim ships with (names and domains; contacts for operators)."""
    text = resources.files("reclaim.data").joinpath("platforms.json").read_text("utf-8")
    return parse_records(text, "json")


# --- the database -----------------------------------------------------------------------


def import_records(
    session: Session, records: Sequence[PlatformRecord], *, actor: audit.Actor
) -> ImportOutcome:
    """Create or update platforms by name; domains in the file are added to the platform.

    A domain already owned by a platform the file does not name is refused (moving a
    domain between platforms is a deliberate edit in the console).
    """
    existing = {
        p.name.lower(): p
        for p in session.scalars(select(Platform).options(selectinload(Platform.domains)))
    }
    owners = {d.domain: d.platform.name for p in existing.values() for d in p.domains}
    problems = [
        f"{domain} already belongs to {owners[domain]}"
        for record in records
        for domain in record.domains
        if domain in owners and owners[domain].lower() != record.name.lower()
    ]
    if problems:
        raise PlatformImportError(problems)
    created = updated = added_domains = 0
    for record in records:
        platform = existing.get(record.name.lower())
        if platform is None:
            platform = Platform(name=record.name, language=record.language)
            session.add(platform)
            created += 1
        else:
            updated += 1
        for attribute in ("abuse_email", "webhook_url", "jurisdiction", "notes"):
            value = getattr(record, attribute)
            if value:
                setattr(platform, attribute, value)
        platform.language = record.language
        have = {d.domain for d in platform.domains}
        for domain in record.domains:
            if domain not in have:
                platform.domains.append(PlatformDomain(domain=domain))
                added_domains += 1
    session.flush()
    audit.record(
        session,
        AuditTag.PLATFORM_CHANGED,
        actor=actor,
        details={"imported": len(records), "created": created, "domains_added": added_domains},
    )
    return ImportOutcome(created, updated, added_domains)


def export_records(session: Session) -> list[PlatformRecord]:
    platforms = session.scalars(
        select(Platform).options(selectinload(Platform.domains)).order_by(Platform.name)
    )
    return [
        PlatformRecord(
            name=p.name,
            domains=tuple(d.domain for d in p.domains),
            abuse_email=p.abuse_email or "",
            webhook_url=p.webhook_url or "",
            jurisdiction=p.jurisdiction or "",
            language=p.language,
            notes=p.notes or "",
        )
        for p in platforms
    ]


def domain_map(session: Session) -> dict[str, int]:
    rows = session.execute(select(PlatformDomain.domain, PlatformDomain.platform_id))
    return {row.domain: row.platform_id for row in rows}


def platform_id_for_url(url: str, domains: dict[str, int]) -> int | None:
    host = urlsplit(url).hostname
    if not host:
        return None
    try:
        host = normalise_domain(host)
    except InvalidDomainError:
        return None  # an address or a malformed host: an analyst assigns it
    return platform_for_host(host, domains)
