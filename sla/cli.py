"""`civicdesk sla …`: an operator's check of the deadlines the timers compute."""

from __future__ import annotations

from datetime import date, datetime

import click

from kernel.db import unit_of_work
from kernel.errors import Invalid
from kernel.timeutil import city_tz
from sla import service
from tickets.models import Priority


@click.group("sla")
def sla_group() -> None:
    """Service levels: working calendar and deadlines."""


def _moment(text: str) -> datetime:
    try:
        moment = datetime.fromisoformat(text)
    except ValueError as exc:
        raise Invalid(
            f"--from must be an ISO 8601 time such as 2027-02-03T09:15+07:00, not {text!r}"
        ) from exc
    return moment if moment.tzinfo else moment.replace(tzinfo=city_tz())  # local time unless told otherwise


@sla_group.command("due")
@click.option(
    "--from", "start", required=True, help="When the ticket is created (ISO 8601; local time if no offset)."
)
@click.option("--priority", required=True, type=click.Choice([p.value for p in Priority]))
@click.option("--category", default=None, help="Category code, when it overrides its priority's target.")
def due(start: str, priority: str, category: str | None) -> None:
    """Print the resolution due time a ticket created at --from would get (Asia/Ho_Chi_Minh)."""
    from kernel.clierrors import domain_call

    def compute() -> datetime | None:
        with unit_of_work() as session:
            if category is not None:
                from tickets.reference import Category

                if session.get(Category, category) is None:
                    raise Invalid(f"unknown category '{category}'; see GET /api/v1/categories")
            return service.due_for(session, _moment(start), priority, category)

    moment = domain_call(compute)
    click.echo("out of SLA (legal process)" if moment is None else moment.astimezone(city_tz()).isoformat())


def _day(text: str | None) -> date:
    if text is None:
        return datetime.now(city_tz()).date()
    try:
        return date.fromisoformat(text)
    except ValueError as exc:
        raise Invalid(f"--from must be a date such as 2026-08-21, not {text!r}") from exc


@sla_group.command("reschedule")
@click.option(
    "--from", "first_day", default=None, help="First day whose deadlines may move (default: today)."
)
def reschedule(first_day: str | None) -> None:
    """Recompute running deadlines from --from under the calendar in force, e.g. after upgrading the
    `holidays` package when the government has announced new swapped days off and make-up Saturdays."""
    from kernel.clierrors import domain_call

    def run() -> int:
        with unit_of_work() as session:
            return service.reschedule_from(session, _day(first_day))

    click.echo(f"đã tính lại {domain_call(run)} hạn đang chạy")
