"""The `civicdesk` command: one entry point with groups, as `civicdesk --help` lists."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any
from urllib.parse import unquote

import click
from pydantic import ValidationError

from civicdesk import wiring
from civicdesk.observability.errors import init_error_tracking
from kernel import city, embedded, migrations, preflight
from kernel.clierrors import UsageProblem, domain_call
from kernel.db import get_engine, unit_of_work
from kernel.observability import logs
from kernel.settings import DEFAULT_PUBLIC_BASE_URL, Settings, get_settings


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
    """CivicDesk — phản ánh hiện trường và tổng đài đường dây nóng (citizen reports and hotline)."""
    # a command's own output is what people read; our info lines (200 "ticket created" in a demo seed) are
    # shown only when CIVICDESK_LOG_LEVEL asks for them. `web`, `worker` and `beat` set their own level.
    logs.configure(level=None if "CIVICDESK_LOG_LEVEL" in os.environ else "WARNING")
    init_error_tracking("cli")
    command = click.get_current_context().invoked_subcommand
    if command != "check-profile":
        city.city_profile()  # a wrong city profile stops every command here, naming its field (exit 2)
    if command not in ("check-profile", "run"):  # `run` installs once its engines are chosen (below)
        wiring.install()


@main.command("check-profile")
@click.argument("path", type=click.Path(path_type=Path, dir_okay=False))
def check_profile(path: Path) -> None:
    """Check a city profile FILE (the shape of kernel/data/city.toml) before CIVICDESK_CITY_PROFILE
    names it: exit code 2 and the wrong field named, or a summary of what it says."""
    try:
        profile = city.load_profile(path)
    except city.ProfileError as exc:
        raise UsageProblem(str(exc)) from exc
    click.echo(
        f"{path}: {profile.name_vi} / {profile.name_en}, đường dây nóng (hotline) {profile.hotline_display},"
        f" {profile.timezone}, {len(profile.open311.groups)} Open311 groups, sensitive departments"
        f" {', '.join(profile.routing.sensitive_departments) or '—'}: OK"
    )


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
@click.option("--port", default=8000, show_default=True, type=click.IntRange(1, 65535))
@click.option("--workers", default=1, show_default=True, help="uvicorn worker processes")
def web(host: str, port: int, workers: int) -> None:
    """Serve the web application and API (production: behind a reverse proxy)."""
    import uvicorn

    settings = _startup_settings()
    _check_signing_key(settings)
    trusted = settings.trusted_proxy_list
    _check_engines()
    address = _serve_address(host, port)
    _export_engines(settings, address)  # the uvicorn workers find the same engines
    click.echo(f"CivicDesk web: {address}")
    # the client address and scheme come from X-Forwarded-* only when the peer is one of these
    uvicorn.run(
        "civicdesk.server:app",
        host=host,
        port=port,
        workers=workers,
        proxy_headers=bool(trusted),
        forwarded_allow_ips=trusted,
    )


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
    embedded.stop_started()  # an exec runs no exit handlers: Celery starts (or reuses) its own
    os.execv(sys.executable, _celery_argv("worker", "-l", "info", *celery_args))  # noqa: S606


@main.command()
def beat() -> None:
    """Run the Celery beat scheduler (exactly one per deployment)."""
    preflight.check_broker()
    embedded.stop_started()  # an exec runs no exit handlers: Celery starts (or reuses) its own
    os.execv(sys.executable, _celery_argv("beat", "-l", "info"))  # noqa: S606


@main.command()
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8000, show_default=True, type=click.IntRange(1, 65535))
@click.option("--no-demo", is_flag=True, help="Do not add demo users and tickets.")
def run(host: str, port: int, no_demo: bool) -> None:
    """Everything in one folder: the embedded PostgreSQL and Valkey (unless configured), migrations, seed
    data, then web, worker and beat. Ctrl-C or SIGTERM stops it all, and the engines this run started."""
    settings = _startup_settings()
    address = _serve_address(host, port)
    _refuse_busy_port(host, port)
    settings.var_dir.mkdir(parents=True, exist_ok=True)
    with _stopped_by_signals():
        try:
            _export_engines(settings, address)
            wiring.install()  # the Celery app reads the engines just exported: installed earlier, it would
            # have started a Valkey of its own before the busy port was refused
            click.echo(f"database: {unquote(get_engine().url.render_as_string(hide_password=True))}")
            migrations.upgrade(get_engine())
            _seed(demo=not no_demo)
            children = _start_children(settings, host, port)
            try:
                _wait_until_serving(host, port, children)
                click.echo(f"CivicDesk: {address}/staff  (Ctrl-C dừng tất cả / stops everything)")
                _wait_for_exit(children)
            finally:
                _stop(list(children.values()))
        finally:
            embedded.stop_started()
            click.echo("stopped")


class _ChildEnded(click.ClickException):
    """One of the run's processes ended by itself: the others are stopped too, and the run fails."""

    def __init__(self, name: str, code: int) -> None:
        super().__init__(f"{name} đã dừng bất ngờ (stopped unexpectedly, exit {code}); đã dừng tất cả")


class _StopRequested(Exception):
    """SIGTERM or SIGINT reached `civicdesk run`."""


@contextmanager
def _stopped_by_signals() -> Iterator[None]:
    def request_stop(signum: int, _frame: object) -> None:
        for sig in (signal.SIGTERM, signal.SIGINT):
            signal.signal(sig, signal.SIG_IGN)  # a second Ctrl-C must not cut the orderly stop short
        raise _StopRequested(signal.Signals(signum).name)

    previous = {sig: signal.signal(sig, request_stop) for sig in (signal.SIGTERM, signal.SIGINT)}
    try:
        yield
    except _StopRequested:
        pass
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)


def _startup_settings() -> Settings:
    """The settings, or one line saying which one is wrong (exit code 2) instead of a traceback."""
    try:
        return get_settings()
    except ValidationError as exc:
        problems = (str(error["msg"]).removeprefix("Value error, ") for error in exc.errors())
        raise UsageProblem("; ".join(problems)) from exc


def _check_signing_key(settings: Settings) -> None:
    """This install's secret is made (or found unusable) at start, not at the first sign-in."""
    try:
        _ = settings.signing_key
    except (ValueError, OSError) as exc:
        raise UsageProblem(str(exc)) from exc


def _serve_address(host: str, port: int) -> str:
    shown = "127.0.0.1" if host in ("0.0.0.0", "::", "") else host  # noqa: S104 - only compared
    return f"http://{shown}:{port}"


def _refuse_busy_port(host: str, port: int) -> None:
    with socket.socket() as probe:
        try:
            probe.bind((host, port))
        except OSError as exc:
            raise UsageProblem(
                f"Cổng {port} trên {host} đang bận (port in use); chọn cổng khác: --port hoặc make run PORT=…"
            ) from exc


def _export_engines(settings: Settings, address: str) -> None:
    """Resolve the engines (starting the embedded ones when none is configured) and hand the same URLs,
    and the public address when none is set, to this process's children."""
    database = embedded.database_url(settings)
    broker, backend = embedded.celery_urls(settings)
    settings.database_url, settings.broker_url, settings.result_backend = database, broker, backend
    os.environ.update(
        CIVICDESK_DATABASE_URL=database, CIVICDESK_BROKER_URL=broker, CIVICDESK_RESULT_BACKEND=backend
    )
    if settings.public_base_url == DEFAULT_PUBLIC_BASE_URL and "CIVICDESK_PUBLIC_BASE_URL" not in os.environ:
        settings.public_base_url = os.environ["CIVICDESK_PUBLIC_BASE_URL"] = address


def _start_children(settings: Settings, host: str, port: int) -> dict[str, subprocess.Popen[bytes]]:
    # threads, not prefork: the tasks wait on the database and the broker, and 2 cores are enough for 4;
    # a prefetch of 4 per thread keeps the queue draining without a round trip per task
    pool = ["--pool", "threads", "--concurrency", "4", "--prefetch-multiplier", "4"]
    argvs = {
        "web": [sys.executable, "-m", "civicdesk.cli", "web", "--host", host, "--port", str(port)],
        "worker": _celery_argv("worker", *pool, "-l", "warning"),
        # beat on its own: embedded in the worker (-B) it finishes its sleep before it stops, up to 15 s
        "beat": _celery_argv("beat", "-l", "warning"),
    }
    if settings.ami_configured and settings.pbx_mode == "ami":  # a simulated PBX has no listener of its own
        argvs["telephony"] = [sys.executable, "-m", "civicdesk.cli", "telephony"]
    return {name: subprocess.Popen(argv) for name, argv in argvs.items()}  # noqa: S603 - our own modules


def _wait_until_serving(host: str, port: int, children: dict[str, subprocess.Popen[bytes]]) -> None:
    while not _answers(host, port):
        _fail_if_one_ended(children)
        time.sleep(0.1)


def _answers(host: str, port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1" if host in ("0.0.0.0", "") else host, port), 0.5):  # noqa: S104
            return True
    except OSError:
        return False


def _wait_for_exit(children: dict[str, subprocess.Popen[bytes]]) -> None:
    """Until a signal stops the run, or one of its processes ends by itself."""
    while True:
        _fail_if_one_ended(children)
        time.sleep(0.5)


def _fail_if_one_ended(children: dict[str, subprocess.Popen[bytes]]) -> None:
    for name, child in children.items():
        code = child.poll()
        if code is not None:
            raise _ChildEnded(name, code)


def _stop(children: list[subprocess.Popen[bytes]]) -> None:
    for child in children:
        if child.poll() is None:
            child.send_signal(signal.SIGTERM)
    for child in children:
        try:
            child.wait(timeout=20)
        except subprocess.TimeoutExpired:
            child.kill()
            child.wait()


def _add_domain_commands() -> None:
    from channels.cli import simulate_group
    from civicdesk.backup_cli import backup_command, restore_command
    from geo.cli import geo_group
    from nlp.speech_cli import speech_group
    from routing.cli import nlp_group, triage_command
    from sla.cli import sla_group
    from telephony.cli import simulate_call_command, simulate_voicemail_command, telephony_group

    main.add_command(sla_group)
    main.add_command(telephony_group)
    main.add_command(triage_command)
    main.add_command(nlp_group)
    main.add_command(backup_command)
    main.add_command(restore_command)
    main.add_command(geo_group)
    simulate_group.add_command(simulate_call_command)
    simulate_group.add_command(simulate_voicemail_command)
    main.add_command(simulate_group)
    main.add_command(speech_group)


_add_domain_commands()


if __name__ == "__main__":
    main()
