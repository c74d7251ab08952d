"""Keyed lookup hashes: equal values meet, purposes and secrets keep them apart."""

from __future__ import annotations

import pytest

from reclaim.security.lookup_hashes import LookupHasher, LookupPurpose

P = LookupPurpose.OFFENDER_IDENTIFIER


def test_equal_values_give_equal_digests_under_one_secret() -> None:
    hasher = LookupHasher(b"secret one")
    assert hasher.digest("handle\0user_alpha", purpose=P) == hasher.digest(
        "handle\0user_alpha", purpose=P
    )
    assert hasher.digest("handle\0user_alpha", purpose=P) != hasher.digest(
        "handle\0user_beta", purpose=P
    )


def test_purposes_and_secrets_keep_digests_apart() -> None:
    value = "phone\0+886912345678"
    one, two = LookupHasher(b"secret one"), LookupHasher(b"secret two")
    assert one.digest(value, purpose=P) != two.digest(value, purpose=P)
    assert one.digest(value, purpose=P) != one.digest(value, purpose=LookupPurpose.SEARCH_QUERY)
    # not a plain hash of the value: guessing phone numbers without the secret finds nothing
    import hashlib

    assert one.digest(value, purpose=P) != hashlib.sha256(value.encode()).hexdigest()


def test_a_secret_is_required() -> None:
    with pytest.raises(ValueError, match="secret"):
        LookupHasher(b"")
