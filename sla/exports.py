"""A filtered ticket list as CSV or XLSX, bounded by what the person exporting may see, in the list's
order, with names (never codes), real dates in the city's time zone, the deadline and the SLA state.

The words (status, channel, priority, SLA state) come from the caller's translator, so the file is in
the language of the page it was asked from."""

from __future__ import annotations

import csv
import io
from collections.abc import Callable, Iterator
from datetime import datetime
from typing import Any, TypedDict, Unpack

from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.worksheet._write_only import WriteOnlyWorksheet
from sqlmodel import Session, select

from kernel.timeutil import city_tz
from sla.boards import WorkItem
from sla.lists import DEFAULT_SORT, every_item
from tickets.reference import Category, Department, Ward
from tickets.service import TicketFilter
from tickets.staff import User

Translate = Callable[[str], str]

COLUMNS = [
    "code",
    "status",
    "title",
    "category",
    "ward",
    "department",
    "channel",
    "priority",
    "address",
    "created",
    "deadline",
    "sla_state",
    "resolved_at",
    "rating",
]
XLSX_DATE_FORMAT = "dd/mm/yyyy hh:mm"
MAX_ROWS = 100_000
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def _cell(value: Any) -> Any:
    """Citizens write the titles: a leading '=' must stay text, not become a spreadsheet formula."""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


def _local(moment: datetime | None) -> datetime | None:
    """The city's wall-clock time, without a zone: what a spreadsheet date cell holds."""
    return moment.astimezone(city_tz()).replace(tzinfo=None) if moment else None


class Names:
    """Category, ward and department names by code in one language, read once per export."""

    def __init__(self, session: Session, language: str) -> None:
        self.language = language

        def name(row: Category | Department | Ward) -> str:
            english = getattr(row, "name_en", "") if language == "en" else ""
            return english or row.name_vi

        self.category = {c.code: name(c) for c in session.exec(select(Category)).all()}
        self.ward = {w.code: name(w) for w in session.exec(select(Ward)).all()}
        self.department = {d.code: name(d) for d in session.exec(select(Department)).all()}


def sla_label(item: WorkItem, t: Translate, language: str = "vi") -> str:
    if item.state is not None:
        return item.label(language)  # the one wording of sla.state, as on every page
    return t(f"u_{item.urgency}")


def _row(item: WorkItem, names: Names, t: Translate) -> list[Any]:
    ticket = item.ticket
    values = [
        ticket.code,
        t(f"st_{ticket.status}"),
        ticket.title,
        names.category.get(ticket.category_code or "", ticket.category_code or ""),
        names.ward.get(ticket.ward_code or "", ticket.ward_code or ""),
        names.department.get(ticket.department_code or "", ticket.department_code or ""),
        t(f"ch_{ticket.origin_channel}"),
        t(f"p_{ticket.priority}"),
        ticket.address_text or "",
        _local(ticket.created_at),
        _local(item.due_at),
        sla_label(item, t, names.language),
        _local(ticket.resolved_at),
        ticket.rating or "",
    ]
    return [_cell(v) for v in values]


class ListOrder(TypedDict, total=False):
    """How the list was shown: the page's language (for names), its sort and its urgency filter."""

    language: str  # "vi" when not given
    sort: str  # sla.lists.DEFAULT_SORT when not given
    urgency: str | None


def rows(
    session: Session, filters: TicketFilter, viewer: User, t: Translate, **order: Unpack[ListOrder]
) -> Iterator[list[Any]]:
    """The headings, then one row a ticket, in the list's order (at most MAX_ROWS)."""
    yield [t(f"col_{c}") for c in COLUMNS]
    names = Names(session, order.get("language", "vi"))
    sort, urgency = order.get("sort", DEFAULT_SORT), order.get("urgency")
    for item in every_item(session, filters, viewer=viewer, sort=sort, urgency=urgency, limit=MAX_ROWS):
        yield _row(item, names, t)


def export_csv(
    session: Session, filters: TicketFilter, viewer: User, t: Translate, **order: Unpack[ListOrder]
) -> bytes:
    """Dates as ISO 8601 in the city's time (2026-11-28T15:30+07:00): unambiguous for any program."""
    out = io.StringIO()
    writer = csv.writer(out)
    for row in rows(session, filters, viewer, t, **order):
        writer.writerow([_iso(v) if isinstance(v, datetime) else v for v in row])
    return ("\ufeff" + out.getvalue()).encode()  # the BOM makes Excel read Vietnamese as UTF-8


def _iso(local: datetime) -> str:
    return local.replace(tzinfo=city_tz()).isoformat(timespec="minutes")


def export_xlsx(
    session: Session, filters: TicketFilter, viewer: User, t: Translate, **order: Unpack[ListOrder]
) -> bytes:
    """Dates as real date cells (the city's time), so they sort and filter as dates."""
    book = Workbook(write_only=True)
    sheet = book.create_sheet("Phản ánh")
    for row in rows(session, filters, viewer, t, **order):
        sheet.append([_xlsx_cell(sheet, v) for v in row])
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def _xlsx_cell(sheet: WriteOnlyWorksheet, value: Any) -> Any:
    if not isinstance(value, datetime):
        return value
    cell = WriteOnlyCell(sheet, value=value)
    cell.number_format = XLSX_DATE_FORMAT
    return cell
