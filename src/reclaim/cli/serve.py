"""`reclaim serve`: the web app under uvicorn."""

from __future__ import annotations

import typer

from reclaim.cli.app import app
from reclaim.cli.context import console, settings


@app.command("serve")
def serve(
    host: str | None = typer.Option(None, help="Interface to bind (default: settings)."),
    port: int | None = typer.Option(None, help="Port (default: settings)."),
) -> None:
    """Serve the portal, the staff console and the partner API."""
    import uvicorn

    from reclaim.jobs.worker import InProcessWorker
    from reclaim.web.app import create_app
    from reclaim.web.server import server_config

    config = settings()
    _check_pdf_support(production=config.environment == "production")
    application = create_app(config)
    bind_host = host or config.host
    bind_port = port or config.port
    base = f"http://{bind_host}:{bind_port}"
    console.print(f"Reclaim is serving on {base}/")
    console.print(f"  reporting portal  {base}/")
    console.print(f"  staff console     {base}/console/login")
    console.print(f"  partner API       {base}/api/v1/  (description: /api/v1/openapi.json)")
    console.print(f"  health            {base}/healthz")
    in_process = None
    if config.run_worker_in_process:
        in_process = InProcessWorker(application.state.reclaim.huey)
        in_process.start()
        console.print("  background jobs   running in this process")
    try:
        uvicorn.Server(server_config(config, application, host=bind_host, port=bind_port)).run()
    finally:
        if in_process is not None:
            in_process.stop()


def _check_pdf_support(*, production: bool) -> None:
    """Reports for the authority are PDFs: refuse to serve in production without what
    they need; elsewhere say what is missing and go on."""
    from reclaim.documents.pdf import PdfUnavailableError, check_pdf_support

    try:
        check_pdf_support()
    except PdfUnavailableError as exc:
        if production:
            console.print(f"[red]Reclaim cannot make PDF reports:[/red] {exc}")
            raise typer.Exit(1) from exc
        console.print(f"[yellow]PDF reports are unavailable:[/yellow] {exc}")
