"""`civicdesk web` believes X-Forwarded-For and X-Forwarded-Proto only from CIVICDESK_TRUSTED_PROXIES.

A real `civicdesk web` process is started on a loopback port; the test is its peer at 127.0.0.1 and
claims, through the headers, to relay a citizen at 203.0.113.7 over HTTPS. What the audit log, the
rate limit and the cookie's Secure flag then record shows what the application took as the client.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from contextlib import ExitStack
from pathlib import Path

import httpx
import pytest
from click.testing import CliRunner
from sqlalchemy import text
from staff_signin import sign_in
from webserver import civicdesk_web

from civicdesk import cli
from kernel.db import engine_for, make_engine, unit_of_work
from kernel.settings import Settings, get_settings
from tickets.staff import create_user

CITIZEN = "203.0.113.7"
# the left-most entry is whatever the client wrote; only the entry our proxy appended is believed
FORWARDED = {"X-Forwarded-For": f"198.51.100.1, {CITIZEN}", "X-Forwarded-Proto": "https"}


@pytest.fixture
def serve_web(tmp_path: Path, postgres_url: str) -> Iterator[Callable[[str], str]]:
    with ExitStack() as servers:
        yield lambda trusted: servers.enter_context(
            civicdesk_web(postgres_url, tmp_path, trusted_proxies=trusted)
        )


@pytest.mark.parametrize(
    ("trusted_proxies", "seen_as", "secure_cookie"),
    [
        pytest.param("192.0.2.10, 127.0.0.0/8", CITIZEN, True, id="peer-in-a-trusted-network"),
        pytest.param("192.0.2.10", "127.0.0.1", False, id="peer-not-trusted"),
    ],
)
def test_forwarded_headers_count_only_from_a_trusted_peer(
    serve_web: Callable[[str], str],
    postgres_url: str,
    trusted_proxies: str,
    seen_as: str,
    secure_cookie: bool,
) -> None:
    engine = make_engine(postgres_url)
    username = f"proxy-{uuid.uuid4().hex[:6]}"
    with unit_of_work(engine) as session:
        create_user(session, username=username, password="secret-pass", role="admin")
        session.execute(text("DELETE FROM rate_limit_window WHERE key LIKE 'token-miss:%'"))
    base = serve_web(trusted_proxies)

    with httpx.Client(base_url=base) as browser:
        signed_in = sign_in(browser, username, "secret-pass", headers=FORWARDED)
    wrong_link = httpx.get(f"{base}/t/{uuid.uuid4().hex}", headers=FORWARDED)

    assert signed_in.status_code == 303 and wrong_link.status_code == 404
    assert ("secure" in signed_in.headers["set-cookie"].lower()) is secure_cookie
    with engine.connect() as conn:
        audited = conn.execute(
            text("SELECT address FROM staff_audit WHERE username = :u AND action = 'sign_in'"),
            {"u": username},
        ).scalar_one()
        counted = (
            conn.execute(text("SELECT key FROM rate_limit_window WHERE key LIKE 'token-miss:%'"))
            .scalars()
            .all()
        )
    engine.dispose()
    assert audited == seen_as
    assert counted == [f"token-miss:{seen_as}"]


def test_only_loopback_is_trusted_by_default(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("CIVICDESK_TRUSTED_PROXIES", raising=False)
    assert Settings().trusted_proxy_list == ["127.0.0.1"]


def test_addresses_networks_and_ipv6_are_accepted(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CIVICDESK_TRUSTED_PROXIES", " 10.0.0.5 , 172.30.57.0/24,::1,")
    assert Settings().trusted_proxy_list == ["10.0.0.5", "172.30.57.0/24", "::1"]


def test_an_empty_list_believes_no_proxy(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CIVICDESK_TRUSTED_PROXIES", "")
    assert Settings().trusted_proxy_list == []


def test_a_name_instead_of_an_address_is_a_clear_usage_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CIVICDESK_TRUSTED_PROXIES", "127.0.0.1,nginx")
    get_settings.cache_clear()
    try:
        result = CliRunner().invoke(cli.main, ["web"])
    finally:
        get_settings.cache_clear()
        engine_for.cache_clear()
    assert result.exit_code == 2
    assert "'nginx' is not an IP address or network" in result.output
    assert "Traceback" not in result.output
