"""Shared page plumbing: templates with the translator, language cookie, client address."""

from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import Any

from babel.messages.extract import extract_javascript
from fastapi import Request
from fastapi.responses import HTMLResponse, Response
from fastapi.templating import Jinja2Templates
from jinja2 import pass_context
from jinja2.runtime import Context

from kernel import city, i18n
from kernel.timeutil import city_tz
from web.geo import map_frame
from web.i18n import language_of, translator

TEMPLATES = Jinja2Templates(directory=str(Path(__file__).resolve().parents[1] / "templates"))
# The templates ship with the code and change only with it: no stat() of each template file on every page
# (Jinja's default), a new version is a restart like any other code change.
TEMPLATES.env.auto_reload = False
STATIC = Path(__file__).resolve().parents[1] / "static"


@cache
def js_keys() -> tuple[str, ...]:
    """The catalogue keys our scripts ask for with t("…"), read from the scripts as `make messages` does."""
    keys: list[str] = []
    for path in sorted(STATIC.glob("*.js")):
        with path.open("rb") as script:
            for _line, _function, message, _comments in extract_javascript(
                script, {"t": None}, [], {"parse_template_string": True}
            ):
                if isinstance(message, str):
                    keys.append(message)
    return tuple(dict.fromkeys(keys))


@cache
def js_messages(language: str) -> dict[str, str]:
    """The scripts' words in one language, made once per process rather than on every page."""
    t = translator(language)
    return {key: t(key) for key in js_keys()}


def _local_time(value: Any, fmt: str = "%H:%M %d/%m/%Y") -> str:
    return value.astimezone(city_tz()).strftime(fmt) if value else ""


@pass_context
def _datetime(context: Context, value: Any, fmt: str = "short") -> str:
    """A moment in the city's time zone, written the way the page's language writes it (CLDR)."""
    return i18n.local_datetime(value, context.get("lang", i18n.DEFAULT_LANGUAGE), fmt)


@pass_context
def _number(context: Context, value: Any, digits: int = 0) -> str:
    return i18n.local_number(value, context.get("lang", i18n.DEFAULT_LANGUAGE), digits)


@pass_context
def _percent(context: Context, value: Any, digits: int = 1) -> str:
    return i18n.local_percent(value, context.get("lang", i18n.DEFAULT_LANGUAGE), digits)


@pass_context
def _localized(context: Context, value: Any) -> Any:
    """A message made in Python with kernel.i18n._, in the page's language."""
    return i18n.localize(value, context.get("lang", i18n.DEFAULT_LANGUAGE))


@pass_context
def _note(context: Context, event: Any) -> str:
    """A timeline note in the page's language when the system wrote it (see tickets.service.record_event)."""
    stored = (getattr(event, "data", None) or {}).get("note_i18n")
    if not stored:
        return str(getattr(event, "note", None) or "")
    return i18n.from_data(stored).in_language(context.get("lang", i18n.DEFAULT_LANGUAGE))


TEMPLATES.env.filters.update(
    local=_local_time, datetime=_datetime, number=_number, percent=_percent, localized=_localized, note=_note
)
TEMPLATES.env.globals["map_frame"] = map_frame  # the public maps' data-* attributes
MAP_WORDS = ("js_map_", "js_pin_", "js_location_")


def _map_words(messages: dict[str, str]) -> dict[str, str]:
    """The map scripts' words only: a citizen's phone is not sent the staff pages' words."""
    return {key: text for key, text in messages.items() if key.startswith(MAP_WORDS)}


TEMPLATES.env.filters["map_words"] = _map_words


def city_words(language: str) -> dict[str, str]:
    """The city profile's facts every page shows: its name in the page's language, the hotline (as dialled
    for tel: links and as people read it) and the time zone the scripts write times in."""
    proper_name = city.city_profile().name(language)
    return {
        "city_name": translator(language)("city").format(city=proper_name),
        "city_proper_name": proper_name,
        "hotline_number": city.hotline_number(),
        "hotline_display": city.hotline_display(),
        "timezone": city.timezone_name(),
    }


def render(request: Request, template: str, status_code: int = 200, **context: Any) -> HTMLResponse:
    language = language_of(request)
    t = translator(language)
    words = {"t": t, "lang": language, "js_messages": js_messages(language), **city_words(language)}
    response = TEMPLATES.TemplateResponse(request, template, {**words, **context}, status_code=status_code)
    keep_language(request, response)
    return response


def keep_language(request: Request, response: Response) -> None:
    """A page asked for in a language (``?lang=``) remembers it for the visitor's next pages."""
    language = language_of(request)
    if request.query_params.get("lang") == language:
        response.set_cookie("lang", language, max_age=365 * 86400, samesite="lax", httponly=True)
