"""Test databases: every test runs on PostgreSQL: the server at CIVICDESK_TEST_POSTGRES_URL, or else the
embedded one, which the test session starts (or reuses) under .cache/test-engines/ and stops at its end.
Redis-broker tests likewise use CIVICDESK_TEST_REDIS_URL or the embedded Valkey. Each pytest run creates
its own PostgreSQL database, so parallel runs never collide."""

from __future__ import annotations

import os
import tempfile
import uuid

# Before anything reads the settings: keep the embedded broker, results and files out of the work tree.
# each pytest process (and each xdist worker) gets its own embedded broker, results and files
if "PYTEST_XDIST_WORKER" in os.environ or "CIVICDESK_VAR_DIR" not in os.environ:
    os.environ["CIVICDESK_VAR_DIR"] = tempfile.mkdtemp(prefix="civicdesk-test-")
os.environ.setdefault("CIVICDESK_ENVIRONMENT", "test")
# a new report shows on the public list at once; tests/test_list_cache.py turns the kept lists on
os.environ.setdefault("CIVICDESK_PUBLIC_LIST_SECONDS", "0")
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import text
from sqlalchemy.engine import Engine, make_url

from civicdesk import wiring
from civicdesk.asgi import create_app
from kernel import embedded, migrations
from kernel.db import make_engine, unit_of_work
from tickets.reference import seed_reference
from tickets.staff import create_user
from web.security import issue_token

if TYPE_CHECKING:
    from s3_fake import S3Server

wiring.install()  # the SLA clocks follow tickets created by tests that call the services directly

ENGINES_CACHE = Path(__file__).resolve().parents[1] / ".cache" / "test-engines"
# The controlling process starts the embedded engines once; xdist workers, started after this module
# is imported there, inherit the URLs through the environment and reuse them.
if "CIVICDESK_TEST_POSTGRES_URL" not in os.environ:
    os.environ["CIVICDESK_TEST_POSTGRES_URL"] = embedded.postgres_url(ENGINES_CACHE)
if "CIVICDESK_TEST_REDIS_URL" not in os.environ:
    os.environ["CIVICDESK_TEST_REDIS_URL"] = embedded.broker_url(ENGINES_CACHE)
PG_SERVER = os.environ["CIVICDESK_TEST_POSTGRES_URL"]


@pytest.fixture(scope="session")
def redis_url() -> str:
    """A Redis-protocol broker for the tests of real workers."""
    return os.environ["CIVICDESK_TEST_REDIS_URL"]


@pytest.fixture(scope="session")
def new_database() -> Iterator[Callable[[], str]]:
    """Makes empty databases on the test server, each dropped when the session ends."""
    server = make_engine(PG_SERVER).execution_options(isolation_level="AUTOCOMMIT")
    names: list[str] = []

    def make() -> str:
        name = f"civicdesk_test_{uuid.uuid4().hex[:10]}"
        with server.connect() as conn:  # fails, never skips, when PostgreSQL cannot be reached
            conn.execute(text(f'CREATE DATABASE "{name}"'))
        names.append(name)
        return make_url(PG_SERVER).set(database=name).render_as_string(hide_password=False)

    yield make
    with server.connect() as conn:
        for name in names:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    server.dispose()


@pytest.fixture(scope="session")
def postgres_url(new_database: Callable[[], str]) -> str:
    """This process's migrated database, shared by its tests (the engine fixture empties it per test)."""
    url = new_database()
    engine = make_engine(url)
    migrations.upgrade(engine)
    engine.dispose()
    return url


@pytest.fixture(scope="module")
def module_database(new_database: Callable[[], str]) -> str:
    """A migrated, seeded database of one test module's own, for a live server kept across its tests."""
    url = new_database()
    engine = make_engine(url)
    migrations.upgrade(engine)
    with unit_of_work(engine) as session:
        seed_reference(session)
    engine.dispose()
    return url


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


@pytest.fixture
def engine(postgres_url: str) -> Iterator[Engine]:
    eng = make_engine(postgres_url)
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
