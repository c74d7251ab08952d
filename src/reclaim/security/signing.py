"""The hotline's signing key: Ed25519 signatures that anyone can check with the public key.

One keyring signs everything Reclaim hands to people who must be able to trust it
without trusting Reclaim's database: reporters' receipts, evidence packages for
agencies, audit checkpoints.  New signatures use the *current* key; older keys stay so
that what they signed still verifies, and a key id travels with every signature so a
verifier knows which public key to use.

Private keys arrive from settings as base64 text of the 32-byte Ed25519 seed
(``RECLAIM_SIGNING_KEYS``, ``RECLAIM_SIGNING_CURRENT_KEY_ID``).  Verifying needs only
the public keys (:func:`public_keys`), which the console and the docs publish; a
verifier can use any Ed25519 implementation (``openssl pkeyutl -verify``, PyNaCl,
``cryptography``).
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from reclaim.config import Settings
from reclaim.fetching.quarantine.keys import check_key_id

ALGORITHM = "ed25519"
SEED_BYTES = 32


class SigningKeyError(ValueError):
    """A signing key or key id in the settings is malformed."""


class SignatureError(ValueError):
    """A signature does not verify (wrong key, altered content, unknown key id)."""


@dataclass(frozen=True, slots=True)
class Signature:
    """A detached signature: which key, and the 64 signature bytes (base64 in text)."""

    key_id: str
    value: bytes

    def to_json(self) -> dict[str, str]:
        return {
            "algorithm": ALGORITHM,
            "key_id": self.key_id,
            "signature": base64.b64encode(self.value).decode(),
        }

    @classmethod
    def from_json(cls, data: Mapping[str, object]) -> Signature:
        if data.get("algorithm") != ALGORITHM:
            raise SignatureError(f"unsupported signature algorithm {data.get('algorithm')!r}")
        key_id, text = data.get("key_id"), data.get("signature")
        if not isinstance(key_id, str) or not isinstance(text, str):
            raise SignatureError("a signature needs a key_id and a base64 signature")
        try:
            value = base64.b64decode(text, validate=True)
        except (binascii.Error, ValueError):
            raise SignatureError("the signature is not valid base64") from None
        return cls(key_id, value)


def parse_seed(text: str, *, key_id: str = "?") -> bytes:
    """Decode a base64 (standard or URL-safe) 32-byte Ed25519 seed; never echoes it."""
    compact = "".join(text.split()).replace("-", "+").replace("_", "/")
    compact += "=" * (-len(compact) % 4)
    try:
        seed = base64.b64decode(compact, validate=True)
    except (binascii.Error, ValueError):
        raise SigningKeyError(f"signing key {key_id!r} is not valid base64") from None
    if len(seed) != SEED_BYTES:
        raise SigningKeyError(
            f"signing key {key_id!r} decodes to {len(seed)} bytes; an Ed25519 private key "
            f"(seed) is exactly {SEED_BYTES} bytes"
        )
    if len(set(seed)) == 1:
        raise SigningKeyError(f"signing key {key_id!r} is a placeholder (one repeated byte)")
    return seed


def new_seed_text() -> str:
    """A fresh private key for the settings (``reclaim keys`` prints one)."""
    seed = Ed25519PrivateKey.generate().private_bytes(
        serialization.Encoding.Raw,
        serialization.PrivateFormat.Raw,
        serialization.NoEncryption(),
    )
    return base64.b64encode(seed).decode()


@dataclass(frozen=True, slots=True)
class SigningKeyring:
    """The current key id and every private key (current and older) by id."""

    current_key_id: str
    keys: Mapping[str, Ed25519PrivateKey] = field(repr=False)

    def __post_init__(self) -> None:
        for key_id in self.keys:
            check_key_id(key_id)
        if self.current_key_id not in self.keys:
            raise SigningKeyError(
                f"the current signing key id {self.current_key_id!r} is not among the "
                f"signing keys (known ids: {', '.join(sorted(self.keys)) or 'none'})"
            )
        object.__setattr__(self, "keys", MappingProxyType(dict(self.keys)))

    @classmethod
    def from_base64(cls, current_key_id: str, seeds: Mapping[str, str]) -> SigningKeyring:
        return cls(
            current_key_id,
            {
                check_key_id(key_id): Ed25519PrivateKey.from_private_bytes(
                    parse_seed(text, key_id=key_id)
                )
                for key_id, text in seeds.items()
            },
        )

    def sign(self, payload: bytes) -> Signature:
        """Sign ``payload`` with the current key."""
        key = self.keys[self.current_key_id]
        return Signature(self.current_key_id, key.sign(payload))

    def public_keys(self) -> dict[str, Ed25519PublicKey]:
        return {key_id: key.public_key() for key_id, key in self.keys.items()}


def signing_keyring(settings: Settings) -> SigningKeyring:
    """The configured keyring (the entry points build it once and pass it down)."""
    return SigningKeyring.from_base64(
        settings.signing_current_key_id,
        {key_id: key.get_secret_value() for key_id, key in settings.signing_keys.items()},
    )


def public_key_text(key: Ed25519PublicKey) -> str:
    """The 32 raw public-key bytes in base64: what the console and docs publish."""
    return base64.b64encode(
        key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    ).decode()


def public_key_pem(key: Ed25519PublicKey) -> str:
    """The public key as PEM (SubjectPublicKeyInfo), for ``openssl pkeyutl -verify``."""
    return key.public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    ).decode()


def load_public_key(text: str) -> Ed25519PublicKey:
    """A public key from its base64 raw form or from PEM."""
    if "BEGIN PUBLIC KEY" in text:
        loaded = serialization.load_pem_public_key(text.encode())
        if not isinstance(loaded, Ed25519PublicKey):
            raise SigningKeyError("the PEM key is not an Ed25519 public key")
        return loaded
    try:
        raw = base64.b64decode("".join(text.split()), validate=True)
        return Ed25519PublicKey.from_public_bytes(raw)
    except (binascii.Error, ValueError):
        raise SigningKeyError("not an Ed25519 public key (32 bytes, base64)") from None


def verify(
    public_keys: Mapping[str, Ed25519PublicKey], payload: bytes, signature: Signature
) -> None:
    """Raise SignatureError unless ``signature`` is a valid signature of ``payload``."""
    key = public_keys.get(signature.key_id)
    if key is None:
        raise SignatureError(f"no public key with id {signature.key_id!r}")
    try:
        key.verify(signature.value, payload)
    except InvalidSignature:
        raise SignatureError("the signature does not match the content") from None
