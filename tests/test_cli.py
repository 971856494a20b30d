from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner

from civicdesk import cli
from civicdesk.db import engine_for
from civicdesk.settings import get_settings


@pytest.fixture
def fresh_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    monkeypatch.setenv("CIVICDESK_DATABASE_URL", f"sqlite:///{tmp_path / 'cli.sqlite'}")
    get_settings.cache_clear()
    yield tmp_path
    get_settings.cache_clear()
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
