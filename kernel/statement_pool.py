"""One-statement reads on the event loop: psycopg's asynchronous pool, beside the engine's (issue 22).

The busiest public read, the citizen's status page, is one statement. Through the engine it costs a
trip to the thread pool and SQLAlchemy's connection and result machinery around psycopg: on a million
tickets that was more than half of the CPU a cold page costs before any rendering. Here the statement
goes through psycopg's own asynchronous connections, each autocommitting (the statement is its own
transaction: one round trip), from a small pool that the web process opens at start-up and closes at
shutdown. Only single statements belong here: nothing sent through it can be rolled back, and the ORM
with its unit of work stays on the engine.

A pooled connection that the server closed (a restart, ``pg_terminate_backend``) is found when it is
used; the statement is then sent once more on a new connection. Reads are safe to repeat; so is the
webhooks' ``INSERT … ON CONFLICT DO NOTHING``. When the database cannot be reached the driver's
``OperationalError`` reaches the application's handler, which answers 503.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping, Sequence
from functools import lru_cache
from typing import Any

import psycopg
from psycopg_pool import AsyncConnectionPool, PoolTimeout
from sqlalchemy import TextClause
from sqlalchemy.dialects.postgresql.psycopg import PGDialect_psycopg
from sqlalchemy.engine import Engine

from kernel.db import conninfo_of

CONNECTIONS = 10  # per web process, like the engine's pool: enough for the event loop's one-statement reads
WAIT_SECONDS = 5.0  # for a free connection or a new one, before the request is answered 503
APPLICATION_NAME = "civicdesk-web-statements"


@lru_cache(maxsize=64)
def in_psycopg_style(statement: TextClause) -> str:
    """A SQLAlchemy ``text()`` statement as psycopg takes it: ``:name`` becomes ``%(name)s`` and a
    literal ``%`` is doubled (compiled once per statement)."""
    return str(statement.compile(dialect=PGDialect_psycopg()))  # type: ignore[no-untyped-call]


class StatementPool:
    """Autocommitting asynchronous connections for single statements, and how many were sent (the tests
    count a page's round trips with it).

    Connections belong to the event loop that made them: a web process has one loop, but a test may
    serve one application from two clients at once, each with its loop. So each loop gets its own pool,
    opened by the application's start-up (or its first statement) and closed by its shutdown."""

    def __init__(
        self, engine: Engine, connections: int = CONNECTIONS, wait_seconds: float = WAIT_SECONDS
    ) -> None:
        self._conninfo = conninfo_of(engine)
        self._connections = connections
        self._wait_seconds = wait_seconds
        self._pools: dict[asyncio.AbstractEventLoop, AsyncConnectionPool] = {}
        self.sent = 0

    async def open(self) -> None:
        """Start filling this loop's pool; the first statement waits for its connection if it comes
        first."""
        await self._pool()

    async def close(self) -> None:
        pool = self._pools.pop(asyncio.get_running_loop(), None)
        if pool is not None:
            await pool.close()

    async def fetch_one(self, statement: TextClause, parameters: Mapping[str, Any]) -> Sequence[Any] | None:
        """The statement's first row, or None."""
        rows = await self.fetch_all(statement, parameters, first_only=True)
        return rows[0] if rows else None

    async def fetch_all(
        self, statement: TextClause, parameters: Mapping[str, Any], *, first_only: bool = False
    ) -> list[Sequence[Any]]:
        """The statement's rows (its first only if ``first_only``); sent again on a new connection if the
        server had closed the pooled one."""
        sql = in_psycopg_style(statement)
        try:
            return await self._fetch(sql, parameters, first_only)
        except PoolTimeout:
            raise  # no connection could be had: the database is away or every connection is busy
        except psycopg.OperationalError:
            # a connection closed by the server is discarded by the pool when given back; a database
            # that is really down fails again here, and the caller gets the error
            return await self._fetch(sql, parameters, first_only)

    async def _fetch(self, sql: str, parameters: Mapping[str, Any], first_only: bool) -> list[Sequence[Any]]:
        pool = await self._pool()
        async with pool.connection() as connection:
            self.sent += 1
            cursor = await connection.execute(sql, parameters)
            if first_only:
                row = await cursor.fetchone()
                return [row] if row is not None else []
            return list(await cursor.fetchall())

    async def _pool(self) -> AsyncConnectionPool:
        loop = asyncio.get_running_loop()
        pool = self._pools.get(loop)
        if pool is not None:
            return pool
        made = AsyncConnectionPool(
            self._conninfo,
            min_size=1,
            max_size=self._connections,
            kwargs={"autocommit": True, "application_name": APPLICATION_NAME},
            timeout=self._wait_seconds,
            open=False,
            name="civicdesk-statements",
        )
        await made.open(wait=False)
        pool = self._pools.setdefault(loop, made)
        if pool is not made:  # another request of this loop made one meanwhile
            await made.close()
        return pool
