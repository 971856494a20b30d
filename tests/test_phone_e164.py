"""Phone numbers are stored in E.164 whatever the notation, and matching by phone still works."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from sqlalchemy import text
from sqlalchemy.engine import Engine
from sqlmodel import select

from kernel import migrations
from kernel.db import make_engine, unit_of_work
from kernel.errors import Invalid
from tickets.citizens import PBX, Contact, dialable_phone, find_citizen, normalize_phone, resolve_citizen
from tickets.models import ChannelIdentity, IdentityKind


@pytest.mark.parametrize(
    ("written", "stored"),
    [
        ("0912345678", "+84912345678"),
        ("0912 345 678", "+84912345678"),
        ("0912.345.678", "+84912345678"),
        ("(+84) 912-345-678", "+84912345678"),
        ("+84 (0) 912 345 678", "+84912345678"),
        ("84912345678", "+84912345678"),
        ("0084 912 345 678", "+84912345678"),
        ("(0259) 3822 111", "+842593822111"),
        ("+1 415 555 0123", "+14155550123"),
    ],
)
def test_phone_numbers_are_stored_in_e164(written: str, stored: str) -> None:
    assert normalize_phone(written) == stored


@pytest.mark.parametrize("bad", ["12345", "0123456789", "không có", "+84 12", "0912345678901234"])
def test_what_is_not_a_phone_number_is_refused_with_a_reason(bad: str) -> None:
    with pytest.raises(Invalid, match="số điện thoại"):
        normalize_phone(bad)


def test_the_pbx_dials_the_national_form() -> None:
    assert dialable_phone("+84912345678") == "0912345678"
    assert dialable_phone("+842593822111") == "02593822111"
    assert dialable_phone("+14155550123") == "0014155550123"


def test_the_same_citizen_is_found_whatever_the_notation(engine: Engine) -> None:
    with unit_of_work(engine) as session:
        first = resolve_citizen(
            session, Contact(phone="0912 345 678", name="Lê Văn Tám", phone_verified_by=PBX)
        )
        again = resolve_citizen(session, Contact(phone="(+84) 912-345-678", phone_verified_by=PBX))
        assert first is not None and again is not None and first.id == again.id
        assert find_citizen(session, IdentityKind.PHONE, normalize_phone("0912.345.678")) == first
        values = session.exec(select(ChannelIdentity.value).where(ChannelIdentity.kind == "phone")).all()
        assert values == ["+84912345678"]


def test_the_migration_converts_stored_numbers_to_e164(new_database: Callable[[], str]) -> None:
    engine = make_engine(new_database())
    migrations.upgrade(engine, "0014")
    rows = {"0912345678": "+84912345678", "02593822111": "+842593822111", "01234567890": "01234567890"}
    with engine.begin() as connection:
        for number, (value, _) in enumerate(rows.items(), start=1):
            connection.execute(
                text("INSERT INTO citizen (id, created_at) VALUES (:id, now())"), {"id": number}
            )
            connection.execute(
                text(
                    "INSERT INTO channel_identity (citizen_id, kind, value, created_at, last_seen_at)"
                    " VALUES (:id, 'phone', :value, now(), now())"
                ),
                {"id": number, "value": value},
            )
    migrations.upgrade(engine)
    with engine.connect() as connection:
        stored = connection.execute(text("SELECT value FROM channel_identity ORDER BY citizen_id")).scalars()
        assert list(stored) == list(rows.values())  # an old 11-digit number phonenumbers cannot read stays
    engine.dispose()
