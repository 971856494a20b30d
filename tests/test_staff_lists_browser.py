"""The staff lists and the ticket page in Debian's Chromium at a phone's 390 px and a desk's 1366 px: no
sideways scrolling, breached work first, thumbnails that load through the staff download route, filter
mistakes beside their field, a canned reply put into the reply box. Screenshots go to a temporary folder;
`make screenshots` refreshes docs/screenshots/."""

from __future__ import annotations

import io
import re
from collections.abc import Iterator
from datetime import timedelta

import pytest
from PIL import Image
from playwright.sync_api import Browser, Page, expect
from screenshots import shot
from sqlalchemy import update
from sqlalchemy.engine import Engine
from sqlmodel import col

from civicdesk.asgi import create_app
from kernel.db import make_engine, unit_of_work
from kernel.timeutil import utcnow
from sla.models import ClockKind, SlaClock
from tests.fakes import serve
from tests.test_browser import browser  # noqa: F401  (the Chromium fixture)
from tickets.attachments import store_attachment
from tickets.citizens import Contact
from tickets.models import Channel, Status, Ticket
from tickets.service import NewTicket, create_ticket
from tickets.staff import create_user

PASSWORD = "secret-pass"
WIDTHS = [390, 1366]
LONG_TEXT = (
    "Đèn đường trên toàn tuyến Ngô Gia Tự từ ngã tư Tháp Chàm đến cầu Đạo Long không sáng đã ba đêm liền, "
    "người dân đi lại rất nguy hiểm, đặc biệt là học sinh tan học buổi tối"
)


def _jpeg(colour: str) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (640, 480), colour).save(out, "JPEG")
    return out.getvalue()


@pytest.fixture(scope="module")
def site(module_database: str) -> Iterator[tuple[str, int, str]]:
    """A live server with a department's work: one breached ticket with photos, others at risk and on time.
    Yields (address, the breached ticket's id, its code)."""
    engine = make_engine(module_database)
    with unit_of_work(engine) as session:
        create_user(
            session,
            username="qldt.minh",
            password=PASSWORD,
            role="department_staff",
            department="qldt",
            full_name="Trần Văn Minh",
        )
        create_user(session, username="giamsat", password=PASSWORD, role="supervisor")
    app = create_app(engine)  # wires the hooks that start SLA clocks
    made = [_department_ticket(engine, text, hours) for text, hours in _WORK]
    breached_id, breached_code = made[0]
    with unit_of_work(engine) as session:
        for purpose, colour in (("evidence", "red"), ("before", "navy"), ("after", "green")):
            store_attachment(session, data=_jpeg(colour), ticket_id=breached_id, purpose=purpose)
    with serve(app) as base:
        yield base, breached_id, breached_code
    engine.dispose()


_WORK = [
    (LONG_TEXT, -80),  # missed by 3 days and 8 hours
    ("Cây xanh đổ chắn một nửa đường Thống Nhất", 3),
    ("Nắp cống bị vỡ trước trường tiểu học", 200),
]


def _department_ticket(engine: Engine, text: str, hours_left: int) -> tuple[int, str]:
    with unit_of_work(engine) as session:
        draft = NewTicket(
            description=text,
            category="street_lighting",
            ward="phan-rang",
            channel=Channel.ZALO,
            contact=Contact(phone="0905123456"),
        )
        ticket = create_ticket(session, draft)
        ticket_id, code = ticket.id or 0, ticket.code
        session.execute(
            update(Ticket)
            .where(col(Ticket.id) == ticket_id)
            .values(department_code="qldt", status=Status.ASSIGNED)
        )
        due = utcnow() + timedelta(hours=hours_left)
        session.execute(
            update(SlaClock)
            .where(col(SlaClock.ticket_id) == ticket_id, col(SlaClock.kind) == ClockKind.RESOLUTION)
            .values(due_at=due, warn_at=due - timedelta(hours=4))
        )
    return ticket_id, code


def signed_in(browser: Browser, base: str, username: str, width: int) -> Page:  # noqa: F811
    context = browser.new_context(viewport={"width": width, "height": 900}, locale="vi-VN")
    page = context.new_page()
    page.goto(f"{base}/staff/login")
    page.fill('input[name="username"]', username)
    page.fill('input[name="password"]', PASSWORD)
    page.click('button[type="submit"]')
    expect(page.locator("#live")).to_have_class("live on", timeout=10_000)
    return page


def assert_fits(page: Page, width: int) -> None:
    scroll_width = page.evaluate("document.scrollingElement.scrollWidth")
    assert scroll_width <= width, f"{page.url} is {scroll_width} px wide on a {width} px screen"


@pytest.mark.parametrize("width", WIDTHS)
def test_the_worklist_fits_and_shows_breached_work_first(
    browser: Browser,  # noqa: F811
    site: tuple[str, int, str],
    width: int,
) -> None:
    base, _, breached_code = site
    page = signed_in(browser, base, "qldt.minh", width)
    page.goto(f"{base}/staff/tasks")
    first = page.locator("#worklist tbody tr").first
    expect(first).to_contain_text(breached_code)
    expect(first.locator("[data-sla]")).to_have_text("quá hạn 3 ngày")
    expect(page.locator("#worklist tbody tr").nth(1).locator("[data-sla]")).to_have_text(
        re.compile(r"^sắp đến hạn, còn \d+ giờ$")
    )
    expect(page.locator(".pager .count").first).to_have_text("1–3 / 3")
    assert_fits(page, width)
    table = page.locator("#worklist").bounding_box()
    assert table is not None and table["width"] > width * 0.9  # a desk's list uses the whole screen
    shot(page, f"staff-tasks-{width}")


@pytest.mark.parametrize("width", WIDTHS)
def test_the_ticket_page_fits_with_its_photos_and_a_canned_reply(
    browser: Browser,  # noqa: F811
    site: tuple[str, int, str],
    width: int,
) -> None:
    base, ticket_id, code = site
    page = signed_in(browser, base, "qldt.minh", width)
    page.goto(f"{base}/staff/tickets/{ticket_id}")
    thumbnails = page.locator("#ticket-files img")
    expect(thumbnails).to_have_count(3)
    for index in range(3):
        thumbnail = thumbnails.nth(index)
        thumbnail.scroll_into_view_if_needed()
        expect(thumbnail).to_be_visible()
        page.wait_for_function("img => img.complete && img.naturalWidth > 0", arg=thumbnail.element_handle())
    page.select_option("#canned-reply", index=3)
    reply = page.locator("#reply-text")
    expect(reply).to_have_value(f"Phản ánh {code} đang được xử lý.")
    expect(page.locator("#canned-reply")).to_have_value("")  # ready for another
    assert_fits(page, width)
    shot(page, f"staff-ticket-{width}")


@pytest.mark.parametrize("width", WIDTHS)
def test_the_filters_fit_and_explain_a_mistake_beside_the_field(
    browser: Browser,  # noqa: F811
    site: tuple[str, int, str],
    width: int,
) -> None:
    base, _, breached_code = site
    page = signed_in(browser, base, "giamsat", width)
    page.fill(".global-search input", breached_code.lower())  # from any staff page's header
    page.press(".global-search input", "Enter")
    expect(page.locator("#ticket-list tbody tr")).to_have_count(1)
    expect(page.locator('#list-filters input[name="q"]')).to_have_value(breached_code.lower())
    page.goto(f"{base}/staff/tickets")
    more = page.locator("#list-filters details.more-filters")
    if width < 640:  # on a phone the list comes first; the filters unfold on demand
        expect(more).not_to_have_attribute("open", "")
        more.locator("summary").click()
    expect(more).to_have_attribute("open", "")
    page.fill('#list-filters input[name="q"]', "den duong")
    page.fill('input[name="created_from"]', "hôm qua")
    page.click("#list-filters button")
    error = page.locator("#err-created_from")
    expect(error).to_contain_text("Ngày không hợp lệ")
    expect(page.locator('input[name="created_from"]')).to_have_value("hôm qua")
    expect(page.locator('#list-filters input[name="q"]')).to_have_value("den duong")
    assert_fits(page, width)
    shot(page, f"staff-filters-error-{width}")
    page.fill('input[name="created_from"]', "")
    page.click("#list-filters button")
    expect(page.locator("#ticket-list tbody tr")).to_have_count(1)
    expect(page.locator("#ticket-list tbody tr").first).to_contain_text(breached_code)
    assert_fits(page, width)
    shot(page, f"staff-tickets-{width}")
