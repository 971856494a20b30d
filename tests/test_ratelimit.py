"""A burst straddling a window boundary is still one burst: the limit slides, it does not reset."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy.engine import Engine

from kernel import ratelimit
from kernel.db import unit_of_work
from kernel.errors import TooManyRequests

BOUNDARY = datetime(2026, 11, 23, 8, 0, tzinfo=UTC)


def _hit(engine: Engine, at: datetime) -> None:
    with unit_of_work(engine) as session:
        ratelimit.hit(session, "k", limit=2, window_seconds=60, message="chậm lại", now=at)


def test_a_burst_across_a_minute_boundary_is_refused(engine: Engine) -> None:
    _hit(engine, BOUNDARY - timedelta(seconds=1))
    _hit(engine, BOUNDARY - timedelta(milliseconds=500))
    with pytest.raises(TooManyRequests) as refused:
        _hit(engine, BOUNDARY + timedelta(seconds=1))
    assert 1 <= refused.value.detail["retry_after"] <= 60


def test_the_previous_window_fades_out(engine: Engine) -> None:
    _hit(engine, BOUNDARY - timedelta(seconds=30))
    _hit(engine, BOUNDARY - timedelta(seconds=29))
    _hit(engine, BOUNDARY + timedelta(seconds=40))
    with pytest.raises(TooManyRequests):
        _hit(engine, BOUNDARY + timedelta(seconds=41))


POLICY = ratelimit.BackoffPolicy(
    free=3, first_pause_seconds=30, longest_pause_seconds=120, forget_after_seconds=3600, message="chờ"
)


def _fail(engine: Engine, at: datetime) -> None:
    with unit_of_work(engine) as session:
        ratelimit.record_failure(session, "sign-in:a", POLICY, now=at)


def _pause_left(engine: Engine, at: datetime) -> int:
    with unit_of_work(engine) as session:
        try:
            ratelimit.check_backoff(session, "sign-in:a", POLICY, now=at)
        except TooManyRequests as refused:
            return int(refused.detail["retry_after"])
    return 0


def test_the_pause_starts_at_the_free_allowance_and_doubles_up_to_a_ceiling(engine: Engine) -> None:
    at = BOUNDARY
    for _ in range(2):
        _fail(engine, at)
    assert _pause_left(engine, at) == 0
    pauses = []
    for _ in range(4):
        _fail(engine, at)
        pauses.append(_pause_left(engine, at))
        at += timedelta(seconds=pauses[-1])  # the next guess comes as soon as it is allowed
    assert pauses == [30, 60, 120, 120]
    assert _pause_left(engine, at) == 0


def test_a_quiet_hour_forgets_the_failures(engine: Engine) -> None:
    for _ in range(3):
        _fail(engine, BOUNDARY)
    later = BOUNDARY + timedelta(hours=2)
    _fail(engine, later)
    assert _pause_left(engine, later) == 0
