"""Database wiring: one engine per URL, one transaction per unit of work, tasks sent after commit."""

from __future__ import annotations

import logging
import select
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from sqlalchemy import MetaData, event, exc
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.orm import SessionTransaction
from sqlmodel import Session, SQLModel, create_engine

from kernel import embedded
from kernel.settings import get_settings

log = logging.getLogger(__name__)

# Stable constraint names, so that migrations and models agree on them.
NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}
SQLModel.metadata.naming_convention = NAMING_CONVENTION
metadata: MetaData = SQLModel.metadata


def make_engine(url: str) -> Engine:
    engine = create_engine(url, pool_size=10, max_overflow=20)
    event.listen(engine, "checkout", _closed_by_the_server)
    return engine


def _closed_by_the_server(dbapi_connection: Any, _record: Any, _proxy: Any) -> None:
    """A pooled connection the server has closed (a restart, an idle timeout, ``pg_terminate_backend``)
    is replaced before use. Instead of a round trip per checkout (``pool_pre_ping``: one more per request
    on the busiest routes, issue 22) the socket is asked: an idle connection has nothing to read unless
    the server closed it. The pool then makes a new connection."""
    if dbapi_connection.closed or select.select([dbapi_connection.fileno()], [], [], 0)[0]:
        raise exc.DisconnectionError("the database server closed this pooled connection")


def conninfo_of(engine: Engine) -> str:
    """The engine's database as libpq names it (the same server, database, user and socket), for the
    driver's own connections beside the engine's."""
    return engine.url.set(drivername="postgresql").render_as_string(hide_password=False)


@lru_cache
def engine_for(url: str) -> Engine:
    return make_engine(url)


def get_engine() -> Engine:
    """The configured database, or the embedded PostgreSQL under the var dir (started or reused)."""
    return engine_for(embedded.database_url(get_settings()))


@contextmanager
def unit_of_work(engine: Engine | None = None) -> Iterator[Session]:
    """One transaction: committed when the block ends, rolled back if it raises.

    Services never commit; the request handler, task or CLI command that owns the unit of work does.
    """
    with Session(engine or get_engine(), expire_on_commit=False) as session:
        try:
            yield session
            session.commit()
        except BaseException:
            session.rollback()
            raise


@contextmanager
def single_statements(engine: Engine | None = None) -> Iterator[Connection]:
    """A connection on which every statement is its own transaction (autocommit), for a unit of work of
    one statement: it costs one round trip, without a transaction's BEGIN and COMMIT (issue 22: the
    status page's read, a webhook's INSERT … ON CONFLICT … RETURNING, committed by PostgreSQL before its
    answer comes back). Nothing done through it can be rolled back: never for two statements that must
    stand or fall together."""
    with _autocommitting(engine or get_engine()).connect() as connection:
        yield connection


@lru_cache(maxsize=8)
def _autocommitting(engine: Engine) -> Engine:
    return engine.execution_options(isolation_level="AUTOCOMMIT")  # the same pool, in autocommit


AfterCommit = Callable[[], None]
_PENDING = "after_commit"


@dataclass
class _Queued:
    owner: SessionTransaction  # the savepoint or root transaction whose commit or rollback decides
    action: AfterCommit


def _scope(transaction: SessionTransaction) -> SessionTransaction:
    """The savepoint or root transaction that decides the fate of work done in ``transaction``
    (flushes open inner transactions of their own that are neither)."""
    while not transaction.nested and transaction.parent is not None:
        transaction = transaction.parent
    return transaction


def after_commit(session: Session, action: AfterCommit) -> None:
    """Run ``action`` once the outermost transaction commits; drop it if that transaction, or the
    savepoint it was queued in, rolls back.

    This is how tasks are sent: a task sent before commit could run before its rows exist. Releasing
    a savepoint is not a commit: its actions pass to the enclosing transaction.
    """
    current = session.get_nested_transaction() or session.get_transaction() or session.begin()
    pending: list[_Queued] = session.info.setdefault(_PENDING, [])
    pending.append(_Queued(current, action))


@event.listens_for(Session, "after_commit")
def _run_after_commit(session: Session) -> None:
    pending: list[_Queued] = session.info.get(_PENDING, [])
    released = session.get_nested_transaction()
    if released is not None:  # a savepoint was released, the real commit is still to come
        assert released.parent is not None
        enclosing = _scope(released.parent)
        for queued in pending:
            if queued.owner is released:
                queued.owner = enclosing
        return
    session.info.pop(_PENDING, None)
    for queued in pending:
        try:
            queued.action()
        except Exception:  # the commit stands; a lost send is logged and left to the periodic sweeps
            log.exception("after-commit action failed")


@event.listens_for(Session, "after_transaction_end")
def _drop_uncommitted(session: Session, transaction: SessionTransaction) -> None:
    """A savepoint or transaction that ends with actions still its own was rolled back (a commit hands
    them on or runs them first): they are dropped."""
    pending: list[_Queued] | None = session.info.get(_PENDING)
    if pending:
        pending[:] = [queued for queued in pending if queued.owner is not transaction]


def send_task_after_commit(session: Session, task: Any, *args: Any, **kwargs: Any) -> None:
    """Queue ``task.delay(*args, **kwargs)`` for when the session commits."""
    after_commit(session, lambda: task.apply_async(args=args, kwargs=kwargs))
