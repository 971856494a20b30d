"""The status page and its JSON, kept per version of the ticket (issue 22): a change shows at the next
request, an unchanged ticket answers 304, a kept page never goes to another link or another language, and
kept pages follow the privacy rules like fresh ones."""

from __future__ import annotations

import re
from email.utils import format_datetime

import httpx
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import update
from sqlalchemy.engine import Engine
from sqlmodel import col
from test_public_pages import file_report, jpeg, resolve, ticket_by_token

from kernel.db import unit_of_work
from kernel.timeutil import utcnow
from sla.models import SlaClock
from tickets import service
from tickets.models import Attachment, Citizen
from tickets.reference import Category
from tickets.service import SYSTEM

PHONE = "0905123456"
EMAIL = "chi.lan@example.vn"

PATHS = {"page": "/t/{}", "json": "/api/v1/public/reports/{}"}


def _report(client: TestClient, text: str = "Ổ gà lớn trước nhà số 12 đường Thống Nhất") -> str:
    return file_report(client, text, phone=PHONE, email=EMAIL)


@pytest.mark.parametrize("kind", list(PATHS))
def test_an_unchanged_ticket_answers_304_and_a_change_shows_at_once(
    kind: str, client: TestClient, engine: Engine
) -> None:
    token = _report(client)
    ticket_id = ticket_by_token(engine, token).id or 0
    path = PATHS[kind].format(token)
    first = client.get(path)
    assert first.status_code == 200
    assert first.headers["cache-control"] == "private, no-cache"  # a secret link: no shared cache keeps it
    etag, modified = first.headers["etag"], first.headers["last-modified"]
    again = client.get(path, headers={"If-None-Match": etag})
    assert again.status_code == 304 and again.content == b"" and again.headers["etag"] == etag
    assert client.get(path, headers={"If-Modified-Since": modified}).status_code == 304
    assert client.get(path, headers={"If-None-Match": '"something-else"'}).status_code == 200

    resolve(engine, ticket_id, summary="Đã vá xong ổ gà trước nhà số 12")
    changed = client.get(path, headers={"If-None-Match": etag})
    assert changed.status_code == 200 and changed.headers["etag"] != etag
    assert "Đã vá xong ổ gà trước nhà số 12" in changed.text
    assert ("resolved" in changed.text) if kind == "json" else ('data-testid="status">' in changed.text)
    assert client.get(path, headers={"If-None-Match": changed.headers["etag"]}).status_code == 304


@pytest.mark.parametrize("kind", list(PATHS))
def test_every_kind_of_change_gives_a_new_version(kind: str, client: TestClient, engine: Engine) -> None:
    """Not only the status: a public reply, a hidden photo, a category renamed, a merge, a citizen's
    rename (their name is masked in the texts), an SLA clock moved. An internal note changes nothing
    the page shows, so it keeps the version."""
    sent = client.post(
        "/report",
        data={"text": "Ổ gà lớn trước nhà số 12 đường Thống Nhất", "phone": PHONE},
        files={"photos": ("o-ga.jpg", jpeg(), "image/jpeg")},
        follow_redirects=False,
    )
    token = sent.headers["location"].split("/t/", 1)[1].split("?", 1)[0]
    other = _report(client, "Đèn đường hỏng ở hẻm 5 Ngô Gia Tự")
    ticket = ticket_by_token(engine, token)
    ticket_id = ticket.id or 0
    path = PATHS[kind].format(token)
    seen = {client.get(path).headers["etag"]}

    def changes_version() -> None:
        response = client.get(path)
        assert response.status_code == 200
        assert response.headers["etag"] not in seen
        seen.add(response.headers["etag"])

    with unit_of_work(engine) as session:
        service.add_comment(session, ticket_id, text="Đội sẽ tới trong chiều nay", public=True, actor=SYSTEM)
    changes_version()
    assert "Đội sẽ tới trong chiều nay" in client.get(path).text
    current = client.get(path)
    with unit_of_work(engine) as session:  # an internal note shows nothing: the same version, a 304
        service.add_comment(session, ticket_id, text="ghi chú nội bộ", public=False, actor=SYSTEM)
    assert client.get(path, headers={"If-None-Match": current.headers["etag"]}).status_code == 304
    assert "ghi chú nội bộ" not in client.get(path).text
    with unit_of_work(engine) as session:
        category = session.get(Category, ticket_by_token(engine, token).category_code or "other")
        assert category is not None
        category.name_vi = "Tên mới của lĩnh vực"
    changes_version()
    with unit_of_work(engine) as session:  # each written without touching the ticket row or its events
        hidden = session.execute(
            update(Attachment).where(col(Attachment.ticket_id) == ticket_id).values(public=False)
        )
        assert hidden.rowcount == 1  # type: ignore[attr-defined]
    changes_version()
    with unit_of_work(engine) as session:
        session.execute(
            update(Citizen).where(col(Citizen.id) == ticket.citizen_id).values(display_name="Trần Thị Lan")
        )
    changes_version()
    with unit_of_work(engine) as session:
        moved = session.execute(
            update(SlaClock).where(col(SlaClock.ticket_id) == ticket_id).values(due_at=utcnow())
        )
        assert moved.rowcount >= 1  # type: ignore[attr-defined]
    changes_version()
    with unit_of_work(engine) as session:
        service.merge(session, ticket_by_token(engine, other).id or 0, into_id=ticket_id, actor=SYSTEM)
    changes_version()


def test_a_kept_page_never_goes_to_another_link(client: TestClient, engine: Engine) -> None:
    first, second = (
        _report(client, "Cây đổ chắn đường Lê Duẩn"),
        _report(client, "Nước ngập sâu ở chợ Phủ Hà"),
    )
    for _ in range(2):  # the second round is served from what was kept
        one, two = client.get(f"/t/{first}"), client.get(f"/t/{second}")
        assert "Cây đổ chắn đường Lê Duẩn" in one.text and "chợ Phủ Hà" not in one.text
        assert "chợ Phủ Hà" in two.text and "Lê Duẩn" not in two.text
        assert f"/t/{first}/reply" in one.text and second not in one.text
        assert f"/t/{second}/reply" in two.text and first not in two.text
        # another link's version is not this one's
        assert client.get(f"/t/{second}", headers={"If-None-Match": one.headers["etag"]}).status_code == 200
    assert client.get("/t/not-a-token").status_code == 404
    assert client.get("/api/v1/public/reports/not-a-token").status_code == 404


def test_a_kept_page_is_never_served_in_another_language(client: TestClient) -> None:
    token = _report(client)
    for _ in range(2):
        vietnamese = client.get(f"/t/{token}", headers={"Cookie": "lang=vi"})
        english = client.get(f"/t/{token}", headers={"Cookie": "lang=en"})
        assert '<html lang="vi">' in vietnamese.text and '<html lang="en">' in english.text
        assert vietnamese.headers["etag"] != english.headers["etag"]
        assert "Cookie" in vietnamese.headers["vary"]
    kept = client.get(f"/t/{token}", headers={"Cookie": "lang=vi", "If-None-Match": english.headers["etag"]})
    assert kept.status_code == 200 and '<html lang="vi">' in kept.text
    switched = client.get(f"/t/{token}?lang=en")  # the switch link is served kept and remembers the choice
    assert '<html lang="en">' in switched.text and "lang=en" in switched.headers.get("set-cookie", "")


def test_each_kept_page_has_its_own_reply_form_id(client: TestClient) -> None:
    token = _report(client)
    ids = {
        re.search(r'name="submission_id" value="([0-9a-f]{32})"', client.get(f"/t/{token}").text).group(1)  # type: ignore[union-attr]
        for _ in range(3)
    }
    assert len(ids) == 3


@pytest.mark.parametrize("kind", list(PATHS))
def test_kept_answers_follow_the_privacy_rules(kind: str, client: TestClient) -> None:
    token = _report(client, f"Ổ gà trước nhà, gọi tôi số {PHONE} hoặc {EMAIL}")
    path = PATHS[kind].format(token)
    for response in (client.get(path), client.get(path)):  # rendered, then kept
        assert response.status_code == 200
        assert PHONE not in response.text and EMAIL not in response.text
        assert "0905 123 456" not in response.text


def test_if_modified_since_before_the_last_change_gets_the_page(client: TestClient) -> None:
    token = _report(client)
    long_ago = format_datetime(utcnow().replace(year=2020), usegmt=True)
    assert client.get(f"/t/{token}", headers={"If-Modified-Since": long_ago}).status_code == 200
    assert client.get(f"/t/{token}", headers={"If-Modified-Since": "not a date"}).status_code == 200


def test_the_status_page_headers_survive_the_security_middleware(client: TestClient) -> None:
    token = _report(client)
    response: httpx.Response = client.get(f"/t/{token}")
    assert response.headers["cache-control"] == "private, no-cache"
    assert "default-src 'self'" in response.headers["content-security-policy"]
