"""Where figures come from: a deterministic simulated source per subsystem (plausible, moving over time,
the same for the same seed and minute), HTTP JSON and CSV endpoints, and pushed payloads. Every source
gives the same shape: (metric, dimension, value) readings."""

from __future__ import annotations

import csv
import hashlib
import io
import math
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import httpx

from civicdesk.errors import Invalid

LEVELS = {"%", "µg/m³", "/5", ""}  # units of levels; every other unit counts things, in whole numbers
CURRENT_WARDS = ("phan-rang", "dong-hai-2025", "ninh-chu", "bao-an-2025", "do-vinh-2025")


@dataclass(frozen=True)
class Reading:
    metric: str
    dimension: str
    value: float


def _noise(*parts: object) -> float:
    digest = hashlib.sha256("/".join(map(str, parts)).encode()).digest()
    return int.from_bytes(digest[:4], "big") / 2**32


def cameras(subsystem: str, count: int) -> list[dict[str, str]]:
    return [
        {
            "id": f"{subsystem[:3].upper()}-{ward}-{n}",
            "ward": ward,
            "stream": f"rtsp://camera.phanrang.local/{subsystem}/{ward}/{n}",
        }
        for ward in CURRENT_WARDS
        for n in range(1, count + 1)
    ]


def simulated(subsystem: str, metrics: list[dict[str, Any]], at: datetime, seed: int = 2026) -> list[Reading]:
    """Values that move through the day (a daily wave), drift from day to day and jitter per minute."""
    minute = int(at.timestamp() // 60)
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
        for dimension in CURRENT_WARDS if spec.get("by_ward") else ("",):
            base = _noise(seed, subsystem, spec["name"], dimension, at.date())
            wave = (math.sin(day_phase - math.pi / 2) + 1) / 2
            jitter = _noise(seed, subsystem, spec["name"], dimension, minute) - 0.5
            share = min(max(0.45 * base + 0.4 * wave + 0.15 * (jitter + 0.5), 0.0), 1.0)
            value = low + (high - low) * share
            rounded = round(value, 1) if spec["unit"] in LEVELS else round(value)
            readings.append(Reading(spec["name"], dimension, rounded))
    return readings


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


def fetch(http: httpx.Client, kind: str, url: str, known_metrics: set[str]) -> list[Reading]:
    response = http.get(url)
    response.raise_for_status()
    if kind == "http_json":
        try:
            return from_payload(response.json(), known_metrics)
        except ValueError as exc:
            raise Invalid(f"not JSON: {exc}") from exc
    rows = csv.DictReader(io.StringIO(response.text))
    return from_payload({"metrics": list(rows)}, known_metrics)
