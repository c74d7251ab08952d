"""`reclaim demo`: load demo data on a development machine."""

from __future__ import annotations

from reclaim.cli.app import app
from reclaim.cli.context import console, database, fail, settings
from reclaim.services.demo import load_demo


@app.command("demo")
def demo() -> None:
    """Create demo staff accounts, the built-in banks and two demo cases."""
    config = settings()
    if not config.is_development:
        raise fail("demo data is only for development (RECLAIM_ENVIRONMENT=development)")
    with database(config) as session:
        data = load_demo(session)
    console.print("[bold]Demo data loaded.[/bold]")
    console.print(f"Staff accounts (password: [bold]{data.password}[/bold]):")
    for email, role in data.staff:
        console.print(f"  {role.value:<12} {email}")
    console.print("Demo cases (case number / PIN, for 'check my case'):")
    for case in data.cases:
        console.print(f"  {case.number}  PIN {case.pin}")
