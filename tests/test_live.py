"""The live-event log: rows a reader sees only once committed, per topic, in order; purged after an hour.
The NOTIFY side is tested end to end in test_live_stream.py."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import Session

from kernel import live
from kernel.db import unit_of_work
from kernel.timeutil import utcnow

pytestmark = pytest.mark.parametrize("engine", ["postgresql"], indirect=True)


def test_only_committed_events_are_read_in_order_per_topic(engine: Engine) -> None:
    with unit_of_work(engine) as session:
        start = live.latest_id(session)
    with Session(engine) as producer:
        live.publish(producer, live.agent_topic(7), "screen_pop", {"caller": "rolled back"})
        producer.flush()
        producer.rollback()
    with unit_of_work(engine) as session:
        live.publish(session, live.agent_topic(7), "screen_pop", {"caller": "090"})
    with unit_of_work(engine) as session:
        live.publish(session, "queue", "queue_changed", {"waiting": 2})
        live.publish(session, live.agent_topic(8), "screen_pop", {"caller": "091"})
    with unit_of_work(engine) as session:
        mine = live.read_since(session, [live.agent_topic(7), "queue"], start)
        assert [(e.kind, e.payload) for e in mine] == [
            ("screen_pop", {"caller": "090"}),
            ("queue_changed", {"waiting": 2}),
        ]
        assert live.read_since(session, ["queue"], mine[-1].id or 0) == []


def test_purge_keeps_the_last_hour(engine: Engine) -> None:
    with unit_of_work(engine) as session:
        live.publish(session, "queue", "old", {})
        session.flush()
        session.add(live.LiveEvent(topic="queue", kind="older", created_at=utcnow() - timedelta(hours=2)))
    with unit_of_work(engine) as session:
        assert live.purge(session) == 1
    with unit_of_work(engine) as session:
        assert [e.kind for e in live.read_since(session, ["queue"], 0)] == ["old"]


def test_every_topic_can_be_read_at_once(engine: Engine) -> None:
    with unit_of_work(engine) as session:
        live.publish(session, "queue", "queue_changed", {})
        live.publish(session, live.agent_topic(3), "screen_pop", {})
    with unit_of_work(engine) as session:
        assert [e.topic for e in live.read_since(session, None, 0)] == ["queue", "agent:3"]
