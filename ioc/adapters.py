"""The IOC sources behind the port (ioc.ports.Source), one registry entry per connector kind: a city
system's HTTP endpoint in JSON or CSV, the built-in simulator (ioc.sources.simulated: plausible figures,
the same for the same minute), and push connectors, which are never asked (their source POSTs to
/api/v1/ioc/push). A new kind of source adds one entry to SOURCES."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

import httpx

from ioc import sources
from ioc.ports import Reading, Source, SourceConfig
from kernel.errors import NotFound


class HttpSource:
    """A pull from a city system: our own JSON shape, a mapped JSON (ioc.mapping) or CSV rows."""

    def __init__(self, config: SourceConfig, http: httpx.Client | None) -> None:
        if not config.url or http is None:
            raise NotFound(f"connector {config.code} has no URL to pull from")
        self.config, self.http, self.url = config, http, config.url

    def read(self, at: datetime) -> list[Reading]:
        return sources.fetch(
            self.http,
            self.config.kind,
            self.url,
            set(self.config.known_metrics),
            auth=self.config.auth,
            mapping=self.config.mapping or None,
        )


class SimulatedSource:
    """The subsystem's figures made up where they would be measured: for a demo or a city without it."""

    def __init__(self, config: SourceConfig, _http: httpx.Client | None = None) -> None:
        self.config = config

    def read(self, at: datetime) -> list[Reading]:
        return sources.simulated(self.config.code, self.config.metric_specs, at)


class PushedSource:
    """The source sends its figures itself (ioc.service.push): a pull finds nothing to do."""

    def __init__(self, _config: SourceConfig, _http: httpx.Client | None = None) -> None:
        pass

    def read(self, at: datetime) -> list[Reading]:
        return []


SOURCES: dict[str, Callable[[SourceConfig, httpx.Client | None], Source]] = {
    "simulated": SimulatedSource,
    "http_json": HttpSource,
    "http_csv": HttpSource,
    "push": PushedSource,
}


def source_for(config: SourceConfig, http: httpx.Client | None) -> Source:
    """The adapter the connector's kind names; NotFound for a kind nobody registered."""
    factory = SOURCES.get(config.kind)
    if factory is None:
        raise NotFound(f"connector {config.code}: no source of kind {config.kind}")
    return factory(config, http)
