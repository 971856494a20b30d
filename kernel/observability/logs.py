"""One logging set-up for web, worker, beat and CLI: structlog in front, the standard library behind it.

Every record, ours or a library's (uvicorn, Celery, SQLAlchemy), goes through the same processors, so
each line carries the request or task id bound in contextvars, and is JSON in production or readable
console text in development (``CIVICDESK_LOG_FORMAT``).
"""

from __future__ import annotations

import logging
import sys
from typing import Any, TextIO

import structlog

from kernel.settings import Settings, get_settings

# Our own middleware writes one structured line per request; uvicorn's access line would repeat it.
QUIET_LOGGERS = {"uvicorn.access": logging.WARNING}
ROUTED_LOGGERS = ("uvicorn", "uvicorn.error", "uvicorn.access", "celery", "celery.task", "celery.redirected")


class _CurrentStderr(logging.StreamHandler):  # type: ignore[type-arg]
    """Writes to whatever ``sys.stderr`` is when a line is written (click's runner and pytest swap it)."""

    @property
    def stream(self) -> TextIO:
        return sys.stderr

    @stream.setter
    def stream(self, _: TextIO) -> None:
        pass


def _drop_color_message(_: Any, __: str, event: dict[str, Any]) -> dict[str, Any]:
    event.pop("color_message", None)  # uvicorn's copy of the message with terminal colours
    return event


def _shared_processors() -> list[Any]:
    return [
        structlog.contextvars.merge_contextvars,
        structlog.stdlib.add_log_level,
        structlog.stdlib.add_logger_name,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
        structlog.stdlib.ExtraAdder(),
        _drop_color_message,
    ]


def _renderer(log_format: str) -> Any:
    if log_format == "json":
        return structlog.processors.JSONRenderer(ensure_ascii=False)
    return structlog.dev.ConsoleRenderer(colors=False)


def configure(
    settings: Settings | None = None, *, level: int | str | None = None, stream: TextIO | None = None
) -> None:
    """Route all logging through structlog; safe to call again (the last call wins)."""
    settings = settings or get_settings()
    shared = _shared_processors()
    final = [structlog.processors.format_exc_info] if settings.effective_log_format == "json" else []
    formatter = structlog.stdlib.ProcessorFormatter(
        foreign_pre_chain=shared,
        processors=[
            structlog.stdlib.ProcessorFormatter.remove_processors_meta,
            *final,
            _renderer(settings.effective_log_format),
        ],
    )
    handler = logging.StreamHandler(stream) if stream is not None else _CurrentStderr()
    handler.setFormatter(formatter)
    root = logging.getLogger()
    root.handlers = [handler]
    chosen = level or settings.log_level
    root.setLevel(chosen.upper() if isinstance(chosen, str) else chosen)
    for name in ROUTED_LOGGERS:
        routed = logging.getLogger(name)
        routed.handlers = []
        routed.propagate = True
    for name, quiet_level in QUIET_LOGGERS.items():
        logging.getLogger(name).setLevel(quiet_level)


def _hand_structlog_to_stdlib() -> None:
    """structlog's loggers always hand their events to the standard library, configured or not, so a
    library importing our modules (or a test) never gets structlog's default printing to stdout."""
    structlog.configure(
        processors=[
            structlog.contextvars.merge_contextvars,
            structlog.stdlib.filter_by_level,
            structlog.stdlib.add_log_level,
            structlog.stdlib.add_logger_name,
            structlog.stdlib.PositionalArgumentsFormatter(),
            structlog.processors.TimeStamper(fmt="iso", utc=True),
            structlog.stdlib.ProcessorFormatter.wrap_for_formatter,
        ],
        logger_factory=structlog.stdlib.LoggerFactory(),
        wrapper_class=structlog.stdlib.BoundLogger,
        cache_logger_on_first_use=True,
    )


def get_logger(name: str) -> Any:
    return structlog.stdlib.get_logger(name)


_hand_structlog_to_stdlib()
