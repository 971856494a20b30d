"""Working time in Vietnamese public administration: office hours on working days, public holidays and the
government's swapped days off with their make-up working Saturdays from the `holidays` package (lunar Tết
and Giỗ Tổ included), and the days off and make-up days administrators add as exceptions, which win."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from functools import cache

import holidays

from kernel.errors import Invalid
from kernel.timeutil import as_utc, city_tz

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
MAX_DAYS_AHEAD = 3660  # a target never reaches ten years; past that the calendar is misconfigured


def parse_office_hours(text: str) -> tuple[tuple[time, time], ...]:
    """'07:00-11:30,13:30-17:00' → ((07:00, 11:30), (13:30, 17:00)), checked for order."""
    spans = []
    for part in text.split(","):
        try:
            start, end = (time.fromisoformat(value.strip()) for value in part.split("-"))
        except ValueError as exc:
            raise Invalid(f"office hours '{part}' must look like 07:00-11:30") from exc
        spans.append((start, end))
    for (start, end), following in zip(spans, [*spans[1:], None], strict=True):
        if start >= end or (following and end > following[0]):
            raise Invalid(f"office hours must be ordered, non-overlapping spans: '{text}'")
    return tuple(spans)


def parse_weekdays(text: str) -> frozenset[int]:
    names = [name.strip().lower()[:3] for name in text.split(",") if name.strip()]
    unknown = [name for name in names if name not in WEEKDAYS]
    if unknown or not names:
        raise Invalid(f"working weekdays must be names from {list(WEEKDAYS)}, not {text!r}")
    return frozenset(WEEKDAYS.index(name) for name in names)


@cache
def _vietnamese_calendar(year: int) -> tuple[frozenset[date], frozenset[date]]:
    """The year's public holidays and make-up working weekend days, as the `holidays` package knows them."""
    known = holidays.country_holidays("VN", years=year)
    # weekend_workdays also holds swaps of neighbouring years; keep this year's, so each year answers alone
    make_up_days = frozenset(day for day in known.weekend_workdays if day.year == year)
    return frozenset(known), make_up_days


def _is_public_holiday(day: date) -> bool:
    return day in _vietnamese_calendar(day.year)[0]


def _is_make_up_working_day(day: date) -> bool:
    return day in _vietnamese_calendar(day.year)[1]


@dataclass(frozen=True)
class WorkingCalendar:
    office_hours: tuple[tuple[time, time], ...] = ((time(7), time(11, 30)), (time(13, 30), time(17)))
    weekdays: frozenset[int] = frozenset(range(5))
    extra_days_off: frozenset[date] = field(default_factory=frozenset)
    extra_working_days: frozenset[date] = field(default_factory=frozenset)

    def __post_init__(self) -> None:
        # checked here, not left to add(): the package's make-up Saturdays give such a calendar a few days
        if not self.weekdays:
            raise Invalid("the working calendar needs at least one working weekday")

    @property
    def minutes_per_day(self) -> int:
        return sum(_minutes(start, end) for start, end in self.office_hours)

    def is_working_day(self, day: date) -> bool:
        if day in self.extra_working_days:
            return True
        if day in self.extra_days_off or _is_public_holiday(day):
            return False
        return day.weekday() in self.weekdays or _is_make_up_working_day(day)

    def _spans(self, day: date) -> Iterator[tuple[datetime, datetime]]:
        if self.is_working_day(day):
            for start, end in self.office_hours:
                yield datetime.combine(day, start, city_tz()), datetime.combine(day, end, city_tz())

    def add(self, start: datetime, minutes: float) -> datetime:
        """The moment when ``minutes`` of working time have passed since ``start``."""
        remaining = timedelta(minutes=max(minutes, 0))
        cursor = as_utc(start).astimezone(city_tz())
        day = cursor.date()
        for _ in range(MAX_DAYS_AHEAD):
            for span_start, span_end in self._spans(day):
                if cursor >= span_end:
                    continue
                begin = max(cursor, span_start)
                if remaining <= span_end - begin:
                    return as_utc(begin + remaining)
                remaining -= span_end - begin
            day += timedelta(days=1)
            cursor = datetime.combine(day, time(0), city_tz())
        raise Invalid("the working calendar has no working time in the next ten years; check its settings")

    def minutes_between(self, start: datetime, end: datetime) -> float:
        """Working minutes from ``start`` to ``end`` (zero when end is not after start)."""
        begin, finish = as_utc(start).astimezone(city_tz()), as_utc(end).astimezone(city_tz())
        total = timedelta()
        day = begin.date()
        while day <= finish.date():
            for span_start, span_end in self._spans(day):
                overlap = min(span_end, finish) - max(span_start, begin)
                if overlap > timedelta():
                    total += overlap
            day += timedelta(days=1)
        return total.total_seconds() / 60

    def working_days(self, first: date, last: date) -> Iterable[date]:
        day = first
        while day <= last:
            if self.is_working_day(day):
                yield day
            day += timedelta(days=1)


def _minutes(start: time, end: time) -> int:
    return (end.hour * 60 + end.minute) - (start.hour * 60 + start.minute)
