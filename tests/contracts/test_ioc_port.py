"""The IOC source port (ioc.ports.Source): one contract, run against every adapter the registry offers for
pulling, the built-in simulator and the HTTP source against a city system on loopback (our JSON shape, the
city's own JSON read through a mapping, CSV) that publishes the same figures. For the same minute every
adapter gives the same readings, in the same shape; the HTTP one signs in the way the connector says."""

from __future__ import annotations

import csv
import io
import math
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest
from fakes import serve
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import Route

from ioc import sources
from ioc.adapters import SOURCES, HttpSource, PushedSource, SimulatedSource, source_for
from ioc.ports import Auth, Reading, SourceConfig
from ioc.service import metric_specs
from kernel.errors import NotFound

AT = datetime(2026, 11, 28, 3, 40, tzinfo=UTC)
TOKEN = "so-lieu-thanh-pho-42"  # noqa: S105 - the fake city system's own credential
SUBSYSTEMS = ["environment", "traffic_cameras", "health", "education", "documents"]


def _figures(request: Request) -> list[Reading] | None:
    """What the city system publishes for ?code=…&at=…: the simulator's figures, to compare with."""
    if request.headers.get("authorization") != f"Bearer {TOKEN}":
        return None
    code, at = request.query_params["code"], datetime.fromisoformat(request.query_params["at"])
    return sources.simulated(code, metric_specs()[code], at)


@pytest.fixture(scope="module")
def city_system() -> Iterator[str]:
    async def ours(request: Request) -> Response:
        found = _figures(request)
        if found is None:
            return JSONResponse({"error": "unauthorised"}, status_code=401)
        return JSONResponse({"metrics": [vars(r) for r in found]})

    async def theirs(request: Request) -> Response:
        found = _figures(request)
        if found is None:
            return JSONResponse({"error": "unauthorised"}, status_code=401)
        grouped: dict[str, list[dict[str, Any]]] = {}
        for r in found:
            grouped.setdefault(r.metric, []).append({"noi": r.dimension, "so_lieu": r.value})
        return JSONResponse({"ket_qua": grouped})

    async def rows(request: Request) -> Response:
        found = _figures(request)
        if found is None:
            return PlainTextResponse("unauthorised", status_code=401)
        out = io.StringIO()
        writer = csv.DictWriter(out, fieldnames=["metric", "dimension", "value"])
        writer.writeheader()
        writer.writerows(vars(r) for r in found)
        return PlainTextResponse(out.getvalue(), media_type="text/csv")

    routes = [Route("/ours", ours), Route("/theirs", theirs), Route("/rows", rows)]
    with serve(Starlette(routes=routes)) as base:
        yield base


def config(code: str, kind: str, url: str | None = None, **more: Any) -> SourceConfig:
    specs = metric_specs()[code]
    known = frozenset(spec["name"] for spec in specs)
    return SourceConfig(code=code, kind=kind, known_metrics=known, metric_specs=specs, url=url, **more)


def mapping_for(code: str) -> list[dict[str, str]]:
    names = {r.metric for r in sources.simulated(code, metric_specs()[code], AT)}
    return [
        {"metric": n, "value": f"$.ket_qua.{n}[*].so_lieu", "dimension": f"$.ket_qua.{n}[*].noi"}
        for n in sorted(names)
    ]


ADAPTERS = ["simulated", "http_json", "http_json_mapped", "http_csv"]


def adapter_config(name: str, code: str, base: str) -> SourceConfig:
    query = f"?code={code}&at={AT.isoformat().replace('+', '%2B')}"
    bearer = Auth(kind="bearer", secret=TOKEN)
    if name == "simulated":
        return config(code, "simulated")
    if name == "http_json":
        return config(code, "http_json", f"{base}/ours{query}", auth=bearer)
    if name == "http_json_mapped":
        return config(code, "http_json", f"{base}/theirs{query}", auth=bearer, mapping=mapping_for(code))
    return config(code, "http_csv", f"{base}/rows{query}", auth=bearer)


@pytest.mark.parametrize("code", SUBSYSTEMS)
@pytest.mark.parametrize("adapter", ADAPTERS)
def test_every_adapter_gives_the_same_well_formed_readings(adapter: str, code: str, city_system: str) -> None:
    with httpx.Client(timeout=10) as http:
        readings = source_for(adapter_config(adapter, code, city_system), http).read(AT)
    known = {spec["name"] for spec in metric_specs()[code]}
    assert readings and all(isinstance(r, Reading) for r in readings)
    assert {r.metric for r in readings} <= known
    assert all(math.isfinite(r.value) and len(r.dimension) <= 64 for r in readings)
    expected = sources.simulated(code, metric_specs()[code], AT)
    assert sorted(readings, key=vars_key) == sorted(expected, key=vars_key)


def vars_key(reading: Reading) -> tuple[str, str]:
    return reading.metric, reading.dimension


@pytest.mark.parametrize("adapter", ["http_json", "http_json_mapped", "http_csv"])
def test_an_http_source_that_refuses_us_is_an_http_error(adapter: str, city_system: str) -> None:
    wrong = adapter_config(adapter, "environment", city_system)
    unsigned = SourceConfig(**{**vars(wrong), "auth": Auth(kind="bearer", secret="wrong")})
    with httpx.Client(timeout=10) as http, pytest.raises(httpx.HTTPStatusError):
        source_for(unsigned, http).read(AT)


def test_the_registry_picks_the_adapter_by_the_connectors_kind() -> None:
    assert set(SOURCES) == {"simulated", "http_json", "http_csv", "push"}
    with httpx.Client() as http:
        assert isinstance(source_for(config("environment", "simulated"), http), SimulatedSource)
        assert isinstance(
            source_for(config("environment", "http_csv", "http://x.invalid/"), http), HttpSource
        )
        pushed = source_for(config("environment", "push"), http)
        assert isinstance(pushed, PushedSource) and pushed.read(AT) == []
        with pytest.raises(NotFound, match="no URL"):
            source_for(config("environment", "http_json"), http)
        with pytest.raises(NotFound, match="no source of kind ftp"):
            source_for(config("environment", "ftp"), http)
