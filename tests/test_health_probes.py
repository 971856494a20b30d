"""The health probes under /api/v1/health (issue 22): liveness touches nothing, readiness and the older
/api/v1/health check their dependencies at most once per window, whoever polls them."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.engine import Engine
from test_query_counts import counted

from kernel.observability import health as readiness_checks


def test_liveness_does_no_io(engine: Engine, client: TestClient) -> None:
    for path in ("/api/v1/health/live", "/health/live"):
        with counted(engine) as statements:
            answers = [client.get(path) for _ in range(3)]
        assert statements == []
        assert all(a.status_code == 200 and a.json() == {"status": "ok"} for a in answers)


def test_readiness_under_the_api_names_what_fails(client: TestClient) -> None:
    answer = client.get("/api/v1/health/ready")
    body = answer.json()
    assert answer.status_code == 503 and body["status"] == "not_ready"  # no worker runs in this test
    assert {"worker", "beat"} <= set(body["failing"])
    assert body["checks"]["database"] == {"ok": True, "detail": "ok"}
    assert body == client.get("/health/ready").json()


def test_dependencies_are_checked_once_per_window_however_often_polled(
    engine: Engine, client: TestClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    with counted(engine) as first:
        assert client.get("/api/v1/health").json() == {"database": "ok", "broker": "ok", "status": "ok"}
        client.get("/api/v1/health/ready")
    assert first  # the database was asked (SELECT 1, the heartbeats)
    monkeypatch.setattr(readiness_checks, "CHECK_SECONDS", 3600.0)  # the rest of the test is one window
    with counted(engine) as later:
        for _ in range(5):
            assert client.get("/api/v1/health").status_code == 200
            assert client.get("/api/v1/health/ready").json()["checks"]["database"]["ok"]
    assert later == []


def test_liveness_is_answered_before_the_application_runs() -> None:
    """The shortcut answers the probe itself, so a stack that fails (or is slow) behind it does not
    matter to it; every other path goes to the application."""
    import asyncio

    from web.api.health import LivenessShortcut

    async def failing_app(scope: Any, receive: Any, send: Any) -> None:
        raise RuntimeError("the application was reached")

    sent: list[dict[str, Any]] = []

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": b""}

    shortcut = LivenessShortcut(failing_app)
    for method in ("GET", "HEAD"):
        asyncio.run(shortcut({"type": "http", "path": "/health/live", "method": method}, receive, send))
    assert [m.get("status") for m in sent if m["type"] == "http.response.start"] == [200, 200]
    assert [m["body"] for m in sent if m["type"] == "http.response.body"] == [b'{"status":"ok"}', b""]
    with pytest.raises(RuntimeError):
        asyncio.run(shortcut({"type": "http", "path": "/health/ready", "method": "GET"}, receive, send))
    with pytest.raises(RuntimeError):
        asyncio.run(shortcut({"type": "http", "path": "/health/live", "method": "POST"}, receive, send))
