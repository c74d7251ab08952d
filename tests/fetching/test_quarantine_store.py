"""The encrypted quarantine: round trips, tampering, swaps, rotation, nothing in clear."""

from __future__ import annotations

import base64
import hashlib
import os
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from reclaim.fetching.quarantine import (
    Keyring,
    QuarantineIntegrityError,
    QuarantineKeyError,
    QuarantineNotFoundError,
    QuarantineStore,
    UnknownKeyError,
    parse_key,
)
from tests.support.clock import FakeClock
from tests.support.http import png_bytes

KEY_A = base64.b64encode(bytes(range(32))).decode()
KEY_B = base64.urlsafe_b64encode(bytes(range(100, 132))).decode().rstrip("=")
T0 = datetime(2025, 3, 1, 12, 0, tzinfo=UTC)
# A recognisable plaintext: if any of it reaches the disk, the scan below finds it.
SECRET = b"RECLAIM-PLAINTEXT-MARKER-" + os.urandom(16).hex().encode() + png_bytes()


def store_at(
    directory: Path, current: str = "a", clock: FakeClock | None = None
) -> QuarantineStore:
    keyring = Keyring.from_base64(current, {"a": KEY_A, "b": KEY_B})
    return QuarantineStore(directory, keyring, clock=clock or FakeClock(T0))


def test_round_trip_with_metadata(tmp_path: Path) -> None:
    store = store_at(tmp_path)
    record = store.put("item-1", SECRET, {"url": "https://example.com/x", "type": "image/png"})
    assert record.key_id == "a"
    assert record.size == len(SECRET)
    assert record.sha256 == hashlib.sha256(SECRET).hexdigest()
    assert record.created_at == T0
    assert store.get("item-1") == SECRET
    opened = store.read("item-1")
    assert opened.record == record
    assert dict(opened.metadata) == {"url": "https://example.com/x", "type": "image/png"}
    assert store.exists("item-1")


def test_no_plaintext_reaches_the_disk(tmp_path: Path) -> None:
    directory = tmp_path / "quarantine"
    store = store_at(directory)
    store.put("item-1", SECRET, {"url": "https://leak.example.com/private"})
    store.put("item-2", SECRET)
    files = [path for path in tmp_path.rglob("*") if path.is_file()]
    assert sorted(path.name for path in files) == ["item-1.rq", "item-2.rq"]  # no temp left
    for path in files:
        stored = path.read_bytes()
        for needle in (SECRET[:25], SECRET[-64:], b"leak.example.com", record_hash(SECRET)):
            assert needle not in stored
    assert directory.stat().st_mode & 0o777 == 0o700
    assert all(path.stat().st_mode & 0o077 == 0 for path in files)


def record_hash(data: bytes) -> bytes:
    return hashlib.sha256(data).hexdigest().encode()


def test_identical_content_encrypts_differently(tmp_path: Path) -> None:
    store = store_at(tmp_path)
    store.put("x1", SECRET)
    store.put("x2", SECRET)
    one, two = (tmp_path / "x1.rq").read_bytes(), (tmp_path / "x2.rq").read_bytes()
    assert one[-len(SECRET) :] != two[-len(SECRET) :]  # fresh random nonce each time


def test_tampered_ciphertext_fails(tmp_path: Path) -> None:
    store = store_at(tmp_path)
    store.put("item-1", SECRET)
    path = tmp_path / "item-1.rq"
    blob = bytearray(path.read_bytes())
    blob[-40] ^= 0x01
    path.write_bytes(bytes(blob))
    with pytest.raises(QuarantineIntegrityError, match="failed authentication"):
        store.get("item-1")


def test_tampered_header_fails(tmp_path: Path) -> None:
    store = store_at(tmp_path)
    store.put("item-1", SECRET)
    path = tmp_path / "item-1.rq"
    path.write_bytes(path.read_bytes().replace(b"2025-03-01", b"2099-03-01"))
    with pytest.raises(QuarantineIntegrityError):
        store.get("item-1")


def test_truncated_and_foreign_files_fail_cleanly(tmp_path: Path) -> None:
    store = store_at(tmp_path)
    (tmp_path / "junk.rq").write_bytes(b"RCLQ")
    (tmp_path / "png.rq").write_bytes(png_bytes())
    for object_id in ("junk", "png"):
        with pytest.raises(QuarantineIntegrityError, match="not a valid blob"):
            store.get(object_id)


def test_swapped_blobs_fail_to_decrypt(tmp_path: Path) -> None:
    store = store_at(tmp_path)
    store.put("victim-a", b"content of A" * 10)
    store.put("victim-b", b"content of B" * 10)
    a, b = tmp_path / "victim-a.rq", tmp_path / "victim-b.rq"
    blob_a, blob_b = a.read_bytes(), b.read_bytes()
    a.write_bytes(blob_b)
    b.write_bytes(blob_a.replace(b'"id":"victim-a"', b'"id":"victim-b"'))
    with pytest.raises(QuarantineIntegrityError, match="belongs to another object"):
        store.get("victim-a")
    # Even with the clear header rewritten to the new name, the GCM tag catches it.
    with pytest.raises(QuarantineIntegrityError, match="failed authentication"):
        store.get("victim-b")


def test_rotation_old_keys_decrypt_new_writes_use_the_new_key(tmp_path: Path) -> None:
    old = store_at(tmp_path, current="a")
    old.put("before", SECRET)
    new = store_at(tmp_path, current="b")
    assert new.get("before") == SECRET
    assert new.put("after", SECRET).key_id == "b"
    assert new.read("before").record.key_id == "a"
    rotated = new.reencrypt("before")
    assert (rotated.key_id, rotated.created_at) == ("b", T0)
    only_b = QuarantineStore(tmp_path, Keyring("b", {"b": parse_key(KEY_B)}))
    assert only_b.get("before") == SECRET


def test_an_object_under_a_retired_key_names_the_missing_key(tmp_path: Path) -> None:
    store_at(tmp_path, current="a").put("item-1", SECRET)
    only_b = QuarantineStore(tmp_path, Keyring("b", {"b": parse_key(KEY_B)}))
    with pytest.raises(UnknownKeyError, match="key id 'a'"):
        only_b.get("item-1")


def test_the_wrong_key_under_the_right_id_fails(tmp_path: Path) -> None:
    store_at(tmp_path, current="a").put("item-1", SECRET)
    impostor = QuarantineStore(tmp_path, Keyring("a", {"a": parse_key(KEY_B)}))
    with pytest.raises(QuarantineIntegrityError):
        impostor.get("item-1")


def test_delete_and_missing_objects(tmp_path: Path) -> None:
    store = store_at(tmp_path)
    store.put("item-1", SECRET)
    assert store.delete("item-1") is True
    assert store.delete("item-1") is False
    assert not store.exists("item-1")
    with pytest.raises(QuarantineNotFoundError):
        store.get("item-1")


@pytest.mark.parametrize("object_id", ["../escape", "a/b", "", ".hidden", "x" * 129, "a.rq", "é"])
def test_object_ids_cannot_name_other_files(tmp_path: Path, object_id: str) -> None:
    with pytest.raises(ValueError, match="invalid quarantine object id"):
        store_at(tmp_path).put(object_id, SECRET)


def test_listing_and_purging_by_age(tmp_path: Path) -> None:
    clock = FakeClock(T0)
    store = store_at(tmp_path, clock=clock)
    store.put("old", SECRET)
    clock.now = T0 + timedelta(days=10)
    store.put("new", SECRET)
    (tmp_path / "damaged.rq").write_bytes(b"garbage")
    os.utime(tmp_path / "damaged.rq", (T0.timestamp(), T0.timestamp()))
    stale = tmp_path / ".old.crashed.tmp"
    stale.write_bytes(b"ciphertext from a crashed write")
    os.utime(stale, (T0.timestamp(), T0.timestamp()))

    listed = {entry.object_id: entry for entry in store.entries()}
    assert set(listed) == {"old", "new", "damaged"}
    assert (listed["old"].created_at, listed["old"].key_id) == (T0, "a")
    assert listed["damaged"].key_id is None  # unreadable header: file time is used

    purged = store.purge_expired(T0 + timedelta(days=30), retention=timedelta(days=30))
    assert sorted(purged) == ["damaged", "old"]
    assert {entry.object_id for entry in store.entries()} == {"new"}
    assert not stale.exists()


def test_failed_writes_leave_no_temporary_files(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    store = store_at(tmp_path)

    def broken_replace(src: str, dst: str) -> None:
        raise OSError("disk full")

    monkeypatch.setattr(os, "replace", broken_replace)
    with pytest.raises(OSError, match="disk full"):
        store.put("item-1", SECRET)
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (base64.b64encode(bytes(16)).decode(), "decodes to 16 bytes"),
        (base64.b64encode(bytes(range(33))).decode(), "decodes to 33 bytes"),
        ("not base64 at all!", "not valid base64"),
        (base64.b64encode(bytes(32)).decode(), "placeholder"),
    ],
)
def test_bad_keys_are_refused_clearly(text: str, message: str) -> None:
    with pytest.raises(QuarantineKeyError, match=message):
        parse_key(text, key_id="k1")


def test_keys_parse_in_either_alphabet_with_or_without_padding() -> None:
    raw = bytes([0xFB, 0xFF] * 16)  # encodes with '+' and '/' (or '-' and '_')
    for text in (
        base64.b64encode(raw).decode(),
        base64.urlsafe_b64encode(raw).decode(),
        base64.urlsafe_b64encode(raw).decode().rstrip("="),
    ):
        assert parse_key(text) == raw


def test_keyring_validation_and_repr() -> None:
    with pytest.raises(QuarantineKeyError, match="not in the keyring"):
        Keyring.from_base64("missing", {"a": KEY_A})
    with pytest.raises(QuarantineKeyError, match="key id"):
        Keyring.from_base64("a b", {"a b": KEY_A})
    keyring = Keyring.from_base64("a", {"a": KEY_A})
    assert KEY_A not in repr(keyring)
    assert "keys" not in repr(keyring)
