"""Request bodies are limited per route before they are read: 413 with a reason, and a real server's
memory stays flat when sent 20 MB (measured, not timed)."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

import httpx
import psutil
import pytest
from fastapi.testclient import TestClient
from webserver import civicdesk_web

from kernel.settings import get_settings
from web.intake import FORM_FIELDS_ALLOWANCE, body_limit

MB = 1024 * 1024
ZALO_SECRETS = {"zalo_app_id": "4300000000000000001", "zalo_oa_secret_key": "limits-oa-secret-key"}


def json_body(size: int) -> bytes:
    """A JSON object of about this many bytes, as a flood would send it."""
    return b'{"app_id":"4300000000000000001","pad":"' + b"a" * size + b'"}'


def chunks(total: int, size: int = 64 * 1024) -> Iterator[bytes]:
    """A body without Content-Length (chunked), so only counting what arrives can stop it."""
    for _ in range(total // size):
        yield b"a" * size


@pytest.fixture
def zalo_configured(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    for name, value in ZALO_SECRETS.items():
        monkeypatch.setenv(f"CIVICDESK_{name.upper()}", value)
    get_settings.cache_clear()
    yield
    get_settings.cache_clear()


def test_each_route_has_its_limit() -> None:
    settings = get_settings()
    assert body_limit("/webhooks/zalo", settings) == settings.webhook_body_max_bytes == MB
    assert body_limit("/api/v1/tickets", settings) == settings.api_body_max_bytes == MB
    assert body_limit("/report", settings) == 5 * settings.attachment_max_bytes + FORM_FIELDS_ALLOWANCE
    assert body_limit("/api/v1/tickets/7/attachments", settings) == (
        settings.attachment_max_bytes + FORM_FIELDS_ALLOWANCE
    )


@pytest.mark.usefixtures("zalo_configured")
def test_a_declared_oversized_webhook_body_is_refused_with_a_reason(client: TestClient) -> None:
    response = client.post(
        "/webhooks/zalo", content=json_body(2 * MB), headers={"X-ZEvent-Signature": "mac=0"}
    )
    assert response.status_code == 413
    assert "quá lớn" in response.json()["detail"] and "1048576 bytes" in response.json()["detail"]


@pytest.mark.usefixtures("zalo_configured")
def test_a_streamed_oversized_body_is_stopped_while_it_arrives(client: TestClient) -> None:
    response = client.post("/webhooks/zalo", content=chunks(3 * MB), headers={"X-ZEvent-Signature": "mac=0"})
    assert response.status_code == 413


def test_api_json_over_its_limit_is_refused(client: TestClient, admin: dict[str, str]) -> None:
    response = client.post(
        "/api/v1/tickets",
        content=b'{"description":"' + b"x" * (2 * MB) + b'"}',
        headers={**admin, "Content-Type": "application/json"},
    )
    assert response.status_code == 413


def test_a_report_form_over_its_limit_gets_a_page_with_the_reason(client: TestClient) -> None:
    limit = body_limit("/report", get_settings())
    response = client.post(
        "/report",
        files={"photos": ("big.jpg", b"\xff\xd8\xff" + b"0" * limit, "image/jpeg")},
        data={"text": "Ổ gà trên đường"},
        headers={"Accept": "text/html"},
    )
    assert response.status_code == 413
    assert response.headers["content-type"].startswith("text/html")
    assert "quá lớn" in response.text


@pytest.mark.usefixtures("zalo_configured")
def test_a_body_within_the_limit_reaches_the_route(client: TestClient) -> None:
    response = client.post(
        "/webhooks/zalo", content=json_body(MB // 2), headers={"X-ZEvent-Signature": "mac=0"}
    )
    assert response.status_code == 403  # read whole, then refused for its signature


def _server_process(base_url: str) -> psutil.Process:
    port = str(urlsplit(base_url).port)
    for child in psutil.Process(os.getpid()).children(recursive=True):
        if port in child.cmdline():
            return child
    raise AssertionError(f"no server process serves {base_url}")


def _rss_growth(base_url: str, send: int, *, rounds: int = 3) -> int:
    """How much the server's resident memory grew over a few rounds of 20 MB deliveries."""
    process = _server_process(base_url)
    with httpx.Client(base_url=base_url, timeout=120) as http:
        http.post("/webhooks/zalo", content=json_body(1024), headers={"X-ZEvent-Signature": "mac=0"})
        before = process.memory_info().rss
        for _ in range(rounds):
            try:
                http.post("/webhooks/zalo", content=json_body(send), headers={"X-ZEvent-Signature": "mac=0"})
            except httpx.TransportError:
                pass  # the server may close the connection once it has refused the body
        return int(process.memory_info().rss - before)


def test_a_20_mb_webhook_body_leaves_a_real_servers_memory_flat(postgres_url: str, tmp_path: Path) -> None:
    with civicdesk_web(postgres_url, tmp_path, **ZALO_SECRETS) as base_url:
        growth = _rss_growth(base_url, 20 * MB)
    print(f"RSS growth of the server after 3 x 20 MB bodies to /webhooks/zalo: {growth / MB:.1f} MB")
    assert growth < 16 * MB
