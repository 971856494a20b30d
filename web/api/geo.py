"""/api/v1/geo: the ward a map pin falls in (for the report form's pin picker) and the imported ward
boundaries with their licence and attribution (for any map that draws them). Public: nothing personal."""

from __future__ import annotations

from datetime import date

from fastapi import APIRouter, Query

from geo import boundaries
from geo.locate import centres_in_force, locate_pin, ward_name
from geo.schemas import BoundariesOut, CentreOut, CentresOut, FeatureCollectionOut, FeatureOut, PinWardOut
from geo.shapes import as_geojson
from kernel.timeutil import local_date
from web.deps import SessionDep

router = APIRouter(prefix="/api/v1/geo", tags=["geo"])


@router.get("/locate")
def locate(
    session: SessionDep,
    latitude: float = Query(ge=-90, le=90),
    longitude: float = Query(ge=-180, le=180),
    on: date | None = Query(default=None, description="the report's day; today in Vietnam by default"),
) -> PinWardOut:
    """The ward a map pin falls in (by the imported boundaries, else the nearest centre), for the report
    form's pin picker."""
    pin = locate_pin(session, latitude, longitude, on or local_date())
    return PinWardOut(
        ward=pin.ward,
        ward_name=ward_name(session, pin.ward),
        found=pin.found,
        method=pin.method.value,
        approximate=pin.approximate,
        message=pin.message,
    )


@router.get("/boundaries")
def ward_boundaries(session: SessionDep) -> BoundariesOut:
    """The imported ward boundaries as GeoJSON, with the licence and attribution a map must show."""
    imported = boundaries.current(session)
    features = [
        FeatureOut(type="Feature", properties={"ward": b.ward}, geometry=as_geojson(b.shape))
        for b in (imported.boundaries if imported else ())
    ]
    return BoundariesOut(
        licence=imported.licence if imported else None,
        attribution=imported.attribution if imported else None,
        source=imported.source if imported else None,
        features=FeatureCollectionOut(type="FeatureCollection", features=features),
    )


@router.get("/centres", response_model=CentresOut)
def ward_centres(session: SessionDep) -> CentresOut:
    """The approximate centres a pin falls back to when no boundaries are imported, each with the ward in
    force today: what an offline map draws when it has no outlines."""
    today = local_date()
    return CentresOut(centres=[CentreOut.model_validate(c) for c in centres_in_force(session, today)])
