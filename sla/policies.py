"""Targets per priority, overridable per category. Defaults ship as data (sla/data/policies.csv);
administrators' overrides live in the sla_policy table."""

from __future__ import annotations

import csv
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from sqlmodel import Session, select

from kernel.errors import Invalid
from kernel.i18n import _
from sla.calendar import WorkingCalendar
from sla.models import SlaPolicy, TargetUnit
from tickets.models import Priority
from tickets.reference import Category

DEFAULTS_FILE = Path(__file__).parent / "data" / "policies.csv"


@dataclass(frozen=True)
class Target:
    amount: float
    unit: TargetUnit

    def minutes(self, calendar: WorkingCalendar) -> float:
        per_unit = 60 if self.unit == TargetUnit.HOURS else calendar.minutes_per_day
        return self.amount * per_unit

    def label(self) -> str:
        return f"{self.amount:g} working {self.unit}"


@dataclass(frozen=True)
class Targets:
    response: Target | None
    resolution: Target | None
    out_of_sla: bool = False


OUT_OF_SLA = Targets(None, None, out_of_sla=True)


@cache
def default_targets() -> dict[str, Targets]:
    with DEFAULTS_FILE.open(encoding="utf-8") as handle:
        return {
            row["priority"]: Targets(
                Target(float(row["response_amount"]), TargetUnit(row["response_unit"])),
                Target(float(row["resolution_amount"]), TargetUnit(row["resolution_unit"])),
            )
            for row in csv.DictReader(handle)
        }


def _overlay(base: Targets, override: SlaPolicy | None) -> Targets:
    if override is None:
        return base
    response = (
        Target(override.response_amount, TargetUnit(override.response_unit))
        if override.response_amount is not None
        else base.response
    )
    resolution = (
        Target(override.resolution_amount, TargetUnit(override.resolution_unit))
        if override.resolution_amount is not None
        else base.resolution
    )
    return Targets(response, resolution)


def _override(session: Session, scope: str, code: str | None) -> SlaPolicy | None:
    if code is None:
        return None
    return session.exec(select(SlaPolicy).where(SlaPolicy.scope == scope, SlaPolicy.code == code)).first()


def targets_for(
    session: Session, priority: str, category_code: str | None, *, legal_process: bool = False
) -> Targets:
    """The category's own override wins over its priority's; complaints and denunciations have none."""
    category = session.get(Category, category_code) if category_code else None
    if legal_process or (category is not None and category.out_of_sla):
        return OUT_OF_SLA
    base = default_targets().get(priority) or default_targets()[Priority.NORMAL]
    by_priority = _overlay(base, _override(session, "priority", priority))
    return _overlay(by_priority, _override(session, "category", category_code))


def overrides(session: Session) -> list[SlaPolicy]:
    """The administrators' overrides, by scope and code."""
    return list(session.exec(select(SlaPolicy).order_by(SlaPolicy.scope, SlaPolicy.code)).all())


def set_policy(
    session: Session,
    scope: str,
    code: str,
    *,
    response: Target | None,
    resolution: Target | None,
) -> SlaPolicy:
    if scope == "priority" and code not in {p.value for p in Priority}:
        raise Invalid(
            _("Mức ưu tiên phải là một trong: {known}", known=", ".join(p.value for p in Priority)),
            field="code",
        )
    if scope == "category" and session.get(Category, code) is None:
        raise Invalid(_("Không có lĩnh vực mã {code}.", code=code), field="code")
    if scope not in ("priority", "category"):
        raise Invalid(_("Chỉ áp dụng theo mức ưu tiên (priority) hoặc lĩnh vực (category)."), field="scope")
    for target in (response, resolution):
        if target is not None and not 0 < target.amount <= 365:
            raise Invalid(_("Thời hạn phải lớn hơn 0 và không quá 365."), field="amount")
    policy = _override(session, scope, code) or SlaPolicy(scope=scope, code=code)
    policy.response_amount = response.amount if response else None
    policy.response_unit = response.unit if response else TargetUnit.HOURS
    policy.resolution_amount = resolution.amount if resolution else None
    policy.resolution_unit = resolution.unit if resolution else TargetUnit.DAYS
    session.add(policy)
    session.flush()
    return policy
