"""/api/v1/health: is the database answering, is the broker reachable."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from sqlalchemy import text
from sqlalchemy.engine import Engine

from civicdesk.celery_app import celery_app

router = APIRouter(prefix="/api/v1", tags=["health"])


def _database_state(engine: Engine) -> str:
    try:
        with engine.connect() as conn:
            conn.execute(text("SELECT 1"))
        return "ok"
    except Exception as exc:  # any failure is the answer, not a crash
        return f"error: {type(exc).__name__}"


def _broker_state() -> str:
    try:
        with celery_app.connection_for_write() as conn:
            conn.ensure_connection(max_retries=1, timeout=2)
        return "ok"
    except Exception as exc:
        return f"error: {type(exc).__name__}"


@router.get("/health")
def health(request: Request) -> JSONResponse:
    state: dict[str, Any] = {"database": _database_state(request.app.state.engine), "broker": _broker_state()}
    healthy = all(value == "ok" for value in state.values())
    state["status"] = "ok" if healthy else "degraded"
    return JSONResponse(state, status_code=200 if healthy else 503)
