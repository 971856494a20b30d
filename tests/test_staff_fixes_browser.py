"""The staff fixes that live in staff.js, in Debian's Chromium: the wallboard after its script ran with no
calls, and Alt+P on a console whose account has no extension."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from playwright.sync_api import Browser, Page, expect
from sqlalchemy.engine import Engine

from civicdesk.asgi import create_app
from kernel.db import unit_of_work
from tests.fakes import serve
from tests.test_browser import browser  # noqa: F401  (the Chromium fixture)
from tickets.staff import create_user

PASSWORD = "secret-pass"


@pytest.fixture
def base(engine: Engine) -> Iterator[str]:
    with unit_of_work(engine) as session:
        create_user(session, username="giamsat", password=PASSWORD, role="supervisor")
        create_user(session, username="dtv", password=PASSWORD, role="agent")
    with serve(create_app(engine)) as url:
        yield url


def signed_in(browser: Browser, base: str, username: str) -> Page:  # noqa: F811
    page = browser.new_context(viewport={"width": 1366, "height": 900}, locale="vi-VN").new_page()
    page.goto(f"{base}/staff/login")
    page.fill('input[name="username"]', username)
    page.fill('input[name="password"]', PASSWORD)
    page.click('button[type="submit"]')
    expect(page.locator("#live")).to_have_class("live on", timeout=10_000)
    return page


def test_wallboard_rates_with_no_calls_are_dashes(browser: Browser, base: str) -> None:  # noqa: F811
    page = signed_in(browser, base, "giamsat")
    expect(page).to_have_url(f"{base}/staff/boards")  # the script has run: the live indicator is on
    rates = [page.locator(f'[data-kpi="{kpi}"]') for kpi in ("service_level", "abandonment_rate")]
    for rate in rates:
        expect(rate).to_have_text("—")
    with page.expect_response("**/api/v1/telephony/queue"):  # the script's own refresh, from the API
        page.evaluate("document.dispatchEvent(new CustomEvent('live:queue_changed'))")
    for rate in rates:
        expect(rate).to_have_text("—")
    assert "NaN" not in page.locator("#wallboard").inner_text()


def test_alt_p_without_an_extension_says_why(browser: Browser, base: str) -> None:  # noqa: F811
    page = signed_in(browser, base, "dtv")
    page.goto(f"{base}/staff/console")
    page.keyboard.press("Alt+p")
    toast = page.locator("#toast")
    expect(toast).to_be_visible()
    expect(toast).to_contain_text("chưa gắn máy lẻ tổng đài")
    expect(page.locator("#no-extension")).to_be_focused()
