"""Test databases: every test runs on SQLite and on PostgreSQL (CIVICDESK_TEST_POSTGRES_URL, default the
local server). Each pytest run creates its own PostgreSQL database, so parallel runs never collide."""

from __future__ import annotations

import os
import shutil
import tempfile
import uuid

# Before anything reads the settings: keep the embedded broker, results and files out of the work tree.
# each pytest process (and each xdist worker) gets its own embedded broker, results and files
if "PYTEST_XDIST_WORKER" in os.environ or "CIVICDESK_VAR_DIR" not in os.environ:
    os.environ["CIVICDESK_VAR_DIR"] = tempfile.mkdtemp(prefix="civicdesk-test-")
os.environ.setdefault("CIVICDESK_ENVIRONMENT", "test")
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import text
from sqlalchemy.engine import Engine, make_url

from civicdesk import migrations, wiring
from civicdesk.db import make_engine, unit_of_work
from tickets.reference import seed_reference
from tickets.staff import create_user
from web.app import create_app
from web.security import issue_token

if TYPE_CHECKING:
    from s3_fake import S3Server

wiring.install()  # the SLA clocks follow tickets created by tests that call the services directly

PG_SERVER = os.environ.get(
    "CIVICDESK_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
)


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("db") / "template.sqlite"
    engine = make_engine(f"sqlite:///{path}")
    migrations.upgrade(engine)
    with unit_of_work(engine) as session:
        seed_reference(session)
    engine.dispose()
    return path


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    server = make_engine(PG_SERVER).execution_options(isolation_level="AUTOCOMMIT")
    name = f"civicdesk_test_{uuid.uuid4().hex[:10]}"
    with server.connect() as conn:  # fails, never skips, when PostgreSQL cannot be reached
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    url = make_url(PG_SERVER).set(database=name).render_as_string(hide_password=False)
    engine = make_engine(url)
    migrations.upgrade(engine)
    engine.dispose()
    yield url
    with server.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    server.dispose()


def _truncate_all(engine: Engine) -> None:
    with engine.begin() as conn:
        tables = [
            row[0]
            for row in conn.execute(
                text(
                    "SELECT tablename FROM pg_tables WHERE schemaname='public'"
                    " AND tablename<>'alembic_version'"
                )
            )
        ]
        conn.execute(text("TRUNCATE " + ", ".join(f'"{t}"' for t in tables) + " RESTART IDENTITY CASCADE"))


@pytest.fixture(params=["sqlite", "postgresql"])
def engine(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Engine]:
    if request.param == "sqlite":
        path = tmp_path / "test.sqlite"
        shutil.copy(request.getfixturevalue("sqlite_template"), path)
        eng = make_engine(f"sqlite:///{path}")
    else:
        eng = make_engine(request.getfixturevalue("postgres_url"))
        _truncate_all(eng)
        with unit_of_work(eng) as session:
            seed_reference(session)
    yield eng
    eng.dispose()


@pytest.fixture
def client(engine: Engine) -> Iterator[TestClient]:
    with TestClient(create_app(engine)) as test_client:
        yield test_client


@pytest.fixture
def make_user(engine: Engine) -> Callable[..., dict[str, str]]:
    """Create a user and return bearer headers for it."""

    def make(role: str = "admin", username: str | None = None, **kw: str) -> dict[str, str]:
        with unit_of_work(engine) as session:
            user = create_user(
                session,
                username=username or f"{role}-{uuid.uuid4().hex[:6]}",
                password="secret-pass",
                role=role,
                **kw,
            )
            return {"Authorization": f"Bearer {issue_token(user)}"}

    return make


@pytest.fixture
def admin(make_user: Callable[..., dict[str, str]]) -> dict[str, str]:
    return make_user("admin")


@pytest.fixture(scope="session")
def s3_server() -> Iterator[S3Server]:
    from s3_fake import running_s3_server  # moto is slow to import; only the S3 tests pay for it

    with running_s3_server() as server:
        yield server
