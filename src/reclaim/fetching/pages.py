"""Finding the media a reported web page shows.

Deliberately small: ``<img src>``, ``<video src|poster>``, ``<source src>`` and the
Open Graph / Twitter image meta tags, resolved against the page URL.  No scripts are
run and no CSS is read.  The URLs found are only candidates: each one is fetched
through the safe fetcher again, which re-checks everything.
"""

from __future__ import annotations

from html.parser import HTMLParser
from urllib.parse import urljoin

from reclaim.fetching.errors import FetchError
from reclaim.fetching.urls import SafeUrl

#: Hostile pages can be huge; media links live near the top of real ones.
MAX_PARSE_CHARS = 2_000_000
MAX_MEDIA_URLS = 50

_SRC_ATTRIBUTES = {"img": ("src",), "video": ("src", "poster"), "source": ("src",)}
_META_NAMES = {
    "og:image",
    "og:image:url",
    "og:image:secure_url",
    "og:video",
    "og:video:url",
    "og:video:secure_url",
    "twitter:image",
    "twitter:image:src",
}


def extract_media_urls(page: bytes, page_url: str, *, charset: str | None = None) -> list[str]:
    """The absolute http(s) media URLs a page references, in page order, deduplicated."""
    text = _decode(page, charset)[:MAX_PARSE_CHARS]
    collector = _MediaCollector()
    collector.feed(text)
    collector.close()
    base = collector.base_href or page_url
    found: list[str] = []
    for reference in collector.references:
        try:
            url = str(SafeUrl.parse(urljoin(urljoin(page_url, base), reference)))
        except (FetchError, ValueError):
            continue  # data:, javascript:, malformed: nothing to fetch
        if url not in found:
            found.append(url)
        if len(found) >= MAX_MEDIA_URLS:
            break
    return found


#: Where a page names its author by its structure (not every link on it: a post page
#: links to commenters, to the platform's own account, to suggested profiles).
_AUTHOR_META = {"article:author", "author", "og:article:author"}
MAX_AUTHOR_URLS = 10


def extract_author_urls(page: bytes, page_url: str, *, charset: str | None = None) -> list[str]:
    """The absolute http(s) URLs a page declares as its author's: ``<link rel=author>``,
    ``<a rel=author>``, ``<meta property=article:author>`` and ``twitter:creator`` (an
    X handle, as its profile URL); in page order, deduplicated."""
    text = _decode(page, charset)[:MAX_PARSE_CHARS]
    collector = _AuthorCollector()
    collector.feed(text)
    collector.close()
    found: list[str] = []
    for reference in collector.references:
        try:
            url = str(SafeUrl.parse(urljoin(page_url, reference)))
        except (FetchError, ValueError):
            continue
        if url not in found:
            found.append(url)
        if len(found) >= MAX_AUTHOR_URLS:
            break
    return found


class _AuthorCollector(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.references: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = {name: value.strip() for name, value in attrs if value}
        rels = values.get("rel", "").lower().split()
        if tag in ("a", "link") and "author" in rels and values.get("href"):
            self.references.append(values["href"])
        if tag != "meta" or not values.get("content"):
            return
        name = (values.get("property") or values.get("name") or "").lower()
        content = values["content"]
        if name in _AUTHOR_META and content.lower().startswith(("http://", "https://")):
            self.references.append(content)
        elif name == "twitter:creator" and content.startswith("@") and len(content) > 1:
            self.references.append(f"https://x.com/{content[1:]}")


def _decode(page: bytes, charset: str | None) -> str:
    try:
        return page.decode(charset or "utf-8", errors="replace")
    except LookupError:  # an unknown charset name from the server
        return page.decode("utf-8", errors="replace")


class _MediaCollector(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.references: list[str] = []
        self.base_href: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = {name: value for name, value in attrs if value}
        if tag == "base" and self.base_href is None and "href" in values:
            self.base_href = values["href"].strip()
        for attribute in _SRC_ATTRIBUTES.get(tag, ()):
            if attribute in values:
                self.references.append(values[attribute].strip())
        if tag == "meta":
            name = (values.get("property") or values.get("name") or "").lower()
            if name in _META_NAMES and "content" in values:
                self.references.append(values["content"].strip())
