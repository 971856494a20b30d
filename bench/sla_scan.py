"""How long one SLA scan tick takes with 100,000 and 1,000,000 open tickets on PostgreSQL, with the same
number of clocks due in each tick. The scan should cost what is due, not what is open.

    .venv/bin/python bench/sla_scan.py [--server postgresql+psycopg://postgres@127.0.0.1:5432/postgres]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from datetime import timedelta
from pathlib import Path

from sqlalchemy import text
from sqlalchemy.engine import Engine

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.report import write_section  # noqa: E402
from bench.scratch import scratch_database  # noqa: E402
from civicdesk import wiring  # noqa: E402
from kernel.db import unit_of_work  # noqa: E402
from kernel.timeutil import utcnow  # noqa: E402
from sla import service  # noqa: E402
from tickets.reference import seed_reference  # noqa: E402

DUE_PER_TICK = 100
STEPS = (100_000, 1_000_000)


def insert_open_tickets(engine: Engine, first: int, last: int) -> None:
    """Open tickets with both clocks running and due over the next 30 days (none due now)."""
    with engine.begin() as conn:
        conn.execute(
            text("""
            INSERT INTO ticket (code, tracking_token, title, description, priority, status,
                origin_channel, hidden_from_public, city_level, legal_process, created_at, updated_at,
                category_code, department_code)
            SELECT 'BENCH-' || g, md5(g::text) || g, 'Đèn hỏng ' || g, 'Đèn đường hỏng',
                'normal', 'in_progress', 'web', false, false, false, now(), now(), 'street_lighting', 'qldt'
            FROM generate_series(CAST(:first AS integer), CAST(:last AS integer)) AS g
            """),
            {"first": first, "last": last},
        )
        conn.execute(
            text("""
            INSERT INTO sla_clock (ticket_id, kind, cycle, state, target_minutes, consumed_minutes,
                started_at, segment_started_at, due_at, warn_at, warned)
            SELECT t.id, k.kind, 1, 'running', 2400, 0, now(), now(),
                now() + interval '1 hour' + (t.id % 43200) * interval '1 minute',
                now() + interval '30 minutes' + (t.id % 43200) * interval '45 seconds', false
            FROM ticket t CROSS JOIN (VALUES ('response'), ('resolution')) AS k(kind)
            WHERE t.id > (SELECT coalesce(max(ticket_id), 0) FROM sla_clock)
            """)
        )
        conn.execute(text("ANALYZE ticket; ANALYZE sla_clock"))


def make_some_due(engine: Engine) -> None:
    with engine.begin() as conn:
        conn.execute(
            text("""
            UPDATE sla_clock SET due_at = now() - interval '1 minute'
            WHERE id IN (SELECT id FROM sla_clock WHERE state = 'running' AND kind = 'resolution'
                         ORDER BY random() LIMIT :n)
            """),
            {"n": DUE_PER_TICK},
        )


def time_tick(engine: Engine) -> float:
    make_some_due(engine)
    started = time.perf_counter()
    with unit_of_work(engine) as session:
        result = service.scan(session, now=utcnow() + timedelta(seconds=1), limit=500)
    elapsed = time.perf_counter() - started
    assert result.breached == DUE_PER_TICK, result
    return elapsed


def time_empty_tick(engine: Engine) -> float:
    started = time.perf_counter()
    with unit_of_work(engine) as session:
        service.scan(session, now=utcnow(), limit=500)
    return time.perf_counter() - started


def plan(engine: Engine) -> str:
    with engine.connect() as conn:
        rows = conn.execute(
            text(
                "EXPLAIN SELECT * FROM sla_clock WHERE state = 'running' AND due_at <= now() "
                "ORDER BY due_at LIMIT 500 FOR UPDATE SKIP LOCKED"
            )
        ).all()
    return "\n".join(row[0] for row in rows)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--server", default="postgresql+psycopg://postgres@127.0.0.1:5432/postgres")
    args = parser.parse_args()
    wiring.install()
    rows = []
    with scratch_database(args.server) as engine:
        with unit_of_work(engine) as session:
            seed_reference(session)
        done = 0
        for target in STEPS:
            print(f"inserting tickets {done + 1:,}–{target:,} …", flush=True)
            started = time.perf_counter()
            for first in range(done + 1, target + 1, 100_000):
                insert_open_tickets(engine, first, min(first + 99_999, target))
                print(f"  {min(first + 99_999, target):,} tickets", flush=True)
            print(f"  loaded in {time.perf_counter() - started:.0f} s", flush=True)
            done = target
            ticks = [time_tick(engine) for _ in range(5)]
            empty = [time_empty_tick(engine) for _ in range(5)]
            rows.append((target, statistics.median(ticks), max(ticks), statistics.median(empty)))
            print(
                f"  tick with {DUE_PER_TICK} due: median {statistics.median(ticks) * 1000:.1f} ms", flush=True
            )
        query_plan = plan(engine)
    table = "\n".join(
        f"| {n:,} | {2 * n:,} | {DUE_PER_TICK} | {med * 1000:.1f} ms | {worst * 1000:.1f} ms"
        f" | {idle * 1000:.1f} ms |"
        for n, med, worst, idle in rows
    )
    growth = rows[-1][1] / rows[0][1]
    write_section(
        "sla-scan",
        "SLA scan tick on PostgreSQL",
        f"""`bench/sla_scan.py`: open tickets with two running clocks each, {DUE_PER_TICK} resolution clocks
made due before each tick; a tick breaches them (timeline events, escalation, notifications) in one
transaction. Median and worst of 5 ticks, and a tick with nothing due.

| open tickets | clocks | due per tick | tick (median) | tick (worst) | tick, nothing due |
|---:|---:|---:|---:|---:|---:|
{table}

From {STEPS[0]:,} to {STEPS[-1]:,} open tickets (10×) the tick time changes {growth:.2f}×: the scan reads
the `(state, due_at)` index range of what is due, not the open tickets. The plan:

```
{query_plan}
```""",
    )
    print("written to BENCHMARKS.md")


if __name__ == "__main__":
    main()
