"""Engine problems said in one line: a database or broker that cannot be reached, a URL that is not one,
a database with no schema, settings that do not validate. The CLI shows the line and exits with code 2
instead of a traceback; `explain` is the one place that knows how each problem looks."""

from __future__ import annotations

from typing import Any

import kombu.exceptions
import psycopg
from kombu.connection import Connection
from kombu.utils.url import maybe_sanitize_url
from pydantic import ValidationError
from sqlalchemy import exc as sa_exc
from sqlalchemy.engine import Engine, make_url

from kernel import embedded
from kernel.city import ProfileError
from kernel.settings import get_settings

NO_SCHEMA = (
    "Cơ sở dữ liệu chưa có bảng (the database has no schema yet):"
    " chạy `civicdesk db upgrade` (run `civicdesk db upgrade`)"
)
# SQLSTATE classes of a connection that never opened: connection exception, bad credentials, no such
# database, server starting or shutting down
UNREACHABLE_SQLSTATES = ("08", "28", "3D", "57P")
# undefined table, undefined column, undefined schema: migrations not (all) applied
SCHEMA_MISSING_SQLSTATES = {"42P01", "42703", "3F000"}


class EngineProblem(Exception):
    """A problem with the configured engines, already worded for the person at the terminal."""


def explain(exc: BaseException) -> str | None:
    """One line for a known engine or settings problem; None for anything else (a real bug)."""
    if isinstance(exc, EngineProblem | ProfileError):
        return str(exc)
    if isinstance(exc, ValidationError):
        return _settings_problem(exc)
    if isinstance(exc, kombu.exceptions.OperationalError):
        return broker_unreachable(exc)
    if isinstance(exc, sa_exc.DBAPIError):
        return _database_problem(exc)
    if type(exc) is psycopg.OperationalError:  # the driver's own, outside SQLAlchemy: a failed connect
        return database_unreachable(exc)
    if isinstance(exc, sa_exc.ArgumentError):
        return malformed_database_url()  # None when the URL is fine: then it is a bug, shown as one
    return None


def _settings_problem(exc: ValidationError) -> str:
    first = exc.errors()[0]
    where = "_".join(str(part) for part in first["loc"]).upper()
    reason = first["msg"].removeprefix("Value error, ")
    return f"Cấu hình sai (invalid setting){f' CIVICDESK_{where}' if where else ''}: {reason}"


def _database_problem(exc: sa_exc.DBAPIError) -> str | None:
    sqlstate = _sqlstate(exc)
    if sqlstate in SCHEMA_MISSING_SQLSTATES:
        return NO_SCHEMA
    if isinstance(exc, sa_exc.OperationalError) and (
        sqlstate is None or sqlstate.startswith(UNREACHABLE_SQLSTATES)
    ):
        return database_unreachable(exc)
    return None


def _sqlstate(exc: sa_exc.DBAPIError) -> str | None:
    state: Any = getattr(exc.orig, "sqlstate", None) or getattr(exc.orig, "pgcode", None)
    return str(state) if state else None


def _first_line(exc: BaseException) -> str:
    cause: Any = getattr(exc, "orig", None) or exc
    lines = [line.strip() for line in str(cause).splitlines() if line.strip()]
    return lines[0] if lines else type(cause).__name__


def _database_shown() -> str:
    settings = get_settings()
    if not settings.database_url:
        return f"nhúng (embedded) {settings.var_dir}"
    return make_url(settings.database_url).render_as_string(hide_password=True)


def database_unreachable(exc: BaseException) -> str:
    return (
        f"Không kết nối được cơ sở dữ liệu {_database_shown()} (cannot reach the database: "
        f"{_first_line(exc)}); đặt CIVICDESK_DATABASE_URL (set CIVICDESK_DATABASE_URL)"
    )


def malformed_database_url() -> str | None:
    """Why CIVICDESK_DATABASE_URL is not a usable URL, or None when it is one."""
    url = get_settings().database_url
    if not url:
        return None  # the embedded database
    try:
        make_url(url).get_dialect()
    except (sa_exc.ArgumentError, ValueError) as exc:
        return (
            f"CIVICDESK_DATABASE_URL không hợp lệ (is not a database URL: {_first_line(exc)}); "
            "ví dụ (for example) postgresql+psycopg://user:pass@host:5432/civicdesk"
        )
    return None


def broker_unreachable(exc: BaseException) -> str:
    settings = get_settings()
    shown = (
        maybe_sanitize_url(settings.broker_url)
        if settings.broker_url
        else f"nhúng (embedded) {settings.var_dir}"
    )
    return (
        f"Không kết nối được hàng đợi tác vụ {shown} (cannot reach the broker: {_first_line(exc)}); "
        "đặt CIVICDESK_BROKER_URL (set CIVICDESK_BROKER_URL), ví dụ redis://host:6379/0"
    )


def check_database(engine: Engine) -> None:
    """Refuse to start a long-running process on a database it cannot use."""
    from kernel import migrations

    if not migrations.current_heads(engine):
        raise EngineProblem(NO_SCHEMA)


def check_broker() -> None:
    """Connect to the broker once; a worker or beat would otherwise retry silently for ever."""
    broker, _results = embedded.celery_urls(get_settings())  # starts the embedded one, or says why not
    try:
        with Connection(broker, connect_timeout=5) as connection:  # type: ignore[no-untyped-call]
            connection.ensure_connection(max_retries=1, interval_start=0, interval_step=0.5)
    except Exception as exc:  # any failure here is the broker's: an unknown transport is a KeyError
        raise EngineProblem(broker_unreachable(exc)) from exc
