"""Health: ``/health/live`` (the process answers), ``/health/ready`` (what it relies on works), and the
older ``/api/v1/health`` (database and broker)."""

from __future__ import annotations

from typing import Any, Literal

from fastapi import APIRouter, Request, Response
from fastapi.responses import JSONResponse
from pydantic import BaseModel
from sqlalchemy import text
from sqlalchemy.engine import Engine

from civicdesk.celery_app import celery_app
from civicdesk.observability.health import Readiness

router = APIRouter(prefix="/api/v1", tags=["health"])
probes = APIRouter(prefix="/health", tags=["health"])


class Liveness(BaseModel):
    status: Literal["ok"] = "ok"


class CheckOut(BaseModel):
    ok: bool
    detail: str


class ReadinessOut(BaseModel):
    status: Literal["ready", "not_ready"]
    failing: list[str]
    checks: dict[str, CheckOut]


@probes.get("/live", response_model=Liveness)
def live() -> Liveness:
    """No I/O: answers as long as the process serves requests."""
    return Liveness()


@probes.get("/ready", response_model=ReadinessOut, responses={503: {"model": ReadinessOut}})
def ready(request: Request, response: Response) -> ReadinessOut:
    """Database, broker, worker and beat heartbeats, and the AMI link when telephony is configured.
    503 names the failing parts."""
    readiness: Readiness = request.app.state.readiness
    results = readiness.run()
    failing = [name for name, result in results.items() if not result.ok]
    response.status_code = 503 if failing else 200
    return ReadinessOut(
        status="not_ready" if failing else "ready",
        failing=failing,
        checks={name: CheckOut(ok=result.ok, detail=result.detail) for name, result in results.items()},
    )


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
