"""Tasks are sent after the transaction commits, and never when it rolls back."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy.engine import Engine

from civicdesk.db import send_task_after_commit, unit_of_work


class RecordingTask:
    """Stands in for a Celery task's apply_async, the interface the wiring calls."""

    def __init__(self) -> None:
        self.sent: list[tuple[Any, ...]] = []

    def apply_async(self, args: tuple[Any, ...] = (), kwargs: dict[str, Any] | None = None) -> None:
        self.sent.append(args)


def test_sent_only_after_commit(engine: Engine) -> None:
    task = RecordingTask()
    with unit_of_work(engine) as session:
        send_task_after_commit(session, task, 42)
        assert task.sent == []
    assert task.sent == [(42,)]


def test_dropped_on_rollback(engine: Engine) -> None:
    task = RecordingTask()

    def fail_after_queueing() -> None:
        with unit_of_work(engine) as session:
            send_task_after_commit(session, task, 7)
            raise RuntimeError("boom")

    with pytest.raises(RuntimeError):
        fail_after_queueing()
    with unit_of_work(engine):
        pass
    assert task.sent == []
