"""Ward boundaries the operator imported or fetched: one row per unit, with the licence and attribution of
the set it came from (shown wherever the map is drawn)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Column, String, Text
from sqlmodel import Field, SQLModel

from kernel.timeutil import UTCDateTime, utcnow


class WardBoundary(SQLModel, table=True):
    __tablename__ = "ward_boundary"

    ward_code: str = Field(primary_key=True, foreign_key="ward.code", sa_type=String(48))
    # GeoJSON MultiPolygon coordinates: polygons of rings of [longitude, latitude]
    geometry: dict[str, Any] = Field(sa_column=Column(JSON, nullable=False))
    source: str = Field(sa_type=String(500))
    licence: str = Field(sa_column=Column(Text, nullable=False))
    attribution: str = Field(sa_column=Column(Text, nullable=False))
    imported_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
