"""The chat channels' outbound adapters, one registry entry per channel: each channel's mode in settings
(`CIVICDESK_ZALO_MODE`, `_FACEBOOK_MODE`: real, simulator or off) picks its real client (the provider's API
over httpx; tests point the base addresses at wire fakes), its simulator (channels/simulated.py) or none.
A new channel adds one entry here."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import httpx
from sqlalchemy.engine import Engine

from channels import simulated, tokens
from channels.adapter import ChannelClient, Reply, SendResult
from channels.facebook import GraphClient
from channels.zalo import ZaloClient
from kernel.settings import Settings, get_settings


def http_client() -> httpx.Client:
    return httpx.Client(timeout=get_settings().channel_http_timeout)


def _zalo(settings: Settings, http: httpx.Client, engine: Engine | None) -> ChannelClient:
    return ZaloClient(
        http, settings.zalo_api_base, lambda force: tokens.access_token(engine, http, force=force)
    )


def _graph(settings: Settings, http: httpx.Client, _engine: Engine | None) -> ChannelClient:
    return GraphClient(
        http, settings.facebook_graph_base, settings.facebook_page_id, settings.facebook_page_token
    )


class Off:
    """A channel switched off: nothing leaves, and the outbox records why (no retry)."""

    def __init__(self, channel: str) -> None:
        self.channel = channel

    def send_text(self, reply: Reply) -> SendResult:
        return SendResult(
            False, error=f"the {self.channel} channel is off (CIVICDESK_{self.channel.upper()}_MODE)"
        )


@dataclass(frozen=True)
class ChannelAdapters:
    mode: Callable[[Settings], str]
    credentials: Callable[[Settings], bool]
    real: Callable[[Settings, httpx.Client, Engine | None], ChannelClient]
    simulated: Callable[[Settings], ChannelClient]


ADAPTERS: dict[str, ChannelAdapters] = {
    "zalo": ChannelAdapters(
        lambda s: s.zalo_mode, lambda s: s.zalo_credentials, _zalo, simulated.zalo_client
    ),
    "facebook": ChannelAdapters(
        lambda s: s.facebook_mode, lambda s: s.facebook_credentials, _graph, simulated.graph_client
    ),
}


def configured(channel: str) -> bool:
    """Whether a reply on this channel can leave: simulated, or real with its credentials."""
    adapters, settings = ADAPTERS.get(channel), get_settings()
    if adapters is None:
        return False
    mode = adapters.mode(settings)
    return mode == "simulator" or (mode == "real" and adapters.credentials(settings))


def client_for(channel: str, http: httpx.Client, engine: Engine | None = None) -> ChannelClient:
    adapters, settings = ADAPTERS.get(channel), get_settings()
    if adapters is None:
        raise ValueError(f"no client for channel {channel}")
    chosen: dict[str, Callable[[], ChannelClient]] = {
        "real": lambda: adapters.real(settings, http, engine),
        "simulator": lambda: adapters.simulated(settings),
        "off": lambda: Off(channel),
    }
    return chosen[adapters.mode(settings)]()
