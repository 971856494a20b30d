"""The stable interface: /api/v1/calls, its stats, the queue, agent links, pause and call-back requests."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from fastapi.testclient import TestClient
from sqlalchemy.engine import Engine
from sqlmodel import select

from kernel.db import unit_of_work
from telephony.models import Call, PbxAction, QueueMember

T0 = datetime(2026, 11, 18, 2, 0, tzinfo=UTC)  # 09:00 in Vietnam
REQUIRED = {
    "uniqueid",
    "linkedid",
    "caller_number",
    "queue",
    "outcome",
    "agent",
    "entered_at",
    "answered_at",
    "ended_at",
    "wait_seconds",
    "talk_seconds",
    "hangup_cause",
}


def add_calls(engine: Engine) -> None:
    rows = [
        ("1.1", "answered", "PJSIP/agent101", 0, 10, 120),
        ("1.2", "answered", "PJSIP/agent102", 60, 35, 200),
        ("1.3", "abandoned", None, 120, 40, None),
        ("1.4", "abandoned", None, 180, 3, None),
        ("1.5", "transferred", "PJSIP/agent101", 3600, 5, 30),
    ]
    with unit_of_work(engine) as session:
        for uniqueid, outcome, agent, offset, wait, talk in rows:
            start = T0 + timedelta(seconds=offset)
            answered = start + timedelta(seconds=wait) if agent else None
            ended = (answered or start) + timedelta(seconds=talk or wait)
            session.add(
                Call(
                    uniqueid=uniqueid,
                    linkedid=uniqueid,
                    caller_number="0905123456",
                    queue="hotline",
                    outcome=outcome,
                    queue_exit=None if agent else "caller",
                    agent_interface=agent,
                    started_at=start,
                    entered_at=start,
                    answered_at=answered,
                    ended_at=ended,
                    wait_seconds=wait,
                    talk_seconds=talk,
                    hangup_cause="Normal Clearing",
                )
            )
        session.add(
            Call(uniqueid="2.1", linkedid="2.1", started_at=T0 - timedelta(days=1), outcome="voicemail")
        )


def test_calls_list_newest_first_with_filters(
    client: TestClient, engine: Engine, make_user: Callable[..., dict[str, str]]
) -> None:
    add_calls(engine)
    agent = make_user("agent")
    calls = client.get("/api/v1/calls", params={"date": "2026-11-18"}, headers=agent).json()
    assert [c["uniqueid"] for c in calls] == ["1.5", "1.4", "1.3", "1.2", "1.1"]
    assert REQUIRED <= set(calls[0])
    assert calls[-1]["agent"] == "PJSIP/agent101" and calls[-1]["talk_seconds"] == 120
    by_outcome = client.get("/api/v1/calls", params={"outcome": "abandoned"}, headers=agent).json()
    assert {c["uniqueid"] for c in by_outcome} == {"1.3", "1.4"}
    by_agent = client.get("/api/v1/calls", params={"agent": "PJSIP/agent101"}, headers=agent).json()
    assert [c["uniqueid"] for c in by_agent] == ["1.5", "1.1"]
    assert (
        client.get("/api/v1/calls", params={"date": "2026-11-17"}, headers=agent).json()[0]["uniqueid"]
        == "2.1"
    )


def test_stats_of_a_day(client: TestClient, engine: Engine, make_user: Callable[..., dict[str, str]]) -> None:
    add_calls(engine)
    stats = client.get(
        "/api/v1/calls/stats", params={"date": "2026-11-18"}, headers=make_user("supervisor")
    ).json()
    assert {k: stats[k] for k in ("offered", "answered", "abandoned", "short_abandoned")} == {
        "offered": 5,
        "answered": 3,
        "abandoned": 2,
        "short_abandoned": 1,
    }
    assert stats["service_level"] == 0.4  # 1.1 and 1.5 within 20 s, of 5 offered
    assert (stats["asa_seconds"], stats["aht_seconds"], stats["abandonment_rate"]) == (16.7, 116.7, 0.4)
    assert [h["offered"] for h in stats["hours"][9:11]] == [4, 1]
    days = client.get(
        "/api/v1/calls/stats/days",
        params={"from": "2026-11-17", "to": "2026-11-18"},
        headers=make_user("supervisor"),
    ).json()
    assert [(d["date"], d["calls"], d["offered"]) for d in days] == [
        ("2026-11-17", 1, 0),
        ("2026-11-18", 5, 5),
    ]


def test_bad_input_and_roles(
    client: TestClient, engine: Engine, make_user: Callable[..., dict[str, str]]
) -> None:
    agent = make_user("agent")
    assert client.get("/api/v1/calls/stats", params={"date": "18/11/2026"}, headers=agent).status_code == 422
    assert client.get("/api/v1/calls", params={"outcome": "lost"}, headers=agent).status_code == 422
    backwards = client.get(
        "/api/v1/calls/stats/days", params={"from": "2026-11-18", "to": "2026-11-01"}, headers=agent
    )
    assert backwards.status_code == 422 and "after" in backwards.json()["detail"]
    staff = make_user("department_staff", department="qldt")
    for path in ("/api/v1/calls", "/api/v1/telephony/queue", "/api/v1/calls/1.1"):
        response = client.get(path, headers=staff)
        assert response.status_code == 403, path
    assert client.get("/api/v1/calls/none", headers=agent).status_code == 404
    assert client.get("/api/v1/calls").status_code == 401


def test_pause_and_callback_requests(
    client: TestClient, engine: Engine, admin: dict[str, str], make_user: Callable[..., dict[str, str]]
) -> None:
    agent = make_user("agent", username="agent101")
    not_linked = client.post("/api/v1/telephony/agents/me/pause", json={"paused": True}, headers=agent)
    assert not_linked.status_code == 409 and "quản trị viên" in not_linked.json()["detail"]
    assert (
        client.put(
            "/api/v1/telephony/agents/PJSIP/agent101", json={"username": "agent101"}, headers=agent
        ).status_code
        == 403
    )
    assert (
        client.put(
            "/api/v1/telephony/agents/agent101", json={"username": "agent101"}, headers=admin
        ).status_code
        == 422
    )
    linked = client.put(
        "/api/v1/telephony/agents/PJSIP/agent101",
        json={"username": "agent101", "extension": "101"},
        headers=admin,
    )
    assert linked.status_code == 200
    paused = client.post(
        "/api/v1/telephony/agents/me/pause", json={"paused": True, "reason": "Họp"}, headers=agent
    )
    assert paused.status_code == 202 and paused.json()["params"] == {
        "interface": "PJSIP/agent101",
        "paused": True,
        "reason": "Họp",
    }
    with_phone = client.post(
        "/api/v1/tickets", json={"description": "Cống bị tắc", "phone": "0905 123 456"}, headers=agent
    ).json()
    no_phone = client.post("/api/v1/tickets", json={"description": "Rác ở chợ"}, headers=agent).json()
    refused = client.post(f"/api/v1/tickets/{no_phone['id']}/callback", headers=agent)
    assert refused.status_code == 422 and "không có số điện thoại" in refused.json()["detail"]
    requested = client.post(f"/api/v1/tickets/{with_phone['id']}/callback", headers=agent)
    assert requested.status_code == 202 and requested.json()["params"]["number"] == "0905123456"
    status = client.get(f"/api/v1/telephony/actions/{requested.json()['id']}", headers=agent).json()
    assert status["status"] == "pending"
    with unit_of_work(engine) as session:
        assert [a.kind for a in session.exec(select(PbxAction))] == ["pause", "callback"]
        assert session.get(QueueMember, "PJSIP/agent101").extension == "101"  # type: ignore[union-attr]
    agents = client.get("/api/v1/telephony/agents", headers=agent).json()
    assert [(a["interface"], a["state"]) for a in agents] == [("PJSIP/agent101", "logged_out")]


def test_one_click_ticket_from_a_call(
    client: TestClient, engine: Engine, make_user: Callable[..., dict[str, str]]
) -> None:
    add_calls(engine)
    agent = make_user("agent")
    created = client.post(
        "/api/v1/calls/1.1/tickets", json={"description": "Đèn đường hẻm 5 bị tắt"}, headers=agent
    )
    assert created.status_code == 201
    ticket = created.json()
    assert ticket["channel"] == "phone"
    assert any(e["kind"] == "call_linked" for e in ticket["timeline"])
    call = client.get("/api/v1/calls/1.1", headers=agent).json()
    assert call["ticket_ids"] == [ticket["id"]] and call["citizen_id"] is not None
    assert call["screen_pop"]["open_tickets"][0]["code"] == ticket["code"]
    assert (
        client.post("/api/v1/calls/9.9/tickets", json={"description": "x"}, headers=agent).status_code == 404
    )


def test_a_phone_ticket_joins_the_callers_recent_call(
    client: TestClient, engine: Engine, make_user: Callable[..., dict[str, str]]
) -> None:
    from kernel.timeutil import utcnow

    with unit_of_work(engine) as session:
        start = utcnow() - timedelta(minutes=5)
        session.add(Call(uniqueid="5.1", linkedid="5.1", caller_number="+84905123456", started_at=start))
        session.add(
            Call(
                uniqueid="5.0",
                linkedid="5.0",
                caller_number="0905123456",
                started_at=start - timedelta(hours=2),
            )
        )
    agent = make_user("agent")
    by_phone = client.post(
        "/api/v1/tickets", json={"description": "Nước ngập", "phone": "0905123456"}, headers=agent
    ).json()
    by_web = client.post(
        "/api/v1/tickets",
        json={"description": "Nước ngập", "phone": "0905123456", "channel": "web"},
        headers=agent,
    ).json()
    assert client.get("/api/v1/calls/5.1", headers=agent).json()["ticket_ids"] == [by_phone["id"]]
    assert client.get("/api/v1/calls/5.0", headers=agent).json()["ticket_ids"] == []
    assert by_web["id"] not in client.get("/api/v1/calls/5.1", headers=agent).json()["ticket_ids"]
