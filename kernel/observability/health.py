"""Readiness: is each part this web process relies on working? Each part is checked at most once every
``CHECK_SECONDS``, so a load balancer polling every second costs nothing."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

from celery import Celery
from sqlalchemy import text
from sqlalchemy.engine import Engine
from sqlmodel import Session

from kernel.observability import heartbeat
from kernel.settings import Settings

CHECK_SECONDS = 5.0
BROKER_TIMEOUT_SECONDS = 2.0
# Celery's worker heartbeat is kept every 10 s (observability.worker); three missed mean it is gone.
WORKER_STALE_SECONDS = 35.0


@dataclass(frozen=True)
class CheckResult:
    ok: bool
    detail: str


class CachedCheck:
    def __init__(self, check: Callable[[], CheckResult]) -> None:
        self._check = check
        self._lock = threading.Lock()
        self._at = -CHECK_SECONDS
        self._result = CheckResult(False, "not checked yet")

    def __call__(self) -> CheckResult:
        with self._lock:
            if time.monotonic() - self._at >= CHECK_SECONDS:
                try:
                    self._result = self._check()
                except Exception as exc:  # a failing dependency is the answer, not a crash
                    self._result = CheckResult(False, f"{type(exc).__name__}: {exc}"[:300])
                self._at = time.monotonic()
            return self._result


class Readiness:
    def __init__(self, engine: Engine, celery: Celery, settings: Settings) -> None:
        self.engine = engine
        self.celery = celery
        self.settings = settings
        self.checks: dict[str, CachedCheck] = {
            "database": CachedCheck(self._database),
            "broker": CachedCheck(self._broker),
            "worker": CachedCheck(self._worker),
            "beat": CachedCheck(self._beat),
        }
        if settings.ami_configured:
            self.checks["ami"] = CachedCheck(self._ami)

    def run(self) -> dict[str, CheckResult]:
        return {name: check() for name, check in self.checks.items()}

    def _database(self) -> CheckResult:
        with self.engine.connect() as conn:
            conn.execute(text("SELECT 1"))
        return CheckResult(True, "ok")

    def _broker(self) -> CheckResult:
        with self.celery.connection_for_write() as conn:
            conn.ensure_connection(max_retries=1, timeout=BROKER_TIMEOUT_SECONDS)
        return CheckResult(True, "ok")

    def _heartbeats(self) -> dict[str, heartbeat.Heartbeat]:
        with Session(self.engine) as session:
            return heartbeat.read_all(session)

    def _fresh(self, component: str, within: float) -> CheckResult:
        beat = self._heartbeats().get(component)
        if beat is None:
            return CheckResult(False, f"no {component} heartbeat yet")
        if beat.age_seconds > within:
            return CheckResult(
                False, f"last {component} heartbeat {beat.age_seconds:.0f} s ago ({beat.node})"
            )
        return CheckResult(True, f"{beat.age_seconds:.0f} s ago ({beat.node})")

    def _worker(self) -> CheckResult:
        return self._fresh(heartbeat.WORKER, WORKER_STALE_SECONDS)

    def _beat(self) -> CheckResult:
        # proves beat + broker + a worker running tasks; a long backlog on the queue delays it too
        return self._fresh(heartbeat.BEAT, 3 * self.settings.beat_heartbeat_seconds + 10)

    def _ami(self) -> CheckResult:
        beats = self._heartbeats()
        if heartbeat.ami_link_up(beats, self.settings):
            return CheckResult(True, "link up")
        telephony = beats.get(heartbeat.TELEPHONY)
        if telephony is None:
            return CheckResult(False, "the telephony listener never reported")
        return CheckResult(False, f"link {telephony.state}, reported {telephony.age_seconds:.0f} s ago")
