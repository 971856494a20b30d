"""Open311 as other systems read it: FixMyStreet's XML rules, media_url fetched and served, address_id
kept, updates newest first with the status of their time and paged past 1,000, control characters that
can never break a page, browsers allowed by CORS, and the small HTTP manners (charset, Retry-After)."""

from __future__ import annotations

import io
import re
import xml.etree.ElementTree as ET  # noqa: S405 - parsing our own server's answers in tests
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import httpx
import pytest
from fakes import serve
from fastapi import FastAPI
from fastapi.responses import Response
from fastapi.testclient import TestClient
from openness import Openness
from PIL import Image
from sqlalchemy import text
from sqlalchemy.engine import Engine
from sqlmodel import select

from kernel.db import unit_of_work
from kernel.settings import get_settings
from kernel.timeutil import utcnow
from tickets import service as tickets
from tickets.models import Status, Ticket
from tickets.service import SYSTEM

# What FixMyStreet's Open311 client asks of XML::Simple: these elements are always lists, and a wrapper
# such as <attributes> is replaced by the list of its <attribute> children
GROUP_TAGS = {
    "services": "service",
    "attributes": "attribute",
    "values": "value",
    "service_requests": "request",
    "errors": "error",
    "service_request_updates": "request_update",
}
FORCE_ARRAY = set(GROUP_TAGS.values())
# DateTime::Format::W3CDTF, which FixMyStreet parses every date with
W3C_DATETIME = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d(:\d\d(\.\d+)?)?(Z|[+-]\d\d:\d\d)$")


def xml_simple(element: ET.Element) -> Any:
    """Perl's XML::Simple as FixMyStreet configures it (ForceArray, GroupTags, KeyAttr => {},
    SuppressEmpty => undef), root element dropped: what its importer's code then reads."""
    children = list(element)
    if not children:
        return element.text if element.text else None
    grouped = GROUP_TAGS.get(element.tag)
    if grouped and all(child.tag == grouped for child in children):
        return [xml_simple(child) for child in children]
    found: dict[str, Any] = {}
    for child in children:
        value = xml_simple(child)
        if child.tag in FORCE_ARRAY or child.tag in found:
            previous = found.get(child.tag)
            listed = previous if isinstance(previous, list) else ([] if previous is None else [previous])
            found[child.tag] = [*listed, value] if child.tag in found or child.tag in FORCE_ARRAY else value
        else:
            found[child.tag] = value
    return found


def fms_read(response: httpx.Response) -> Any:
    assert response.headers["content-type"] == "text/xml; charset=utf-8"
    return xml_simple(ET.fromstring(response.content))  # noqa: S314 - our own server's answer


@pytest.fixture
def api_key(client: TestClient, admin: dict[str, str]) -> str:
    made = client.post("/api/v1/open311/clients", json={"name": "FixMyStreet VN"}, headers=admin)
    return str(made.json()["api_key"])


@pytest.fixture
def settings_env(monkeypatch: pytest.MonkeyPatch) -> Iterator[pytest.MonkeyPatch]:
    """Set CIVICDESK_* variables for one test; the cached settings are read again before and after."""
    get_settings.cache_clear()
    yield monkeypatch
    monkeypatch.undo()
    get_settings.cache_clear()


def post(client: TestClient, key: str, fmt: str = "json", **fields: str) -> httpx.Response:
    data = {"api_key": key, "service_code": "road_damage", "lat": "11.5668", "long": "108.9881", **fields}
    data.setdefault("description", "Ổ gà sâu trước chợ")
    data.setdefault("attribute[hazard]", "yes")
    return client.post(f"/open311/v2/requests.{fmt}", data={k: v for k, v in data.items() if v is not None})


def png(size: tuple[int, int] = (64, 48)) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", size, (200, 30, 30)).save(out, format="PNG")
    return out.getvalue()


def photo_host() -> FastAPI:
    """A client's own server holding the photo a request points at."""
    host = FastAPI()

    @host.get("/photo.png")
    def photo() -> Response:
        return Response(png(), media_type="image/png")

    @host.get("/moved")
    def moved() -> Response:
        return Response(status_code=302, headers={"Location": "/photo.png"})

    @host.get("/page.html")
    def page() -> Response:
        return Response("<html>not a photo</html>", media_type="text/html")

    @host.get("/huge.png")
    def huge() -> Response:
        return Response(png((1200, 1200)) + b"\0" * 200_000, media_type="image/png")

    return host


def code_of(answer: httpx.Response) -> str:
    assert answer.status_code == 201, answer.text
    return str(answer.json()[0]["service_request_id"])


# --- FixMyStreet's reading of our XML ------------------------------------------------------------------


def test_fixmystreet_reads_services_requests_and_updates(
    client: TestClient, engine: Engine, api_key: str
) -> None:
    services = fms_read(client.get("/open311/v2/services.xml"))
    assert isinstance(services, list) and {"service_code", "service_name", "metadata"} <= set(services[0])
    definition = fms_read(client.get("/open311/v2/services/road_damage.xml"))
    assert isinstance(definition["attributes"], list) and isinstance(
        definition["attributes"][0]["values"], list
    )
    code = code_of(post(client, api_key))
    single = fms_read(client.get(f"/open311/v2/requests/{code}.xml"))
    assert isinstance(single, list) and len(single) == 1 and single[0]["service_request_id"] == code
    assert W3C_DATETIME.match(single[0]["requested_datetime"]) and W3C_DATETIME.match(
        single[0]["updated_datetime"]
    )
    with unit_of_work(engine) as session:
        ticket_id = session.exec(select(Ticket.id).where(Ticket.code == code)).one() or 0
        tickets.add_comment(
            session, ticket_id, text="Đội sửa đường sẽ đến trong tuần", public=True, actor=SYSTEM
        )
    updates = fms_read(client.get("/open311/v2/servicerequestupdates.xml"))
    assert isinstance(updates, list) and updates[0]["service_request_id"] == code
    assert W3C_DATETIME.match(updates[0]["updated_datetime"]) and updates[0]["update_id"].isdigit()
    errors = fms_read(client.get("/open311/v2/requests/PR-0000-000000.xml"))
    assert isinstance(errors, list) and errors[0]["code"] == "404"


def test_a_control_character_never_breaks_a_page(client: TestClient, engine: Engine, api_key: str) -> None:
    code = code_of(post(client, api_key, description="Nắp cống\x0b vỡ\x1f giữa đường"))
    with unit_of_work(engine) as session:
        ticket = session.exec(select(Ticket).where(Ticket.code == code)).one()
        assert ticket.description.startswith("Nắp cống vỡ giữa đường\n")  # stripped at intake
        # and one stored before intake cleaned text (an old row, a restore) is dropped on the way out
        session.execute(
            text(
                "INSERT INTO ticket_event (ticket_id, kind, actor_type, public, note, data, created_at)"
                " VALUES (:id, 'comment', 'staff', true, :note, '{}', now())"
            ),
            {"id": ticket.id, "note": "Đã kiểm tra\x0b hiện trường"},
        )
    for path in (
        f"/open311/v2/requests/{code}.xml",
        "/open311/v2/requests.xml",
        "/open311/v2/servicerequestupdates.xml",
    ):
        answer = client.get(path)
        assert answer.status_code == 200
        ET.fromstring(answer.content)  # noqa: S314 - well-formed, or this raises
    notes = fms_read(client.get("/open311/v2/servicerequestupdates.xml"))
    assert notes[0]["description"] == "Đã kiểm tra hiện trường"


def test_staff_text_loses_control_characters_at_intake(
    client: TestClient, engine: Engine, api_key: str
) -> None:
    code = code_of(post(client, api_key))
    with unit_of_work(engine) as session:
        ticket_id = session.exec(select(Ticket.id).where(Ticket.code == code)).one() or 0
        event = tickets.add_comment(session, ticket_id, text="Sẽ xử lý\x0b ngay", public=True, actor=SYSTEM)
        assert event.note == "Sẽ xử lý ngay"


# --- media_url ------------------------------------------------------------------------------------------


def test_media_url_is_fetched_stored_and_served(
    client: TestClient, api_key: str, settings_env: pytest.MonkeyPatch
) -> None:
    settings_env.setenv("CIVICDESK_OPEN311_MEDIA_ALLOW_PRIVATE", "true")
    with serve(photo_host()) as host:
        code = code_of(post(client, api_key, media_url=f"{host}/moved"))
    request = client.get(f"/open311/v2/requests/{code}.json").json()[0]
    assert request["media_url"].startswith("http://testserver/open311/v2/media/")
    assert "[ảnh]" not in request["description"]  # no longer pasted into the text
    photo = client.get(request["media_url"].removeprefix("http://testserver"))
    assert photo.status_code == 200 and photo.headers["content-type"] == "image/png"
    assert Image.open(io.BytesIO(photo.content)).size == (64, 48)
    listed = client.get("/open311/v2/requests.xml", params={"service_request_id": code})
    assert fms_read(listed)[0]["media_url"] == request["media_url"]


def test_media_url_is_fetched_with_no_transaction_open(
    client: TestClient, engine: Engine, api_key: str, settings_env: pytest.MonkeyPatch
) -> None:
    settings_env.setenv("CIVICDESK_OPEN311_MEDIA_ALLOW_PRIVATE", "true")
    openness = Openness(engine)
    host = photo_host()

    @host.get("/watched.png")
    def watched() -> Response:
        openness.note()  # the request waits for this answer right now
        return Response(png(), media_type="image/png")

    with serve(host) as base:
        code = code_of(post(client, api_key, media_url=f"{base}/watched.png"))
    assert openness.seen == [(0, 0)]
    assert client.get(f"/open311/v2/requests/{code}.json").json()[0]["media_url"]


@pytest.mark.parametrize(
    ("path", "needle"), [("/page.html", "not a photo"), ("/huge.png", "limit"), ("/missing.png", "404")]
)
def test_a_bad_media_url_is_refused_in_the_spec_format(
    client: TestClient, engine: Engine, api_key: str, settings_env: pytest.MonkeyPatch, path: str, needle: str
) -> None:
    settings_env.setenv("CIVICDESK_OPEN311_MEDIA_ALLOW_PRIVATE", "true")
    settings_env.setenv("CIVICDESK_ATTACHMENT_MAX_BYTES", "150000")
    with unit_of_work(engine) as session:
        before = len(session.exec(select(Ticket.id)).all())
    with serve(photo_host()) as host:
        for fmt in ("json", "xml"):
            answer = post(client, api_key, fmt=fmt, media_url=f"{host}{path}")
            assert answer.status_code == 400
            error = answer.json()[0] if fmt == "json" else fms_read(answer)[0]
            assert str(error["code"]) == "400" and needle in error["description"]
    with unit_of_work(engine) as session:
        assert len(session.exec(select(Ticket.id)).all()) == before  # no ticket without its photo


def test_a_media_url_inside_our_network_is_refused(client: TestClient, api_key: str) -> None:
    with serve(photo_host()) as host:
        answer = post(client, api_key, media_url=f"{host}/photo.png")
    assert answer.status_code == 400 and "private network" in answer.json()[0]["description"]
    assert post(client, api_key, media_url="file:///etc/passwd").status_code == 400


# --- address_id, approximate places ---------------------------------------------------------------------


def test_address_id_round_trips_and_an_address_only_request_gets_its_wards_centre(
    client: TestClient, engine: Engine, api_key: str
) -> None:
    code = code_of(post(client, api_key, lat=None, long=None, address_id="VN-PRTC-000451"))
    with unit_of_work(engine) as session:
        session.exec(select(Ticket).where(Ticket.code == code)).one().ward_code = "phu-ha"
    request = client.get(f"/open311/v2/requests/{code}.json").json()[0]
    assert request["address_id"] == "VN-PRTC-000451"
    assert request["location_approximate"] is True
    # Phú Hà's centre (11.576, 109.002), or the middle of the units merged into it
    assert request["lat"] == pytest.approx(11.576, abs=0.01) and request["long"] == pytest.approx(
        109.002, abs=0.01
    )
    exact = client.get(f"/open311/v2/requests/{code_of(post(client, api_key))}.json").json()[0]
    assert exact["location_approximate"] is False and exact["address_id"] is None


# --- updates ----------------------------------------------------------------------------------------------


def test_updates_carry_the_status_of_their_time_newest_first(
    client: TestClient, engine: Engine, api_key: str
) -> None:
    code = code_of(post(client, api_key))
    with unit_of_work(engine) as session:
        tid = session.exec(select(Ticket.id).where(Ticket.code == code)).one() or 0
        tickets.transition(session, tid, Status.TRIAGED, actor=SYSTEM)
        tickets.assign(session, tid, department="qldt", actor=SYSTEM)
        tickets.transition(session, tid, Status.IN_PROGRESS, actor=SYSTEM)
        tickets.add_comment(session, tid, text="Đang vá ổ gà", public=True, actor=SYSTEM)
        tickets.transition(session, tid, Status.RESOLVED, actor=SYSTEM)
        tickets.add_comment(session, tid, text="Đã vá xong, cảm ơn bạn", public=True, actor=SYSTEM)
    updates = [
        u
        for u in client.get("/open311/v2/servicerequestupdates.json").json()
        if u["service_request_id"] == code
    ]
    by_text = {u["description"]: u for u in updates}
    assert by_text["Đang vá ổ gà"]["status"] == "open"
    assert by_text["Đang vá ổ gà"]["external_status_code"] == "in_progress"
    assert by_text["Đã vá xong, cảm ơn bạn"]["status"] == "closed"
    ids = [int(u["update_id"]) for u in updates]
    assert ids == sorted(ids, reverse=True)


def test_updates_page_past_a_thousand(client: TestClient, engine: Engine, api_key: str) -> None:
    code = code_of(post(client, api_key))
    start = utcnow() - timedelta(hours=2)
    with unit_of_work(engine) as session:
        tid = session.exec(select(Ticket.id).where(Ticket.code == code)).one()
        session.execute(
            text(
                "INSERT INTO ticket_event (ticket_id, kind, actor_type, public, note, data, created_at)"
                " SELECT :id, 'comment', 'staff', true, 'Cập nhật ' || n, '{}',"
                " :start + n * interval '1 second' FROM generate_series(1, 1205) AS n"
            ),
            {"id": tid, "start": start},
        )
    window = {"start_date": (start - timedelta(minutes=1)).isoformat()}
    first = client.get("/open311/v2/servicerequestupdates.json", params=window).json()
    second = client.get("/open311/v2/servicerequestupdates.json", params={**window, "page": 2}).json()
    third = client.get("/open311/v2/servicerequestupdates.json", params={**window, "page": 3}).json()
    mine = [
        u["description"]
        for u in first + second
        if u["service_request_id"] == code and u["description"].startswith("Cập nhật")
    ]
    assert len(first) == 1000 and first[0]["description"] == ""  # the request's creation: newest
    assert mine == [f"Cập nhật {n}" for n in range(1205, 0, -1)] and third == []
    assert client.get("/open311/v2/servicerequestupdates.json", params={"page": 0}).status_code == 400


# --- HTTP manners -----------------------------------------------------------------------------------------


def test_cors_lets_browsers_read_and_only_listed_origins_post(
    client: TestClient, api_key: str, settings_env: pytest.MonkeyPatch
) -> None:
    preflight = client.options(
        "/open311/v2/requests.json",
        headers={"Origin": "https://map.example.vn", "Access-Control-Request-Method": "GET"},
    )
    assert preflight.status_code == 204 and preflight.headers["access-control-allow-origin"] == "*"
    read = client.get("/open311/v2/services.json", headers={"Origin": "https://map.example.vn"})
    assert read.headers["access-control-allow-origin"] == "*"
    refused = client.options(
        "/open311/v2/requests.json",
        headers={"Origin": "https://map.example.vn", "Access-Control-Request-Method": "POST"},
    )
    assert refused.status_code == 403 and "access-control-allow-origin" not in refused.headers
    settings_env.setenv("CIVICDESK_OPEN311_CORS_ORIGINS", '["https://cong.ninhthuan.gov.vn"]')
    settings_env.setenv("CIVICDESK_OPEN311_CORS_POST_ORIGINS", '["https://cong.ninhthuan.gov.vn"]')
    get_settings.cache_clear()
    portal = {"Origin": "https://cong.ninhthuan.gov.vn"}
    allowed = client.options(
        "/open311/v2/requests.json", headers={**portal, "Access-Control-Request-Method": "POST"}
    )
    assert allowed.status_code == 204 and allowed.headers["access-control-allow-origin"] == portal["Origin"]
    assert "POST" in allowed.headers["access-control-allow-methods"]
    posted = client.post(
        "/open311/v2/requests.json",
        headers=portal,
        data={
            "api_key": api_key,
            "service_code": "road_damage",
            "lat": "11.5668",
            "long": "108.9881",
            "attribute[hazard]": "yes",
            "description": "Ổ gà",
        },
    )
    assert posted.status_code == 201 and posted.headers["access-control-allow-origin"] == portal["Origin"]
    other = client.get("/open311/v2/services.json", headers={"Origin": "https://elsewhere.example"})
    assert "access-control-allow-origin" not in other.headers
    staff = client.options("/api/v1/tickets", headers={**portal, "Access-Control-Request-Method": "GET"})
    assert "access-control-allow-origin" not in staff.headers  # only Open311 is cross-origin


def test_json_names_its_charset_and_429_says_when_to_retry(client: TestClient, admin: dict[str, str]) -> None:
    assert (
        client.get("/open311/v2/services.json").headers["content-type"] == "application/json; charset=utf-8"
    )
    key = client.post(
        "/api/v1/open311/clients", json={"name": "Ứng dụng chậm", "requests_per_minute": 1}, headers=admin
    ).json()["api_key"]
    answers = [post(client, key) for _ in range(2)]
    assert [a.status_code for a in answers] == [201, 429]
    assert int(answers[1].headers["Retry-After"]) >= 1
    assert answers[1].headers["content-type"] == "application/json; charset=utf-8"
