"""Health: ``/health/live`` (the process answers), ``/health/ready`` (what it relies on works), the same two
under ``/api/v1/health/``, and the older ``/api/v1/health`` (database and broker). Every dependency is
checked at most once per ``CHECK_SECONDS`` (``kernel.observability.health``): a load balancer polling
each second costs the database nothing, and a probe never waits on a slow dependency more than once."""

from __future__ import annotations

from typing import Any, Literal

from fastapi import APIRouter, Request, Response
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field
from starlette.types import ASGIApp, Receive, Scope, Send

from kernel.observability.health import CheckResult, Readiness

router = APIRouter(prefix="/api/v1", tags=["health"])
probes = APIRouter(prefix="/health", tags=["health"])


class Liveness(BaseModel):
    """The process answers."""

    status: Literal["ok"] = Field(default="ok", description="always ok: a process that answers is alive")


class CheckOut(BaseModel):
    """One dependency's last check (cached for a few seconds)."""

    ok: bool = Field(description="whether the dependency works", examples=[True])
    detail: str = Field(description="what the check found: ok, or the error's first words", examples=["ok"])


class ReadinessOut(BaseModel):
    """Whether this process can do its work, and which dependency fails if not."""

    status: Literal["ready", "not_ready"] = Field(
        description="ready when every check passes (200), not_ready otherwise (503)", examples=["ready"]
    )
    failing: list[str] = Field(description="the names of the failing checks", examples=[[]])
    checks: dict[str, CheckOut] = Field(
        description="each check by name: database, broker, worker, beat, and ami when telephony is on"
    )


LIVE = Liveness()


@probes.get("/live", response_model=Liveness)
@router.get("/health/live", response_model=Liveness)
async def live() -> Liveness:
    """No I/O, and on the event loop (no hop to the threadpool): answers as long as the process serves
    requests."""
    return LIVE


LIVE_PATHS = frozenset({"/api/v1/health/live", "/health/live"})
LIVE_BODY = LIVE.model_dump_json().encode()
LIVE_HEADERS = [
    (b"content-type", b"application/json"),
    (b"content-length", str(len(LIVE_BODY)).encode()),
    (b"cache-control", b"no-store"),
    (b"x-content-type-options", b"nosniff"),
]


class LivenessShortcut:
    """Answers ``GET /health/live`` (and the ``/api/v1`` one) before the middleware stack and the
    router: a probe polled every second by each load balancer should cost the process what a bare
    endpoint costs (issue 22 asks ≥ 0.5 of one), and the audit, security-header and request-id work
    the other routes need says nothing about whether the process is alive. The routes above stay for
    the OpenAPI document and answer the same body."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["path"] in LIVE_PATHS and scope["method"] in ("GET", "HEAD"):
            await send({"type": "http.response.start", "status": 200, "headers": LIVE_HEADERS})
            body = b"" if scope["method"] == "HEAD" else LIVE_BODY
            await send({"type": "http.response.body", "body": body})
            return
        await self.app(scope, receive, send)


@probes.get("/ready", response_model=ReadinessOut, responses={503: {"model": ReadinessOut}})
@router.get("/health/ready", response_model=ReadinessOut, responses={503: {"model": ReadinessOut}})
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


class HealthOut(BaseModel):
    """The older health answer: the database and the broker only."""

    status: Literal["ok", "degraded"] = Field(
        description="ok when both work (200), degraded otherwise (503)", examples=["ok"]
    )
    database: str = Field(description="ok, or error: and the error's kind", examples=["ok"])
    broker: str = Field(description="ok, or error: and the error's kind", examples=["ok"])


def _state(result: CheckResult) -> str:
    return "ok" if result.ok else f"error: {result.detail.split(':', 1)[0]}"


@router.get("/health", response_model=HealthOut, responses={503: {"model": HealthOut}})
def health(request: Request) -> JSONResponse:
    """Database and broker, from the readiness probe's cached checks."""
    readiness: Readiness = request.app.state.readiness
    state: dict[str, Any] = {
        "database": _state(readiness.checks["database"]()),
        "broker": _state(readiness.checks["broker"]()),
    }
    healthy = all(value == "ok" for value in state.values())
    state["status"] = "ok" if healthy else "degraded"
    return JSONResponse(state, status_code=200 if healthy else 503)
