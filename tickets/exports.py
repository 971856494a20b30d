"""A filtered ticket list as CSV or XLSX, bounded by what the person exporting may see."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from typing import Any

from openpyxl import Workbook
from sqlmodel import Session

from civicdesk.timeutil import VN_TZ
from tickets import service
from tickets.models import Ticket
from tickets.service import TicketFilter
from tickets.staff import User

COLUMNS = [
    ("code", "Mã phản ánh"),
    ("status", "Trạng thái"),
    ("title", "Tiêu đề"),
    ("category", "Lĩnh vực"),
    ("ward", "Phường/xã"),
    ("department", "Đơn vị xử lý"),
    ("channel", "Kênh"),
    ("priority", "Ưu tiên"),
    ("address", "Địa điểm"),
    ("created_at", "Tiếp nhận"),
    ("resolved_at", "Hoàn thành"),
    ("rating", "Đánh giá"),
]
PAGE = 200
MAX_ROWS = 100_000


FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def _cell(value: Any) -> Any:
    """Citizens write the titles: a leading '=' must stay text, not become a spreadsheet formula."""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


def _row(ticket: Ticket) -> list[Any]:
    def local(moment: Any) -> str:
        return moment.astimezone(VN_TZ).strftime("%Y-%m-%d %H:%M") if moment else ""

    return [
        _cell(v)
        for v in [
            ticket.code,
            ticket.status,
            ticket.title,
            ticket.category_code or "",
            ticket.ward_code or "",
            ticket.department_code or "",
            ticket.origin_channel,
            ticket.priority,
            ticket.address_text or "",
            local(ticket.created_at),
            local(ticket.resolved_at),
            ticket.rating or "",
        ]
    ]


def rows(session: Session, filters: TicketFilter, viewer: User) -> Iterator[list[Any]]:
    """Every matching ticket, page by page, so a large export does not load everything at once."""
    cursor: str | None = None
    sent = 0
    while sent < MAX_ROWS:
        page, cursor = service.list_tickets(session, filters, viewer=viewer, limit=PAGE, cursor=cursor)
        for ticket in page:
            yield _row(ticket)
            sent += 1
        if not cursor:
            return


def export_csv(session: Session, filters: TicketFilter, viewer: User) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow([label for _, label in COLUMNS])
    writer.writerows(rows(session, filters, viewer))
    return ("\ufeff" + out.getvalue()).encode()  # the BOM makes Excel read Vietnamese as UTF-8


def export_xlsx(session: Session, filters: TicketFilter, viewer: User) -> bytes:
    book = Workbook(write_only=True)
    sheet = book.create_sheet("Phản ánh")
    sheet.append([label for _, label in COLUMNS])
    for row in rows(session, filters, viewer):
        sheet.append(row)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()
