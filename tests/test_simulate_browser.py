"""`civicdesk simulate call` in a real browser: the command, as its own process, is the PBX; CivicDesk's
AMI listener logs in to it, and the agent signed in on the console sees the caller's screen pop (number,
name, open tickets) while the simulated call rings at the agent's phone."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import threading
from pathlib import Path

from playwright.sync_api import Browser, expect
from sqlalchemy.engine import Engine

from civicdesk.asgi import create_app
from kernel.db import unit_of_work
from kernel.settings import Settings
from telephony.models import QueueMember
from telephony.service import TelephonyService
from tests.fakes import free_port, serve
from tests.test_browser import browser  # noqa: F401  (the Chromium fixture)
from tests.test_staff_browser import PASSWORD, sign_in
from tickets.citizens import ZALO_FORM, Contact
from tickets.models import Channel
from tickets.service import NewTicket, create_ticket
from tickets.staff import create_user

CALLER = "0905777888"


def test_a_simulated_call_pops_the_callers_card_on_the_agents_console(
    engine: Engine,
    browser: Browser,  # noqa: F811
    tmp_path: Path,
) -> None:
    with unit_of_work(engine) as session:
        agent = create_user(session, username="dtv.lan", password=PASSWORD, role="agent", full_name="Lan")
        session.add(QueueMember(interface="PJSIP/agent101", user_id=agent.id, extension="101"))
        create_ticket(
            session,
            NewTicket(
                description="Nắp cống bị vỡ trước số 30 Ngô Gia Tự",
                channel=Channel.ZALO,
                contact=Contact(phone=CALLER, name="Võ Thị Hoa", phone_verified_by=ZALO_FORM),
            ),
        )
    port = free_port()
    ami = {"AMI_HOST": "127.0.0.1", "AMI_PORT": str(port), "AMI_USERNAME": "civicdesk", "AMI_SECRET": "sim"}
    env = {**os.environ, **{f"CIVICDESK_{k}": v for k, v in ami.items()}, "CIVICDESK_VAR_DIR": str(tmp_path)}
    command = [str(Path(sys.executable).parent / "civicdesk"), "simulate", "call", "--number", CALLER]
    command += ["--name", "Vo Thi Hoa", "--ring", "20", "--talk", "1", "--wait", "60"]
    settings = Settings(
        ami_host="127.0.0.1", ami_port=port, ami_username="civicdesk", ami_secret="sim", ami_ping_seconds=1
    )
    stop = threading.Event()

    async def listen() -> None:
        service = TelephonyService(engine, settings, lambda *_: None, lambda *_: None)
        task = asyncio.ensure_future(service.run())
        while not stop.is_set():
            await asyncio.sleep(0.2)
        service.stop()
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)

    with serve(create_app(engine)) as base:
        page = sign_in(browser, base, "dtv.lan")
        expect(page).to_have_url(f"{base}/staff/console")
        log = tmp_path / "simulate.log"
        listener = threading.Thread(target=lambda: asyncio.run(listen()), daemon=True)
        with log.open("wb") as out, subprocess.Popen(command, env=env, stdout=out, stderr=out) as pbx:  # noqa: S603
            listener.start()
            try:
                card = page.locator("#call-card")
                expect(card).to_contain_text(CALLER, timeout=40_000)
                expect(card).to_contain_text("Võ Thị Hoa")
                expect(card.locator('[data-list="open_tickets"]')).to_contain_text("PR-")
            finally:
                pbx.wait(90)
                stop.set()
                listener.join(30)
        assert pbx.returncode == 0, log.read_text()
