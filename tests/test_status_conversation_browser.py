"""The status page's conversation on a 390 px phone in Debian's Chromium: the city's question, the answer
with a photo, the ticket back in progress, and nothing wider than the screen."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, expect
from screenshots import shot
from sqlalchemy.engine import Engine

from civicdesk.asgi import create_app
from kernel.db import unit_of_work
from tests.fakes import serve
from tests.test_browser import browser, photo  # noqa: F401  (the Chromium fixture)
from tickets import service
from tickets.models import Status
from tickets.service import SYSTEM, NewTicket

PHONE_390 = {"width": 390, "height": 844}


@pytest.fixture
def base(engine: Engine) -> Iterator[str]:
    with serve(create_app(engine)) as url:
        yield url


def asked_ticket(engine: Engine) -> str:
    with unit_of_work(engine) as session:
        ticket = service.create_ticket(
            session,
            NewTicket(description="Đèn đường không sáng suốt đoạn Ngô Gia Tự", category="street_lighting"),
        )
        tid = ticket.id or 0
        service.assign(session, tid, department="qldt", actor=SYSTEM)
        service.transition(session, tid, Status.IN_PROGRESS, actor=SYSTEM)
        service.add_comment(session, tid, text="Đã chuyển đội điện chiếu sáng.", public=True, actor=SYSTEM)
        service.transition(
            session,
            tid,
            Status.WAITING_CITIZEN,
            actor=SYSTEM,
            reason="Cột đèn số mấy? Chụp giúp ảnh số hiệu cột.",
        )
        return ticket.tracking_token


def test_a_citizen_answers_the_question_on_a_phone(
    browser: Browser,  # noqa: F811
    base: str,
    engine: Engine,
    tmp_path: Path,
) -> None:
    token = asked_ticket(engine)
    context = browser.new_context(viewport=PHONE_390, device_scale_factor=1, locale="vi-VN")
    page = context.new_page()
    page.goto(f"{base}/t/{token}")
    expect(page.get_by_test_id("question")).to_have_text("Cột đèn số mấy? Chụp giúp ảnh số hiệu cột.")
    page.get_by_label("Nội dung trả lời").fill("Cột số 12, trước nhà văn hoá khu phố 3.")
    picture = tmp_path / "cot-12.jpg"
    picture.write_bytes(photo((40, 90, 160)))
    page.locator("#reply-photos").set_input_files(str(picture))
    shot(page, "10-status-question")
    page.get_by_role("button", name="Gửi trả lời").click()

    expect(page.get_by_test_id("replied")).to_be_visible()
    expect(page.get_by_test_id("status")).to_have_text("Đang xử lý")
    expect(page.get_by_test_id("timeline")).to_contain_text("Cột số 12, trước nhà văn hoá")
    expect(page.locator(".timeline .from-citizen img")).to_have_count(1)
    expect(page.get_by_test_id("reply")).to_contain_text("Bổ sung thông tin")  # still open: add more later
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE_390["width"]
    shot(page, "11-status-answered")
    context.close()
