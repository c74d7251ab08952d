"""The webhook signature scheme: sign, verify, the replay window and the replay guard."""

from __future__ import annotations

import hashlib
import hmac
import threading

import pytest
from hypothesis import given
from hypothesis import strategies as st

from reclaim.delivery.signing import (
    MalformedSignatureError,
    ReplayError,
    ReplayGuard,
    SignatureMismatchError,
    StaleSignatureError,
    sign,
    verify,
)

SECRET = "whsec_0123456789abcdef0123456789abcdef"
BODY = '{"notice":"N-1","title":"移除通知"}'.encode()
T = 1_741_944_413


def test_the_documented_scheme() -> None:
    # docs/webhooks.md: hex HMAC-SHA256 over the ASCII timestamp, ".", the raw body.
    expected = hmac.new(SECRET.encode(), b"1741944413." + BODY, hashlib.sha256).hexdigest()
    assert sign(SECRET, BODY, T) == f"t={T},v1={expected}"


def test_a_good_signature_verifies() -> None:
    verified = verify(SECRET, BODY, sign(SECRET, BODY, T), now=T + 5)
    assert verified.timestamp == T
    assert sign(SECRET, BODY, T).endswith(verified.signature)


def test_bytes_and_text_secrets_agree() -> None:
    assert sign(SECRET.encode(), BODY, T) == sign(SECRET, BODY, T)


@pytest.mark.parametrize("t", [-1, 10**12])
def test_timestamps_are_unix_seconds_of_at_most_twelve_digits(t: int) -> None:
    with pytest.raises(ValueError, match="Unix seconds"):
        sign(SECRET, BODY, t)


def test_a_tampered_body_fails() -> None:
    header = sign(SECRET, BODY, T)
    with pytest.raises(SignatureMismatchError):
        verify(SECRET, BODY.replace(b"N-1", b"N-2"), header, now=T)


def test_a_wrong_secret_fails() -> None:
    with pytest.raises(SignatureMismatchError):
        verify("another-secret", BODY, sign(SECRET, BODY, T), now=T)


def test_a_moved_timestamp_fails() -> None:
    # Re-dating a captured request would defeat the window; the signature covers t.
    signature = sign(SECRET, BODY, T).split(",v1=")[1]
    with pytest.raises(SignatureMismatchError):
        verify(SECRET, BODY, f"t={T + 600},v1={signature}", now=T + 600)


@pytest.mark.parametrize("skew", [301, -301, 86_400, -86_400])
def test_timestamps_outside_the_window_fail(skew: int) -> None:
    with pytest.raises(StaleSignatureError):
        verify(SECRET, BODY, sign(SECRET, BODY, T), now=T + skew)


@pytest.mark.parametrize("skew", [0, 300, -300])
def test_the_window_edges_are_inside(skew: int) -> None:
    verify(SECRET, BODY, sign(SECRET, BODY, T), now=T + skew)


def test_the_tolerance_is_the_receivers_to_choose() -> None:
    header = sign(SECRET, BODY, T)
    with pytest.raises(StaleSignatureError):
        verify(SECRET, BODY, header, now=T + 61, tolerance=60)


@pytest.mark.parametrize(
    "header",
    [
        None,
        "",
        "garbage",
        f"v1={'a' * 64}",
        "t=1741944413",
        f"t=1741944413,v1={'a' * 63}",
        f"t=1741944413,v1={'g' * 64}",
        f"t=-5,v1={'a' * 64}",
        f"t=1.5,v1={'a' * 64}",
        f"t=1,t=2,v1={'a' * 64}",
        f"t=1741944413,v1={'a' * 64},junk",
        "t=" + "9" * 5000,
    ],
)
def test_malformed_headers_fail(header: str | None) -> None:
    with pytest.raises(MalformedSignatureError):
        verify(SECRET, BODY, header, now=T)


def test_one_matching_signature_among_several_is_enough() -> None:
    # A sender rotating its secret may sign with the old and the new one.
    good = sign(SECRET, BODY, T).split(",v1=")[1]
    header = f"t={T},v1={'0' * 64},v1={good.upper()},v2=future-scheme"
    assert verify(SECRET, BODY, header, now=T).signature == good


@given(
    secret=st.text(min_size=1, max_size=40),
    body=st.binary(max_size=512),
    t=st.integers(0, 10**12 - 1),
)
def test_sign_then_verify_round_trips(secret: str, body: bytes, t: int) -> None:
    assert verify(secret, body, sign(secret, body, t), now=t).timestamp == t


@given(body=st.binary(min_size=1, max_size=256), data=st.data())
def test_any_changed_byte_fails(body: bytes, data: st.DataObject) -> None:
    index = data.draw(st.integers(0, len(body) - 1))
    flip = data.draw(st.integers(1, 255))
    changed = body[:index] + bytes([body[index] ^ flip]) + body[index + 1 :]
    with pytest.raises(SignatureMismatchError):
        verify(SECRET, changed, sign(SECRET, body, T), now=T)


# --- the replay guard ---------------------------------------------------------------


def test_the_guard_refuses_a_second_sighting() -> None:
    guard = ReplayGuard()
    verified = verify(SECRET, BODY, sign(SECRET, BODY, T), now=T)
    guard.check(verified, now=T)
    with pytest.raises(ReplayError):
        guard.check(verified, now=T + 200)


def test_a_fresh_signature_of_the_same_body_is_not_a_replay() -> None:
    guard = ReplayGuard()
    guard.check(verify(SECRET, BODY, sign(SECRET, BODY, T), now=T), now=T)
    guard.check(verify(SECRET, BODY, sign(SECRET, BODY, T + 1), now=T + 1), now=T + 1)
    assert len(guard) == 2


def test_the_guard_forgets_what_the_window_already_refuses() -> None:
    guard = ReplayGuard(tolerance=300)
    for offset in range(10):
        guard.check(verify(SECRET, BODY, sign(SECRET, BODY, T + offset), now=T), now=T)
    assert len(guard) == 10
    later = T + 305
    guard.check(verify(SECRET, BODY, sign(SECRET, BODY, later), now=later), now=later)
    # Timestamps T..T+4 are now older than the window (verify refuses them anyway).
    assert len(guard) == 6


def test_the_guard_admits_one_of_many_concurrent_replays() -> None:
    guard = ReplayGuard()
    verified = verify(SECRET, BODY, sign(SECRET, BODY, T), now=T)
    outcomes: list[bool] = []
    lock = threading.Lock()

    def attempt() -> None:
        try:
            guard.check(verified, now=T)
        except ReplayError:
            ok = False
        else:
            ok = True
        with lock:
            outcomes.append(ok)

    threads = [threading.Thread(target=attempt) for _ in range(16)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(outcomes) == [False] * 15 + [True]
