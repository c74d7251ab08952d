"""Identifiers from a fetched page, where its platform's structure makes them reliable:
the author a page declares (``rel=author``, ``article:author``, ``twitter:creator``)
on the page's own platform becomes an identifier of the case, shown with its source,
and links the case to others naming that account."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import select

from reclaim.accounts.domain import Role
from reclaim.accounts.models import User
from reclaim.config import Settings
from reclaim.fetching import FetchPolicy, SafeFetcher, extract_author_urls
from reclaim.linkage import identifiers
from reclaim.linkage.domain import IdentifierKind, IdentifierSource
from reclaim.linkage.models import CaseIdentifier
from reclaim.web.console import review as review_routes
from tests.support.cases import make_case, make_user, synthetic_png
from tests.support.http import LoopbackServer, ScriptedResolver, content
from tests.support.linkage import linkage_keys
from tests.support.settings import make_settings
from tests.web.conftest import csrf_from

Login = Callable[..., User]
EN = {"accept-language": "en"}
POST_PAGE = b"""<!doctype html><html><head>
<meta property="og:image" content="/picture.png">
<link rel="author" href="https://www.instagram.com/User_Alpha/">
<meta name="twitter:creator" content="@someone_on_x">
</head><body>
<a href="https://www.instagram.com/instagram/">Instagram's own account</a>
<a href="https://www.instagram.com/a_commenter/">a commenter</a>
<a rel="author" href="https://x.com/elsewhere">the author's X account</a>
</body></html>"""


def test_authors_are_read_from_page_structure_only() -> None:
    found = extract_author_urls(POST_PAGE, "https://www.instagram.com/p/abc/")
    assert found == [
        "https://www.instagram.com/User_Alpha/",
        "https://x.com/someone_on_x",
        "https://x.com/elsewhere",
    ]  # plain links (the platform's account, commenters) are not authors
    assert (
        extract_author_urls(b'<a rel="author" href="javascript:x()">', "https://a.example/") == []
    )


@pytest.fixture
def db_settings(tmp_path: Path, database_url: str) -> Settings:
    return make_settings(
        tmp_path,
        database_url=database_url,
        fetch_allowlist=["127.0.0.1/32"],
        fetch_total_timeout_seconds=5,
    )


@pytest.fixture
def server(monkeypatch: pytest.MonkeyPatch) -> Iterator[LoopbackServer]:
    """A loopback 'www.instagram.com': the review route's fetcher resolves it here."""
    started = LoopbackServer().start()
    resolver = ScriptedResolver().set("www.instagram.com", ["127.0.0.1"])

    def fetcher(policy: FetchPolicy) -> SafeFetcher:
        return SafeFetcher(policy, resolver=resolver)

    monkeypatch.setattr(review_routes, "SafeFetcher", fetcher)
    yield started
    started.stop()


def test_a_fetched_post_names_its_author_and_links_the_case(
    app: FastAPI, client: TestClient, login_as: Login, server: LoopbackServer
) -> None:
    server.routes["/p/abc/"] = content(POST_PAGE, "text/html; charset=utf-8")
    server.routes["/picture.png"] = content(synthetic_png(5, (320, 240)), "image/png")
    state = app.state.reclaim
    keys = linkage_keys(state.settings)
    with state.sessions() as session:
        known = make_case(session)
        analyst = make_user(session)
        identifiers.add_by_analyst(
            session, known, IdentifierKind.HANDLE, "@user_alpha", actor_id=analyst.id, keys=keys
        )
        case = make_case(session, urls=[server.url("/p/abc/", host="www.instagram.com")])
        session.commit()
        number, known_number, item_id = case.number, known.number, case.items[0].id
    login_as(Role.ANALYST)
    token = csrf_from(client.get(f"/console/cases/{number}").text)
    fetched = client.post(
        f"/console/items/{item_id}/fetch", data={"csrf_token": token}, follow_redirects=False
    )
    assert fetched.headers["location"].startswith(f"/console/cases/{number}?notice=fetched")
    with state.sessions() as session:
        rows = session.scalars(select(CaseIdentifier).where(CaseIdentifier.case_id != known.id))
        named = {(keys.reveal(r.identifier), r.source, r.item_id) for r in rows}
    # Only the declared author on the page's own platform: not X, not the commenters.
    assert named == {("user_alpha", IdentifierSource.PAGE, item_id)}
    page = client.get(f"/console/cases/{number}", headers=EN).text
    assert "user_alpha" in page and "the author of a fetched page" in page
    assert f'data-linked="{known_number}"' in page
    assert "a_commenter" not in page and "someone_on_x" not in page
