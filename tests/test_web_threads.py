"""CIVICDESK_WEB_THREADS sets the size of each web worker's thread pool (the routes' blocking work)."""

from __future__ import annotations

import pytest
from anyio import to_thread
from fastapi.testclient import TestClient
from sqlalchemy.engine import Engine

from civicdesk.asgi import create_app
from kernel.settings import get_settings


def _pool_size(client: TestClient) -> float:
    assert client.portal is not None
    return client.portal.call(lambda: to_thread.current_default_thread_limiter().total_tokens)


def test_the_web_worker_runs_as_many_threads_as_configured(
    engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CIVICDESK_WEB_THREADS", "3")
    get_settings.cache_clear()
    try:
        with TestClient(create_app(engine)) as client:
            assert _pool_size(client) == 3
            assert client.get("/api/v1/public/reports").status_code == 200  # still answers
    finally:
        monkeypatch.undo()
        get_settings.cache_clear()
