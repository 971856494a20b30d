"""Location from every clue and duplicates that reason about place: the address parser, a street that
sets its ward, the pin in triage (boundary, successor, nearest centre, outside the city), and duplicates
that never link two house numbers or two far-apart points."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import date, datetime

import pytest
from click.testing import CliRunner
from fastapi.testclient import TestClient
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from civicdesk import cli
from geo import boundaries
from geo.locate import outside_message
from geo.shapes import multipolygon
from kernel.db import engine_for, unit_of_work
from kernel.settings import get_settings
from kernel.timeutil import city_tz
from nlp.duplicates import Report, compare
from nlp.location import find_address, ward_from_street
from routing import triage
from tests.test_photos import _jpeg_with_exif
from tickets import service
from tickets.models import Status, Ticket
from tickets.service import NewTicket

AFTER_2025 = datetime(2026, 1, 10, 9, tzinfo=city_tz())
HERE = (11.5800, 108.9900)  # (lat, lon) in the city
METRES_35_NORTH = (11.5800 + 35 / 111_195, 108.9900)
METRES_120_NORTH = (11.5800 + 120 / 111_195, 108.9900)


@pytest.mark.parametrize(
    ("text", "parts"),
    [
        ("số 45 đường Thống Nhất, hẻm 12/3, KP 3", ("45", "12/3", "3", "Thống Nhất")),
        ("trước nhà 45 thong nhat", ("45", None, None, "Thống Nhất")),
        ("12/3 Ngô Gia Tự, KP3", ("12/3", None, "3", "Ngô Gia Tự")),
        ("sn 12A đ. Lê Lợi", ("12a", None, None, "Lê Lợi")),
        ("K12 Quang Trung", (None, "12", None, "Quang Trung")),
        ("kiệt 7 Lê Hồng Phong, tổ 5", (None, "7", None, "Lê Hồng Phong")),
        ("ngõ 3 số 10 Hải Thượng Lãn Ông", ("10", "3", None, "Hải Thượng Lãn Ông")),
        ("cột điện số 12 đường Lê Lợi bị nghiêng", (None, None, None, "Lê Lợi")),  # a pole, not a house
        ("gọi số 0905123456 giúp, đường Lê Lợi", (None, None, None, "Lê Lợi")),  # a phone, not a house
        ("ổ gà trên đường 16 tháng 4", (None, None, None, "16 Tháng 4")),
    ],
)
def test_a_typed_address_is_parsed_into_its_parts(text: str, parts: tuple[str | None, ...]) -> None:
    address = find_address(text)
    assert (address.house_number, address.alley, address.khu_pho, address.street) == parts


def test_a_street_through_one_ward_only_sets_that_ward() -> None:
    assert ward_from_street("Ngô Gia Tự", date(2026, 1, 1)) == "phan-rang"
    assert ward_from_street("Thống Nhất", date(2026, 1, 1)) is None  # it runs through three wards
    assert ward_from_street("Ngô Gia Tự", date(2024, 1, 1)) is None  # listed by a ward that did not exist yet
    assert ward_from_street(None, date(2026, 1, 1)) is None


def test_two_house_numbers_are_never_linked_automatically() -> None:
    text = "Ổ gà rất lớn trước số {} đường Thống Nhất, xe máy té"
    for other in ("20", "30"):
        found = compare(Report(text.format("10"), "road_damage"), Report(text.format(other), "road_damage"))
        assert found is not None and found.text_score == 100 and not found.automatic
        assert found.blocked is not None and "khác số nhà" in found.blocked
    same = compare(Report(text.format("10"), "road_damage"), Report(text.format("10"), "road_damage"))
    assert same is not None and same.automatic and same.same_address


def test_one_number_on_streets_nobody_named_is_not_one_address() -> None:
    found = compare(
        Report("Ổ gà lớn trước số 12, xe máy té", "road_damage"),
        Report("mặt đường trước số 12 bị lủng một hố sâu, xe máy té", "road_damage"),
    )
    assert found is not None and not found.same_address and not found.automatic
    assert found.blocked is not None and "cần người xem" in found.blocked


def test_two_points_far_apart_are_never_linked_and_very_far_are_not_compared() -> None:
    text = "đèn đường trước nhà tôi không sáng cả tuần nay"
    near = compare(
        Report(text, "street_lighting", latitude=HERE[0], longitude=HERE[1]), _at(text, METRES_35_NORTH)
    )
    apart = compare(
        Report(text, "street_lighting", latitude=HERE[0], longitude=HERE[1]), _at(text, METRES_120_NORTH)
    )
    far = compare(
        Report(text, "street_lighting", latitude=HERE[0], longitude=HERE[1]), _at(text, (11.59, 108.99))
    )
    assert near is not None and near.automatic
    assert near.why().startswith("cách 35 m, cùng lĩnh vực, nội dung giống 100%")
    assert apart is not None and not apart.automatic and "không tự gộp" in apart.why()
    assert far is None


def test_a_true_duplicate_worded_differently_close_by_is_linked() -> None:
    first = Report("Ống nước bị vỡ, nước chảy lênh láng ra đường", "water_supply", None, None, *HERE)
    second = _at("ong nuoc bi be, nuoc xit ra ngoai duong may tieng roi", METRES_35_NORTH, "water_supply")
    found = compare(first, second)
    assert found is not None and found.automatic, found


def test_same_words_in_another_named_ward_are_not_duplicates() -> None:
    a = Report("nước ngập ở phường Mỹ Đông", "drainage_flooding", "dong-hai-2025", "my-dong")
    b = Report("nước ngập ở phường Đông Hải", "drainage_flooding", "dong-hai-2025", "dong-hai")
    assert compare(a, b) is None  # one ward since 2025, but the texts name two places


def _at(text: str, point: tuple[float, float], category: str = "street_lighting") -> Report:
    return Report(text, category, latitude=point[0], longitude=point[1])


def file(session: Session, text: str, **kw: object) -> Ticket:
    return service.create_ticket(session, NewTicket(description=text, **kw))  # type: ignore[arg-type]


def test_a_pin_inside_an_old_boundary_sets_the_ward_in_force(engine: Engine) -> None:
    square = [[108.985, 11.575], [108.995, 11.575], [108.995, 11.585], [108.985, 11.585], [108.985, 11.575]]
    with unit_of_work(engine) as session:
        shape = multipolygon({"type": "Polygon", "coordinates": [square]})
        boundaries.save(
            session, [boundaries.Boundary("thanh-son", shape)], source="t", licence="CC0", attribution="test"
        )
    with unit_of_work(engine) as session:
        decision = triage.decide(
            session, "Đèn đường tắt cả tuần", reported_at=AFTER_2025, latitude=HERE[0], longitude=HERE[1]
        )
        assert (decision.ward, decision.ward_source, decision.ward_approximate) == (
            "phan-rang",
            "pin_boundary",
            False,
        )
        assert any("thanh-son" in r and "boundary" in r for r in decision.reasons)
        elsewhere = triage.decide(
            session, "Đèn đường tắt", reported_at=AFTER_2025, latitude=11.60, longitude=108.95
        )  # one ward outlined of sixteen: a pin outside it falls back to the nearest centre
        assert (elsewhere.ward, elsewhere.ward_approximate) == ("do-vinh-2025", True)
        outside = triage.decide(
            session, "Đèn đường tắt", reported_at=AFTER_2025, latitude=10.77, longitude=106.7
        )
        assert outside.ward is None and outside.location_message == outside_message()


def test_without_boundaries_a_pin_gives_an_approximate_ward_that_a_person_confirms(engine: Engine) -> None:
    with unit_of_work(engine) as session:
        decision = triage.decide(
            session, "Đèn đường tắt cả tuần", reported_at=AFTER_2025, latitude=HERE[0], longitude=HERE[1]
        )
        assert decision.ward == "phan-rang" and decision.ward_approximate and decision.needs_review
        assert decision.as_json()["ward_approximate"] is True
        saigon = triage.decide(
            session, "Đèn đường tắt cả tuần", reported_at=AFTER_2025, latitude=10.77, longitude=106.7
        )
        assert saigon.ward is None and saigon.location_message is not None
        assert "ngoài thành phố" in saigon.location_message


def test_a_typed_street_through_one_ward_sets_the_ward(engine: Engine) -> None:
    with unit_of_work(engine) as session:
        decision = triage.decide(session, "Đèn đường số 12 Ngô Gia Tự tắt cả tuần", reported_at=AFTER_2025)
        assert (decision.ward, decision.ward_source) == ("phan-rang", "street")


def test_a_report_35_m_from_an_open_ticket_that_names_no_ward_is_compared_and_linked(engine: Engine) -> None:
    with unit_of_work(engine) as session:
        first = file(
            session, "Ống nước bị vỡ, nước chảy lênh láng ra đường", latitude=HERE[0], longitude=HERE[1]
        )
        triage.apply(session, first.id or 0)
        again = file(
            session,
            "ong nuoc bi be, nuoc xit ra ngoai duong may tieng roi",
            latitude=METRES_35_NORTH[0],
            longitude=METRES_35_NORTH[1],
        )
        decision = triage.apply(session, again.id or 0)
        assert decision is not None and decision.link_to is not None, decision and decision.reasons
        assert again.status == Status.DUPLICATE and again.duplicate_of_id == first.id
        assert "cách 35 m" in decision.link_to.why
        far = triage.decide(
            session,
            "ong nuoc bi be, nuoc xit ra ngoai duong may tieng roi",
            latitude=METRES_120_NORTH[0],
            longitude=METRES_120_NORTH[1],
        )
        assert far.link_to is None  # 120 m apart: at most a suggestion


def test_tickets_at_10_20_30_of_one_street_are_never_merged(engine: Engine) -> None:
    with unit_of_work(engine) as session:
        texts = [f"Ổ gà lớn trước số {n} đường Thống Nhất phường Phủ Hà, xe máy dễ té" for n in (10, 20, 30)]
        tickets = [file(session, text) for text in texts]
        for ticket in tickets:
            triage.apply(session, ticket.id or 0)
        assert all(t.status != Status.DUPLICATE for t in tickets)
        suggestion = triage.decide(session, texts[0].replace("10", "20"), exclude_ticket_id=tickets[1].id)
        assert suggestion.duplicates and not any(d.automatic for d in suggestion.duplicates)
        assert all("khác số nhà" in d.why for d in suggestion.duplicates)


def test_the_report_form_refuses_a_pin_outside_the_city_with_a_clear_message(client: TestClient) -> None:
    page = client.post("/report", data={"text": "Ổ gà lớn", "latitude": "10.7769", "longitude": "106.7009"})
    assert page.status_code == 422 and "ngoài thành phố" in page.text
    inside = client.post(
        "/report",
        data={"text": "Ổ gà lớn", "latitude": str(HERE[0]), "longitude": str(HERE[1])},
        follow_redirects=False,
    )
    assert inside.status_code == 303


def test_the_pin_picker_asks_which_ward_a_pin_is_in(client: TestClient) -> None:
    found = client.get(
        "/api/v1/geo/locate", params={"latitude": HERE[0], "longitude": HERE[1], "on": "2026-01-10"}
    )
    assert found.status_code == 200
    assert found.json() | {"found": None} == {
        "ward": "phan-rang",
        "ward_name": "Phan Rang",
        "found": None,
        "method": "nearest_centre",
        "approximate": True,
        "message": None,
    }
    outside = client.get("/api/v1/geo/locate", params={"latitude": 10.77, "longitude": 106.7})
    assert outside.json()["ward"] is None and "ngoài thành phố" in outside.json()["message"]
    assert client.get("/api/v1/geo/locate", params={"latitude": 200, "longitude": 1}).status_code == 422


def test_the_map_shows_the_imported_outlines_with_their_licence_and_attribution(
    engine: Engine, client: TestClient
) -> None:
    assert client.get("/api/v1/geo/boundaries").json()["features"]["features"] == []
    assert "Sơ đồ ranh giới phường mang tính minh họa" in client.get("/reports").text
    square = [[108.985, 11.575], [108.995, 11.575], [108.995, 11.585], [108.985, 11.585], [108.985, 11.575]]
    with unit_of_work(engine) as session:
        shape = multipolygon({"type": "Polygon", "coordinates": [square]})
        boundaries.save(
            session,
            [boundaries.Boundary("thanh-son", shape)],
            source="osm.geojson",
            licence="ODbL 1.0",
            attribution="© OpenStreetMap contributors",
        )
    page = client.get("/reports").text
    assert "© OpenStreetMap contributors" in page and "ODbL 1.0" in page
    body = client.get("/api/v1/geo/boundaries").json()
    assert body["attribution"] == "© OpenStreetMap contributors"
    assert body["features"]["features"][0]["properties"] == {"ward": "thanh-son"}


def test_a_photos_gps_places_a_report_sent_without_a_pin(engine: Engine, client: TestClient) -> None:
    square = [[108.985, 11.560], [108.995, 11.560], [108.995, 11.570], [108.985, 11.570], [108.985, 11.560]]
    with unit_of_work(engine) as session:
        shape = multipolygon({"type": "Polygon", "coordinates": [square]})
        boundaries.save(
            session, [boundaries.Boundary("kinh-dinh", shape)], source="t", licence="CC0", attribution="test"
        )
    photo = _jpeg_with_exif((11.0, 33.0, 54.0))  # 11.565 N, 108.99 E: inside the square
    sent = client.post(
        "/report",
        data={"text": "Đèn đường tắt cả tuần nay"},
        files={"photos": ("den.jpg", photo, "image/jpeg")},
        follow_redirects=False,
    )
    assert sent.status_code == 303
    with unit_of_work(engine) as session:
        ticket = session.exec(select(Ticket).order_by(col(Ticket.id).desc())).first()
        assert ticket is not None and ticket.latitude == pytest.approx(11.565, abs=1e-4)
        decision = triage.apply(session, ticket.id or 0)
        assert decision is not None and decision.ward_source == "pin_boundary"
        assert ticket.ward_code == "phan-rang"  # Kinh Dinh's successor in force today


@pytest.fixture
def runner(engine: Engine, postgres_url: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[CliRunner]:
    monkeypatch.setenv("CIVICDESK_DATABASE_URL", postgres_url)
    get_settings.cache_clear()
    engine_for.cache_clear()
    yield CliRunner()
    engine_for(postgres_url).dispose()
    get_settings.cache_clear()
    engine_for.cache_clear()


def test_cli_triage_takes_a_pin(runner: CliRunner) -> None:
    lines = [
        {
            "text": "Đèn đường tắt cả tuần",
            "latitude": HERE[0],
            "longitude": HERE[1],
            "reported_at": "2026-01-10",
        },
        {"text": "Đèn đường tắt cả tuần", "latitude": "north", "longitude": HERE[1]},
        {"text": "Đèn đường tắt cả tuần", "latitude": HERE[0]},
    ]
    result = runner.invoke(cli.main, ["triage"], input="\n".join(json.dumps(line) for line in lines) + "\n")
    assert result.exit_code == 0, result.output
    placed, *bad = [json.loads(line) for line in result.output.splitlines()]
    assert placed["ward"] == "phan-rang" and placed["needs_review"]  # approximate: a person confirms
    assert any("nearest ward centre" in reason for reason in placed["reasons"])
    assert all("latitude and longitude" in answer["error"] for answer in bad)
