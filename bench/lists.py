"""The staff lists on many tickets: one page of `sla.lists.staff_list` (filter, SLA join, sort, count)
as the worklist and the ticket list ask for it, breached first by default, and the other sorts, a deep page,
a search, a department's open work. The tickets are made inside PostgreSQL as in `bench/search.py`; each
gets a running resolution clock (a fifth of them already past due, a tenth at risk) and one of eight
departments.

    .venv/bin/python bench/lists.py [--server postgresql+psycopg://postgres@127.0.0.1:5432/postgres]
        [--tickets 200000]

The database is created for the run and dropped afterwards.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
import uuid
from pathlib import Path

from sqlalchemy import text
from sqlalchemy.engine import Engine, make_url

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.report import write_section  # noqa: E402
from bench.search import fill  # noqa: E402
from civicdesk import wiring  # noqa: E402
from kernel import migrations  # noqa: E402
from kernel.db import make_engine, unit_of_work  # noqa: E402
from sla.lists import staff_list  # noqa: E402
from tickets.models import OPEN_STATUSES  # noqa: E402
from tickets.reference import seed_reference  # noqa: E402
from tickets.service import TicketFilter  # noqa: E402
from tickets.staff import Role, User  # noqa: E402

RUNS = 5
CLOCKS = """
INSERT INTO sla_clock (ticket_id, kind, cycle, state, target_minutes, consumed_minutes, started_at,
    segment_started_at, due_at, warn_at, warned)
SELECT id, 'resolution', 1, 'running', 7200, 0, created_at, created_at,
    CASE WHEN id % 5 = 0 THEN now() - (id % 90) * interval '1 hour'
        ELSE now() + (id % 200) * interval '1 hour' END,
    CASE WHEN id % 10 = 1 THEN now() - interval '1 hour' ELSE now() + (id % 150) * interval '1 hour' END,
    false
FROM ticket
"""
DEPARTMENTS = """
UPDATE ticket SET department_code = d.code
FROM (SELECT code, row_number() OVER (ORDER BY code) - 1 AS n FROM department LIMIT 8) AS d
WHERE ticket.id % 8 = d.n
"""
SUPERVISOR = User(username="bench", password_hash="", role=Role.SUPERVISOR)


def _department(engine: Engine) -> User:
    with engine.connect() as conn:
        code = conn.execute(text("SELECT department_code FROM ticket WHERE id = 8")).scalar_one()
    return User(username="bench-dept", password_hash="", role=Role.DEPARTMENT_STAFF, department_code=code)


def cases(engine: Engine) -> list[tuple[str, User, TicketFilter, str, int]]:
    department = _department(engine)
    every_open = TicketFilter(status=sorted(s.value for s in OPEN_STATUSES))
    return [
        ("everything, breached first (default)", SUPERVISOR, TicketFilter(), "urgency", 1),
        ("everything, newest first", SUPERVISOR, TicketFilter(), "-created", 1),
        ("everything, by priority", SUPERVISOR, TicketFilter(), "priority", 1),
        ("everything, page 200", SUPERVISOR, TicketFilter(), "urgency", 200),
        ("search 'den duong', breached first", SUPERVISOR, TicketFilter(text="den duong"), "urgency", 1),
        ("search rare words", SUPERVISOR, TicketFilter(text="ngựa vằn"), "urgency", 1),
        ("one department's open work (worklist)", department, every_open, "urgency", 1),
    ]


def measure(engine: Engine) -> list[tuple[str, int, float, float]]:
    rows = []
    for label, viewer, filters, sort, page in cases(engine):
        times, total = [], 0
        for _ in range(RUNS):
            started = time.perf_counter()
            with unit_of_work(engine) as session:
                result = staff_list(session, filters, viewer=viewer, sort=sort, page=page)
                total = result.total
            times.append(time.perf_counter() - started)
        rows.append((label, total, statistics.median(times), max(times)))
        print(f"  {label:42} {statistics.median(times) * 1000:8.1f} ms  ({total:,})", flush=True)
    return rows


def report(tickets: int, rows: list[tuple[str, int, float, float]]) -> None:
    table = "\n".join(
        f"| {label} | {total:,} | {median * 1000:.0f} ms | {worst * 1000:.0f} ms |"
        for label, total, median, worst in rows
    )
    write_section(
        "lists",
        f"Staff lists on {tickets:,} tickets (filter, SLA join, sort, count, one page of 50)",
        f"""`bench/lists.py`: {tickets:,} tickets generated inside PostgreSQL as in `bench/search.py`, each
with a running resolution clock (a fifth past due, a tenth at risk), spread over eight departments.
Each figure is one call of `sla.lists.staff_list` (the count and the page), {RUNS} runs, on a machine shared
with other test runs (noisy). The sort over the ticket–clock outer join dominates; it sorts ids and sort
keys only and then reads one page of tickets (a deep page took 4.3 s when whole rows were sorted).

| list | matching | median | worst |
|---|---|---|---|
{table}
""",
    )


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--server", default="postgresql+psycopg://postgres@127.0.0.1:5432/postgres")
    parser.add_argument("--tickets", type=int, default=200_000)
    args = parser.parse_args()
    wiring.install()
    server = make_engine(args.server).execution_options(isolation_level="AUTOCOMMIT")
    name = f"civicdesk_bench_{uuid.uuid4().hex[:8]}"
    with server.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    engine = make_engine(make_url(args.server).set(database=name).render_as_string(hide_password=False))
    try:
        migrations.upgrade(engine)
        with unit_of_work(engine) as session:
            seed_reference(session)
        print(f"filling {args.tickets:,} tickets …", flush=True)
        fill(engine, args.tickets)
        with engine.begin() as conn:
            conn.execute(text(CLOCKS))
            conn.execute(text(DEPARTMENTS))
            conn.execute(text("ANALYZE"))
        report(args.tickets, measure(engine))
    finally:
        engine.dispose()
        with server.connect() as conn:
            conn.execute(text(f'DROP DATABASE "{name}" WITH (FORCE)'))
        server.dispose()


if __name__ == "__main__":
    main()
