"""The public maps in a real browser (Debian's Chromium through Playwright) against a live server whose
tiles come from a local tile server: the citizen drops and drags the pin and reads the ward it found
(from an imported boundary, or approximate from the nearest centre), the ticket keeps that ward; a pin
outside the city is told so and gets no ward; the phone's location fills the pin, and a refusal is
explained; /reports shows its pins clustered. Throughout, the browser reports no CSP violation."""

from __future__ import annotations

import io
import os
import re
from collections.abc import Iterator
from datetime import date

import httpx
import pytest
from PIL import Image
from playwright.sync_api import Browser, ConsoleMessage, Page, expect
from sqlalchemy import func
from sqlalchemy.engine import Engine
from sqlmodel import select
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from civicdesk.asgi import create_app
from geo import boundaries
from geo.locate import locate_pin
from kernel.db import make_engine, unit_of_work
from kernel.settings import get_settings
from routing import triage
from tests.fakes import serve
from tests.test_browser import PHONE, browser  # noqa: F401  (the Chromium fixture)
from tickets import service
from tickets.models import Ticket
from tickets.reference import Ward
from tickets.service import NewTicket

# the western half of the city's box is outlined as Phan Rang; the eastern half has no outline
WEST_HALF = [(108.90, 11.50), (108.99, 11.50), (108.99, 11.66), (108.90, 11.66), (108.90, 11.50)]
LICENCE, ATTRIBUTION = "CC BY 4.0", "Sở Tài nguyên và Môi trường (thử nghiệm)"


COUNT_PINS = """() => {
  const map = document.getElementById("reports-map");
  let grouped = 0;
  for (const cluster of map.querySelectorAll(".marker-cluster")) {
    grouped += parseInt(cluster.textContent, 10);
  }
  return [grouped, map.querySelectorAll(".leaflet-marker-icon:not(.marker-cluster)").length];
}"""
SHOWN_ON_THE_MAP = (
    f"listed => {{ const [grouped, single] = ({COUNT_PINS})(); return grouped + single === listed; }}"
)


def _png() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (256, 256), (236, 232, 220)).save(out, format="PNG")
    return out.getvalue()


@pytest.fixture(scope="module")
def tiles() -> Iterator[tuple[str, list[str]]]:
    """A tile server answering any /tiles/{z}/{x}/{y}.png with a plain image; remembers what was asked."""
    asked: list[str] = []
    image = _png()

    async def tile(request: Request) -> Response:
        asked.append(request.url.path)
        return Response(image, media_type="image/png")

    with serve(Starlette(routes=[Route("/tiles/{z}/{x}/{y}.png", tile)])) as base:
        yield base, asked


@pytest.fixture(scope="module")
def live(module_database: str, tiles: tuple[str, list[str]]) -> Iterator[tuple[str, Engine]]:
    with pytest.MonkeyPatch.context() as patch:
        patch.setitem(os.environ, "CIVICDESK_MAP_TILE_URL", tiles[0] + "/tiles/{z}/{x}/{y}.png")
        get_settings.cache_clear()
        engine = make_engine(module_database)
        with serve(create_app(engine)) as base:
            yield base, engine
        engine.dispose()
    get_settings.cache_clear()


@pytest.fixture
def violations() -> list[str]:
    return []


@pytest.fixture
def page(browser: Browser, violations: list[str]) -> Iterator[Page]:  # noqa: F811
    context = browser.new_context(viewport=PHONE, device_scale_factor=1, locale="vi-VN")
    opened = context.new_page()

    def watch(message: ConsoleMessage) -> None:
        if "Content Security Policy" in message.text or "Refused to" in message.text:
            violations.append(message.text)

    opened.on("console", watch)
    opened.on("pageerror", lambda error: violations.append(f"script error: {error}"))
    yield opened
    context.close()
    assert violations == []


def _outline_the_western_half(engine: Engine) -> None:
    with unit_of_work(engine) as session:
        document = {
            "type": "FeatureCollection",
            "features": [
                {
                    "type": "Feature",
                    "properties": {"code": "phan-rang"},
                    "geometry": {"type": "Polygon", "coordinates": [[list(p) for p in WEST_HALF]]},
                }
            ],
        }
        found = boundaries.parse_features(document, ward_codes=boundaries.known_wards(session))
        boundaries.save(session, found, source="test", licence=LICENCE, attribution=ATTRIBUTION)


def _ward_name(engine: Engine, latitude: str, longitude: str) -> str:
    with unit_of_work(engine) as session:
        pin = locate_pin(session, float(latitude), float(longitude), date.today())
        ward = session.get(Ward, pin.ward) if pin.ward else None
        assert ward is not None and pin.approximate
        return ward.name_vi


def _tickets(engine: Engine) -> int:
    with unit_of_work(engine) as session:
        return int(session.exec(select(func.count()).select_from(Ticket)).one())


def test_offline_the_map_shows_the_ward_centres_on_a_blank_background(
    live: tuple[str, Engine], page: Page, tiles: tuple[str, list[str]]
) -> None:
    base, _ = live  # first in the module: no boundaries are imported yet
    asked_before = len(tiles[1])
    with pytest.MonkeyPatch.context() as patch:
        patch.setitem(os.environ, "CIVICDESK_MAP_TILE_URL", "")
        get_settings.cache_clear()
        try:
            answer = page.goto(base + "/report")
            assert (
                answer is not None
                and "img-src 'self' data: blob:;" in answer.headers["content-security-policy"]
            )
            the_map = page.locator("#report-map")
            expect(the_map.locator("path.ward-centre")).to_have_count(16)
            expect(the_map.locator(".leaflet-control-attribution")).to_contain_text(
                "Chấm tròn: trung tâm gần đúng của phường"
            )
            expect(the_map).to_have_class(re.compile(r"(^| )offline( |$)"))  # the blank background
            assert the_map.locator("img.leaflet-tile").count() == 0 and len(tiles[1]) == asked_before
        finally:
            get_settings.cache_clear()
    get_settings.cache_clear()


def test_dropping_and_dragging_the_pin_names_the_ward_and_the_ticket_keeps_it(
    live: tuple[str, Engine], page: Page, tiles: tuple[str, list[str]]
) -> None:
    base, engine = live
    _outline_the_western_half(engine)
    page.goto(base + "/report")
    the_map = page.locator("#report-map")
    expect(the_map).to_be_visible()
    expect(the_map.locator("img.leaflet-tile-loaded").first).to_be_visible()  # the CSP let the tiles in
    assert tiles[1] and all(path.startswith("/tiles/") for path in tiles[1])
    expect(the_map.locator(".leaflet-control-attribution")).to_contain_text(ATTRIBUTION)
    expect(the_map.locator(".leaflet-control-attribution")).to_contain_text(LICENCE)
    expect(the_map.locator("path.ward-outline")).to_have_count(1)
    box = the_map.bounding_box()
    assert box is not None
    status = page.locator("#pin-status")

    # dropped in the eastern half, which has no outline: the nearest ward centre, said to be approximate
    the_map.click(position={"x": box["width"] * 0.8, "y": box["height"] * 0.5})
    marker = the_map.locator(".leaflet-marker-icon")
    expect(marker).to_have_count(1)
    latitude, longitude = page.locator("#latitude"), page.locator("#longitude")
    expect(latitude).not_to_have_value("")
    east = _ward_name(engine, latitude.input_value(), longitude.input_value())
    expect(status).to_have_text(
        f"Gần đúng: phường {east} (theo trung tâm phường gần nhất, cán bộ sẽ xác nhận)"
    )
    assert status.get_attribute("aria-live") == "polite"
    dropped = (latitude.input_value(), longitude.input_value())

    # dragged into the outlined west: the ward from its boundary, exactly
    pin = marker.bounding_box()
    assert pin is not None
    page.mouse.move(pin["x"] + pin["width"] / 2, pin["y"] + pin["height"] / 2)
    page.mouse.down()
    page.mouse.move(box["x"] + box["width"] * 0.25, pin["y"] + pin["height"] / 2, steps=12)
    page.mouse.up()
    expect(status).to_have_text("Vị trí thuộc phường: Phan Rang")
    moved = (latitude.input_value(), longitude.input_value())
    assert moved != dropped and float(moved[1]) < 108.99 < float(dropped[1])

    page.get_by_label("Nội dung phản ánh").fill("Cống thoát nước bị nghẹt, nước tràn ra đường khi mưa.")
    page.get_by_role("button", name="Gửi phản ánh").click()
    code = page.get_by_test_id("code").inner_text()
    with unit_of_work(engine) as session:  # what the worker's triage task does with the new report
        ticket = session.exec(select(Ticket).where(Ticket.code == code)).one()
        assert (ticket.latitude, ticket.longitude) == (float(moved[0]), float(moved[1]))
        decision = triage.apply(session, ticket.id or 0)
    assert decision is not None and decision.ward == "phan-rang"
    with unit_of_work(engine) as session:
        ticket = session.exec(select(Ticket).where(Ticket.code == code)).one()
        assert ticket.ward_code == "phan-rang"


def test_a_pin_outside_the_city_is_told_so_and_gets_no_ward(live: tuple[str, Engine], page: Page) -> None:
    base, engine = live
    page.goto(base + "/report")
    expect(page.locator("#report-map")).to_be_visible()
    page.locator("#latitude").fill("10.776")
    page.locator("#longitude").fill("106.700")
    page.locator("#longitude").press("Tab")  # a typed coordinate moves the pin when the field is left
    status = page.locator("#pin-status")
    expect(status).to_have_text(
        "Vị trí đã chọn nằm ngoài thành phố Phan Rang – Tháp Chàm. "
        "Vui lòng chọn lại trên bản đồ hoặc ghi rõ địa chỉ."
    )
    expect(status).to_have_class("pin-status outside")
    expect(page.locator("#report-map .leaflet-marker-icon")).to_have_count(1)

    before = _tickets(engine)
    page.get_by_label("Nội dung phản ánh").fill("Đèn đường hỏng trước cổng chợ.")
    page.get_by_role("button", name="Gửi phản ánh").click()
    expect(page.get_by_role("alert")).to_contain_text("ngoài thành phố Phan Rang")
    assert _tickets(engine) == before  # no ticket, so no ticket with a ward from a pin elsewhere


def test_the_phones_location_places_the_pin_and_a_refusal_is_explained(
    live: tuple[str, Engine],
    browser: Browser,  # noqa: F811
) -> None:
    base, _ = live
    allowed = browser.new_context(
        viewport=PHONE,
        locale="vi-VN",
        permissions=["geolocation"],
        geolocation={"latitude": 11.5670, "longitude": 108.9880},  # in the outlined west: Phan Rang
    )
    page = allowed.new_page()
    page.goto(base + "/report")
    page.get_by_role("button", name="Dùng vị trí của tôi").click()
    expect(page.locator("#latitude")).to_have_value("11.567000")
    expect(page.locator("#longitude")).to_have_value("108.988000")
    expect(page.locator("#pin-status")).to_have_text("Vị trí thuộc phường: Phan Rang")
    allowed.close()

    refused = browser.new_context(viewport=PHONE, locale="en-GB", permissions=[])
    page = refused.new_page()
    page.goto(base + "/report?lang=en")
    page.get_by_role("button", name="Use my location").click()
    expect(page.locator("#pin-status")).to_have_text(
        "Location permission was refused. Tap the map to drop the pin, or allow location in your browser's"
        " settings."
    )
    expect(page.locator("#latitude")).to_have_value("")
    refused.close()


def test_the_reports_map_clusters_the_listed_pins(live: tuple[str, Engine], page: Page) -> None:
    base, engine = live
    with unit_of_work(engine) as session:
        for n in range(15):  # fifteen reports within a few hundred metres of each other in Kinh Dinh
            service.create_ticket(
                session,
                NewTicket(
                    description=f"Đèn đường số {n} không sáng",
                    category="street_lighting",
                    ward="kinh-dinh",
                    latitude=11.5650 + n * 0.0002,
                    longitude=108.9900 + n * 0.0002,
                ),
            )
        for n in range(3):  # and three far apart
            service.create_ticket(
                session,
                NewTicket(
                    description=f"Ổ gà số {n}",
                    category="road_damage",
                    ward="van-hai",
                    latitude=11.540 + n * 0.04,
                    longitude=108.945 + n * 0.04,
                ),
            )
    listed = httpx.get(base + "/api/v1/public/pins").json()["total"]
    assert listed >= 18
    page.goto(base + "/reports")
    the_map = page.locator("#reports-map")
    expect(the_map).to_be_visible()
    expect(page.locator("#ward-svg")).to_be_hidden()  # the schematic map is the no-JavaScript view
    clusters = the_map.locator(".marker-cluster")
    expect(clusters.first).to_be_visible()
    expect(page.locator("#map-count")).to_contain_text(f"{listed} / {listed}")
    page.wait_for_function(SHOWN_ON_THE_MAP, arg=listed)  # once the clusters have settled: every pin
    grouped, single = page.evaluate(COUNT_PINS)
    assert grouped >= 15 and grouped + single == listed, (grouped, single, listed)

    clusters.first.click()  # zooms in; the map keeps working and nothing personal is in the pins
    expect(page.locator("#reports-map .leaflet-marker-icon").first).to_be_visible()
