"""Reading a response body without trusting the server about its size or type.

The size cap is enforced as bytes arrive (a chunked body that never ends stops at the
cap); a Content-Length over the cap is refused before reading anything.  The content
is judged as soon as the first :data:`SNIFF_BYTES` are in, so a 2 GB archive is
refused after half a kilobyte rather than at the cap.

The fetcher asks for ``Accept-Encoding: identity``; servers that compress anyway with
gzip or deflate are decoded with a bounded decompressor, so a compression bomb counts
against the cap by its decoded size.
"""

from __future__ import annotations

import zlib
from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass

from reclaim.fetching.errors import ContentTypeError, FetchProtocolError, TooLargeError
from reclaim.fetching.sniff import SNIFF_BYTES, ContentVerdict, declared_type, judge


@dataclass(frozen=True, slots=True)
class Body:
    content: bytes
    verdict: ContentVerdict | None


async def read_body(
    chunks: AsyncIterator[bytes],
    headers: Mapping[str, str],
    *,
    limit: int,
    url: str,
    judge_content: bool,
) -> Body:
    """Read the whole body (at most ``limit`` decoded bytes) and, if asked, judge it."""
    _refuse_declared_length(headers.get("content-length"), limit, url)
    try:
        decoder = _Decoder.for_encoding(headers.get("content-encoding", ""), url)
    except ContentTypeError:
        if judge_content:
            raise
        # An error page's status is what matters (404 means "removed"); keep its body
        # as sent rather than fail the whole fetch over how it was compressed.
        decoder = _Decoder(None, url)
    declared = declared_type(headers.get("content-type"))
    body = bytearray()
    raw_total = 0
    verdict: ContentVerdict | None = None
    async for chunk in chunks:
        raw_total += len(chunk)
        if raw_total > limit:
            raise _too_large(limit, url)
        body += decoder.decode(chunk, limit - len(body))
        if len(body) > limit:
            raise _too_large(limit, url)
        if judge_content and verdict is None and len(body) >= SNIFF_BYTES:
            verdict = judge(declared, bytes(body[:SNIFF_BYTES]), url=url)
    body += decoder.flush()
    if len(body) > limit:
        raise _too_large(limit, url)
    if judge_content and verdict is None:
        verdict = judge(declared, bytes(body[:SNIFF_BYTES]), url=url)
    return Body(bytes(body), verdict)


def _refuse_declared_length(value: str | None, limit: int, url: str) -> None:
    if value is None:
        return
    try:
        declared = int(value.split(",")[0].strip())
    except ValueError:
        return  # h11 rejects malformed lengths while reading; nothing to decide here
    if declared > limit:
        raise TooLargeError(
            f"the server announces {declared:,} bytes, over the {limit:,}-byte limit",
            url=url,
            limit=limit,
        )


def _too_large(limit: int, url: str) -> TooLargeError:
    return TooLargeError(
        f"the content is larger than the {limit:,}-byte limit; stopped reading",
        url=url,
        limit=limit,
    )


class _Decoder:
    """Identity, gzip or deflate; never yields more than one byte past the room left."""

    def __init__(self, wbits: int | None, url: str) -> None:
        self._wbits = wbits
        self._url = url
        self._zlib = zlib.decompressobj(wbits) if wbits is not None else None
        self._fresh = True

    @classmethod
    def for_encoding(cls, header: str, url: str) -> _Decoder:
        encoding = header.strip().lower()
        if encoding in ("", "identity"):
            return cls(None, url)
        if encoding in ("gzip", "x-gzip"):
            return cls(16 + zlib.MAX_WBITS, url)
        if encoding == "deflate":
            return cls(zlib.MAX_WBITS, url)
        raise ContentTypeError(
            f"the server sent the content encoded as {header!r}, which the fetcher does "
            "not decode (it asked for unencoded content)",
            url=url,
        )

    def decode(self, chunk: bytes, room: int) -> bytes:
        if self._zlib is None:
            return chunk
        try:
            # max_length bounds the output, so a bomb cannot expand past the cap.
            out = self._zlib.decompress(chunk, room + 1)
        except zlib.error:
            if not (self._fresh and self._wbits == zlib.MAX_WBITS):
                raise FetchProtocolError(
                    "the compressed content is corrupt", url=self._url
                ) from None
            # Some servers send raw deflate without the zlib header; retry that way once.
            self._wbits = -zlib.MAX_WBITS
            self._zlib = zlib.decompressobj(self._wbits)
            return self.decode(chunk, room)
        self._fresh = False
        return out

    def flush(self) -> bytes:
        return self._zlib.flush() if self._zlib is not None else b""
