"""Categories, departments and wards for the staff pages' selects and labels, in the page's language."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from sqlmodel import Session, select

from tickets.reference import Category, Department, Ward

Named = Category | Department | Ward


def reference_lists(session: Session, language: str) -> dict[str, Any]:
    categories = list(session.exec(select(Category).order_by(Category.name_vi)).all())
    departments = list(session.exec(select(Department).order_by(Department.name_vi)).all())
    all_wards = list(session.exec(select(Ward).order_by(Ward.name_vi)).all())
    by_kind: dict[str, dict[str, Named]] = {
        "category": {c.code: c for c in categories},
        "department": {d.code: d for d in departments},
        "ward": {w.code: w for w in all_wards},
    }

    def label(item: Named) -> str:
        english = getattr(item, "name_en", "") if language == "en" else ""
        return english or item.name_vi

    def name_of(kind: str, code: str | None) -> str:
        item = by_kind[kind].get(code or "")
        return label(item) if item else (code or "—")

    name: Callable[[Named], str] = label
    return {
        "categories": categories,
        "departments": departments,
        "wards": [w for w in all_wards if w.valid_to is None],
        "label": name,
        "name_of": name_of,
    }
