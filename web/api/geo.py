"""/api/v1/geo: the ward a map pin falls in (for the report form's pin picker) and the imported ward
boundaries with their licence and attribution (for any map that draws them). Public: nothing personal."""

from __future__ import annotations

from datetime import date
from typing import Any

from fastapi import APIRouter, Query
from pydantic import BaseModel
from sqlmodel import select

from civicdesk.timeutil import local_date
from geo import boundaries
from geo.centres import OLD_UNIT_CENTRES
from geo.locate import in_force, locate_pin
from geo.shapes import as_geojson
from tickets.reference import Ward
from web.deps import SessionDep

router = APIRouter(prefix="/api/v1/geo", tags=["geo"])


class PinWardOut(BaseModel):
    ward: str | None
    ward_name: str | None
    found: str | None  # the unit whose boundary or centre the pin fell in (an old unit, perhaps)
    method: str  # boundary | nearest_centre | outside
    approximate: bool
    message: str | None  # Vietnamese, for the citizen, when the pin gives no ward


class BoundariesOut(BaseModel):
    licence: str | None
    attribution: str | None
    source: str | None
    features: dict[str, Any]  # a GeoJSON FeatureCollection, one feature per unit (property `ward`)


class CentreOut(BaseModel):
    unit: str  # a unit's code (an old one, perhaps)
    unit_name: str
    ward: str  # the ward in force today that holds it
    ward_name: str
    latitude: float
    longitude: float


class CentresOut(BaseModel):
    centres: list[CentreOut]


@router.get("/locate")
def locate(
    session: SessionDep,
    latitude: float = Query(ge=-90, le=90),
    longitude: float = Query(ge=-180, le=180),
    on: date | None = Query(default=None, description="the report's day; today in Vietnam by default"),
) -> PinWardOut:
    pin = locate_pin(session, latitude, longitude, on or local_date())
    ward = session.get(Ward, pin.ward) if pin.ward else None
    return PinWardOut(
        ward=pin.ward,
        ward_name=ward.name_vi if ward else None,
        found=pin.found,
        method=pin.method.value,
        approximate=pin.approximate,
        message=pin.message,
    )


@router.get("/boundaries")
def ward_boundaries(session: SessionDep) -> BoundariesOut:
    imported = boundaries.current(session)
    features = [
        {"type": "Feature", "properties": {"ward": b.ward}, "geometry": as_geojson(b.shape)}
        for b in (imported.boundaries if imported else ())
    ]
    return BoundariesOut(
        licence=imported.licence if imported else None,
        attribution=imported.attribution if imported else None,
        source=imported.source if imported else None,
        features={"type": "FeatureCollection", "features": features},
    )


@router.get("/centres", response_model=CentresOut)
def ward_centres(session: SessionDep) -> CentresOut:
    """The approximate centres a pin falls back to when no boundaries are imported, each with the ward in
    force today: what an offline map draws when it has no outlines."""
    today = local_date()
    wards = {ward.code: ward for ward in session.exec(select(Ward)).all()}
    centres = []
    for code, (latitude, longitude) in OLD_UNIT_CENTRES.items():
        if code not in wards:
            continue
        current = wards[in_force(wards, code, today)]
        centres.append(
            CentreOut(
                unit=code,
                unit_name=wards[code].name_vi,
                ward=current.code,
                ward_name=current.name_vi,
                latitude=latitude,
                longitude=longitude,
            )
        )
    return CentresOut(centres=centres)
