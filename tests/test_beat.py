"""One way for a domain to put work on the beat: its tasks module's ``beat_schedule()``, called when the
beat is set up (so an interval that is a setting is read then, not when the module is imported)."""

from __future__ import annotations

import importlib
from datetime import timedelta

import pytest

from civicdesk.celery_app import TASK_MODULES, _beat_schedule, celery_app
from kernel.settings import get_settings


def test_every_beat_entry_comes_from_a_beat_schedule_function_and_names_a_real_task() -> None:
    modules = [importlib.import_module(name) for name in TASK_MODULES]
    assert [m.__name__ for m in modules if hasattr(m, "BEAT_SCHEDULE")] == []  # the old constant is gone
    schedule = _beat_schedule()
    assert {
        "triage-sweep",
        "retrain-category-model",
        "sla-scan",
        "channels-sweep",
        "ioc-pull",
        "incidents-scan",
        "close-undisputed-resolutions",
        "heartbeat",
        "purge-live-events",
    } <= set(schedule)
    assert sorted(e["task"] for e in schedule.values() if e["task"] not in celery_app.tasks) == []


def test_intervals_that_are_settings_are_read_when_the_beat_is_set_up(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("CIVICDESK_SLA_SCAN_SECONDS", "45")
    monkeypatch.setenv("CIVICDESK_BEAT_HEARTBEAT_SECONDS", "17")
    get_settings.cache_clear()
    try:
        schedule = _beat_schedule()
    finally:
        monkeypatch.undo()
        get_settings.cache_clear()
    assert schedule["sla-scan"]["schedule"] == timedelta(seconds=45)
    assert (schedule["heartbeat"]["schedule"], schedule["heartbeat"]["options"]) == (17, {"expires": 51})
