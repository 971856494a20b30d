"""What an administrator changes without code: where each connector pulls from, how it signs in, how the
city's JSON maps onto our metrics (tried before it is saved), and the alert rules that open tickets."""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from typing import Any

import httpx
from sqlmodel import Session, col, select

from ioc import mapping, sources, vault
from ioc.adapters import SOURCES, source_for
from ioc.models import AlertRule, Connector
from ioc.ports import Auth, SourceConfig
from ioc.service import _known, describe_connector, metric_specs
from kernel.errors import DomainError, Invalid, NotFound
from kernel.timeutil import utcnow
from tickets.reference import Category

KINDS = (*SOURCES, "computed")  # computed: the reports in our own database (ioc.service)


@dataclass(frozen=True)
class ConnectorConfig:
    kind: str
    enabled: bool = True
    url: str | None = None
    interval_seconds: int = 60
    auth_kind: str = "none"
    auth_name: str | None = None
    auth_secret: str | None = None  # None keeps the stored one; "" removes it
    mapping: list[dict[str, Any]] | None = None  # None keeps the stored one


def connector(session: Session, code: str) -> Connector:
    found = session.get(Connector, code)
    if found is None:
        raise NotFound(f"no subsystem '{code}'")
    return found


def find_connector(session: Session, code: str) -> Connector | None:
    """The connector feeding one subsystem, or None for a code no connector has."""
    return session.get(Connector, code)


def configure(session: Session, code: str, config: ConnectorConfig) -> tuple[Connector, str | None]:
    """Save a connector's settings; a push connector gets a new key, returned once."""
    row = connector(session, code)
    _check(config)
    row.enabled, row.kind, row.url = config.enabled, config.kind, config.url
    row.interval_seconds = config.interval_seconds
    row.auth_kind, row.auth_name = config.auth_kind, (config.auth_name or None)
    if config.auth_secret is not None:
        row.auth_secret_sealed = vault.seal(config.auth_secret) if config.auth_secret else None
    if config.mapping is not None:
        row.mapping = mapping.check(config.mapping, _known(code))
    push_key = None
    if config.kind == "push":
        push_key = secrets.token_urlsafe(24)
        row.push_key_hash = hashlib.sha256(push_key.encode()).hexdigest()
    return row, push_key


def _check(config: ConnectorConfig) -> None:
    if config.kind not in KINDS:
        raise Invalid(f"kind must be one of {', '.join(KINDS)}", field="kind")
    if config.kind.startswith("http") and not config.url:
        raise Invalid("an HTTP connector needs a url", field="url")
    if config.auth_kind not in sources.AUTH_KINDS:
        raise Invalid(f"auth_kind must be one of {', '.join(sources.AUTH_KINDS)}", field="auth_kind")
    if config.auth_kind in ("header", "basic", "query") and not config.auth_name:
        raise Invalid("this kind of sign-in needs a name (header, user or parameter)", field="auth_name")


def config_of(row: Connector) -> SourceConfig:
    """What the source adapter needs to know of a connector, its credential unsealed."""
    secret = vault.unseal(row.auth_secret_sealed) if row.auth_secret_sealed else ""
    return SourceConfig(
        code=row.code,
        kind=row.kind,
        known_metrics=frozenset(_known(row.code)),
        metric_specs=metric_specs().get(row.code, []),
        url=row.url,
        auth=Auth(kind=row.auth_kind, name=row.auth_name or "", secret=secret),
        mapping=row.mapping or [],
    )


def connectors(session: Session) -> list[Connector]:
    return list(session.exec(select(Connector).order_by(Connector.code)).all())


def describe(row: Connector) -> dict[str, Any]:
    """A connector as the admin page and API show it (see ``service.describe_connector``)."""
    return describe_connector(row)


def try_source(row: Connector, http: httpx.Client) -> dict[str, Any]:
    """Pull once without storing anything: the readings the mapping finds, or the error and the path at
    fault, for the "test this source" button. Needs no session: call it with no transaction open (the
    source may take its whole timeout to answer)."""
    if not row.kind.startswith("http") or not row.url:
        return {"ok": False, "error": "only an HTTP connector with a url can be tried", "path": None}
    try:
        found = source_for(config_of(row), http).read(utcnow())
    except (httpx.HTTPError, DomainError) as exc:
        message = exc.message if isinstance(exc, DomainError) else f"{type(exc).__name__}: {exc}"
        path = exc.detail.get("path") if isinstance(exc, DomainError) else None
        return {"ok": False, "error": message, "path": path}
    return {
        "ok": True,
        "readings": [{"metric": r.metric, "dimension": r.dimension, "value": r.value} for r in found],
    }


# --- alert rules ----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class RuleDraft:
    subsystem: str
    metric: str
    op: str
    threshold: float
    category_code: str
    text: str
    for_minutes: int = 0
    dimension: str | None = None
    active: bool = True


def rules(session: Session) -> list[AlertRule]:
    return list(session.exec(select(AlertRule).order_by(AlertRule.subsystem, col(AlertRule.id))).all())


def save_rule(session: Session, draft: RuleDraft, rule_id: int | None = None) -> AlertRule:
    _check_rule(session, draft)
    rule = session.get(AlertRule, rule_id) if rule_id else AlertRule(**_rule_fields(draft))
    if rule is None:
        raise NotFound(f"no alert rule {rule_id}")
    for key, value in _rule_fields(draft).items():
        setattr(rule, key, value)
    session.add(rule)
    session.flush()
    return rule


def _rule_fields(draft: RuleDraft) -> dict[str, Any]:
    return {
        "subsystem": draft.subsystem,
        "metric": draft.metric,
        "op": draft.op,
        "threshold": draft.threshold,
        "category_code": draft.category_code,
        "text": draft.text.strip(),
        "for_minutes": draft.for_minutes,
        "dimension": draft.dimension or None,
        "active": draft.active,
    }


def _check_rule(session: Session, draft: RuleDraft) -> None:
    if draft.subsystem not in metric_specs():
        raise Invalid(f"no subsystem '{draft.subsystem}'", field="subsystem")
    if draft.metric not in _known(draft.subsystem):
        raise Invalid(
            f"{draft.subsystem} has no metric '{draft.metric}'; it has {sorted(_known(draft.subsystem))}",
            field="metric",
        )
    if draft.op not in (">", "<"):
        raise Invalid("op must be > or <", field="op")
    if session.get(Category, draft.category_code) is None:
        raise Invalid(f"no category '{draft.category_code}'", field="category_code")
    if not draft.text.strip():
        raise Invalid("say what the alert is about", field="text")


def delete_rule(session: Session, rule_id: int) -> None:
    """Rules that opened episodes are kept for their history and switched off; others go."""
    rule = session.get(AlertRule, rule_id)
    if rule is None:
        raise NotFound(f"no alert rule {rule_id}")
    rule.active = False
