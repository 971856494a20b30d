"""Approximate centres of the pre-2024 units and the city's bounding box: the map's frame, and where a pin
lands when no boundary file has been imported."""

from __future__ import annotations

from collections.abc import Iterable

from sqlmodel import Session

from civicdesk.city import city_profile
from tickets.refcache import reference

# Approximate centres (latitude, longitude) of the pre-2024 units of Phan Rang – Tháp Chàm.
OLD_UNIT_CENTRES: dict[str, tuple[float, float]] = {
    "do-vinh": (11.618, 108.952),
    "bao-an": (11.592, 108.968),
    "phuoc-my": (11.584, 108.984),
    "thanh-hai": (11.606, 109.000),
    "dai-son": (11.568, 108.973),
    "thanh-son": (11.578, 108.992),
    "kinh-dinh": (11.565, 108.990),
    "phu-ha": (11.576, 109.002),
    "my-huong": (11.567, 109.000),
    "tan-tai": (11.558, 109.004),
    "dao-long": (11.549, 108.983),
    "my-binh": (11.552, 109.016),
    "my-dong": (11.566, 109.014),
    "my-hai": (11.542, 109.027),
    "dong-hai": (11.557, 109.032),
    "van-hai": (11.590, 109.022),
}


def city_bounds() -> tuple[float, float, float, float]:
    """South, west, north, east: the map's frame, from the city profile (map.bounds)."""
    return city_profile().map.bounds


def city_centre() -> tuple[float, float]:
    """(latitude, longitude) where the maps open, from the city profile (map.centre)."""
    return city_profile().map.centre


def in_city_box(lat: float, lon: float) -> bool:
    south, west, north, east = city_bounds()
    return south <= lat <= north and west <= lon <= east


def centre_of(codes: list[str]) -> tuple[float, float]:
    """The middle of these old units' centres: where a merged ward is drawn and placed."""
    lats = [OLD_UNIT_CENTRES[c][0] for c in codes]
    lons = [OLD_UNIT_CENTRES[c][1] for c in codes]
    return sum(lats) / len(lats), sum(lons) / len(lons)


def ward_centre(session: Session, code: str) -> tuple[float, float] | None:
    """Where a ward is placed when a report has no pin: the middle of the centres of the old units it
    is (itself, or the units merged into it, however many steps back); None for a ward with none."""
    return centre_of_units(reference(session).ward_and_predecessors(code))


def centre_of_units(codes: Iterable[str]) -> tuple[float, float] | None:
    """The middle of the centres of these old units (a ward and its predecessors); None if none has one."""
    units = sorted(c for c in codes if c in OLD_UNIT_CENTRES)
    return centre_of(units) if units else None
