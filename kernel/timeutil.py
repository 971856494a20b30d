"""Time helpers: everything is stored in UTC, shown in the city's time zone."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import DateTime
from sqlalchemy.engine import Dialect
from sqlalchemy.types import TypeDecorator

from kernel.city import timezone_name

# Vietnam's zone, for data Vietnamese by nature (the synthetic training corpus); the city's time is city_tz()
VN_TZ = ZoneInfo("Asia/Ho_Chi_Minh")


def city_tz() -> ZoneInfo:
    """The city's time zone: CIVICDESK_TIMEZONE, else the city profile's. Read on every call (ZoneInfo
    keeps one object per name), so a process configured for another city never shows Vietnam's clock."""
    return ZoneInfo(timezone_name())


def utcnow() -> datetime:
    return datetime.now(UTC)


def local_date(moment: datetime | None = None) -> date:
    """The city's calendar day at ``moment`` (now if None); a naive moment is taken to be UTC."""
    return as_utc(moment or utcnow()).astimezone(city_tz()).date()


def as_utc(moment: datetime) -> datetime:
    """An aware UTC time; a naive one is taken to be UTC already."""
    if moment.tzinfo is None:
        return moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC)


class UTCDateTime(TypeDecorator[datetime]):
    """Aware UTC datetimes in and out (``timestamptz``), whatever the session's time zone."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return as_utc(value)

    def process_result_value(self, value: Any, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return as_utc(value)
