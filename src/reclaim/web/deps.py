"""Request-scoped collaborators shared by the portal and the console."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Annotated

from fastapi import Depends, Request
from sqlalchemy.orm import Session


def db(request: Request) -> Iterator[Session]:
    """A database session for one request.  Handlers commit what they change."""
    with request.app.state.reclaim.sessions() as session:
        yield session


def client_address(request: Request) -> str:
    """The client as the server saw it (a reverse proxy must set the peer correctly)."""
    return request.client.host if request.client else "unknown"


#: ``session: DbSession`` in a route's parameters.
DbSession = Annotated[Session, Depends(db)]
