"""Which domain packages listen to the ticket core. Every process (web, worker, beat, CLI, tests) calls
install() once, so a status change has the same consequences wherever it happens; it also makes the city's
Celery app the one the domains' `shared_task`s send through."""

from __future__ import annotations

import importlib

HOOK_MODULES = [
    "sla.hooks",
    "routing.hooks",
    "channels.hooks",
    "telephony.hooks",
    "tickets.hooks",
    "incidents.hooks",
]


def install() -> None:
    # importing the module creates the app as Celery's current one (a no-op when it is being imported:
    # celery_app.py itself calls install()); without it a task would go to Celery's default broker
    from civicdesk import celery_app  # noqa: F401 - no cycle at import: celery_app.py calls install()

    for name in HOOK_MODULES:
        importlib.import_module(name)  # importing registers; a second import is a no-op
