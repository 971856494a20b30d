"""SLA clocks on real tickets: start, pause while waiting for the citizen, response met by a person,
resolution, reopen, re-route, reclassification, the scan's warnings and breaches, and what the API shows."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta

import pytest
from click.testing import CliRunner
from fastapi.testclient import TestClient
from sqlalchemy import text
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from civicdesk import cli
from kernel.db import engine_for, unit_of_work
from kernel.settings import get_settings
from sla import service as sla
from sla.models import ClockKind, ClockState, Notification, SlaClock
from sla.state import citizen_deadline_sql
from tickets import service
from tickets.models import EventKind, Status, Ticket, TicketEvent
from tickets.service import CITIZEN, SYSTEM, Actor, NewTicket
from tickets.staff import create_user

Headers = Callable[..., dict[str, str]]



def deadline_in_sql(session: Session, ticket_id: int) -> datetime | None:
    """The deadline as the status page reads it (``sla.state.citizen_deadline_sql``)."""
    statement = text(f"SELECT {citizen_deadline_sql()} FROM ticket WHERE ticket.id = :id")  # noqa: S608
    due: datetime | None = session.execute(statement, {"id": ticket_id}).scalar()
    return due

def clocks(session: Session, ticket_id: int) -> dict[tuple[str, int], SlaClock]:
    rows = session.exec(select(SlaClock).where(SlaClock.ticket_id == ticket_id)).all()
    return {(row.kind, row.cycle): row for row in rows}


def new_ticket(session: Session, category: str = "street_lighting", **kw: str) -> Ticket:
    return service.create_ticket(session, NewTicket(description="Đèn đường hỏng", category=category, **kw))


def test_clocks_start_with_the_ticket_from_its_targets(engine: Engine) -> None:
    with unit_of_work(engine) as session:
        ticket = new_ticket(session)  # street lighting: normal priority, 1 day to respond, 5 to resolve
        calendar = sla.calendar_for(session)
        found = clocks(session, ticket.id or 0)
        assert found[(ClockKind.RESPONSE, 1)].due_at == calendar.add(ticket.created_at, 480)
        assert found[(ClockKind.RESOLUTION, 1)].due_at == calendar.add(ticket.created_at, 5 * 480)
        assert found[(ClockKind.RESOLUTION, 1)].warn_at == calendar.add(ticket.created_at, 0.75 * 5 * 480)
        urgent = new_ticket(session, category="security")
        resolution = clocks(session, urgent.id or 0)[(ClockKind.RESOLUTION, 1)]
        assert resolution.due_at == calendar.add(urgent.created_at, 4 * 60)


def test_a_person_meets_the_response_target_the_system_does_not(engine: Engine) -> None:
    with unit_of_work(engine) as session:
        ticket = new_ticket(session)
        service.transition(session, ticket.id or 0, Status.TRIAGED, actor=SYSTEM)
        assert clocks(session, ticket.id or 0)[(ClockKind.RESPONSE, 1)].state == ClockState.RUNNING
        officer = create_user(
            session, username="qldt1", password="secret-pass", role="department_staff", department="qldt"
        )
        service.add_comment(
            session, ticket.id or 0, text="Đã tiếp nhận", public=True, actor=Actor.staff(officer)
        )
        response = clocks(session, ticket.id or 0)[(ClockKind.RESPONSE, 1)]
        assert response.state == ClockState.MET and response.met_at is not None


def test_waiting_for_the_citizen_pauses_and_a_reply_resumes(engine: Engine) -> None:
    with unit_of_work(engine) as session:
        ticket = new_ticket(session)
        calendar = sla.calendar_for(session)
        start = ticket.created_at
        # injected times: two working hours pass, then the clock waits three working days
        two_hours_later = calendar.add(start, 120)
        sla.pause(session, ticket, now=two_hours_later)
        paused = clocks(session, ticket.id or 0)[(ClockKind.RESOLUTION, 1)]
        assert paused.state == ClockState.PAUSED and paused.due_at is None
        assert paused.consumed_minutes == pytest.approx(120)
        resumed_at = calendar.add(two_hours_later, 3 * 480)
        sla.resume(session, ticket, now=resumed_at)
        assert paused.state == ClockState.RUNNING
        assert paused.due_at == calendar.add(resumed_at, 5 * 480 - 120)


def test_status_moves_drive_the_clocks(engine: Engine) -> None:
    with unit_of_work(engine) as session:
        ticket = new_ticket(session)
        tid = ticket.id or 0
        for status in (Status.TRIAGED,):
            service.transition(session, tid, status, actor=SYSTEM)
        service.assign(session, tid, department="qldt", actor=SYSTEM)
        due_before = clocks(session, tid)[(ClockKind.RESOLUTION, 1)].due_at
        service.assign(session, tid, department="tnmt", actor=SYSTEM, reason="sai đơn vị")  # a re-route
        assert clocks(session, tid)[(ClockKind.RESOLUTION, 1)].due_at == due_before
        service.transition(session, tid, Status.IN_PROGRESS, actor=SYSTEM)
        service.transition(session, tid, Status.WAITING_CITIZEN, actor=SYSTEM, reason="xin địa chỉ cụ thể")
        assert clocks(session, tid)[(ClockKind.RESOLUTION, 1)].state == ClockState.PAUSED
        service.transition(session, tid, Status.IN_PROGRESS, actor=SYSTEM)
        assert clocks(session, tid)[(ClockKind.RESOLUTION, 1)].state == ClockState.RUNNING
        service.transition(session, tid, Status.RESOLVED, actor=SYSTEM)
        first = clocks(session, tid)[(ClockKind.RESOLUTION, 1)]
        assert first.state == ClockState.MET and first.due_at is None
        assert sla.view(session, ticket).resolution_due_at is None
        assert deadline_in_sql(session, tid) is None
        service.transition(session, tid, Status.REOPENED, actor=CITIZEN, reason="vẫn hỏng")
        second = clocks(session, tid)[(ClockKind.RESOLUTION, 2)]
        assert second.state == ClockState.RUNNING and first.state == ClockState.MET
        assert second.due_at == sla.calendar_for(session).add(second.started_at, 5 * 480)
        assert sla.view(session, ticket).resolution_due_at == second.due_at
        assert deadline_in_sql(session, tid) == second.due_at  # the status page's expression agrees


def test_reclassification_retargets_and_a_legal_process_stops_the_clock(engine: Engine) -> None:
    with unit_of_work(engine) as session:
        ticket = new_ticket(session, category="other")  # low: 10 working days
        tid = ticket.id or 0
        service.update_ticket(session, tid, {"category_code": "road_damage"}, actor=SYSTEM)  # high: 3 days
        resolution = clocks(session, tid)[(ClockKind.RESOLUTION, 1)]
        assert resolution.due_at == sla.calendar_for(session).add(ticket.created_at, 3 * 480)
        service.update_ticket(session, tid, {"legal_process": True}, actor=SYSTEM)
        assert (
            resolution.state == ClockState.CANCELLED and sla.view(session, ticket).resolution_due_at is None
        )
        complaint = service.create_ticket(session, NewTicket(description="Tố cáo cán bộ", category="land"))
        complaint.legal_process = True
        assert sla.view(session, complaint).out_of_sla is False  # clocks were started before the flag


def test_the_scan_warns_then_breaches_and_escalates_once(engine: Engine) -> None:
    with unit_of_work(engine) as session:
        head = create_user(
            session, username="head", password="secret-pass", role="department_staff", department="qldt"
        )
        head.is_head = True
        supervisor = create_user(session, username="sup", password="secret-pass", role="supervisor")
        officer = create_user(
            session, username="off", password="secret-pass", role="department_staff", department="qldt"
        )
        ticket = new_ticket(session)
        tid = ticket.id or 0
        service.transition(session, tid, Status.TRIAGED, actor=SYSTEM)
        service.assign(session, tid, department="qldt", assignee_id=officer.id, actor=SYSTEM)
        service.add_comment(session, tid, text="Đã nhận", public=False, actor=Actor.staff(officer))
        resolution = clocks(session, tid)[(ClockKind.RESOLUTION, 1)]
        warn_at, due_at = resolution.warn_at, resolution.due_at
        assert warn_at is not None and due_at is not None
        ids = (head.id, supervisor.id, officer.id)

    with unit_of_work(engine) as session:
        assert sla.scan(session, now=warn_at - timedelta(seconds=1)).warned == 0
    with unit_of_work(engine) as session:
        assert sla.scan(session, now=warn_at).warned >= 1
    with unit_of_work(engine) as session:
        assert sla.scan(session, now=warn_at).warned == 0  # once only
        notes = session.exec(select(Notification).where(Notification.kind == "sla_warning")).all()
        assert {n.user_id for n in notes} == {ids[2]}  # the assignee hears first

    with unit_of_work(engine) as session:
        result = sla.scan(session, now=due_at + timedelta(seconds=30))
        assert result.breached >= 1
    with unit_of_work(engine) as session:
        again = sla.scan(session, now=due_at + timedelta(minutes=5))
        assert again.breached == 0
        ticket = session.get(Ticket, tid)
        assert ticket is not None and ticket.city_level and ticket.priority == "high"
        kinds = [e.kind for e in session.exec(select(TicketEvent).where(TicketEvent.ticket_id == tid)).all()]
        assert kinds.count(EventKind.SLA_BREACH) >= 1 and EventKind.ESCALATED in kinds
        breach_notes = session.exec(select(Notification).where(Notification.kind == "sla_breach")).all()
        assert {n.user_id for n in breach_notes} == {ids[0], ids[1]}  # the head and the supervisors
        service.transition(session, tid, Status.IN_PROGRESS, actor=SYSTEM)
        service.transition(session, tid, Status.RESOLVED, actor=SYSTEM)
        late = clocks(session, tid)[(ClockKind.RESOLUTION, 1)]
        assert late.state == ClockState.BREACHED and late.met_at is not None
        rows = sla.compliance(session, "department", due_at - timedelta(days=30), due_at + timedelta(days=30))
        qldt = next(row for row in rows if row.key == "qldt")
        assert qldt.breached == 1 and qldt.rate == 0


def test_the_scan_reads_only_what_is_due(engine: Engine) -> None:
    with unit_of_work(engine) as session:
        for _ in range(5):
            new_ticket(session)
        far = session.exec(select(SlaClock).order_by(col(SlaClock.due_at))).first()
        assert far is not None and far.due_at is not None
        before = far.due_at - timedelta(minutes=1)
    with unit_of_work(engine) as session:
        result = sla.scan(session, now=before - timedelta(days=30))
        assert (result.warned, result.breached) == (0, 0)


def test_api_shows_deadline_compliance_and_lets_admins_edit(
    client: TestClient, engine: Engine, make_user: Headers, admin: dict[str, str]
) -> None:
    created = client.post(
        "/api/v1/tickets", json={"description": "Ổ gà", "category": "road_damage"}, headers=admin
    ).json()
    assert created["sla"]["resolution_due_at"] and not created["sla"]["out_of_sla"]
    agent = make_user("agent")
    assert (
        client.put(
            "/api/v1/sla/calendar/exceptions", json={"day": "2026-12-28", "kind": "day_off"}, headers=agent
        ).status_code
        == 403
    )
    put = client.put(
        "/api/v1/sla/calendar/exceptions",
        json={"day": "2026-12-28", "kind": "day_off", "note": "nghỉ bù"},
        headers=admin,
    )
    assert put.status_code == 200
    year = client.get("/api/v1/sla/calendar?year=2026", headers=agent).json()
    assert "2026-12-28" in year["days_off_on_weekdays"]
    assert year["working_days_on_weekends"] == ["2026-08-22"]  # the package's make-up Saturday
    assert (
        client.put(
            "/api/v1/sla/calendar/exceptions", json={"day": "2026-12-28", "kind": "holiday"}, headers=admin
        ).status_code
        == 422
    )
    policy = client.put(
        "/api/v1/sla/policies/category/road_damage",
        json={"resolution": {"amount": 2, "unit": "days"}},
        headers=admin,
    )
    assert policy.status_code == 200
    due = client.get(
        "/api/v1/sla/due",
        params={"from": "2026-12-24T09:00:00+07:00", "priority": "high", "category": "road_damage"},
        headers=admin,
    ).json()
    # 24/12 Thursday 09:00 + 2 working days, the 28th off: Tuesday 29/12 09:00
    assert due["due_at"] == "2026-12-29T02:00:00+00:00"
    assert (
        client.put(
            "/api/v1/sla/policies/category/nope",
            json={"resolution": {"amount": 2, "unit": "days"}},
            headers=admin,
        ).status_code
        == 422
    )
    assert client.get("/api/v1/sla/compliance?by=department", headers=agent).status_code == 403
    assert client.get("/api/v1/sla/compliance?by=department", headers=admin).status_code == 200
    assert client.get("/api/v1/sla/compliance?by=colour", headers=admin).status_code == 422
    assert client.delete("/api/v1/sla/calendar/exceptions/2026-12-28", headers=admin).status_code == 204
    assert client.delete("/api/v1/sla/calendar/exceptions/2026-12-28", headers=admin).status_code == 404


def test_status_page_shows_the_deadline(client: TestClient, engine: Engine) -> None:
    with unit_of_work(engine) as session:
        ticket = new_ticket(session)
        token = ticket.tracking_token
        due: datetime | None = sla.view(session, ticket).resolution_due_at
    page = client.get(f"/t/{token}").text
    assert due is not None and 'data-testid="deadline"' in page
    public = client.get(f"/api/v1/public/reports/{token}").json()
    assert public["due_at"] == due.isoformat().replace("+00:00", "Z") or public["due_at"].startswith(
        due.isoformat()[:16]
    )


def test_an_announced_day_off_moves_the_deadlines_that_cross_it(engine: Engine) -> None:
    with unit_of_work(engine) as session:
        ticket = new_ticket(session)  # normal: five working days to resolve
        before = sla.calendar_for(session)
        resolution = clocks(session, ticket.id or 0)[(ClockKind.RESOLUTION, 1)]
        old_due = resolution.due_at
        assert old_due is not None
        # the government announces a day off on a working day inside the five days
        inside = next(d for d in before.working_days(old_due.date() - timedelta(days=3), old_due.date()))
        sla.add_exception(session, inside, "day_off", "nghỉ bù")
        after = sla.calendar_for(session)
        assert not after.is_working_day(inside)
        assert resolution.due_at == after.add(ticket.created_at, 5 * 480)
        assert resolution.due_at is not None and resolution.due_at > old_due
        assert after.minutes_between(ticket.created_at, resolution.due_at) == pytest.approx(5 * 480)
        # a day off long after every deadline changes nothing; taking the first one back restores it
        far = old_due.date() + timedelta(days=400)
        moved = resolution.due_at
        sla.add_exception(session, far, "day_off")
        assert resolution.due_at == moved
        sla.remove_exception(session, inside)
        assert resolution.due_at == old_due


def test_the_reschedule_command_brings_stale_deadlines_to_the_calendar_in_force(
    engine: Engine, postgres_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """After upgrading `holidays` (new swaps announced), running deadlines computed before are moved."""
    with unit_of_work(engine) as session:
        ticket = new_ticket(session)
        resolution = clocks(session, ticket.id or 0)[(ClockKind.RESOLUTION, 1)]
        assert resolution.due_at is not None
        right, resolution_id = resolution.due_at, resolution.id
        resolution.due_at = right + timedelta(days=1)  # as an older calendar would have put it
    monkeypatch.setenv("CIVICDESK_DATABASE_URL", postgres_url)
    get_settings.cache_clear()
    try:
        runner = CliRunner()
        bad = runner.invoke(cli.main, ["sla", "reschedule", "--from", "tomorrow"])
        assert bad.exit_code == 2 and "2026-08-21" in bad.output
        done = runner.invoke(cli.main, ["sla", "reschedule", "--from", right.date().isoformat()])
        assert done.exit_code == 0, done.output
    finally:
        get_settings.cache_clear()
        engine_for(postgres_url).dispose()
        engine_for.cache_clear()
    with unit_of_work(engine) as session:
        stale = session.get(SlaClock, resolution_id)
        assert stale is not None and stale.due_at == right
