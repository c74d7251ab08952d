"""The route class every partner API operation uses: it caps the request body."""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from typing import Any

from fastapi import Request, Response
from fastapi.routing import APIRoute

from reclaim.web.api.errors import ApiError


def _too_large(limit: int) -> ApiError:
    return ApiError(413, "body_too_large", f"the request body is larger than {limit} bytes")


class ApiRoute(APIRoute):
    """Refuses a body over ``api_max_body_bytes`` before reading it (by Content-Length)
    or while reading it (a chunked upload), so nothing large is ever buffered."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        original = super().get_route_handler()

        async def handler(request: Request) -> Response:
            limit: int = request.app.state.reclaim.settings.api_max_body_bytes
            declared = request.headers.get("content-length")
            if declared is not None:
                if not declared.isdigit():
                    raise ApiError(400, "invalid_request", "Content-Length is not a number")
                if int(declared) > limit:
                    raise _too_large(limit)
            elif request.method in {"POST", "PUT", "PATCH"}:
                await _read_bounded(request, limit)
            return await original(request)

        return handler


async def _read_bounded(request: Request, limit: int) -> None:
    """Read a body of unknown length, refusing it once it passes the limit.

    Starlette keeps what ``body()`` read in ``request._body``; FastAPI then parses that
    instead of reading the stream again.  (Raising from inside the stream would reach
    the client as FastAPI's generic 400, not as 413.)
    """
    received = bytearray()
    async for chunk in request.stream():
        received += chunk
        if len(received) > limit:
            raise _too_large(limit)
    request._body = bytes(received)
