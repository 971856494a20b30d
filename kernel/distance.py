"""Distances on the ground, written once: how far apart two points are, and the latitude/longitude box
around a point that lets the database's indexes find what is near before the exact distance is measured.

Part of the kernel (it imports no domain), so that every layer may measure: nlp's duplicate finder, geo's
locator, routing's triage and incidents' surges."""

from __future__ import annotations

import math
from typing import Any

from sqlalchemy import ColumnElement, and_

Point = tuple[float, float]  # (latitude, longitude) in degrees
EARTH_RADIUS_M = 6_371_000
METRES_PER_DEGREE = 111_195  # of latitude (and of longitude at the equator) on that sphere


def metres_between(a: Point, b: Point) -> float:
    """Great-circle distance in metres between two (latitude, longitude) points (haversine)."""
    lat1, lon1, lat2, lon2 = map(math.radians, (*a, *b))
    h = math.sin((lat2 - lat1) / 2) ** 2 + math.cos(lat1) * math.cos(lat2) * math.sin((lon2 - lon1) / 2) ** 2
    return 2 * EARTH_RADIUS_M * math.asin(math.sqrt(h))


def box_around(point: Point, metres: float) -> tuple[float, float, float, float]:
    """(south, west, north, east) of a box that holds every point within ``metres`` of ``point``."""
    latitude, longitude = point
    dlat = metres / METRES_PER_DEGREE
    dlon = metres / (METRES_PER_DEGREE * math.cos(math.radians(latitude)))
    return latitude - dlat, longitude - dlon, latitude + dlat, longitude + dlon


def within_sql(latitude: Any, longitude: Any, point: Point, metres: float) -> ColumnElement[bool]:
    """A WHERE condition: the row's latitude and longitude columns inside the box around ``point`` (the
    index narrows the rows; the exact distance is measured after, with ``metres_between``)."""
    south, west, north, east = box_around(point, metres)
    return and_(latitude.between(south, north), longitude.between(west, east))
