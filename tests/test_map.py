"""The public maps over HTTP: the /reports pins endpoint shows public data only (a rounded point, code,
category, status) for listed reports, paged and limited; the pages carry the map's settings as data-*
attributes; the CSP allows the configured tile server's origin for images and nothing else; the ward
centres an offline map draws; the vendored Leaflet files are served with their licences."""

from __future__ import annotations

import html
import json
import re
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.engine import Engine

from civicdesk.asgi import create_app
from kernel.db import unit_of_work
from kernel.settings import get_settings
from tickets import service
from tickets.citizens import Contact
from tickets.models import Status
from tickets.service import SYSTEM, NewTicket
from web.headers import page_policy, tile_origin

PIN_FIELDS = {
    "code",
    "status",
    "category_code",
    "category_vi",
    "category_en",
    "ward_name",
    "latitude",
    "longitude",
}
PERSONAL = ("0912345678", "binh.nv@example.com", "Nguyễn Văn Bình", "zalo-4242", "fb-4242", "Lê Lợi")


def _report(engine: Engine, **fields: object) -> tuple[int, str]:
    draft = {
        "description": "Nguyễn Văn Bình báo: đèn đường hỏng trước nhà số 12 Lê Lợi, gọi 0912345678",
        "category": "street_lighting",
        "ward": "kinh-dinh",
        "address": "12 Lê Lợi",
        "latitude": 11.5648731,
        "longitude": 108.9912345,
        "contact": Contact(
            phone="0912345678",
            email="binh.nv@example.com",
            name="Nguyễn Văn Bình",
            zalo_id="zalo-4242",
            facebook_id="fb-4242",
        ),
        **fields,
    }
    with unit_of_work(engine) as session:
        ticket = service.create_ticket(session, NewTicket(**draft))  # type: ignore[arg-type]
        return ticket.id or 0, ticket.code


def test_pins_show_public_data_only_rounded_to_about_100_m(client: TestClient, engine: Engine) -> None:
    _, listed = _report(engine)
    _, sensitive = _report(engine, category="security")
    _, no_place = _report(engine, latitude=None, longitude=None)
    hidden_id, hidden = _report(engine)
    rejected_id, rejected = _report(engine)
    with unit_of_work(engine) as session:
        service.update_ticket(session, hidden_id, {"hidden_from_public": True}, actor=SYSTEM)
        service.transition(session, rejected_id, Status.REJECTED, reason="spam", actor=SYSTEM)

    answer = client.get("/api/v1/public/pins")
    assert answer.status_code == 200
    body = answer.json()
    assert body["total"] == 1 and [pin["code"] for pin in body["pins"]] == [listed]
    for left_out in (sensitive, no_place, hidden, rejected):
        assert left_out not in answer.text
    pin = body["pins"][0]
    assert set(pin) == PIN_FIELDS
    assert (pin["latitude"], pin["longitude"]) == (11.565, 108.991)  # not the house: 11.5648731, 108.9912345
    assert pin["category_code"] == "street_lighting" and pin["ward_name"] == "Kinh Dinh"
    for secret in PERSONAL:
        assert secret not in answer.text
    assert "tracking" not in answer.text and "/t/" not in answer.text


def test_pins_are_paged_limited_and_filtered(client: TestClient, engine: Engine) -> None:
    codes = [_report(engine)[1] for _ in range(3)]
    _, road = _report(engine, category="road_damage", ward="van-hai", latitude=11.59, longitude=109.02)
    first = client.get("/api/v1/public/pins", params={"limit": 2}).json()
    rest = client.get("/api/v1/public/pins", params={"limit": 2, "offset": 2}).json()
    assert first["total"] == rest["total"] == 4 and len(first["pins"]) == 2 and len(rest["pins"]) == 2
    assert {p["code"] for p in first["pins"] + rest["pins"]} == {*codes, road}
    only_roads = client.get("/api/v1/public/pins", params={"category": "road_damage"}).json()
    assert [p["code"] for p in only_roads["pins"]] == [road]
    ninh_chu = client.get("/api/v1/public/pins", params={"ward": "ninh-chu"}).json()  # Văn Hải's successor
    assert [p["code"] for p in ninh_chu["pins"]] == [road]


@pytest.mark.parametrize(
    "query", ["limit=0", "limit=501", "offset=-1", "limit=many", "status=bogus", "category=" + "x" * 49]
)
def test_bad_pin_queries_are_a_clear_4xx_in_vietnamese(client: TestClient, query: str) -> None:
    answer = client.get(f"/api/v1/public/pins?{query}")
    assert answer.status_code == 422, answer.text
    detail = str(answer.json()["detail"])
    assert detail and "Traceback" not in detail
    assert any(ch in detail for ch in "ảàạáãâăđêôơưệếộ"), detail  # said in Vietnamese


def words(page: str) -> dict[str, str]:
    found = re.search(r"data-messages='([^']*)'", page)
    assert found
    return dict(json.loads(html.unescape(found.group(1))))


def test_the_pages_carry_the_maps_settings_as_data_attributes(client: TestClient) -> None:
    form = client.get("/report").text
    assert 'id="report-map"' in form and 'data-tiles="https://tile.openstreetmap.org/{z}/{x}/{y}.png"' in form
    assert 'data-centre="11.565,108.99"' in form and 'data-bounds="11.53,108.935,11.635,109.045"' in form
    assert 'aria-live="polite"' in form and 'id="latitude"' in form  # the plain inputs stay for no JS
    assert words(form)["js_location_denied"].startswith("Bạn chưa cho phép")  # from the catalogue
    for script in ("/static/vendor/leaflet/leaflet.js", "/static/citymap.js", "/static/report.js"):
        assert f'src="{script}"' in form
    listing = client.get("/reports?category=street_lighting&lang=en").text
    assert 'data-pins="/api/v1/public/pins?category=street_lighting"' in listing
    assert "/static/vendor/leaflet/leaflet.markercluster.js" in listing and "<svg" in listing
    assert words(listing)["js_map_pins_shown"].startswith("The map shows {shown} of {total}")
    statuses = re.search(r"data-statuses='([^']*)'", listing)
    assert statuses and json.loads(html.unescape(statuses.group(1)))["resolved"] == "Resolved"


def test_csp_allows_the_tile_origin_only(client: TestClient) -> None:
    policy = client.get("/report").headers["Content-Security-Policy"]
    assert "img-src 'self' data: blob: https://tile.openstreetmap.org;" in policy
    assert (
        "unsafe-inline" not in policy and "script-src 'self';" in policy and "connect-src 'self';" in policy
    )
    assert (
        tile_origin("https://{s}.tile.example.org:8443/osm/{z}/{x}/{y}.png")
        == "https://*.tile.example.org:8443"
    )
    assert tile_origin("") is None
    assert "img-src 'self' data: blob:;" in page_policy("")


@pytest.fixture
def offline(engine: Engine, monkeypatch: pytest.MonkeyPatch) -> Iterator[TestClient]:
    monkeypatch.setenv("CIVICDESK_MAP_TILE_URL", "")
    get_settings.cache_clear()
    with TestClient(create_app(engine)) as client:
        yield client
    get_settings.cache_clear()


def test_offline_maps_have_no_tiles_and_no_outside_image_origin(offline: TestClient) -> None:
    answer = offline.get("/reports")
    assert 'data-tiles=""' in answer.text
    policy = answer.headers["Content-Security-Policy"]
    assert "img-src 'self' data: blob:;" in policy and "http" not in policy


def test_a_tile_url_that_is_no_template_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CIVICDESK_MAP_TILE_URL", "https://tiles.example.org/'unsafe-inline'")
    get_settings.cache_clear()
    try:
        with pytest.raises(ValueError, match="map_tile_url"):
            get_settings()
    finally:
        monkeypatch.delenv("CIVICDESK_MAP_TILE_URL")
        get_settings.cache_clear()


def test_ward_centres_for_the_offline_map(client: TestClient) -> None:
    centres = client.get("/api/v1/geo/centres").json()["centres"]
    by_unit = {c["unit"]: c for c in centres}
    assert len(by_unit) == 16
    assert by_unit["thanh-son"]["ward"] == "phan-rang" and by_unit["thanh-son"]["unit_name"] == "Thanh Sơn"
    assert by_unit["van-hai"]["ward_name"] == "Ninh Chử"


def test_leaflet_is_vendored_with_its_licences(client: TestClient) -> None:
    for path in (
        "leaflet.js",
        "leaflet.css",
        "leaflet.markercluster.js",
        "MarkerCluster.css",
        "MarkerCluster.Default.css",
        "images/marker-icon.png",
        "LICENSE-leaflet",
        "LICENSE-markercluster",
        "VERSIONS",
    ):
        assert client.get(f"/static/vendor/leaflet/{path}").status_code == 200, path
    assert "Leaflet 1.9.4" in client.get("/static/vendor/leaflet/leaflet.js").text[:200]
