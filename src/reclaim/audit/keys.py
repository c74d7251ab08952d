"""The audit trail's HMAC keys, and which database they belong to.

A plain hash chain proves nothing against someone who can write the database: they
change a row and recompute every hash after it.  Each row's hash is therefore an
HMAC-SHA256 under a key that lives in the settings (``RECLAIM_AUDIT_KEYS``), never in
the database; rows name the key id that hashed them, so the key can be rotated (a new
segment of the chain) while older rows still verify.

Every call site records events with ``audit.record(session, ...)`` and nothing else, so
the keyring is not passed along each call: each entry point (``create_app``, the CLI,
the worker) installs the keyring its settings name for the process (:func:`use_settings`),
and ``record`` takes it from there, or from a keyring bound to the session's engine
(:func:`bind_keyring`: a process that serves two installations, such as a restore test).
With neither, recording refuses (:class:`AuditKeyMissingError`) instead of writing rows
nobody could verify.
"""

from __future__ import annotations

import base64
import binascii
import re
import weakref
from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType

from sqlalchemy import Connection, Engine
from sqlalchemy.orm import Session

from reclaim.config import Settings

MIN_KEY_BYTES = 32
_KEY_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,31}")


class AuditKeyError(ValueError):
    """An audit key or key id in the settings is malformed."""


class AuditKeyMissingError(RuntimeError):
    """An audit event was recorded through an engine that has no audit keyring bound."""


def parse_key(text: str, *, key_id: str = "?") -> bytes:
    """Decode a base64 key of at least 32 bytes; never echoes key material."""
    compact = "".join(text.split()).replace("-", "+").replace("_", "/")
    compact += "=" * (-len(compact) % 4)
    try:
        key = base64.b64decode(compact, validate=True)
    except (binascii.Error, ValueError):
        raise AuditKeyError(f"audit key {key_id!r} is not valid base64") from None
    if len(key) < MIN_KEY_BYTES:
        raise AuditKeyError(
            f"audit key {key_id!r} decodes to {len(key)} bytes; at least {MIN_KEY_BYTES} "
            "random bytes are needed"
        )
    if len(set(key)) < 8:
        raise AuditKeyError(f"audit key {key_id!r} is a placeholder (too few distinct bytes)")
    return key


@dataclass(frozen=True, slots=True)
class AuditKeyring:
    """The current key id and every HMAC key (current and retired) by id."""

    current_key_id: str
    keys: Mapping[str, bytes] = field(repr=False)

    def __post_init__(self) -> None:
        for key_id in self.keys:
            if not _KEY_ID.fullmatch(key_id):
                raise AuditKeyError(
                    f"audit key id {key_id!r} must be 1-32 letters, digits, '.', '_' or '-'"
                )
        if self.current_key_id not in self.keys:
            raise AuditKeyError(
                f"the current audit key id {self.current_key_id!r} is not among the audit "
                f"keys (known ids: {', '.join(sorted(self.keys)) or 'none'})"
            )
        object.__setattr__(self, "keys", MappingProxyType(dict(self.keys)))

    @property
    def current_key(self) -> bytes:
        return self.keys[self.current_key_id]

    @classmethod
    def from_base64(cls, current_key_id: str, keys: Mapping[str, str]) -> AuditKeyring:
        return cls(current_key_id, {kid: parse_key(text, key_id=kid) for kid, text in keys.items()})


def audit_keyring(settings: Settings) -> AuditKeyring:
    """The configured keyring."""
    return AuditKeyring.from_base64(
        settings.audit_current_key_id,
        {kid: key.get_secret_value() for kid, key in settings.audit_keys.items()},
    )


_BOUND: weakref.WeakKeyDictionary[Engine, AuditKeyring] = weakref.WeakKeyDictionary()
_PROCESS: list[AuditKeyring] = []


def use_keyring(keyring: AuditKeyring) -> AuditKeyring:
    """Record this process's audit events under ``keyring`` (unless an engine has its own)."""
    _PROCESS[:] = [keyring]
    return keyring


def use_settings(settings: Settings) -> AuditKeyring:
    """Install the keyring the settings name for this process (what entry points call)."""
    return use_keyring(audit_keyring(settings))


def bind_keyring(engine: Engine, keyring: AuditKeyring) -> Engine:
    """Record audit events written through ``engine`` under ``keyring``."""
    _BOUND[engine] = keyring
    return engine


def keyring_for(session: Session) -> AuditKeyring:
    """The keyring bound to the engine behind ``session``, else the process's."""
    bind = session.get_bind()
    engine = bind.engine if isinstance(bind, Connection) else bind
    keyring = _BOUND.get(engine)
    if keyring is not None:
        return keyring
    if not _PROCESS:
        raise AuditKeyMissingError(
            "no audit key is configured in this process; entry points call "
            "reclaim.audit.keys.use_settings(settings)"
        )
    return _PROCESS[0]
