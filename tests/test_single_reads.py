"""``kernel.db.single_reads``: every statement is its own transaction (one round trip for a one-statement
read), on the same pool as the units of work, which it leaves as it found them."""

from __future__ import annotations

from sqlalchemy import create_engine, text
from sqlalchemy.engine import Engine

from kernel.db import single_reads, unit_of_work


def _transaction_ids(engine: Engine) -> tuple[int, int]:
    with single_reads(engine) as connection:
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
