"""A real `civicdesk web` process on a loopback port, for tests of what it sees behind a proxy."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


@contextmanager
def civicdesk_web(database_url: str, folder: Path, **settings: str) -> Iterator[str]:
    """Serve `civicdesk web` on a free port with these CIVICDESK_* settings; yields its base URL."""
    port = free_port()
    env = {
        **os.environ,
        "CIVICDESK_DATABASE_URL": database_url,
        # the test session's broker (the embedded Valkey unless CIVICDESK_TEST_REDIS_URL is set)
        "CIVICDESK_BROKER_URL": os.environ["CIVICDESK_TEST_REDIS_URL"],
        "CIVICDESK_RESULT_BACKEND": os.environ["CIVICDESK_TEST_REDIS_URL"],
        "CIVICDESK_VAR_DIR": str(folder / "var"),
        **{f"CIVICDESK_{name.upper()}": value for name, value in settings.items()},
    }
    command = [str(Path(sys.executable).parent / "civicdesk"), "web", "--port", str(port)]
    process = subprocess.Popen(command, env=env, cwd=folder)  # noqa: S603 - our own console script
    try:
        base = f"http://127.0.0.1:{port}"
        wait_until_answering(f"{base}/staff/login", process)
        yield base
    finally:
        process.terminate()
        process.wait(timeout=30)


def wait_until_answering(url: str, process: subprocess.Popen[bytes], **client: object) -> None:
    for _ in range(300):
        if process.poll() is not None:
            raise AssertionError(f"{process.args!r} exited with {process.returncode}")
        try:
            httpx.get(url, timeout=2, **client)  # type: ignore[arg-type]
            return
        except httpx.TransportError:
            time.sleep(0.1)
    raise AssertionError(f"nothing answers at {url}")
