"""The staff lists' filter form read from the query string by hand, so that a bad entry comes back as a
message next to its field with the typed text kept, on the same page, never as an error page.

Dates are days in the city's calendar: ``2026-11-28`` (what a date input sends) or ``28/11/2026``."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta

from fastapi import Request

from kernel.timeutil import city_tz
from sla.lists import DEFAULT_SORT, SORTS, URGENCY_RANK
from tickets.models import Channel, Status
from tickets.service import TicketFilter

MAX_TEXT = 200
MAX_PAGE = 100_000
DATE_FORMATS = ("%Y-%m-%d", "%d/%m/%Y", "%d-%m-%Y")
SINGLE = (
    "q",
    "category",
    "ward",
    "department",
    "channel",
    "created_from",
    "created_to",
    "sort",
    "page",
    "sla",
)


@dataclass
class ListForm:
    """What the person typed (``values``, to show again), what it means (``filters``), and what is wrong
    with it (``errors``: field → i18n key of the message)."""

    filters: TicketFilter
    values: dict[str, str]
    statuses: list[str]
    sort: str = DEFAULT_SORT
    page: int = 1
    urgency: str | None = None  # one SLA state only: breached, at_risk, on_track, paused, no_deadline
    errors: dict[str, str] = field(default_factory=dict)


def read_list_form(
    request: Request, *, known: dict[str, set[str]], allowed_statuses: set[str] | None = None
) -> ListForm:
    """``known`` holds the valid codes of "category", "ward" and "department"."""
    params = request.query_params
    values = {name: (params.get(name) or "").strip() for name in SINGLE}
    statuses = [s for s in params.getlist("status") if s]
    form = ListForm(TicketFilter(), values, statuses)
    allowed = allowed_statuses or {s.value for s in Status}
    if any(s not in allowed for s in statuses):
        form.errors["status"] = "bad_status"
    form.filters.status = [s for s in statuses if s in allowed] or sorted(allowed_statuses or [])
    _read_text(form)
    for kind in ("category", "ward", "department"):
        _read_code(form, kind, known[kind])
    _read_channel(form)
    start, until = _read_day(form, "created_from"), _read_day(form, "created_to")
    end = until + timedelta(days=1) if until else None  # "to" a day includes that whole day
    if start and end and start >= end:
        form.errors["created_to"] = "bad_date_order"
    form.filters.created_from, form.filters.created_to = start, end
    _read_sort_and_page(form)
    _read_urgency(form)
    return form


def _read_urgency(form: ListForm) -> None:
    value = form.values["sla"]
    if value and value not in URGENCY_RANK:
        form.errors["sla"] = "bad_sla"
    elif value:
        form.urgency = value


def _read_text(form: ListForm) -> None:
    text = form.values["q"]
    if len(text) > MAX_TEXT:
        form.errors["q"] = "q_too_long"
    elif text:
        form.filters.text = text


def _read_code(form: ListForm, kind: str, codes: set[str]) -> None:
    value = form.values[kind]
    if value and value not in codes:
        form.errors[kind] = f"bad_{kind}"
    elif value:
        setattr(form.filters, kind, value)


def _read_channel(form: ListForm) -> None:
    value = form.values["channel"]
    if value and value not in {c.value for c in Channel}:
        form.errors["channel"] = "bad_channel"
    elif value:
        form.filters.channel = value


def parse_day(text: str) -> date | None:
    for fmt in DATE_FORMATS:
        try:
            return datetime.strptime(text, fmt).date()
        except ValueError:
            continue
    return None


def _read_day(form: ListForm, name: str) -> datetime | None:
    text = form.values[name]
    if not text:
        return None
    day = parse_day(text)
    if day is None or not 2000 <= day.year <= 2100:
        form.errors[name] = "bad_date"
        return None
    return datetime.combine(day, time(0), tzinfo=city_tz())


def _read_sort_and_page(form: ListForm) -> None:
    sort = form.values["sort"]
    if sort and sort not in SORTS:
        form.errors["sort"] = "bad_sort"
    elif sort:
        form.sort = sort
    page = form.values["page"]
    if page and not (page.isdigit() and 1 <= int(page) <= MAX_PAGE):
        form.errors["page"] = "bad_page"
    elif page:
        form.page = int(page)
