"""The `civicdesk` command: one entry point with groups, as `civicdesk --help` lists."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from typing import Any

import click

from civicdesk import migrations, preflight, wiring
from civicdesk.db import get_engine, unit_of_work
from civicdesk.errors import DomainError
from civicdesk.settings import get_settings


class UsageProblem(click.ClickException):
    """A clear message and exit code 2, like any other usage error."""

    exit_code = 2


def domain_call(call: Any) -> Any:
    try:
        return call()
    except DomainError as exc:
        raise UsageProblem(exc.message) from exc


class CivicDeskGroup(click.Group):
    """Every command runs inside this: an engine or settings problem becomes one line and exit code 2."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except (click.ClickException, click.exceptions.Exit, click.exceptions.Abort):
            raise
        except Exception as exc:
            message = preflight.explain(exc)
            if message is None:
                raise
            raise UsageProblem(message) from exc


@click.group(cls=CivicDeskGroup)
def main() -> None:
    """CivicDesk — phản ánh hiện trường và tổng đài 19009113 (citizen reports and hotline)."""
    wiring.install()


# --- db -------------------------------------------------------------------------------------------


@main.group()
def db() -> None:
    """The database schema (Alembic migrations)."""


@db.command("upgrade")
@click.argument("revision", default="head")
def db_upgrade(revision: str) -> None:
    """Apply migrations up to REVISION (default: the newest)."""
    migrations.upgrade(get_engine(), revision)
    click.echo(f"database at {', '.join(sorted(migrations.current_heads(get_engine()))) or 'base'}")


# --- seed and users -------------------------------------------------------------------------------


@main.command()
@click.option("--demo", is_flag=True, help="Also add demo users and about 200 demo tickets.")
@click.option("--count", default=200, show_default=True, help="How many demo tickets.")
def seed(demo: bool, count: int) -> None:
    """Seed reference data (categories, departments, wards); --demo adds demo users and tickets."""
    if demo:
        preflight.check_broker()  # each demo ticket sends its triage task
    _seed(demo=demo, count=count)


def _seed(*, demo: bool, count: int = 200) -> None:
    from civicdesk import demo as demo_data
    from tickets.reference import seed_reference

    with unit_of_work() as session:
        added = seed_reference(session)
    click.echo("reference data: " + ", ".join(f"{n} new {table}" for table, n in added.items()))
    from ioc import service as ioc

    with unit_of_work() as session:
        click.echo(f"IOC connectors: {ioc.seed(session)} new")
    if not demo:
        return
    with unit_of_work() as session:
        click.echo(f"IOC demo history: {ioc.backfill(session)} readings")
    with unit_of_work() as session:
        users = demo_data.seed_demo_users(session)
    click.echo(f"demo users: {len(users)} new (password '{demo_data.DEMO_PASSWORD}')")
    with unit_of_work() as session, click.progressbar(length=count, label="demo tickets") as bar:
        done = [0]

        def step(n: int) -> None:
            bar.update(n - done[0])
            done[0] = n

        added_tickets = demo_data.seed_demo_tickets(session, count=count, progress=step)
    click.echo(f"demo tickets: {added_tickets} new" if added_tickets else "demo tickets: already there")


@main.group()
def user() -> None:
    """Staff accounts."""


@user.command("create")
@click.option("--username", required=True)
@click.option("--password", required=True, help="At least 8 characters.")
@click.option(
    "--role",
    required=True,
    type=click.Choice(["admin", "supervisor", "agent", "department_staff", "ward_officer"]),
)
@click.option("--department", help="Department code, for department_staff.")
@click.option("--ward", help="Ward code, for ward_officer.")
@click.option("--full-name", default="")
def user_create(
    username: str, password: str, role: str, department: str | None, ward: str | None, full_name: str
) -> None:
    """Create a staff account."""
    from tickets.staff import create_user

    def make() -> None:
        with unit_of_work() as session:
            made = create_user(
                session,
                username=username,
                password=password,
                role=role,
                department=department,
                ward=ward,
                full_name=full_name,
            )
            click.echo(f"user {made.username} ({made.role}) created")

    domain_call(make)


# --- processes ------------------------------------------------------------------------------------


@main.command()
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8000, show_default=True)
@click.option("--workers", default=1, show_default=True, help="uvicorn worker processes")
def web(host: str, port: int, workers: int) -> None:
    """Serve the web application and API (production: behind a reverse proxy)."""
    import uvicorn

    _check_engines()

    uvicorn.run("web.main:app", host=host, port=port, workers=workers, proxy_headers=True)


def _check_engines() -> None:
    """A long-running process says at once what is wrong, instead of failing on each request or task."""
    preflight.check_database(get_engine())
    preflight.check_broker()


def _celery_argv(*args: str) -> list[str]:
    return [sys.executable, "-m", "celery", "-A", "civicdesk.celery_app", *args]


@main.command(context_settings={"ignore_unknown_options": True})
@click.argument("celery_args", nargs=-1, type=click.UNPROCESSED)
def worker(celery_args: tuple[str, ...]) -> None:
    """Run a Celery worker (extra arguments go to celery)."""
    _check_engines()
    os.execv(sys.executable, _celery_argv("worker", "-l", "info", *celery_args))  # noqa: S606


@main.command()
def beat() -> None:
    """Run the Celery beat scheduler (exactly one per deployment)."""
    preflight.check_broker()
    os.execv(sys.executable, _celery_argv("beat", "-l", "info"))  # noqa: S606


@main.command()
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8000, show_default=True)
@click.option("--no-demo", is_flag=True, help="Do not add demo users and tickets.")
def run(host: str, port: int, no_demo: bool) -> None:
    """Everything on the embedded defaults: migrate, seed, web, worker and beat; Ctrl-C stops it all."""
    import uvicorn

    settings = get_settings()
    settings.var_dir.mkdir(parents=True, exist_ok=True)
    click.echo(f"database: {get_engine().url.render_as_string(hide_password=True)}")
    migrations.upgrade(get_engine())
    _seed(demo=not no_demo)
    children = [
        subprocess.Popen(  # noqa: S603 - our own interpreter and module
            _celery_argv("worker", "-B", "--pool", "threads", "--concurrency", "2", "-l", "warning")
        )
    ]
    if settings.ami_configured:
        children.append(subprocess.Popen([sys.executable, "-m", "civicdesk.cli", "telephony"]))  # noqa: S603
    click.echo(f"CivicDesk: http://{host}:{port}/docs  (Ctrl-C stops everything)")
    try:
        uvicorn.run("web.main:app", host=host, port=port)
    finally:
        for child in children:
            child.send_signal(signal.SIGTERM)
        for child in children:
            try:
                child.wait(timeout=15)
            except subprocess.TimeoutExpired:
                child.kill()
        click.echo("stopped")


def _add_domain_commands() -> None:
    from routing.cli import nlp_group, triage_command
    from sla.cli import sla_group
    from telephony.cli import telephony_group

    main.add_command(sla_group)
    main.add_command(telephony_group)
    main.add_command(triage_command)
    main.add_command(nlp_group)


_add_domain_commands()


if __name__ == "__main__":
    main()
