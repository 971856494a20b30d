"""A worker killed between claiming a message and recording the provider's answer leaves it `sending`:
the beat sweep puts it back in the queue after the timeout, and gives up once it has had its tries."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta

import pytest
from fakes import GraphState, ZaloState
from fastapi.testclient import TestClient
from sqlalchemy import update
from sqlalchemy.engine import Engine
from sqlmodel import col, select
from test_channels import authorise_zalo, events_of, process_all, providers, send_all, zalo_event, zalo_post

from channels.models import OutboundMessage, OutboxState
from kernel.db import engine_for, unit_of_work
from kernel.settings import get_settings
from kernel.timeutil import utcnow
from notifications import outbox
from notifications.tasks import MAX_ATTEMPTS, sweep_outbox
from tickets.models import EventKind

__all__ = ["providers"]  # the fixture, shared with test_channels


def _receipt_claimed_by_a_worker_that_died(client: TestClient, engine: Engine, minutes_ago: int) -> int:
    authorise_zalo(engine)
    assert (
        zalo_post(client, zalo_event("stuck-1", "4100000000000000088", "Đèn tín hiệu hỏng")).status_code
        == 200
    )
    process_all(engine)
    with unit_of_work(engine) as session:
        outbound = session.exec(select(OutboundMessage)).one()
        assert outbox.claim(session, outbound.id or 0) is not None  # … and the process is killed here
        outbound_id = outbound.id or 0
    with unit_of_work(engine) as session:
        moved = utcnow() - timedelta(minutes=minutes_ago)
        session.execute(
            update(OutboundMessage).where(col(OutboundMessage.id) == outbound_id).values(claimed_at=moved)
        )
    return outbound_id


def _row(engine: Engine, outbound_id: int) -> OutboundMessage:
    with unit_of_work(engine) as session:
        row = session.get(OutboundMessage, outbound_id)
        assert row is not None
        session.expunge(row)
        return row


@pytest.fixture
def default_database(postgres_url: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """The beat task opens its own sessions on the configured database: point it at this test's."""
    monkeypatch.setenv("CIVICDESK_DATABASE_URL", postgres_url)
    get_settings.cache_clear()
    yield
    engine_for(postgres_url).dispose()  # no pooled connection outlives the test
    engine_for.cache_clear()
    get_settings.cache_clear()


def test_a_message_stuck_in_sending_is_reclaimed_by_the_sweep_and_sent(
    client: TestClient, engine: Engine, providers: tuple[ZaloState, GraphState], default_database: None
) -> None:
    zalo, _ = providers
    outbound_id = _receipt_claimed_by_a_worker_that_died(client, engine, minutes_ago=1)
    sweep_outbox()
    assert _row(engine, outbound_id).state == OutboxState.SENDING  # younger than the timeout: left alone
    with unit_of_work(engine) as session:
        session.execute(update(OutboundMessage).values(claimed_at=utcnow() - timedelta(minutes=6)))
    assert sweep_outbox() >= 1
    reclaimed = _row(engine, outbound_id)
    assert reclaimed.state == OutboxState.QUEUED and "reclaimed" in (reclaimed.error or "")
    send_all(engine)
    sent = _row(engine, outbound_id)
    assert sent.state == OutboxState.SENT and sent.attempts == 2
    assert len(zalo.sent) == 1 and "PR-" in zalo.sent[0]["message"]["text"]


def test_a_message_stuck_after_its_last_try_fails_for_good_on_the_timeline(
    client: TestClient, engine: Engine, providers: tuple[ZaloState, GraphState]
) -> None:
    outbound_id = _receipt_claimed_by_a_worker_that_died(client, engine, minutes_ago=30)
    with unit_of_work(engine) as session:
        session.execute(update(OutboundMessage).values(attempts=MAX_ATTEMPTS))
    with unit_of_work(engine) as session:
        again = outbox.reclaim_stuck(session, older_than=timedelta(minutes=5), max_attempts=MAX_ATTEMPTS)
    assert again == []
    failed = _row(engine, outbound_id)
    assert failed.state == OutboxState.FAILED and "gave up" in (failed.error or "")
    with unit_of_work(engine) as session:
        kinds = [e.kind for e in events_of(session, failed.ticket_id or 0)]
        assert EventKind.REPLY_FAILED in kinds
