"""The ``reclaim`` command: one typer app, with one module per command group."""

from reclaim.cli.app import app, main

__all__ = ["app", "main"]
