"""`reclaim keys`: which keys are in use, rotating them, and retiring old ones."""

from __future__ import annotations

from collections import Counter

import typer
from rich.table import Table

from reclaim.cli.app import app
from reclaim.cli.context import console, database, errors, settings

keys_app = typer.Typer(help="Encryption and audit keys: usage, rotation, retirement.")
app.add_typer(keys_app, name="keys")


@keys_app.command("usage")
def usage() -> None:
    """How many encrypted values and quarantine objects each key id still encrypts."""
    from reclaim.fetching.quarantine.store import QuarantineStore
    from reclaim.keys.rotation import usage as key_usage
    from reclaim.security.field_crypto import keyring

    config = settings()
    ring = keyring(config)
    store = QuarantineStore(config.data_dir / "quarantine", ring)
    with database(config) as session:
        found = key_usage(session, store)
    table = Table("key id", "current", "values and objects")
    for key_id in sorted(set(ring.keys) | set(found.by_key)):
        where = found.by_key.get(key_id) or Counter[str]()
        detail = ", ".join(f"{name}: {count}" for name, count in sorted(where.items())) or "unused"
        table.add_row(key_id, "yes" if key_id == ring.current_key_id else "", detail)
    console.print(table)


@keys_app.command("rotate")
def rotate(
    which: str = typer.Argument(..., help="'encryption' (fields and quarantine) or 'audit'."),
) -> None:
    """Move everything to the current key (encryption), or start a new audit segment."""
    from reclaim.fetching.quarantine.store import QuarantineStore
    from reclaim.keys.rotation import record_audit_rotation, reencrypt_all
    from reclaim.security.field_crypto import FieldCipher, keyring
    from reclaim.storage.db import make_engine, make_session_factory

    config = settings()
    if which == "audit":
        with database(config) as session:
            event = record_audit_rotation(session)
        if event is None:
            raise _fail(
                "The newest audit row already uses RECLAIM_AUDIT_CURRENT_KEY_ID; add a new "
                "key to RECLAIM_AUDIT_KEYS and make it current first."
            )
        console.print(
            f"A new audit segment starts at row {event.id} under key "
            f"{event.details['to_key_id']}. Keep the old key in RECLAIM_AUDIT_KEYS."
        )
        return
    if which != "encryption":
        raise _fail("Rotate 'encryption' or 'audit'.")
    ring = keyring(config)
    engine = make_engine(config.database_url)
    try:
        done = reencrypt_all(
            make_session_factory(engine),
            FieldCipher(ring),
            QuarantineStore(config.data_dir / "quarantine", ring),
            ring.current_key_id,
        )
    finally:
        engine.dispose()
    console.print(
        f"Re-encrypted {done.values} values and {done.objects} quarantine objects under "
        f"key {ring.current_key_id}. `reclaim keys retire ID` confirms an old key unused."
    )


@keys_app.command("retire")
def retire(key_id: str = typer.Argument(..., help="The encryption key id to retire.")) -> None:
    """Confirm an old encryption key encrypts nothing any more (exit 1 if it does)."""
    from reclaim.fetching.quarantine.store import QuarantineStore
    from reclaim.keys.rotation import usage as key_usage
    from reclaim.security.field_crypto import keyring

    config = settings()
    ring = keyring(config)
    if key_id == ring.current_key_id:
        raise _fail(f"{key_id} is the current key; make another key current first.")
    with database(config) as session:
        still = key_usage(session, QuarantineStore(config.data_dir / "quarantine", ring)).total(
            key_id
        )
    if still:
        raise _fail(
            f"Key {key_id} still encrypts {still} values or objects; run "
            "`reclaim keys rotate encryption` first."
        )
    console.print(f"Key {key_id} encrypts nothing: remove it from RECLAIM_QUARANTINE_KEYS.")


def _fail(message: str) -> typer.Exit:
    errors.print(f"[red]{message}[/red]", highlight=False)
    return typer.Exit(1)
