"""Which domain packages listen to the ticket core. Every process (web, worker, beat, CLI, tests) calls
install() once, so a status change has the same consequences wherever it happens."""

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
    for name in HOOK_MODULES:
        importlib.import_module(name)  # importing registers; a second import is a no-op
