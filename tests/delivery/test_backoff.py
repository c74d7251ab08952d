"""Retry timing: exponential with a cap, full jitter, Retry-After honoured within the cap."""

from __future__ import annotations

import itertools
import random

import pytest
from hypothesis import given
from hypothesis import strategies as st

from reclaim.delivery import RetryPolicy, TemporaryDeliveryError, backoff_ceiling, next_delay

BASE, CAP = 60.0, 6 * 3600.0


def test_the_ceiling_doubles_then_stays_at_the_cap() -> None:
    ceilings = [backoff_ceiling(n, BASE, CAP) for n in range(1, 20)]
    assert ceilings[:4] == [60, 120, 240, 480]
    assert all(a <= b for a, b in itertools.pairwise(ceilings))
    assert ceilings[-1] == CAP
    assert max(ceilings) == CAP


def test_absurd_attempt_numbers_stay_finite() -> None:
    assert backoff_ceiling(100_000, BASE, CAP) == CAP
    assert 0 <= next_delay(100_000, BASE, CAP, random.Random(1)) <= CAP


@given(
    attempt=st.integers(1, 200),
    base=st.floats(0.001, 1e4),
    factor=st.floats(1, 1e4),
    seed=st.integers(0, 2**32),
)
def test_full_jitter_stays_within_zero_and_the_ceiling(
    attempt: int, base: float, factor: float, seed: int
) -> None:
    cap = base * factor
    delay = next_delay(attempt, base, cap, random.Random(seed))
    assert 0 <= delay <= backoff_ceiling(attempt, base, cap) <= cap


def test_a_seeded_random_gives_the_same_schedule() -> None:
    first = [next_delay(n, BASE, CAP, random.Random(7)) for n in range(1, 11)]
    second = [next_delay(n, BASE, CAP, random.Random(7)) for n in range(1, 11)]
    assert first == second


def test_jitter_spreads_retries_over_the_whole_range() -> None:
    rng = random.Random(42)
    draws = [next_delay(5, BASE, CAP, rng) for _ in range(2000)]
    ceiling = backoff_ceiling(5, BASE, CAP)
    assert min(draws) < 0.05 * ceiling
    assert max(draws) > 0.95 * ceiling
    assert 0.45 * ceiling < sum(draws) / len(draws) < 0.55 * ceiling


def test_without_a_random_the_system_source_is_used() -> None:
    assert len({next_delay(10, BASE, CAP) for _ in range(20)}) > 1


@pytest.mark.parametrize(("attempt", "base", "cap"), [(0, 1, 2), (1, 0, 2), (1, 3, 2)])
def test_nonsense_is_refused(attempt: int, base: float, cap: float) -> None:
    with pytest.raises(ValueError):  # noqa: PT011
        next_delay(attempt, base, cap)


def test_the_policy_counts_attempts() -> None:
    policy = RetryPolicy(base_seconds=BASE, cap_seconds=CAP, max_attempts=3)
    assert [policy.exhausted(n) for n in (1, 2, 3, 4)] == [False, False, True, True]


def test_retry_after_is_a_floor_up_to_the_cap() -> None:
    policy = RetryPolicy(base_seconds=1, cap_seconds=3600, max_attempts=10)
    rng = random.Random(3)
    hint = TemporaryDeliveryError("slow down", transport="webhook", code=429, retry_after=900)
    assert policy.delay(1, hint, jitter=rng) == 900
    next_week = TemporaryDeliveryError("later", transport="webhook", retry_after=7 * 86400)
    assert policy.delay(1, next_week, jitter=rng) == 3600
    assert 1 <= policy.delay(1, None, jitter=rng) <= 1


def test_a_retry_never_comes_in_the_same_second() -> None:
    # Full jitter may draw ~0; a retry signed in the same second as the failed attempt
    # would repeat its webhook signature and be refused as a replay.
    policy = RetryPolicy(base_seconds=0.5, cap_seconds=0.5)
    assert min(policy.delay(1, jitter=random.Random(seed)) for seed in range(200)) == 1.0


def test_a_policy_needs_sense() -> None:
    with pytest.raises(ValueError, match="base"):
        RetryPolicy(base_seconds=10, cap_seconds=5)
    with pytest.raises(ValueError, match="max_attempts"):
        RetryPolicy(max_attempts=0)
