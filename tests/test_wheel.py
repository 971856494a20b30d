"""The wheel as a city's IT team gets it: built from the checkout, installed with the locked dependencies
into a fresh venv, then `civicdesk db upgrade && civicdesk seed` in an empty folder against an empty
PostgreSQL database. Needs uv (`make install` puts it in .tools/), PyPI or a warm uv cache, PostgreSQL."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import uuid
import zipfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from alembic.script import ScriptDirectory
from sqlalchemy import text
from sqlalchemy.engine import make_url

from kernel.db import make_engine
from kernel.migrations import alembic_config

pytestmark = [pytest.mark.wheel, pytest.mark.postgres]

ROOT = Path(__file__).resolve().parents[1]
APPLICATION = (
    "civicdesk kernel tickets telephony channels notifications routing nlp web sla open311 ioc incidents"
    " geo flows"
).split()


def _uv_command() -> str:
    found = ROOT / ".tools" / "bin" / "uv"
    if found.exists():
        return str(found)
    on_path = shutil.which("uv")
    if on_path is None:
        pytest.fail("uv is needed to build and install the wheel: run `make install` (it bootstraps .tools/)")
    return on_path


def _checkout_files() -> list[str]:
    listed = subprocess.run(
        ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
        cwd=ROOT,
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    return [name for name in listed.split("\0") if name and (ROOT / name).is_file()]


def _clean_env(**extra: str) -> dict[str, str]:
    """The machine's environment without this test run's settings or venv, as a fresh shell has it."""
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("CIVICDESK_", "PYTEST_")) and key not in {"VIRTUAL_ENV", "PYTHONPATH"}
    }
    return {**env, "UV_PYTHON_DOWNLOADS": "never", **extra}


def _run(*args: str | Path, cwd: Path, env: dict[str, str], stdin: str | None = None) -> str:
    done = subprocess.run(
        [str(a) for a in args], cwd=cwd, env=env, input=stdin, capture_output=True, text=True, check=False
    )
    assert done.returncode == 0, f"{' '.join(map(str, args))} failed:\n{done.stdout}\n{done.stderr}"
    return done.stdout


def _uv(*args: str | Path, cwd: Path) -> str:
    return _run(_uv_command(), *args, cwd=cwd, env=_clean_env())


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Built from a copy of the checkout, so the build leaves nothing in the work tree."""
    source = tmp_path_factory.mktemp("source")
    for name in _checkout_files():
        (source / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(ROOT / name, source / name)
    dist = tmp_path_factory.mktemp("dist")
    _uv("build", "--wheel", "--out-dir", dist, source, cwd=source)
    (built,) = dist.glob("civicdesk-*.whl")
    return built


@pytest.fixture(scope="module")
def venv(wheel: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A fresh venv with exactly the locked runtime dependencies (hashes checked), then the wheel."""
    work = tmp_path_factory.mktemp("install")
    home = work / "venv"
    requirements = work / "requirements.txt"
    _uv("export", "--locked", "--no-emit-project", "--output-file", requirements, cwd=ROOT)
    python = home / "bin" / "python"
    _uv("venv", "--python", sys.executable, home, cwd=work)
    _uv("pip", "install", "--python", python, "--require-hashes", "-r", requirements, cwd=work)
    _uv("pip", "install", "--python", python, "--no-deps", wheel, cwd=work)
    _uv("pip", "check", "--python", python, cwd=work)
    return home


@pytest.fixture
def empty_database(postgres_url: str) -> Iterator[str]:
    server = make_engine(make_url(postgres_url).set(database="postgres")).execution_options(
        isolation_level="AUTOCOMMIT"
    )
    name = f"civicdesk_wheel_{uuid.uuid4().hex[:10]}"
    with server.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    yield make_url(postgres_url).set(database=name).render_as_string(hide_password=False)
    with server.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    server.dispose()


def test_wheel_holds_every_file_of_the_packages_and_the_migrations(wheel: Path) -> None:
    shipped = set(zipfile.ZipFile(wheel).namelist())
    wanted = {name for name in _checkout_files() if name.split("/")[0] in APPLICATION}
    wanted |= {
        "civicdesk_migrations/" + name.removeprefix("alembic/")
        for name in _checkout_files()
        if name.startswith("alembic/")
    }
    missing = sorted(wanted - shipped)
    assert missing == [], f"not in the wheel; add them to [tool.setuptools.package-data]: {missing}"
    assert {name for name in shipped if ".dist-info/" not in name} - wanted == set()
    assert "civicdesk_migrations/versions/20261122_0001_ticket_core.py" in shipped


def test_installed_wheel_migrates_seeds_and_triages_an_empty_database_from_an_empty_folder(
    venv: Path, empty_database: str, tmp_path: Path
) -> None:
    folder = tmp_path / "empty"
    folder.mkdir()
    env = _clean_env(CIVICDESK_DATABASE_URL=empty_database)
    civicdesk = venv / "bin" / "civicdesk"
    located = _run(
        venv / "bin" / "python",
        "-c",
        "import civicdesk, civicdesk_migrations; print(civicdesk.__file__, *civicdesk_migrations.__path__)",
        cwd=folder,
        env=env,
    )
    assert all(path.startswith(str(venv)) for path in located.split()), located

    upgraded = _run(civicdesk, "db", "upgrade", cwd=folder, env=env)
    (head,) = ScriptDirectory.from_config(alembic_config()).get_heads()
    assert upgraded.strip() == f"database at {head}"
    seeded = _run(civicdesk, "seed", cwd=folder, env=env)
    added = {table: int(n) for n, table in re.findall(r"(\d+) new (\w+)", seeded.splitlines()[0])}
    assert set(added) == {"category", "department", "ward"} and min(added.values()) > 0, seeded

    engine = make_engine(empty_database)
    with engine.connect() as conn:
        assert conn.execute(text("SELECT version_num FROM alembic_version")).scalar_one() == head
        for table, count in added.items():
            assert conn.execute(text(f'SELECT count(*) FROM "{table}"')).scalar_one() == count  # noqa: S608
    engine.dispose()

    report = json.dumps({"text": "Đèn đường hỏng ở P. Phủ Hà", "reported_at": "2024-03-01T09:00:00+07:00"})
    answer = json.loads(_run(civicdesk, "triage", cwd=folder, env=env, stdin=report + "\n"))
    assert (answer["category"], answer["ward"]) == ("street_lighting", "phu-ha")
