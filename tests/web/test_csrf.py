"""CSRF protection (web/csrf.py) on a small app of its own."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from types import SimpleNamespace

import pytest
from fastapi import APIRouter, Depends, FastAPI, Request
from fastapi.responses import JSONResponse, PlainTextResponse, Response
from fastapi.testclient import TestClient

from reclaim.web.csrf import (
    CSRF_COOKIE,
    CSRF_HEADER,
    STAFF_COOKIE,
    csrf_protect,
    csrf_token,
    set_csrf_cookie,
    token_for,
)
from tests.support.settings import make_settings

ORIGIN = "http://127.0.0.1"


@pytest.fixture
def client(tmp_path: Path) -> Iterator[TestClient]:
    app = FastAPI()
    app.state.reclaim = SimpleNamespace(settings=make_settings(tmp_path, base_url=ORIGIN))
    router = APIRouter(dependencies=[Depends(csrf_protect)])

    @router.get("/form")
    def form(request: Request) -> Response:
        response = JSONResponse({"token": csrf_token(request)})
        set_csrf_cookie(request, response)
        return response

    @router.post("/submit")
    def submit() -> Response:
        return PlainTextResponse("done")

    app.include_router(router)
    with TestClient(app, base_url=ORIGIN) as test_client:
        yield test_client


def form_token(client: TestClient) -> str:
    token: str = client.get("/form").json()["token"]
    return token


def test_a_form_token_is_accepted(client: TestClient) -> None:
    token = form_token(client)
    assert client.post("/submit", data={"csrf_token": token}).text == "done"
    assert client.post("/submit", headers={CSRF_HEADER: token}).text == "done"
    # Multipart forms carry it too.
    multipart = client.post("/submit", data={"csrf_token": token}, files={"f": ("a.txt", b"x")})
    assert multipart.text == "done"


def test_the_cookie_is_httponly_and_strict(client: TestClient) -> None:
    cookie = client.get("/form").headers["set-cookie"]
    assert cookie.startswith(f"{CSRF_COOKIE}=")
    assert "HttpOnly" in cookie and "samesite=strict" in cookie.lower() and "Path=/" in cookie
    # Sent once; later pages reuse the browser's cookie (and the same token).
    first = form_token(client)
    again = client.get("/form")
    assert "set-cookie" not in again.headers
    assert again.json()["token"] == first


def test_reads_need_no_token(client: TestClient) -> None:
    assert client.get("/form").status_code == 200


@pytest.mark.parametrize("sent", [None, "", "0" * 64, "é" * 64, "not even hex"])
def test_missing_or_wrong_tokens_are_refused(client: TestClient, sent: str | None) -> None:
    form_token(client)
    data = {} if sent is None else {"csrf_token": sent}
    assert client.post("/submit", data=data).status_code == 403


def test_no_cookie_no_entry(client: TestClient) -> None:
    token = form_token(client)
    client.cookies.delete(CSRF_COOKIE)
    assert client.post("/submit", data={"csrf_token": token}).status_code == 403


def test_a_token_belongs_to_one_browser(client: TestClient) -> None:
    token = form_token(client)
    client.cookies.clear()
    client.cookies.set(CSRF_COOKIE, "another browser's cookie")
    assert client.post("/submit", data={"csrf_token": token}).status_code == 403


def test_a_token_is_bound_to_the_staff_session(client: TestClient) -> None:
    client.cookies.set(STAFF_COOKIE, "session-one")
    token = form_token(client)
    assert client.post("/submit", data={"csrf_token": token}).status_code == 200
    # After login rotates the session, forms rendered before it no longer work.
    client.cookies.set(STAFF_COOKIE, "session-two")
    assert client.post("/submit", data={"csrf_token": token}).status_code == 403


@pytest.mark.parametrize(
    ("origin", "status"),
    [(ORIGIN, 200), ("https://evil.example", 403), ("http://127.0.0.1:9999", 403), ("null", 200)],
)
def test_the_origin_must_be_ours(client: TestClient, origin: str, status: int) -> None:
    """Browsers send "Origin: null" under Referrer-Policy: no-referrer: the token decides."""
    token = form_token(client)
    response = client.post("/submit", data={"csrf_token": token}, headers={"origin": origin})
    assert response.status_code == status
    without_token = client.post("/submit", data={}, headers={"origin": origin})
    assert without_token.status_code == 403


def test_the_token_is_an_hmac_of_cookie_and_session() -> None:
    a = token_for(b"secret", "seed", "")
    assert len(a) == 64
    assert a != token_for(b"secret", "seed", "staff")
    assert a != token_for(b"secret", "other seed", "")
    assert a != token_for(b"other secret", "seed", "")
    # The separator keeps ("ab", "c") and ("a", "bc") apart.
    assert token_for(b"s", "ab", "c") != token_for(b"s", "a", "bc")
