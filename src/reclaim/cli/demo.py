"""`reclaim demo`: load demo data on a development machine."""

from __future__ import annotations

from datetime import UTC, datetime

import typer
from sqlalchemy import select

from reclaim.cases.models import Case
from reclaim.cli.app import app
from reclaim.cli.context import console, database, fail, settings
from reclaim.demo.history import SYNTHETIC_PREFIX, make_history
from reclaim.demo.seed import load_demo
from reclaim.security.field_crypto import field_cipher


@app.command("demo")
def demo(
    synthetic_history: int = typer.Option(
        0,
        "--synthetic-history",
        min=0,
        max=60,
        help="Also make this many months of synthetic cases, notices and outcomes "
        "(marked synthetic), so the statistics have something to show.",
    ),
) -> None:
    """Create demo staff accounts, the built-in banks and two demo cases."""
    config = settings()
    if not config.is_development:
        raise fail("demo data is only for development (RECLAIM_ENVIRONMENT=development)")
    with database(config) as session:
        data = load_demo(session, cipher=field_cipher(config))
        if synthetic_history:
            if session.scalar(select(Case.id).where(Case.number.like(f"{SYNTHETIC_PREFIX}%"))):
                console.print("Synthetic history is already there; not adding more.")
            else:
                made = make_history(session, months=synthetic_history, end=datetime.now(UTC))
                session.commit()
                console.print(
                    f"Synthetic history ({synthetic_history} months, marked synthetic): "
                    + ", ".join(f"{n} {table}" for table, n in sorted(made.counts.items()))
                )
    console.print("[bold]Demo data loaded.[/bold]")
    console.print(f"Staff accounts (password: [bold]{data.password}[/bold]).")
    console.print(
        "The second step asks for a code from an authenticator app set up with the "
        "account's TOTP secret (fixed for demo accounts; development only)."
    )
    for person in data.staff:
        # soft_wrap: a secret broken over two lines cannot be copied.
        console.print(f"  {person.role.value:<12} {person.email}", soft_wrap=True)
        console.print(f"  {'':<12} TOTP {person.totp_secret}", soft_wrap=True)
    console.print("A current code without an app:")
    console.print(
        "  .venv/bin/python -c \"import pyotp; print(pyotp.TOTP('SECRET').now())\"",
        markup=False,
        highlight=False,
        soft_wrap=True,
    )
    console.print("Demo cases (case number / PIN, for 'check my case'):")
    for case in data.cases:
        console.print(f"  {case.number}  PIN {case.pin}")
