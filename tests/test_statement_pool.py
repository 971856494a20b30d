"""``kernel.statement_pool``: the status page's one statement, sent from the event loop. Each statement is its
own transaction; a pooled connection the server closed is replaced without the citizen seeing an error;
a database that cannot be reached answers 503 with a reason, not a 500; two clients of one application
(two event loops) each get their own connections."""

from __future__ import annotations

import asyncio
import time

from fastapi.testclient import TestClient
from sqlalchemy import text
from sqlalchemy.engine import Engine, make_url
from test_public_pages import file_report

from civicdesk.asgi import create_app
from kernel.db import make_engine
from kernel.statement_pool import APPLICATION_NAME, StatementPool
from web import status_cache

TXID = text("SELECT txid_current()")


def test_each_statement_is_its_own_transaction(engine: Engine) -> None:
    async def two_ids() -> tuple[int, int]:
        pool = StatementPool(engine, connections=1)  # the same connection both times
        try:
            first, second = await pool.fetch_one(TXID, {}), await pool.fetch_one(TXID, {})
        finally:
            await pool.close()
        assert first is not None and second is not None
        return first[0], second[0]

    first, second = asyncio.run(two_ids())
    assert second > first  # inside one transaction both would name the same one


def test_a_connection_the_server_closed_is_replaced_and_the_page_still_answers(engine: Engine) -> None:
    with TestClient(create_app(engine)) as client:
        token = file_report(client, "Cống thoát nước bị tắc ở hẻm 12")
        assert client.get(f"/t/{token}").status_code == 200
        with engine.connect() as admin:
            ended = admin.execute(
                text("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = :name"),
                {"name": APPLICATION_NAME},
            ).all()
        assert ended and all(row[0] for row in ended)
        _wait_until_gone(engine)
        status_cache.PAGES.clear()
        page = client.get(f"/t/{token}")
        assert page.status_code == 200 and "Cống thoát nước" in page.text


def test_a_database_that_cannot_be_reached_answers_503_with_a_reason(engine: Engine) -> None:
    unreachable = make_engine(make_url(engine.url).set(port=1).render_as_string(hide_password=False))
    app = create_app(engine)
    app.state.statements = StatementPool(unreachable, wait_seconds=0.5)
    with TestClient(app) as client:
        page = client.get("/api/v1/public/reports/no-such-link-but-no-database-either")
    assert page.status_code == 503
    assert "Cơ sở dữ liệu" in page.json()["detail"] and page.headers["retry-after"] == "5"


def test_two_clients_of_one_application_each_read_on_their_own_loop(engine: Engine) -> None:
    app = create_app(engine)
    with TestClient(app) as desk, TestClient(app) as laptop:
        token = file_report(desk, "Đèn đường hỏng ở đường Thống Nhất")
        for client in (desk, laptop, desk):
            status_cache.PAGES.clear()
            assert client.get(f"/api/v1/public/reports/{token}").status_code == 200


def _wait_until_gone(engine: Engine) -> None:
    deadline = time.monotonic() + 5
    query = text("SELECT count(*) FROM pg_stat_activity WHERE application_name = :name")
    while time.monotonic() < deadline:
        with engine.connect() as admin:
            if not admin.execute(query, {"name": APPLICATION_NAME}).scalar_one():
                return
        time.sleep(0.05)
