"""Staff sign-in: cookie flags, CSRF, sign-out everywhere, the audit log, exports and live events."""

from __future__ import annotations

import io
from typing import Any

from fastapi.testclient import TestClient
from openpyxl import load_workbook
from sqlalchemy.engine import Engine
from staff_signin import sign_in

from civicdesk.asgi import create_app
from kernel.db import unit_of_work
from tickets import audit
from tickets.citizens import Contact
from tickets.models import Channel
from tickets.service import NewTicket, create_ticket
from tickets.staff import create_user

PASSWORD = "secret-pass"


def _user(engine: Engine, name: str, role: str = "agent", **kw: str) -> int:
    with unit_of_work(engine) as session:
        return create_user(session, username=name, password=PASSWORD, role=role, **kw).id or 0


def _sign_in(client: TestClient, name: str, password: str = PASSWORD) -> Any:
    return sign_in(client, name, password, next="/staff/tickets")


def _csrf(client: TestClient) -> str:
    page = client.get("/staff/tickets").text
    return page.split('name="csrf-token" content="', 1)[1].split('"', 1)[0]


def test_the_cookie_is_http_only_same_site_and_secure_over_https(engine: Engine) -> None:
    _user(engine, "mai")
    with TestClient(create_app(engine), base_url="https://civicdesk.example") as client:
        answer = _sign_in(client, "mai")
    assert answer.status_code == 303 and answer.headers["location"] == "/staff/tickets"
    cookie = answer.headers["set-cookie"].lower()
    assert "httponly" in cookie and "samesite=lax" in cookie and "secure" in cookie


def test_a_login_link_cannot_send_people_elsewhere(client: TestClient, engine: Engine) -> None:
    _user(engine, "lan")
    for target in ("https://evil.example/", "//evil.example", "javascript:alert(1)"):
        answer = sign_in(client, "lan", PASSWORD, next=target)
        assert answer.headers["location"] == "/staff"


def test_state_changes_need_the_csrf_token_and_our_origin(client: TestClient, engine: Engine) -> None:
    _user(engine, "hoa")
    _sign_in(client, "hoa")
    body = {"description": "Ổ gà trước chợ Phan Rang", "channel": "phone"}
    assert client.post("/api/v1/tickets", json=body).status_code == 403
    assert client.post("/api/v1/tickets", json=body, headers={"X-CSRF-Token": "forged"}).status_code == 403
    token = _csrf(client)
    foreign = {"X-CSRF-Token": token, "Origin": "https://evil.example"}
    assert client.post("/api/v1/tickets", json=body, headers=foreign).status_code == 403
    assert client.post("/api/v1/tickets", json=body, headers={"X-CSRF-Token": token}).status_code == 201
    assert client.post("/staff/logout", data={}).status_code == 403  # a form needs its hidden token too
    assert client.post("/staff/logout", data={"csrf_token": token}, follow_redirects=False).status_code == 303


def test_sign_out_everywhere_ends_every_session_and_token(engine: Engine) -> None:
    _user(engine, "minh")
    app = create_app(engine)
    with TestClient(app) as desk, TestClient(app) as laptop:
        _sign_in(desk, "minh")
        _sign_in(laptop, "minh")
        bearer = desk.post("/api/v1/auth/token", data={"username": "minh", "password": PASSWORD}).json()
        api_headers = {"Authorization": f"Bearer {bearer['access_token']}"}
        assert laptop.get("/staff/console").status_code == 200
        desk.post("/staff/logout-everywhere", data={"csrf_token": _csrf(desk)})
        assert laptop.get("/staff/console", follow_redirects=False).status_code == 303
        assert laptop.get("/api/v1/tickets", headers=api_headers).status_code == 401


def test_staff_actions_are_audited(client: TestClient, engine: Engine) -> None:
    user_id = _user(engine, "thu")
    _sign_in(client, "thu")
    token = _csrf(client)
    client.post("/api/v1/tickets", json={"description": "Đèn đường hỏng"}, headers={"X-CSRF-Token": token})
    client.post("/api/v1/tickets", json={"description": ""}, headers={"X-CSRF-Token": token})
    with unit_of_work(engine) as session:
        mine = [(e.action, e.target, e.outcome) for e in audit.recent(session, user_id=user_id)]
    assert mine[:3] == [
        ("post", "/api/v1/tickets", 422),
        ("post", "/api/v1/tickets", 201),
        ("sign_in", "", 200),
    ]


def test_exports_follow_the_filter_and_keep_formulas_as_text(client: TestClient, engine: Engine) -> None:
    _user(engine, "anh", role="supervisor")
    with unit_of_work(engine) as session:
        for text in ('=HYPERLINK("http://x") ngập nước', "Rác thải ở chợ"):
            create_ticket(
                session, NewTicket(description=text, title=text, channel=Channel.WEB, contact=Contact())
            )
    _sign_in(client, "anh")
    csv_text = client.get("/staff/tickets/export.csv").content.decode("utf-8-sig")
    assert csv_text.splitlines()[0].startswith("Mã phản ánh,Trạng thái")
    assert "'=HYPERLINK" in csv_text
    answer = client.get("/staff/tickets/export.xlsx", params={"q": "rac thai"})
    sheet = load_workbook(io.BytesIO(answer.content)).active
    rows = list(sheet.iter_rows(values_only=True))
    assert len(rows) == 2 and rows[1][2] == "Rác thải ở chợ"
    assert client.get("/staff/tickets/export.pdf").status_code == 404


def test_the_event_stream_needs_a_sign_in(client: TestClient) -> None:
    assert client.get("/staff/events", follow_redirects=False).status_code == 303


def test_every_timeline_event_and_agent_state_has_words_in_both_languages() -> None:
    from kernel.i18n import catalogue
    from telephony.models import AgentState
    from tickets.models import EventKind

    keys = [f"ev_{k.value}" for k in EventKind] + [f"a_{s.value}" for s in AgentState]
    missing = [key for key in keys if not (catalogue("vi").get(key) and catalogue("en").get(key))]
    assert missing == []
