"""Alembic runs against the engine CivicDesk uses (or the connection handed to it by the CLI/tests)."""

from __future__ import annotations

from alembic import context
from civicdesk.models import all_metadata
from kernel import embedded
from kernel.db import make_engine
from kernel.settings import get_settings

target_metadata = all_metadata()


def run_migrations_online() -> None:
    connection = context.config.attributes.get("connection")
    if connection is not None:
        _run(connection)
        return
    url = context.config.get_main_option("sqlalchemy.url") or embedded.database_url(get_settings())
    engine = make_engine(url)
    with engine.connect() as conn:
        _run(conn)
    engine.dispose()


def _run(connection: object) -> None:
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


if context.is_offline_mode():
    raise SystemExit("offline (SQL script) migrations are not supported; run `civicdesk db upgrade`")
run_migrations_online()
