"""The staff side in a real browser (Debian's Chromium via Playwright) against a live server and a
simulated Asterisk: an agent signs in and gets the screen pop of a ringing call, files a ticket with
triage suggestions; the department officer sees it with its countdown and resolves it with a photo;
the supervisor's boards move. Screenshots go to a temporary folder; `make screenshots` refreshes
docs/screenshots/."""

from __future__ import annotations

import asyncio
import io
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from PIL import Image
from playwright.sync_api import Browser, Page, expect
from screenshots import shot
from sqlalchemy.engine import Engine
from sqlmodel import select

from civicdesk.asgi import create_app
from kernel.db import make_engine, unit_of_work
from routing import triage
from telephony.models import QueueMember
from telephony.service import TelephonyService
from telephony.simulator import AmiPeer
from tests.fakes import serve
from tests.test_browser import browser  # noqa: F401  (the Chromium fixture)
from tests.test_telephony_ami import settings_for, settle
from tickets.citizens import ZALO_FORM, Contact
from tickets.models import Channel, Ticket
from tickets.service import NewTicket, create_ticket
from tickets.staff import create_user

PASSWORD = "secret-pass"
CALLER = "0905123456"
WIDE = {"width": 1440, "height": 1000}


class SimulatedPbx:
    """The AMI protocol peer and the real telephony service, on their own event loop in a thread."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.peer = AmiPeer()
        self.service: TelephonyService | None = None
        self.task: asyncio.Future[Any] | None = None

    def _run(self, coroutine: Any) -> Any:
        return asyncio.run_coroutine_threadsafe(coroutine, self.loop).result(30)

    async def _start(self) -> None:
        await self.peer.start()
        self.peer.add_member("PJSIP/agent101", "Điện thoại viên 101")
        self.service = TelephonyService(
            self.engine, settings_for(self.peer), lambda *_: None, lambda *_: None
        )
        self.task = asyncio.ensure_future(self.service.run())
        await asyncio.wait_for(self.service.ready.wait(), 10)

    async def _play(self, scene: Callable[[AmiPeer], Any]) -> Any:
        result = scene(self.peer)
        assert self.service is not None
        await settle(self.peer, self.service)
        return result

    async def _stop(self) -> None:
        assert self.service is not None and self.task is not None
        self.service.stop()
        self.task.cancel()
        await asyncio.gather(self.task, return_exceptions=True)
        await self.peer.close()

    def start(self) -> None:
        self.thread.start()
        self._run(self._start())

    def play(self, scene: Callable[[AmiPeer], Any]) -> Any:
        return self._run(self._play(scene))

    def stop(self) -> None:
        self._run(self._stop())
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(10)
        self.loop.close()


@pytest.fixture(scope="module")
def city(module_database: str) -> Iterator[tuple[str, Engine, SimulatedPbx]]:
    engine = make_engine(module_database)
    with unit_of_work(engine) as session:
        agent = create_user(
            session, username="dtv.lan", password=PASSWORD, role="agent", full_name="Nguyễn Thị Lan"
        )
        session.add(QueueMember(interface="PJSIP/agent101", user_id=agent.id, extension="101"))
        create_user(
            session,
            username="qldt.minh",
            password=PASSWORD,
            role="department_staff",
            department="qldt",
            full_name="Trần Văn Minh",
        )
        create_user(session, username="giamsat", password=PASSWORD, role="supervisor", full_name="Lê Thu Hà")
        create_user(session, username="quantri", password=PASSWORD, role="admin", full_name="Quản trị viên")
        create_ticket(
            session,
            NewTicket(
                description="Đèn đường hỏng trước nhà số 12 Ngô Gia Tự",
                channel=Channel.ZALO,
                contact=Contact(phone=CALLER, name="Phạm Văn Bình", phone_verified_by=ZALO_FORM),
                category="street_lighting",
                ward="phan-rang",
            ),
        )
    pbx = SimulatedPbx(engine)
    pbx.start()
    with serve(create_app(engine)) as base:
        yield base, engine, pbx
    pbx.stop()
    engine.dispose()


def sign_in(browser: Browser, base: str, username: str) -> Page:  # noqa: F811
    context = browser.new_context(viewport=WIDE, locale="vi-VN")
    page = context.new_page()
    page.goto(f"{base}/staff")
    page.fill('input[name="username"]', username)
    page.fill('input[name="password"]', PASSWORD)
    if username == "giamsat":
        shot(page, "staff-login")
    page.click('button[type="submit"]')
    expect(page.locator("#live")).to_have_class("live on", timeout=10_000)
    return page


def photo(path: Path) -> Path:
    out = io.BytesIO()
    Image.new("RGB", (320, 240), (40, 120, 60)).save(out, format="JPEG")
    path.write_bytes(out.getvalue())
    return path


def test_call_to_resolution_across_the_staff_pages(
    city: tuple[str, Engine, SimulatedPbx],
    browser: Browser,  # noqa: F811
    tmp_path: Path,
) -> None:
    base, engine, pbx = city
    supervisor = sign_in(browser, base, "giamsat")
    expect(supervisor).to_have_url(f"{base}/staff/boards")
    open_before = int(supervisor.locator('[data-board="open"]').inner_text())

    agent = sign_in(browser, base, "dtv.lan")
    expect(agent).to_have_url(f"{base}/staff/console")
    uniqueid = pbx.play(lambda peer: _ring(peer))
    card = agent.locator("#call-card")
    expect(card).to_contain_text(CALLER, timeout=5_000)
    expect(card).to_contain_text("Phạm Văn Bình")
    expect(card.locator('[data-list="open_tickets"]')).to_contain_text("PR-")
    shot(agent, "staff-console-screen-pop")

    expect(supervisor.locator('[data-kpi="calls_waiting"]')).to_have_text("1", timeout=10_000)
    pbx.play(lambda peer: peer.answer(uniqueid, "PJSIP/agent101"))
    expect(supervisor.locator('[data-kpi="calls_waiting"]')).to_have_text("0", timeout=10_000)

    agent.keyboard.press("Alt+n")
    expect(agent.locator('input[name="phone"]')).to_have_value(CALLER)
    agent.fill(
        'textarea[name="description"]', "Ổ gà rất lớn giữa đường Thống Nhất gần chợ Phan Rang, xe máy dễ ngã"
    )
    expect(agent.locator("#suggestions")).to_be_visible(timeout=5_000)
    agent.click("#apply-suggestions")
    expect(agent.locator('select[name="category"]')).to_have_value("road_damage")
    shot(agent, "staff-console-new-ticket")
    agent.keyboard.press("Alt+s")
    saved = agent.locator("#saved a")
    expect(saved).to_contain_text("PR-", timeout=5_000)
    code = saved.inner_text()
    with unit_of_work(engine) as session:
        ticket_id = session.exec(select(Ticket.id).where(Ticket.code == code)).one()
        triage.apply(session, ticket_id)  # what the Celery worker's routing.triage_ticket does
    with unit_of_work(engine) as session:
        ticket = session.exec(select(Ticket).where(Ticket.code == code)).one()
        assert (ticket.department_code, ticket.status) == ("qldt", "assigned")
    expect(supervisor.locator('[data-board="open"]')).to_have_text(str(open_before + 1), timeout=10_000)

    officer = sign_in(browser, base, "qldt.minh")
    expect(officer).to_have_url(f"{base}/staff/tasks")
    row = officer.locator("tr", has_text=code)
    expect(row.locator("time[data-due]")).to_contain_text("còn")
    shot(officer, "staff-tasks")
    row.get_by_role("link", name=code).click()
    officer.click("#accept")
    expect(officer.locator(".ticket-head")).to_contain_text("Đang xử lý")
    officer.fill('#resolve-form textarea[name="reason"]', "Đã vá ổ gà bằng bê tông nhựa, thông xe lúc 15:00.")
    officer.set_input_files('#resolve-form input[data-purpose="after"]', str(photo(tmp_path / "sau.jpg")))
    shot(officer, "staff-ticket")
    officer.click("#resolve-form button")
    expect(officer.locator(".ticket-head")).to_contain_text("Đã xử lý")
    expect(supervisor.locator('[data-board="open"]')).to_have_text(str(open_before), timeout=10_000)
    shot(supervisor, "staff-boards")

    admin = sign_in(browser, base, "quantri")
    expect(admin).to_have_url(f"{base}/staff/admin")
    expect(admin.locator("#audit")).to_contain_text("dtv.lan")
    shot(admin, "staff-admin")
    agent.goto(f"{base}/staff/tickets/{ticket_id}")
    expect(agent.locator(".timeline")).to_contain_text("Đã vá ổ gà")


def _ring(peer: AmiPeer) -> str:
    uniqueid = peer.incoming(CALLER, "Pham Van Binh")
    peer.advance(3)
    peer.join(uniqueid)
    peer.advance(2)
    peer.ring(uniqueid, "PJSIP/agent101")
    return uniqueid
