"""Reclaim's hash feed as a python-threatexchange ``SignalExchangeAPI``.

Hasher-Matcher-Actioner and the ``threatexchange`` CLI fetch exchanges through this
interface.  The plugin talks HTTP to a Reclaim server's partner API with an API key:

- **fetch**: ``GET /api/v1/hashes`` page by page from the checkpoint's cursor.  Each
  update is keyed by Reclaim's bank-entry id, the feed's own key: a tombstone
  (``deleted: true``) deletes exactly that entry, so a hash withdrawn from one bank
  stays matchable if another bank still holds it.  (StopNCII's adapter decides
  deletions by comparing the hash value with a case status, so withdrawals can be
  missed; here a deletion is the feed's explicit tombstone.)
- **opinions**: verified entries (a person at the hotline saw the picture) are
  ``POSITIVE_CLASS``; unverified ones (hashed on a reporter's device, or decided without
  being seen) ``INVESTIGATION_SEED``.  Each opinion's tags are the bank's name,
  ``category:<category>`` (``csam``, ``self_generated_minor``, ``adult_ncii``,
  ``sextortion``, ``unknown``) and ``verified`` or ``unverified``.  Verified hashes of
  different categories are in different banks, so an HMA exchange per bank routes each
  category to its own pipeline.
- **report_opinion**: sent as feedback (``POST /api/v1/feedback``; the key needs the
  ``feedback`` scope).

Only the standard library and python-threatexchange are imported, so an HMA image can
install the ``reclaim`` package without its dependencies (``pip install --no-deps``).

No ``from __future__ import annotations`` here: the threatexchange CLI builds its
``config collab edit`` options from the collaboration dataclass's field types at run
time, and needs them as types (``t.Optional``, not ``X | None``), not as strings.
"""

import hashlib
import json
import logging
import re
import struct
import time
import typing as t
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass, field

from threatexchange.exchanges import auth
from threatexchange.exchanges import fetch_state as state
from threatexchange.exchanges.collab_config import CollaborationConfigWithDefaults
from threatexchange.exchanges.signal_exchange_api import SignalExchangeAPI
from threatexchange.signal_type.signal_base import SignalType

log = logging.getLogger(__name__)

API_NAME = "reclaim"
PAGE_SIZE = 10_000
TIMEOUT_SECONDS = 60.0
MAX_RETRIES = 5
_KEY_SHAPE = re.compile(r"rcl_[a-z0-9]{8}_[A-Za-z0-9_-]{43}")

#: Reclaim's signal type names and python-threatexchange's.
TX_NAMES = {"pdq": "pdq", "md5": "video_md5", "sha256": "video_sha256", "vpdq": "vpdq"}
RECLAIM_NAMES = {tx: reclaim for reclaim, tx in TX_NAMES.items()}


class ReclaimAPIError(RuntimeError):
    """The server refused a request; ``code`` is its error code."""

    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(f"Reclaim API {status} {code}: {message}")
        self.status = status
        self.code = code


@dataclass
class ReclaimCheckpoint(state.FetchCheckpointBase):
    """Where the last fetch stopped: the feed's ``next_cursor``."""

    cursor: str
    fetched_at: int

    def get_progress_timestamp(self) -> int | None:
        return self.fetched_at


@dataclass
class ReclaimEntry:
    """One bank entry as fetched (the value of an update)."""

    signal_type: str  # python-threatexchange's name: pdq, video_md5, video_sha256
    signal: str
    bank: str
    verified: bool
    quality: int | None = None
    category: str = "unknown"


@dataclass
class ReclaimSignalMetadata(state.FetchedSignalMetadata):
    """The banks that hold a signal, whether it is verified there, and what it is of."""

    banks: dict[str, bool] = field(default_factory=dict)
    categories: dict[str, str] = field(default_factory=dict)  # bank -> category

    def get_as_opinions(self) -> t.Sequence[state.SignalOpinion]:
        return [
            state.SignalOpinion(
                False,
                state.SignalOpinionCategory.POSITIVE_CLASS
                if verified
                else state.SignalOpinionCategory.INVESTIGATION_SEED,
                {
                    bank,
                    f"category:{self.categories.get(bank, 'unknown')}",
                    "verified" if verified else "unverified",
                },
            )
            for bank, verified in sorted(self.banks.items())
        ]


@dataclass
class _RequiredFields:
    base_url: str = field(metadata={"help": "the Reclaim server, e.g. https://reclaim.example.org"})


@dataclass
class ReclaimCollabConfig(CollaborationConfigWithDefaults, _RequiredFields):
    api: str = field(init=False, default=API_NAME)
    bank: t.Optional[str] = field(  # noqa: UP045 - see the module docstring
        default=None, metadata={"help": "only this bank (default: every bank)"}
    )


@dataclass
class ReclaimCredentials(auth.CredentialHelper):
    """A Reclaim partner API key (``rcl_<prefix>_<secret>``)."""

    ENV_VARIABLE: t.ClassVar[str] = "TX_RECLAIM_API_KEY"
    FILE_NAME: t.ClassVar[str] = "~/.tx_reclaim_api_key"

    api_key: str = field(metadata={"help": "the partner API key Reclaim gave you"})

    @classmethod
    def _from_str(cls, s: str) -> "ReclaimCredentials":
        return cls(api_key=s.strip())

    def _are_valid(self) -> bool:
        return bool(_KEY_SHAPE.fullmatch(self.api_key))


class ReclaimClient:
    """The few partner API calls the exchange needs, over urllib."""

    def __init__(self, base_url: str, api_key: str, *, timeout: float = TIMEOUT_SECONDS) -> None:
        self.base_url = base_url.rstrip("/")
        self.api_key = api_key
        self.timeout = timeout

    def hashes(self, cursor: str, *, bank: str | None, limit: int = PAGE_SIZE) -> dict[str, t.Any]:
        query = {"cursor": cursor, "limit": str(limit)} | ({"bank": bank} if bank else {})
        return self._call("GET", "/api/v1/hashes?" + urllib.parse.urlencode(query))

    def feedback(self, items: list[dict[str, t.Any]]) -> dict[str, t.Any]:
        return self._call("POST", "/api/v1/feedback", {"feedback": items})

    def _call(
        self, method: str, path: str, body: dict[str, t.Any] | None = None
    ) -> dict[str, t.Any]:
        data = None if body is None else json.dumps(body).encode()
        for attempt in range(MAX_RETRIES + 1):
            request = urllib.request.Request(  # noqa: S310 - the operator's configured URL
                self.base_url + path,
                data=data,
                method=method,
                headers={
                    "Authorization": f"Bearer {self.api_key}",
                    "Accept": "application/json",
                    "Content-Type": "application/json",
                    "User-Agent": "reclaim-threatexchange/1",
                },
            )
            try:
                with urllib.request.urlopen(request, timeout=self.timeout) as response:  # noqa: S310
                    result: dict[str, t.Any] = json.load(response)
                    return result
            except urllib.error.HTTPError as exc:
                if exc.code == 429 and attempt < MAX_RETRIES:
                    time.sleep(min(60.0, float(exc.headers.get("Retry-After") or 1)))
                    continue
                raise _api_error(exc) from None
        raise AssertionError("unreachable")


def _api_error(exc: urllib.error.HTTPError) -> ReclaimAPIError:
    try:
        error = json.loads(exc.read() or b"{}").get("error", {})
    except ValueError:
        error = {}
    return ReclaimAPIError(
        exc.code, error.get("code", f"http_{exc.code}"), error.get("message", "")
    )


class ReclaimSignalExchangeAPI(
    auth.SignalExchangeWithAuth[ReclaimCollabConfig, ReclaimCredentials],
    SignalExchangeAPI[
        ReclaimCollabConfig, ReclaimCheckpoint, ReclaimSignalMetadata, int, ReclaimEntry
    ],
):
    """Fetches Reclaim's hash feed (PDQ, MD5, SHA-256, vPDQ), withdrawals included."""

    def __init__(self, collab: ReclaimCollabConfig, client: ReclaimClient) -> None:
        self.collab = collab
        self.client = client

    @classmethod
    def get_name(cls) -> str:
        return API_NAME

    @staticmethod
    def get_config_cls() -> type[ReclaimCollabConfig]:
        return ReclaimCollabConfig

    @staticmethod
    def get_checkpoint_cls() -> type[ReclaimCheckpoint]:
        return ReclaimCheckpoint

    @staticmethod
    def get_record_cls() -> type[ReclaimSignalMetadata]:
        return ReclaimSignalMetadata

    @staticmethod
    def get_credential_cls() -> type[ReclaimCredentials]:
        return ReclaimCredentials

    @classmethod
    def for_collab(
        cls,
        collab: ReclaimCollabConfig,
        credentials: ReclaimCredentials | None = None,
    ) -> "ReclaimSignalExchangeAPI":
        credentials = credentials or ReclaimCredentials.get(cls)
        return cls(collab, ReclaimClient(collab.base_url, credentials.api_key))

    def fetch_iter(
        self,
        _supported_signal_types: t.Sequence[type[SignalType]],
        checkpoint: ReclaimCheckpoint | None,
    ) -> t.Iterator[state.FetchDelta[int, ReclaimEntry, ReclaimCheckpoint]]:
        cursor = checkpoint.cursor if checkpoint is not None else ""
        while True:
            try:
                page = self.client.hashes(cursor, bank=self.collab.bank)
            except ReclaimAPIError as exc:
                if exc.status == 401:
                    raise auth.SignalExchangeAPIInvalidAuthException(type(self), str(exc)) from None
                raise
            updates: dict[int, ReclaimEntry | None] = {}
            for entry in page["entries"]:
                updates[int(entry["id"])] = None if entry["deleted"] else _entry(entry)
            cursor = str(page["next_cursor"])
            yield state.FetchDelta(updates, ReclaimCheckpoint(cursor, int(time.time())))
            if not page["has_more"]:
                return

    @classmethod
    def naive_convert_to_signal_type(
        cls,
        signal_types: t.Sequence[type[SignalType]],
        collab: ReclaimCollabConfig,
        fetched: t.Mapping[int, ReclaimEntry],
    ) -> dict[type[SignalType], dict[str, ReclaimSignalMetadata]]:
        by_name = {st.get_name(): st for st in signal_types}
        converted: dict[type[SignalType], dict[str, ReclaimSignalMetadata]] = {}
        for entry in fetched.values():
            signal_type = by_name.get(entry.signal_type)
            if signal_type is None:
                continue
            try:
                signal = signal_type.validate_signal_str(entry.signal)
            except ValueError:
                log.warning("skipping a malformed %s from Reclaim", entry.signal_type)
                continue
            metadata = converted.setdefault(signal_type, {}).setdefault(
                signal, ReclaimSignalMetadata()
            )
            # A signal in several banks is one match with several opinions.
            metadata.banks[entry.bank] = metadata.banks.get(entry.bank, False) or entry.verified
            metadata.categories[entry.bank] = entry.category
        return converted

    def report_opinion(
        self,
        s_type: type[SignalType],
        signal: str,
        opinion: state.SignalOpinion,
    ) -> None:
        """Tell Reclaim what was done with a signal (the feedback API)."""
        kind = RECLAIM_NAMES.get(s_type.get_name())
        if kind is None:
            raise NotImplementedError(f"Reclaim has no {s_type.get_name()} signals")
        if kind == "vpdq":
            signal = vpdq_fingerprint(signal)
        outcome = {
            state.SignalOpinionCategory.NEGATIVE_CLASS: "not_violating",
            state.SignalOpinionCategory.POSITIVE_CLASS: "removed",
            state.SignalOpinionCategory.INVESTIGATION_SEED: "pending_review",
        }[opinion.category]
        self.client.feedback([{"signal_type": kind, "value": signal, "outcome": outcome}])


def _entry(record: dict[str, t.Any]) -> ReclaimEntry:
    signal = record["value"]
    if record["signal_type"] == "vpdq" and record.get("frames") is not None:
        # python-threatexchange's vPDQ signal string (vpdq_util.vpdq_to_json's form).
        signal = json.dumps(record["frames"])
    return ReclaimEntry(
        signal_type=TX_NAMES.get(record["signal_type"], record["signal_type"]),
        signal=signal,
        bank=record["bank"],
        verified=bool(record["verified"]),
        quality=record.get("quality"),
        category=str(record.get("category") or "unknown"),
    )


def vpdq_fingerprint(signal: str) -> str:
    """The fingerprint Reclaim gives a vPDQ signal string (the value of its ``vpdq``
    entry), computed as ``reclaim.matching.video.FrameList.fingerprint`` does, with the
    standard library only: distinct hashes in first-seen order with their best
    quality, then per frame its hash's position and its timestamp in milliseconds."""
    position: dict[bytes, int] = {}
    qualities: list[int] = []
    frame_hash: list[int] = []
    times: list[int] = []
    for item in json.loads(signal):
        value, quality, timestamp = item.split(",")
        raw = bytes.fromhex(value)
        k = position.setdefault(raw, len(position))
        if k == len(qualities):
            qualities.append(int(quality))
        else:
            qualities[k] = max(qualities[k], int(quality))
        frame_hash.append(k)
        times.append(round(float(timestamp) * 1000))
    digest = hashlib.sha256(struct.pack("<4sII", b"VPQ1", len(position), len(frame_hash)))
    digest.update(b"".join(position))
    digest.update(bytes(qualities))
    digest.update(struct.pack(f"<{len(frame_hash)}I", *frame_hash))
    digest.update(struct.pack(f"<{len(times)}I", *times))
    return digest.hexdigest()
