"""A real Celery worker with its beat, on real brokers and PostgreSQL, notices an SLA breach and escalates.
The time is injected (the report was received ten days ago), never slept through."""

from __future__ import annotations

import os
import subprocess
import sys
import time
import uuid
from datetime import timedelta
from pathlib import Path

import pytest
from sqlmodel import col, select

from kernel.db import make_engine, unit_of_work
from kernel.timeutil import utcnow
from sla.models import ClockKind, ClockState, SlaClock
from tickets import service
from tickets.models import OPEN_STATUSES, EventKind, Priority, Status, Ticket, TicketEvent
from tickets.reference import seed_reference
from tickets.service import NewTicket

RABBITMQ = "amqp://guest:guest@127.0.0.1:5672//"


@pytest.mark.parametrize("broker", ["rabbitmq", "redis"])
def test_beat_and_worker_turn_a_breach_into_an_escalation(
    broker: str, postgres_url: str, redis_url: str, tmp_path: Path
) -> None:
    engine = make_engine(postgres_url)
    with unit_of_work(engine) as session:
        seed_reference(session)
        for earlier in session.exec(select(Ticket).where(col(Ticket.status).in_(OPEN_STATUSES))).all():
            earlier.status = Status.CLOSED  # earlier tests' reports must not be escalated or make duplicates
        ticket = service.create_ticket(
            session,
            NewTicket(
                description="Đèn đường tắt",
                category="street_lighting",
                created_at=utcnow() - timedelta(days=10),
            ),
        )
        ticket_id = ticket.id
    env = {
        **os.environ,
        "CIVICDESK_DATABASE_URL": postgres_url,
        "CIVICDESK_BROKER_URL": redis_url if broker == "redis" else RABBITMQ,
        "CIVICDESK_RESULT_BACKEND": redis_url,
        "CIVICDESK_TASK_QUEUE": f"test-sla-{uuid.uuid4().hex[:8]}",
        "CIVICDESK_SLA_SCAN_SECONDS": "1",
        "CIVICDESK_VAR_DIR": str(tmp_path),
    }
    argv = [
        sys.executable,
        "-m",
        "celery",
        "-A",
        "civicdesk.celery_app",
        "worker",
        "-B",
        "--pool",
        "solo",
        "-l",
        "warning",
        "--without-heartbeat",
        "--without-gossip",
        "--without-mingle",
        "-n",
        f"{env['CIVICDESK_TASK_QUEUE']}@%h",  # a node name of its own: alike names clash on RabbitMQ
    ]
    worker = subprocess.Popen(argv, env=env)  # noqa: S603 - our own interpreter
    try:
        escalated = _wait_for_escalation(engine, ticket_id or 0, give_up_after=90)
    finally:
        worker.terminate()
        worker.wait(30)
    assert escalated, "the worker and beat did not escalate the overdue ticket"
    with unit_of_work(engine) as session:
        ticket = session.get(Ticket, ticket_id)
        # normal → high for the missed response, → urgent for the missed resolution
        assert ticket is not None and ticket.city_level and ticket.priority == Priority.URGENT
        clock = session.exec(
            select(SlaClock).where(SlaClock.ticket_id == ticket_id, SlaClock.kind == ClockKind.RESOLUTION)
        ).one()
        assert clock.state == ClockState.BREACHED
        breaches = session.exec(
            select(TicketEvent).where(
                TicketEvent.ticket_id == ticket_id, TicketEvent.kind == EventKind.SLA_BREACH
            )
        ).all()
        assert len(breaches) == 2  # response and resolution, each once however many ticks ran
    engine.dispose()


def _wait_for_escalation(engine: object, ticket_id: int, give_up_after: float) -> bool:
    deadline = time.monotonic() + give_up_after
    while time.monotonic() < deadline:
        with unit_of_work(engine) as session:  # type: ignore[arg-type]
            found = session.exec(
                select(TicketEvent).where(
                    TicketEvent.ticket_id == ticket_id, TicketEvent.kind == EventKind.ESCALATED
                )
            ).first()
        if found is not None:
            time.sleep(3)  # let a few more ticks pass: they must not escalate twice
            return True
        time.sleep(0.5)
    return False
