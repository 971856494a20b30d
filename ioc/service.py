"""Bring figures in, keep them, say how each connector is doing, open one ticket per alert episode, and
give the dashboards what they draw."""

from __future__ import annotations

import csv
import hashlib
import json
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import cache
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import func
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from incidents import service as incidents
from ioc import sources
from ioc.adapters import source_for
from ioc.models import AlertEpisode, AlertRule, Connector, MetricPoint
from ioc.ports import Reading, SourceConfig
from kernel.db import unit_of_work
from kernel.errors import DomainError, Forbidden, NotFound
from kernel.timeutil import city_tz, utcnow
from sla import service as sla
from sla import state as sla_state
from sla.boards import urgency_counts
from telephony import calls
from tickets import service as tickets
from tickets.models import OPEN_STATUS_ORDER, Channel, Ticket

DATA = Path(__file__).parent / "data"


@cache
def subsystems() -> list[dict[str, str]]:
    with (DATA / "subsystems.csv").open(encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


@cache
def metric_specs() -> dict[str, list[dict[str, Any]]]:
    loaded: dict[str, list[dict[str, Any]]] = json.loads((DATA / "metrics.json").read_text(encoding="utf-8"))
    return loaded


def seed(session: Session) -> int:
    """A connector per subsystem (simulated until an administrator points it elsewhere) and the default
    alert rules; what exists is left as it is."""
    added = 0
    for row in subsystems():
        if session.get(Connector, row["code"]) is None:
            kind = "computed" if row["code"] == "field_reports" else "simulated"
            session.add(Connector(code=row["code"], kind=kind))
            added += 1
    if session.exec(select(AlertRule)).first() is None:
        for rule in json.loads((DATA / "alerts.json").read_text(encoding="utf-8")):
            session.add(
                AlertRule(
                    subsystem=rule["subsystem"],
                    metric=rule["metric"],
                    op=rule["op"],
                    threshold=rule["threshold"],
                    for_minutes=rule.get("for_minutes", 0),
                    category_code=rule["category"],
                    text=rule["text"],
                )
            )
    session.flush()
    return added


# --- pulling ---------------------------------------------------------------------------------------------


def _known(code: str) -> set[str]:
    return {spec["name"] for spec in metric_specs().get(code, [])}


def field_report_readings(session: Session, now: datetime) -> list[Reading]:
    """This system itself: today's reports, backlog, SLA on-time rate over 30 days, satisfaction, hotline."""
    day_start = datetime.combine(now.astimezone(city_tz()).date(), datetime.min.time(), city_tz())
    today = session.exec(
        select(func.count()).select_from(Ticket).where(col(Ticket.created_at) >= day_start)
    ).one()
    backlog = session.exec(
        select(func.count()).select_from(Ticket).where(col(Ticket.status).in_(OPEN_STATUS_ORDER))
    ).one()
    rows = sla.compliance(session, "department", now - timedelta(days=30), now)
    finished = sum(r.finished for r in rows)
    rating = session.exec(select(func.avg(Ticket.rating)).where(col(Ticket.rating).is_not(None))).one()
    readings = [
        Reading("reports_today", "", float(today)),
        Reading("open_backlog", "", float(backlog)),
    ]
    open_on_time = sla_state.open_on_time_rate(urgency_counts(session, now=now))
    if open_on_time is not None:
        readings.append(Reading("sla_open_on_time_rate", "", open_on_time))
    if finished:
        readings.append(
            Reading("sla_on_time_rate", "", round(100 * sum(r.on_time for r in rows) / finished, 1))
        )
    if rating is not None:
        readings.append(Reading("satisfaction", "", round(float(rating), 2)))
    return readings + hotline_readings(session, now)


def hotline_readings(session: Session, now: datetime) -> list[Reading]:
    """Today's hotline figures from the call records (telephony/calls.py counts them)."""
    figures = calls.day_stats(session, now.astimezone(city_tz()).date())
    readings = [Reading("hotline_calls_today", "", float(figures["calls"]))]
    for metric, key, scale in (
        ("hotline_service_level", "service_level", 100),
        ("hotline_abandonment", "abandonment_rate", 100),
        ("hotline_average_wait", "average_wait_seconds", 1),
    ):
        if figures[key] is not None:
            readings.append(Reading(metric, "", round(figures[key] * scale, 1)))
    return readings


REMOTE_KINDS = ("http_json", "http_csv")


@dataclass(frozen=True)
class Fetched:
    """A remote source's answer, got with no database session open: its readings, or why there are none."""

    readings: list[Reading]
    error: str | None = None


def pull(session: Session, connector: Connector, now: datetime, fetched: Fetched | None = None) -> int:
    """One connector, once: a remote source's readings fetched beforehand (``fetch``), or the figures
    computed here. A failure is recorded on the connector and stops nothing else."""
    connector.last_attempt_at = now
    try:
        readings = fetched.readings if fetched is not None else _local_readings(session, connector, now)
        error = fetched.error if fetched is not None else None
    except (DomainError, ValueError) as exc:
        readings, error = [], f"{type(exc).__name__}: {exc}"
    if error is not None:
        connector.last_error, connector.last_error_at = error[:2000], now
        return 0
    store(session, connector.code, readings, now)
    connector.last_success_at = now
    return len(readings)


def pull_connector(code: str, http: httpx.Client, now: datetime, engine: Engine | None = None) -> int:
    """Pull one connector: a remote source is read between two short transactions, never inside one
    (a slow source would hold a connection and the connector's row for its whole timeout)."""
    from ioc.admin import config_of

    with unit_of_work(engine) as session:
        connector = session.get(Connector, code)
        if connector is None:
            return 0
        if connector.kind not in REMOTE_KINDS:
            return pull(session, connector, now)
        config = config_of(connector)
    fetched = fetch(config, http, now)
    with unit_of_work(engine) as session:
        connector = session.get(Connector, code, with_for_update=True)
        return 0 if connector is None else pull(session, connector, now, fetched)


def fetch(config: SourceConfig, http: httpx.Client, now: datetime) -> Fetched:
    """A remote connector's readings through its source adapter (which refuses a connector without a URL);
    needs no session."""
    try:
        return Fetched(source_for(config, http).read(now))
    except (httpx.HTTPError, DomainError, ValueError) as exc:
        return Fetched([], f"{type(exc).__name__}: {exc}")


def _local_readings(session: Session, connector: Connector, now: datetime) -> list[Reading]:
    if connector.kind == "computed":
        return field_report_readings(session, now)  # our own database, not an outside system
    if connector.kind in REMOTE_KINDS:
        raise NotFound(f"connector {connector.code} is pulled over HTTP: use pull_connector")
    from ioc.admin import config_of

    return source_for(config_of(connector), None).read(now)


def store(session: Session, code: str, readings: list[Reading], at: datetime) -> None:
    for reading in readings:
        session.add(
            MetricPoint(
                subsystem=code, metric=reading.metric, dimension=reading.dimension, at=at, value=reading.value
            )
        )
    session.flush()
    evaluate_alerts(session, code, readings, at)


def due_connectors(session: Session, now: datetime) -> list[Connector]:
    rows = session.exec(select(Connector).where(col(Connector.enabled).is_(True))).all()
    return [
        c
        for c in rows
        if c.last_attempt_at is None or c.last_attempt_at + timedelta(seconds=c.interval_seconds) <= now
    ]


def accept_push(session: Session, code: str, key: str | None, payload: Any) -> int:
    connector = session.get(Connector, code)
    if connector is None:
        raise NotFound(f"no subsystem '{code}'")
    digest = hashlib.sha256((key or "").encode()).hexdigest()
    if connector.kind != "push" or not connector.push_key_hash or digest != connector.push_key_hash:
        raise Forbidden("this connector does not accept pushes with that key")
    readings = sources.from_payload(payload, _known(code))
    now = utcnow()
    store(session, code, readings, now)
    connector.last_attempt_at = connector.last_success_at = now
    return len(readings)


# --- alerts ---------------------------------------------------------------------------------------------


def _breaches(rule: AlertRule, value: float) -> bool:
    return value > rule.threshold if rule.op == ">" else value < rule.threshold


def evaluate_alerts(session: Session, code: str, readings: list[Reading], at: datetime) -> None:
    """One episode (and one ticket) from the first reading over the threshold until the next one under it."""
    rules = session.exec(
        select(AlertRule).where(AlertRule.subsystem == code, col(AlertRule.active).is_(True))
    ).all()
    for rule in rules:
        matching = (r for r in readings if r.metric == rule.metric and rule.dimension in (None, r.dimension))
        for reading in matching:
            episode = session.exec(
                select(AlertEpisode).where(
                    AlertEpisode.rule_id == rule.id,
                    AlertEpisode.dimension == reading.dimension,
                    col(AlertEpisode.ended_at).is_(None),
                )
            ).first()
            if not _breaches(rule, reading.value):
                if episode is not None:
                    episode.ended_at = at
                continue
            if episode is None:
                episode = AlertEpisode(
                    rule_id=rule.id or 0, dimension=reading.dimension, started_at=at, peak=reading.value
                )
                session.add(episode)
            episode.peak = (
                max(episode.peak, reading.value) if rule.op == ">" else min(episode.peak, reading.value)
            )
            if episode.ticket_id is None and at - episode.started_at >= timedelta(minutes=rule.for_minutes):
                episode.ticket_id = _raise_ticket(session, rule, reading, at)
    session.flush()


def _raise_ticket(session: Session, rule: AlertRule, reading: Reading, at: datetime) -> int | None:
    place = f" ({reading.dimension})" if reading.dimension else ""
    text = (
        f"[IOC] {rule.text}{place}: {rule.metric} = {reading.value:g} (ngưỡng {rule.op} {rule.threshold:g})"
    )
    ward = reading.dimension if reading.dimension in sources.current_wards() else None
    ticket = tickets.create_ticket(
        session,
        tickets.NewTicket(
            description=text, channel=Channel.API, category=rule.category_code, ward=ward, created_at=at
        ),
        actor=tickets.SYSTEM,
    )
    if ward is not None and incidents.incident_of(session, ticket.id or 0) is None:
        # a measured alert in a ward is an incident from the start: the reports that follow join it
        incidents.open_incident(session, [ticket], source="alert", title=rule.text)
    return ticket.id


# --- what the dashboards draw ---------------------------------------------------------------------------


def latest(session: Session, code: str) -> dict[str, list[dict[str, Any]]]:
    """The latest value of each metric and dimension."""
    newest = session.exec(select(func.max(MetricPoint.at)).where(MetricPoint.subsystem == code)).one()
    if newest is None:
        return {}
    rows = session.exec(
        select(MetricPoint).where(MetricPoint.subsystem == code, MetricPoint.at == newest)
    ).all()
    found: dict[str, list[dict[str, Any]]] = {}
    for row in rows:
        found.setdefault(row.metric, []).append({"dimension": row.dimension, "value": row.value})
    return found


def series(session: Session, code: str, metric: str, since: datetime) -> list[dict[str, Any]]:
    """One point per reading time across wards and stations: a level (PM2.5, a rate) is their mean, a
    count their sum, as the cards' ``aggregate`` does (five wards at 35 µg/m³ are 35, not 175)."""
    unit = next((s["unit"] for s in metric_specs().get(code, []) if s["name"] == metric), "")
    combine = func.avg if unit in LEVELS else func.sum
    rows = session.exec(
        select(MetricPoint.at, combine(MetricPoint.value))
        .where(MetricPoint.subsystem == code, MetricPoint.metric == metric, col(MetricPoint.at) >= since)
        .group_by(col(MetricPoint.at))
        .order_by(col(MetricPoint.at))
    ).all()
    return [{"at": at.isoformat(), "value": round(float(value), 2)} for at, value in rows]


def overview(session: Session) -> dict[str, Any]:
    now = utcnow()
    cards = []
    for row in subsystems():
        connector = session.get(Connector, row["code"])
        values = latest(session, row["code"])
        specs = metric_specs().get(row["code"], [])
        headline = []
        for spec in specs[:3]:
            points = values.get(spec["name"], [])
            if points:
                headline.append(
                    {
                        "label": spec["label"],
                        "unit": spec["unit"],
                        "value": aggregate(spec, points),
                    }
                )
        lag = (
            (now - connector.last_success_at).total_seconds()
            if connector and connector.last_success_at
            else None
        )
        cards.append(
            {
                "code": row["code"],
                "name": row["name_vi"],
                "group": row["group"],
                "headline": headline,
                "healthy": bool(connector and connector.last_success_at and not _failing(connector)),
                "lag_seconds": lag,
                "last_error": connector.last_error if connector else None,
            }
        )
    open_alerts = session.exec(
        select(AlertEpisode, AlertRule)
        .join(AlertRule, AlertRule.id == AlertEpisode.rule_id)  # type: ignore[arg-type]
        .where(col(AlertEpisode.ended_at).is_(None))
        .order_by(col(AlertEpisode.started_at).desc())
        .limit(20)
    ).all()
    alerts = [
        {
            "text": rule.text,
            "dimension": ep.dimension,
            "since": ep.started_at.isoformat(),
            "peak": ep.peak,
            "ticket_id": ep.ticket_id,
        }
        for ep, rule in open_alerts
    ]
    return {"generated_at": now.isoformat(), "subsystems": cards, "alerts": alerts}


LEVELS = sources.LEVELS  # a level is averaged over wards and stations; a count is added up


def aggregate(spec: dict[str, Any], points: list[dict[str, Any]]) -> float:
    values = [float(p["value"]) for p in points]
    if spec["unit"] in LEVELS:
        return round(sum(values) / len(values), 1)
    return round(sum(values))


def _failing(connector: Connector) -> bool:
    return bool(
        connector.last_error_at
        and (not connector.last_success_at or connector.last_error_at > connector.last_success_at)
    )


def subsystem_detail(session: Session, code: str, hours: int = 24) -> dict[str, Any]:
    row = next((r for r in subsystems() if r["code"] == code), None)
    if row is None:
        raise NotFound(f"no subsystem '{code}'")
    since = utcnow() - timedelta(hours=hours)
    values = latest(session, code)
    metrics = []
    for spec in metric_specs().get(code, []):
        metrics.append(
            {
                **spec,
                "series": series(session, code, spec["name"], since),
                "by_dimension": values.get(spec["name"], []),
            }
        )
    cams = []
    for spec in metric_specs().get(code, []):
        if "cameras" in spec:
            status = {p["dimension"]: p["value"] for p in values.get(spec["name"], [])}
            cams = [
                {**cam, "online": status.get(cam["id"], 0) >= 0.5}
                for cam in sources.cameras(code, int(spec["cameras"]))
            ]
    connector = session.get(Connector, code)
    return {
        "code": code,
        "name": row["name_vi"],
        "name_en": row["name_en"],
        "metrics": metrics,
        "cameras": cams,
        "connector": describe_connector(connector) if connector else None,
    }


def describe_connector(row: Connector) -> dict[str, Any]:
    """A connector as the admin page, the API and the wall show it: the credential and the push key's
    hash are never shown, only whether a credential is stored."""
    shown = row.model_dump(mode="json", exclude={"push_key_hash", "auth_secret_sealed"})
    return {**shown, "has_secret": row.auth_secret_sealed is not None}


def backfill(session: Session, *, hours: int = 6, step_minutes: int = 10, now: datetime | None = None) -> int:
    """History for the simulated sources, so a fresh demo's dashboards have lines to draw."""
    now = now or utcnow()
    stored = 0
    for connector in session.exec(select(Connector).where(Connector.kind == "simulated")).all():
        for step in range(hours * 60 // step_minutes, 0, -1):
            at = now - timedelta(minutes=step * step_minutes)
            readings = sources.simulated(connector.code, metric_specs().get(connector.code, []), at)
            for reading in readings:
                session.add(
                    MetricPoint(
                        subsystem=connector.code,
                        metric=reading.metric,
                        dimension=reading.dimension,
                        at=at,
                        value=reading.value,
                    )
                )
            stored += len(readings)
    session.flush()
    return stored
