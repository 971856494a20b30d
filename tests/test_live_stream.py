"""The staff event stream end to end: the real app under uvicorn on a free port, a real SSE client, events
committed by another connection and announced by NOTIFY."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
import uvicorn
from sqlalchemy import text
from sqlalchemy.engine import Engine
from sqlmodel import Session

from civicdesk.asgi import create_app
from kernel import live
from kernel.db import unit_of_work
from kernel.live_listener import APPLICATION_NAME

pytestmark = pytest.mark.parametrize("engine", ["postgresql"], indirect=True)
GIVE_UP_SECONDS = 20.0  # a guard against hanging, not a speed requirement


@dataclass(frozen=True)
class Event:
    id: int
    kind: str
    data: dict[str, Any]


class EventReader:
    """Reads a text/event-stream response one event at a time, skipping comments and retry hints."""

    def __init__(self, response: httpx.Response) -> None:
        self.lines = response.iter_lines()

    def next(self) -> Event:
        fields: dict[str, str] = {}
        for line in self.lines:
            if line == "" and "event" in fields:
                return Event(int(fields["id"]), fields["event"], json.loads(fields["data"]))
            if line and not line.startswith(":"):
                name, _, value = line.partition(": ")
                fields[name] = value
        raise AssertionError("the stream ended")


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture
def base_url(engine: Engine) -> Iterator[str]:
    port = _free_port()
    config = uvicorn.Config(
        create_app(engine), host="127.0.0.1", port=port, log_level="warning", timeout_graceful_shutdown=1
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + GIVE_UP_SECONDS
    while not server.started:
        assert time.monotonic() < deadline, "uvicorn did not start"
        time.sleep(0.05)
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    thread.join(GIVE_UP_SECONDS)


@pytest.fixture
def open_stream(
    base_url: str, make_user: Callable[..., dict[str, str]]
) -> Iterator[Callable[..., EventReader]]:
    headers = make_user("supervisor")
    with httpx.Client(base_url=base_url, timeout=GIVE_UP_SECONDS) as client:
        opened: list[Any] = []

        def open_(**extra: str) -> EventReader:
            context = client.stream("GET", "/staff/events", headers={**headers, **extra})
            response = context.__enter__()
            opened.append(context)
            assert response.status_code == 200
            assert response.headers["content-type"].startswith("text/event-stream")
            reader = EventReader(response)
            assert next(reader.lines) == "retry: 2000"  # sent once the listener is subscribed
            return reader

        yield open_
        for context in opened:
            context.__exit__(None, None, None)


def _publish(engine: Engine, topic: str, kind: str, payload: dict[str, Any]) -> int:
    with unit_of_work(engine) as session:
        live.publish(session, topic, kind, payload)
        session.flush()
        return live.latest_id(session)


def test_a_committed_event_arrives_and_a_rolled_back_one_never(
    engine: Engine, open_stream: Callable[..., EventReader]
) -> None:
    reader = open_stream()
    with Session(engine) as producer:
        live.publish(producer, "queue", "queue_changed", {"rolled": "back"})
        producer.flush()
        producer.rollback()
    _publish(engine, live.agent_topic(999_999), "screen_pop", {"for": "another agent"})
    [listener_pid] = _listener_pids(engine)
    with engine.begin() as conn:  # notifications that are not ours are skipped, the link stays
        conn.execute(text("NOTIFY civicdesk_live, 'not json'"))
        conn.execute(text("""NOTIFY civicdesk_live, '{"id": 1}'"""))
    committed = _publish(engine, "queue", "queue_changed", {"waiting": 3})
    arrived = reader.next()
    assert (arrived.id, arrived.kind, arrived.data) == (committed, "queue_changed", {"waiting": 3})
    assert _listener_pids(engine) == {listener_pid}


def test_a_payload_too_big_for_notify_is_read_from_the_table(
    engine: Engine, open_stream: Callable[..., EventReader]
) -> None:
    reader = open_stream()
    big = {"tickets": [{"title": f"Đèn đường hỏng số {i}"} for i in range(600)]}
    assert len(json.dumps(big).encode()) > 8000
    _publish(engine, "tickets", "ticket_changed", big)
    assert reader.next().data == big


def test_a_reconnecting_browser_gets_what_it_missed(
    engine: Engine, open_stream: Callable[..., EventReader]
) -> None:
    seen = _publish(engine, "queue", "queue_changed", {"n": 1})
    _publish(engine, "queue", "queue_changed", {"n": 2})
    _publish(engine, "tickets", "ticket_changed", {"n": 3})
    reader = open_stream(**{"Last-Event-ID": str(seen)})
    assert [reader.next().data for _ in range(2)] == [{"n": 2}, {"n": 3}]
    _publish(engine, "queue", "queue_changed", {"n": 4})
    assert reader.next().data == {"n": 4}


def _listener_pids(engine: Engine) -> set[int]:
    with engine.connect() as conn:
        rows = conn.execute(
            text(
                "SELECT pid FROM pg_stat_activity WHERE application_name = :app"
                " AND datname = current_database()"
            ),
            {"app": APPLICATION_NAME},
        )
        return {int(row[0]) for row in rows}


def test_the_listener_survives_a_dropped_connection(
    engine: Engine, open_stream: Callable[..., EventReader]
) -> None:
    reader = open_stream()
    _publish(engine, "queue", "queue_changed", {"n": 1})
    assert reader.next().data == {"n": 1}
    [old_pid] = _listener_pids(engine)
    with engine.connect() as conn:
        assert conn.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": old_pid}).scalar_one()
    _publish(engine, "queue", "queue_changed", {"n": 2})  # most likely while nobody listens
    assert reader.next().data == {"n": 2}
    deadline = time.monotonic() + GIVE_UP_SECONDS
    while not _listener_pids(engine) - {old_pid}:
        assert time.monotonic() < deadline, "the listener did not reconnect"
        time.sleep(0.05)
    _publish(engine, "queue", "queue_changed", {"n": 3})
    assert reader.next().data == {"n": 3}


def _wait_serving(base: str) -> None:
    deadline = time.monotonic() + 60  # importing the app takes a while on a busy machine
    while True:
        try:
            httpx.get(f"{base}/staff/login", timeout=2)
            return
        except httpx.TransportError:
            assert time.monotonic() < deadline, "uvicorn did not start"
            time.sleep(0.1)


def test_stopping_the_server_ends_open_streams_instead_of_waiting_for_them(
    engine: Engine, make_user: Callable[..., dict[str, str]], tmp_path: Path
) -> None:
    headers = make_user("supervisor")
    base = f"http://127.0.0.1:{_free_port()}"
    env = {
        **os.environ,
        "CIVICDESK_DATABASE_URL": engine.url.render_as_string(hide_password=False),
        # the session's broker: with none set the app would start an embedded Valkey nobody stops
        "CIVICDESK_BROKER_URL": os.environ["CIVICDESK_TEST_REDIS_URL"],
        "CIVICDESK_RESULT_BACKEND": os.environ["CIVICDESK_TEST_REDIS_URL"],
        "CIVICDESK_VAR_DIR": str(tmp_path),
    }
    command = [sys.executable, "-m", "uvicorn", "civicdesk.server:app", "--host", "127.0.0.1"]
    server = subprocess.Popen([*command, "--port", base.rsplit(":", 1)[1], "--log-level", "warning"], env=env)
    try:
        _wait_serving(base)
        with httpx.stream("GET", f"{base}/staff/events", headers=headers, timeout=GIVE_UP_SECONDS) as answer:
            lines = answer.iter_lines()
            assert next(lines) == "retry: 2000"
            server.send_signal(signal.SIGTERM)
            assert all(line == "" or line.startswith(":") for line in lines)  # then the stream ends
        server.wait(GIVE_UP_SECONDS)  # far less than the ten minutes a stream lasts
    finally:
        if server.poll() is None:
            server.kill()
            server.wait()


LIFESPAN_UNDER_NO_HANDLER = """
import asyncio, os, signal, sys
from kernel.db import make_engine
from civicdesk.asgi import create_app

async def main():
    app = create_app(make_engine(sys.argv[1]))
    async with app.router.lifespan_context(app):
        os.kill(os.getpid(), signal.SIGTERM)
        await asyncio.sleep(30)
    print("survived")

asyncio.run(main())
"""


def test_where_nothing_handles_sigterm_the_process_still_dies_of_it(engine: Engine, tmp_path: Path) -> None:
    script = tmp_path / "lifespan.py"
    script.write_text(LIFESPAN_UNDER_NO_HANDLER, encoding="utf-8")
    url = engine.url.render_as_string(hide_password=False)
    done = subprocess.run(
        [sys.executable, str(script), url], capture_output=True, timeout=120, check=False, cwd=tmp_path
    )
    assert done.returncode == -signal.SIGTERM, done.stderr.decode()
    assert b"survived" not in done.stdout
