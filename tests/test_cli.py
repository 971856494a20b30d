from __future__ import annotations

import os
import signal
import subprocess
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from pathlib import Path

import psutil
import psycopg
import pytest
from click.testing import CliRunner, Result
from pydantic import ValidationError
from sqlalchemy.exc import ArgumentError

from civicdesk import cli
from kernel import preflight
from kernel.db import engine_for, get_engine
from kernel.settings import get_settings


@pytest.fixture
def fresh_env(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, new_database: Callable[[], str]
) -> Iterator[Path]:
    url = new_database()
    monkeypatch.setenv("CIVICDESK_DATABASE_URL", url)
    get_settings.cache_clear()
    yield tmp_path
    get_settings.cache_clear()
    engine_for(url).dispose()
    engine_for.cache_clear()


def test_upgrade_seed_demo_and_user_create(fresh_env: Path) -> None:
    runner = CliRunner()
    assert runner.invoke(cli.main, ["db", "upgrade"]).exit_code == 0
    seeded = runner.invoke(cli.main, ["seed", "--demo", "--count", "30"])
    assert seeded.exit_code == 0, seeded.output
    assert "30 new" in seeded.output and "21 new category" in seeded.output
    again = runner.invoke(cli.main, ["seed", "--demo"])
    assert "already there" in again.output
    made = runner.invoke(
        cli.main,
        [
            "user",
            "create",
            "--username",
            "hoa",
            "--password",
            "mat-khau-dai",
            "--role",
            "department_staff",
            "--department",
            "qldt",
        ],
    )
    assert made.exit_code == 0, made.output


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--username", "hoa2", "--password", "short", "--role", "agent"], "ít nhất 8"),
        (["--username", "hoa3", "--password", "long-enough", "--role", "department_staff"], "cần có đơn vị"),
        (
            [
                "--username",
                "hoa4",
                "--password",
                "long-enough",
                "--role",
                "ward_officer",
                "--ward",
                "nowhere",
            ],
            "Không có phường/xã mã nowhere",
        ),
        (["--username", "hoa5", "--password", "long-enough", "--role", "king"], "Invalid value"),
    ],
)
def test_user_create_refuses_bad_input_with_exit_2(fresh_env: Path, args: list[str], message: str) -> None:
    runner = CliRunner()
    runner.invoke(cli.main, ["db", "upgrade"])
    runner.invoke(cli.main, ["seed"])
    result = runner.invoke(cli.main, ["user", "create", *args])
    assert result.exit_code == 2
    assert message in result.output


def test_help_lists_the_commands() -> None:
    result = CliRunner().invoke(cli.main, ["--help"])
    for command in ("run", "web", "worker", "beat", "db", "seed", "user"):
        assert command in result.output


def test_sla_due_prints_the_local_due_time(fresh_env: Path) -> None:
    runner = CliRunner()
    assert runner.invoke(cli.main, ["db", "upgrade"]).exit_code == 0
    assert runner.invoke(cli.main, ["seed"]).exit_code == 0
    # Wednesday 3 February 2027, 16:00, urgent (4 working hours): Tết runs 4–10 February
    urgent = runner.invoke(
        cli.main, ["sla", "due", "--from", "2027-02-03T16:00:00+07:00", "--priority", "urgent"]
    )
    assert urgent.exit_code == 0, urgent.output
    assert urgent.output.strip() == "2027-02-11T10:00:00+07:00"
    # a time without an offset is local time; high with the road category is 3 working days
    high = runner.invoke(
        cli.main,
        ["sla", "due", "--from", "2026-12-31T09:00", "--priority", "high", "--category", "road_damage"],
    )
    assert high.output.strip() == "2027-01-06T09:00:00+07:00"  # 1/1 is New Year's Day, then a weekend
    for bad in (
        ["--from", "yesterday", "--priority", "high"],
        ["--from", "2027-01-01T09:00", "--priority", "soon"],
        ["--from", "2027-01-01T09:00", "--priority", "low", "--category", "nope"],
    ):
        result = runner.invoke(cli.main, ["sla", "due", *bad])
        assert result.exit_code == 2, result.output
        assert "Error" in result.output


# --- engine problems: one line, exit code 2, never a traceback ----------------------------------------

UNREACHABLE_DATABASE = "postgresql+psycopg://postgres@127.0.0.1:1/civicdesk"
EVERY_DATABASE_COMMAND = [
    ["sla", "due", "--from", "2026-11-27T09:00", "--priority", "normal"],
    ["seed"],
    ["seed", "--demo", "--count", "3"],
    ["user", "create", "--username", "hoa", "--password", "mat-khau-dai", "--role", "admin"],
    ["telephony", "link-agent", "PJSIP/101", "hoa"],
    ["triage"],
    ["web"],
]  # `worker` replaces its process with Celery's once its checks pass: tested as a subprocess below


@pytest.fixture
def empty_database(new_database: Callable[[], str], monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """A PostgreSQL database that exists and has no tables, as a new install has before its upgrade."""
    url = new_database()
    with configured(monkeypatch, CIVICDESK_DATABASE_URL=url):
        yield url


@contextmanager
def configured(monkeypatch: pytest.MonkeyPatch, **env: str) -> Iterator[None]:
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    get_settings.cache_clear()
    engine_for.cache_clear()
    try:
        yield
    finally:
        with suppress(ArgumentError, ValidationError):  # nothing to close when the URL was not one
            get_engine().dispose()
        get_settings.cache_clear()
        engine_for.cache_clear()


def one_line_and_exit_2(result: Result) -> str:
    assert result.exit_code == 2, result.output
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    assert "Traceback" not in result.output
    lines = result.output.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("Error: "), result.output
    return lines[0]


@pytest.mark.parametrize("args", EVERY_DATABASE_COMMAND, ids=" ".join)
def test_empty_database_says_to_run_db_upgrade(empty_database: str, args: list[str]) -> None:
    result = CliRunner().invoke(cli.main, args, input='{"text": "Đèn hỏng"}\n')
    assert "civicdesk db upgrade" in one_line_and_exit_2(result)


@pytest.mark.parametrize("args", [["db", "upgrade"], *EVERY_DATABASE_COMMAND], ids=" ".join)
def test_unreachable_database_says_what_to_set(monkeypatch: pytest.MonkeyPatch, args: list[str]) -> None:
    with configured(monkeypatch, CIVICDESK_DATABASE_URL=UNREACHABLE_DATABASE):
        result = CliRunner().invoke(cli.main, args, input='{"text": "Đèn hỏng"}\n')
    line = one_line_and_exit_2(result)
    assert "CIVICDESK_DATABASE_URL" in line and "127.0.0.1:1" in line


@pytest.mark.parametrize("url", ["not a url", "nonsense://host/db", "postgresql+nodriver://h/db"])
def test_malformed_database_url_says_what_to_set(monkeypatch: pytest.MonkeyPatch, url: str) -> None:
    with configured(monkeypatch, CIVICDESK_DATABASE_URL=url):
        result = CliRunner().invoke(cli.main, ["sla", "due", "--from", "2026-11-27", "--priority", "high"])
    assert "CIVICDESK_DATABASE_URL" in one_line_and_exit_2(result)


@pytest.mark.parametrize(
    "broker", ["redis://127.0.0.1:1/0", "amqp://guest:secret@127.0.0.1:1//", "nosuchtransport://x"]
)
@pytest.mark.parametrize("args", [["beat"], ["web"], ["seed", "--demo"]], ids=" ".join)
def test_unreachable_broker_says_what_to_set(
    postgres_url: str, monkeypatch: pytest.MonkeyPatch, broker: str, args: list[str]
) -> None:
    with configured(monkeypatch, CIVICDESK_DATABASE_URL=postgres_url, CIVICDESK_BROKER_URL=broker):
        result = CliRunner().invoke(cli.main, args)
    line = one_line_and_exit_2(result)
    assert "CIVICDESK_BROKER_URL" in line and "secret" not in line


def test_invalid_setting_is_named(monkeypatch: pytest.MonkeyPatch) -> None:
    with configured(monkeypatch, CIVICDESK_CITY_CODE="pr-1"):
        result = CliRunner().invoke(cli.main, ["seed"])
    assert "CIVICDESK_CITY_CODE" in one_line_and_exit_2(result)


def run_installed(args: list[str], folder: Path, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(Path(sys.executable).with_name("civicdesk")), *args],
        env={**os.environ, "CIVICDESK_VAR_DIR": str(folder), **env},
        cwd=folder,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


@pytest.mark.parametrize("args", [EVERY_DATABASE_COMMAND[0], ["worker"]], ids=" ".join)
def test_empty_database_from_the_installed_command(
    empty_database: str, tmp_path: Path, args: list[str]
) -> None:
    """The real entry point, in a folder of its own: one line on stderr, nothing on stdout, code 2."""
    done = run_installed(args, tmp_path, CIVICDESK_DATABASE_URL=empty_database)
    assert done.returncode == 2 and done.stdout == ""
    assert done.stderr.strip().splitlines() == [
        "Error: Cơ sở dữ liệu chưa có bảng (the database has no schema yet):"
        " chạy `civicdesk db upgrade` (run `civicdesk db upgrade`)"
    ]


def test_worker_refuses_an_unreachable_broker(postgres_url: str, tmp_path: Path) -> None:
    done = run_installed(
        ["worker"],
        tmp_path,
        CIVICDESK_DATABASE_URL=postgres_url,
        CIVICDESK_BROKER_URL="redis://127.0.0.1:1/0",
    )
    assert done.returncode == 2 and done.stdout == ""
    [line] = done.stderr.strip().splitlines()
    assert "CIVICDESK_BROKER_URL" in line and "redis://127.0.0.1:1/0" in line


def unconfigured() -> dict[str, str]:
    """The environment of a folder with nothing configured: the embedded engines apply."""
    return {name: value for name, value in os.environ.items() if not name.startswith("CIVICDESK_")}


def processes_in(folder: Path) -> list[psutil.Process]:
    return [p for p in psutil.process_iter(["cmdline"]) if str(folder) in " ".join(p.info["cmdline"] or [])]


def test_a_folder_with_no_database_says_to_run_db_upgrade(tmp_path: Path) -> None:
    """Nothing configured: the embedded PostgreSQL starts in the folder, has no schema, and says so;
    the server this command started is stopped when it exits."""
    done = subprocess.run(
        [str(Path(sys.executable).with_name("civicdesk")), *EVERY_DATABASE_COMMAND[0]],
        env=unconfigured(),
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert done.returncode == 2 and done.stdout == "", done.stderr
    [line] = done.stderr.strip().splitlines()
    assert "civicdesk db upgrade" in line
    assert not processes_in(tmp_path)


def test_worker_hands_the_engines_its_checks_started_to_celery(tmp_path: Path) -> None:
    """`civicdesk worker` checks the embedded engines, then replaces itself with Celery, which runs no
    exit handler of the checks: what they started must be stopped first, or nobody would stop it."""
    civicdesk = str(Path(sys.executable).with_name("civicdesk"))
    upgrade = [civicdesk, "db", "upgrade"]
    subprocess.run(upgrade, env=unconfigured(), cwd=tmp_path, capture_output=True, timeout=300, check=True)
    assert not processes_in(tmp_path)
    with subprocess.Popen(
        [civicdesk, "worker", "--pool", "solo", "--without-gossip", "--without-mingle"],
        env=unconfigured(),
        cwd=tmp_path,
        stderr=subprocess.PIPE,
        text=True,
    ) as worker:
        assert worker.stderr is not None
        said = []
        for line in worker.stderr:
            said.append(line)
            if " ready." in line:
                break
        else:
            pytest.fail(f"the worker ended with {worker.wait()} before it was ready: {''.join(said)}")
        worker.send_signal(signal.SIGTERM)
        said += worker.stderr.readlines()
        assert worker.wait(timeout=60) == 0, "".join(said)
    _, alive = psutil.wait_procs(processes_in(tmp_path), timeout=15)
    for left in alive:  # not to leave them running when this fails
        left.terminate()
    assert not alive, [p.info["cmdline"] for p in alive]


def test_a_failed_connect_outside_sqlalchemy_is_explained_too() -> None:
    refused = psycopg.OperationalError(
        'connection failed: connection to server at "127.0.0.1", port 1 failed'
    )
    line = preflight.explain(refused)
    assert line is not None and "CIVICDESK_DATABASE_URL" in line and "port 1 failed" in line
    assert preflight.explain(RuntimeError("a real bug")) is None  # shown as the bug it is
