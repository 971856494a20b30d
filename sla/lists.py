"""The staff lists (the worklist and the filtered ticket list, and their exports): one query that
filters, sorts and pages tickets with their SLA state, counted, so every list shows the same truth."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Select, case, func, nulls_last, true
from sqlalchemy import select as sa_select
from sqlmodel import Session, col, select
from sqlmodel.sql.expression import SelectOfScalar

from kernel.timeutil import utcnow
from sla.boards import WorkItem, overdue_first, urgency_expression, with_current_clocks, work_item
from sla.models import SlaClock
from sla.state import OPEN_URGENCIES, current_resolution_clock, urgency_rank_sql
from tickets.models import OPEN_STATUS_ORDER, OPEN_STATUSES, Priority, Ticket
from tickets.search import prefer_index_walks
from tickets.service import TicketFilter, filter_conditions
from tickets.staff import User

URGENCY_RANK = {name: rank for rank, name in enumerate(OPEN_URGENCIES)}  # breached 0 … no_deadline 4
PRIORITY_RANK = {Priority.URGENT: 0, Priority.HIGH: 1, Priority.NORMAL: 2, Priority.LOW: 3}
# a sort is a column name, "-" in front for the other way; "urgency" is breached → at risk → on time
SORTS = (
    "urgency",
    "due",
    "-due",
    "priority",
    "-priority",
    "created",
    "-created",
    "status",
    "-status",
    "code",
)
DEFAULT_SORT = "urgency"
PER_PAGE = 50
# past this many matches (the planner's estimate) a list is not counted, and its total says "about":
# counting 36,000 matches of a common word costs PostgreSQL 100–450 ms at a million tickets
ESTIMATE_OVER = 2_000
OVERDUE_PAGE = 3 * PER_PAGE + 1  # deeper pages are sorted, not read from the longest overdue down


@dataclass(frozen=True)
class ListPage:
    items: list[WorkItem]
    total: int
    page: int
    per_page: int
    estimated: bool = False  # ``total`` is the planner's estimate ("about …"), not a count
    more: bool = False  # (estimated lists) a next page exists

    @property
    def first(self) -> int:
        return min((self.page - 1) * self.per_page + 1, self.total)

    @property
    def last(self) -> int:
        return min(self.page * self.per_page, self.total)

    @property
    def pages(self) -> int:
        if self.estimated:
            return self.page + 1 if self.more else self.page
        return max(1, -(-self.total // self.per_page))


def _order(sort: str, now: datetime) -> list[Any]:
    """The ORDER BY of a sort; only the chosen sort's expressions are built (building every sort's
    CASEs for each page cost ~0.8 ms of CPU)."""
    due = col(SlaClock.due_at)
    key = sort.lstrip("-") if sort in SORTS else DEFAULT_SORT
    descending = sort.startswith("-") and sort in SORTS
    keys: list[Any]
    if key == "urgency":
        rank = case(
            (col(Ticket.status).in_(OPEN_STATUS_ORDER), urgency_rank_sql(now)), else_=len(URGENCY_RANK)
        )
        keys = [rank, nulls_last(due.asc())]
    elif key == "due":
        keys = [nulls_last(due.desc() if descending else due.asc())]
    elif key == "priority":
        priority = case(*((col(Ticket.priority) == p.value, r) for p, r in PRIORITY_RANK.items()), else_=9)
        keys = [priority.desc() if descending else priority, nulls_last(due.asc())]
    elif key in ("created", "code"):
        column = col(Ticket.created_at) if key == "created" else col(Ticket.code)
        keys = [column.desc() if descending else column.asc()]
    else:  # status
        keys = [col(Ticket.status).desc() if descending else col(Ticket.status).asc(), nulls_last(due.asc())]
    return [*keys, col(Ticket.created_at).asc(), col(Ticket.id).asc()]


def _conditions(filters: TicketFilter, viewer: User, urgency: str | None, now: datetime) -> list[Any]:
    conditions = filter_conditions(filters, viewer=viewer)
    if urgency:
        conditions += [col(Ticket.status).in_(OPEN_STATUS_ORDER), urgency_expression(now) == urgency]
    return conditions


def staff_list(
    session: Session,
    filters: TicketFilter,
    *,
    viewer: User,
    sort: str = DEFAULT_SORT,
    page: int = 1,
    per_page: int = PER_PAGE,
    urgency: str | None = None,
    now: datetime | None = None,
) -> ListPage:
    """One page of the tickets matching ``filters`` (and, if given, in one SLA state: "breached"…) that
    the viewer may see, sorted, with the total.

    A list the planner expects to hold more than ``ESTIMATE_OVER`` tickets is neither counted nor
    sorted whole: its total is the planner's estimate, shown as "about …", and its page in urgency
    order is read open tickets first, done ones only when the page reaches them (``_estimated_page``)."""
    now = now or utcnow()
    conditions = _conditions(filters, viewer, urgency, now)
    prefer_index_walks(session)
    estimate = _estimated_rows(session, select(Ticket.id).where(*conditions)) if not urgency else 0
    if estimate > ESTIMATE_OVER and sort == DEFAULT_SORT:
        read = _estimated_page(session, filters, conditions, estimate, page, per_page, now)
        if read.items or page == 1:
            return read  # past the end (an old link): counted below, to show the last page

    # the sort runs over narrow rows (ids and sort keys), then only one page of whole tickets is read;
    # the total is counted by the same pass (a window over the matches, before the page is cut): counting
    # first read every match twice (a ward and a word: two 50 ms bitmap scans at a million tickets)
    def one_page(page: int) -> list[Any]:
        ordered = (
            select(Ticket.id, func.count().over())
            .outerjoin(SlaClock, current_resolution_clock())
            .where(*conditions)
            .order_by(*_order(sort, now))
            .offset((page - 1) * per_page)
            .limit(per_page)
        )
        return list(session.exec(ordered).all())

    rows = one_page(max(1, page))
    if rows:
        return _page(session, [i for i, _ in rows], rows[0][1], max(1, page), per_page, now)
    counted = select(func.count()).select_from(Ticket)
    if urgency:
        counted = counted.outerjoin(SlaClock, current_resolution_clock())
    total = session.exec(counted.where(*conditions)).one()
    page = max(1, min(page, -(-total // per_page)))  # past the end (the list shrank): the last page
    rows = one_page(page) if total else []
    return _page(session, [i for i, _ in rows], total, page, per_page, now)


def _page(
    session: Session,
    ids: Sequence[int | None],
    total: int,
    page: int,
    per_page: int,
    now: datetime,
    **more: bool,
) -> ListPage:
    page_rows = with_current_clocks(session, ids)
    items = [work_item(ticket, clock, now) for ticket, clock in page_rows]
    return ListPage(items, total, page, per_page, **more)


def _estimated_rows(session: Session, query: Select[Any]) -> int:
    """The planner's estimate of the rows ``query`` returns (EXPLAIN, no execution: a fraction of a ms)."""
    connection = session.connection()
    compiled = query.compile(dialect=connection.dialect, compile_kwargs={"render_postcompile": True})
    plan = connection.exec_driver_sql(f"EXPLAIN (FORMAT JSON) {compiled}", compiled.params).scalar_one()
    return int(plan[0]["Plan"]["Plan Rows"])


def _estimated_page(
    session: Session,
    filters: TicketFilter,
    conditions: list[Any],
    estimate: int,
    page: int,
    per_page: int,
    now: datetime,
) -> ListPage:
    """A page of a long list in urgency order, read in two parts: the open tickets, sorted by urgency
    (few: ``ix_ticket_open_ward`` and ``ix_ticket_open_search_trgm`` find them without the closed
    ones), then, only when the page reaches past them, the done tickets, oldest first, walked along
    an index. Urgency ranks every open ticket before every done one, and a done ticket's clocks are
    stopped with their due time cleared (``sla.service._stop``), so the order is the single sort's.
    One row more than the page is read to know whether a next page exists."""
    page = max(1, page)
    offset, wanted = (page - 1) * per_page, page * per_page + 1
    open_, done = _status_parts(filters)
    ids: list[int | None] = []
    if open_:
        # a ward's tickets are of one period (a current ward's all recent, so none among the longest
        # overdue: the walk would find nothing); its open tickets are sorted from its own index
        walk = wanted <= OVERDUE_PAGE and filters.ward is None
        overdue = overdue_first(session, conditions, now, wanted) if walk else None
        if overdue is not None:
            ids = overdue[offset:]
        else:
            ids = list(session.exec(_open_by_urgency(conditions, now).offset(offset).limit(wanted - offset)))
    if done and len(ids) < wanted - offset:
        open_count = 0 if not open_ else offset + len(ids) if ids else _open_count(session, conditions)
        ids += session.exec(
            select(Ticket.id)
            .where(*conditions, col(Ticket.status).not_in(OPEN_STATUS_ORDER))
            .order_by(col(Ticket.created_at).asc(), col(Ticket.id).asc())
            .offset(max(0, offset - open_count))
            .limit(wanted - offset - len(ids))
        ).all()
    shown, more = ids[:per_page], len(ids) > per_page
    if not more:  # the end of the list was read: the total is known
        return _page(session, shown, offset + len(shown), page, per_page, now)
    total = max(estimate, offset + len(ids))
    return _page(session, shown, total, page, per_page, now, estimated=True, more=True)


def _open_by_urgency(conditions: list[Any], now: datetime) -> SelectOfScalar[Any]:
    """The open matches in urgency order, each with its current clock looked up by
    ``ix_sla_clock_current`` (a LATERAL subquery): joined as a table, PostgreSQL read all 137,000
    current clocks to hash-join them with a ward's 2,000 open tickets. The order is ``_order``'s
    "urgency" for open tickets, written on the subquery's columns (adapting ``_order``'s expressions
    to them cost ~3 ms of CPU a page)."""
    keys = [
        col(SlaClock.id),
        col(SlaClock.state),
        col(SlaClock.due_at),
        col(SlaClock.warn_at),
        col(SlaClock.warned),
        col(SlaClock.breached_at),
    ]
    clock = sa_select(*keys).where(current_resolution_clock()).limit(1).lateral("current_clock")
    return (
        select(Ticket.id)
        .outerjoin(clock, true())
        .where(*conditions, col(Ticket.status).in_(OPEN_STATUS_ORDER))
        .order_by(
            urgency_rank_sql(now, clock.c),
            nulls_last(clock.c.due_at.asc()),
            col(Ticket.created_at).asc(),
            col(Ticket.id).asc(),
        )
    )


def _status_parts(filters: TicketFilter) -> tuple[bool, bool]:
    """Whether the status filter lets open tickets, and done ones, into the list (a part it rules out
    is not read: its walk would find nothing after reading everything)."""
    statuses = set(filters.status)
    if not statuses:
        return True, True
    return bool(statuses & OPEN_STATUSES), bool(statuses - OPEN_STATUSES)


def _open_count(session: Session, conditions: list[Any]) -> int:
    counted = select(func.count()).select_from(Ticket)
    return session.exec(counted.where(*conditions, col(Ticket.status).in_(OPEN_STATUS_ORDER))).one()


def every_item(
    session: Session,
    filters: TicketFilter,
    *,
    viewer: User,
    sort: str = DEFAULT_SORT,
    urgency: str | None = None,
    limit: int = 100_000,
) -> Iterator[WorkItem]:
    """The whole list in the page's order (for the exports): one sort, streamed from a server-side
    cursor a few hundred rows at a time, so a large export neither re-sorts per page nor loads at once."""
    now = utcnow()
    query = (
        select(Ticket, SlaClock)
        .outerjoin(SlaClock, current_resolution_clock())
        .where(*_conditions(filters, viewer, urgency, now))
        .order_by(*_order(sort, now))
        .limit(limit)
        .execution_options(yield_per=500)
    )
    for ticket, clock in session.exec(query):
        yield work_item(ticket, clock, now)
