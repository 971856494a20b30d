"""Routing rules as data: evaluate them in order, first match wins; with no match the taxonomy decides
(the category's department and priority)."""

from __future__ import annotations

from dataclasses import dataclass

from sqlmodel import Session, col, select

from kernel.errors import Invalid, NotFound
from kernel.i18n import _
from nlp.normalise import normalise
from routing.models import RoutingRule
from tickets import refcache
from tickets.models import Priority, Ticket
from tickets.reference import Category, Department, Ward

# the rules are kept in the process with the reference tables and built again when any rule changes
refcache.watch(RoutingRule.__tablename__)


@dataclass(frozen=True)
class Route:
    department: str | None
    priority: str | None
    ward_officer: bool
    reason: str
    rule_id: int | None = None
    label_vi: str = ""  # what matched, for the timeline and the ticket page


@dataclass(frozen=True)
class _Rule:
    """An active rule as the process keeps it: a detached copy and its keywords already normalised."""

    row: RoutingRule
    keywords: tuple[str, ...]


def _load_rules(session: Session) -> tuple[_Rule, ...]:
    query = select(RoutingRule).where(col(RoutingRule.active).is_(True)).order_by(col(RoutingRule.position))
    columns = list(RoutingRule.__table__.columns)  # type: ignore[attr-defined]
    rows = session.execute(query.with_only_columns(*columns)).mappings().all()
    kept = []
    for row in rows:
        rule = RoutingRule(**row)
        kept.append(_Rule(rule, tuple(f" {normalise(word)} " for word in rule.keywords)))
    return tuple(kept)


def _rules(session: Session) -> tuple[_Rule, ...]:
    """The active rules in order, from the process unless a rule changed since they were read."""
    return refcache.reference(session).held("routing.rules", lambda: _load_rules(session))


def _matches(
    rule: _Rule, *, category: str | None, ward: str | None, padded: list[str], text: str, channel: str | None
) -> bool:
    row = rule.row
    if row.category_code and row.category_code != category:
        return False
    if row.ward_code and row.ward_code != ward:
        return False
    if row.channel and row.channel != channel:
        return False
    if rule.keywords:
        if not padded:  # the report's text is normalised once, and only when a rule has keywords
            padded.append(f" {normalise(text)} ")
        return any(word in padded[0] for word in rule.keywords)
    return True


def route(
    session: Session, *, category: str | None, ward: str | None, text: str, channel: str | None
) -> Route:
    padded: list[str] = []
    for kept in _rules(session):
        if _matches(kept, category=category, ward=ward, padded=padded, text=text, channel=channel):
            rule = kept.row
            default = _taxonomy(session, category)
            return Route(
                rule.department_code or default.department,
                rule.priority or default.priority,
                rule.ward_officer,
                f"rule {rule.position} ({rule.name})",
                rule.id,
                _("quy tắc định tuyến số {position} «{name}»", position=rule.position, name=rule.name),
            )
    return _taxonomy(session, category)


def route_of(session: Session, ticket: Ticket) -> Route:
    """The rules' choice for what the ticket says now (its category, ward, words and channel)."""
    return route(
        session,
        category=ticket.category_code,
        ward=ticket.ward_code,
        text=ticket.description,
        channel=ticket.origin_channel,
    )


def _taxonomy(session: Session, category: str | None) -> Route:
    row = refcache.reference(session).categories.get(category) if category else None
    if row is None:
        return Route(None, None, False, "no category: no department", label_vi=_("chưa có lĩnh vực"))
    return Route(
        row.department_code,
        row.priority,
        False,
        f"taxonomy: {row.code} → {row.department_code}",
        label_vi=_("lĩnh vực «{category}» thuộc phòng ban mặc định", category=row.name_vi),
    )


def all_rules(session: Session) -> list[RoutingRule]:
    """Every rule, active or not, in the order they are tried."""
    return list(session.exec(select(RoutingRule).order_by(col(RoutingRule.position))).all())


def get_rule(session: Session, rule_id: int) -> RoutingRule:
    rule = session.get(RoutingRule, rule_id)
    if rule is None:
        raise NotFound(_("Không có quy tắc số {number}.", number=rule_id))
    return rule


def delete_rule(session: Session, rule_id: int) -> None:
    session.delete(get_rule(session, rule_id))


def save_rule(session: Session, rule: RoutingRule) -> RoutingRule:
    for model, code, what in (
        (Category, rule.category_code, "category"),
        (Ward, rule.ward_code, "ward"),
        (Department, rule.department_code, "department"),
    ):
        if code is not None and session.get(model, code) is None:
            raise Invalid(_("Không có mã “{code}”.", code=code), field=what)
    if rule.priority is not None and rule.priority not in {p.value for p in Priority}:
        raise Invalid(
            _("Mức ưu tiên phải là một trong: {known}", known=", ".join(p.value for p in Priority)),
            field="priority",
        )
    if not (rule.department_code or rule.priority or rule.ward_officer):
        raise Invalid(_("Quy tắc phải chọn đơn vị, mức ưu tiên hoặc giao cán bộ phường/xã."))
    session.add(rule)
    session.flush()
    return rule
