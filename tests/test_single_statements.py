"""``kernel.db.single_statements``: every statement is its own transaction (one round trip for a one-statement
read), on the same pool as the units of work, which it leaves as it found them; and a pooled connection
the server closed is replaced before use, without a round trip per checkout."""

from __future__ import annotations

import time

from sqlalchemy import create_engine, text
from sqlalchemy.engine import Engine

from kernel.db import make_engine, single_statements, unit_of_work


def _transaction_ids(engine: Engine) -> tuple[int, int]:
    with single_statements(engine) as connection:
        first = connection.execute(text("SELECT txid_current()")).scalar_one()
        second = connection.execute(text("SELECT txid_current()")).scalar_one()
    return first, second


def test_each_statement_is_its_own_transaction(engine: Engine) -> None:
    first, second = _transaction_ids(engine)
    assert second > first  # inside one transaction both would name the same one


def test_a_unit_of_work_after_it_still_holds_one_transaction(engine: Engine) -> None:
    one = create_engine(engine.url, pool_size=1, max_overflow=0)  # the same connection both times
    try:
        _transaction_ids(one)
        with unit_of_work(one) as session:
            first = session.execute(text("SELECT txid_current()")).scalar_one()
            second = session.execute(text("SELECT txid_current()")).scalar_one()
        assert first == second
    finally:
        one.dispose()


def test_a_pooled_connection_the_server_closed_is_replaced_before_use(engine: Engine) -> None:
    one = make_engine(engine.url.render_as_string(hide_password=False))  # one pooled connection, reused
    try:
        with unit_of_work(one) as session:
            before = session.execute(text("SELECT pg_backend_pid()")).scalar_one()
        with engine.connect() as other:
            assert other.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": before}).scalar_one()
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline and _alive(engine, before):
            time.sleep(0.05)
        with unit_of_work(one) as session:  # no error: the closed connection is noticed and replaced
            after = session.execute(text("SELECT pg_backend_pid()")).scalar_one()
        assert after != before
    finally:
        one.dispose()


def _alive(engine: Engine, pid: int) -> bool:
    with engine.connect() as conn:
        found = conn.execute(text("SELECT count(*) FROM pg_stat_activity WHERE pid = :pid"), {"pid": pid})
        return bool(found.scalar_one())
