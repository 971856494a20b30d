"""What one triage costs the database: routing rules and names come from the process (reloaded when an
administrator changes a rule), and the number of statements does not grow with the open tickets."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import event
from sqlalchemy.engine import Engine
from sqlmodel import Session

from kernel.db import unit_of_work
from kernel.timeutil import utcnow
from routing import triage
from tickets import service
from tickets.service import NewTicket

POTHOLE = "Ổ gà lớn trước số 45 đường Thống Nhất phường Phủ Hà, xe máy dễ té"


@contextmanager
def statements(engine: Engine) -> Iterator[list[str]]:
    seen: list[str] = []

    def keep(_conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        seen.append(statement)

    event.listen(engine, "before_cursor_execute", keep)
    try:
        yield seen
    finally:
        event.remove(engine, "before_cursor_execute", keep)


def test_an_admins_rule_change_reaches_the_next_triage_in_the_same_process(
    client: TestClient, admin: dict[str, str], engine: Engine
) -> None:
    with unit_of_work(engine) as session:
        before = triage.decide(session, POTHOLE)  # the rules are now held in this process
    assert before.department != "ttdt" and before.category is not None
    body = {"position": 1, "name": "ổ gà", "keywords": ["o ga"], "department": "ttdt", "priority": "urgent"}
    created = client.post("/api/v1/routing/rules", json=body, headers=admin)
    assert created.status_code == 201
    with unit_of_work(engine) as session:
        ruled = triage.decide(session, POTHOLE)
    assert (ruled.department, ruled.priority) == ("ttdt", "urgent")
    assert "rule 1 (ổ gà)" in ruled.reasons
    rule_id = created.json()["id"]
    moved = client.put(f"/api/v1/routing/rules/{rule_id}", json={**body, "department": "tnmt"}, headers=admin)
    assert moved.status_code == 200
    with unit_of_work(engine) as session:
        assert triage.decide(session, POTHOLE).department == "tnmt"
    assert client.delete(f"/api/v1/routing/rules/{rule_id}", headers=admin).status_code == 204
    with unit_of_work(engine) as session:
        after = triage.decide(session, POTHOLE)
    assert (after.department, after.priority) == (before.department, before.priority)


def _open(session: Session, count: int, category: str, ward: str) -> None:
    for index in range(count):
        service.create_ticket(
            session,
            NewTicket(
                description=f"Đèn đường hỏng số {index} ngõ {index + 3}",
                category=category,
                ward=ward,
                created_at=utcnow() - timedelta(hours=index % 48),
            ),
        )


def _one_triage(engine: Engine) -> list[str]:
    with unit_of_work(engine) as session, statements(engine) as seen:
        decision = triage.decide(session, POTHOLE)
        assert decision.ward is not None
    return seen


def test_one_triage_costs_the_same_few_statements_however_many_tickets_are_open(engine: Engine) -> None:
    with unit_of_work(engine) as session:
        first = triage.decide(session, POTHOLE)
    assert first.category is not None and first.ward is not None
    with unit_of_work(engine) as session:
        _open(session, 3, first.category, first.ward)
    _one_triage(engine)  # the process reads the rules and reference tables again after the change
    few = _one_triage(engine)
    with unit_of_work(engine) as session:
        _open(session, 60, first.category, first.ward)
    _one_triage(engine)
    many = _one_triage(engine)
    assert len(many) == len(few)
    # the fingerprint, the duplicate look-up and the transaction's own: no per-report read of the rules
    assert not any("FROM routing_rule" in s and "md5" not in s for s in many)
    assert not any("FROM category" in s and "md5" not in s for s in many)
    assert sum("FROM ticket" in s for s in many) == 1
