"""A throwaway database for one benchmark run: created on the server, migrated, dropped afterwards even
when the run fails, so a benchmark never leaves data behind on a developer's server."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import text
from sqlalchemy.engine import Engine, make_url

from kernel import migrations
from kernel.db import make_engine


@contextmanager
def scratch_database(server_url: str, *, migrate: bool = True) -> Iterator[Engine]:
    """An engine on a new database `civicdesk_bench_…` of the server at `server_url`, at the
    migration head unless `migrate` is false; `engine.url` gives its address to other processes."""
    server = make_engine(server_url).execution_options(isolation_level="AUTOCOMMIT")
    name = f"civicdesk_bench_{uuid.uuid4().hex[:8]}"
    with server.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    engine = make_engine(make_url(server_url).set(database=name).render_as_string(hide_password=False))
    try:
        if migrate:
            migrations.upgrade(engine)
        yield engine
    finally:
        engine.dispose()
        with server.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        server.dispose()
