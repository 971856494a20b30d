"""IOC connectors against fake sources (HTTP JSON and CSV on loopback, pushes), health, alert episodes that
raise one ticket each, the dashboards' API, and the overview drawing charts in a real browser."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from fakes import serve
from fastapi.testclient import TestClient
from playwright.sync_api import sync_playwright
from screenshots import shot
from sqlalchemy.engine import Engine
from sqlmodel import select
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import Route

from civicdesk.asgi import create_app
from ioc import service, sources
from ioc.models import AlertEpisode, Connector, MetricPoint
from ioc.ports import Reading
from kernel.db import unit_of_work
from kernel.timeutil import utcnow
from tickets.models import Ticket


@pytest.fixture
def source() -> Iterator[tuple[str, dict[str, Any]]]:
    """A subsystem's own endpoint: whatever the test puts in `answers` is what it serves."""
    answers: dict[str, Any] = {
        "json": {"metrics": [{"metric": "pm25", "dimension": "phan-rang", "value": 42}]},
        "csv": "metric,dimension,value\nvisitors_today,,1234\noccupancy,,71.5\n",
    }

    async def as_json(_: Request) -> Response:
        value = answers["json"]
        return PlainTextResponse(value) if isinstance(value, str) else JSONResponse(value)

    async def as_csv(_: Request) -> Response:
        return PlainTextResponse(answers["csv"], media_type="text/csv")

    async def broken(_: Request) -> Response:
        return PlainTextResponse("upstream down", status_code=502)

    app = Starlette(
        routes=[Route("/air.json", as_json), Route("/tourism.csv", as_csv), Route("/down", broken)]
    )
    with serve(app) as base:
        yield base, answers


def configure(engine: Engine, code: str, kind: str, url: str | None = None) -> None:
    with unit_of_work(engine) as session:
        service.seed(session)
        connector = session.get(Connector, code)
        assert connector is not None
        connector.kind, connector.url = kind, url


def pull(engine: Engine, code: str, at: Any = None) -> Connector:
    with httpx.Client(timeout=5) as http:
        service.pull_connector(code, http, at or utcnow(), engine)
    with unit_of_work(engine) as session:
        connector = session.get(Connector, code)
        assert connector is not None
        return connector


def test_simulated_sources_are_deterministic_and_move() -> None:
    specs = service.metric_specs()["environment"]
    now = utcnow().replace(hour=8, minute=0, second=0, microsecond=0)
    first = sources.simulated("environment", specs, now)
    assert first == sources.simulated("environment", specs, now)  # same seed, same minute: same figures
    later = sources.simulated("environment", specs, now + timedelta(hours=6))
    assert [r.value for r in first] != [r.value for r in later]
    assert all(8 <= r.value <= 80 for r in first if r.metric == "pm25")
    assert {r.dimension for r in first if r.metric == "pm25"} == set(sources.current_wards())


def test_every_subsystem_has_a_connector_and_figures(engine: Engine) -> None:
    with unit_of_work(engine) as session:
        service.seed(session)
        for connector in session.exec(select(Connector)).all():
            service.pull(session, connector, utcnow())
        overview = service.overview(session)
    assert len(overview["subsystems"]) == 14
    assert all(card["healthy"] and card["headline"] for card in overview["subsystems"]), overview[
        "subsystems"
    ]


def test_http_json_and_csv_connectors_and_a_failing_one(
    engine: Engine, source: tuple[str, dict[str, Any]]
) -> None:
    base, answers = source
    configure(engine, "environment", "http_json", f"{base}/air.json")
    configure(engine, "smart_tourism", "http_csv", f"{base}/tourism.csv")
    configure(engine, "documents", "http_json", f"{base}/down")
    assert pull(engine, "environment").last_error is None
    assert pull(engine, "smart_tourism").last_error is None
    down = pull(engine, "documents")
    assert down.last_error and "502" in down.last_error and down.last_success_at is None
    answers["json"] = {"metrics": [{"metric": "pm25", "value": "lots"}]}
    bad = pull(engine, "environment")
    assert bad.last_error and "number" in bad.last_error  # recorded, not raised
    answers["json"] = "<html>not json</html>"
    assert "JSON" in (pull(engine, "environment").last_error or "")
    with unit_of_work(engine) as session:
        visitors = service.latest(session, "smart_tourism")["visitors_today"]
        assert visitors == [{"dimension": "", "value": 1234.0}]
        overview = {c["code"]: c for c in service.overview(session)["subsystems"]}
    assert overview["documents"]["healthy"] is False and overview["smart_tourism"]["healthy"] is True


def test_an_alert_episode_raises_one_ticket(engine: Engine, source: tuple[str, dict[str, Any]]) -> None:
    base, answers = source
    configure(engine, "environment", "http_json", f"{base}/air.json")
    start = utcnow()
    for minutes, value in ((0, 60), (5, 120), (10, 150), (15, 90), (20, 40), (25, 130)):
        answers["json"] = {"metrics": [{"metric": "pm25", "dimension": "phan-rang", "value": value}]}
        pull(engine, "environment", start + timedelta(minutes=minutes))
    with unit_of_work(engine) as session:
        episodes = session.exec(select(AlertEpisode).order_by(AlertEpisode.id)).all()  # type: ignore[arg-type]
        assert len(episodes) == 2 and episodes[0].ended_at is not None and episodes[1].ended_at is None
        assert episodes[0].peak == 150
        raised = session.exec(select(Ticket)).all()
        assert len(raised) == 2  # one per episode, not one per reading
        assert raised[0].category_code == "pollution" and "PM2.5" in raised[0].description
        assert raised[0].ward_code == "phan-rang"


def test_an_offline_camera_alerts_after_thirty_minutes(engine: Engine) -> None:
    configure(engine, "security_cameras", "push")
    start = utcnow()
    with unit_of_work(engine) as session:
        for minutes in (0, 10, 20, 31):
            readings = [Reading("cameras_online", "SEC-phan-rang-1", 0.0)]
            service.store(session, "security_cameras", readings, start + timedelta(minutes=minutes))
            tickets_now = len(session.exec(select(Ticket)).all())
            assert tickets_now == (1 if minutes >= 30 else 0)


def test_pushes_need_the_connectors_key(client: TestClient, engine: Engine, admin: dict[str, str]) -> None:
    with unit_of_work(engine) as session:
        service.seed(session)
    made = client.put("/api/v1/ioc/connectors/health", json={"kind": "push"}, headers=admin)
    assert made.status_code == 200 and made.json()["push_key"]
    key = made.json()["push_key"]
    body = {"metrics": [{"metric": "dengue_cases_week", "dimension": "ninh-chu", "value": 3}]}
    assert (
        client.post("/api/v1/ioc/push/health", json=body, headers={"X-IOC-Key": "wrong"}).status_code == 403
    )
    assert client.post("/api/v1/ioc/push/health", json=body, headers={"X-IOC-Key": key}).json() == {
        "stored": 1
    }
    bad = client.post(
        "/api/v1/ioc/push/health",
        json={"metrics": [{"metric": "nope", "value": 1}]},
        headers={"X-IOC-Key": key},
    )
    assert bad.status_code == 422
    assert (
        client.put("/api/v1/ioc/connectors/health", json={"kind": "http_json"}, headers=admin).status_code
        == 422
    )
    with unit_of_work(engine) as session:
        assert session.exec(select(MetricPoint).where(MetricPoint.subsystem == "health")).one().value == 3


def test_dashboard_api_and_wall_key(
    client: TestClient, engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    with unit_of_work(engine) as session:
        service.seed(session)
        service.backfill(session, hours=2)
    detail = client.get("/api/v1/ioc/subsystems/security_cameras").json()
    assert len(detail["cameras"]) == 20 and {"id", "ward", "stream", "online"} <= set(detail["cameras"][0])
    assert client.get("/api/v1/ioc/subsystems/nope").status_code == 404
    assert client.get("/ioc/environment").status_code == 200
    from kernel.settings import get_settings

    monkeypatch.setenv("CIVICDESK_IOC_WALL_KEY", "wall-secret")
    get_settings.cache_clear()
    try:
        assert client.get("/api/v1/ioc/overview").status_code == 403
        assert client.get("/ioc?key=wall-secret").status_code == 200  # and the cookie is set for the wall
        assert client.get("/api/v1/ioc/overview").status_code == 200
    finally:
        get_settings.cache_clear()


def _wait_until(page: Any, condition: str, tries: int = 300) -> None:
    """Playwright's wait_for_function evaluates a string in the page, which its CSP (no eval) refuses;
    page.evaluate goes through the DevTools protocol and is not subject to it."""
    for _ in range(tries):
        if page.evaluate(condition):
            return
        page.wait_for_timeout(100)
    raise AssertionError(f"never true in the page: {condition}")


def test_overview_renders_charts_with_data_in_a_browser(engine: Engine) -> None:
    with unit_of_work(engine) as session:
        service.seed(session)
        service.backfill(session, hours=6)
        for connector in session.exec(select(Connector)).all():
            service.pull(session, connector, utcnow())
    chromium = shutil.which("chromium") or "/usr/bin/chromium"
    with serve(create_app(engine)) as base, sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium, args=["--no-sandbox", "--disable-gpu"])
        page = browser.new_page(viewport={"width": 1920, "height": 1080})
        page.goto(f"{base}/ioc")
        page.wait_for_selector("#cards[data-loaded='1']")
        _wait_until(
            page,
            "document.querySelectorAll('canvas.spark').length === 14 && "
            "[...document.querySelectorAll('canvas.spark')].filter(c => Chart.getChart(c)).length === 14",
        )
        drawn = page.evaluate(
            "[...document.querySelectorAll('canvas.spark')].map(c => Chart.getChart(c))"
            ".filter(Boolean).map(c => c.data.datasets[0].data.length)"
        )
        # every chart has data; the 13 simulated ones six hours of it (this system's own starts now)
        assert len(drawn) == 14 and min(drawn) >= 1 and sum(1 for n in drawn if n > 10) == 13
        assert page.locator(".kpis dd").count() >= 28
        shot(page, "ioc-overview", full_page=False)
        page.goto(f"{base}/ioc/environment")
        page.wait_for_selector("#charts[data-loaded='1']")
        shot(page, "ioc-environment")
        page.goto(f"{base}/ioc/security_cameras")
        page.wait_for_selector("[data-testid=cameras]")
        shot(page, "ioc-cameras")
        browser.close()


def test_field_reports_include_the_hotline(engine: Engine) -> None:
    from telephony.models import Call

    now = datetime(2026, 11, 18, 5, 0, tzinfo=UTC)  # noon in Vietnam: every call falls on the same day
    with unit_of_work(engine) as session:
        for n, (outcome, wait, exit_) in enumerate(
            [
                ("answered", 10, None),
                ("answered", 30, None),
                ("abandoned", 45, "caller"),
                ("answered", 5, None),
            ]
        ):
            start = now - timedelta(minutes=n + 1)
            answered = start + timedelta(seconds=wait) if outcome == "answered" else None
            session.add(
                Call(
                    uniqueid=f"9.{n}",
                    linkedid=f"9.{n}",
                    outcome=outcome,
                    queue_exit=exit_,
                    started_at=start,
                    entered_at=start,
                    answered_at=answered,
                    ended_at=start + timedelta(seconds=wait + 60),
                    wait_seconds=wait,
                    talk_seconds=60 if answered else None,
                )
            )
    with unit_of_work(engine) as session:
        readings = {r.metric: r.value for r in service.field_report_readings(session, now)}
    assert {k: v for k, v in readings.items() if k.startswith("hotline")} == {
        "hotline_calls_today": 4.0,
        "hotline_service_level": 50.0,  # 10 s and 5 s of four offered
        "hotline_abandonment": 25.0,
        "hotline_average_wait": 22.5,
    }
