"""The real clients, built from settings; tests point the base addresses at fake servers."""

from __future__ import annotations

import httpx
from sqlalchemy.engine import Engine

from channels import tokens
from channels.adapter import ChannelClient
from channels.facebook import GraphClient
from channels.zalo import ZaloClient
from civicdesk.settings import get_settings


def http_client() -> httpx.Client:
    return httpx.Client(timeout=get_settings().channel_http_timeout)


def configured(channel: str) -> bool:
    settings = get_settings()
    if channel == "zalo":
        return bool(settings.zalo_app_id and settings.zalo_app_secret)
    if channel == "facebook":
        return bool(settings.facebook_page_id and settings.facebook_page_token)
    return False


def client_for(channel: str, http: httpx.Client, engine: Engine | None = None) -> ChannelClient:
    settings = get_settings()
    if channel == "zalo":
        return ZaloClient(
            http, settings.zalo_api_base, lambda force: tokens.access_token(engine, http, force=force)
        )
    if channel == "facebook":
        return GraphClient(
            http, settings.facebook_graph_base, settings.facebook_page_id, settings.facebook_page_token
        )
    raise ValueError(f"no client for channel {channel}")
