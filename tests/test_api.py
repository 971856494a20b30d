from __future__ import annotations

import io
from collections.abc import Callable

from fastapi.testclient import TestClient
from PIL import Image

Headers = dict[str, str]


def _new(client: TestClient, headers: Headers, **body: object) -> dict[str, object]:
    body.setdefault("description", "Ổ gà lớn trước số 12 đường Thống Nhất, P. Phủ Hà")
    response = client.post("/api/v1/tickets", json=body, headers=headers)
    assert response.status_code == 201, response.text
    return response.json()  # type: ignore[no-any-return]


def test_password_flow_then_create_and_read(client: TestClient, make_user: Callable[..., Headers]) -> None:
    make_user("agent", username="lan")
    token = client.post("/api/v1/auth/token", data={"username": "lan", "password": "secret-pass"})
    assert token.status_code == 200
    headers = {"Authorization": f"Bearer {token.json()['access_token']}"}
    created = _new(client, headers, category="road_damage", ward="phu-ha", phone="0912345678")
    assert created["code"].startswith("PR-")  # type: ignore[union-attr]
    assert created["department"] == "qldt"
    assert "/t/" in created["tracking_url"]  # type: ignore[operator]
    fetched = client.get(f"/api/v1/tickets/{created['id']}", headers=headers).json()
    assert fetched["contact"]["phone"] == ["+84912345678"]  # stored in E.164
    assert [e["kind"] for e in fetched["timeline"]] == ["created"]


def test_wrong_passwords_are_401_and_do_not_lock_the_account(
    client: TestClient, make_user: Callable[..., Headers]
) -> None:
    make_user("agent", username="minh")
    for _ in range(5):
        assert (
            client.post("/api/v1/auth/token", data={"username": "minh", "password": "nope"}).status_code
            == 401
        )
    right = client.post("/api/v1/auth/token", data={"username": "minh", "password": "secret-pass"})
    assert right.status_code == 200


def test_list_newest_first_with_cursor_and_filters(client: TestClient, admin: Headers) -> None:
    ids = [_new(client, admin, category="noise" if i % 2 else "street_lighting")["id"] for i in range(5)]
    first = client.get("/api/v1/tickets?limit=2", headers=admin).json()
    assert [t["id"] for t in first["items"]] == ids[::-1][:2]
    rest = client.get(f"/api/v1/tickets?limit=10&cursor={first['next_cursor']}", headers=admin).json()
    assert [t["id"] for t in rest["items"]] == ids[::-1][2:]
    assert rest["next_cursor"] is None
    noise = client.get("/api/v1/tickets?category=noise", headers=admin).json()["items"]
    assert {t["category"] for t in noise} == {"noise"} and len(noise) == 2


def test_text_search_works_without_diacritics(client: TestClient, admin: Headers) -> None:
    _new(client, admin, description="Cống thoát nước bị tắc ở hẻm 45 Ngô Gia Tự")
    _new(client, admin, description="Đèn đường không sáng")
    found = client.get("/api/v1/tickets", params={"q": "cong thoat nuoc"}, headers=admin).json()["items"]
    assert len(found) == 1 and "Cống" in found[0]["description"]


def test_bad_input_gets_4xx_with_reason(client: TestClient, admin: Headers) -> None:
    unknown = client.post("/api/v1/tickets", json={"description": "x", "category": "nope"}, headers=admin)
    assert unknown.status_code == 422 and "Không có mã “nope”" in unknown.json()["detail"]
    malformed = client.post(
        "/api/v1/tickets", content=b'{"description": ', headers={**admin, "Content-Type": "application/json"}
    )
    assert malformed.status_code == 400 and "JSON" in malformed.json()["detail"]
    oversized = client.post("/api/v1/tickets", json={"description": "a" * 6000}, headers=admin)
    assert oversized.status_code == 422
    ticket = _new(client, admin)
    invalid = client.post(
        f"/api/v1/tickets/{ticket['id']}/transition", json={"status": "resolved"}, headers=admin
    )
    assert invalid.status_code == 409
    assert "triaged" in invalid.json()["allowed"]
    assert client.get("/api/v1/tickets?cursor=garbage", headers=admin).status_code == 422
    assert client.get("/api/v1/tickets/999999", headers=admin).status_code == 404
    assert client.get("/api/v1/tickets").status_code == 401


def test_department_staff_see_only_their_department(
    client: TestClient, admin: Headers, make_user: Callable[..., Headers]
) -> None:
    lighting = _new(client, admin, category="street_lighting")  # qldt
    waste = _new(client, admin, category="waste_collection")  # tnmt
    qldt = make_user("department_staff", department="qldt")
    listed = client.get("/api/v1/tickets", headers=qldt).json()["items"]
    assert [t["id"] for t in listed] == [lighting["id"]]
    assert client.get(f"/api/v1/tickets/{waste['id']}", headers=qldt).status_code == 404
    forbidden = client.post(
        f"/api/v1/tickets/{lighting['id']}/assign", json={"department": "tnmt"}, headers=qldt
    )
    assert forbidden.status_code == 403


def test_full_life_cycle_through_the_api(client: TestClient, admin: Headers) -> None:
    ticket = _new(client, admin, category="waste_collection")
    path = f"/api/v1/tickets/{ticket['id']}"
    assert client.post(f"{path}/transition", json={"status": "triaged"}, headers=admin).status_code == 200
    assert (
        client.post(f"{path}/assign", json={"department": "tnmt"}, headers=admin).json()["status"]
        == "assigned"
    )
    client.post(f"{path}/comments", json={"text": "Đã cử đội vệ sinh", "public": True}, headers=admin)
    client.post(f"{path}/transition", json={"status": "in_progress"}, headers=admin)
    resolved = client.post(f"{path}/transition", json={"status": "resolved"}, headers=admin).json()
    assert resolved["status"] == "resolved" and resolved["resolved_at"]
    kinds = [e["kind"] for e in resolved["timeline"]]
    assert kinds.count("status_changed") == 4 and "comment" in kinds and "assigned" in kinds


def test_logout_everywhere_revokes_tokens(client: TestClient, admin: Headers) -> None:
    assert client.post("/api/v1/auth/logout-everywhere", headers=admin).status_code == 204
    assert client.get("/api/v1/auth/me", headers=admin).status_code == 401


def test_attachment_type_checked_from_content(client: TestClient, admin: Headers) -> None:
    ticket = _new(client, admin)
    out = io.BytesIO()
    Image.new("RGB", (8, 8)).save(out, format="PNG")
    png = out.getvalue()
    ok = client.post(
        f"/api/v1/tickets/{ticket['id']}/attachments", files={"file": ("a.png", png)}, headers=admin
    )
    assert ok.status_code == 201 and ok.json()["mime_type"] == "image/png"
    fake = client.post(
        f"/api/v1/tickets/{ticket['id']}/attachments",
        files={"file": ("a.jpg", b"MZ not an image")},
        headers=admin,
    )
    assert fake.status_code == 422
    broken = client.post(
        f"/api/v1/tickets/{ticket['id']}/attachments",
        files={"file": ("b.png", b"\x89PNG\r\n\x1a\n" + b"\x00" * 64)},
        headers=admin,
    )
    assert broken.status_code == 422  # looks like a PNG, cannot be decoded: not published


def test_health_reports_database_and_broker(client: TestClient) -> None:
    response = client.get("/api/v1/health")
    assert response.status_code == 200
    assert response.json()["database"] == "ok" and response.json()["broker"] == "ok"
