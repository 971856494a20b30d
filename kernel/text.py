"""Text that enters CivicDesk from outside: one sanitiser for every intake (web forms, API bodies, channel
messages, telephony), and the bounded types the routes declare for ids and dates.

PostgreSQL refuses NUL in text and control characters break logs, CSV exports and SMS gateways, so they
are removed where text is accepted; line breaks and tabs are kept because citizens write paragraphs.
"""

from __future__ import annotations

import re
import unicodedata
from datetime import date, datetime
from typing import Annotated, Any, TypeVar

from annotated_types import Ge, Le
from pydantic import AfterValidator, BaseModel, field_validator

# C0 controls except tab, line feed and carriage return; DEL; C1 controls; lone surrogates, which
# cannot be encoded as UTF-8 at all
_UNWANTED = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ud800-\udfff]")
# the Unicode line and paragraph separators become plain line breaks
_SEPARATORS = str.maketrans({"\u2028": "\n", "\u2029": "\n"})

INT4_MAX = 2**31 - 1  # PostgreSQL's integer: ids and counts stored in it go no further
EARLIEST_YEAR, LATEST_YEAR = 1900, 2100

D = TypeVar("D", date, datetime)


def clean_text(value: str) -> str:
    """The text without NUL and control characters, composed (NFC) so that one letter is one code point."""
    return unicodedata.normalize("NFC", _UNWANTED.sub("", value.translate(_SEPARATORS)))


def has_control_characters(value: str) -> bool:
    return _UNWANTED.search(value) is not None


def _sane_date(value: D) -> D:
    if not EARLIEST_YEAR <= value.year <= LATEST_YEAR:
        raise ValueError(f"năm phải trong khoảng {EARLIEST_YEAR}–{LATEST_YEAR} (the year is out of range)")
    return value


CleanStr = Annotated[str, AfterValidator(clean_text)]
# a row id in a path or query: anything outside PostgreSQL's integer cannot name a row
RowId = Annotated[int, Ge(1), Le(INT4_MAX)]
SaneDate = Annotated[date, AfterValidator(_sane_date)]
SaneDateTime = Annotated[datetime, AfterValidator(_sane_date)]


class CleanInput(BaseModel):
    """A request body whose every text field loses NUL and control characters as it is read, and whose
    dates must fall within EARLIEST_YEAR..LATEST_YEAR."""

    @field_validator("*", mode="before")
    @classmethod
    def _clean_text(cls, value: Any) -> Any:
        return clean_text(value) if isinstance(value, str) else value

    @field_validator("*", mode="after")
    @classmethod
    def _sane_dates(cls, value: Any) -> Any:
        return _sane_date(value) if isinstance(value, date) else value
