"""Where figures come from: a deterministic simulated source per subsystem (plausible, moving over time,
the same for the same seed and minute), HTTP JSON and CSV endpoints, and pushed payloads. Every source
gives the same shape: (metric, dimension, value) readings."""

from __future__ import annotations

import csv
import hashlib
import io
import math
from datetime import datetime
from typing import Any, Literal

import httpx

from ioc.ports import Auth, Reading
from kernel.city import city_profile
from kernel.errors import Invalid
from kernel.timeutil import city_tz

LEVELS = {"%", "µg/m³", "/5", ""}  # units of levels; every other unit counts things, in whole numbers


def _noise(*parts: object) -> float:
    digest = hashlib.sha256("/".join(map(str, parts)).encode()).digest()
    return int.from_bytes(digest[:4], "big") / 2**32


def current_wards() -> tuple[str, ...]:
    """The wards the simulated sources report by, and the only ones an alert's ticket is filed in: the
    city profile's (ioc.current_wards)."""
    return city_profile().ioc.current_wards


def cameras(subsystem: str, count: int) -> list[dict[str, str]]:
    """A subsystem's cameras, ``count`` per current ward, at the addresses the profile's camera_url makes."""
    url = city_profile().ioc.camera_url
    return [
        {
            "id": f"{subsystem[:3].upper()}-{ward}-{n}",
            "ward": ward,
            "stream": url.format(subsystem=subsystem, ward=ward, n=n),
        }
        for ward in current_wards()
        for n in range(1, count + 1)
    ]


def _period(name: str) -> Literal["today", "week", "month", "level"]:
    """How a figure behaves over time, read from its name as the data files write them."""
    for suffix in ("today", "week", "month"):
        if name.endswith(f"_{suffix}"):
            return suffix
    return "level"


def _share_of_day(local: datetime) -> float:
    """How much of a day's count has come in by this local time: 0 at midnight, 1 at the next, always
    growing, fastest in the middle of the day."""
    f = (local.hour * 60 + local.minute) / 1440
    return f - math.sin(2 * math.pi * f) / (2 * math.pi)


def _period_value(spec: dict[str, Any], period: str, local: datetime, key: tuple[object, ...]) -> float:
    """A count of today grows through the local day from zero to that day's total; a weekly or monthly
    figure holds still for its whole week or month."""
    low, high = float(spec["range"][0]), float(spec["range"][1])
    if period == "today":
        total = low + (high - low) * _noise(*key, local.date())
        return total * _share_of_day(local)
    stamp = local.isocalendar()[:2] if period == "week" else (local.year, local.month)
    return low + (high - low) * _noise(*key, period, *stamp)


def simulated(subsystem: str, metrics: list[dict[str, Any]], at: datetime, seed: int = 2026) -> list[Reading]:
    """Levels move through the day (a daily wave), drift from day to day and jitter per minute; counts
    of today only grow within the local day; weekly and monthly figures change once a week or month."""
    minute = int(at.timestamp() // 60)
    local = at.astimezone(city_tz())
    day_phase = (at.hour * 60 + at.minute) / 1440 * 2 * math.pi
    readings = []
    for spec in metrics:
        if "cameras" in spec:
            for camera in cameras(subsystem, int(spec["cameras"])):
                # each camera is down for one deterministic stretch of about an hour a day
                down = _noise(seed, camera["id"], at.date()) * 1440
                now_minutes = at.hour * 60 + at.minute
                readings.append(
                    Reading(spec["name"], camera["id"], 0.0 if down <= now_minutes < down + 55 else 1.0)
                )
            continue
        if "range" not in spec:
            continue
        low, high = spec["range"]
        period = _period(spec["name"])
        for dimension in current_wards() if spec.get("by_ward") else ("",):
            if period != "level":
                value = _period_value(spec, period, local, (seed, subsystem, spec["name"], dimension))
                readings.append(Reading(spec["name"], dimension, _rounded(value, spec)))
                continue
            base = _noise(seed, subsystem, spec["name"], dimension, at.date())
            wave = (math.sin(day_phase - math.pi / 2) + 1) / 2
            jitter = _noise(seed, subsystem, spec["name"], dimension, minute) - 0.5
            share = min(max(0.45 * base + 0.4 * wave + 0.15 * (jitter + 0.5), 0.0), 1.0)
            value = low + (high - low) * share
            readings.append(Reading(spec["name"], dimension, _rounded(value, spec)))
    return readings


def _rounded(value: float, spec: dict[str, Any]) -> float:
    return round(value, 1) if spec["unit"] in LEVELS else float(math.floor(value))


def from_payload(payload: Any, known_metrics: set[str]) -> list[Reading]:
    """{"metrics": [{"metric": "pm25", "dimension": "phan-rang", "value": 41.5}, …]}, checked."""
    if not isinstance(payload, dict) or not isinstance(payload.get("metrics"), list):
        raise Invalid('the payload must be {"metrics": [{"metric", "dimension", "value"}, …]}')
    readings = []
    for index, item in enumerate(payload["metrics"]):
        if not isinstance(item, dict) or item.get("metric") not in known_metrics:
            raise Invalid(
                f"metrics[{index}]: unknown metric {item.get('metric') if isinstance(item, dict) else item!r}"
            )
        try:
            value = float(item["value"])
        except (KeyError, TypeError, ValueError) as exc:
            raise Invalid(f"metrics[{index}]: value must be a number") from exc
        if not math.isfinite(value):
            raise Invalid(f"metrics[{index}]: value must be finite")
        readings.append(Reading(item["metric"], str(item.get("dimension") or "")[:64], value))
    return readings


AUTH_KINDS = ("none", "header", "bearer", "basic", "query")


def _request_options(auth: Auth) -> dict[str, Any]:
    if auth.kind == "header":
        return {"headers": {auth.name: auth.secret}}
    if auth.kind == "bearer":
        return {"headers": {"Authorization": f"Bearer {auth.secret}"}}
    if auth.kind == "basic":
        return {"auth": (auth.name, auth.secret)}
    if auth.kind == "query":
        return {"params": {auth.name: auth.secret}}
    return {}


def fetch(
    http: httpx.Client,
    kind: str,
    url: str,
    known_metrics: set[str],
    *,
    auth: Auth | None = None,
    mapping: list[dict[str, str]] | None = None,
) -> list[Reading]:
    """One pull. With a mapping, the JSON is read through it; without, it must be in our own shape."""
    from ioc import mapping as mappings

    response = http.get(url, **_request_options(auth or Auth()))
    response.raise_for_status()
    if kind == "http_json":
        try:
            payload = response.json()
        except ValueError as exc:
            raise Invalid(f"not JSON: {exc}") from exc
        return mappings.readings(payload, mapping) if mapping else from_payload(payload, known_metrics)
    rows = csv.DictReader(io.StringIO(response.text))
    return from_payload({"metrics": list(rows)}, known_metrics)
