"""Errors of the partner API: always ``{"error": {"code", "message"}}`` and a 4xx/5xx.

Codes are stable identifiers a partner's code can branch on (``invalid_api_key``,
``rate_limited``, ``invalid_signal``…); messages are for the people reading logs.
Validation errors (422) add ``details``: where in the request each problem is.
"""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI, Request
from fastapi.exception_handlers import request_validation_exception_handler
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel, Field

#: Error types our own validators raise (pydantic's PydanticCustomError type names),
#: reported as the error code instead of the generic ``invalid_request``.
CUSTOM_CODES = frozenset(
    {
        "invalid_signal",
        "dihedral_variants_required",
        "unexpected_dihedral_variants",
        "feedback_target",
        "reason_required",
        "nothing_to_match",
        "video_in_signals",
    }
)


class ApiError(Exception):
    """Raise from a handler to answer with this status, code and message."""

    def __init__(
        self,
        status: int,
        code: str,
        message: str,
        *,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.headers = headers


class ErrorDetail(BaseModel):
    location: str = Field(description="Where in the request, e.g. `body.signals.3.value`.")
    message: str


class ErrorInfo(BaseModel):
    code: str = Field(description="A stable identifier, e.g. `invalid_api_key`.")
    message: str = Field(description="What went wrong, for people.")
    details: list[ErrorDetail] | None = None


class ErrorBody(BaseModel):
    """Every error the partner API returns."""

    error: ErrorInfo


def error_response(
    status: int,
    code: str,
    message: str,
    *,
    headers: dict[str, str] | None = None,
    details: list[dict[str, str]] | None = None,
) -> JSONResponse:
    body: dict[str, Any] = {"code": code, "message": message}
    if details is not None:
        body["details"] = details
    response = JSONResponse({"error": body}, status_code=status, headers=headers)
    response.headers["cache-control"] = "no-store"
    return response


async def api_error(_request: Request, exc: Exception) -> Response:
    assert isinstance(exc, ApiError)
    return error_response(exc.status, exc.code, exc.message, headers=exc.headers)


async def validation_error(request: Request, exc: Exception) -> Response:
    """422 as JSON with a code under /api/; FastAPI's default everywhere else."""
    assert isinstance(exc, RequestValidationError)
    if not request.url.path.startswith("/api/"):
        return await request_validation_exception_handler(request, exc)
    errors = list(exc.errors())
    details = [
        {
            "location": ".".join(str(part) for part in error.get("loc", ())),
            "message": str(error.get("msg", "invalid")).removeprefix("Value error, "),
        }
        for error in errors[:20]
    ]
    code = _code_of(errors)
    first = details[0] if details else {"location": "", "message": "invalid request"}
    where = f"{first['location']}: " if first["location"] else ""
    return error_response(422, code, f"{where}{first['message']}", details=details)


def _code_of(errors: list[Any]) -> str:
    """The code of the first problem: specific where a partner's code can act on it."""
    if not errors:
        return "invalid_request"
    error = errors[0]
    kind = str(error.get("type", ""))
    location = tuple(str(part) for part in error.get("loc", ()))
    if kind in CUSTOM_CODES:
        return kind
    if kind == "string_pattern_mismatch" and ("value" in location or "dihedral" in location):
        return "invalid_signal"
    if kind == "too_long" and len(location) == 2 and location[0] == "body":
        return "batch_too_large"
    return {
        "json_invalid": "invalid_json",
        "extra_forbidden": "unknown_field",
        "missing": "missing_field",
    }.get(kind, "invalid_request")


def add_error_handlers(app: FastAPI) -> None:
    app.add_exception_handler(ApiError, api_error)
    app.add_exception_handler(RequestValidationError, validation_error)


#: Documented on every operation (the OpenAPI spec lists what each may answer).
COMMON_RESPONSES: dict[int | str, dict[str, Any]] = {
    401: {"model": ErrorBody, "description": "No key, or an invalid, expired or revoked key."},
    403: {"model": ErrorBody, "description": "The key lacks the scope this operation needs."},
    413: {"model": ErrorBody, "description": "The request body is too large."},
    422: {"model": ErrorBody, "description": "The request is malformed."},
    429: {
        "model": ErrorBody,
        "description": "Rate limited; retry after `Retry-After` seconds.",
        "headers": {"Retry-After": {"schema": {"type": "integer"}}},
    },
}
