"""Ward from a map pin: point-in-polygon with holes, the successor in force, the nearest-centre fallback,
pins outside the city, `civicdesk geo import` of good and bad files, and `geo fetch-osm` against a fake
Overpass server speaking its JSON `out geom` format."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result
from sqlalchemy.engine import Engine

from civicdesk import cli
from geo import boundaries, codes
from geo.locate import Method, locate_pin, outside_message
from geo.shapes import contains, multipolygon
from kernel.db import engine_for, unit_of_work
from kernel.settings import get_settings
from tests.fakes import serve
from tests.overpass_fake import OverpassState, build_app, relation, way
from web.geo import voronoi_cells

BEFORE_2024_MERGER = date(2024, 6, 1)
AFTER_2025_MERGER = date(2026, 1, 10)
THANH_SON = [(108.987, 11.574), (108.997, 11.574), (108.997, 11.582), (108.987, 11.582)]
PHU_HA = [(108.997, 11.572), (109.007, 11.572), (109.007, 11.580), (108.997, 11.580)]
PHU_HA_HOLE = [(109.001, 11.575), (109.003, 11.575), (109.003, 11.577), (109.001, 11.577)]
IN_THANH_SON = (11.578, 108.990)  # (lat, lon)
IN_PHU_HA = (11.573, 109.005)
IN_THE_HOLE = (11.576, 109.002)
SAIGON = (10.776, 106.700)


def closed(points: list[tuple[float, float]]) -> list[list[float]]:
    return [list(p) for p in [*points, points[0]]]


def feature(properties: dict[str, Any], *rings: list[tuple[float, float]]) -> dict[str, Any]:
    return {
        "type": "Feature",
        "properties": properties,
        "geometry": {"type": "Polygon", "coordinates": [closed(r) for r in rings]},
    }


def write(tmp_path: Path, *features: dict[str, Any]) -> Path:
    path = tmp_path / "wards.geojson"
    path.write_text(json.dumps({"type": "FeatureCollection", "features": list(features)}), encoding="utf-8")
    return path


@pytest.fixture
def cli_on(engine: Engine, postgres_url: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[CliRunner]:
    monkeypatch.setenv("CIVICDESK_DATABASE_URL", postgres_url)
    get_settings.cache_clear()
    engine_for.cache_clear()
    yield CliRunner()
    engine_for(postgres_url).dispose()
    get_settings.cache_clear()
    engine_for.cache_clear()


def geo_import(runner: CliRunner, path: Path, *extra: str) -> Result:
    args = ["geo", "import", str(path), "--licence", "CC BY 4.0", "--attribution", "UBND thành phố", *extra]
    return runner.invoke(cli.main, args)


def test_a_hole_is_not_inside_and_every_part_of_a_multipolygon_is() -> None:
    shape = multipolygon(
        {
            "type": "MultiPolygon",
            "coordinates": [[closed(PHU_HA), closed(PHU_HA_HOLE)], [closed(THANH_SON)]],
        }
    )
    assert contains(shape, (IN_PHU_HA[1], IN_PHU_HA[0]))
    assert contains(shape, (IN_THANH_SON[1], IN_THANH_SON[0]))
    assert not contains(shape, (IN_THE_HOLE[1], IN_THE_HOLE[0]))
    assert not contains(shape, (SAIGON[1], SAIGON[0]))


def test_a_pin_takes_the_ward_of_its_boundary_and_then_the_successor_in_force(
    cli_on: CliRunner, engine: Engine, tmp_path: Path
) -> None:
    path = write(
        tmp_path,
        feature({"gso_code": "22750", "name": "Phường Thanh Sơn"}, THANH_SON),
        feature({"code": "phu-ha"}, PHU_HA, PHU_HA_HOLE),
    )
    result = geo_import(cli_on, path, "--as-of", "2024-06-01")
    assert result.exit_code == 0, result.output
    assert "2 imported" in result.output and "CC BY 4.0" in result.output
    with unit_of_work(engine) as session:
        then = locate_pin(session, *IN_THANH_SON, BEFORE_2024_MERGER)
        now = locate_pin(session, *IN_THANH_SON, AFTER_2025_MERGER)
        hole = locate_pin(session, *IN_THE_HOLE, AFTER_2025_MERGER)
        imported = boundaries.current(session)
    assert (then.ward, then.found, then.method) == ("thanh-son", "thanh-son", Method.BOUNDARY)
    assert (now.ward, now.found, now.approximate) == ("phan-rang", "thanh-son", False)  # → Phủ Hà → Phan Rang
    assert "thanh-son" in now.reason() and "boundary" in now.reason()
    assert hole.method == Method.NEAREST_CENTRE  # two wards outlined of sixteen: the rest is not "outside"
    assert imported is not None and imported.attribution == "UBND thành phố"


def test_a_gso_code_is_read_with_its_date() -> None:
    assert codes.gso_code("thanh-son", BEFORE_2024_MERGER) == "22750"
    assert codes.gso_code("phu-ha", BEFORE_2024_MERGER) == "22747"
    assert codes.gso_code("phu-ha", date(2025, 1, 1)) == "22750"  # Thanh Sơn's old code, after the merger
    assert codes.wards_with_gso("22750") == {"thanh-son", "phu-ha"}


def test_an_ambiguous_gso_code_without_a_date_is_refused(cli_on: CliRunner, tmp_path: Path) -> None:
    result = geo_import(cli_on, write(tmp_path, feature({"gso_code": "22750"}, THANH_SON)))
    assert result.exit_code == 2
    assert "22750" in result.output and "--as-of" in result.output and "Traceback" not in result.output


@pytest.mark.parametrize(
    ("content", "reason"),
    [
        ("{not json", "không phải GeoJSON hợp lệ"),
        ('{"type": "Feature"}', "FeatureCollection"),
        (
            json.dumps(
                {"type": "FeatureCollection", "features": [feature({"code": "phu-ha"}, PHU_HA)]}
            ).replace("11.572]]", "11.5]]"),
            "không khép kín",
        ),
        (
            json.dumps({"type": "FeatureCollection", "features": [feature({"name": "Atlantis"}, PHU_HA)]}),
            "Atlantis",
        ),
        (
            json.dumps(
                {
                    "type": "FeatureCollection",
                    "features": [{"type": "Feature", "properties": {"code": "phu-ha"}, "geometry": None}],
                }
            ),
            "thiếu hình học",
        ),
    ],
)
def test_a_bad_boundary_file_is_a_clear_message_and_exit_code_2(
    cli_on: CliRunner, engine: Engine, tmp_path: Path, content: str, reason: str
) -> None:
    path = tmp_path / "bad.geojson"
    path.write_text(content, encoding="utf-8")
    result = geo_import(cli_on, path)
    assert result.exit_code == 2, result.output
    assert reason in result.output and "Traceback" not in result.output
    with unit_of_work(engine) as session:
        assert boundaries.current(session) is None  # nothing half-imported


def test_without_boundaries_a_pin_takes_the_nearest_centre_marked_approximate(engine: Engine) -> None:
    with unit_of_work(engine) as session:
        pin = locate_pin(session, 11.5785, 108.9925, BEFORE_2024_MERGER)
        later = locate_pin(session, 11.5785, 108.9925, AFTER_2025_MERGER)
    assert (pin.ward, pin.method, pin.approximate) == ("thanh-son", Method.NEAREST_CENTRE, True)
    assert later.ward == "phan-rang" and "approximate" in later.reason()


def test_a_pin_outside_the_city_gets_a_clear_message_and_no_ward(engine: Engine) -> None:
    with unit_of_work(engine) as session:
        pin = locate_pin(session, *SAIGON, AFTER_2025_MERGER)
    assert pin.ward is None and pin.method == Method.OUTSIDE
    assert pin.message is not None and "ngoài thành phố" in pin.message


def test_fetch_osm_joins_the_ways_of_each_relation_through_overpass(
    cli_on: CliRunner, engine: Engine
) -> None:
    a, b, c, d = THANH_SON
    state = OverpassState(
        relations={
            # Thanh Sơn's outline in two ways, the second drawn backwards, as OSM often has it
            16075210: relation(16075210, "Phường Thanh Sơn", way("outer", a, b, c), way("outer", a, d, c)),
            16075207: relation(
                16075207,
                "Phường Phủ Hà",
                way("outer", *PHU_HA, PHU_HA[0]),
                way("inner", *PHU_HA_HOLE, PHU_HA_HOLE[0]),
            ),
        }
    )
    with serve(build_app(state)) as base:
        result = cli_on.invoke(cli.main, ["geo", "fetch-osm", "--endpoint", f"{base}/api/interpreter"])
    assert result.exit_code == 0, result.output
    assert "2 of 16" in result.output and "not returned by Overpass" in result.output
    assert "relation(id:" in state.queries[0] and state.queries[0].endswith("out geom;")
    with unit_of_work(engine) as session:
        imported = boundaries.current(session)
        inside = locate_pin(session, *IN_THANH_SON, BEFORE_2024_MERGER)
        hole = locate_pin(session, *IN_THE_HOLE, BEFORE_2024_MERGER)
    assert imported is not None and imported.attribution == "© OpenStreetMap contributors"
    assert "ODbL" in imported.licence
    assert inside.ward == "thanh-son" and hole.approximate


def test_fetch_osm_when_overpass_is_busy_says_so(cli_on: CliRunner) -> None:
    with serve(build_app(OverpassState(busy=True))) as base:
        result = cli_on.invoke(cli.main, ["geo", "fetch-osm", "--endpoint", f"{base}/api/interpreter"])
    assert result.exit_code == 2 and "429" in result.output


def test_with_every_ward_outlined_a_pin_in_no_outline_is_outside_the_city(
    cli_on: CliRunner, engine: Engine, tmp_path: Path
) -> None:
    cells = voronoi_cells()  # sixteen cells that tile the city's box, with a hole cut in Phủ Hà's
    features = [feature({"code": code}, cell) for code, cell in cells.items() if code != "phu-ha"]
    features.append(feature({"code": "phu-ha"}, cells["phu-ha"], PHU_HA_HOLE))
    assert geo_import(cli_on, write(tmp_path, *features)).exit_code == 0
    with unit_of_work(engine) as session:
        hole = locate_pin(session, *IN_THE_HOLE, AFTER_2025_MERGER)
        beside = locate_pin(session, 11.5735, 109.0045, BEFORE_2024_MERGER)
        far = locate_pin(session, *SAIGON, AFTER_2025_MERGER)
    assert hole.ward is None and hole.message == outside_message()  # an enclave is not the ward around it
    assert (beside.ward, beside.method) == ("phu-ha", Method.BOUNDARY)
    assert far.method == Method.OUTSIDE


def test_geo_status_names_the_source_licence_and_dated_gso_codes(cli_on: CliRunner, tmp_path: Path) -> None:
    empty = cli_on.invoke(cli.main, ["geo", "status"])
    assert empty.exit_code == 0 and "nearest ward centre" in empty.output
    assert geo_import(cli_on, write(tmp_path, feature({"code": "phu-ha"}, PHU_HA))).exit_code == 0
    shown = cli_on.invoke(cli.main, ["geo", "status"])
    assert shown.exit_code == 0 and "1 ward boundaries from wards.geojson" in shown.output
    assert "CC BY 4.0" in shown.output
    assert "phu-ha: GSO 22747 until 2024-10-31, 22750 until 2025-06-30" in shown.output


def test_fetch_osm_without_internet_says_so(cli_on: CliRunner) -> None:
    result = cli_on.invoke(cli.main, ["geo", "fetch-osm", "--endpoint", "http://127.0.0.1:1/api/interpreter"])
    assert result.exit_code == 2 and "không kết nối được Overpass" in result.output


def test_the_unit_centres_are_city_data_for_known_units_inside_the_city() -> None:
    from geo.centres import in_city_box, unit_centres
    from tickets.reference import read_csv

    centres = unit_centres()
    old_units = {row["code"] for row in read_csv("wards.csv") if row["valid_to"]}
    assert len(centres) == 16 and set(centres) <= old_units
    assert all(in_city_box(lat, lon) for lat, lon in centres.values())
