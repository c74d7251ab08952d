"""The encrypted quarantine: fetched content at rest, one AES-GCM blob per object.

File layout (``<object_id>.rq``)::

    b"RCLQ" | version (1 byte) | header length (2 bytes, big-endian) | header JSON
    | nonce (12 bytes) | AES-256-GCM ciphertext and tag

The clear header holds only what listing and key lookup need: the object id, the key
id and the creation time.  Everything before the nonce is the GCM associated data, so
the header cannot be edited, and because it names the object id, a blob copied or
swapped under another object's name fails to decrypt.  The encrypted payload carries
the content's size, SHA-256 and the caller's metadata, so not even the content hash
is readable on disk.

Plaintext never touches the disk: encryption happens in memory and only ciphertext is
written, to a temporary file that is fsynced and then renamed into place.  Whole
objects are held in memory, which suits the fetcher's size cap.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import re
import struct
import tempfile
from collections.abc import Callable, Collection, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import MappingProxyType
from typing import Any

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from reclaim.fetching.quarantine.keys import Keyring

_MAGIC = b"RCLQ"
_VERSION = 1
_PREFIX = struct.Struct(">4sBH")  # magic, version, header length
_NONCE_BYTES = 12
_SUFFIX = ".rq"
_OBJECT_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9_-]{0,127}")
# AESGCM takes at most 2**31 - 1 bytes per call; leave room for the metadata.
MAX_OBJECT_BYTES = 2**31 - 1 - 1024 * 1024
#: Temporary files older than this belong to a crashed write and are purged.
STALE_TEMP_AGE = timedelta(hours=1)


class QuarantineError(Exception):
    """A quarantined object could not be stored or read."""


class QuarantineNotFoundError(QuarantineError, LookupError):
    """No object with that id is in the quarantine."""


class UnknownKeyError(QuarantineError):
    """The object was encrypted with a key id that is not in the keyring."""


class QuarantineIntegrityError(QuarantineError):
    """The stored blob is corrupt, was tampered with, or belongs to another object."""


@dataclass(frozen=True, slots=True)
class StoredObject:
    """What the database should record about a quarantined object."""

    object_id: str
    key_id: str
    size: int
    sha256: str
    created_at: datetime


@dataclass(frozen=True, slots=True)
class QuarantinedObject:
    record: StoredObject
    data: bytes = field(repr=False)
    metadata: Mapping[str, str]


@dataclass(frozen=True, slots=True)
class QuarantineEntry:
    """One object as seen by a directory listing (nothing decrypted)."""

    object_id: str
    key_id: str | None
    created_at: datetime


def _utcnow() -> datetime:
    return datetime.now(UTC)


class QuarantineStore:
    """A directory of encrypted objects.  Safe for concurrent readers and writers."""

    def __init__(
        self, directory: Path, keyring: Keyring, *, clock: Callable[[], datetime] = _utcnow
    ) -> None:
        self.directory = directory
        self._keyring = keyring
        self._clock = clock
        directory.mkdir(mode=0o700, parents=True, exist_ok=True)

    def put(
        self, object_id: str, data: bytes, metadata: Mapping[str, str] | None = None
    ) -> StoredObject:
        """Encrypt and store ``data`` under ``object_id`` (replacing any earlier version)."""
        return self._write(object_id, data, dict(metadata or {}), self._clock())

    def get(self, object_id: str) -> bytes:
        return self.read(object_id).data

    def read(self, object_id: str) -> QuarantinedObject:
        """Decrypt an object with its metadata and record."""
        path = self._path(object_id)
        try:
            blob = path.read_bytes()
        except FileNotFoundError:
            raise QuarantineNotFoundError(f"no quarantined object {object_id!r}") from None
        header, header_end = _parse_header(blob, object_id)
        key_id = header["kid"]
        key = self._keyring.keys.get(key_id)
        if key is None:
            raise UnknownKeyError(
                f"quarantined object {object_id!r} was encrypted with key id {key_id!r}, "
                "which is not in the keyring (was an old key removed too early?)"
            )
        nonce = blob[header_end : header_end + _NONCE_BYTES]
        try:
            plaintext = AESGCM(key).decrypt(
                nonce, blob[header_end + _NONCE_BYTES :], blob[:header_end]
            )
        except InvalidTag:
            raise QuarantineIntegrityError(
                f"quarantined object {object_id!r} failed authentication: it was altered, "
                "or it is another object's blob"
            ) from None
        return _unpack_payload(plaintext, object_id, key_id, _parse_time(header["created"]))

    def reencrypt(self, object_id: str) -> StoredObject:
        """Re-encrypt an object under the current key (key rotation), keeping its age."""
        current = self.read(object_id)
        if current.record.key_id == self._keyring.current_key_id:
            return current.record
        return self._write(
            object_id, current.data, dict(current.metadata), current.record.created_at
        )

    def exists(self, object_id: str) -> bool:
        return self._path(object_id).exists()

    def delete(self, object_id: str) -> bool:
        """Remove an object; True if it existed.

        Unlinking leaves only ciphertext behind on the medium; destroying a retired
        key (crypto-shredding) is what makes such remnants unreadable for good.
        """
        try:
            self._path(object_id).unlink()
        except FileNotFoundError:
            return False
        _fsync_directory(self.directory)
        return True

    def entries(self) -> Iterator[QuarantineEntry]:
        """Every stored object with its creation time, read from headers only."""
        for dir_entry in os.scandir(self.directory):
            name = dir_entry.name
            if name.startswith(".") or not name.endswith(_SUFFIX):
                continue
            object_id = name[: -len(_SUFFIX)]
            yield _entry_from_file(Path(dir_entry.path), object_id)

    def purge_expired(
        self, now: datetime, retention: timedelta, *, keep: Collection[str] = ()
    ) -> list[str]:
        """Delete objects created at least ``retention`` before ``now``, except those in
        ``keep`` (evidence under a legal hold or kept for a referral); return their ids."""
        purged = [
            entry.object_id
            for entry in list(self.entries())
            if entry.created_at + retention <= now
            and entry.object_id not in keep
            and self.delete(entry.object_id)
        ]
        self._remove_stale_temporaries(now)
        return purged

    def _write(
        self, object_id: str, data: bytes, metadata: dict[str, str], created_at: datetime
    ) -> StoredObject:
        path = self._path(object_id)
        if len(data) > MAX_OBJECT_BYTES:
            raise QuarantineError(f"object {object_id!r} is too large to quarantine")
        record = StoredObject(
            object_id=object_id,
            key_id=self._keyring.current_key_id,
            size=len(data),
            sha256=hashlib.sha256(data).hexdigest(),
            created_at=created_at,
        )
        header = json.dumps(
            {"id": object_id, "kid": record.key_id, "created": created_at.isoformat()},
            separators=(",", ":"),
            sort_keys=True,
        ).encode("utf-8")
        associated = _PREFIX.pack(_MAGIC, _VERSION, len(header)) + header
        nonce = os.urandom(_NONCE_BYTES)
        payload = _pack_payload(data, metadata, record)
        ciphertext = AESGCM(self._keyring.current_key).encrypt(nonce, payload, associated)
        _write_atomically(path, associated + nonce + ciphertext)
        return record

    def _path(self, object_id: str) -> Path:
        # The id becomes a file name, so it must not be able to name anything else.
        if not isinstance(object_id, str) or not _OBJECT_ID.fullmatch(object_id):
            raise ValueError(
                f"invalid quarantine object id {object_id!r}: use 1-128 letters, digits, "
                "'_' or '-', starting with a letter or digit"
            )
        return self.directory / f"{object_id}{_SUFFIX}"

    def _remove_stale_temporaries(self, now: datetime) -> None:
        cutoff = (now - STALE_TEMP_AGE).timestamp()
        for dir_entry in os.scandir(self.directory):
            if dir_entry.name.startswith(".") and dir_entry.name.endswith(".tmp"):
                with contextlib.suppress(FileNotFoundError):
                    if dir_entry.stat().st_mtime < cutoff:
                        os.unlink(dir_entry.path)


def _pack_payload(data: bytes, metadata: dict[str, str], record: StoredObject) -> bytes:
    inner = json.dumps(
        {"size": record.size, "sha256": record.sha256, "metadata": metadata},
        separators=(",", ":"),
        sort_keys=True,
    ).encode("utf-8")
    return struct.pack(">I", len(inner)) + inner + data


def _unpack_payload(
    plaintext: bytes, object_id: str, key_id: str, created_at: datetime
) -> QuarantinedObject:
    (inner_length,) = struct.unpack_from(">I", plaintext)
    inner = json.loads(plaintext[4 : 4 + inner_length])
    data = plaintext[4 + inner_length :]
    record = StoredObject(object_id, key_id, inner["size"], inner["sha256"], created_at)
    return QuarantinedObject(record, data, MappingProxyType(dict(inner["metadata"])))


def _parse_header(blob: bytes, object_id: str) -> tuple[dict[str, Any], int]:
    """The clear header and where it ends; authenticated later, by the GCM tag."""
    try:
        magic, version, length = _PREFIX.unpack_from(blob)
        end = _PREFIX.size + length
        header = json.loads(blob[_PREFIX.size : end])
        valid = (
            magic == _MAGIC
            and version == _VERSION
            and isinstance(header, dict)
            and isinstance(header.get("kid"), str)
            and isinstance(header.get("created"), str)
            and len(blob) >= end + _NONCE_BYTES + 16
        )
    except (struct.error, ValueError):
        valid = False
    if not valid:
        raise QuarantineIntegrityError(f"quarantined object {object_id!r} is not a valid blob")
    if header.get("id") != object_id:
        raise QuarantineIntegrityError(
            f"the blob stored as {object_id!r} belongs to another object; refusing it"
        )
    return header, end


def _parse_time(text: str) -> datetime:
    value = datetime.fromisoformat(text)
    return value if value.tzinfo is not None else value.replace(tzinfo=UTC)


def _entry_from_file(path: Path, object_id: str) -> QuarantineEntry:
    try:
        with path.open("rb") as handle:
            prefix = handle.read(_PREFIX.size)
            _, _, length = _PREFIX.unpack(prefix)
            header = json.loads(handle.read(length))
        return QuarantineEntry(object_id, str(header["kid"]), _parse_time(header["created"]))
    except (OSError, struct.error, ValueError, KeyError, TypeError):
        # A damaged header must not stop retention from purging the file.
        mtime = datetime.fromtimestamp(path.stat().st_mtime, UTC)
        return QuarantineEntry(object_id, None, mtime)


def _write_atomically(path: Path, blob: bytes) -> None:
    fd, temporary = tempfile.mkstemp(prefix=f".{path.stem}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(blob)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temporary, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(temporary)
        raise
    _fsync_directory(path.parent)


def _fsync_directory(directory: Path) -> None:
    # Makes the rename (or unlink) itself durable, not just the file's contents.
    fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
