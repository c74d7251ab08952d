"""`reclaim agency list|add|import|export|member` and `reclaim evidence verify`."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import cast

import typer
from rich.table import Table
from sqlalchemy import select

from reclaim import audit
from reclaim.accounts.users import find_user
from reclaim.audit.domain import ActorKind
from reclaim.cli.app import app
from reclaim.cli.context import console, database, fail, settings
from reclaim.referrals import agencies
from reclaim.referrals.agencies import AgencyError, AgencyRecord, Format
from reclaim.referrals.domain import AgencyKind
from reclaim.referrals.models import Agency
from reclaim.referrals.verifying import verify_package
from reclaim.security.signing import SigningKeyError, load_public_key, signing_keyring

agency_app = typer.Typer(help="The agencies that receive referrals.", no_args_is_help=True)
app.add_typer(agency_app, name="agency")
evidence_app = typer.Typer(help="Evidence packages.", no_args_is_help=True)
app.add_typer(evidence_app, name="evidence")

OPERATOR = audit.Actor(ActorKind.OPERATOR)
FORMATS = ("json", "csv")
KINDS = ", ".join(k.value for k in AgencyKind)


def _format(value: str | None, path: Path | None) -> Format:
    chosen = value or (path.suffix.lstrip(".").lower() if path else "json")
    if chosen not in FORMATS:
        raise fail(f"unknown format {chosen!r}: use json or csv", 2)
    return cast(Format, chosen)


def _problems(exc: AgencyError) -> typer.Exit:
    for problem in exc.problems:
        console.print(f"[red]{problem}[/red]")
    return fail("nothing was changed", 1)


@agency_app.command("list")
def agency_list() -> None:
    """List the agencies and how they are reached."""
    with database(settings()) as session:
        records = agencies.export_records(session)
    table = Table("agency", "kind", "region", "email", "webhook", "key")
    for r in records:
        table.add_row(
            r.name,
            r.kind,
            r.region,
            r.email,
            "yes" if r.webhook_url else "",
            "yes" if r.public_key else "",
        )
    console.print(table)


@agency_app.command("add")
def agency_add(
    name: str = typer.Argument(...),
    *,
    kind: str = typer.Option(..., help=KINDS),
    email: str = typer.Option("", help="Where referrals are emailed."),
    region: str = typer.Option("", help="A county or city."),
    webhook_url: str = typer.Option("", help="An https URL for signed webhooks."),
    language: str = typer.Option("zh_TW", help="zh_TW or en."),
    public_key: str = typer.Option("", help="X25519 public key (base64 of 32 bytes)."),
) -> None:
    """Add an agency."""
    record = AgencyRecord(
        name,
        kind,
        region=region,
        email=email,
        webhook_url=webhook_url,
        language=language,
        public_key=public_key,
    )
    try:
        with database(settings()) as session:
            agencies.save_agency(session, record, actor=OPERATOR)
    except AgencyError as exc:
        raise _problems(exc) from None
    console.print(f"agency {name} added")


@agency_app.command("member")
def agency_member(
    email: str = typer.Argument(..., help="A social worker's or police liaison's login."),
    agency: str = typer.Argument(..., help="The agency's name."),
) -> None:
    """Make a staff account a member of an agency (it then sees that agency's referrals)."""
    try:
        with database(settings()) as session:
            user = find_user(session, email)
            found = session.scalar(select(Agency).where(Agency.name == agency))
            if user is None or found is None:
                raise fail("no such user or agency", 1)
            agencies.add_member(session, found, user, actor=OPERATOR)
    except AgencyError as exc:
        raise _problems(exc) from None
    console.print(f"{email} works for {agency}")


@agency_app.command("import")
def agency_import(
    path: Path = typer.Argument(..., exists=True, dir_okay=False, help="A .json or .csv file."),
    fmt: str | None = typer.Option(None, "--format", help="json or csv (default: by suffix)."),
) -> None:
    """Import agencies; the whole file is checked first and one bad row changes nothing."""
    chosen = _format(fmt, path)
    try:
        records = agencies.parse_records(path.read_text("utf-8"), chosen)
        with database(settings()) as session:
            created, updated = agencies.import_records(session, records, actor=OPERATOR)
    except AgencyError as exc:
        raise _problems(exc) from None
    except UnicodeDecodeError:
        raise fail(f"{path} is not UTF-8 text", 1) from None
    console.print(f"{created} agencies added, {updated} updated.")


@agency_app.command("export")
def agency_export(
    output: Path | None = typer.Option(None, "-o", "--output", help="File (default: stdout)."),
    fmt: str | None = typer.Option(None, "--format", help="json or csv."),
) -> None:
    """Export the directory (webhook secrets are never exported)."""
    chosen = _format(fmt, output)
    with database(settings()) as session:
        text = agencies.write_records(agencies.export_records(session), chosen)
    if output is None:
        sys.stdout.write(text)
    else:
        output.write_text(text, "utf-8")


@evidence_app.command("verify")
def evidence_verify(
    package: Path = typer.Argument(..., exists=True, dir_okay=False, help="The .zip package."),
    key: Path | None = typer.Option(
        None, "--key", help="The hotline's published public key (PEM or base64)."
    ),
) -> None:
    """Check an evidence package: signature, file hashes, custody log, audit hashes."""
    if key is not None:
        try:
            public = load_public_key(key.read_text("utf-8"))
        except SigningKeyError as exc:
            raise fail(str(exc), 2) from None
        result = verify_package(package.read_bytes(), None)
        if result.key_id is not None:
            result = verify_package(package.read_bytes(), {result.key_id: public})
    else:
        keys = signing_keyring(settings()).public_keys()
        result = verify_package(package.read_bytes(), keys)
    if not result.ok:
        for problem in result.problems[:20]:
            console.print(f"[red]{problem}[/red]")
        raise fail("the package does not verify", 1)
    console.print(
        f"OK: case {result.case}, signed by key {result.key_id}, {result.files} files, "
        f"{result.custody_entries} custody entries, {result.audit_events} audit events"
        + (
            f" ({result.keyed_audit_events} hashed under the hotline's audit key: linked "
            "and signed here, recomputed by the hotline)"
            if result.keyed_audit_events
            else ""
        )
    )
