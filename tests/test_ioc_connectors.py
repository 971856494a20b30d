"""Plugging a city's own systems into the IOC: a source that wants credentials (bearer, header, basic, a
key in the query) and answers nested JSON of its own shape, read through a JSONPath mapping; the
credential sealed and never shown back; a mapping that misses is an error naming its path; alert rules
made by administrators open tickets for the ward they name; simulated figures that behave like the real
ones (today's counts only grow, weekly figures hold for the week)."""

from __future__ import annotations

import base64
from collections.abc import Iterator
from datetime import datetime, timedelta
from typing import Any

import pytest
from fakes import serve
from fastapi.testclient import TestClient
from sqlalchemy import text
from sqlalchemy.engine import Engine
from sqlmodel import select
from staff_signin import sign_in
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from ioc import service, sources
from ioc.models import Connector, MetricPoint
from ioc.ports import Reading
from kernel.db import unit_of_work
from kernel.timeutil import city_tz, utcnow
from tickets.models import Ticket

TOKEN = "tram-quan-trac-7f3a9c"  # noqa: S105 - the fake source's own credential
AIR = {
    "ket_qua": {
        "tram": [
            {"ma_phuong": "phan-rang", "chi_so": {"bui_min_pm25": 61.5, "aqi": 140}},
            {"ma_phuong": "ninh-chu", "chi_so": {"bui_min_pm25": 22.0, "aqi": 60}},
        ]
    }
}
MAPPING = [
    {
        "metric": "pm25",
        "value": "$.ket_qua.tram[*].chi_so.bui_min_pm25",
        "dimension": "$.ket_qua.tram[*].ma_phuong",
    }
]


def _signed_in(request: Request, kind: str) -> bool:
    if kind == "bearer":
        return request.headers.get("authorization") == f"Bearer {TOKEN}"
    if kind == "header":
        return request.headers.get("x-api-key") == TOKEN
    if kind == "basic":
        return (
            request.headers.get("authorization")
            == "Basic " + base64.b64encode(f"ioc:{TOKEN}".encode()).decode()
        )
    return request.query_params.get("apikey") == TOKEN


@pytest.fixture
def city_source() -> Iterator[str]:
    """A city's air-quality system on loopback: one endpoint per sign-in style, its own JSON shape."""

    def endpoint(kind: str) -> Any:
        async def answer(request: Request) -> Response:
            if not _signed_in(request, kind):
                return JSONResponse({"loi": "chua xac thuc"}, status_code=401)
            return JSONResponse(AIR)

        return answer

    routes = [Route(f"/{kind}/air", endpoint(kind)) for kind in ("bearer", "header", "basic", "query")]
    with serve(Starlette(routes=routes)) as base:
        yield base


def connect(client: TestClient, admin: dict[str, str], url: str, **fields: Any) -> dict[str, Any]:
    body = {"kind": "http_json", "url": url, "mapping": MAPPING, **fields}
    answer = client.put("/api/v1/ioc/connectors/environment", json=body, headers=admin)
    assert answer.status_code == 200, answer.text
    return dict(answer.json())


def pull(engine: Engine, at: datetime | None = None) -> Connector:
    import httpx

    with httpx.Client(timeout=5) as http:
        service.pull_connector("environment", http, at or utcnow(), engine)
    with unit_of_work(engine) as session:
        connector = session.get(Connector, "environment")
        assert connector is not None
        return connector


@pytest.fixture
def seeded(engine: Engine) -> None:
    with unit_of_work(engine) as session:
        service.seed(session)


@pytest.mark.parametrize(
    ("kind", "name"), [("bearer", None), ("header", "X-Api-Key"), ("basic", "ioc"), ("query", "apikey")]
)
def test_a_source_that_wants_credentials_is_read_through_a_mapping(
    client: TestClient,
    engine: Engine,
    admin: dict[str, str],
    seeded: None,
    city_source: str,
    kind: str,
    name: str | None,
) -> None:
    connect(client, admin, f"{city_source}/{kind}/air", auth_kind=kind, auth_name=name, auth_secret=TOKEN)
    assert pull(engine).last_error is None
    with unit_of_work(engine) as session:
        points = session.exec(select(MetricPoint).where(MetricPoint.subsystem == "environment")).all()
        assert {(p.metric, p.dimension, p.value) for p in points} == {
            ("pm25", "phan-rang", 61.5),
            ("pm25", "ninh-chu", 22.0),
        }


def test_without_the_credential_the_connector_says_why(
    client: TestClient, engine: Engine, admin: dict[str, str], seeded: None, city_source: str
) -> None:
    connect(client, admin, f"{city_source}/bearer/air")
    failed = pull(engine)
    assert failed.last_error is not None and "401" in failed.last_error and failed.last_success_at is None


def test_the_credential_is_sealed_and_never_shown_back(
    client: TestClient, engine: Engine, admin: dict[str, str], seeded: None, city_source: str
) -> None:
    shown = connect(client, admin, f"{city_source}/bearer/air", auth_kind="bearer", auth_secret=TOKEN)
    assert shown["has_secret"] is True and TOKEN not in str(shown)
    listed = client.get("/api/v1/ioc/connectors", headers=admin)
    assert listed.status_code == 200 and TOKEN not in listed.text
    with engine.connect() as conn:
        assert TOKEN not in str(conn.execute(text("SELECT * FROM ioc_connector")).all())
    # saving again without a secret keeps the stored one
    connect(client, admin, f"{city_source}/bearer/air", auth_kind="bearer")
    assert pull(engine).last_error is None
    agent = client.get("/api/v1/ioc/connectors", headers=admin | {"Authorization": "Bearer nope"})
    assert agent.status_code == 401


def test_a_mapping_that_misses_names_the_path(
    client: TestClient, engine: Engine, admin: dict[str, str], seeded: None, city_source: str
) -> None:
    wrong = [{"metric": "pm25", "value": "$.ket_qua.stations[*].pm25"}]
    connect(client, admin, f"{city_source}/bearer/air", auth_kind="bearer", auth_secret=TOKEN, mapping=wrong)
    failed = pull(engine)
    assert failed.last_error is not None and "$.ket_qua.stations[*].pm25" in failed.last_error
    tried = client.post("/api/v1/ioc/connectors/environment/test", headers=admin).json()
    assert tried["ok"] is False and tried["path"] == "$.ket_qua.stations[*].pm25"
    connect(client, admin, f"{city_source}/bearer/air", auth_kind="bearer", mapping=MAPPING)  # secret kept
    tried = client.post("/api/v1/ioc/connectors/environment/test", headers=admin).json()
    assert (
        tried["ok"] is True
        and {"metric": "pm25", "dimension": "ninh-chu", "value": 22.0} in tried["readings"]
    )
    with unit_of_work(engine) as session:  # trying stores nothing
        assert session.exec(select(MetricPoint).where(MetricPoint.subsystem == "environment")).first() is None


@pytest.mark.parametrize(
    ("mapping", "needle"),
    [
        ([{"metric": "nope", "value": "$.a"}], "unknown metric"),
        ([{"metric": "pm25", "value": "$.a[[["}], "not a JSONPath"),
        ({"metric": "pm25"}, "mapping"),
        ([{"metric": "pm25"}], "value"),
    ],
)
def test_a_bad_mapping_is_refused_with_the_reason(
    client: TestClient, admin: dict[str, str], seeded: None, mapping: Any, needle: str
) -> None:
    body = {"kind": "http_json", "url": "https://aqi.ninhthuan.gov.vn/api", "mapping": mapping}
    answer = client.put("/api/v1/ioc/connectors/environment", json=body, headers=admin)
    assert answer.status_code == 422 and needle in answer.text


def test_an_alert_rule_made_by_an_administrator_opens_a_ticket_for_its_ward(
    client: TestClient, engine: Engine, admin: dict[str, str], seeded: None, city_source: str
) -> None:
    rule = {
        "subsystem": "environment",
        "metric": "pm25",
        "op": ">",
        "threshold": 50,
        "category_code": "pollution",
        "text": "Bụi mịn vượt ngưỡng tại phường",
        "dimension": "phan-rang",
    }
    made = client.post("/api/v1/ioc/alert-rules", json=rule, headers=admin)
    assert made.status_code == 201, made.text
    elsewhere = client.post(
        "/api/v1/ioc/alert-rules", json={**rule, "dimension": "ninh-chu", "threshold": 30}, headers=admin
    )
    assert elsewhere.status_code == 201
    connect(client, admin, f"{city_source}/bearer/air", auth_kind="bearer", auth_secret=TOKEN)
    pull(engine)
    with unit_of_work(engine) as session:
        raised = session.exec(
            select(Ticket).where(Ticket.description.contains("Bụi mịn vượt ngưỡng tại phường"))
        ).all()  # type: ignore[attr-defined]
        assert [t.ward_code for t in raised] == ["phan-rang"]  # Ninh Chử at 22 stays under its 30
    assert client.delete(f"/api/v1/ioc/alert-rules/{made.json()['id']}", headers=admin).status_code == 204
    rules = client.get("/api/v1/ioc/alert-rules", headers=admin).json()
    assert next(r for r in rules if r["id"] == made.json()["id"])["active"] is False
    bad = client.post("/api/v1/ioc/alert-rules", json={**rule, "metric": "pm10"}, headers=admin)
    assert bad.status_code == 422 and "pm10" in bad.json()["detail"]


def test_the_admin_page_lists_connectors_and_rules(
    client: TestClient, engine: Engine, seeded: None, make_user: Any
) -> None:
    make_user("admin", username="quantri")
    sign_in(client, "quantri", "secret-pass")
    page = client.get("/staff/admin/ioc")
    assert page.status_code == 200
    assert "environment" in page.text and "Quy tắc cảnh báo" in page.text and 'data-type="json"' in page.text


# --- plausible simulated figures --------------------------------------------------------------------------


def _day_of_readings(code: str, day: datetime) -> list[list[Reading]]:
    specs = service.metric_specs()[code]
    return [sources.simulated(code, specs, day + timedelta(minutes=m)) for m in range(0, 24 * 60, 20)]


@pytest.mark.parametrize("code", ["documents", "health", "smart_tourism", "traffic_cameras", "land_planning"])
def test_counts_of_today_only_grow_within_the_local_day(code: str) -> None:
    midnight = datetime(2026, 11, 24, tzinfo=city_tz())
    days = _day_of_readings(code, midnight)
    today_metrics = {r.metric for r in days[0] if r.metric.endswith("_today")}
    assert today_metrics
    for metric in today_metrics:
        for dimension in {r.dimension for r in days[0] if r.metric == metric}:
            values = [
                next(r.value for r in step if (r.metric, r.dimension) == (metric, dimension)) for step in days
            ]
            assert values == sorted(values), (metric, dimension)
            assert values[0] == 0 and values[-1] > 0


def test_weekly_and_monthly_figures_hold_for_their_period() -> None:
    specs = service.metric_specs()["health"]
    monday = datetime(2026, 11, 23, 8, tzinfo=city_tz())

    def dengue(at: datetime) -> list[float]:
        return [r.value for r in sources.simulated("health", specs, at) if r.metric == "dengue_cases_week"]

    same_week = {tuple(dengue(monday + timedelta(hours=h))) for h in range(0, 6 * 24, 7)}
    assert len(same_week) == 1
    weeks = {tuple(dengue(monday + timedelta(weeks=w))) for w in range(6)}
    assert len(weeks) > 1


def test_the_wall_shows_a_connector_without_its_sealed_credential(
    client: TestClient, engine: Engine, admin: dict[str, str], seeded: None, city_source: str
) -> None:
    """The dashboards show where a subsystem's figures come from as the connector list does: whether a
    credential is stored, never the credential sealed."""
    connect(client, admin, f"{city_source}/bearer/air", auth_kind="bearer", auth_secret=TOKEN)
    with engine.connect() as conn:
        sealed = conn.execute(
            text("SELECT auth_secret_sealed FROM ioc_connector WHERE code = 'environment'")
        ).scalar_one()
    shown = client.get("/api/v1/ioc/subsystems/environment")
    assert shown.status_code == 200
    assert shown.json()["connector"]["has_secret"] is True
    assert sealed not in shown.text and "auth_secret_sealed" not in shown.text
