"""A real Celery worker (prefork, the production pool) with beat inside it, on Redis and PostgreSQL:
heartbeats make /health/ready pass, time limits end stuck tasks as failures, every finished task reaches
/metrics, and the worker's log lines are JSON carrying the task id."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from celery import Celery
from celery.exceptions import SoftTimeLimitExceeded, TimeLimitExceeded
from fastapi.testclient import TestClient

from civicdesk.asgi import create_app
from civicdesk.celery_app import TIME_LIMITS, celery_app
from kernel.db import make_engine

BROKER = "redis://127.0.0.1:6379/0"
RESULTS = "redis://127.0.0.1:6379/1"
TESTS = Path(__file__).parent


class Worker:
    def __init__(self, producer: Celery, queue: str, log_file: Path) -> None:
        self.producer = producer
        self.queue = queue
        self.log_file = log_file

    def log_lines(self) -> list[dict[str, object]]:
        lines = []
        for raw in self.log_file.read_text().splitlines():
            if raw.startswith("{"):
                lines.append(json.loads(raw))
        return lines


@pytest.fixture(scope="module")
def worker(postgres_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Worker]:
    var_dir = tmp_path_factory.mktemp("worker-var")
    queue = f"obs-{uuid.uuid4().hex[:8]}"
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join([str(TESTS), os.environ.get("PYTHONPATH", "")]),
        "CIVICDESK_VAR_DIR": str(var_dir),
        "CIVICDESK_DATABASE_URL": postgres_url,
        "CIVICDESK_BROKER_URL": BROKER,
        "CIVICDESK_RESULT_BACKEND": RESULTS,
        "CIVICDESK_TASK_QUEUE": queue,  # beat sends its heartbeat here too
        "CIVICDESK_BEAT_HEARTBEAT_SECONDS": "1",
        "CIVICDESK_LOG_FORMAT": "json",
    }
    log_file = var_dir / "worker.log"
    with log_file.open("w") as log:
        process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "celery",
                "-A",
                "civicdesk.celery_app",
                "worker",
                "-B",
                "-I",
                "worker_test_tasks",
                "-Q",
                queue,
                "--pool",
                "prefork",
                "--concurrency",
                "1",
                "-l",
                "info",
                "--without-gossip",
                "--without-mingle",
                "-n",
                f"{queue}@%h",
            ],
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    producer = Celery("obs-producer", broker=BROKER, backend=RESULTS)
    try:
        yield Worker(producer, queue, log_file)
    finally:
        process.terminate()
        process.wait(30)
        producer.close()


def test_every_task_has_time_limits() -> None:
    ours = [task for name, task in celery_app.tasks.items() if not name.startswith("celery.")]
    assert ours
    for task in ours:
        soft = task.soft_time_limit or celery_app.conf.task_soft_time_limit
        hard = task.time_limit or celery_app.conf.task_time_limit
        assert soft and hard and soft < hard, task.name
    assert (
        celery_app.tasks["telephony.transcribe_voicemail"].soft_time_limit
        == TIME_LIMITS["telephony.transcribe_voicemail"][0]
    )


def test_heartbeats_make_the_web_ready(worker: Worker, postgres_url: str) -> None:
    engine = make_engine(postgres_url)
    try:
        for _ in range(120):  # the worker starts, beats (every 2 s, kept every 10 s) and runs beat's task
            with TestClient(create_app(engine), client=("127.0.0.1", 50000)) as client:
                checks = client.get("/health/ready").json()["checks"]
            if checks["worker"]["ok"] and checks["beat"]["ok"]:
                break
            time.sleep(0.5)
        assert checks["worker"]["ok"], checks["worker"]
        assert checks["beat"]["ok"], checks["beat"]
    finally:
        engine.dispose()


def test_time_limits_end_stuck_tasks_as_failures(worker: Worker, postgres_url: str) -> None:
    soft = worker.producer.send_task("tests.sleep_past_soft_limit", queue=worker.queue)
    with pytest.raises(SoftTimeLimitExceeded):
        soft.get(timeout=60)
    hard = worker.producer.send_task("tests.ignore_soft_limit", queue=worker.queue)
    with pytest.raises(TimeLimitExceeded):
        hard.get(timeout=60)
    assert hard.state == "FAILURE"
    done = worker.producer.send_task("tests.log_a_line", args=["xin chào"], queue=worker.queue)
    assert done.get(timeout=60) == "xin chào"

    expected = [
        f'civicdesk_celery_task_duration_seconds_count{{outcome="{outcome}",task="{task}"}} 1.0'
        for task, outcome in (
            ("tests.sleep_past_soft_limit", "failure"),
            ("tests.ignore_soft_limit", "failure"),
            ("tests.log_a_line", "success"),
        )
    ]
    engine = make_engine(postgres_url)
    try:
        for _ in range(60):  # workers write their figures every 2 s
            with TestClient(create_app(engine), client=("127.0.0.1", 50000)) as client:
                text = client.get("/metrics").text
            if all(line in text for line in expected):
                break
            time.sleep(0.5)
    finally:
        engine.dispose()
    assert [line for line in expected if line not in text] == []

    lines = worker.log_lines()
    inside = [line for line in lines if "inside the task: xin chào" in str(line.get("event"))]
    assert inside and inside[0]["task_id"] == done.id and inside[0]["task_name"] == "tests.log_a_line"
    # the hard limit is noticed by the worker's main process, outside the task: the id is in the message
    assert any(
        str(line["event"]).startswith("Hard time limit") and hard.id in str(line["event"]) for line in lines
    )
