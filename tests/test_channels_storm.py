"""A replay storm: 1,000 Zalo deliveries sent three times each, interleaved and concurrently, to the real
webhook over HTTP on PostgreSQL, then processed by concurrent workers, make exactly 1,000 messages."""

from __future__ import annotations

import hashlib
import json
import random
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest
from fakes import APP_ID, serve
from sqlalchemy import func, text
from sqlalchemy.engine import Engine
from sqlmodel import select

from channels import service
from channels.models import EventState, InboundEvent
from civicdesk.asgi import create_app
from kernel.db import make_engine, unit_of_work
from kernel.settings import get_settings
from tickets.models import Message, Ticket
from tickets.reference import seed_reference

SECRET = "storm-secret"
DELIVERIES = 1000
USERS = 120


@pytest.fixture
def pg(postgres_url: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[Engine]:
    monkeypatch.setenv("CIVICDESK_ZALO_OA_SECRET_KEY", SECRET)
    monkeypatch.setenv("CIVICDESK_ZALO_APP_ID", APP_ID)
    get_settings.cache_clear()
    engine = make_engine(postgres_url)
    with engine.begin() as conn:
        tables = [
            row[0]
            for row in conn.execute(
                text(
                    "SELECT tablename FROM pg_tables WHERE schemaname='public'"
                    " AND tablename<>'alembic_version'"
                )
            )
        ]
        conn.execute(text("TRUNCATE " + ", ".join(f'"{t}"' for t in tables) + " RESTART IDENTITY CASCADE"))
    with unit_of_work(engine) as session:
        seed_reference(session)
    yield engine
    engine.dispose()
    get_settings.cache_clear()


def delivery(n: int, now_ms: int) -> tuple[bytes, str]:
    body = {
        "app_id": APP_ID,
        "event_name": "user_send_text",
        "timestamp": str(now_ms + n),
        "sender": {"id": f"41000000000{n % USERS:08d}"},
        "recipient": {"id": "2900000000000000001"},
        "message": {"msg_id": f"storm-{n}", "text": f"Rác chưa thu gom ở hẻm {n} Thống Nhất, P. Phủ Hà"},
    }
    raw = json.dumps(body, ensure_ascii=False).encode()
    mac = hashlib.sha256(APP_ID.encode() + raw + body["timestamp"].encode() + SECRET.encode()).hexdigest()
    return raw, f"mac={mac}"


def test_replay_storm_makes_exactly_one_message_per_delivery(pg: Engine) -> None:
    now_ms = int(time.time() * 1000)
    sends = [delivery(n, now_ms) for n in range(DELIVERIES)] * 3
    random.Random(7).shuffle(sends)  # the three copies of each arrive interleaved, in any order
    with serve(create_app(pg)) as base, httpx.Client(base_url=base, timeout=30) as http:

        def post(item: tuple[bytes, str]) -> int:
            return http.post(
                "/webhooks/zalo", content=item[0], headers={"X-ZEvent-Signature": item[1]}
            ).status_code

        with ThreadPoolExecutor(8) as pool:
            statuses = list(pool.map(post, sends))
    assert statuses == [200] * len(sends)
    with unit_of_work(pg) as session:
        ids = session.exec(select(InboundEvent.id)).all()
    assert len(ids) == DELIVERIES

    def process(event_id: int | None) -> None:
        with unit_of_work(pg) as session:
            service.process(session, event_id or 0)

    with ThreadPoolExecutor(4) as pool:  # each event handed out twice, as a redelivered task would be
        list(pool.map(process, [*ids, *ids]))
    with unit_of_work(pg) as session:
        messages = session.exec(
            select(func.count()).select_from(Message).where(Message.channel == "zalo")
        ).one()
        tickets = session.exec(select(func.count()).select_from(Ticket)).one()
        pending = session.exec(
            select(func.count()).select_from(InboundEvent).where(InboundEvent.state != EventState.DONE)
        ).one()
    assert messages == DELIVERIES and pending == 0
    assert tickets == USERS  # each citizen's later messages joined their open ticket
