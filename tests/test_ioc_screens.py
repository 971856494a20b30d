"""The IOC overview on the screens it is made for: all of it on one 1920 × 1080 screen without
scrolling or clipped cards, and on a 3 × 3 wall of such screens (one 5760 × 3240 display) no panel cut
by a bezel."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from typing import Any

import pytest
from fakes import serve
from playwright.sync_api import Page, sync_playwright
from screenshots import shot
from sqlalchemy.engine import Engine
from sqlmodel import select

from civicdesk.asgi import create_app
from ioc import service
from ioc.models import Connector
from kernel.db import unit_of_work
from kernel.timeutil import utcnow

PANELS = "[...document.querySelectorAll('.wall-grid > section:not(#cards), .wall-grid .card')]"


@pytest.fixture
def wall(engine: Engine) -> Iterator[Any]:
    with unit_of_work(engine) as session:
        service.seed(session)
        service.backfill(session, hours=2)
        for connector in session.exec(select(Connector)).all():
            service.pull(session, connector, utcnow())
    chromium = shutil.which("chromium") or "/usr/bin/chromium"
    with serve(create_app(engine)) as base, sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium, args=["--no-sandbox", "--disable-gpu"])

        def open_at(width: int, height: int) -> Page:
            page = browser.new_page(viewport={"width": width, "height": height})
            page.goto(f"{base}/ioc")
            page.wait_for_selector("#cards[data-loaded='1']")
            page.wait_for_function("document.querySelectorAll('.kpis dd').length >= 28")
            return page

        yield open_at
        browser.close()


def rects(page: Page) -> list[dict[str, float]]:
    return list(
        page.evaluate(
            PANELS + ".map(e => { const r = e.getBoundingClientRect();"
            " return {id: e.id || e.className, left: r.left, top: r.top, right: r.right, bottom: r.bottom,"
            " clipped: e.scrollHeight - e.clientHeight}; })"
        )
    )


def test_one_full_hd_screen_shows_everything(wall: Any) -> None:
    page = wall(1920, 1080)
    size = page.evaluate("[document.scrollingElement.scrollWidth, document.scrollingElement.scrollHeight]")
    assert size[0] <= 1920 and size[1] <= 1080, size
    found = rects(page)
    assert len(found) == 16  # the map, the alerts, 14 subsystems
    for panel in found:
        assert panel["right"] <= 1920 and panel["bottom"] <= 1080, panel
        assert panel["clipped"] <= 2, panel  # nothing inside is cut off
    shot(page, "ioc-overview-1920", full_page=False)


def test_a_three_by_three_wall_cuts_no_panel_at_a_bezel(wall: Any) -> None:
    page = wall(5760, 3240)
    bezels_x, bezels_y = (1920, 3840), (1080, 2160)
    for panel in rects(page):
        assert not any(panel["left"] < x < panel["right"] for x in bezels_x), panel
        assert not any(panel["top"] < y < panel["bottom"] for y in bezels_y), panel
        assert panel["right"] <= 5760 and panel["bottom"] <= 3240, panel
