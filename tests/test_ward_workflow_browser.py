"""In Chromium: a ward officer on a phone accepts a ward-level ticket, is told next to the field why a
return without a reason is refused (the typed text kept, the staff layout), then returns it; the agent
sees it in the console's triage queue with the reason and confirms it."""

from __future__ import annotations

from playwright.sync_api import Browser, Page, expect
from sqlalchemy.engine import Engine

from civicdesk.asgi import create_app
from kernel.db import unit_of_work
from routing import triage
from routing.models import RoutingRule
from routing.rules import save_rule
from tests.fakes import serve
from tests.test_browser import browser  # noqa: F401  (the Chromium fixture)
from tickets.models import Status, Ticket
from tickets.service import NewTicket, create_ticket
from tickets.staff import create_user

PASSWORD = "secret-pass"
PHONE = {"width": 390, "height": 844}


def _sign_in(browser: Browser, base: str, username: str) -> Page:  # noqa: F811
    page = browser.new_context(viewport=PHONE, locale="vi-VN").new_page()
    page.goto(f"{base}/staff")
    page.fill('input[name="username"]', username)
    page.fill('input[name="password"]', PASSWORD)
    page.click('button[type="submit"]')
    expect(page.locator("#live")).to_have_class("live on", timeout=10_000)
    return page


def test_the_ward_officers_route_in_a_browser(engine: Engine, browser: Browser) -> None:  # noqa: F811
    with unit_of_work(engine) as session:
        create_user(session, username="phuong.a", password=PASSWORD, role="ward_officer", ward="phan-rang")
        create_user(session, username="dtv", password=PASSWORD, role="agent")
        save_rule(
            session,
            RoutingRule(
                position=1, name="Đèn trong phường", category_code="street_lighting", ward_officer=True
            ),
        )
        ticket = create_ticket(session, NewTicket(description="Đèn đường tắt cả tuần nay ở phường Phan Rang"))
        triage.apply(session, ticket.id or 0)
        ticket_id = ticket.id
        assert ticket.status == Status.ASSIGNED and ticket.department_code is None
    with serve(create_app(engine)) as base:
        officer = _sign_in(browser, base, "phuong.a")
        officer.goto(f"{base}/staff/tickets/{ticket_id}")
        officer.click("#accept")
        expect(officer.locator(".ticket-head")).to_contain_text("Đang xử lý")

        back = officer.locator("form", has=officer.locator('input[name="status"][value="triaged"]'))
        back.locator('input[name="reason"]').fill("   ")
        back.get_by_role("button").click()
        error = back.locator(".field-error")
        expect(error).to_contain_text("Hãy ghi lý do trả lại")
        expect(back.locator('input[name="reason"]')).to_have_attribute("aria-invalid", "true")
        expect(back.locator('input[name="reason"]')).to_have_value("   ")  # what was typed stays
        assert officer.locator("body.staff").count() == 1
        back.locator('input[name="reason"]').fill("Đèn do công ty điện lực quản lý")
        back.get_by_role("button").click()
        expect(officer.locator(".ticket-head")).to_contain_text("Đã phân loại", timeout=5_000)

        agent = _sign_in(browser, base, "dtv")
        assert agent.title() == "Tổng đài · CivicDesk"
        item = agent.locator('[data-testid="triage-item"]', has_text="công ty điện lực")
        expect(item).to_contain_text("Bị trả lại bởi phuong.a")
        item.get_by_role("button").click()
        expect(agent.locator('[data-testid="triage-item"]')).to_have_count(0, timeout=5_000)
    with unit_of_work(engine) as session:
        routed = session.get(Ticket, ticket_id)
        assert routed is not None and routed.status == Status.ASSIGNED and not routed.needs_review
