"""Security headers on every kind of answer (public, staff, API, static, Open311, webhooks, errors up to
500), a CSP without 'unsafe-inline' that the staff and public pages keep (no inline script, style or
handler in their HTML), no-store on private answers, and private files served as re-encoded downloads."""

from __future__ import annotations

import io
from html.parser import HTMLParser

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from PIL import Image
from sqlalchemy.engine import Engine
from staff_signin import sign_in

from civicdesk.asgi import create_app
from kernel.db import unit_of_work
from tickets.citizens import Contact
from tickets.models import Channel
from tickets.service import NewTicket, create_ticket
from tickets.staff import create_user

PASSWORD = "secret-pass"
ALWAYS = ("X-Content-Type-Options", "Referrer-Policy", "Content-Security-Policy", "X-Frame-Options")
STAFF_PAGES = ("/staff/console", "/staff/tasks", "/staff/tickets", "/staff/boards", "/staff/admin")
PUBLIC_PAGES = ("/", "/report", "/reports", "/lookup", "/ioc")


def _sign_in(client: TestClient, engine: Engine, role: str = "admin") -> None:
    with unit_of_work(engine) as session:
        create_user(session, username=f"h-{role}", password=PASSWORD, role=role)
    answer = sign_in(client, f"h-{role}", PASSWORD)
    assert answer.status_code == 303


def _ticket(engine: Engine) -> int:
    with unit_of_work(engine) as session:
        ticket = create_ticket(
            session, NewTicket(description="Đèn đường hỏng ở Lê Lợi", channel=Channel.WEB, contact=Contact())
        )
        return ticket.id or 0


def _assert_secured(answer: object, path: str) -> None:
    headers = answer.headers  # type: ignore[attr-defined]
    missing = [name for name in ALWAYS if name not in headers]
    assert not missing, f"{path} answered without {missing}"
    assert headers["X-Content-Type-Options"] == "nosniff"
    assert "frame-ancestors 'none'" in headers["Content-Security-Policy"]
    assert "Strict-Transport-Security" not in headers  # plain HTTP: no HSTS


def test_every_kind_of_answer_carries_the_headers(client: TestClient, engine: Engine) -> None:
    ticket_id = _ticket(engine)
    anonymous = [
        *PUBLIC_PAGES,
        "/static/app.css",
        "/static/staff.js",
        "/api/v1/public/reports",
        "/api/v1/tickets",  # 401
        "/open311/v2/services.json",
        "/openapi.json",
        "/docs",
        "/no-such-page",  # 404 page
        "/t/not-a-real-token",  # 404 page
        "/api/v1/no-such-thing",  # 404 JSON
        "/staff/login",
    ]
    for path in anonymous:
        _assert_secured(client.get(path), path)
    _assert_secured(client.post("/webhooks/zalo", content=b"{}"), "/webhooks/zalo")
    _sign_in(client, engine)
    for path in (*STAFF_PAGES, f"/staff/tickets/{ticket_id}", "/api/v1/tickets", "/api/v1/tickets/x"):
        _assert_secured(client.get(path), path)


def test_an_unexpected_error_is_a_500_with_the_headers(engine: Engine) -> None:
    app: FastAPI = create_app(engine)

    @app.get("/api/v1/boom")
    def boom() -> None:
        raise RuntimeError("a bug")

    @app.get("/boom")
    def boom_page() -> None:
        raise RuntimeError("a bug")

    with TestClient(app, raise_server_exceptions=False) as client:
        for path in ("/api/v1/boom", "/boom"):
            answer = client.get(path)
            assert answer.status_code == 500 and "Traceback" not in answer.text
            _assert_secured(answer, path)


def test_hsts_only_behind_tls(engine: Engine) -> None:
    with TestClient(create_app(engine), base_url="https://civicdesk.test") as client:
        assert client.get("/").headers["Strict-Transport-Security"].startswith("max-age=31536000")
        assert "Strict-Transport-Security" in client.get("/api/v1/tickets").headers


def test_staff_pages_have_a_strict_csp_and_no_inline_script(client: TestClient, engine: Engine) -> None:
    ticket_id = _ticket(engine)
    _sign_in(client, engine)
    pages = [*STAFF_PAGES, f"/staff/tickets/{ticket_id}", "/staff/login", *PUBLIC_PAGES]
    for path in pages:
        answer = client.get(path)
        assert answer.status_code == 200, path
        policy = answer.headers["Content-Security-Policy"]
        assert "unsafe-inline" not in policy and "script-src 'self'" in policy
        found = _Inline()
        found.feed(answer.text)
        assert found.problems == [], f"{path}: {found.problems}"
    assert client.get("/staff/console").text.count('src="/static/staff.js"') == 1


class _Inline(HTMLParser):
    """What a CSP without 'unsafe-inline' blocks: inline scripts, <style>, style="", on…=, javascript:."""

    DATA_TYPES = ("application/json", "application/ld+json")

    def __init__(self) -> None:
        super().__init__()
        self.problems: list[str] = []
        self._in_script = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        named = dict(attrs)
        if tag == "script":
            if not named.get("src") and named.get("type") not in self.DATA_TYPES:
                self.problems.append("inline <script>")
        if tag == "style":
            self.problems.append("<style> element")
        for name, value in attrs:
            if name == "style" or name.startswith("on"):
                self.problems.append(f"<{tag} {name}=…>")
            if name in ("href", "src", "action") and (value or "").strip().lower().startswith("javascript:"):
                self.problems.append(f"<{tag} {name}=javascript:…>")


def test_exports_are_never_cached(client: TestClient, engine: Engine) -> None:
    _ticket(engine)
    _sign_in(client, engine, role="supervisor")
    for fmt in ("csv", "xlsx"):
        answer = client.get(f"/staff/tickets/export.{fmt}")
        assert answer.status_code == 200
        assert answer.headers["Cache-Control"] == "no-store"
        assert answer.headers["Content-Disposition"].startswith("attachment;")


def _gif_with_comment() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (24, 24), "green").save(out, "GIF", comment=b"<script>alert('gif')</script>")
    return out.getvalue()


def _jpeg_html_polyglot() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (24, 24), "blue").save(out, "JPEG", comment=b"<html><script>alert('jpg')</script>")
    return out.getvalue() + b"<html><body onload=alert(1)>"


PDF_WITH_JS = (
    b"%PDF-1.4\n1 0 obj<</Type/Catalog/OpenAction<</S/JavaScript/JS(app.alert(1))>>>>endobj\n"
    b"trailer<</Root 1 0 R>>\n%%EOF\n"
)


@pytest.mark.parametrize(
    ("name", "data", "payload", "mime"),
    [
        ("bình luận.gif", _gif_with_comment(), b"<script>", "image/gif"),
        ("ảnh.jpg", _jpeg_html_polyglot(), b"<script>", "image/jpeg"),
        ("hồ sơ.pdf", PDF_WITH_JS, None, "application/pdf"),
    ],
)
def test_private_files_are_re_encoded_downloads_never_cached(
    client: TestClient,
    engine: Engine,
    admin: dict[str, str],
    name: str,
    data: bytes,
    payload: bytes | None,
    mime: str,
) -> None:
    ticket_id = _ticket(engine)
    uploaded = client.post(
        f"/api/v1/tickets/{ticket_id}/attachments",
        files={"file": (name, data, "text/html")},  # the name and type the sender claims mean nothing
        data={"public": "false"},
        headers=admin,
    )
    assert uploaded.status_code == 201, uploaded.text
    assert uploaded.json()["mime_type"] == mime
    answer = client.get(f"/api/v1/attachments/{uploaded.json()['id']}", headers=admin)
    assert answer.status_code == 200
    assert answer.headers["Content-Type"] == mime
    assert answer.headers["Content-Disposition"].startswith("attachment;")
    assert "UTF-8''" in answer.headers["Content-Disposition"]
    assert answer.headers["Cache-Control"] == "no-store"
    assert answer.headers["X-Content-Type-Options"] == "nosniff"
    assert "sandbox" in answer.headers["Content-Security-Policy"]
    if payload is not None:
        assert payload in data and payload not in answer.content and b"<html>" not in answer.content
        Image.open(io.BytesIO(answer.content)).verify()  # still the picture


def test_a_public_gif_loses_its_comment_when_stored(
    client: TestClient, engine: Engine, admin: dict[str, str]
) -> None:
    ticket_id = _ticket(engine)
    uploaded = client.post(
        f"/api/v1/tickets/{ticket_id}/attachments",
        files={"file": ("a.gif", _gif_with_comment(), "image/gif")},
        data={"public": "true", "purpose": "after"},
        headers=admin,
    )
    assert uploaded.status_code == 201
    with unit_of_work(engine) as session:
        from tickets.models import Attachment
        from tickets.storage import default_store

        stored = session.get(Attachment, uploaded.json()["id"])
        assert stored is not None
        assert b"<script>" not in default_store().get(stored.storage_key)
