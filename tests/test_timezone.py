"""CIVICDESK_TIMEZONE (else the city profile's zone) is the city's clock everywhere: the SLA working day,
the public page's dates, exports, SMS quiet hours, the day a report's ward is looked up on, the IOC wall.
Each is run under America/New_York, whose day and office hours differ from Vietnam's."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.engine import Engine
from test_public_pages import file_report, ticket_by_token

from kernel import i18n
from kernel.settings import Settings, get_settings
from kernel.timeutil import city_tz, local_date
from notifications import service as notifications
from sla import exports
from sla.calendar import WorkingCalendar

NEW_YORK = ZoneInfo("America/New_York")


@pytest.fixture
def new_york(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setenv("CIVICDESK_TIMEZONE", "America/New_York")
    get_settings.cache_clear()
    yield
    monkeypatch.delenv("CIVICDESK_TIMEZONE")
    get_settings.cache_clear()


def test_the_shipped_zone_is_vietnams_until_a_setting_names_another(monkeypatch: pytest.MonkeyPatch) -> None:
    assert city_tz() == ZoneInfo("Asia/Ho_Chi_Minh")
    monkeypatch.setenv("CIVICDESK_TIMEZONE", "America/New_York")
    get_settings.cache_clear()
    assert city_tz() == NEW_YORK
    get_settings.cache_clear()


def test_an_unknown_zone_is_refused_by_name() -> None:
    with pytest.raises(ValueError, match="CIVICDESK_TIMEZONE: 'Mars/Olympus' is not an IANA time zone"):
        Settings(timezone="Mars/Olympus")


def test_the_sla_working_day_is_the_citys(new_york: None) -> None:
    # Monday 5 January 2026, 16:30 in New York (05:30 on Tuesday in Vietnam): one working hour is what is
    # left of Monday afternoon (30 min) and Tuesday from 07:00 (30 min)
    start = datetime(2026, 1, 5, 16, 30, tzinfo=NEW_YORK)
    assert WorkingCalendar().add(start, 60) == datetime(2026, 1, 6, 7, 30, tzinfo=NEW_YORK)


def test_the_local_day_and_the_sms_quiet_hours_are_the_citys(
    new_york: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    three_am_utc = datetime(2026, 11, 28, 3, 0, tzinfo=UTC)  # 22:00 on the 27th in New York
    assert local_date(three_am_utc).day == 27
    monkeypatch.setenv("CIVICDESK_SMS_QUIET_HOURS", "21:00-07:00")
    get_settings.cache_clear()
    assert notifications.quiet_until(three_am_utc) == datetime(2026, 11, 28, 7, 0, tzinfo=NEW_YORK)


def test_dates_shown_and_exported_are_in_the_citys_zone(new_york: None) -> None:
    moment = datetime(2026, 11, 28, 15, 30, tzinfo=UTC)  # 10:30 in New York, 22:30 in Vietnam
    assert "10:30" in i18n.local_datetime(moment, "vi")
    assert exports._local(moment) == datetime(2026, 11, 28, 10, 30)
    assert exports._iso(datetime(2026, 11, 28, 10, 30)) == "2026-11-28T10:30-05:00"


def test_the_public_status_page_writes_the_citys_time(
    client: TestClient, engine: Engine, new_york: None
) -> None:
    token = file_report(client, "Đèn đường trước chợ Phan Rang tắt cả tuần nay")
    received = ticket_by_token(engine, token).created_at.astimezone(NEW_YORK)
    page = client.get(f"/t/{token}").text
    assert received.strftime("%H:%M %d/%m/%Y") in page


def test_the_ioc_wall_clock_runs_in_the_citys_zone(client: TestClient, new_york: None) -> None:
    assert 'data-timezone="America/New_York"' in client.get("/ioc").text
