from __future__ import annotations

import pytest
from sqlalchemy import text
from sqlalchemy.engine import Engine
from sqlalchemy.exc import DBAPIError

from kernel.db import unit_of_work
from kernel.errors import Conflict, Invalid
from tickets import service
from tickets.citizens import PBX, ZALO_FORM, Contact
from tickets.models import Channel, Status
from tickets.service import SYSTEM, NewTicket


def _create(engine: Engine, **kw: object) -> int:
    with unit_of_work(engine) as session:
        draft = NewTicket(
            description=str(kw.pop("description", "Đèn đường hỏng trên đường Thống Nhất")), **kw
        )  # type: ignore[arg-type]
        ticket = service.create_ticket(session, draft)
        assert ticket.id is not None
        return ticket.id


def test_create_gives_code_token_department_and_created_event(engine: Engine) -> None:
    ticket_id = _create(engine, category="street_lighting", ward="phu-ha")
    with unit_of_work(engine) as session:
        ticket = service.get_ticket(session, ticket_id)
        assert ticket.code.startswith("PR-") and ticket.code.endswith("-000001")
        assert len(ticket.tracking_token) >= 32
        assert ticket.department_code == "qldt"
        assert ticket.status == Status.NEW
        assert [e.kind for e in service.timeline(session, ticket_id)] == ["created"]


def test_codes_are_sequential(engine: Engine) -> None:
    codes = []
    for _ in range(3):
        ticket_id = _create(engine)
        with unit_of_work(engine) as session:
            codes.append(service.get_ticket(session, ticket_id).code)
    assert [c[-6:] for c in codes] == ["000001", "000002", "000003"]


def test_one_citizen_across_channels(engine: Engine) -> None:
    zalo = Contact(phone="+84 912 345 678", zalo_id="z1", phone_verified_by=ZALO_FORM)
    a = _create(engine, contact=zalo, channel=Channel.ZALO)
    b = _create(engine, contact=Contact(phone="0912345678", phone_verified_by=PBX), channel=Channel.PHONE)
    typed = _create(engine, contact=Contact(phone="0912345678"), channel=Channel.WEB)  # vouched by no one
    with unit_of_work(engine) as session:
        assert service.get_ticket(session, a).citizen_id == service.get_ticket(session, b).citizen_id
        assert service.get_ticket(session, typed).citizen_id != service.get_ticket(session, a).citizen_id


def test_unknown_category_is_refused_with_the_known_ones(engine: Engine) -> None:
    with pytest.raises(Invalid, match="road_damage"):
        _create(engine, category="potholes")


def test_invalid_transition_names_allowed_ones(engine: Engine) -> None:
    ticket_id = _create(engine)
    with unit_of_work(engine) as session, pytest.raises(Conflict) as refused:
        service.transition(session, ticket_id, Status.RESOLVED, actor=SYSTEM)
    assert "triaged" in refused.value.detail["allowed"]


def test_life_cycle_writes_an_event_per_step(engine: Engine) -> None:
    ticket_id = _create(engine, category="waste_collection")
    with unit_of_work(engine) as session:
        service.transition(session, ticket_id, Status.TRIAGED, actor=SYSTEM)
        service.assign(session, ticket_id, department="tnmt", actor=SYSTEM)
        service.transition(session, ticket_id, Status.IN_PROGRESS, actor=SYSTEM)
        service.transition(session, ticket_id, Status.RESOLVED, actor=SYSTEM)
        service.transition(session, ticket_id, Status.REOPENED, actor=SYSTEM, reason="vẫn còn rác")
    with unit_of_work(engine) as session:
        statuses = [e.data.get("new") for e in service.timeline(session, ticket_id) if "new" in e.data]
        assert statuses == ["triaged", "assigned", "in_progress", "resolved", "reopened"]


def test_timeline_is_append_only(engine: Engine) -> None:
    _create(engine)
    with pytest.raises(DBAPIError), engine.begin() as conn:
        conn.execute(text("UPDATE ticket_event SET note = 'changed'"))
    with pytest.raises(DBAPIError), engine.begin() as conn:
        conn.execute(text("DELETE FROM ticket_event"))


def test_a_redelivered_provider_message_is_stored_once(engine: Engine) -> None:
    from tickets.models import Direction, Message

    def deliver() -> tuple[int | None, bool]:
        with unit_of_work(engine) as session:
            message = Message(
                channel="zalo", direction=Direction.INBOUND, provider_message_id="msg-1", text="alo"
            )
            stored, new = service.record_message(session, message)
            return stored.id, new

    first_id, first_new = deliver()
    second_id, second_new = deliver()
    assert (first_new, second_new) == (True, False)
    assert first_id == second_id
