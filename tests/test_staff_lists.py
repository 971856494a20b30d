"""The staff lists of issue 20: breached work first with "quá hạn N ngày / giờ", sorting, real paging
with counts, search with and without diacritics, filter mistakes shown next to their field, exports with
names, date cells, deadline and SLA state; the ticket page's photos, recordings and canned replies;
/reports paged."""

from __future__ import annotations

import csv
import io
import re
import struct
from datetime import datetime, timedelta

import pytest
from fastapi.testclient import TestClient
from openpyxl import load_workbook
from PIL import Image
from sqlalchemy import update
from sqlalchemy.engine import Engine
from sqlmodel import col, select
from staff_signin import sign_in

from kernel.db import unit_of_work
from kernel.timeutil import city_tz, utcnow
from sla.models import ClockKind, SlaClock
from tickets.attachments import store_attachment
from tickets.citizens import Contact
from tickets.models import Channel, Priority, Status, Ticket
from tickets.service import NewTicket, create_ticket
from tickets.staff import create_user

PASSWORD = "secret-pass"
PHONE = "0905111222"


def _ticket(engine: Engine, text: str, **values: object) -> tuple[int, str]:
    """A street-lighting report of the qldt department (its SLA clocks started), with ``values`` set."""
    with unit_of_work(engine) as session:
        draft = NewTicket(
            description=text,
            title=text,
            category="street_lighting",
            ward="phan-rang",
            contact=Contact(phone=PHONE),
            channel=Channel.ZALO,
        )
        ticket = create_ticket(session, draft)
        ticket_id, code = ticket.id or 0, ticket.code
        session.execute(
            update(Ticket)
            .where(col(Ticket.id) == ticket_id)
            .values(department_code="qldt", status=Status.ASSIGNED, **values)
        )
    return ticket_id, code


def _clock(engine: Engine, ticket_id: int, **values: object) -> None:
    with unit_of_work(engine) as session:
        session.execute(
            update(SlaClock)
            .where(col(SlaClock.ticket_id) == ticket_id, col(SlaClock.kind) == ClockKind.RESOLUTION)
            .values(**values)
        )


@pytest.fixture
def people(client: TestClient, engine: Engine) -> TestClient:
    with unit_of_work(engine) as session:
        create_user(session, username="giamsat", password=PASSWORD, role="supervisor")
        create_user(session, username="minh", password=PASSWORD, role="department_staff", department="qldt")
    return client


@pytest.fixture
def urgencies(people: TestClient, engine: Engine) -> dict[str, str]:
    """One ticket per SLA state, created in the opposite order of the urgency they must be listed in."""
    codes: dict[str, str] = {}
    now = utcnow()
    for name in ("on_track", "at_risk", "breached_hours", "breached_days"):
        ticket_id, codes[name] = _ticket(engine, f"Đèn đường hỏng {name}")
        if name == "at_risk":
            _clock(engine, ticket_id, warn_at=now - timedelta(minutes=5), due_at=now + timedelta(hours=2))
        elif name == "breached_hours":
            _clock(engine, ticket_id, due_at=now - timedelta(hours=5, minutes=10))
        elif name == "breached_days":
            _clock(engine, ticket_id, due_at=now - timedelta(days=3, hours=2))
        else:
            _clock(engine, ticket_id, due_at=now + timedelta(days=4), warn_at=now + timedelta(days=3))
    return codes


def signed_in(client: TestClient, username: str) -> None:
    assert sign_in(client, username, PASSWORD).status_code == 303


def row_codes(html: str) -> list[str]:
    return re.findall(r'<a href="/staff/tickets/\d+">(PR-\d{4}-\d+)</a>', html)


def sla_labels(html: str) -> list[str]:
    return [label.strip() for label in re.findall(r'data-sla="[a-z_]+">([^<]*)<', html)]


# --- order, labels, sorting ------------------------------------------------------------------------------


def test_the_worklist_puts_breached_first_then_at_risk_then_on_time_with_labels(
    people: TestClient, urgencies: dict[str, str]
) -> None:
    signed_in(people, "minh")
    page = people.get("/staff/tasks")
    assert page.status_code == 200
    expected = ["breached_days", "breached_hours", "at_risk", "on_track"]
    assert row_codes(page.text) == [urgencies[name] for name in expected]
    labels = sla_labels(page.text)  # the one wording of sla.state, as on the ticket page and the board
    assert labels[:2] == ["quá hạn 3 ngày", "quá hạn 5 giờ"]
    assert labels[2].startswith("sắp đến hạn, còn ") and labels[3].startswith("còn ")
    assert 'data-sla="no_deadline"' not in page.text
    link = re.search(rf'href="(/staff/tickets/\d+)">{urgencies["breached_days"]}<', page.text)
    assert link is not None
    ticket_page = people.get(link.group(1)).text
    assert re.search(r'data-sla="breached">quá hạn 3 ngày<', ticket_page)  # the same words as the list
    english = people.get("/staff/tasks", params={"lang": "en"}).text
    assert sla_labels(english)[:2] == ["overdue by 3 days", "overdue by 5 hours"]


def test_the_ticket_list_has_the_same_order_and_deadline_and_priority_columns(
    people: TestClient, urgencies: dict[str, str]
) -> None:
    signed_in(people, "giamsat")
    page = people.get("/staff/tickets").text
    assert row_codes(page) == [
        urgencies[n] for n in ("breached_days", "breached_hours", "at_risk", "on_track")
    ]
    assert "<th" in page and ">Hạn xử lý" in page and ">Mức ưu tiên" in page
    assert "Bình thường" in page  # the priority, by name


def test_sorting_by_column(people: TestClient, engine: Engine, urgencies: dict[str, str]) -> None:
    with unit_of_work(engine) as session:
        session.execute(
            update(Ticket).where(col(Ticket.code) == urgencies["on_track"]).values(priority=Priority.URGENT)
        )
    signed_in(people, "giamsat")
    by_priority = row_codes(people.get("/staff/tickets", params={"sort": "priority"}).text)
    assert by_priority[0] == urgencies["on_track"]
    newest_first = row_codes(people.get("/staff/tickets", params={"sort": "-created"}).text)
    assert newest_first == [urgencies[n] for n in ("breached_days", "breached_hours", "at_risk", "on_track")]
    oldest_first = row_codes(people.get("/staff/tickets", params={"sort": "created"}).text)
    assert oldest_first == list(reversed(newest_first))
    latest_deadline = row_codes(people.get("/staff/tickets", params={"sort": "-due"}).text)
    assert latest_deadline[0] == urgencies["on_track"] and latest_deadline[-1] == urgencies["breached_days"]
    page = people.get("/staff/tickets", params={"sort": "priority"}).text
    assert 'aria-sort="ascending"' in page and "sort=-priority" in page  # a second click reverses


def test_filtering_by_sla_state_in_the_list_and_the_export(
    people: TestClient, urgencies: dict[str, str]
) -> None:
    signed_in(people, "giamsat")
    breached = people.get("/staff/tickets", params={"sla": "breached"}).text
    assert row_codes(breached) == [urgencies["breached_days"], urgencies["breached_hours"]]
    assert "1–2 / 2" in breached
    at_risk = people.get("/staff/tickets", params={"sla": "at_risk"}).text
    assert row_codes(at_risk) == [urgencies["at_risk"]]
    export = people.get("/staff/tickets/export.csv", params={"sla": "breached"}).content.decode("utf-8-sig")
    assert [line.split(",")[0] for line in export.splitlines()[1:]] == row_codes(breached)
    wrong = people.get("/staff/tickets", params={"sla": "late"})
    assert wrong.status_code == 422 and "Tình trạng hạn không hợp lệ" in wrong.text


# --- paging and search -----------------------------------------------------------------------------------


def test_paging_counts_and_keeps_the_filter(people: TestClient, engine: Engine) -> None:
    with unit_of_work(engine) as session:
        for n in range(53):
            create_ticket(session, NewTicket(description=f"Rác thải số {n}", ward="phan-rang"))
        create_ticket(session, NewTicket(description="Cây đổ", ward="phan-rang"))
    signed_in(people, "giamsat")
    first = people.get("/staff/tickets", params={"q": "rac thai"}).text
    assert "1–50 / 53" in first and len(row_codes(first)) == 50
    assert 'rel="next" href="/staff/tickets?q=rac+thai&amp;page=2"' in first
    second = people.get("/staff/tickets", params={"q": "rac thai", "page": "2"}).text
    assert "51–53 / 53" in second and len(row_codes(second)) == 3
    assert not set(row_codes(first)) & set(row_codes(second))
    assert 'rel="prev"' in second and 'rel="next"' not in second
    past_the_end = people.get("/staff/tickets", params={"q": "rac thai", "page": "9"}).text
    assert "51–53 / 53" in past_the_end and len(row_codes(past_the_end)) == 3


def test_thousands_in_the_count_are_grouped() -> None:
    from web.pages.common import TEMPLATES

    count = TEMPLATES.env.from_string("{{ 1234|number }}")
    assert count.render(lang="vi") == "1.234" and count.render(lang="en") == "1,234"


def test_search_by_words_with_and_without_diacritics_by_code_and_by_phone(
    people: TestClient, engine: Engine
) -> None:
    _, lamp = _ticket(engine, "Đèn đường không sáng ở Ngô Gia Tự")
    with unit_of_work(engine) as session:
        other = create_ticket(session, NewTicket(description="Ngập nước sau mưa", contact=Contact()))
        other_code = other.code
    signed_in(people, "minh")
    assert '<form method="get" action="/staff/tickets" role="search" class="global-search">' in (
        people.get("/staff/tasks").text
    )
    for query in ("đèn đường", "den duong", "ĐÈN ĐƯỜNG", lamp, PHONE):
        page = people.get("/staff/tasks", params={"q": query}).text
        assert row_codes(page) == [lamp], query
    signed_in(people, "giamsat")
    assert row_codes(people.get("/staff/tickets", params={"q": "ngap nuoc"}).text) == [other_code]
    assert 'value="ngap nuoc"' in people.get("/staff/tickets", params={"q": "ngap nuoc"}).text


# --- bad input -------------------------------------------------------------------------------------------


def in_staff_layout(html: str) -> bool:
    return '<body class="staff"' in html and 'href="/lookup"' not in html


def test_bad_filters_are_explained_next_to_their_field_with_the_typed_text_kept(
    people: TestClient, urgencies: dict[str, str]
) -> None:
    signed_in(people, "giamsat")
    page = people.get(
        "/staff/tickets",
        params={"q": "đèn", "status": "lost", "category": "x", "created_to": "31/02/2026", "page": "abc"},
    )
    assert page.status_code == 422 and in_staff_layout(page.text)
    html = page.text
    for field, message in [
        ("status", "Trạng thái không hợp lệ"),
        ("category", "Lĩnh vực không hợp lệ"),
        ("created_to", "Ngày không hợp lệ"),
        ("page", "Số trang phải là số nguyên dương"),
    ]:
        assert re.search(rf'id="err-{field}" class="field-error" role="alert">{message}', html), field
    assert 'name="q" type="search" value="đèn"' in html
    assert 'name="created_to" value="31/02/2026"' in html
    assert "Vui lòng sửa các ô được đánh dấu" in html and "field_" not in html
    too_long = people.get("/staff/tickets", params={"q": "a" * 201})
    assert too_long.status_code == 422 and "dài quá 200 ký tự" in too_long.text
    backwards = people.get(
        "/staff/tickets", params={"created_from": "2026-11-20", "created_to": "2026-11-10"}
    )
    assert backwards.status_code == 422 and "phải bằng hoặc sau" in backwards.text
    signed_in(people, "minh")
    tasks = people.get("/staff/tasks", params={"sort": "sideways", "status": "closed"})
    assert tasks.status_code == 422 and in_staff_layout(tasks.text)
    assert "Cách sắp xếp không hợp lệ" in tasks.text and "Trạng thái không hợp lệ" in tasks.text
    export = people.get("/staff/tickets/export.csv", params={"created_from": "hôm qua"})
    assert export.status_code == 422 and "Ngày không hợp lệ" in export.text


def test_a_date_range_in_the_city_calendar(people: TestClient, engine: Engine) -> None:
    late_evening = datetime(2026, 11, 10, 23, 30, tzinfo=city_tz())  # 16:30 UTC, the 10th in the city
    with unit_of_work(engine) as session:
        inside = create_ticket(session, NewTicket(description="Trong ngày 10", created_at=late_evening)).code
        after = create_ticket(
            session, NewTicket(description="Ngày 11", created_at=late_evening + timedelta(hours=1))
        ).code
    signed_in(people, "giamsat")
    page = people.get("/staff/tickets", params={"created_from": "10/11/2026", "created_to": "2026-11-10"})
    assert page.status_code == 200 and row_codes(page.text) == [inside]
    assert after in people.get("/staff/tickets", params={"created_from": "11/11/2026"}).text


# --- exports ---------------------------------------------------------------------------------------------


def test_exports_carry_names_real_dates_the_deadline_and_the_sla_state(
    people: TestClient, engine: Engine, urgencies: dict[str, str]
) -> None:
    signed_in(people, "giamsat")
    answer = people.get("/staff/tickets/export.xlsx", params={"q": "hong breached_days"})
    sheet = load_workbook(io.BytesIO(answer.content)).active
    assert sheet is not None
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[0] == (
        "Mã phản ánh",
        "Trạng thái",
        "Tiêu đề",
        "Lĩnh vực",
        "Phường/xã",
        "Đơn vị xử lý",
        "Kênh",
        "Ưu tiên",
        "Địa điểm",
        "Tiếp nhận",
        "Hạn xử lý",
        "Tình trạng hạn",
        "Hoàn thành",
        "Đánh giá",
    )
    assert len(rows) == 2
    row = dict(zip(rows[0], rows[1], strict=True))
    assert row["Mã phản ánh"] == urgencies["breached_days"]
    assert row["Trạng thái"] == "Đã chuyển đơn vị xử lý"
    assert (row["Lĩnh vực"], row["Phường/xã"]) == ("Chiếu sáng công cộng", "Phan Rang")
    assert row["Đơn vị xử lý"] == "Phòng Quản lý đô thị"
    assert (row["Kênh"], row["Ưu tiên"]) == ("Zalo", "Bình thường")
    assert row["Tình trạng hạn"] == "quá hạn 3 ngày"
    with unit_of_work(engine) as session:
        ticket = session.exec(select(Ticket).where(Ticket.code == row["Mã phản ánh"])).one()
        received = ticket.created_at.astimezone(city_tz()).replace(tzinfo=None)
    created, deadline = row["Tiếp nhận"], row["Hạn xử lý"]
    assert isinstance(created, datetime) and isinstance(deadline, datetime)
    assert abs(created - received) < timedelta(seconds=1)  # the city's wall-clock time, not UTC
    assert utcnow().astimezone(city_tz()).replace(tzinfo=None) - deadline > timedelta(days=3)
    date_cell = next(sheet.iter_rows(min_row=2, max_row=2))[9]
    assert date_cell.is_date and "dd/mm/yyyy" in date_cell.number_format

    text = people.get("/staff/tickets/export.csv", params={"sort": "-created"}).content.decode("utf-8-sig")
    lines = list(csv.reader(io.StringIO(text)))
    assert [line[0] for line in lines[1:]] == [
        urgencies[n] for n in ("breached_days", "breached_hours", "at_risk", "on_track")
    ]
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d\+07:00", lines[1][9])
    assert lines[1][11] == "quá hạn 3 ngày" and "qldt" not in text and "street_lighting" not in text
    english = people.get("/staff/tickets/export.csv", params={"lang": "en"}).content.decode("utf-8-sig")
    assert english.splitlines()[0].startswith("Code,Status,Title,Category")
    assert "Sent to the responsible unit" in english


# --- the ticket page -------------------------------------------------------------------------------------


def _jpeg(colour: str) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (64, 48), colour).save(out, "JPEG")
    return out.getvalue()


def _wav() -> bytes:
    samples = b"\x00\x00" * 800
    header = b"RIFF" + struct.pack("<I", 36 + len(samples)) + b"WAVEfmt "
    header += (
        struct.pack("<IHHIIHH", 16, 1, 1, 8000, 16000, 2, 16) + b"data" + struct.pack("<I", len(samples))
    )
    return header + samples


def test_the_ticket_page_shows_every_photo_and_recording(people: TestClient, engine: Engine) -> None:
    ticket_id, _ = _ticket(engine, "Đèn đường chập chờn")
    with unit_of_work(engine) as session:
        ids = {
            purpose: store_attachment(session, data=data, ticket_id=ticket_id, purpose=purpose).id
            for purpose, data in [
                ("evidence", _jpeg("red")),
                ("before", _jpeg("blue")),
                ("after", _jpeg("green")),
                ("voicemail", _wav()),
            ]
        }
    signed_in(people, "minh")
    page = people.get(f"/staff/tickets/{ticket_id}").text
    for purpose in ("evidence", "before", "after"):
        assert f'<img src="/api/v1/attachments/{ids[purpose]}"' in page, purpose
    assert f'<audio controls preload="none" src="/api/v1/attachments/{ids["voicemail"]}">' in page
    for words in ("Ảnh người dân gửi", "Ảnh trước khi xử lý", "Ảnh sau khi xử lý", "Ghi âm hộp thư thoại"):
        assert words in page
    picture = people.get(f"/api/v1/attachments/{ids['after']}")
    assert picture.status_code == 200 and picture.headers["content-type"] == "image/jpeg"


def test_the_reply_box_offers_the_reply_templates_without_the_secret_link(
    people: TestClient, engine: Engine
) -> None:
    ticket_id, code = _ticket(engine, "Đèn đường tắt cả đêm")
    with unit_of_work(engine) as session:
        ticket = session.get(Ticket, ticket_id)
        assert ticket is not None
        token = ticket.tracking_token
    signed_in(people, "minh")
    page = people.get(f"/staff/tickets/{ticket_id}").text
    assert 'id="canned-reply" data-insert-into="#reply-text"' in page
    assert f"Phản ánh {code} đang được xử lý." in page
    assert 'data-template="status_waiting_citizen"' in page
    assert token not in page.split('id="canned-reply"', 1)[1].split("</select>", 1)[0]
    assert "/lookup" in page


# --- /reports --------------------------------------------------------------------------------------------


def test_public_reports_are_paged(client: TestClient, engine: Engine) -> None:
    with unit_of_work(engine) as session:
        for n in range(23):
            create_ticket(
                session,
                NewTicket(description=f"Đèn đường hỏng số {n}", category="street_lighting", ward="phan-rang"),
            )
    first = client.get("/reports")
    assert first.status_code == 200
    assert "1–20 / 23" in first.text and first.text.count('<span class="code">') == 20
    assert 'rel="next" href="/reports?page=2"' in first.text
    second = client.get("/reports", params={"page": 2, "category": "street_lighting"}).text
    assert "21–23 / 23" in second and second.count('<span class="code">') == 3
    assert 'rel="prev" href="/reports?category=street_lighting&amp;page=1"' in second
    bad = client.get("/reports", params={"page": "0"})
    assert bad.status_code == 400 and "số trang" in bad.text


RAW_KEY = re.compile(
    r">\s*((?:sort|col|purpose|overdue|u|bad|canned|files|file|more|search|date|page|fix|st|p|ch)_[\w-]+)\s*<"
)


@pytest.mark.parametrize("language", ["vi", "en"])
def test_the_lists_and_the_ticket_page_show_words_never_message_keys(
    people: TestClient, engine: Engine, urgencies: dict[str, str], language: str
) -> None:
    ticket_id, _ = _ticket(engine, "Đèn đường nhấp nháy")
    with unit_of_work(engine) as session:
        store_attachment(session, data=_jpeg("red"), ticket_id=ticket_id, purpose="evidence")
        store_attachment(session, data=_wav(), ticket_id=ticket_id, purpose="voicemail")
    signed_in(people, "giamsat")
    for url, params in [
        ("/staff/tasks", {}),
        ("/staff/tickets", {}),
        ("/staff/tickets", {"status": "lost", "created_from": "x", "sort": "x", "page": "0"}),
        (f"/staff/tickets/{ticket_id}", {}),
    ]:
        html = people.get(url, params={**params, "lang": language}).text
        assert RAW_KEY.search(html) is None, (url, RAW_KEY.findall(html))
