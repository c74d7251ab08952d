"""What every command needs: settings (with clear errors), a console, the database."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager

import typer
from pydantic import ValidationError
from rich.console import Console
from sqlalchemy.orm import Session

from reclaim.config import InsecureSettingsError, Settings, load_settings
from reclaim.storage.db import make_engine, make_session_factory
from reclaim.storage.readers import read_only_session

console = Console()
errors = Console(stderr=True, soft_wrap=True)  # messages stay whole lines


def settings(*, needs_secrets: bool = True) -> Settings:
    """Load settings or stop with a message an operator can act on.

    Commands that touch no secret (hashing files) pass ``needs_secrets=False``: on a
    laptop without a configured secret they still honour the operator's limits.
    """
    try:
        loaded = load_settings()
    except ValidationError as exc:
        if not needs_secrets and _only_insecure(exc):
            return _with_keys(load_settings(environment="development"))
        errors.print(f"[red]Settings are not usable:[/red] {_first_line(exc)}")
        raise typer.Exit(2) from None
    except InsecureSettingsError as exc:
        errors.print(f"[red]Settings are not usable:[/red] {_first_line(exc)}")
        raise typer.Exit(2) from None
    return _with_keys(loaded)


def _with_keys(config: Settings) -> Settings:
    """Parse every key once, stopping with one line that names the setting, and install
    the audit keyring for this process."""
    from reclaim.audit.keys import AuditKeyError, audit_keyring, use_keyring
    from reclaim.fetching.quarantine.keys import QuarantineKeyError
    from reclaim.security.field_crypto import keyring
    from reclaim.security.signing import SigningKeyError, signing_keyring

    checks: list[tuple[str, Callable[[Settings], object]]] = [
        ("RECLAIM_QUARANTINE_KEYS", keyring),
        ("RECLAIM_SIGNING_KEYS", signing_keyring),
        ("RECLAIM_AUDIT_KEYS", audit_keyring),
    ]
    for name, build in checks:
        try:
            build(config)
        except (QuarantineKeyError, SigningKeyError, AuditKeyError) as exc:
            errors.print(f"[red]Settings are not usable:[/red] {name}: {exc}", highlight=False)
            raise typer.Exit(2) from None
    use_keyring(audit_keyring(config))
    return config


def _only_insecure(exc: ValidationError) -> bool:
    """True when the only complaint is a default secret (pydantic keeps the original)."""
    return all(
        isinstance(e.get("ctx", {}).get("error"), InsecureSettingsError) for e in exc.errors()
    )


def _first_line(exc: Exception) -> str:
    if isinstance(exc, ValidationError):
        return "; ".join(_describe(e["loc"], e["msg"]) for e in exc.errors())
    return str(exc)


def _describe(location: tuple[int | str, ...], message: str) -> str:
    message = message.removeprefix("Value error, ")
    if not location:
        return message
    return f"RECLAIM_{'_'.join(str(p) for p in location).upper()}: {message}"


@contextmanager
def database(config: Settings) -> Iterator[Session]:
    """A session that commits when the command succeeds and rolls back otherwise."""
    engine = make_engine(config.database_url)
    try:
        with make_session_factory(engine).begin() as session:
            yield session
    finally:
        engine.dispose()


@contextmanager
def reading(config: Settings) -> Iterator[Session]:
    """A session that only reads (storage.readers.read_only_session): on SQLite it does
    not hold the write lock, so the service keeps writing while a command reads long."""
    engine = make_engine(config.database_url)
    try:
        with read_only_session(engine) as session:
            yield session
    finally:
        engine.dispose()


def fail(message: str, code: int = 1) -> typer.Exit:
    errors.print(f"[red]{message}[/red]")
    return typer.Exit(code)
