"""`civicdesk run` in an empty folder: it starts the embedded PostgreSQL and Valkey, serves on the port
asked, links citizens to that address, triages a new report through its worker, and SIGTERM leaves no
process of it behind."""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import psutil
import pytest

ENGINE_SETTINGS = (
    "CIVICDESK_DATABASE_URL",
    "CIVICDESK_BROKER_URL",
    "CIVICDESK_RESULT_BACKEND",
    "CIVICDESK_PUBLIC_BASE_URL",
    "CIVICDESK_VAR_DIR",
)


@pytest.fixture
def folder() -> Iterator[Path]:
    """An empty folder outside pytest's base temp, which pytest keeps at mode 0700: run as root, the
    embedded PostgreSQL runs as its own user and must be able to reach its data directory."""
    made = Path(tempfile.mkdtemp(prefix="civicdesk-run-test-"))
    yield made
    shutil.rmtree(made, ignore_errors=True)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _embedded_env(folder: Path) -> dict[str, str]:
    """The environment of a user with nothing configured, in an empty folder."""
    env = {name: value for name, value in os.environ.items() if name not in ENGINE_SETTINGS}
    return {**env, "CIVICDESK_ENVIRONMENT": "development"}


def _wait_until_healthy(base: str, run: subprocess.Popen[bytes], log: Path) -> None:
    give_up = time.monotonic() + 300
    while time.monotonic() < give_up:
        assert run.poll() is None, f"civicdesk run ended early:\n{log.read_text()}"
        try:
            if httpx.get(f"{base}/api/v1/health", timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.5)
    pytest.fail(f"civicdesk run never became healthy:\n{log.read_text()}")


def _postmaster(folder: Path) -> psutil.Process:
    pid = int((folder / "var" / "postgres" / "postmaster.pid").read_text().split()[0])
    return psutil.Process(pid)


def _bearer(folder: Path, base: str) -> dict[str, str]:
    made = subprocess.run(  # a second process on the same folder reuses the running engines
        [sys.executable, "-m", "civicdesk.cli", "user", "create", "--username", "tongdai"]
        + ["--password", "mat-khau-dai", "--role", "agent"],
        cwd=folder,
        env=_embedded_env(folder),
        capture_output=True,
        text=True,
        check=False,
    )
    assert made.returncode == 0, made.stderr
    token = httpx.post(
        f"{base}/api/v1/auth/token", data={"username": "tongdai", "password": "mat-khau-dai"}
    ).json()["access_token"]
    return {"Authorization": f"Bearer {token}"}


def _wait_until_classified(base: str, ticket_id: int, headers: dict[str, str]) -> dict[str, object]:
    give_up = time.monotonic() + 120
    while time.monotonic() < give_up:
        ticket: dict[str, object] = httpx.get(f"{base}/api/v1/tickets/{ticket_id}", headers=headers).json()
        if ticket["status"] != "new" or ticket.get("category"):
            return ticket
        time.sleep(0.5)
    pytest.fail("the run's worker never triaged the report")


def _start_run(folder: Path, env: dict[str, str] | None = None) -> tuple[subprocess.Popen[bytes], str, Path]:
    port = _free_port()
    log = folder / "run.log"
    with open(log, "wb") as out:
        run = subprocess.Popen(
            [sys.executable, "-m", "civicdesk.cli", "run", "--port", str(port), "--no-demo"],
            cwd=folder,
            env=env or _embedded_env(folder),
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    base = f"http://127.0.0.1:{port}"
    _wait_until_healthy(base, run, log)
    return run, base, log


def _everything_of(run: subprocess.Popen[bytes], folder: Path) -> list[psutil.Process]:
    processes = [psutil.Process(run.pid), *psutil.Process(run.pid).children(recursive=True)]
    return [*processes, _postmaster(folder)]  # pg_ctl detaches the server from the run


def _assert_none_left(processes: list[psutil.Process], folder: Path) -> None:
    _, alive = psutil.wait_procs(processes, timeout=30)
    assert alive == [], f"left running: {[p.pid for p in alive]}"
    assert not (folder / "var" / "postgres" / "postmaster.pid").exists()


def test_run_serves_on_its_port_and_sigterm_stops_everything(folder: Path) -> None:
    run, base, log = _start_run(folder)
    try:
        processes = _everything_of(run, folder)
        assert f"CivicDesk: {base}/staff" in log.read_text()

        headers = _bearer(folder, base)
        created = httpx.post(
            f"{base}/api/v1/tickets",
            json={"description": "Đèn đường hỏng cả tuần nay ở đường Ngô Gia Tự, phường Phan Rang"},
            headers=headers,
        )
        assert created.status_code == 201, created.text
        assert created.json()["tracking_url"].startswith(f"{base}/t/")
        assert _wait_until_classified(base, created.json()["id"], headers)["category"] == "street_lighting"
    finally:
        run.send_signal(signal.SIGTERM)
        run.wait(120)
    assert run.returncode == 0, log.read_text()
    assert log.read_text().rstrip().endswith("stopped")
    _assert_none_left(processes, folder)


def test_a_worker_that_dies_ends_the_whole_run(folder: Path) -> None:
    run, _, log = _start_run(folder)
    try:
        processes = _everything_of(run, folder)
        worker = next(p for p in psutil.Process(run.pid).children() if "worker" in p.cmdline())
        worker.kill()
        run.wait(120)
    finally:
        if run.poll() is None:
            run.send_signal(signal.SIGTERM)
            run.wait(120)
    assert run.returncode == 1
    assert "worker đã dừng bất ngờ" in log.read_text()
    _assert_none_left(processes, folder)


def test_run_refuses_a_busy_port(tmp_path: Path) -> None:
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        refused = subprocess.run(
            [sys.executable, "-m", "civicdesk.cli", "run", "--port", str(port)],
            cwd=tmp_path,
            env=_embedded_env(tmp_path),
            capture_output=True,
            text=True,
            check=False,
        )
    assert refused.returncode == 2
    assert f"Cổng {port}" in refused.stderr and "Traceback" not in refused.stderr
    assert not (tmp_path / "var").exists()  # nothing was started
