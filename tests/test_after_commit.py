"""Tasks are sent after the transaction commits, and never when it rolls back."""

from __future__ import annotations

import base64
import json
import os
import subprocess
import sys
import uuid
from pathlib import Path
from typing import Any

import pytest
from kombu.connection import Connection
from sqlalchemy.engine import Engine

from kernel.db import send_task_after_commit, unit_of_work


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


def test_released_savepoint_waits_for_the_real_commit(engine: Engine) -> None:
    task = RecordingTask()
    with unit_of_work(engine) as session:
        for n in range(3):
            with session.begin_nested():
                send_task_after_commit(session, task, n)
            assert task.sent == []
    assert task.sent == [(0,), (1,), (2,)]


def test_rolled_back_savepoint_drops_only_its_own_actions(engine: Engine) -> None:
    task = RecordingTask()
    with unit_of_work(engine) as session:
        send_task_after_commit(session, task, "outer")
        with session.begin_nested():
            send_task_after_commit(session, task, "kept")
            inner = session.begin_nested()
            send_task_after_commit(session, task, "inner, rolled back")
            inner.rollback()
        rolled_back = session.begin_nested()
        send_task_after_commit(session, task, "rolled back")
        rolled_back.rollback()
    assert sorted(task.sent) == [("kept",), ("outer",)]


def test_released_savepoints_are_dropped_with_the_outer_rollback(engine: Engine) -> None:
    task = RecordingTask()

    def fail_after_a_released_savepoint() -> None:
        with unit_of_work(engine) as session:
            with session.begin_nested():
                send_task_after_commit(session, task, 1)
            raise RuntimeError("boom")

    with pytest.raises(RuntimeError):
        fail_after_a_released_savepoint()
    with unit_of_work(engine):
        pass
    assert task.sent == []


def test_many_tickets_in_savepoints_reach_the_broker_only_at_commit(engine: Engine, redis_url: str) -> None:
    """The defect: each released savepoint used to send the triage tasks queued so far, and the worker
    then looked for tickets not yet committed. Watched on a real Redis-protocol broker (the test Valkey
    or CIVICDESK_TEST_REDIS_URL), from outside the producer process."""
    queue = f"test-after-commit-{uuid.uuid4().hex[:8]}"
    connection = Connection(redis_url)
    broker = connection.default_channel.client  # kombu's own Redis client: the list it pushes to
    env = {
        **os.environ,
        "CIVICDESK_DATABASE_URL": engine.url.render_as_string(hide_password=False),
        "CIVICDESK_BROKER_URL": redis_url,
        "CIVICDESK_RESULT_BACKEND": redis_url,
        "CIVICDESK_TASK_QUEUE": queue,
    }
    command = [sys.executable, str(Path(__file__).with_name("savepoint_producer.py")), "50"]
    pipes: dict[str, Any] = {"stdin": subprocess.PIPE, "stdout": subprocess.PIPE, "text": True}
    try:
        with subprocess.Popen(command, env=env, **pipes) as producer:
            kept = json.loads(producer.stdout.readline())["kept"]
            assert len(kept) == 50
            assert broker.llen(queue) == 0  # 50 savepoints released, nothing committed, nothing sent
            producer.stdin.write("commit\n")
            producer.stdin.flush()
            assert producer.stdout.readline().strip() == "committed"
            assert producer.wait(timeout=60) == 0
        sent = [json.loads(raw) for raw in broker.lrange(queue, 0, -1)]
        assert [message["headers"]["task"] for message in sent] == ["routing.triage_ticket"] * 50
        assert sorted(json.loads(base64.b64decode(m["body"]))[0][0] for m in sent) == sorted(kept)
    finally:
        broker.delete(queue, f"_kombu.binding.{queue}")
        connection.release()
