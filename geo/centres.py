"""Approximate centres of the pre-2024 units and the city's bounding box: the map's frame, and where a pin
lands when no boundary file has been imported."""

from __future__ import annotations

from collections.abc import Iterable
from functools import cache

from sqlmodel import Session

from kernel.city import city_profile
from tickets.refcache import reference
from tickets.reference import read_csv


@cache
def unit_centres() -> dict[str, tuple[float, float]]:
    """Approximate centres (latitude, longitude) of the city's pre-2024 units: city data
    (kernel/data/unit_centres.csv), read once per process; callers never change what they get."""
    return {
        row["code"]: (float(row["latitude"]), float(row["longitude"])) for row in read_csv("unit_centres.csv")
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
    centres = unit_centres()
    lats = [centres[c][0] for c in codes]
    lons = [centres[c][1] for c in codes]
    return sum(lats) / len(lats), sum(lons) / len(lons)


def ward_centre(session: Session, code: str) -> tuple[float, float] | None:
    """Where a ward is placed when a report has no pin: the middle of the centres of the old units it
    is (itself, or the units merged into it, however many steps back); None for a ward with none."""
    return centre_of_units(reference(session).ward_and_predecessors(code))


def centre_of_units(codes: Iterable[str]) -> tuple[float, float] | None:
    """The middle of the centres of these old units (a ward and its predecessors); None if none has one."""
    units = sorted(c for c in codes if c in unit_centres())
    return centre_of(units) if units else None
