"""/api/v1/reference: categories, departments and administrative units (public facts)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from sqlmodel import col, select

from tickets.reference import Category, Department, Ward
from web.deps import SessionDep

router = APIRouter(prefix="/api/v1/reference", tags=["reference"])


@router.get("/categories")
def categories(session: SessionDep) -> list[dict[str, Any]]:
    rows = session.exec(select(Category).where(col(Category.active).is_(True)).order_by(Category.code)).all()
    return [row.model_dump() for row in rows]


@router.get("/departments")
def departments(session: SessionDep) -> list[dict[str, Any]]:
    rows = session.exec(select(Department).order_by(Department.code)).all()
    return [row.model_dump() for row in rows]


@router.get("/wards")
def wards(session: SessionDep) -> list[dict[str, Any]]:
    rows = session.exec(select(Ward).order_by(Ward.code)).all()
    return [row.model_dump(mode="json") for row in rows]
