"""Reference tables — categories, departments and administrative units — and their seed data.

They are data, editable by administrators: the CSV files in ``kernel/data`` only seed them.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from datetime import date
from importlib import resources
from typing import Any

from sqlalchemy import JSON, Column, String
from sqlmodel import Field, Session, SQLModel, col, select


class Department(SQLModel, table=True):
    code: str = Field(primary_key=True, sa_type=String(32))
    name_vi: str = Field(sa_type=String(200))
    name_en: str = Field(sa_type=String(200))
    kind: str = Field(default="division", sa_type=String(32))
    active: bool = True


class Category(SQLModel, table=True):
    code: str = Field(primary_key=True, sa_type=String(48))
    name_vi: str = Field(sa_type=String(200))
    name_en: str = Field(sa_type=String(200))
    department_code: str = Field(foreign_key="department.code")
    priority: str = Field(default="normal", sa_type=String(16))
    public: bool = True  # sensitive categories (security) stay off public lists and maps
    out_of_sla: bool = False  # complaints and denunciations follow their own legal process
    active: bool = True


class Ward(SQLModel, table=True):
    """An administrative unit, with the dates it was in force and the unit that took it over."""

    code: str = Field(primary_key=True, sa_type=String(48))
    name_vi: str = Field(sa_type=String(200))
    kind: str = Field(sa_type=String(16))
    valid_from: date | None = None
    valid_to: date | None = None
    successor_code: str | None = Field(default=None, foreign_key="ward.code")
    aliases: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))

    def in_force_on(self, day: date) -> bool:
        return (self.valid_from is None or self.valid_from <= day) and (
            self.valid_to is None or day <= self.valid_to
        )


SENSITIVE_CATEGORIES = frozenset({"security"})


def read_csv(name: str) -> list[dict[str, str]]:
    text = resources.files("kernel.data").joinpath(name).read_text(encoding="utf-8")
    return list(csv.DictReader(text.splitlines()))


def _day(value: str) -> date | None:
    return date.fromisoformat(value) if value else None


def reference_rows() -> dict[type[SQLModel], list[dict[str, Any]]]:
    departments = [dict(row) for row in read_csv("departments.csv")]
    categories = [
        {
            "code": row["code"],
            "name_vi": row["name_vi"],
            "name_en": row["name_en"],
            "department_code": row["department"],
            "priority": row["priority"],
            "public": row["code"] not in SENSITIVE_CATEGORIES,
        }
        for row in read_csv("categories.csv")
    ]
    wards = [
        {
            "code": row["code"],
            "name_vi": row["name_vi"],
            "kind": row["kind"],
            "valid_from": _day(row["valid_from"]),
            "valid_to": _day(row["valid_to"]),
            "successor_code": row["successor"] or None,
            "aliases": [a.strip() for a in row["aliases"].split(";") if a.strip()],
        }
        for row in read_csv("wards.csv")
    ]
    return {Department: departments, Category: categories, Ward: wards}


def _successors_first(rows: list[dict[str, Any]], existing: set[str]) -> list[dict[str, Any]]:
    """Order ward rows so that a unit's successor is inserted before it (foreign keys)."""
    placed = set(existing)
    ordered: list[dict[str, Any]] = []
    waiting = list(rows)
    while waiting:
        ready = [row for row in waiting if row.get("successor_code") in (None, *placed)]
        if not ready:
            raise ValueError(f"successor cycle or unknown successor among {[r['code'] for r in waiting]}")
        for row in ready:
            ordered.append(row)
            placed.add(row["code"])
        waiting = [row for row in waiting if row["code"] not in placed]
    return ordered


def seed_reference(session: Session) -> dict[str, int]:
    """Insert the reference rows that are missing; rows an administrator edited are left alone."""
    added: dict[str, int] = {}
    for model, rows in reference_rows().items():
        existing = set(session.exec(select(model.code)).all())  # type: ignore[attr-defined]
        new_rows = _successors_first([row for row in rows if row["code"] not in existing], existing)
        for row in new_rows:
            session.add(model(**row))
            session.flush()
        added[str(model.__tablename__)] = len(new_rows)
    return added


def active_categories(session: Session) -> list[Category]:
    """The categories a report may be filed under, by code (the public reference list)."""
    return list(
        session.exec(select(Category).where(col(Category.active).is_(True)).order_by(Category.code)).all()
    )


def departments(session: Session) -> list[Department]:
    return list(session.exec(select(Department).order_by(Department.code)).all())


def wards(session: Session) -> list[Ward]:
    """Every administrative unit, old and in force, by code."""
    return list(session.exec(select(Ward).order_by(Ward.code)).all())


def ward(session: Session, code: str) -> Ward | None:
    return session.get(Ward, code)


@dataclass(frozen=True)
class ByName:
    """The reference tables as people pick from them: each by its Vietnamese name, old units included."""

    categories: list[Category]
    departments: list[Department]
    wards: list[Ward]


def by_name(session: Session) -> ByName:
    """Every category, department and administrative unit (old and in force), by Vietnamese name."""
    return ByName(
        categories=list(session.exec(select(Category).order_by(Category.name_vi)).all()),
        departments=list(session.exec(select(Department).order_by(Department.name_vi)).all()),
        wards=list(session.exec(select(Ward).order_by(Ward.name_vi)).all()),
    )
