"""How a command says no: a clear message and exit code 2. Shared by the CLI entry point and the domain
packages' command groups, which must not import the entry point that imports them."""

from __future__ import annotations

from typing import Any

import click

from kernel.errors import DomainError


class UsageProblem(click.ClickException):
    """A clear message and exit code 2, like any other usage error."""

    exit_code = 2


def domain_call(call: Any) -> Any:
    try:
        return call()
    except DomainError as exc:
        raise UsageProblem(exc.message) from exc
