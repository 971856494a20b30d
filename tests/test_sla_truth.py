"""One SLA truth: breached, at-risk, on-time and paused tickets read the same in the worklist (order and
labels), the ticket page, the SLA board, the IOC wall's on-time figure and the API; the head of a unit,
set by an administrator (audited), is the one told about a breach."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from datetime import timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import update
from sqlalchemy.engine import Engine
from sqlmodel import select
from staff_signin import sign_in

from ioc import service as ioc
from kernel.db import unit_of_work
from kernel.timeutil import utcnow
from sla import boards
from sla import service as sla
from sla import state as sla_state
from sla.models import ClockKind, Notification, SlaClock
from tickets import audit, service
from tickets.models import OPEN_STATUSES, Status, Ticket
from tickets.service import SYSTEM, NewTicket
from tickets.staff import Role, User, create_user

PASSWORD = "secret-pass"
Headers = Callable[..., dict[str, str]]
STANDINGS = ("on_track", "breached", "paused", "at_risk", "scanned")


def _resolution(engine: Engine, ticket_id: int, **values: object) -> None:
    with unit_of_work(engine) as session:
        session.execute(
            update(SlaClock)
            .where(SlaClock.ticket_id == ticket_id, SlaClock.kind == ClockKind.RESOLUTION)  # type: ignore[arg-type]
            .values(**values)
        )


@pytest.fixture
def standings(engine: Engine) -> dict[str, int]:
    """Street-lighting tickets of qldt, one per standing: {standing: ticket id}."""
    with unit_of_work(engine) as session:
        create_user(session, username="qldt1", password=PASSWORD, role="department_staff", department="qldt")
        made = {
            name: service.create_ticket(
                session, NewTicket(description=f"Đèn đường hỏng ({name})", category="street_lighting")
            ).id
            or 0
            for name in STANDINGS
        }
        service.transition(session, made["paused"], Status.WAITING_CITIZEN, actor=SYSTEM, reason="Số cột?")
    past = utcnow() - timedelta(days=3, hours=2)
    _resolution(engine, made["breached"], due_at=past)
    _resolution(engine, made["scanned"], due_at=utcnow() - timedelta(hours=5))
    with unit_of_work(engine) as session:
        assert sla.scan(session).breached == 2  # both now "breached" clocks; the ticket stays breached
    _resolution(engine, made["at_risk"], warn_at=utcnow() - timedelta(minutes=1))
    return made


def test_every_view_tells_the_same_sla_story(
    engine: Engine, client: TestClient, standings: dict[str, int], admin: dict[str, str]
) -> None:
    api = {
        name: client.get(f"/api/v1/tickets/{tid}", headers=admin).json()["sla"]
        for name, tid in standings.items()
    }
    assert {name: view["urgency"] for name, view in api.items()} == {
        "on_track": "on_track",
        "breached": "breached",
        "scanned": "breached",
        "paused": "paused",
        "at_risk": "at_risk",
    }
    assert api["breached"]["breached"] and api["breached"]["label"] == "quá hạn 3 ngày"
    assert api["scanned"]["label"] == "quá hạn 5 giờ" and 299 <= api["scanned"]["overdue_minutes"] <= 301
    assert api["paused"]["label"].startswith("tạm dừng") and not api["on_track"]["breached"]
    assert api["at_risk"]["label"].startswith("sắp đến hạn, còn")
    listed = client.get("/api/v1/tickets", headers=admin).json()["items"]
    assert {i["id"]: i["sla_urgency"] for i in listed} == {
        tid: api[name]["urgency"] for name, tid in standings.items()
    }

    # the worklist: breached first (the longest overdue first), then at risk, on track, paused
    with unit_of_work(engine) as session:
        viewer = session.exec(select(User).where(User.username == "qldt1")).one()
        items = boards.worklist(session, viewer)
        order = [next(n for n, tid in standings.items() if tid == item.ticket.id) for item in items]
        assert order == ["breached", "scanned", "at_risk", "on_track", "paused"]
        assert [item.urgency for item in items] == [api[name]["urgency"] for name in order]
        assert [item.label("vi") for item in items] == [api[name]["label"] for name in order]
        board = boards.board(session, User(username="m", password_hash="", role=Role.ADMIN))
        counted = boards.urgency_counts(session)
        readings = {r.metric: r.value for r in ioc.field_report_readings(session, utcnow())}
    from_api = Counter(view["urgency"] for view in api.values())
    assert counted == from_api
    assert (board.totals["breached"], board.totals["at_risk"]) == (from_api["breached"], from_api["at_risk"])
    qldt_row = next(row for row in board.by_department if row.code == "qldt")
    assert (qldt_row.breached, qldt_row.at_risk, qldt_row.open) == (2, 1, 5)
    timed = from_api["on_track"] + from_api["at_risk"] + from_api["breached"]
    assert readings["sla_open_on_time_rate"] == round(100 * (timed - from_api["breached"]) / timed, 1) == 50.0

    # the pages a person reads
    assert sign_in(client, "qldt1", PASSWORD).status_code == 303
    tasks = client.get("/staff/tasks").text
    positions = [tasks.index(api[name]["label"]) for name in ("breached", "scanned")]
    rows = tasks[tasks.index("<tbody") :]  # the filter form offers "Không có hạn" as a choice
    assert positions == sorted(positions) and "Không có hạn" not in rows
    page = client.get(f"/staff/tickets/{standings['breached']}").text
    assert 'data-testid="sla-label" data-sla="breached">quá hạn 3 ngày<' in page


def test_states_for_judges_finished_work_by_its_last_clock(engine: Engine, standings: dict[str, int]) -> None:
    with unit_of_work(engine) as session:
        for name in ("breached", "on_track"):
            service.transition(session, standings[name], Status.TRIAGED, actor=SYSTEM)
            service.transition(session, standings[name], Status.REJECTED, actor=SYSTEM, reason="trùng")
    with unit_of_work(engine) as session:
        tickets = session.exec(select(Ticket).order_by(Ticket.id)).all()  # type: ignore[arg-type]
        states = sla_state.states_for(session, tickets)
        assert states[standings["breached"]].urgency == "missed"
        assert states[standings["on_track"]].urgency == "met"
        assert states[standings["breached"]].label("en") == "done late"


def test_an_admin_sets_the_head_who_hears_of_a_breach(
    engine: Engine, client: TestClient, admin: dict[str, str], make_user: Headers
) -> None:
    with unit_of_work(engine) as session:
        old = create_user(
            session, username="truong.cu", password=PASSWORD, role="department_staff", department="qldt"
        )
        old.is_head = True
        new = create_user(
            session, username="truong.moi", password=PASSWORD, role="department_staff", department="qldt"
        )
        agent = create_user(session, username="dtv", password=PASSWORD, role="agent")
        ids = (old.id, new.id, agent.id)
        ticket = service.create_ticket(session, NewTicket(description="Đèn hỏng", category="street_lighting"))
        tid = ticket.id or 0
    made = client.patch(f"/api/v1/users/{ids[1]}", json={"is_head": True}, headers=admin)
    assert made.status_code == 200 and made.json()["is_head"]
    assert (
        client.patch(
            f"/api/v1/users/{ids[1]}", json={"is_head": True}, headers=make_user("supervisor")
        ).status_code
        == 403
    )
    wrong = client.patch(f"/api/v1/users/{ids[2]}", json={"is_head": True}, headers=admin)
    assert wrong.status_code == 422 and "Chỉ cán bộ phòng ban" in wrong.json()["detail"]
    with unit_of_work(engine) as session:
        assert session.get(User, ids[0]).is_head is False  # type: ignore[union-attr]  # one head per unit
        entry = next(e for e in audit.recent(session) if e.action == "set_head")
        assert entry.target == "user:truong.moi" and entry.detail["replaced"] == ["truong.cu"]
    _resolution(engine, tid, due_at=utcnow() - timedelta(minutes=1))
    with unit_of_work(engine) as session:
        assert sla.scan(session).breached == 1
        told = {
            n.user_id for n in session.exec(select(Notification).where(Notification.kind == "sla_breach"))
        }
        assert ids[1] in told and ids[0] not in told


def test_the_admin_page_offers_the_head_toggle(engine: Engine, client: TestClient) -> None:
    with unit_of_work(engine) as session:
        create_user(session, username="quantri", password=PASSWORD, role="admin")
        create_user(session, username="qldt1", password=PASSWORD, role="department_staff", department="qldt")
    assert sign_in(client, "quantri", PASSWORD).status_code == 303
    page = client.get("/staff/admin").text
    cell = page.split('data-testid="head-qldt1">', 1)[1].split("</td>", 1)[0]
    assert "Đặt làm trưởng đơn vị" in cell and 'name="is_head" value="true"' in cell
    assert 'data-testid="head-quantri"></td>' in page  # an administrator heads no unit


def test_a_ward_level_breach_reaches_the_wards_head(engine: Engine) -> None:
    with unit_of_work(engine) as session:
        officer = create_user(
            session, username="phuong.pa", password=PASSWORD, role="ward_officer", ward="phan-rang"
        )
        head = create_user(
            session, username="phuong.pb", password=PASSWORD, role="ward_officer", ward="phan-rang"
        )
        head.is_head = True
        ticket = service.create_ticket(
            session, NewTicket(description="Đèn hỏng", category="street_lighting", ward="phan-rang")
        )
        service.assign(session, ticket.id or 0, department=None, actor=SYSTEM)
        assert ticket.department_code is None and ticket.status == Status.ASSIGNED
        tid, ids = ticket.id or 0, (officer.id, head.id)
    _resolution(engine, tid, due_at=utcnow() - timedelta(minutes=1))
    with unit_of_work(engine) as session:
        sla.scan(session)
        told = {
            n.user_id for n in session.exec(select(Notification).where(Notification.kind == "sla_breach"))
        }
        assert ids[1] in told and ids[0] not in told


def test_the_board_counts_in_the_database_what_each_ticket_reads(
    engine: Engine, standings: dict[str, int]
) -> None:
    """The board's figures are counted by SQL; they must agree with ``state_from`` ticket by ticket,
    including open work no SLA applies to (a legal process: "out_of_sla") and finished work (left out)."""
    with unit_of_work(engine) as session:
        legal = service.create_ticket(
            session, NewTicket(description="Khiếu nại quyết định thu hồi đất", category="street_lighting")
        )
        service.update_ticket(session, legal.id or 0, {"legal_process": True}, actor=SYSTEM)
        done = service.create_ticket(
            session, NewTicket(description="Đèn đường đã sửa", category="street_lighting")
        )
        service.transition(session, done.id or 0, Status.REJECTED, actor=SYSTEM, reason="Trùng lặp")
    with unit_of_work(engine) as session:
        tickets = list(session.exec(select(Ticket)).all())
        truth = sla_state.states_for(session, tickets)
        expected = Counter(truth[t.id or 0].urgency for t in tickets if t.status in OPEN_STATUSES)
        board = boards.board(session, User(username="m", password_hash="", role=Role.ADMIN))
    assert expected["out_of_sla"] == 1 and sum(expected.values()) == len(STANDINGS) + 1
    assert {name: n for name, n in board.totals.items() if name != "open"} == dict(expected)
    assert board.totals["open"] == sum(expected.values())
    assert (
        sum(row.open for row in board.by_department)
        == sum(row.open for row in board.by_ward)
        == board.totals["open"]
    )
    assert [item.urgency for item in board.urgent] == ["breached", "breached", "at_risk"]
