"""Issue 16, sessions slice: no public signing key, sign-ins that end, login CSRF, guessing slowed per
address without locking accounts, and which ticket fields each role may change."""

from __future__ import annotations

import os
import stat
import subprocess
import sys
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import jwt
import pytest
from fastapi.testclient import TestClient
from sqlalchemy.engine import Engine
from staff_signin import login_token, sign_in

from civicdesk.asgi import create_app
from kernel.db import unit_of_work
from kernel.errors import Forbidden
from kernel.settings import DEV_SECRET, Settings, get_settings
from kernel.timeutil import utcnow
from tickets import permissions, service
from tickets.citizens import Contact
from tickets.models import Channel
from tickets.service import Actor
from tickets.staff import create_user
from web.security import AUDIENCE
from web.sessions import COOKIE

PASSWORD = "secret-pass"
ATTACKER = ("198.51.100.66", 40000)
COLLEAGUE = ("192.0.2.20", 40000)


def _user(engine: Engine, name: str, role: str = "admin", **kw: str) -> int:
    with unit_of_work(engine) as session:
        return create_user(session, username=name, password=PASSWORD, role=role, **kw).id or 0


def _forged(user_id: int, key: str) -> dict[str, str]:
    claims = {"sub": str(user_id), "ver": 0, "aud": AUDIENCE, "exp": utcnow() + timedelta(hours=1)}
    return {"Authorization": f"Bearer {jwt.encode(claims, key, algorithm='HS256')}"}


@pytest.fixture
def mode(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[pytest.MonkeyPatch]:
    """Settings as a real install sees them: its own var dir, no secret unless the test sets one."""
    monkeypatch.delenv("CIVICDESK_SECRET_KEY", raising=False)
    monkeypatch.setenv("CIVICDESK_VAR_DIR", str(tmp_path / "var"))
    get_settings.cache_clear()
    yield monkeypatch
    get_settings.cache_clear()


@pytest.mark.parametrize(
    "environment",
    [
        {"CIVICDESK_ENVIRONMENT": "development"},
        {
            "CIVICDESK_ENVIRONMENT": "production",
            "CIVICDESK_SECRET_KEY": "p" * 48,
            "CIVICDESK_PUBLIC_BASE_URL": "https://phananh.example.vn",
        },
    ],
    ids=["development", "production"],
)
def test_a_token_forged_with_the_development_key_is_refused(
    engine: Engine, mode: pytest.MonkeyPatch, environment: dict[str, str]
) -> None:
    for name, value in environment.items():
        mode.setenv(name, value)
    admin_id = _user(engine, "quantri")
    with TestClient(create_app(engine)) as client:
        assert client.get("/api/v1/auth/me", headers=_forged(admin_id, DEV_SECRET)).status_code == 401
        real = client.post("/api/v1/auth/token", data={"username": "quantri", "password": PASSWORD})
        me = client.get("/api/v1/auth/me", headers={"Authorization": f"Bearer {real.json()['access_token']}"})
    assert me.status_code == 200 and me.json()["username"] == "quantri"


def test_the_development_key_is_refused_outside_tests(mode: pytest.MonkeyPatch) -> None:
    for environment in ("development", "production"):
        with pytest.raises(ValueError, match="khoá phát triển công khai"):
            Settings(environment=environment, secret_key=DEV_SECRET, public_base_url="https://x.example")
    assert Settings(environment="test").signing_key == DEV_SECRET


def test_production_without_a_secret_says_so(mode: pytest.MonkeyPatch) -> None:
    with pytest.raises(ValueError, match="CIVICDESK_SECRET_KEY phải được đặt"):
        Settings(environment="production", public_base_url="https://x.example")


def test_an_install_generates_its_secret_once_private_and_shared(tmp_path: Path) -> None:
    var_dir = tmp_path / "var"
    read_key = "from kernel.settings import get_settings; print(get_settings().signing_key)"
    env = {**os.environ, "CIVICDESK_ENVIRONMENT": "development", "CIVICDESK_VAR_DIR": str(var_dir)}
    env.pop("CIVICDESK_SECRET_KEY", None)
    processes = [
        subprocess.Popen(  # noqa: S603 - our own interpreter
            [sys.executable, "-c", read_key], env=env, stdout=subprocess.PIPE, text=True
        )
        for _ in range(4)
    ]
    keys = {process.communicate(timeout=60)[0].strip() for process in processes}
    secret_file = var_dir / "secret_key"
    assert keys == {secret_file.read_text().strip()}
    assert len(keys.pop()) >= 48
    assert stat.S_IMODE(secret_file.stat().st_mode) == 0o600
    assert sorted(p.name for p in var_dir.iterdir()) == ["secret_key"]  # no drafts left behind


def test_an_unusable_secret_file_stops_the_start_in_one_line(tmp_path: Path) -> None:
    var_dir = tmp_path / "var"
    var_dir.mkdir()
    (var_dir / "secret_key").write_text("short\n")
    env = {**os.environ, "CIVICDESK_ENVIRONMENT": "development", "CIVICDESK_VAR_DIR": str(var_dir)}
    env.pop("CIVICDESK_SECRET_KEY", None)
    started = subprocess.run(  # noqa: S603 - our own interpreter
        [sys.executable, "-m", "civicdesk.cli", "web", "--port", "1"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    assert started.returncode == 2 and "Traceback" not in started.stderr
    assert "secret_key holds no usable secret" in started.stderr


def test_sign_out_ends_that_cookie_at_once(client: TestClient, engine: Engine) -> None:
    _user(engine, "lan", role="agent")
    assert sign_in(client, "lan", PASSWORD).status_code == 303
    old_cookie = client.cookies[COOKIE]
    csrf = client.get("/staff/tickets").text.split('name="csrf-token" content="', 1)[1].split('"', 1)[0]
    client.post("/staff/logout", data={"csrf_token": csrf}, follow_redirects=False)

    client.cookies.set(COOKIE, old_cookie)
    page = client.get("/staff/console", follow_redirects=False)
    assert page.status_code == 303 and page.headers["location"].startswith("/staff/login")
    assert client.get("/api/v1/auth/me").status_code == 401


def test_sign_out_leaves_the_other_sign_ins_alone(engine: Engine) -> None:
    _user(engine, "minh", role="agent")
    app = create_app(engine)
    with TestClient(app) as desk, TestClient(app) as laptop:
        sign_in(desk, "minh", PASSWORD)
        sign_in(laptop, "minh", PASSWORD)
        csrf = desk.get("/staff/tickets").text.split('name="csrf-token" content="', 1)[1].split('"', 1)[0]
        desk.post("/staff/logout", data={"csrf_token": csrf})
        assert laptop.get("/staff/console", follow_redirects=False).status_code == 200


def test_a_cookie_is_not_a_bearer_token_nor_a_token_a_cookie(client: TestClient, engine: Engine) -> None:
    _user(engine, "hoa", role="agent")
    sign_in(client, "hoa", PASSWORD)
    cookie = client.cookies[COOKIE]
    client.cookies.clear()
    assert client.get("/api/v1/auth/me", headers={"Authorization": f"Bearer {cookie}"}).status_code == 401
    token = client.post("/api/v1/auth/token", data={"username": "hoa", "password": PASSWORD}).json()
    client.cookies.set(COOKIE, token["access_token"])
    assert client.get("/api/v1/auth/me").status_code == 401


def test_login_from_another_site_or_without_the_form_token_is_refused(
    client: TestClient, engine: Engine
) -> None:
    _user(engine, "tuan", role="agent")
    token = login_token(client)
    form = {"username": "tuan", "password": PASSWORD, "login_token": token}
    foreign = client.post("/staff/login", data=form, headers={"Origin": "https://evil.example"})
    assert foreign.status_code == 403 and "trang web khác" in foreign.text
    without = client.post("/staff/login", data={"username": "tuan", "password": PASSWORD})
    assert without.status_code == 403 and "Trang đăng nhập đã cũ" in without.text
    client.cookies.clear()  # a token lifted from someone else's form is worthless without their cookie
    assert client.post("/staff/login", data=form).status_code == 403
    assert COOKIE not in client.cookies
    assert sign_in(client, "tuan", PASSWORD, headers={"Origin": "http://testserver"}).status_code == 303


def test_forty_wrong_passwords_from_one_address_do_not_lock_the_account(engine: Engine) -> None:
    _user(engine, "admin")
    app = create_app(engine)
    with TestClient(app, client=ATTACKER) as attacker, TestClient(app, client=COLLEAGUE) as colleague:
        answers = [
            attacker.post("/api/v1/auth/token", data={"username": "admin", "password": f"guess-{n}"})
            for n in range(40)
        ]
        codes = [answer.status_code for answer in answers]
        assert codes[:10] == [401] * 10 and set(codes[10:]) == {429}
        assert int(answers[-1].headers["Retry-After"]) >= 1
        # the right password from the guessing address waits too: it is not even checked
        assert sign_in(attacker, "admin", PASSWORD).status_code == 429
        assert sign_in(colleague, "admin", PASSWORD).status_code == 303
        token = colleague.post("/api/v1/auth/token", data={"username": "admin", "password": PASSWORD})
        assert token.status_code == 200


def test_rotating_x_forwarded_for_does_not_reset_the_pause(engine: Engine) -> None:
    _user(engine, "giamsat", role="supervisor")
    with TestClient(create_app(engine), client=ATTACKER) as attacker:
        codes = [
            attacker.post(
                "/api/v1/auth/token",
                data={"username": "giamsat", "password": "wrong"},
                headers={"X-Forwarded-For": f"203.0.113.{n}", "X-Real-IP": f"203.0.113.{n}"},
            ).status_code
            for n in range(15)
        ]
    assert codes == [401] * 10 + [429] * 5


def test_an_ipv6_guesser_cannot_rotate_through_its_own_network(engine: Engine) -> None:
    _user(engine, "qldt", role="department_staff", department="qldt")
    app = create_app(engine)
    codes = []
    for n in range(12):
        with TestClient(app, client=(f"2001:db8:7:1::{n + 1:x}", 40000)) as guesser:
            answer = guesser.post("/api/v1/auth/token", data={"username": "qldt", "password": "wrong"})
            codes.append(answer.status_code)
    assert codes == [401] * 10 + [429] * 2
    with TestClient(app, client=("2001:db8:7:2::1", 40000)) as neighbour:
        assert (
            neighbour.post("/api/v1/auth/token", data={"username": "qldt", "password": PASSWORD}).status_code
            == 200
        )


def test_rotating_x_forwarded_for_does_not_reset_the_wrong_link_limit(client: TestClient) -> None:
    codes = {
        client.get(f"/t/not-a-link-{n}", headers={"X-Forwarded-For": f"203.0.113.{n}"}).status_code
        for n in range(32)
    }
    assert 429 in codes


def test_real_and_unknown_accounts_get_the_same_answer(engine: Engine) -> None:
    _user(engine, "thu", role="agent")
    with TestClient(create_app(engine)) as client:
        real = client.post("/api/v1/auth/token", data={"username": "thu", "password": "wrong-one"})
        unknown = client.post("/api/v1/auth/token", data={"username": "khong-co", "password": "wrong-one"})
        real_page = sign_in(client, "thu", "wrong-one")
        unknown_page = sign_in(client, "khong-co", "wrong-one")
    assert (real.status_code, real.json()) == (unknown.status_code, unknown.json())
    assert real.json()["detail"].startswith("Sai tên đăng nhập hoặc mật khẩu")
    assert real_page.status_code == unknown_page.status_code == 401
    assert real_page.text.replace("thu", "khong-co").count("Sai tên") == unknown_page.text.count("Sai tên")


def _ticket(engine: Engine) -> int:
    with unit_of_work(engine) as session:
        draft = service.NewTicket(
            description="Ổ gà lớn trên đường 16 Tháng 4",
            channel=Channel.PHONE,
            contact=Contact(),
            category="road_damage",
            ward="phan-rang",
        )
        return service.create_ticket(session, draft).id or 0


@pytest.mark.parametrize(
    "change",
    [{"legal_process": True}, {"hidden_from_public": True}, {"priority": "low"}, {"ward": "ninh-chu"}],
)
def test_department_staff_cannot_change_their_own_sla(
    client: TestClient, engine: Engine, make_user: object, change: dict[str, object]
) -> None:
    ticket_id = _ticket(engine)
    staff = make_user("department_staff", department="qldt")  # type: ignore[operator]
    refused = client.patch(f"/api/v1/tickets/{ticket_id}", json=change, headers=staff)
    assert refused.status_code == 403, refused.text
    assert "“Cán bộ đơn vị” không được thay đổi" in refused.json()["detail"]
    allowed = client.patch(f"/api/v1/tickets/{ticket_id}", json={"title": "Ổ gà đã rào chắn"}, headers=staff)
    assert allowed.status_code == 200
    supervisor = make_user("supervisor")  # type: ignore[operator]
    assert client.patch(f"/api/v1/tickets/{ticket_id}", json=change, headers=supervisor).status_code == 200


def test_every_editable_field_has_its_roles() -> None:
    assert set(service.EDITABLE_FIELDS) == permissions.DESK_FIELDS == set(permissions.FIELD_NAMES_VI)


def test_the_service_itself_refuses_a_field_the_role_may_not_change(engine: Engine) -> None:
    ticket_id = _ticket(engine)
    with unit_of_work(engine) as session:
        officer = create_user(
            session, username="phuong.pr", password=PASSWORD, role="ward_officer", ward="phan-rang"
        )
        with pytest.raises(Forbidden, match="mức ưu tiên"):
            service.update_ticket(
                session, ticket_id, {"priority": "low"}, actor=Actor.staff(officer), viewer=officer
            )
