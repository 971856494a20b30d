"""Public reads (issue 22): the status page and its JSON, the public list page and API, the IOC overview,
Open311's list and the health probes, on a database of many tickets, served by one uvicorn in this process.

For each endpoint: SQL statements per request (counted on the engine), and the time of a request at one
connection (median and p99 of sequential requests, the client in the same process). Status pages are asked
with random tokens (each rendered once, then kept) and again with their ETag (304). Then EXPLAIN of the
public list's statements.

    .venv/bin/python bench/public_reads.py [--server postgresql+psycopg://postgres@127.0.0.1:5432/postgres]
        [--tickets 20000] [--requests 200] [--no-write]

``--code DIR`` measures another checkout's code (e.g. the commit before these changes, unpacked with
``git archive``) on the same kind of database and prints its figures without writing BENCHMARKS.md.
The database is created for the run and dropped afterwards.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
CODE = Path(os.environ.get("CIVICDESK_BENCH_CODE", ROOT))
sys.path.insert(0, str(ROOT / "tests"))
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(CODE))
os.environ.setdefault("CIVICDESK_VAR_DIR", tempfile.mkdtemp(prefix="civicdesk-bench-"))
os.environ.setdefault("CIVICDESK_BROKER_URL", "redis://127.0.0.1:6379/0")
os.environ.setdefault("CIVICDESK_ENVIRONMENT", "test")

import httpx  # noqa: E402
from fakes import serve  # noqa: E402
from sqlalchemy import event, text  # noqa: E402
from sqlalchemy.engine import Engine  # noqa: E402

from bench.scratch import scratch_database  # noqa: E402
from bench.search import fill  # noqa: E402
from civicdesk import wiring  # noqa: E402
from civicdesk.asgi import create_app  # noqa: E402
from kernel.db import unit_of_work  # noqa: E402
from tickets.reference import seed_reference  # noqa: E402

CITIZENS = 5_000
SHAPE = [
    "INSERT INTO citizen (display_name, created_at) "
    "SELECT 'Nguyễn Văn Dân ' || g, now() FROM generate_series(1, :citizens) AS g",
    """UPDATE ticket SET
        category_code = c.codes[1 + id % array_length(c.codes, 1)],
        ward_code = w.codes[1 + (id * 7) % array_length(w.codes, 1)],
        citizen_id = 1 + id % :citizens,
        status = (ARRAY['new','triaged','assigned','in_progress','resolved','closed'])[1 + id % 6],
        latitude = 11.52 + (id % 97) / 1000.0, longitude = 108.95 + (id % 89) / 1000.0
    FROM (SELECT array_agg(code ORDER BY code) AS codes FROM category) AS c,
         (SELECT array_agg(code ORDER BY code) AS codes FROM ward) AS w""",
    """INSERT INTO ticket_event (ticket_id, kind, actor_type, public, note, data, created_at)
    SELECT id, 'created', 'citizen', true, NULL, '{}', created_at FROM ticket""",
    """INSERT INTO ticket_event (ticket_id, kind, actor_type, public, note, data, created_at)
    SELECT id, 'comment', 'system', true, 'Đội đã tiếp nhận và sẽ xử lý trong tuần', '{}',
        created_at + interval '1 hour' FROM ticket WHERE id % 2 = 0""",
    """INSERT INTO sla_clock (ticket_id, kind, cycle, state, target_minutes, consumed_minutes, started_at,
        segment_started_at, due_at, warn_at, warned)
    SELECT id, 'resolution', 1, 'running', 7200, 0, created_at, created_at,
        now() + (id % 200) * interval '1 hour', now() + (id % 150) * interval '1 hour', false
    FROM ticket""",
    "ANALYZE",
]

ENDPOINTS = [
    ("`GET /t/{token}`, first view of each version", "status-new"),
    ("`GET /t/{token}`, viewed again", "status-again"),
    ("`GET /t/{token}` with its ETag (304)", "status-304"),
    ("`GET /api/v1/public/reports/{token}`, first view", "json-new"),
    ("`GET /api/v1/public/reports/{token}`, again", "json-again"),
    ("`GET /reports`", "/reports"),
    ("`GET /reports?ward=phan-rang` (a ward and its predecessors)", "/reports?ward=phan-rang"),
    ("`GET /reports?page=40`", "/reports?page=40"),
    ("`GET /api/v1/public/reports?limit=100`", "/api/v1/public/reports?limit=100"),
    ("`GET /ioc` (open reports on the map, up to 1,000)", "/ioc"),
    ("`GET /open311/v2/requests.json` (up to 1,000)", "/open311/v2/requests.json"),
    ("`GET /health/live`", "/health/live"),
    ("`GET /api/v1/health`", "/api/v1/health"),
]


def shape(engine: Engine, tickets: int) -> float:
    with unit_of_work(engine) as session:
        seed_reference(session)
    seconds = fill(engine, tickets)
    started = time.perf_counter()
    for statement in SHAPE:
        with engine.begin() as conn:
            conn.execute(text(statement), {"citizens": CITIZENS})
    return seconds + time.perf_counter() - started


def tokens(engine: Engine, count: int) -> list[str]:
    with engine.connect() as conn:
        some = text("SELECT tracking_token FROM ticket ORDER BY random() LIMIT :n")
        return [row[0] for row in conn.execute(some, {"n": count})]


class Counter:
    def __init__(self, engine: Engine) -> None:
        self.count = 0
        event.listen(engine, "before_cursor_execute", self.hit)

    def hit(self, *_: Any) -> None:
        self.count += 1


def timed(http: httpx.Client, counter: Counter, paths: list[tuple[str, dict[str, str]]]) -> dict[str, float]:
    times, statements = [], []
    for path, headers in paths:
        before = counter.count
        started = time.perf_counter()
        response = http.get(path, headers=headers)
        times.append((time.perf_counter() - started) * 1000)
        statements.append(counter.count - before)
        assert response.status_code in (200, 304, 503), (path, response.status_code)
    times.sort()
    return {
        "median_ms": statistics.median(times),
        "p99_ms": times[min(len(times) - 1, int(len(times) * 0.99))],
        "statements": statistics.median(statements),
        "n": len(times),
    }


def measure(engine: Engine, requests: int) -> dict[str, dict[str, float]]:
    wiring.install()
    counter = Counter(engine)
    links = tokens(engine, requests)
    figures: dict[str, dict[str, float]] = {}
    with serve(create_app(engine)) as base, httpx.Client(base_url=base, timeout=120) as http:
        http.get("/reports")  # warm: templates compiled, reference rows read
        etags: list[str] = []
        first = [(f"/t/{t}", {}) for t in links]
        figures["status-new"] = timed(http, counter, first)
        figures["status-again"] = timed(http, counter, first)
        for token in links[:requests]:
            etags.append(http.get(f"/t/{token}").headers.get("etag", ""))
        figures["status-304"] = timed(
            http,
            counter,
            [(f"/t/{t}", {"If-None-Match": e} if e else {}) for t, e in zip(links, etags, strict=True)],
        )
        figures["json-new"] = timed(http, counter, [(f"/api/v1/public/reports/{t}", {}) for t in links])
        figures["json-again"] = timed(http, counter, [(f"/api/v1/public/reports/{t}", {}) for t in links])
        for _label, key in ENDPOINTS:
            if key.startswith("/"):
                times = max(5, requests // 20) if key.startswith(("/ioc", "/open311")) else requests
                figures[key] = timed(http, counter, [(key, {})] * times)
    return figures


def explain(engine: Engine) -> str:
    """The public list's statements as the app sends them, explained on this database."""
    captured: list[tuple[str, Any]] = []

    def keep(_conn: Any, _cursor: Any, sql: str, params: Any, *_: Any) -> None:
        listing = sql.lstrip().upper().startswith("SELECT") and "FROM ticket" in sql
        if listing and "tracking_token =" not in sql:
            captured.append((sql, params))

    event.listen(engine, "before_cursor_execute", keep)
    from tickets import public

    with unit_of_work(engine) as session:
        for filters in (public.PublicFilter(), public.PublicFilter(ward="phan-rang")):
            public.public_count(session, filters)
            public.public_list(session, filters, limit=20)
    event.remove(engine, "before_cursor_execute", keep)
    plans = []
    with engine.connect() as conn:
        cursor = conn.connection.driver_connection.cursor()  # type: ignore[union-attr]
        for sql, params in captured:
            cursor.execute("EXPLAIN (ANALYZE, COSTS OFF, TIMING OFF, SUMMARY OFF) " + sql, params)
            plans.append("\n".join(row[0] for row in cursor.fetchall()))
    return "\n\n".join(plans)


def table(figures: dict[str, dict[str, float]], before: dict[str, dict[str, float]] | None) -> str:
    lines = [
        "| endpoint | statements / request | median | p99 |"
        + (" before: statements | before: median |" if before else ""),
        "|---|---:|---:|---:|" + ("---:|---:|" if before else ""),
    ]
    for label, key in ENDPOINTS:
        f = figures[key]
        row = f"| {label} | {f['statements']:.0f} | {f['median_ms']:.1f} ms | {f['p99_ms']:.1f} ms |"
        if before:
            b = before.get(key)
            row += f" {b['statements']:.0f} | {b['median_ms']:.1f} ms |" if b else " — | — |"
        lines.append(row)
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--server", default="postgresql+psycopg://postgres@127.0.0.1:5432/postgres")
    parser.add_argument("--tickets", type=int, default=20_000)
    parser.add_argument("--requests", type=int, default=200)
    parser.add_argument("--code", help="another checkout whose code to measure (figures printed as JSON)")
    parser.add_argument("--json", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--no-write", action="store_true", help="print, do not write BENCHMARKS.md")
    args = parser.parse_args()
    before = None
    if args.code:
        env = {**os.environ, "CIVICDESK_BENCH_CODE": str(Path(args.code).resolve())}
        command = [sys.executable, __file__, "--json", "--server", args.server]
        command += ["--tickets", str(args.tickets), "--requests", str(args.requests)]
        print(f"measuring the code in {args.code}", flush=True)
        output = subprocess.run(command, env=env, check=True, capture_output=True, text=True).stdout  # noqa: S603
        before = json.loads(output.strip().splitlines()[-1])
    with scratch_database(args.server) as engine:
        built = shape(engine, args.tickets)
        figures = measure(engine, args.requests)
        if args.json:
            print(json.dumps(figures))
            return
        plans = explain(engine)
        load = os.getloadavg()[0]
    body = f"""
{args.tickets:,} tickets (made inside PostgreSQL in {built:.0f} s: {CITIZENS:,} citizens, every category
and ward of the three periods, six states, one or two public events and a running SLA clock each), one
uvicorn in the benchmark's own process, one connection, {args.requests} requests per status-page row
(random tokens) and per list. Statements counted on the engine; times include the client's own work.
Load average at the end: {load:.1f} on {os.cpu_count()} cores shared with other work.
{"The before columns: the same run on the code before issue 22's changes (`--code`)." if before else ""}

{table(figures, before)}

Plans of the public list (page 1 and its count, whole and for a ward with its predecessors):

```
{plans}
```
"""
    if args.no_write:
        print(body)
        return
    from bench.report import write_section

    write_section("public-reads", "Public reads: status page, public list, IOC, Open311, health", body)
    print(body)
    print("written to BENCHMARKS.md")


if __name__ == "__main__":
    main()
