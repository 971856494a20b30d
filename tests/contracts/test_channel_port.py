"""The chat channels' outbound port (channels.adapter.ChannelClient): one contract, run against the real
clients talking to the protocol-faithful wire fakes (tests/fakes.py, real HTTP on loopback) and against
the simulated adapters the settings choose (channels/simulated.py: answered in process, recorded under
var_dir)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from click.testing import CliRunner
from fakes import PAGE_ID, GraphState, ZaloState, build_app, serve

from channels import simulated
from channels.adapter import ChannelClient, Reply
from channels.cli import simulate_group
from channels.clients import Off, client_for, configured
from channels.facebook import GraphClient
from channels.zalo import ZaloClient
from kernel.settings import Settings, get_settings

NOW = datetime.now(UTC)


@dataclass
class Provider:
    """A client behind the port, and what the provider on the other side accepted."""

    client: ChannelClient
    accepted: Callable[[], list[dict[str, Any]]]


@pytest.fixture(scope="module")
def wire_fake() -> Iterator[tuple[str, ZaloState, GraphState]]:
    zalo, graph = ZaloState(), GraphState()
    with serve(build_app(zalo, graph)) as base:
        yield base, zalo, graph


@pytest.fixture
def simulator_settings(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[None]:
    monkeypatch.setenv("CIVICDESK_VAR_DIR", str(tmp_path))
    monkeypatch.setenv("CIVICDESK_ZALO_MODE", "simulator")
    monkeypatch.setenv("CIVICDESK_FACEBOOK_MODE", "simulator")
    get_settings.cache_clear()
    yield
    monkeypatch.undo()
    get_settings.cache_clear()


@pytest.fixture(params=["real", "simulator"])
def zalo_provider(
    request: pytest.FixtureRequest, wire_fake: tuple[str, ZaloState, GraphState]
) -> Iterator[Provider]:
    if request.param == "simulator":
        request.getfixturevalue("simulator_settings")
        with httpx.Client() as http:
            yield Provider(client_for("zalo", http), lambda: simulated.recorded("zalo"))
        return
    base, zalo, _graph = wire_fake
    zalo.sent.clear()
    with httpx.Client(timeout=10) as http:
        yield Provider(ZaloClient(http, f"{base}/zalo", lambda _force: zalo.access_token), lambda: zalo.sent)


@pytest.fixture(params=["real", "simulator"])
def graph_provider(
    request: pytest.FixtureRequest, wire_fake: tuple[str, ZaloState, GraphState]
) -> Iterator[Provider]:
    if request.param == "simulator":
        request.getfixturevalue("simulator_settings")
        with httpx.Client() as http:
            yield Provider(client_for("facebook", http), lambda: simulated.recorded("facebook"))
        return
    base, _zalo, graph = wire_fake
    graph.sent.clear()
    with httpx.Client(timeout=10) as http:
        client = GraphClient(http, f"{base}/graph", PAGE_ID, graph.page_token)
        yield Provider(client, lambda: graph.sent)


def test_zalo_a_customer_service_message_is_accepted_with_the_providers_id(zalo_provider: Provider) -> None:
    result = zalo_provider.client.send_text(
        Reply("zuser-1", "Phản ánh của bạn đã được tiếp nhận", last_inbound_at=NOW)
    )
    assert result.ok and result.provider_message_id and result.route == "cs"
    assert zalo_provider.accepted() == [
        {"recipient": {"user_id": "zuser-1"}, "message": {"text": "Phản ánh của bạn đã được tiếp nhận"}}
    ]


def test_zalo_a_long_text_is_cut_to_what_zalo_takes(zalo_provider: Provider) -> None:
    assert zalo_provider.client.send_text(Reply("zuser-2", "x" * 3000, last_inbound_at=NOW)).ok
    assert [len(body["message"]["text"]) for body in zalo_provider.accepted()] == [2000]


def test_zalo_an_empty_message_is_refused_for_good(zalo_provider: Provider) -> None:
    result = zalo_provider.client.send_text(Reply("zuser-3", "", last_inbound_at=NOW))
    assert not result.ok and not result.retry and "-201" in (result.error or "")
    assert zalo_provider.accepted() == []


def test_messenger_within_a_day_is_a_response(graph_provider: Provider) -> None:
    result = graph_provider.client.send_text(Reply("psid-1", "Đã chuyển phường xử lý", last_inbound_at=NOW))
    assert result.ok and result.provider_message_id and result.route == "RESPONSE"
    [body] = graph_provider.accepted()
    assert body["recipient"] == {"id": "psid-1"} and body["messaging_type"] == "RESPONSE"


def test_messenger_after_a_day_only_a_persons_reply_goes_with_human_agent(graph_provider: Provider) -> None:
    three_days_ago = NOW - timedelta(days=3)
    automatic = graph_provider.client.send_text(Reply("psid-2", "Cập nhật", last_inbound_at=three_days_ago))
    assert not automatic.ok and not automatic.retry
    typed = graph_provider.client.send_text(
        Reply("psid-2", "Chào anh", last_inbound_at=three_days_ago, human=True)
    )
    assert typed.ok and typed.route == "HUMAN_AGENT"
    [body] = graph_provider.accepted()
    assert (body["messaging_type"], body["tag"]) == ("MESSAGE_TAG", "HUMAN_AGENT")


def test_a_comment_gets_one_private_reply(graph_provider: Provider) -> None:
    result = graph_provider.client.send_text(
        Reply("1234_5678", "Xem tiến độ", last_inbound_at=None, to_comment=True)
    )
    assert result.ok and result.route == "private_reply"
    assert [body["recipient"] for body in graph_provider.accepted()] == [{"comment_id": "1234_5678"}]


def test_messenger_a_long_text_is_cut_below_the_graph_limit(graph_provider: Provider) -> None:
    assert graph_provider.client.send_text(Reply("psid-3", "y" * 2500, last_inbound_at=NOW)).ok
    assert [len(body["message"]["text"]) for body in graph_provider.accepted()] == [1999]


# --- how settings choose the adapter ---------------------------------------------------------------------


def test_a_channel_with_credentials_is_real_and_without_is_simulated_only_in_development() -> None:
    with_credentials = Settings(environment="test", zalo_app_id="1", zalo_app_secret="s")
    assert (with_credentials.zalo_mode, with_credentials.facebook_mode) == ("real", "off")
    assert Settings(environment="development").zalo_mode == "simulator"
    assert Settings(environment="test", facebook_mode="simulator").facebook_mode == "simulator"


def test_production_refuses_a_real_channel_without_credentials() -> None:
    production = {"environment": "production", "secret_key": "k" * 40, "public_base_url": "https://x.vn"}
    assert Settings(**production).zalo_mode == "off"  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="CIVICDESK_ZALO_MODE=real needs"):
        Settings(**production, zalo_mode="real")  # type: ignore[arg-type]


@pytest.mark.usefixtures("simulator_settings")
def test_the_registry_picks_the_simulator_or_nothing_by_mode(monkeypatch: pytest.MonkeyPatch) -> None:
    assert configured("zalo") and configured("facebook") and not configured("viber")
    monkeypatch.setenv("CIVICDESK_ZALO_MODE", "off")
    get_settings.cache_clear()
    with httpx.Client() as http:
        off = client_for("zalo", http)
        assert isinstance(off, Off) and not configured("zalo")
        result = off.send_text(Reply("zuser-4", "không đi", last_inbound_at=NOW))
        assert not result.ok and not result.retry
        with pytest.raises(ValueError, match="no client for channel viber"):
            client_for("viber", http)


@pytest.mark.usefixtures("simulator_settings")
def test_an_operator_reads_what_the_simulated_channel_sent() -> None:
    runner = CliRunner()
    assert runner.invoke(simulate_group, ["replies", "zalo"]).stdout == ""
    with httpx.Client() as http:
        assert client_for("zalo", http).send_text(Reply("zuser-5", "Đã nhận", last_inbound_at=NOW)).ok
    shown = runner.invoke(simulate_group, ["replies", "zalo"])
    assert shown.exit_code == 0
    assert shown.stdout == '{"recipient": {"user_id": "zuser-5"}, "message": {"text": "Đã nhận"}}\n'
