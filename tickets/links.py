"""The links handed to citizens. Every one is built here, from CIVICDESK_PUBLIC_BASE_URL, so a link in a
Zalo message, on the status page and in the API all point at the address the city really serves."""

from __future__ import annotations

from urllib.parse import quote

from kernel.settings import get_settings


def tracking_url(token: str) -> str:
    """The citizen's secret status page, ``{base}/t/{token}``."""
    return f"{get_settings().public_base_url.rstrip('/')}/t/{quote(token, safe='')}"


def confirmation_link(token: str) -> str:
    """Where a citizen confirms the phone or e-mail they gave, ``{base}/confirm/{token}``."""
    return f"{get_settings().public_base_url.rstrip('/')}/confirm/{quote(token, safe='')}"
