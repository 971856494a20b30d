"""Incidents: a flood night's thirty reports from three wards become one incident; one public notice
reaches every member's status page and each citizen once; a late report joins and hears at once;
resolving the incident resolves every report with its summary; supervisors open incidents by hand and an
IOC alert in a ward opens one."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from channels.models import OutboundMessage
from incidents import service
from incidents.models import Incident, IncidentMember
from ioc import service as ioc
from ioc.ports import Reading
from kernel.db import unit_of_work
from kernel.settings import get_settings
from kernel.timeutil import utcnow
from tickets import service as tickets
from tickets.citizens import Contact
from tickets.models import Channel, Status, Ticket

# three neighbouring old wards of Phan Rang: Phủ Hà, Mỹ Hương, Thanh Sơn (within 1.5 km of each other)
WARD_POINTS = [(11.576, 109.002), (11.567, 109.000), (11.578, 108.992)]
FAR_AWAY = (11.618, 108.952)  # Đô Vinh, 7 km north-west


@pytest.fixture
def zalo_configured(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Citizens here write on Zalo; the OA is configured so the outbox takes their messages."""
    monkeypatch.setenv("CIVICDESK_ZALO_APP_ID", "4300000000000000001")
    monkeypatch.setenv("CIVICDESK_ZALO_APP_SECRET", "app-secret")
    get_settings.cache_clear()
    yield
    monkeypatch.undo()
    get_settings.cache_clear()


def report(
    session: Session,
    user: str,
    point: tuple[float, float],
    minutes_ago: float,
    category: str = "drainage_flooding",
    text: str = "Nước ngập tới đầu gối, xe chết máy giữa đường",
) -> Ticket:
    return tickets.create_ticket(
        session,
        tickets.NewTicket(
            description=text,
            channel=Channel.ZALO,
            contact=Contact(zalo_id=user),
            latitude=point[0],
            longitude=point[1],
            category=category,
            created_at=utcnow() - timedelta(minutes=minutes_ago),
        ),
        actor=tickets.CITIZEN,
    )


def flood_night(engine: Engine) -> list[int]:
    """Thirty reports over forty minutes from 24 people (six of them write twice), three wards."""
    ids = []
    with unit_of_work(engine) as session:
        for n in range(30):
            user = f"zalo-user-{n % 24}"
            point = WARD_POINTS[n % 3]
            jitter = (point[0] + (n % 5) * 0.0005, point[1] - (n % 4) * 0.0005)
            ids.append(report(session, user, jitter, minutes_ago=40 - n * 40 / 29).id or 0)
    return ids


def messages_with(engine: Engine, text: str) -> Counter[str]:
    with unit_of_work(engine) as session:
        rows = session.exec(select(OutboundMessage).where(OutboundMessage.purpose == "incident_notice")).all()
        return Counter(row.recipient for row in rows if text in row.text)


def test_a_flood_night_is_one_incident_told_once_and_resolved_together(
    client: TestClient, engine: Engine, zalo_configured: None, make_user: Any
) -> None:
    ids = flood_night(engine)
    with unit_of_work(engine) as session:
        incidents = session.exec(select(Incident)).all()
        assert len(incidents) == 1 and incidents[0].source == "surge"
        incident_id = incidents[0].id
        assert len(session.exec(select(IncidentMember)).all()) == 30
        tokens = [session.get(Ticket, i).tracking_token for i in ids]  # type: ignore[union-attr]
    supervisor = make_user("supervisor")
    notice = (
        "Mưa lớn gây ngập tại Phủ Hà, Mỹ Hương, Thanh Sơn; đội thoát nước đang hút nước,"
        " dự kiến xong trước 23 giờ."
    )
    posted = client.post(f"/api/v1/incidents/{incident_id}/notice", json={"text": notice}, headers=supervisor)
    assert posted.status_code == 200 and len(posted.json()["reports"]) == 30
    told = messages_with(engine, notice)
    assert len(told) == 24 and set(told.values()) == {1}  # each citizen once, however many reports
    for token in tokens:
        assert notice in client.get(f"/t/{token}").text
    with unit_of_work(engine) as session:  # a report in the same place after the notice joins at once
        late = report(session, "zalo-user-late", WARD_POINTS[1], minutes_ago=1)
        assert service.incident_of(session, late.id or 0) is not None
        late_token = late.tracking_token
    assert messages_with(engine, notice)["zalo-user-late"] == 1
    assert notice in client.get(f"/t/{late_token}").text
    summary = "Đã hút hết nước và thông 14 hố ga trên các tuyến Thống Nhất, Ngô Gia Tự."
    resolved = client.post(
        f"/api/v1/incidents/{incident_id}/resolve", json={"text": summary}, headers=supervisor
    )
    assert resolved.status_code == 200 and resolved.json()["status"] == "resolved"
    with unit_of_work(engine) as session:
        statuses = {session.get(Ticket, i).status for i in [*ids]}  # type: ignore[union-attr]
    assert statuses <= {Status.RESOLVED, Status.DUPLICATE} and Status.RESOLVED in statuses
    page = client.get(f"/t/{tokens[0]}").text
    assert summary in page
    again = client.post(
        f"/api/v1/incidents/{incident_id}/resolve", json={"text": summary}, headers=supervisor
    )
    assert again.status_code == 409


def test_reports_elsewhere_or_of_another_kind_stay_apart(engine: Engine) -> None:
    flood_night(engine)
    with unit_of_work(engine) as session:
        far = report(session, "zalo-far", FAR_AWAY, minutes_ago=2)
        other = report(
            session, "zalo-road", WARD_POINTS[0], minutes_ago=2, category="road_damage", text="Ổ gà"
        )
        assert service.incident_of(session, far.id or 0) is None
        assert service.incident_of(session, other.id or 0) is None


def test_reports_without_a_pin_count_at_their_wards_centre_and_far_pins_do_not(engine: Engine) -> None:
    """The surge query keeps pins inside the radius's box and reports with no pin at all; a pin far away
    is left out, even in a ward whose centre is close."""
    with unit_of_work(engine) as session:
        for n in range(3):
            far = report(session, f"far{n}", FAR_AWAY, minutes_ago=30 - n)
            far.ward_code = "phu-ha"  # a pin 7 km away is where the report is, whatever its ward says
        for n in range(4):
            pinless = report(session, f"ward{n}", WARD_POINTS[0], minutes_ago=25 - n)
            pinless.latitude = pinless.longitude = None
            pinless.ward_code = "phu-ha"
        session.flush()
        assert session.exec(select(Incident)).first() is None
        for n in range(3):
            report(session, f"pin{n}", WARD_POINTS[n % 3], minutes_ago=10 - n)
        assert session.exec(select(Incident)).first() is None  # seven near: one short of a surge
        last = report(session, "pin-last", WARD_POINTS[1], minutes_ago=1)
        incident = service.incident_of(session, last.id or 0)
        assert incident is not None
        joined = service.members(session, incident.id or 0)
        assert len(joined) == 8 and sum(t.latitude is None for t in joined) == 4
        assert all(t.latitude != FAR_AWAY[0] for t in joined)


def test_a_few_reports_are_not_an_incident(engine: Engine) -> None:
    with unit_of_work(engine) as session:
        for n in range(5):
            report(session, f"u{n}", WARD_POINTS[n % 3], minutes_ago=30 - n)
        assert session.exec(select(Incident)).first() is None


def test_reports_spread_over_hours_are_not_a_surge(engine: Engine) -> None:
    with unit_of_work(engine) as session:
        for n in range(12):
            report(session, f"u{n}", WARD_POINTS[n % 3], minutes_ago=12 * 60 - n * 60)
        assert session.exec(select(Incident)).first() is None


def test_a_supervisor_opens_an_incident_from_chosen_reports(
    client: TestClient, engine: Engine, make_user: Any
) -> None:
    with unit_of_work(engine) as session:
        codes = [
            report(session, f"p{n}", WARD_POINTS[0], 5, "electricity", "Mất điện cả khu phố").code
            for n in range(3)
        ]
        road = report(session, "r", WARD_POINTS[0], 5, "road_damage", "Ổ gà").code
    supervisor, agent = make_user("supervisor"), make_user("agent")
    body = {"title": "Mất điện khu phố 3 Phủ Hà", "tickets": codes}
    assert client.post("/api/v1/incidents", json=body, headers=agent).status_code == 403
    made = client.post("/api/v1/incidents", json=body, headers=supervisor)
    assert made.status_code == 201 and sorted(made.json()["reports"]) == sorted(codes)
    assert made.json()["source"] == "supervisor"
    listed = client.get("/api/v1/incidents", headers=supervisor).json()
    assert [i["title"] for i in listed] == ["Mất điện khu phố 3 Phủ Hà"]
    assert client.post("/api/v1/incidents", json=body, headers=supervisor).status_code == 409  # taken
    missing = client.post(
        "/api/v1/incidents", json={**body, "tickets": ["PR-2026-999999"]}, headers=supervisor
    )
    assert missing.status_code == 404 and "PR-2026-999999" in missing.json()["detail"]
    mixed = client.post(
        f"/api/v1/incidents/{made.json()['id']}/reports", json={"tickets": [road]}, headers=supervisor
    )
    assert mixed.status_code == 422
    assert (
        client.post("/api/v1/incidents/999999/notice", json={"text": "x"}, headers=supervisor).status_code
        == 404
    )


def test_an_ioc_alert_in_a_ward_opens_an_incident_that_reports_join(engine: Engine) -> None:
    with unit_of_work(engine) as session:
        ioc.seed(session)
        at = utcnow() - timedelta(minutes=5)
        ioc.store(session, "environment", [Reading("pm25", "phan-rang", 95.0)], at)
        incident = session.exec(select(Incident)).one()
        assert incident.source == "alert" and incident.category_code == "pollution"
        later = report(
            session, "zalo-smoke", (incident.latitude, incident.longitude), 1, "pollution", "Khói bụi mù mịt"
        )
        assert service.incident_of(session, later.id or 0) == incident


def test_the_board_and_the_wall_show_open_incidents(
    client: TestClient, engine: Engine, make_user: Any
) -> None:
    flood_night(engine)
    with unit_of_work(engine) as session:
        title = session.exec(select(Incident)).one().title
    wall = client.get("/ioc")
    assert wall.status_code == 200 and title in wall.text and 'class="incident"' in wall.text
    from staff_signin import sign_in

    make_user("supervisor", username="giamsat2")
    sign_in(client, "giamsat2", "secret-pass")
    board = client.get("/staff/boards")
    assert board.status_code == 200 and title in board.text and "/api/v1/incidents/" in board.text
