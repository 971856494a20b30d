"""The one sanitiser of text from outside, and the bounded types of ids and dates."""

from __future__ import annotations

from datetime import date

import pytest
from fastapi.testclient import TestClient
from pydantic import BaseModel, ValidationError
from sqlalchemy import text
from sqlalchemy.engine import Engine

from civicdesk.asgi import create_app
from kernel.db import unit_of_work
from kernel.text import INT4_MAX, CleanInput, RowId, SaneDate, clean_text, has_control_characters

C0 = [chr(c) for c in range(0x20) if chr(c) not in "\t\n\r"]
C1 = [chr(c) for c in range(0x7F, 0xA0)]


@pytest.mark.parametrize("char", C0 + C1 + ["\ud800"], ids=lambda c: f"U+{ord(c):04X}")
def test_every_control_character_is_dropped(char: str) -> None:
    assert has_control_characters(f"a{char}b")
    assert clean_text(f"Ổ gà{char} ở Trần Phú") == "Ổ gà ở Trần Phú"


def test_paragraphs_survive_and_letters_are_composed() -> None:
    decomposed = "Nguye\u0302\u0303n"  # "Nguyễn" typed with combining marks
    assert clean_text(f"Dòng 1\r\nDòng\t2\u2028{decomposed}") == "Dòng 1\r\nDòng\t2\nNguyễn"
    assert not has_control_characters("Dòng 1\nDòng\t2")


class _Body(CleanInput):
    note: str
    day: date | None = None


class _Path(BaseModel):
    row: RowId
    day: SaneDate | None = None


def test_bodies_are_cleaned_and_their_dates_bounded() -> None:
    assert _Body(note="a\x00b").note == "ab"
    assert _Body(note="x", day=date(2100, 12, 31)).day == date(2100, 12, 31)
    with pytest.raises(ValidationError, match="1900"):
        _Body(note="x", day=date(1, 1, 1))


@pytest.mark.parametrize("row", [0, -1, INT4_MAX + 1, 2**63])
def test_ids_beyond_postgresqls_integer_are_refused(row: int) -> None:
    with pytest.raises(ValidationError):
        _Path(row=row)
    assert _Path(row=INT4_MAX).row == INT4_MAX


def test_year_one_and_year_9999_are_refused() -> None:
    for day in (date(1, 1, 1), date(1899, 12, 31), date(9999, 12, 31)):
        with pytest.raises(ValidationError):
            _Path(row=1, day=day)


def test_a_value_postgresql_refuses_is_a_422_with_a_reason_not_a_500(engine: Engine) -> None:
    """The last line behind the validators: a DataError from the database itself."""
    app = create_app(engine)

    @app.get("/api/v1/out-of-range", response_model=None)
    def out_of_range() -> None:
        with unit_of_work(engine) as session:
            session.execute(text("SELECT CAST(2147483648 AS integer)"))

    with TestClient(app) as client:
        response = client.get("/api/v1/out-of-range")
    assert response.status_code == 422
    assert "phạm vi" in response.json()["detail"]
