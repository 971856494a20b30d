"""Every word people read comes from the gettext catalogues in ``kernel/locale/{vi,en}``.

Two kinds of msgid live there: the short keys the templates have always used (``t("home_title")``)
and Vietnamese source text for messages written in Python (``_("Không tìm thấy phản ánh {code}",
code=...)``). The .po files are read as they are (no compiled .mo is written anywhere), once per
process. A message made with ``_`` is a ``str`` whose value is the Vietnamese text, so code that logs
or compares it keeps working, and it remembers its msgid so an answer can be rendered in the asker's
language with :func:`localize`.
"""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from functools import cache
from pathlib import Path
from typing import Any

from babel import Locale
from babel.dates import format_datetime
from babel.messages.pofile import read_po
from babel.numbers import format_decimal, format_percent

from kernel.timeutil import city_tz

LOCALE_DIR = Path(__file__).parent / "locale"
DOMAIN = "messages"
LANGUAGES = ("vi", "en")
DEFAULT_LANGUAGE = "vi"


def po_path(language: str) -> Path:
    return LOCALE_DIR / language / "LC_MESSAGES" / f"{DOMAIN}.po"


@cache
def catalogue(language: str) -> dict[str, str]:
    """msgid → msgstr of one language; untranslated and fuzzy entries are left out (the msgid shows)."""
    with po_path(language).open("rb") as po:
        messages = read_po(po, locale=language, domain=DOMAIN)
    return {
        str(message.id): str(message.string)
        for message in messages
        if message.id and message.string and not message.fuzzy
    }


def gettext(msgid: str, language: str = DEFAULT_LANGUAGE) -> str:
    wanted = language if language in LANGUAGES else DEFAULT_LANGUAGE
    return catalogue(wanted).get(msgid) or catalogue(DEFAULT_LANGUAGE).get(msgid) or msgid


class Text(str):
    """A translatable message: the Vietnamese rendering, plus what it takes to render it again."""

    msgid: str
    params: dict[str, Any]

    def __new__(cls, msgid: str, params: dict[str, Any]) -> Text:
        text = super().__new__(cls, _render(msgid, params, DEFAULT_LANGUAGE))
        text.msgid, text.params = msgid, params
        return text

    def in_language(self, language: str) -> str:
        return _render(self.msgid, self.params, language)


class Name(Text):
    """A proper name spelt differently in each language (the city's: "Phan Rang – Tháp Chàm" /
    "Phan Rang – Thap Cham"), to be a parameter of a :class:`Text`; it is never looked up in a catalogue."""

    spellings: dict[str, str]

    def __new__(cls, spellings: dict[str, str]) -> Name:
        name = str.__new__(cls, spellings[DEFAULT_LANGUAGE])
        name.msgid, name.params, name.spellings = spellings[DEFAULT_LANGUAGE], {}, spellings
        return name

    def in_language(self, language: str) -> str:
        return self.spellings.get(language) or self.spellings[DEFAULT_LANGUAGE]


def _render(msgid: str, params: dict[str, Any], language: str) -> str:
    template = gettext(msgid, language)
    if not params:
        return template
    return template.format(**{name: localize(value, language) for name, value in params.items()})


def _(msgid: str, **params: Any) -> Text:
    """Mark a message for extraction; ``{name}`` placeholders are filled from ``params``."""
    return Text(msgid, params)


def to_data(text: Text) -> dict[str, Any]:
    """A message as JSON, to be stored with what it describes and rendered later in any language."""
    return {"msgid": text.msgid, "params": {name: _param_data(value) for name, value in text.params.items()}}


def _param_data(value: Any) -> Any:
    if isinstance(value, Text):
        return to_data(value)
    if isinstance(value, list | tuple):
        return [_param_data(item) for item in value]
    return value if isinstance(value, int | float | bool) or value is None else str(value)


def from_data(data: dict[str, Any]) -> Text:
    return Text(
        str(data["msgid"]), {name: _param_from(value) for name, value in data.get("params", {}).items()}
    )


def _param_from(value: Any) -> Any:
    if isinstance(value, list):
        return [_param_from(item) for item in value]
    return from_data(value) if isinstance(value, dict) and "msgid" in value else value


def label(prefix: str, code: str) -> Text:
    """A code's name from the catalogue (``label("st_", "resolved")``), for people, never the code."""
    return Text(f"{prefix}{code}", {})


def localize(value: Any, language: str) -> Any:
    """A :class:`Text` in ``language`` (a list of them joined with commas); anything else unchanged."""
    if isinstance(value, list | tuple):
        return ", ".join(str(localize(item, language)) for item in value)
    return value.in_language(language) if isinstance(value, Text) else value


# formatting for the templates' filters: CLDR patterns of each language, times in the city's zone


def local_datetime(value: datetime | str | None, language: str, fmt: str = "short") -> str:
    """``value`` is aware, or ISO 8601 text as JSON carries it (naive means UTC, as stored)."""
    if not value:
        return ""
    moment = datetime.fromisoformat(value) if isinstance(value, str) else value
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return format_datetime(moment, fmt, tzinfo=city_tz(), locale=Locale.parse(language))


def local_number(value: float | Decimal | int | None, language: str, digits: int = 0) -> str:
    if value is None:
        return "—"
    pattern = "#,##0" + ("." + "0" * digits if digits else "")
    return format_decimal(value, pattern, locale=Locale.parse(language))


def local_percent(value: float | None, language: str, digits: int = 1) -> str:
    """``value`` is a fraction (0.428 → 42,8 %)."""
    if value is None:
        return "—"
    pattern = "#,##0" + ("." + "0" * digits if digits else "") + " %"
    return format_percent(value, pattern, locale=Locale.parse(language))
