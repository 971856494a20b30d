"""A map pin (or a photo's GPS) to a ward: the imported boundary that contains it, else the nearest ward
centre (marked approximate); then the unit in force on the report's day. A pin outside the city gets no
ward and a message that says so."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from enum import StrEnum

from sqlmodel import Session, select

from geo import boundaries
from geo.centres import in_city_box, unit_centres
from geo.shapes import contains, metres
from kernel.city import city_profile
from kernel.i18n import Name, Text, _
from tickets.reference import Ward


def outside_message() -> Text:
    """What a citizen is told when the pin is outside the city, the city named as its profile spells it."""
    profile = city_profile()
    city = Name({"vi": profile.name_vi, "en": profile.name_en})
    return _(
        "Vị trí đã chọn nằm ngoài thành phố {city}. Vui lòng chọn lại trên bản đồ hoặc ghi rõ địa chỉ.",
        city=city,
    )


class Method(StrEnum):
    BOUNDARY = "boundary"
    NEAREST_CENTRE = "nearest_centre"
    OUTSIDE = "outside"


@dataclass(frozen=True)
class PinWard:
    ward: str | None  # the unit in force on the day
    found: str | None  # the unit whose boundary (or centre) the pin fell in
    method: Method
    distance_m: float | None = None  # to the centre, for the approximate method

    @property
    def approximate(self) -> bool:
        return self.method == Method.NEAREST_CENTRE

    @property
    def message(self) -> str | None:
        return outside_message() if self.method == Method.OUTSIDE else None

    def reason(self) -> str:
        if self.method == Method.OUTSIDE:
            return "map pin outside the city: no ward from it"
        via = f" (from {self.found})" if self.found != self.ward else ""
        if self.method == Method.BOUNDARY:
            return f"ward {self.ward} from the map pin inside its boundary{via}"
        return f"ward {self.ward} approximate: nearest ward centre {self.distance_m:.0f} m from the pin{via}"


def locate_pin(session: Session, latitude: float, longitude: float, on: date) -> PinWard:
    point = (longitude, latitude)
    imported = boundaries.current(session)
    if imported is not None:
        wards = _wards(session)
        inside = [b.ward for b in imported.boundaries if contains(b.shape, point)]
        if inside:
            found = next((code for code in inside if wards[code].in_force_on(on)), inside[0])
            return PinWard(in_force(wards, found, on), found, Method.BOUNDARY)
        if _covers_the_city(imported, wards, on):
            return PinWard(None, None, Method.OUTSIDE)
    if not in_city_box(latitude, longitude):
        return PinWard(None, None, Method.OUTSIDE)
    nearest, distance = min(
        ((code, metres(point, (lon, lat))) for code, (lat, lon) in unit_centres().items()),
        key=lambda item: item[1],
    )
    return PinWard(in_force(_wards(session), nearest, on), nearest, Method.NEAREST_CENTRE, distance)


def _covers_the_city(imported: boundaries.BoundarySet, wards: dict[str, Ward], on: date) -> bool:
    """Only a set that outlines every ward in force says a pin outside it is outside the city; with a
    partial set (Overpass returned some relations) the pin falls back to the nearest centre."""
    outlined = {in_force(wards, b.ward, on) for b in imported.boundaries}
    return outlined >= {code for code, ward in wards.items() if ward.in_force_on(on)}


def _wards(session: Session) -> dict[str, Ward]:
    return {ward.code: ward for ward in session.exec(select(Ward)).all()}


def in_force(wards: dict[str, Ward], code: str, on: date) -> str:
    """Follow successors (Thanh Sơn → Phủ Hà → Phan Rang) to the unit in force on that day."""
    ward, seen = wards[code], {code}
    while ward.valid_to is not None and on > ward.valid_to and ward.successor_code not in (None, *seen):
        ward = wards[ward.successor_code or ""]
        seen.add(ward.code)
    return ward.code


@dataclass(frozen=True)
class UnitCentre:
    """An old or current unit's approximate centre, with the ward in force that holds it."""

    unit: str
    unit_name: str
    ward: str
    ward_name: str
    latitude: float
    longitude: float


def centres_in_force(session: Session, on: date) -> list[UnitCentre]:
    """The centres a pin falls back to when no boundaries are imported, each with the ward in force on
    the day: what an offline map draws when it has no outlines."""
    wards = _wards(session)
    centres = []
    for code, (latitude, longitude) in unit_centres().items():
        if code in wards:
            current = wards[in_force(wards, code, on)]
            centres.append(
                UnitCentre(code, wards[code].name_vi, current.code, current.name_vi, latitude, longitude)
            )
    return centres


def ward_name(session: Session, code: str | None) -> str | None:
    ward = session.get(Ward, code) if code else None
    return ward.name_vi if ward else None
