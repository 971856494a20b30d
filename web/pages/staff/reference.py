"""Categories, departments and wards for the staff pages' selects and labels, in the page's language."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from tickets import reference
from tickets.reference import Category, Department, Ward
from web.deps import Session

Named = Category | Department | Ward


def reference_lists(session: Session, language: str) -> dict[str, Any]:
    listed = reference.by_name(session)
    categories, departments, all_wards = listed.categories, listed.departments, listed.wards
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
