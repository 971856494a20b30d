"""What a webhook delivery costs the web process, counted rather than timed (issue 22): a readable
delivery is stored by one statement sent from the event loop through its own connections
(``kernel.statement_pool``), with no trip to the thread pool; a delivery kept as a dead letter (rare)
makes one trip, where its one statement runs (never on the event loop). Either statement is a
transaction of its own: no BEGIN or COMMIT round trips around it."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

import anyio.to_thread
import pytest
from fakes import GraphState, ZaloState
from fastapi.testclient import TestClient
from sqlalchemy import event
from sqlalchemy.engine import Engine
from test_channels import fb_post, messenger, providers, zalo_event, zalo_post

__all__ = ["providers"]  # the fixture, shared with test_channels


def _trips_to_the_pool(monkeypatch: pytest.MonkeyPatch) -> list[Callable[..., Any]]:
    """Every function the app hands to the thread pool (starlette's and FastAPI's helpers all go through
    ``anyio.to_thread.run_sync``)."""
    trips: list[Callable[..., Any]] = []
    real = anyio.to_thread.run_sync

    async def counted(func: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        trips.append(func)
        return await real(func, *args, **kwargs)

    monkeypatch.setattr(anyio.to_thread, "run_sync", counted)
    return trips


def _statements(engine: Engine, connections: list[Any]) -> list[tuple[str, bool, bool]]:
    """Each statement the engine sends: its verb, whether it was sent from a thread running an event
    loop, and whether the driver connection was in autocommit (the statement its own transaction);
    the driver connections used go in ``connections``."""
    seen: list[tuple[str, bool, bool]] = []

    def where(connection: Any, _cursor: Any, sql: str, *_: Any) -> None:
        try:
            asyncio.get_running_loop()
        except RuntimeError:
            on_the_loop = False
        else:
            on_the_loop = True
        connections.append(connection.connection.driver_connection)
        autocommit = bool(connections[-1].autocommit)
        seen.append((sql.split()[0], on_the_loop, autocommit))

    event.listen(engine, "before_cursor_execute", where)
    return seen


def test_a_delivery_is_one_statement_committed_as_it_runs_and_only_a_dead_letter_goes_to_a_thread(
    client: TestClient,
    engine: Engine,
    providers: tuple[ZaloState, GraphState],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    trips = _trips_to_the_pool(monkeypatch)
    used: list[Any] = []
    statements = _statements(engine, used)
    pool = client.app.state.statements  # type: ignore[attr-defined]
    sent_before = pool.sent
    zalo = zalo_post(client, zalo_event("cost-1", "4100000000000000091", "Ngập ở đường 21 tháng 8"))
    assert zalo.json() == {"received": 1, "stored": 1}
    facebook = fb_post(client, messenger("m-cost-1", "6500000000000091", "Đèn đường hỏng"))
    assert facebook.json() == {"received": 1, "stored": 1}
    assert (trips, statements, pool.sent - sent_before) == ([], [], 2)
    unreadable = fb_post(client, {"object": "page", "entry": 5})  # authentic: kept as a dead letter
    assert unreadable.json() == {"received": 0, "stored": 0, "dead_letters": 1}
    assert len(trips) == 1
    assert statements == [("INSERT", False, True)]
    assert [c.autocommit for c in used] == [False]  # back in the pool, for transactions again
