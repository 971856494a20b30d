"""Small staff-page defects of issue 20: "Kênh: Tất cả" filters, errors in the staff layout, merging by
the code people read, the wallboard with no calls, Alt+P without a linked extension."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.engine import Engine
from staff_signin import sign_in

from kernel.db import unit_of_work
from tickets.citizens import Contact
from tickets.models import Channel, Status, Ticket
from tickets.service import NewTicket, create_ticket
from tickets.staff import create_user

PASSWORD = "secret-pass"


@pytest.fixture
def tickets(engine: Engine) -> dict[str, tuple[int, str]]:
    """Two reports by phone and Zalo, and the people who work on them: {name: (id, code)}."""
    made: dict[str, tuple[int, str]] = {}
    with unit_of_work(engine) as session:
        create_user(session, username="giamsat", password=PASSWORD, role="supervisor")
        create_user(session, username="dtv", password=PASSWORD, role="agent")
        for name, text, channel in [
            ("pothole", "Ổ gà lớn trên đường Thống Nhất", Channel.PHONE),
            ("pothole_again", "Lại báo ổ gà đường Thống Nhất", Channel.ZALO),
        ]:
            draft = NewTicket(
                description=text, channel=channel, contact=Contact(phone="0905111222"), ward="phan-rang"
            )
            ticket = create_ticket(session, draft)
            made[name] = (ticket.id or 0, ticket.code)
    return made


def signed_in(client: TestClient, username: str) -> str:
    """Sign in through the form; returns the staff pages' CSRF token."""
    assert sign_in(client, username, PASSWORD).status_code == 303
    page = client.get("/staff/tickets").text
    return page.split('name="csrf-token" content="', 1)[1].split('"', 1)[0]


def in_staff_layout(html: str) -> bool:
    return '<body class="staff"' in html and 'href="/lookup"' not in html


def test_an_empty_channel_means_every_channel(
    client: TestClient, tickets: dict[str, tuple[int, str]]
) -> None:
    signed_in(client, "giamsat")
    page = client.get(
        "/staff/tickets", params={"q": "", "status": "", "channel": "", "ward": "", "category": ""}
    )
    assert page.status_code == 200
    assert all(code in page.text for _, code in tickets.values())
    assert ">Hộp thư thoại</option>" in page.text and ">voicemail</option>" not in page.text
    only_zalo = client.get("/staff/tickets", params={"channel": "zalo"}).text
    assert tickets["pothole_again"][1] in only_zalo and tickets["pothole"][1] not in only_zalo
    export = client.get("/staff/tickets/export.csv", params={"channel": ""})
    assert export.status_code == 200 and tickets["pothole"][1] in export.text


def test_a_bad_filter_is_explained_in_the_staff_layout(
    client: TestClient, tickets: dict[str, tuple[int, str]]
) -> None:
    signed_in(client, "giamsat")
    page = client.get("/staff/tickets", params={"channel": "pigeon"})
    assert page.status_code == 422
    assert in_staff_layout(page.text)
    assert "Kênh tiếp nhận không hợp lệ" in page.text and 'href="/staff/tickets"' in page.text
    bad_date = client.get("/staff/tickets", params={"created_from": "hôm qua"})
    assert bad_date.status_code == 422 and in_staff_layout(bad_date.text)
    assert "Ngày không hợp lệ" in bad_date.text and "field_" not in bad_date.text
    assert 'name="created_from" value="hôm qua"' in bad_date.text  # the typed text stays
    english = client.get("/staff/tickets", params={"channel": "pigeon", "lang": "en"})
    assert "Unknown channel" in english.text and in_staff_layout(english.text)


def test_a_missing_ticket_page_stays_in_the_staff_layout(
    client: TestClient, tickets: dict[str, tuple[int, str]]
) -> None:
    signed_in(client, "giamsat")
    page = client.get("/staff/tickets/987654")
    assert page.status_code == 404 and in_staff_layout(page.text)


def test_merging_takes_the_code_people_read(
    client: TestClient, engine: Engine, tickets: dict[str, tuple[int, str]]
) -> None:
    csrf = signed_in(client, "dtv")
    duplicate_id, duplicate_code = tickets["pothole_again"]
    original_id, original_code = tickets["pothole"]
    page = client.get(f"/staff/tickets/{duplicate_id}").text
    assert 'name="into_code"' in page and 'name="into"' not in page
    url = f"/api/v1/tickets/{duplicate_id}/merge"
    headers = {"X-CSRF-Token": csrf}

    missing = client.post(url, json={"into_code": "PR-1999-000001"}, headers=headers)
    assert (
        missing.status_code == 404 and "Không tìm thấy phản ánh mã PR-1999-000001" in missing.json()["detail"]
    )
    itself = client.post(url, json={"into_code": duplicate_code.lower()}, headers=headers)
    assert itself.status_code == 422 and "chính nó" in itself.json()["detail"]

    merged = client.post(url, json={"into_code": f"  {original_code.lower()} "}, headers=headers)
    assert merged.status_code == 200, merged.text
    with unit_of_work(engine) as session:
        ticket = session.get(Ticket, duplicate_id)
        assert ticket is not None and ticket.duplicate_of_id == original_id
        assert ticket.status == Status.DUPLICATE


def test_merging_needs_exactly_one_target(client: TestClient, tickets: dict[str, tuple[int, str]]) -> None:
    csrf = signed_in(client, "dtv")
    url = f"/api/v1/tickets/{tickets['pothole_again'][0]}/merge"
    both = {"into": tickets["pothole"][0], "into_code": tickets["pothole"][1]}
    assert client.post(url, json=both, headers={"X-CSRF-Token": csrf}).status_code == 422
    assert client.post(url, json={}, headers={"X-CSRF-Token": csrf}).status_code == 422
    by_id = client.post(url, json={"into": tickets["pothole"][0]}, headers={"X-CSRF-Token": csrf})
    assert by_id.status_code == 200  # programs keep merging by id


def test_the_wallboard_with_no_calls_shows_a_dash(
    client: TestClient, tickets: dict[str, tuple[int, str]]
) -> None:
    signed_in(client, "giamsat")
    page = client.get("/staff/boards").text
    assert "NaN" not in page and "None" not in page
    for kpi in ("service_level", "abandonment_rate"):
        assert f'<span data-kpi="{kpi}" data-format="percent">—</span>' in page


def test_the_console_without_an_extension_explains_alt_p(
    client: TestClient, tickets: dict[str, tuple[int, str]]
) -> None:
    signed_in(client, "dtv")
    page = client.get("/staff/console").text
    assert 'id="pause"' not in page
    assert 'id="no-extension"' in page and "Không thể tạm nghỉ (Alt+P)" in page
