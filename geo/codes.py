"""Official codes beside ours: the GSO code (mã đơn vị hành chính, Tổng cục Thống kê) of each unit with the
dates it held it, and the unit's OpenStreetMap relation. A GSO code is read with its date: after the
1 Nov 2024 merger the merged Phủ Hà took 22750, which had been Thanh Sơn's."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from functools import cache

from tickets.reference import read_csv

GSO_ATTRIBUTION = "Mã đơn vị hành chính: Tổng cục Thống kê"


@dataclass(frozen=True)
class WardCode:
    ward: str
    gso_code: str
    valid_from: date | None
    valid_to: date | None
    osm_relation_id: int | None

    def held_on(self, day: date) -> bool:
        return (self.valid_from is None or self.valid_from <= day) and (
            self.valid_to is None or day <= self.valid_to
        )


@cache
def ward_codes() -> tuple[WardCode, ...]:
    return tuple(
        WardCode(
            row["code"],
            row["gso_code"],
            date.fromisoformat(row["gso_valid_from"]) if row["gso_valid_from"] else None,
            date.fromisoformat(row["gso_valid_to"]) if row["gso_valid_to"] else None,
            int(row["osm_relation_id"]) if row["osm_relation_id"] else None,
        )
        for row in read_csv("ward_codes.csv")
    )


def gso_code(ward: str, on: date) -> str | None:
    return next((c.gso_code for c in ward_codes() if c.ward == ward and c.held_on(on)), None)


def wards_with_gso(gso: str, on: date | None = None) -> set[str]:
    """Our units that held the GSO code (on the day, when one is given)."""
    return {c.ward for c in ward_codes() if c.gso_code == gso and (on is None or c.held_on(on))}


def osm_relations() -> dict[int, str]:
    """OSM relation id → our unit code."""
    return {c.osm_relation_id: c.ward for c in ward_codes() if c.osm_relation_id is not None}
