"""What the incidents API answers."""

from __future__ import annotations

from datetime import datetime

from pydantic import Field

from kernel.schemas import FromRow


class IncidentOut(FromRow):
    """Many reports of one problem in one place, handled and resolved together."""

    id: int = Field(description="the incident's number")
    category_code: str = Field(description="the reports' category", examples=["flooding"])
    title: str = Field(description="what happened", examples=["Ngập đường Nguyễn Văn Linh"])
    status: str = Field(description="open or resolved", examples=["open"])
    source: str = Field(description="how it was opened: surge, alert or supervisor", examples=["surge"])
    latitude: float = Field(description="its centre, WGS84")
    longitude: float = Field(description="its centre, WGS84")
    radius_m: int = Field(description="metres around the centre it covers", examples=[300])
    public_notice: str | None = Field(description="the notice shown to everyone who reported it")
    summary: str | None = Field(description="how it was resolved")
    opened_at: datetime = Field(description="when it was opened (UTC)")
    resolved_at: datetime | None = Field(description="when it was resolved (UTC)")
    reports: list[str] = Field(description="the codes of its reports", examples=[["PR-2026-000123"]])
