"""The public pages kept for every web worker (issue 22): a status page rendered by one worker is served by
another without rendering it again, a change shows in every worker at the next request, the shared keys
never hold a tracking token, a cache server that does not answer costs nothing but the cache, and the
public list is kept for the stated few seconds, then renewed."""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Iterator
from typing import Any
from urllib.parse import urlencode

import pytest
import redis
from fastapi.testclient import TestClient
from sqlalchemy import event
from sqlalchemy.engine import Engine
from test_public_pages import file_report, resolve, ticket_by_token

from civicdesk.asgi import create_app
from kernel import sharedcache
from kernel.db import unit_of_work
from kernel.settings import get_settings
from kernel.sharedcache import PREFIX, shared_cache
from tickets import service
from tickets.refcache import reference
from tickets.service import NewTicket
from web import list_cache, status_cache
from web.list_cache import list_key

PATHS = {"page": "/t/{}", "json": "/api/v1/public/reports/{}"}


def _use(monkeypatch: pytest.MonkeyPatch, **settings: str) -> None:
    for name, value in settings.items():
        monkeypatch.setenv(f"CIVICDESK_{name.upper()}", value)
    get_settings.cache_clear()
    shared_cache.cache_clear()


@pytest.fixture
def shared(redis_url: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[redis.Redis]:
    url = sharedcache.redis_url("", redis_url)
    assert url is not None
    _use(monkeypatch, cache_url=url)
    status_cache.PAGES.clear()
    server = redis.Redis.from_url(url)
    _forget_lists(server)  # the test database keeps its address while its rows are truncated
    yield server
    _forget_lists(server)
    monkeypatch.undo()
    get_settings.cache_clear()
    shared_cache.cache_clear()
    status_cache.PAGES.clear()


def _forget_lists(server: redis.Redis) -> None:
    list_cache.LOCAL.clear()
    for pattern in (f"{PREFIX}list:*", f"{PREFIX}claim:list:*"):
        for key in server.scan_iter(pattern):
            server.delete(key)


@pytest.fixture
def other_worker(engine: Engine) -> Iterator[TestClient]:
    """Another web worker: its own app and, once ``PAGES`` is cleared, nothing kept in its process."""
    with TestClient(create_app(engine)) as worker:
        yield worker


def _pool_sent(client: TestClient) -> int:
    """Statements sent by the worker's event-loop pool (``kernel.statement_pool``)."""
    sent: int = client.app.state.statements.sent  # type: ignore[attr-defined]
    return sent


def _statements(engine: Engine) -> list[str]:
    seen: list[str] = []

    def keep(_conn: Any, _cursor: Any, sql: str, *_: Any) -> None:
        seen.append(sql)

    event.listen(engine, "before_cursor_execute", keep)
    return seen


@pytest.mark.parametrize("kind", list(PATHS))
def test_another_worker_serves_the_kept_page_without_rendering_it(
    kind: str, shared: redis.Redis, client: TestClient, other_worker: TestClient, engine: Engine
) -> None:
    token = file_report(client, "Ổ gà lớn trước nhà số 12 đường Thống Nhất", phone="0905123456")
    path = PATHS[kind].format(token)
    first = client.get(path)
    assert first.status_code == 200
    status_cache.PAGES.clear()  # the other worker's process has nothing of its own
    seen, sent_before = _statements(engine), _pool_sent(other_worker)
    second = other_worker.get(path)
    assert second.status_code == 200 and second.headers["etag"] == first.headers["etag"]
    assert "Thống Nhất" in second.text and "0905123456" not in second.text
    # one statement, on the event loop: the version, with the reference tables' fingerprint; nothing
    # through the engine (no timeline, names or clocks read again for a render)
    assert _pool_sent(other_worker) - sent_before == 1
    assert not [sql for sql in seen if sql.lstrip().upper().startswith("SELECT")], seen


@pytest.mark.parametrize("kind", list(PATHS))
def test_a_change_shows_in_another_worker_at_its_next_request(
    kind: str, shared: redis.Redis, client: TestClient, other_worker: TestClient, engine: Engine
) -> None:
    token = file_report(client, "Đèn đường hỏng ở hẻm 5")
    path = PATHS[kind].format(token)
    assert other_worker.get(path).status_code == 200  # kept by the other worker, shared
    assert client.get(path).status_code == 200
    resolve(engine, ticket_by_token(engine, token).id or 0, summary="Đã thay bóng đèn hẻm 5")
    assert "Đã thay bóng đèn hẻm 5" in other_worker.get(path).text
    status_cache.PAGES.clear()
    assert "Đã thay bóng đèn hẻm 5" in client.get(path).text


def test_the_shared_keys_never_hold_a_tracking_token(shared: redis.Redis, client: TestClient) -> None:
    token = file_report(client, "Rác thải ùn ứ ở chợ")
    assert client.get(f"/t/{token}").status_code == 200
    assert client.get(f"/api/v1/public/reports/{token}").status_code == 200
    digest = hashlib.sha256(token.encode()).hexdigest()
    keys = [key.decode() for key in shared.scan_iter(f"{PREFIX}status:{digest}:*")]
    assert len(keys) == 2 and not any(token in key for key in keys)
    assert all(ttl > 0 for ttl in (shared.ttl(key) for key in keys))  # they expire by themselves


def test_a_cache_server_that_does_not_answer_costs_only_the_cache(
    engine: Engine, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    _use(monkeypatch, cache_url="redis://127.0.0.1:1/0", public_list_seconds="30")  # nothing listens
    status_cache.PAGES.clear()
    try:
        with TestClient(create_app(engine)) as client, caplog.at_level(logging.WARNING):
            token = file_report(client, "Cây đổ chắn ngang đường Ngô Gia Tự")
            for _ in range(2):
                assert client.get(f"/t/{token}").status_code == 200
                status_cache.PAGES.clear()
                assert client.get("/reports").status_code == 200
                assert client.get("/api/v1/public/reports").status_code == 200
        warnings = [r for r in caplog.records if "shared page cache unavailable" in r.getMessage()]
        assert len(warnings) == 1  # once per outage, not once per request
    finally:
        get_settings.cache_clear()
        shared_cache.cache_clear()
        status_cache.PAGES.clear()


def _new_light(engine: Engine, text: str) -> str:
    with unit_of_work(engine) as session:
        draft = NewTicket(description=text, category="street_lighting", ward="kinh-dinh")
        return service.create_ticket(session, draft).code


def _make_due(shared: redis.Redis) -> None:
    """As if the kept lists' seconds had passed: every kept list of this run is due (their own bytes), and
    the processes' own copies, kept for a second, are gone."""
    list_cache.LOCAL.clear()
    for key in shared.scan_iter(f"{PREFIX}list:*"):
        entry = shared.get(key)
        if entry is not None:
            shared.set(key, b"0\n" + entry.partition(b"\n")[2], keepttl=True)


@pytest.mark.parametrize("path", ["/reports", "/api/v1/public/reports"])
def test_the_public_list_is_kept_for_the_stated_seconds_then_renewed(
    path: str, shared: redis.Redis, engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    _use(monkeypatch, public_list_seconds="600")
    with TestClient(create_app(engine)) as client, TestClient(create_app(engine)) as other_worker:
        first = _new_light(engine, "Đèn hỏng ở đường Thống Nhất")
        assert first in client.get(path).text
        second = _new_light(engine, "Đèn hỏng ở đường Lê Duẩn")
        kept = other_worker.get(path).text  # the other worker serves what the first one rendered
        assert first in kept and second not in kept
        if path == "/reports":
            assert "cập nhật sau tối đa 600 giây" in kept
            assert "within 600 seconds" in other_worker.get(path + "?lang=en").text
        _make_due(shared)
        assert second in other_worker.get(path).text  # renewed by the first request that finds it due
        assert second in client.get(path).text  # and kept again, for every worker


def test_a_due_list_being_renewed_elsewhere_is_served_as_it_was(
    shared: redis.Redis, client: TestClient, engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    _use(monkeypatch, public_list_seconds="600")
    first = _new_light(engine, "Đèn hỏng ở đường Thống Nhất")
    assert first in client.get("/api/v1/public/reports").text
    second = _new_light(engine, "Đèn hỏng ở đường Lê Duẩn")
    _make_due(shared)
    database = engine.url.render_as_string(hide_password=True)
    key = list_key(
        database, "reports-json", [urlencode({"category": "", "ward": "", "status": "", "n": 100})]
    )
    assert shared_cache().claim(key, 60)  # another worker is rendering it now
    assert second not in client.get("/api/v1/public/reports").text  # not everyone renders it at once


@pytest.mark.parametrize("kind", list(PATHS))
def test_a_fresh_render_reads_the_reference_tables_once(
    kind: str, client: TestClient, engine: Engine
) -> None:
    token = file_report(client, "Nắp cống bị vỡ ở đường 16 tháng 4")
    with unit_of_work(engine) as session:
        reference(session)  # the process holds this database's tables, as it does after its first page
    status_cache.PAGES.clear()
    seen, sent_before = _statements(engine), _pool_sent(client)
    assert client.get(PATHS[kind].format(token)).status_code == 200
    assert _pool_sent(client) - sent_before == 1  # the version, and beside it the tables' fingerprint
    assert not [sql for sql in seen if "ORDER BY code) FROM category)" in sql]  # the render takes it


def test_a_due_copy_is_renewed_by_one_request_while_the_others_get_it_as_it_was(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    copies = list_cache._LocalCopies()
    now = [1000.0]
    monkeypatch.setattr(list_cache.time, "time", lambda: now[0])
    copies.keep("k", 1030.0, b"old")
    assert copies.serve("k") == b"old"  # fresh
    now[0] = 1031.0
    assert copies.serve("k") is None  # due: this request renews it
    assert copies.serve("k") == b"old"  # the others meanwhile get the old copy
    now[0] = 1031.0 + list_cache.RENEW_SECONDS
    assert copies.serve("k") is None  # the renewal took too long: another request tries
    copies.keep("k", 1100.0, b"new")
    copies.done("k")
    assert copies.serve("k") == b"new"
