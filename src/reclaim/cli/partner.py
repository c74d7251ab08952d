"""`reclaim partner create|list|key-create|key-revoke`: partners and their API keys."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import typer
from rich.table import Table

from reclaim import audit
from reclaim.audit.domain import ActorKind
from reclaim.cli.app import app
from reclaim.cli.context import console, database, fail, settings
from reclaim.partners.domain import Scope, display_prefix
from reclaim.partners.keys import (
    PartnerError,
    create_key,
    create_partner,
    get_partner,
    key_state,
    list_partners,
    parse_scopes,
    revoke_key,
)

partner_app = typer.Typer(
    help="Partners (platforms' API identities) and their API keys.", no_args_is_help=True
)
app.add_typer(partner_app, name="partner")

OPERATOR = audit.Actor(ActorKind.OPERATOR)
SCOPES = ", ".join(s.value for s in Scope)


@partner_app.command("create")
def partner_create(
    name: str = typer.Argument(..., help="The partner's name, e.g. 'Photo Site T&S'."),
    platform: str = typer.Option(..., "--platform", help="The platform (directory name)."),
    contact: str | None = typer.Option(None, "--contact", help="Their technical contact."),
) -> None:
    """Create a platform's API identity (one per platform)."""
    try:
        with database(settings()) as session:
            partner = create_partner(session, name, platform, contact_email=contact, actor=OPERATOR)
            console.print(f"Partner {partner.name!r} created for {platform}.")
    except PartnerError as exc:
        raise fail(str(exc)) from None
    console.print(f"Give it a key: reclaim partner key-create {name!r} --scope hashes:read …")


@partner_app.command("list")
def partner_list() -> None:
    """List partners and their keys (prefixes only: secrets are never stored)."""
    now = datetime.now(UTC)
    with database(settings()) as session:
        partners = list_partners(session)
        table = Table("partner", "platform", "name", "scopes", "last used")
        table.add_column("key", no_wrap=True)
        table.add_column("state", no_wrap=True)
        for partner in partners:
            if not partner.keys:
                table.add_row(partner.name, partner.platform.name, "", "", "", "[dim]no keys[/dim]")
            for key in partner.keys:
                table.add_row(
                    partner.name,
                    partner.platform.name,
                    key.name,
                    " ".join(key.scopes),
                    key.last_used_at.strftime("%Y-%m-%d %H:%M") if key.last_used_at else "never",
                    display_prefix(key.prefix),
                    key_state(key, now),
                )
    console.print(table)


@partner_app.command("key-create")
def key_create(
    partner: str = typer.Argument(..., help="The partner's name."),
    scope: list[str] = typer.Option(
        [], "--scope", help=f"Repeatable: {SCOPES}.", show_default=False
    ),
    name: str = typer.Option("", "--name", help="A label, e.g. 'HMA production'."),
    expires_days: int | None = typer.Option(
        None, "--expires-days", min=1, help="Expire after this many days (default: never)."
    ),
) -> None:
    """Make an API key.  The key is printed once and cannot be shown again."""
    try:
        scopes = parse_scopes(scope)
        expires = datetime.now(UTC) + timedelta(days=expires_days) if expires_days else None
        with database(settings()) as session:
            issued = create_key(
                session,
                get_partner(session, partner),
                scopes,
                name=name,
                expires_at=expires,
                actor=OPERATOR,
            )
    except PartnerError as exc:
        raise fail(str(exc)) from None
    console.print(
        f"Key {display_prefix(issued.key.prefix)} for {partner} "
        f"({', '.join(sorted(issued.key.scopes))}). Copy it now; it is not shown again:"
    )
    typer.echo(issued.plaintext)


@partner_app.command("key-revoke")
def key_revoke(
    prefix: str = typer.Argument(..., help="The key's prefix (as `partner list` shows it)."),
) -> None:
    """Revoke a key at once (the next request with it gets 401)."""
    try:
        with database(settings()) as session:
            key = revoke_key(session, prefix, actor=OPERATOR)
            console.print(f"Key {display_prefix(key.prefix)} of {key.partner.name} is revoked.")
    except PartnerError as exc:
        raise fail(str(exc)) from None
