"""What the geo API answers: the ward under a map pin, ward boundaries, ward centres."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, Field

from kernel.schemas import FromRow


class PinWardOut(BaseModel):
    """The ward a map pin falls in."""

    ward: str | None = Field(description="the ward in force on the day", examples=["hai_chau"])
    ward_name: str | None = Field(description="its name", examples=["Phường Hải Châu"])
    found: str | None = Field(
        description="the unit whose boundary or centre the pin fell in (an old unit, perhaps)"
    )
    method: str = Field(description="boundary, nearest_centre or outside", examples=["boundary"])
    approximate: bool = Field(description="a guess from the nearest centre, not a boundary")
    message: str | None = Field(description="in Vietnamese, for the citizen, when the pin gives no ward")


class FeatureOut(BaseModel):
    """One ward's outline."""

    type: Literal["Feature"] = Field(description="GeoJSON: always Feature")
    properties: dict[str, str] = Field(description="the ward's code", examples=[{"ward": "hai_chau"}])
    geometry: dict[str, Any] = Field(description="a GeoJSON Polygon or MultiPolygon (WGS84)")


class FeatureCollectionOut(BaseModel):
    """The wards' outlines."""

    type: Literal["FeatureCollection"] = Field(description="GeoJSON: always FeatureCollection")
    features: list[FeatureOut] = Field(description="one feature per unit")


class BoundariesOut(BaseModel):
    """The imported ward boundaries with their licence."""

    licence: str | None = Field(description="the data's licence", examples=["ODbL-1.0"])
    attribution: str | None = Field(description="the attribution a map must show")
    source: str | None = Field(description="where they came from")
    features: FeatureCollectionOut = Field(description="a GeoJSON FeatureCollection, one feature per unit")


class CentreOut(FromRow):
    """A unit's approximate centre."""

    unit: str = Field(description="a unit's code (an old one, perhaps)")
    unit_name: str = Field(description="its name")
    ward: str = Field(description="the ward in force today that holds it")
    ward_name: str = Field(description="that ward's name")
    latitude: float = Field(description="WGS84", examples=[16.0544])
    longitude: float = Field(description="WGS84", examples=[108.2022])


class CentresOut(BaseModel):
    """The units' approximate centres."""

    centres: list[CentreOut] = Field(description="one per unit with a known centre")
