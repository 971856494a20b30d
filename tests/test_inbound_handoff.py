"""Webhook events go to the workers without the provider waiting for the broker (issue 22): the request
stores them and queues their ids in the process; one thread publishes everything waiting as one message.
A publish that fails loses nothing: the row is stored and pending, and the sweep sends it again."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from datetime import timedelta

import pytest
from fakes import GraphState, ZaloState
from fastapi.testclient import TestClient
from kombu.exceptions import OperationalError
from sqlalchemy import update
from sqlalchemy.engine import Engine
from sqlmodel import col, select
from test_channels import providers, zalo_event, zalo_post

from channels.handoff import LINGER_SECONDS, Handoff
from channels.models import EventState, InboundEvent
from channels.tasks import sweep
from kernel.db import engine_for, unit_of_work
from kernel.settings import get_settings
from kernel.timeutil import utcnow

__all__ = ["providers"]  # the fixture, shared with test_channels


def test_what_waits_goes_out_as_one_message() -> None:
    messages: list[list[int]] = []
    handoff = Handoff(messages.append, most=3)
    handoff._waiting.put(1)  # queued while the thread is busy publishing the previous message
    for event_id in (2, 3, 4):
        handoff._waiting.put(event_id)
    assert handoff.publish_waiting() == [1, 2, 3]  # at most `most` a message
    assert handoff.publish_waiting() == [4]
    assert handoff.publish_waiting() == [] and messages == [[1, 2, 3], [4]]


@pytest.fixture
def default_database(postgres_url: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """The sweep opens its own sessions on the configured database: point it at this test's."""
    monkeypatch.setenv("CIVICDESK_DATABASE_URL", postgres_url)
    get_settings.cache_clear()
    yield
    engine_for(postgres_url).dispose()
    engine_for.cache_clear()
    get_settings.cache_clear()


def test_a_delivery_whose_publish_failed_is_answered_stored_and_sent_by_the_sweep(
    client: TestClient, engine: Engine, providers: tuple[ZaloState, GraphState], default_database: None
) -> None:
    tried = threading.Event()

    def broker_down(event_ids: list[int]) -> None:
        tried.set()
        raise OperationalError("[Errno 111] Connection refused")

    client.app.state.inbound_handoff = Handoff(broker_down)  # type: ignore[attr-defined]
    answer = zalo_post(client, zalo_event("lost-1", "4100000000000000077", "Ống nước vỡ"))
    assert answer.status_code == 200 and answer.json()["stored"] == 1  # acknowledged once stored
    assert tried.wait(30)  # the handoff thread tried, and the broker refused
    with unit_of_work(engine) as session:
        row = session.exec(select(InboundEvent)).one()
        assert (row.state, row.attempts) == (EventState.PENDING, 0)
    assert sweep() == 0  # younger than two minutes: perhaps still on its way
    with unit_of_work(engine) as session:
        earlier = utcnow() - timedelta(minutes=3)
        session.execute(
            update(InboundEvent).where(col(InboundEvent.id) == row.id).values(received_at=earlier)
        )
    assert sweep() == 1  # sent to the workers again


def test_the_thread_lets_a_burst_gather_before_it_publishes() -> None:
    """A publish costs the same CPU for one id as for fifty: the thread waits a moment after the first
    id, and what arrived meanwhile goes in the same message."""
    messages: list[list[int]] = []
    handoff = Handoff(messages.append)
    lingered: list[float] = []

    def deliveries_arrive(seconds: float) -> None:  # two more deliveries stored while the thread waits
        lingered.append(seconds)
        for event_id in (2, 3):
            handoff._waiting.put(event_id)

    handoff._sleep = deliveries_arrive
    handoff._waiting.put(1)
    assert handoff.publish_waiting(block=True) == [1, 2, 3]
    assert messages == [[1, 2, 3]] and lingered == [LINGER_SECONDS]
    assert handoff.publish_waiting() == []  # a call that does not wait for ids does not linger either
    assert lingered == [LINGER_SECONDS]
