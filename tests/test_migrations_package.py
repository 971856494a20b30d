"""The migrations have one home: alembic/ in a checkout, the package civicdesk_migrations once installed."""

from __future__ import annotations

from pathlib import Path

from alembic.config import Config
from alembic.script import ScriptDirectory
from sqlalchemy import create_engine
from sqlalchemy.engine import make_url

from kernel.migrations import alembic_config, script_location

ROOT = Path(__file__).resolve().parents[1]


def test_the_application_and_the_developers_alembic_command_read_the_same_migrations() -> None:
    assert script_location() == ROOT / "alembic"
    developers = ScriptDirectory.from_config(Config(str(ROOT / "alembic.ini")))
    application = ScriptDirectory.from_config(alembic_config())
    assert Path(developers.dir).resolve() == Path(application.dir).resolve()
    assert developers.get_heads() == application.get_heads() and len(application.get_heads()) == 1


def test_a_password_with_percent_signs_survives_the_alembic_configuration() -> None:
    url = make_url("postgresql+psycopg://civicdesk@db.example/civicdesk").set(password="p%ss@w0rd")
    config = alembic_config(create_engine(url))
    assert make_url(config.get_main_option("sqlalchemy.url") or "").password == "p%ss@w0rd"
