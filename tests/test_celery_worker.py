"""A real Celery worker process on real brokers (Redis, RabbitMQ) runs a ticket task on PostgreSQL."""

from __future__ import annotations

import os
import subprocess
import sys
import uuid
from collections.abc import Iterator
from datetime import timedelta

import pytest
from celery import Celery
from sqlalchemy import update
from sqlmodel import col, select

from kernel.db import make_engine, unit_of_work
from kernel.timeutil import utcnow
from tickets import service
from tickets.models import OPEN_STATUSES, Status, Ticket
from tickets.reference import seed_reference
from tickets.service import SYSTEM, NewTicket

RABBITMQ = "amqp://guest:guest@127.0.0.1:5672//"


@pytest.fixture(params=["redis", "rabbitmq"])
def worker(request: pytest.FixtureRequest, postgres_url: str, redis_url: str) -> Iterator[tuple[Celery, str]]:
    # "redis" is the embedded Valkey that `civicdesk run` uses, unless CIVICDESK_TEST_REDIS_URL says otherwise
    broker = redis_url if request.param == "redis" else RABBITMQ
    queue = f"test-{uuid.uuid4().hex[:8]}"
    env = {
        **os.environ,
        "CIVICDESK_DATABASE_URL": postgres_url,
        "CIVICDESK_BROKER_URL": broker,
        "CIVICDESK_RESULT_BACKEND": redis_url,
    }
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "celery",
            "-A",
            "civicdesk.celery_app",
            "worker",
            "-Q",
            queue,
            "--pool",
            "solo",
            "-l",
            "warning",
            "--without-heartbeat",
            "--without-gossip",
            "--without-mingle",
            "-n",
            f"{queue}@%h",  # a node name of its own: two workers named alike clash on RabbitMQ
        ],
        env=env,
    )
    producer = Celery("test-producer", broker=broker, backend=redis_url)
    try:
        yield producer, queue
    finally:
        process.terminate()
        process.wait(30)
        producer.close()


def test_worker_closes_undisputed_resolutions(worker: tuple[Celery, str], postgres_url: str) -> None:
    producer, queue = worker
    engine = make_engine(postgres_url)
    with unit_of_work(engine) as session:
        seed_reference(session)  # other tests in this process may have emptied the tables
        old = service.create_ticket(session, NewTicket(description="Rác ở chợ Phan Rang"))
        recent = service.create_ticket(session, NewTicket(description="Đèn hỏng đường Quang Trung"))
        for ticket in (old, recent):
            for status in (Status.TRIAGED, Status.IN_PROGRESS, Status.RESOLVED):
                if status == Status.IN_PROGRESS:
                    service.assign(session, ticket.id or 0, department="qldt", actor=SYSTEM)
                service.transition(session, ticket.id or 0, status, actor=SYSTEM)
        session.execute(
            update(Ticket).where(Ticket.id == old.id).values(resolved_at=utcnow() - timedelta(days=8))  # type: ignore[arg-type]
        )
    result = producer.send_task("tickets.close_undisputed_resolutions", queue=queue)
    closed = result.get(timeout=60)
    assert closed == [old.code]
    with unit_of_work(engine) as session:
        assert service.get_ticket(session, old.id or 0).status == Status.CLOSED
        assert service.get_ticket(session, recent.id or 0).status == Status.RESOLVED
    engine.dispose()


def test_worker_triages_a_new_ticket_once(worker: tuple[Celery, str], postgres_url: str) -> None:
    producer, queue = worker
    engine = make_engine(postgres_url)
    try:
        with unit_of_work(engine) as session:
            seed_reference(session)
            for earlier in session.exec(select(Ticket).where(col(Ticket.status).in_(OPEN_STATUSES))).all():
                earlier.status = Status.CLOSED  # earlier tests' reports must not make this one a duplicate
            ticket = service.create_ticket(
                session, NewTicket(description="Cống thoát nước bị tắc, nước thải tràn ra đường ở P. Đô Vinh")
            )
        first = producer.send_task("routing.triage_ticket", args=[ticket.id], queue=queue).get(timeout=120)
        again = producer.send_task("routing.triage_ticket", args=[ticket.id], queue=queue).get(timeout=120)
        assert first["category"] == "drainage_flooding" and again is None  # a redelivery changes nothing
        with unit_of_work(engine) as session:
            triaged = service.get_ticket(session, ticket.id or 0)
            assert triaged.department_code == "qldt" and triaged.status == Status.ASSIGNED
    finally:
        engine.dispose()
