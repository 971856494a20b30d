"""Working-time arithmetic on the Vietnamese calendar: office hours, lunch, weekends, lunar and fixed
holidays, administrators' days off and make-up Saturdays."""

from __future__ import annotations

import random
from datetime import date, datetime, time, timedelta

import pytest

from kernel.errors import Invalid
from kernel.timeutil import city_tz
from sla.calendar import WorkingCalendar, parse_office_hours, parse_weekdays

CAL = WorkingCalendar()


def local(*args: int) -> datetime:
    return datetime(*args, tzinfo=city_tz())  # type: ignore[misc]


def hours(n: float) -> float:
    return n * 60


@pytest.mark.parametrize(
    ("start", "minutes", "due"),
    [
        # inside the morning
        (local(2026, 11, 23, 8, 0), hours(1), local(2026, 11, 23, 9, 0)),
        # across the lunch break: 30 minutes before it, 30 after
        (local(2026, 11, 23, 11, 0), hours(1), local(2026, 11, 23, 14, 0)),
        # received at lunch: the clock starts at 13:30
        (local(2026, 11, 23, 12, 15), hours(1), local(2026, 11, 23, 14, 30)),
        # Friday afternoon to Monday morning
        (local(2026, 11, 27, 16, 0), hours(2), local(2026, 11, 30, 8, 0)),
        # received on Sunday night: Monday 07:00 + 4 h = 11:00
        (local(2026, 11, 29, 22, 0), hours(4), local(2026, 11, 30, 11, 0)),
        # Tết 2027 (6 February): the days off run from 4 to 10 February
        (local(2027, 2, 3, 16, 0), hours(2), local(2027, 2, 11, 8, 0)),
        # 30/4 Friday, 1/5 Saturday observed on Monday 3/5
        (local(2027, 4, 29, 16, 30), hours(1), local(2027, 5, 4, 7, 30)),
        # National Day 2/9 and 3/9 (Thursday, Friday) in 2027: one working day from Wednesday evening
        (local(2027, 9, 1, 17, 0), 480, local(2027, 9, 6, 17, 0)),
    ],
)
def test_due_times(start: datetime, minutes: float, due: datetime) -> None:
    assert CAL.add(start, minutes) == due


def test_an_admin_day_off_and_a_make_up_saturday() -> None:
    monday, saturday = date(2026, 11, 30), date(2026, 12, 5)
    swapped = WorkingCalendar(extra_days_off=frozenset({monday}), extra_working_days=frozenset({saturday}))
    assert not swapped.is_working_day(monday) and swapped.is_working_day(saturday)
    # Friday 16:00 + 2 h skips the day off: Tuesday 08:00
    assert swapped.add(local(2026, 11, 27, 16, 0), hours(2)) == local(2026, 12, 1, 8, 0)
    # Friday 16:00 of the next week + 2 h lands on the make-up Saturday
    assert swapped.add(local(2026, 12, 4, 16, 0), hours(2)) == local(2026, 12, 5, 8, 0)
    assert CAL.add(local(2026, 12, 4, 16, 0), hours(2)) == local(2026, 12, 7, 8, 0)


def test_days_count_whole_office_days() -> None:
    assert CAL.minutes_per_day == 480
    # five working days from Wednesday 10:00 is the next Wednesday 10:00
    assert CAL.add(local(2026, 11, 25, 10, 0), 5 * 480) == local(2026, 12, 2, 10, 0)


def test_measuring_undoes_adding() -> None:
    rng = random.Random(2027)
    for _ in range(300):
        start = local(2027, 1, 1) + timedelta(minutes=rng.randrange(0, 400 * 24 * 60))
        minutes = rng.randrange(1, 30 * 480)
        due = CAL.add(start, minutes)
        assert CAL.minutes_between(start, due) == pytest.approx(minutes)
        assert due > start


def test_nothing_counts_outside_office_hours() -> None:
    assert CAL.minutes_between(local(2026, 11, 28, 8), local(2026, 11, 29, 20)) == 0  # a weekend
    assert CAL.minutes_between(local(2026, 11, 23, 11, 30), local(2026, 11, 23, 13, 30)) == 0  # lunch
    assert CAL.minutes_between(local(2026, 11, 23, 9), local(2026, 11, 23, 8)) == 0


def test_the_2026_holidays_the_package_knows() -> None:
    off = [
        d
        for d in (date(2026, 1, 1) + timedelta(days=n) for n in range(365))
        if d.weekday() < 5 and not CAL.is_working_day(d)
    ]
    assert date(2026, 2, 17) in off and date(2026, 4, 30) in off and date(2026, 9, 2) in off
    assert date(2026, 4, 27) in off  # Giỗ Tổ fell on a Sunday and is observed on Monday


def test_configuration_is_checked() -> None:
    assert parse_office_hours("08:00-12:00,13:00-17:00") == ((time(8), time(12)), (time(13), time(17)))
    assert parse_weekdays("Mon,Tue,Sat") == frozenset({0, 1, 5})
    for bad in ("08:00-07:00", "08:00-12:00,11:00-17:00", "8am-5pm"):
        with pytest.raises(Invalid):
            parse_office_hours(bad)
    with pytest.raises(Invalid):
        parse_weekdays("monday,funday")
    with pytest.raises(Invalid):
        WorkingCalendar(weekdays=frozenset())
    with pytest.raises(Invalid):
        WorkingCalendar(office_hours=()).add(local(2026, 1, 5), 60)


def test_working_time_properties_hold_under_random_swaps() -> None:
    """Property-style: for random calendars (random days off and make-up Saturdays around Tết 2027) and
    random starts, the due time lies in office hours of a working day, measures back to the target,
    grows with the target, and adding in two steps is adding once."""
    rng = random.Random(4)
    base = date(2027, 1, 15)
    for _ in range(40):
        days = [base + timedelta(days=rng.randrange(0, 60)) for _ in range(6)]
        cal = WorkingCalendar(
            extra_days_off=frozenset(d for d in days[:3] if d.weekday() < 5),
            extra_working_days=frozenset(d for d in days[3:] if d.weekday() == 5),
        )
        start = local(2027, 1, 15) + timedelta(minutes=rng.randrange(0, 50 * 24 * 60))
        first, second = rng.randrange(1, 5 * 480), rng.randrange(1, 5 * 480)
        due = cal.add(start, first)
        local_due = due.astimezone(city_tz())
        assert cal.is_working_day(local_due.date())
        assert any(a < local_due.time() <= b for a, b in cal.office_hours)
        assert cal.minutes_between(start, due) == pytest.approx(first)
        assert cal.add(start, first + second) > due
        assert cal.add(due, second) == cal.add(start, first + second)
        for day in cal.extra_days_off:
            assert not cal.is_working_day(day)
        for day in cal.extra_working_days:
            assert cal.is_working_day(day)


def test_a_make_up_saturday_during_tet_counts_and_a_tet_day_does_not() -> None:
    tet = date(2027, 2, 6)  # a Saturday, and Tết: a make-up working day on it wins over the holiday
    assert not CAL.is_working_day(tet)
    swapped = WorkingCalendar(extra_working_days=frozenset({tet}))
    assert swapped.is_working_day(tet)
    # from Wednesday 3 February 16:00, two hours: one on the 3rd, then 07:00 + 1 h on Saturday the 6th
    assert swapped.add(local(2027, 2, 3, 16, 0), hours(2)) == local(2027, 2, 6, 8, 0)


# --- the government's make-up working Saturdays, as the `holidays` package knows them -----------------

# (make-up Saturday, the weekday it was swapped for): 30/4–1/5 in 2024 and 2025, National Day in 2026
PACKAGE_SWAPS = [
    (date(2024, 5, 4), date(2024, 4, 29)),
    (date(2025, 4, 26), date(2025, 5, 2)),
    (date(2026, 8, 22), date(2026, 8, 31)),
]


@pytest.mark.parametrize(("saturday", "day_off"), PACKAGE_SWAPS)
def test_a_make_up_saturday_the_package_knows_is_a_working_day(saturday: date, day_off: date) -> None:
    assert saturday.weekday() == 5
    assert CAL.is_working_day(saturday)
    assert not CAL.is_working_day(day_off)


def test_the_package_make_up_saturdays_are_the_only_weekend_working_days_of_2024_to_2026() -> None:
    weekend_working = [
        d for d in CAL.working_days(date(2024, 1, 1), date(2026, 12, 31)) if d.weekday() not in CAL.weekdays
    ]
    assert weekend_working == [saturday for saturday, _ in PACKAGE_SWAPS]


def test_two_working_days_from_friday_21_august_2026_end_on_monday() -> None:
    # Friday 10:00 → Saturday 22 (a working day) → Monday 24 10:00, not Tuesday
    assert CAL.add(local(2026, 8, 21, 10, 0), 2 * 480) == local(2026, 8, 24, 10, 0)
    # the Saturday keeps weekday office hours, lunch break included
    assert CAL.add(local(2026, 8, 21, 16, 0), hours(2)) == local(2026, 8, 22, 8, 0)
    assert CAL.add(local(2026, 8, 22, 11, 0), hours(1)) == local(2026, 8, 22, 14, 0)
    assert CAL.minutes_between(local(2026, 8, 21, 17, 0), local(2026, 8, 24, 7, 0)) == 480
    # and the swapped Monday 31 August joins National Day (1–2 September): Friday 28 16:00 + 2 h is Thursday
    assert CAL.add(local(2026, 8, 28, 16, 0), hours(2)) == local(2026, 9, 3, 8, 0)


def test_an_administrators_make_up_saturday_counts_beside_the_packages() -> None:
    saturday = date(2026, 8, 29)
    cal = WorkingCalendar(extra_working_days=frozenset({saturday}))
    assert cal.is_working_day(saturday) and not CAL.is_working_day(saturday)
    assert cal.is_working_day(date(2026, 8, 22))
    # Friday 28 16:00 + 2 h now lands on the administrator's Saturday
    assert cal.add(local(2026, 8, 28, 16, 0), hours(2)) == local(2026, 8, 29, 8, 0)


def test_an_administrators_day_off_on_a_package_make_up_saturday_wins() -> None:
    saturday = date(2026, 8, 22)
    cal = WorkingCalendar(extra_days_off=frozenset({saturday}))
    assert not cal.is_working_day(saturday)
    assert cal.add(local(2026, 8, 21, 10, 0), 2 * 480) == local(2026, 8, 25, 10, 0)
