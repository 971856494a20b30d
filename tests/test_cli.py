from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner

from civicdesk import cli
from civicdesk.db import engine_for
from civicdesk.settings import get_settings


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
        (["--username", "hoa2", "--password", "short", "--role", "agent"], "at least 8"),
        (["--username", "hoa3", "--password", "long-enough", "--role", "department_staff"], "--department"),
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
            "unknown ward",
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
