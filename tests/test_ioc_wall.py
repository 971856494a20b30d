"""The IOC wall tells the truth: a level measured in five wards is charted as their mean (the table's
32-45 µg/m³, not their sum), a count as their total; times are the city's, not UTC."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from fastapi.testclient import TestClient
from sqlalchemy.engine import Engine

from ioc import service
from ioc.models import Connector, MetricPoint
from kernel.db import unit_of_work
from kernel.timeutil import utcnow

WARDS = {"phan-rang": 32.0, "ninh-chu": 45.0, "bao-an-2025": 38.0, "do-vinh-2025": 36.0, "xa-a": 34.0}


def _readings(engine: Engine, subsystem: str, metric: str, values: dict[str, float]) -> None:
    at = utcnow() - timedelta(minutes=5)
    with unit_of_work(engine) as session:
        for ward, value in values.items():
            session.add(MetricPoint(subsystem=subsystem, metric=metric, dimension=ward, at=at, value=value))


def test_a_level_is_charted_as_the_mean_of_the_wards_and_a_count_as_their_sum(
    engine: Engine, client: TestClient
) -> None:
    _readings(engine, "environment", "pm25", WARDS)
    _readings(engine, "health", "dengue_cases_week", {"phan-rang": 3, "ninh-chu": 4})
    pm25 = next(
        m for m in client.get("/api/v1/ioc/subsystems/environment").json()["metrics"] if m["name"] == "pm25"
    )
    drawn = [point["value"] for point in pm25["series"]]
    table = [row["value"] for row in pm25["by_dimension"]]
    assert drawn == [37.0] and min(table) <= drawn[0] <= max(table)  # the mean, not 185
    dengue = client.get("/api/v1/ioc/subsystems/health").json()["metrics"]
    cases = next(m for m in dengue if m["name"] == "dengue_cases_week")
    assert [point["value"] for point in cases["series"]] == [7.0]


def test_ioc_pages_show_the_citys_time(engine: Engine, client: TestClient) -> None:
    with unit_of_work(engine) as session:
        service.seed(session)
        connector = session.get(Connector, "environment")
        assert connector is not None
        connector.last_success_at = datetime(2026, 11, 28, 2, 5, tzinfo=UTC)
    _readings(engine, "environment", "pm25", {"phan-rang": 33.0, "ninh-chu": 41.0})
    page = client.get("/ioc/environment").text
    assert "thành công lúc 09:05:00 28 thg 11, 2026" in page and "2026-11-28T02:05" not in page
    # Vietnamese only, with names instead of codes
    assert "<td>Ninh Chử</td>" in page and "<td>ninh-chu</td>" not in page
    assert "Nguồn: dữ liệu mô phỏng" in page and "simulated" not in page
    assert "monitoring" not in page.lower().split("<main", 1)[1]
    script = (Path(__file__).parents[1] / "web" / "static" / "ioc.js").read_text(encoding="utf-8")
    # the chart axes, alert times and the wall clock format in the city's zone, whatever the screen's
    # (the zone the page names: the city profile's)
    assert script.count("timeZone: zone") >= 2 and "root.dataset.timezone" in script
    assert 'data-timezone="Asia/Ho_Chi_Minh"' in page
