"""Every link given to a citizen is built from CIVICDESK_PUBLIC_BASE_URL, by tickets.links."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator

import pytest
from fastapi.testclient import TestClient

from kernel.settings import get_settings
from tickets.links import tracking_url

BASE = "https://phananh.phanrang.gov.vn/cong-dan/"


@pytest.fixture
def public_base(monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    monkeypatch.setenv("CIVICDESK_PUBLIC_BASE_URL", BASE)
    get_settings.cache_clear()
    yield BASE.rstrip("/")
    get_settings.cache_clear()


def test_tracking_url_joins_the_base_and_the_token(public_base: str) -> None:
    assert tracking_url("Ab_9-z") == f"{public_base}/t/Ab_9-z"


def test_tracking_url_escapes_what_would_leave_the_path(public_base: str) -> None:
    assert tracking_url("a/b?c") == f"{public_base}/t/a%2Fb%3Fc"


def test_api_hands_out_the_configured_link(
    public_base: str, client: TestClient, make_user: Callable[..., dict[str, str]]
) -> None:
    created = client.post(
        "/api/v1/tickets", json={"description": "Cây đổ chắn đường Ngô Gia Tự"}, headers=make_user("agent")
    ).json()
    assert re.fullmatch(re.escape(public_base) + r"/t/[A-Za-z0-9_-]+", created["tracking_url"])


def test_status_page_shows_the_configured_link(public_base: str, client: TestClient) -> None:
    report = {"text": "Nắp cống bị vỡ trước chợ Phan Rang"}
    filed = client.post("/report", data=report, follow_redirects=False)
    token = re.fullmatch(r"/t/([A-Za-z0-9_-]+)\?new=1", filed.headers["location"])
    assert token
    page = client.get(f"/t/{token.group(1)}?new=1").text
    assert f'href="{public_base}/t/{token.group(1)}"' in page
