"""No blocking database work on the event loop: an ``async def`` endpoint or dependency that takes the
request's database session may only hand it to ``run_in_threadpool`` / ``asyncio.to_thread`` (directly,
through ``functools.partial``, or inside a plain ``def`` it defines for them). A sync endpoint runs in the
thread pool already; an async one runs on the loop, where one slow query stalls every request."""

from __future__ import annotations

import ast
import inspect
import textwrap
from collections.abc import Callable, Iterator
from typing import Any

from fastapi.dependencies.models import Dependant
from fastapi.routing import APIRoute
from sqlalchemy.engine import Engine

from civicdesk.asgi import create_app
from web.deps import get_session

OFF_THE_LOOP = {"run_in_threadpool", "to_thread", "run_sync"}
BINDS = {"partial"}  # binds arguments without calling: the call happens where the partial goes


def _called(func: ast.expr) -> str:
    if isinstance(func, ast.Name):
        return func.id
    if isinstance(func, ast.Attribute):
        return func.attr
    return ""


def _off_the_loop(name: ast.Name, parents: dict[ast.AST, ast.AST], top: ast.AST) -> bool:
    chain = [name]
    while chain[-1] is not top:
        chain.append(parents[chain[-1]])
    if any(isinstance(node, ast.FunctionDef | ast.Lambda) for node in chain):
        return True  # plain code defined here to be run by the thread pool
    for child, node in zip(chain, chain[1:], strict=False):
        if isinstance(node, ast.Call):
            called = _called(node.func)
            if child is node.func or called not in OFF_THE_LOOP | BINDS:
                return False  # the session, or something read from it, is used by a call on the loop
            if called in OFF_THE_LOOP:
                return True
    return False


def session_uses_on_the_loop(function: Callable[..., Any], session_names: set[str]) -> list[str]:
    """The lines of an async function that use one of ``session_names`` on the event loop."""
    source = textwrap.dedent(inspect.getsource(function))
    tree = ast.parse(source)
    top = next(n for n in ast.walk(tree) if isinstance(n, ast.AsyncFunctionDef))
    parents = {child: node for node in ast.walk(top) for child in ast.iter_child_nodes(node)}
    lines = source.splitlines()
    return [
        lines[node.lineno - 1].strip()
        for node in ast.walk(top)
        if isinstance(node, ast.Name)
        and node.id in session_names
        and isinstance(node.ctx, ast.Load)
        and not _off_the_loop(node, parents, top)
    ]


def _async_callables(dependant: Dependant) -> Iterator[tuple[Callable[..., Any], set[str]]]:
    """Every async endpoint or dependency under ``dependant``, with the names its session arrives by."""
    if dependant.call is not None and inspect.iscoroutinefunction(dependant.call):
        names = {d.name for d in dependant.dependencies if d.call is get_session and d.name}
        yield dependant.call, names
    for sub in dependant.dependencies:
        yield from _async_callables(sub)


def _api_routes(routes: list[Any]) -> Iterator[APIRoute]:
    """Every endpoint, including those of included routers (FastAPI keeps them under the router)."""
    for route in routes:
        if isinstance(route, APIRoute):
            yield route
        included = getattr(route, "original_router", None) or getattr(route, "app", None)
        if included is not None and hasattr(included, "routes"):
            yield from _api_routes(included.routes)


def test_async_endpoints_do_their_database_work_in_the_thread_pool(engine: Engine) -> None:
    checked, found = 0, []
    seen: set[Callable[..., Any]] = set()
    for route in _api_routes(create_app(engine).routes):
        for function, names in _async_callables(route.dependant):
            if function in seen or not names:
                continue
            seen.add(function)
            checked += 1
            found += [
                f"{function.__qualname__}: {line}" for line in session_uses_on_the_loop(function, names)
            ]
    assert checked >= 4  # the async endpoints taking a session today: report, reply, attach, push, open311
    assert found == []


async def _on_the_loop(session: Any, run_in_threadpool: Any, partial: Any) -> None:
    """What the check must catch (and what it must let through), checked below."""
    await run_in_threadpool(session.rollback)  # fine
    await run_in_threadpool(partial(print, session))  # fine

    def in_the_pool() -> None:
        session.flush()  # fine: a plain def run by the pool

    await run_in_threadpool(in_the_pool)
    session.get(int, 1)  # caught
    await run_in_threadpool(print, session.get(int, 1))  # caught: the get runs on the loop


def test_the_check_catches_session_work_on_the_loop() -> None:
    assert session_uses_on_the_loop(_on_the_loop, {"session"}) == [
        "session.get(int, 1)  # caught",
        "await run_in_threadpool(print, session.get(int, 1))  # caught: the get runs on the loop",
    ]
