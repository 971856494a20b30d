"""The port every IOC source implements, whatever carries its figures: a city system's HTTP endpoint (JSON
or CSV), the built-in simulator, a push the source makes itself. The connector's configuration (its kind,
set on the admin page) picks the adapter through ioc.adapters.SOURCES."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol


@dataclass(frozen=True)
class Reading:
    metric: str
    dimension: str  # a ward code, a camera id, or "" for the whole city
    value: float


@dataclass(frozen=True)
class Auth:
    """How a city's system wants to be asked: kind none, header (name: secret), bearer, basic
    (name = user, secret = password) or query (?name=secret)."""

    kind: str = "none"
    name: str = ""
    secret: str = ""


@dataclass(frozen=True)
class SourceConfig:
    """What a connector says about its source (ioc.models.Connector, with the secret unsealed)."""

    code: str  # the subsystem
    kind: str  # simulated, http_json, http_csv, push
    known_metrics: frozenset[str]
    metric_specs: list[dict[str, Any]] = field(default_factory=list)  # ioc/data/metrics.json
    url: str | None = None
    auth: Auth = Auth()
    mapping: list[dict[str, str]] = field(default_factory=list)  # ioc.mapping: where our metrics are


class Source(Protocol):
    def read(self, at: datetime) -> list[Reading]:
        """The figures as of ``at``; an httpx.HTTPError or a DomainError (Invalid) when the source fails."""
        ...
