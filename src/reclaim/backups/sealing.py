"""The backup's encryption: one stream sealed in chunks under a passphrase.

A backup holds the database, the quarantine and every key, so it is encrypted as a
whole.  The key is derived from the operator's passphrase with scrypt (salt and cost in
the plain manifest); the stream is cut into 1 MiB chunks, each sealed with AES-256-GCM
under a nonce made of a random 8-byte prefix and the chunk's number, with the chunk's
number and a "last chunk" flag as associated data, so chunks cannot be reordered,
dropped or the stream cut short without decryption failing (the STREAM construction
of Hoang, Reyhanitabar, Rogaway and Vizár).  Nothing here is held whole in memory.
"""

from __future__ import annotations

import os
import struct
from typing import BinaryIO

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.scrypt import Scrypt

MAGIC = b"RECLAIM-BACKUP-1\n"
CHUNK = 1024 * 1024
_PREFIX_BYTES = 8
_LENGTH = struct.Struct(">I")


class BackupDecryptionError(ValueError):
    """Wrong passphrase, or the backup was altered or cut short."""


def derive_key(passphrase: str, salt: bytes, *, n: int = 2**15, r: int = 8, p: int = 1) -> bytes:
    return Scrypt(salt=salt, length=32, n=n, r=r, p=p).derive(passphrase.encode("utf-8"))


def _nonce(prefix: bytes, index: int) -> bytes:
    return prefix + struct.pack(">I", index)


def _associated(index: int, last: bool) -> bytes:
    return struct.pack(">I?", index, last)


class SealedWriter:
    """A write-only binary stream that seals what is written into ``sink``."""

    def __init__(self, sink: BinaryIO, key: bytes) -> None:
        self._sink = sink
        self._aead = AESGCM(key)
        self._prefix = os.urandom(_PREFIX_BYTES)
        self._buffer = bytearray()
        self._index = 0
        self._closed = False
        sink.write(MAGIC + self._prefix)

    def write(self, data: bytes) -> int:
        self._buffer.extend(data)
        while len(self._buffer) > CHUNK:
            self._seal(bytes(self._buffer[:CHUNK]), last=False)
            del self._buffer[:CHUNK]
        return len(data)

    def close(self) -> None:
        if not self._closed:
            self._seal(bytes(self._buffer), last=True)
            self._buffer.clear()
            self._closed = True

    def _seal(self, chunk: bytes, *, last: bool) -> None:
        if self._index >= 2**32 - 1:
            raise ValueError("a backup stream holds at most 2^32 chunks")
        sealed = self._aead.encrypt(
            _nonce(self._prefix, self._index), chunk, _associated(self._index, last)
        )
        self._sink.write(_LENGTH.pack(len(sealed)) + sealed)
        self._index += 1


class SealedReader:
    """A read-only binary stream of what :class:`SealedWriter` sealed into ``source``."""

    def __init__(self, source: BinaryIO, key: bytes) -> None:
        if source.read(len(MAGIC)) != MAGIC:
            raise BackupDecryptionError("not a Reclaim backup stream")
        self._source = source
        self._aead = AESGCM(key)
        self._prefix = source.read(_PREFIX_BYTES)
        self._buffer = b""
        self._index = 0
        self._done = False

    def read(self, size: int = -1) -> bytes:
        while not self._done and (size < 0 or len(self._buffer) < size):
            self._buffer += self._next_chunk()
        if size < 0:
            out, self._buffer = self._buffer, b""
        else:
            out, self._buffer = self._buffer[:size], self._buffer[size:]
        return out

    def _next_chunk(self) -> bytes:
        head = self._source.read(_LENGTH.size)
        if len(head) != _LENGTH.size:
            raise BackupDecryptionError("the backup stream ends before its last chunk")
        (length,) = _LENGTH.unpack(head)
        sealed = self._source.read(length)
        nonce = _nonce(self._prefix, self._index)
        for last in (False, True):
            try:
                chunk = self._aead.decrypt(nonce, sealed, _associated(self._index, last))
            except InvalidTag:
                continue
            self._index += 1
            self._done = last
            return chunk
        raise BackupDecryptionError("wrong passphrase, or the backup was altered")
