"""Assembles a process: hands the ticket core the flow that follows a ticket's life (flows/ticket_life.py)
and makes the city's Celery app the one the domains' `shared_task`s send through. Every process entry
point calls install() once — the web app, the Celery app, the CLI, the tests — and the ticket core refuses
to change a ticket until one has (tickets.life.Unfollowed), so nothing is filed silently without its SLA
clock or its triage. tests/test_flows.py checks each entry point."""

from __future__ import annotations

from flows.ticket_life import CityFlows
from tickets.life import follow_with


def install() -> None:
    # importing the module creates the app as Celery's current one (a no-op when it is being imported:
    # celery_app.py itself calls install()); without it a task would go to Celery's default broker
    from civicdesk import celery_app  # noqa: F401 - no cycle at import: celery_app.py calls install()

    follow_with(CityFlows())
