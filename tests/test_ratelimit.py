"""A burst straddling a window boundary is still one burst: the limit slides, it does not reset."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy.engine import Engine

from civicdesk import ratelimit
from civicdesk.db import unit_of_work
from civicdesk.errors import TooManyRequests

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
