"""`civicdesk simulate`: a citizen's Zalo message or Facebook comment played into a running CivicDesk
(`civicdesk run`) through its real webhooks, signed with this installation's secrets."""

from __future__ import annotations

import json
import secrets

import click
import httpx

from channels import simulated, simulator
from kernel.clierrors import UsageProblem, domain_call
from kernel.settings import get_settings

DEFAULT_URL = "http://127.0.0.1:8000"  # where `civicdesk run` listens unless told otherwise


@click.group("simulate")
def simulate_group() -> None:
    """Play a citizen's message into a running CivicDesk, as the provider would send it (demos, training)."""


def _deliver(url: str, delivery: simulator.Delivery) -> None:
    try:
        with httpx.Client(timeout=15) as http:
            answer = simulator.play(http, url, delivery)
    except httpx.HTTPError as exc:
        raise UsageProblem(f"CivicDesk không trả lời tại {url} (not answering): {exc}") from exc
    if answer.status_code >= 300:
        raise UsageProblem(f"{url}{delivery.path} trả lời {answer.status_code}: {answer.text[:300]}")
    click.echo(f"{delivery.path} → {answer.status_code} {answer.text}")


@simulate_group.command("zalo")
@click.option("--text", required=True, help="What the citizen writes to the Official Account.")
@click.option("--user", "user_id", default=None, help="The citizen's Zalo user id (a new one if not given).")
@click.option("--url", default=DEFAULT_URL, show_default=True, help="The running CivicDesk web server.")
def zalo_command(text: str, user_id: str | None, url: str) -> None:
    """A Zalo user writes to the city's Official Account."""
    user = user_id or f"84{secrets.randbelow(10**17):017d}"
    delivery = domain_call(lambda: simulator.zalo_message(get_settings(), user_id=user, text=text))
    _deliver(url, delivery)


@simulate_group.command("facebook")
@click.option("--text", required=True, help="The comment under the city's post.")
@click.option("--user", "user_id", default=None, help="The commenter's Facebook id (a new one if not given).")
@click.option("--name", default="Người dân", show_default=True, help="The commenter's display name.")
@click.option("--url", default=DEFAULT_URL, show_default=True, help="The running CivicDesk web server.")
def facebook_command(text: str, user_id: str | None, name: str, url: str) -> None:
    """Someone comments on a post of the city's Facebook page."""
    user = user_id or f"7{secrets.randbelow(10**15):015d}"
    delivery = domain_call(
        lambda: simulator.facebook_comment(get_settings(), user_id=user, name=name, text=text)
    )
    _deliver(url, delivery)


@simulate_group.command("replies")
@click.argument("channel", type=click.Choice(["zalo", "facebook"]))
def replies_command(channel: str) -> None:
    """What the city sent on a simulated channel (CIVICDESK_ZALO_MODE / _FACEBOOK_MODE=simulator), oldest
    first, one JSON request body a line, as the provider would have received it."""
    sent = simulated.recorded(channel)
    if not sent:
        click.echo(f"Chưa gửi gì qua {channel} giả lập (nothing sent yet) — {simulated.folder()}", err=True)
    for body in sent:
        click.echo(json.dumps(body, ensure_ascii=False))
