"""/api/v1/reference: categories, departments and administrative units (public facts)."""

from __future__ import annotations

from fastapi import APIRouter

from tickets import reference
from tickets.schemas import CategoryOut, DepartmentOut, WardOut
from web.deps import SessionDep

router = APIRouter(prefix="/api/v1/reference", tags=["reference"])


@router.get("/categories")
def categories(session: SessionDep) -> list[CategoryOut]:
    """The active categories a report may be filed under, by code."""
    return [CategoryOut.model_validate(row) for row in reference.active_categories(session)]


@router.get("/departments")
def departments(session: SessionDep) -> list[DepartmentOut]:
    """The departments that handle reports, by code."""
    return [DepartmentOut.model_validate(row) for row in reference.departments(session)]


@router.get("/wards")
def wards(session: SessionDep) -> list[WardOut]:
    """Every administrative unit, those in force and the older ones merged into them, by code."""
    return [WardOut.model_validate(row) for row in reference.wards(session)]
