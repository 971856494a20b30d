"""A province's load on one web worker: a kept database of a million tickets (bench/million.py), then, in
one run, wrk against the application's public reads, its liveness probe and signed Zalo deliveries, each
beside a bare FastAPI endpoint (synchronous and asynchronous) served the same way as the box's limit, and
pgbench inserting the same webhook rows straight into PostgreSQL as the database's limit for intake. Also
times every staff search on one connection and writes the EXPLAIN (ANALYZE) plans of the staff searches
and of the public list's queries.

    bash scripts/wrk.sh   # Debian's wrk, once
    .venv/bin/python bench/load.py [--quick] [--rebuild] [--duration 20] [--connections 50] [--runs 3]
        [--server postgresql+psycopg://postgres@127.0.0.1:5432/postgres]

The database (`civicdesk_load`, `civicdesk_load_quick` for --quick's 50,000 tickets) is kept between runs;
rows the run adds (webhook deliveries, pgbench's) are deleted at the end.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import event, text
from sqlalchemy.engine import Connection, Engine, make_url

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.million import BENCH_ADMIN, Built, build, phone_of  # noqa: E402
from bench.report import write_section  # noqa: E402
from kernel.db import make_engine, unit_of_work  # noqa: E402
from kernel.settings import get_settings  # noqa: E402

APP_ID = "3600000000000000001"
OA_SECRET = "bench-load-secret"  # noqa: S105 - the benchmark's own fake Zalo key
QUEUE = "bench-load"  # no worker reads it; purged after the run
LUA = ROOT / "bench" / "lua"
SEARCH_RUNS = 9
WRK_THREADS = 2


@dataclass
class Target:
    key: str
    label: str
    bare: bool
    path: str
    connections: int
    script: list[str] = field(default_factory=list)  # wrk -s … -- args
    goal: str = ""


@dataclass
class Measure:
    rate: float
    p50: float  # ms
    p99: float  # ms
    requests: int
    errors: int  # non-2xx/3xx answers, timeouts and socket errors


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--server", default="postgresql+psycopg://postgres@127.0.0.1:5432/postgres")
    parser.add_argument("--tickets", type=int, default=1_000_000)
    parser.add_argument("--quick", action="store_true", help="50,000 tickets in their own database")
    parser.add_argument("--name", default="", help="the kept database (default civicdesk_load[_quick])")
    parser.add_argument("--rebuild", action="store_true", help="make the database again")
    parser.add_argument("--duration", type=int, default=20, help="seconds per wrk run")
    parser.add_argument("--connections", type=int, default=50)
    parser.add_argument("--webhook-connections", type=int, default=8)
    parser.add_argument("--runs", type=int, default=3, help="runs of each endpoint; the median is kept")
    parser.add_argument("--port", type=int, default=8191)
    parser.add_argument("--build-only", action="store_true")
    parser.add_argument("--no-load", action="store_true", help="only the staff searches and the plans")
    parser.add_argument(
        "--only",
        default="",
        help="comma-separated endpoints to load (status,status_json,status_kept,status_json_kept,reports,"
        "public_list,health,webhook; the"
        " bare ones always run): no staff searches, and the figures go to their own BENCHMARKS section",
    )
    args = parser.parse_args()
    tickets = 50_000 if args.quick else args.tickets
    name = args.name or ("civicdesk_load_quick" if args.quick else "civicdesk_load")
    var_dir = Path(tempfile.mkdtemp(prefix="civicdesk-load-"))
    env = _environment(args.server, name, var_dir)
    os.environ.update(env)

    from civicdesk import wiring

    wiring.install()
    print(f"database {name}: {tickets:,} tickets", flush=True)
    built = build(args.server, name, tickets, rebuild=args.rebuild)
    if args.build_only:
        return
    engine = make_engine(built.url)
    loads = [os.getloadavg()]
    searches = [] if args.only else staff_searches(engine, tickets)
    public_plans = public_list_plans(engine)
    results: dict[str, Measure] = {}
    pgbench: Measure | None = None
    stored: list[tuple[int, int]] = []
    if not args.no_load:
        shutil.which("wrk") or sys.exit("wrk is missing: run bash scripts/wrk.sh")
        results, pgbench, stored = load(engine, built, env, args, var_dir, loads)
    loads.append(os.getloadavg())
    report(built, args, searches, public_plans, results, pgbench, stored, loads)
    engine.dispose()
    shutil.rmtree(var_dir, ignore_errors=True)
    print("written to BENCHMARKS.md")


def _environment(server: str, name: str, var_dir: Path) -> dict[str, str]:
    return {
        "CIVICDESK_DATABASE_URL": make_url(server).set(database=name).render_as_string(hide_password=False),
        "CIVICDESK_BROKER_URL": os.environ.get("CIVICDESK_BENCH_BROKER_URL", "redis://127.0.0.1:6379/0"),
        "CIVICDESK_TASK_QUEUE": QUEUE,
        "CIVICDESK_VAR_DIR": str(var_dir),
        "CIVICDESK_ZALO_OA_SECRET_KEY": OA_SECRET,
        "CIVICDESK_ZALO_APP_ID": APP_ID,
        "CIVICDESK_LOG_FORMAT": "json",  # a request's log line as production writes it
    }


# --- staff searches ----------------------------------------------------------------------------------


class Statements:
    """The SELECTs on the ticket table an engine sends, to EXPLAIN exactly those."""

    TICKET = re.compile(r"\b(FROM|JOIN)\s+ticket\b")

    def __init__(self, engine: Engine) -> None:
        self.seen: list[tuple[str, Any]] = []
        event.listen(engine, "before_cursor_execute", self.keep)

    def keep(self, _conn: Connection, _cursor: Any, sql: str, params: Any, _ctx: Any, _many: bool) -> None:
        if sql.lstrip().upper().startswith("SELECT") and self.TICKET.search(sql):
            self.seen.append((sql, params))

    def distinct(self) -> list[tuple[str, Any]]:
        firsts: dict[str, Any] = {}
        for sql, params in self.seen:
            firsts.setdefault(sql, params)
        return list(firsts.items())


def explain(engine: Engine, sql: str, params: Any) -> str:
    with engine.connect() as conn:
        cursor = conn.connection.driver_connection.cursor()  # type: ignore[union-attr]
        cursor.execute("EXPLAIN (ANALYZE, BUFFERS, COSTS OFF) " + sql, params)
        return "\n".join(row[0] for row in cursor.fetchall())


@dataclass
class Search:
    label: str
    query: str
    api_ms: float
    page_ms: float
    found: int
    total: int
    estimated: bool  # the list page's total is the planner's estimate ("about …"), not a count
    plan: str
    seq_scan: bool
    filtered: int  # the most rows one node of the plan read and dropped (a walk over the wrong index)


def _search_cases(engine: Engine, tickets: int) -> list[tuple[str, dict[str, Any]]]:
    with engine.connect() as conn:
        code = conn.execute(
            text("SELECT code FROM ticket WHERE id = :id"), {"id": tickets // 2 + 7}
        ).scalar_one()
        citizen = conn.execute(
            text("SELECT citizen_id FROM ticket WHERE citizen_id % 5 = 1 AND id > :id ORDER BY id LIMIT 1"),
            {"id": tickets // 3},
        ).scalar_one()
    return [
        ("whole code", {"text": code}),
        ("partial code", {"text": code.rsplit("-", 1)[1]}),
        ("phone number", {"text": phone_of(citizen)}),
        ("words with diacritics", {"text": "đèn đường"}),
        ("same words without", {"text": "den duong"}),
        ("rare words", {"text": "ngựa vằn"}),
        ("rare words without diacritics", {"text": "ngua van"}),
        ("no match", {"text": "tàu ngầm"}),
        ("old ward (until 2024)", {"ward": "my-huong"}),
        ("old ward (until 2025)", {"ward": "dai-son"}),
        ("old ward and a word", {"ward": "dao-long", "text": "rác"}),
        ("current ward, open", {"ward": "phan-rang", "status": ["new", "in_progress"]}),
        ("no filter", {}),
        ("one department", {"department": "qldt"}),
    ]


def staff_searches(engine: Engine, tickets: int) -> list[Search]:
    """Each search as the staff API (first 50, newest first) and the staff list page (a page of 50 with
    its total) run it, on one warm connection; the API's statement EXPLAINed."""
    from sla.lists import staff_list
    from tickets.service import TicketFilter, list_tickets
    from tickets.staff import User

    print("staff searches …", flush=True)
    with unit_of_work(engine) as session:
        viewer = session.exec(_user_named(User, BENCH_ADMIN)).one()
        session.expunge(viewer)
    statements = Statements(engine)
    results = []
    for label, fields in _search_cases(engine, tickets):
        filters = TicketFilter(**fields)

        def api(filters: TicketFilter = filters) -> int:
            with unit_of_work(engine) as session:
                return len(list_tickets(session, filters, viewer=viewer, limit=50)[0])

        def page(filters: TicketFilter = filters) -> int:
            with unit_of_work(engine) as session:
                return staff_list(session, filters, viewer=viewer).total

        with unit_of_work(engine) as session:
            estimated = staff_list(session, filters, viewer=viewer).estimated

        found = api()
        statements.seen.clear()
        api()
        sql, params = statements.seen[-1]
        api_ms = _median_ms(api)
        total = page()
        page_ms = _median_ms(page)
        plan = explain(engine, sql, params)
        query = " ".join(f"{k}={v}" for k, v in fields.items()) or "(none)"
        results.append(
            Search(
                label,
                query,
                api_ms,
                page_ms,
                found,
                total,
                estimated,
                plan,
                "Seq Scan on ticket" in plan,
                _dropped(plan),
            )
        )
        print(
            f"  {label:32} API {api_ms:7.1f} ms, list page {page_ms:7.1f} ms ({total:,} tickets)", flush=True
        )
    event.remove(engine, "before_cursor_execute", statements.keep)
    return results


def _dropped(plan: str) -> int:
    return max((int(n) for n in re.findall(r"Rows Removed by Filter: (\d+)", plan)), default=0)


def _user_named(user: Any, username: str) -> Any:
    from sqlmodel import select

    return select(user).where(user.username == username)


def _median_ms(call: Callable[[], int]) -> float:
    times = []
    for _ in range(SEARCH_RUNS):
        started = time.perf_counter()
        call()
        times.append(time.perf_counter() - started)
    return statistics.median(times) * 1000


def public_list_plans(engine: Engine) -> list[tuple[str, str, str]]:
    """(request, statement, plan) for each distinct statement on the ticket table that the public list
    page and API send, served in this process."""
    from fastapi.testclient import TestClient

    from civicdesk.asgi import create_app

    statements = Statements(engine)
    plans = []
    with TestClient(create_app(engine)) as client:
        for path in (
            "/api/v1/public/reports",
            "/reports",
            "/reports?page=3",
            "/api/v1/public/reports?ward=dai-son",
        ):
            client.get(path)  # warm
            statements.seen.clear()
            answer = client.get(path)
            answer.raise_for_status()
            distinct = statements.distinct()
            for sql, params in distinct[:6]:
                plans.append(
                    (
                        f"{path} ({len(statements.seen)} statements on ticket)",
                        sql,
                        explain(engine, sql, params),
                    )
                )
    event.remove(engine, "before_cursor_execute", statements.keep)
    return plans


# --- load ----------------------------------------------------------------------------------------------


def _free_port(preferred: int) -> int:
    with socket.socket() as probe:
        try:
            probe.bind(("127.0.0.1", preferred))
            return preferred
        except OSError:
            probe.bind(("127.0.0.1", 0))
            return int(probe.getsockname()[1])


@contextmanager
def serve(command: list[str], env: dict[str, str], log: Path, ready: str) -> Iterator[None]:
    """A server process (its own process group), up when `ready` answers, stopped afterwards."""
    with log.open("wb") as out:
        process = subprocess.Popen(  # noqa: S603 - our own commands
            command,
            env={**os.environ, **env},
            stdout=out,
            stderr=subprocess.STDOUT,
            cwd=ROOT,
            start_new_session=True,
        )
        try:
            deadline = time.monotonic() + 180
            while True:
                if process.poll() is not None:
                    sys.exit(f"{command[0]} stopped at start; see {log}:\n{log.read_text()[-3000:]}")
                try:
                    if httpx.get(ready, timeout=5).status_code < 500:
                        break
                except httpx.HTTPError:
                    pass
                if time.monotonic() > deadline:
                    sys.exit(f"{ready} did not answer within 180 s; see {log}")
                time.sleep(0.3)
            yield
        finally:
            os.killpg(process.pid, signal.SIGTERM)
            try:
                process.wait(10)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait()


UNITS = {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60_000.0}


def _ms(value: str) -> float:
    number, unit = re.fullmatch(r"([\d.]+)(us|ms|s|m)", value.strip()).groups()  # type: ignore[union-attr]
    return float(number) * UNITS[unit]


def wrk(url: str, target: Target, duration: int) -> Measure:
    command = [
        "wrk",
        f"-t{min(WRK_THREADS, target.connections)}",
        f"-c{target.connections}",
        f"-d{duration}s",
    ]
    command += ["--latency", "--timeout", "30s"]
    if target.script:
        command += ["-s", target.script[0], url, "--", *target.script[1:]]
    else:
        command.append(url)
    out = subprocess.run(command, capture_output=True, text=True, check=True).stdout  # noqa: S603
    rate = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))  # type: ignore[union-attr]
    p50 = _ms(re.search(r"\s50%\s+(\S+)", out).group(1))  # type: ignore[union-attr]
    p99 = _ms(re.search(r"\s99%\s+(\S+)", out).group(1))  # type: ignore[union-attr]
    requests = int(re.search(r"(\d+) requests in", out).group(1))  # type: ignore[union-attr]
    errors = sum(
        int(n) for n in re.findall(r"(?:Non-2xx or 3xx responses:|connect|read|write|timeout)\s+(\d+)", out)
    )
    return Measure(rate, p50, p99, requests, errors)


def deliveries(path: Path, run: str, count: int) -> None:
    """`count` signed Zalo deliveries, each a new message, one "signature<TAB>body" a line."""
    now = str(int(time.time() * 1000))
    with path.open("w", encoding="utf-8") as out:
        for n in range(count):
            body = {
                "app_id": APP_ID,
                "event_name": "user_send_text",
                "timestamp": now,
                "sender": {"id": f"4100000{n % 500:012d}"},
                "recipient": {"id": "2900000000000000001"},
                "message": {
                    "msg_id": f"bench-{run}-{n}",
                    "text": f"Nước ngập sâu ở hẻm {n % 300} Thống Nhất",
                },
            }
            raw = json.dumps(body, ensure_ascii=False).encode()
            mac = hashlib.sha256(APP_ID.encode() + raw + now.encode() + OA_SECRET.encode()).hexdigest()
            out.write(f"mac={mac}\t{raw.decode()}\n")


PGBENCH_ROW = (
    "INSERT INTO inbound_event (channel, event_key, event_name, payload, state, attempts, received_at)"
    " VALUES ('zalo', 'pgbench-' || gen_random_uuid(), 'user_send_text', '{payload}'::json, 'pending', 0,"
    " now()) ON CONFLICT (channel, event_key) DO NOTHING RETURNING id;\n"
)


def pgbench(built: Built, clients: int, duration: int, workdir: Path) -> Measure:
    """pgbench inserting the webhook's row (same payload), one committed transaction each."""
    sample = workdir / "sample.txt"
    deliveries(sample, "pgbench", 1)
    payload = sample.read_text(encoding="utf-8").split("\t", 1)[1].strip().replace("'", "''")
    script = workdir / "insert.sql"
    script.write_text(PGBENCH_ROW.format(payload=payload), encoding="utf-8")
    url = make_url(built.url)
    logs = workdir / "pgblog"
    shutil.rmtree(logs, ignore_errors=True)
    logs.mkdir()
    command = ["pgbench", "-n", f"-c{clients}", f"-j{min(2, clients)}", f"-T{duration}", "-f", str(script)]
    command += [
        "-l",
        "--log-prefix",
        str(logs / "tx"),
        "-h",
        url.host or "127.0.0.1",
        "-p",
        str(url.port or 5432),
    ]
    command += ["-U", url.username or "postgres", url.database or ""]
    env = {**os.environ, "PGPASSWORD": url.password or ""}
    out = subprocess.run(command, capture_output=True, text=True, check=True, env=env).stdout  # noqa: S603
    rate = float(re.search(r"tps = ([\d.]+) \(without initial", out).group(1))  # type: ignore[union-attr]
    latencies = sorted(int(line.split()[2]) / 1000 for log in logs.iterdir() for line in log.open())
    failed = int(m.group(1)) if (m := re.search(r"number of failed transactions: (\d+)", out)) else 0
    return Measure(
        rate, statistics.median(latencies), latencies[int(len(latencies) * 0.99)], len(latencies), failed
    )


def _targets(health: str, args: argparse.Namespace, tokens: Path, delivery_file: Path) -> list[Target]:
    c = args.connections
    sync, status_goal, list_goal = "≥ 0.25 of bare sync, p99 < 100 ms", "p99 < 150 ms", "≥ 0.5 of bare sync"
    tokens_lua = str(LUA / "tokens.lua")
    return [
        Target("bare_sync", "bare FastAPI, sync endpoint", True, "/sync", c),
        Target("bare_async", "bare FastAPI, async endpoint", True, "/async", c),
        Target(
            "status",
            "`GET /t/{token}` (random tokens)",
            False,
            "/",
            c,
            [tokens_lua, str(tokens), "/t/"],
            sync,
        ),
        Target(
            "status_json",
            "`GET /api/v1/public/reports/{token}`",
            False,
            "/",
            c,
            [tokens_lua, str(tokens), "/api/v1/public/reports/"],
            sync,
        ),
        Target(
            "status_kept",
            f"`GET /t/{{token}}` ({KEPT_TOKENS} random tokens, each page rendered once before)",
            False,
            "/",
            c,
            [tokens_lua, str(_kept_tokens(tokens)), "/t/"],
            sync,
        ),
        Target(
            "status_json_kept",
            f"`GET /api/v1/public/reports/{{token}}` ({KEPT_TOKENS} tokens, each rendered once before)",
            False,
            "/",
            c,
            [tokens_lua, str(_kept_tokens(tokens)), "/api/v1/public/reports/"],
            sync,
        ),
        Target("reports", "`GET /reports`", False, "/reports", c, goal=status_goal),
        Target(
            "public_list",
            "`GET /api/v1/public/reports`",
            False,
            "/api/v1/public/reports",
            c,
            goal=status_goal,
        ),
        Target("health", f"`GET {health}`", False, health, c, goal=list_goal),
        Target(
            "webhook",
            "signed Zalo webhook (verify, store, enqueue, answer)",
            False,
            "/",
            args.webhook_connections,
            [str(LUA / "webhook.lua"), str(delivery_file), str(min(WRK_THREADS, args.webhook_connections))],
            "≥ 0.25 of bare sync, p99 < 50 ms",
        ),
    ]


def _chosen(targets: list[Target], only: str) -> list[Target]:
    """The endpoints asked for by --only (all by default), always with the bare ones."""
    wanted = {key.strip() for key in only.split(",") if key.strip()}
    return [t for t in targets if not wanted or t.bare or t.key in wanted]


def load(
    engine: Engine,
    built: Built,
    env: dict[str, str],
    args: argparse.Namespace,
    workdir: Path,
    loads: list[tuple[float, float, float]],
) -> tuple[dict[str, Measure], Measure | None, list[tuple[int, int]]]:
    tokens = workdir / "tokens.txt"
    with engine.connect() as conn:
        step = max(1, built.tickets // 20_000)
        found = conn.execute(text("SELECT tracking_token FROM ticket WHERE id % :step = 0"), {"step": step})
        every = [row[0] for row in found]
        tokens.write_text("\n".join(every) + "\n", encoding="utf-8")
    _kept_tokens(tokens).write_text("\n".join(every[:KEPT_TOKENS]) + "\n", encoding="utf-8")
    _forget_kept_pages(env["CIVICDESK_BROKER_URL"])
    app_port, bare_port = _free_port(args.port), _free_port(args.port + 1)
    app, bare = f"http://127.0.0.1:{app_port}", f"http://127.0.0.1:{bare_port}"
    python = str(ROOT / ".venv" / "bin" / "python")
    civicdesk = str(ROOT / ".venv" / "bin" / "civicdesk")
    runs: dict[str, list[Measure]] = {}
    stored: list[tuple[int, int]] = []  # webhook deliveries acknowledged by wrk's count, rows stored
    pgbench_runs: list[Measure] = []
    restarted: list[str] = []
    app_command = [civicdesk, "web", "--port", str(app_port)]
    app_server = ExitStack()
    with (
        app_server,
        serve(
            [python, "-m", "uvicorn", "bench.bare_app:app", "--port", str(bare_port)],
            env,
            workdir / "bare.log",
            bare + "/sync",
        ),
    ):
        app_server.enter_context(serve(app_command, env, workdir / "app.log", app + "/api/v1/health"))
        health = (
            "/api/v1/health/live"
            if httpx.get(app + "/api/v1/health/live").status_code == 200
            else "/api/v1/health"
        )
        args.health_path = health  # for the report
        if not args.only or "kept" in args.only:
            _render_once(app, _kept_tokens(tokens))
        for run in range(args.runs):
            delivery_file = workdir / "deliveries.txt"
            for target in _chosen(_targets(health, args, tokens, delivery_file), args.only):
                base = bare if target.bare else app
                for seconds in (3, args.duration) if run == 0 else (args.duration,):
                    if target.key == "webhook":  # new messages each time: a redelivery is no work
                        batch = uuid.uuid4().hex[:8]
                        deliveries(delivery_file, batch, seconds * 3000)
                    measured = wrk(base + target.path, target, seconds)
                    if not _settle(app):  # still busy with what wrk left: start it again, idle
                        restarted.append(target.key)
                        app_server.close()
                        app_server.enter_context(
                            serve(app_command, env, workdir / "app.log", app + "/api/v1/health")
                        )
                    if target.key == "webhook":
                        stored.append((measured.requests, _stored(engine, batch)))
                runs.setdefault(target.key, []).append(measured)
                print(
                    f"  run {run + 1} {target.key:12} {measured.rate:9.1f} req/s  p50 {measured.p50:7.1f} ms"
                    f"  p99 {measured.p99:7.1f} ms  errors {measured.errors}",
                    flush=True,
                )
            if not args.only or "webhook" in args.only.split(","):
                measured = pgbench(built, args.webhook_connections, args.duration, workdir)
                pgbench_runs.append(measured)
                print(
                    f"  run {run + 1} pgbench      {measured.rate:9.1f} rows/s  p99 {measured.p99:7.1f} ms",
                    flush=True,
                )
            loads.append(os.getloadavg())
    _clean_up(engine)
    args.restarted = restarted  # for the report
    pgbench_median = _median(pgbench_runs) if pgbench_runs else None
    return {key: _median(measures) for key, measures in runs.items()}, pgbench_median, stored


BUSY_LOAD = 3.0  # a load average above this on the benchmark's cores: other work shared the machine
KEPT_TOKENS = 500  # pages a worker has rendered (or citizens have looked at) before: served as kept


def _kept_tokens(tokens: Path) -> Path:
    return tokens.parent / "kept-tokens.txt"


def _forget_kept_pages(broker: str) -> None:
    """Random tokens must be rendered by this run: no page kept by an earlier one is served."""
    import redis

    from kernel.sharedcache import PREFIX, redis_url

    url = redis_url("", broker)
    if url is None:
        return
    with redis.Redis.from_url(url) as client:
        for pattern in (f"{PREFIX}status:*", f"{PREFIX}list:*"):
            for key in client.scan_iter(pattern, count=1000):
                client.delete(key)


def _render_once(app: str, tokens: Path) -> None:
    """Ask each of these status pages and their JSON once, as their citizens would have: what follows
    measures the pages every web worker finds kept (``web.status_cache``)."""
    started = time.monotonic()
    with httpx.Client(base_url=app, timeout=30) as client:
        for token in tokens.read_text(encoding="utf-8").split():
            client.get(f"/t/{token}").raise_for_status()
            client.get(f"/api/v1/public/reports/{token}").raise_for_status()
    print(f"  rendered {KEPT_TOKENS} status pages and their JSON once, {time.monotonic() - started:.0f} s")


def _stored(engine: Engine, batch: str) -> int:
    with engine.connect() as conn:
        found = conn.execute(
            text("SELECT count(*) FROM inbound_event WHERE event_key LIKE :key"), {"key": f"bench-{batch}-%"}
        )
        return int(found.scalar_one())


def _settle(app: str) -> bool:
    """Wait until the application has answered what wrk left queued when it stopped (its thread pool
    serves in order): the next endpoint must not pay for the last one. False when that takes more than
    30 s (the server is then started again)."""
    try:
        httpx.get(app + "/api/v1/health", timeout=30)
    except httpx.HTTPError:
        return False
    return True


def _median(measures: list[Measure]) -> Measure:
    return Measure(
        statistics.median(m.rate for m in measures),
        statistics.median(m.p50 for m in measures),
        statistics.median(m.p99 for m in measures),
        sum(m.requests for m in measures),
        sum(m.errors for m in measures),
    )


def _clean_up(engine: Engine) -> None:
    with engine.begin() as conn:
        conn.execute(
            text("DELETE FROM inbound_event WHERE event_key LIKE 'bench-%' OR event_key LIKE 'pgbench-%'")
        )
    from civicdesk.celery_app import celery_app

    with celery_app.connection_for_write() as connection:
        connection.default_channel.queue_purge(QUEUE)


# --- report -------------------------------------------------------------------------------------------


def report(
    built: Built,
    args: argparse.Namespace,
    searches: list[Search],
    public_plans: list[tuple[str, str, str]],
    results: dict[str, Measure],
    pgbench: Measure | None,
    stored: list[tuple[int, int]],
    loads: list[tuple[float, float, float]],
) -> None:
    built_in = f", built in {built.seconds:.0f} s" if built.seconds else ""
    load_text = ", ".join(f"{one:.2f}" for one, _five, _fifteen in loads)
    parts = [
        f"""`bench/load.py`{" --quick" if args.quick else ""}: {built.tickets:,} tickets in a kept database
({built.sizes.get("events")} timeline events, {built.sizes.get("photos")} photos; tables: ticket
{built.sizes.get("ticket")}, ticket_event {built.sizes.get("ticket_event")}{built_in}),
on {os.cpu_count()} cores shared by wrk, the servers and PostgreSQL; load average (1 min) at the start,
after each run and at the end: {load_text}. The application: `civicdesk web`, one worker,
{get_settings().web_threads} threads (`CIVICDESK_WEB_THREADS`), JSON logs."""
    ]
    if results:
        parts.append(_load_table(results, pgbench, args))
        restarted = getattr(args, "restarted", [])
        if restarted:
            parts.append(
                "The application was still working through requests 30 s after wrk stopped, and was"
                f" started again, after: {', '.join(restarted)}."
            )
        # the run's own wrk, servers and PostgreSQL raise the load after each run; only the load before
        # the first one says whether other work shared the machine
        before = loads[0][0]
        if before > BUSY_LOAD:
            parts.append(
                f"**The machine was busy** (load average {before:.1f} on {os.cpu_count()} cores before the"
                " first run: other work beside this run): the absolute figures are low for every endpoint"
                " alike; compare the ratios to the bare endpoints measured in the same run."
            )
        acknowledged, kept = sum(a for a, _ in stored), sum(k for _, k in stored)
        parts.append(
            f"Webhook deliveries answered 200 (wrk's count of finished requests, warm-up included): "
            f"{acknowledged:,}; rows stored for them: {kept:,} (a delivery cut off by wrk's stop may be"
            " stored without wrk counting the answer)."
        )
    if searches:
        parts.append(_search_table(searches))
        parts.append("#### Plans of the staff searches (the API's statement, EXPLAIN ANALYZE)\n")
    for search in searches:
        parts.append(f"{search.label} (`{search.query}`):\n```\n{search.plan}\n```\n")
    scanned = [request for request, _sql, plan in public_plans if "Seq Scan on ticket" in plan]
    parts.append(
        "#### Plans of the public list's statements on the ticket table\n\n"
        f"{len(scanned)} of {len(public_plans)} distinct statements scan the ticket table sequentially"
        + (f" ({'; '.join(sorted(set(scanned)))})." if scanned else ".")
    )
    for request, sql, plan in public_plans:
        short = " ".join(sql.split())
        short = short if len(short) < 400 else short[:400] + " …"
        parts.append(f"{request}: `{short}`\n```\n{plan}\n```\n")
    if args.only:  # a part of the run: beside the whole run's section, not in its place
        title = f"A province's load, in part ({args.only}): one web worker, a million tickets"
        write_section("load-public", title, "\n\n".join(parts))
        return
    write_section("load", "A province's load: one web worker, a million tickets", "\n\n".join(parts))


def _load_table(results: dict[str, Measure], pgbench: Measure | None, args: argparse.Namespace) -> str:
    sync, asynchronous = results["bare_sync"].rate, results["bare_async"].rate
    health = getattr(args, "health_path", "/api/v1/health")
    labels = {t.key: t for t in _targets(health, args, Path(), Path())}
    rows = []
    for key, measured in results.items():
        target = labels[key]
        label = target.label
        rows.append(
            f"| {label} | {target.connections} | {measured.rate:,.0f} | {measured.p50:.1f} ms"
            f" | {measured.p99:.1f} ms | {measured.errors} | {measured.rate / sync:.3f}"
            f" | {measured.rate / asynchronous:.3f} | {target.goal} |"
        )
    if pgbench is not None:
        webhook = results.get("webhook")
        ratio = f"webhook / pgbench = **{webhook.rate / pgbench.rate:.3f}**" if webhook else ""
        rows.append(
            f"| pgbench: the webhook's INSERT … ON CONFLICT, one commit each | {args.webhook_connections}"
            f" | {pgbench.rate:,.0f} | {pgbench.p50:.1f} ms | {pgbench.p99:.1f} ms | {pgbench.errors}"
            f" | — | — | {ratio} |"
        )
    return (
        f"wrk, {args.duration} s per endpoint, {args.runs} run(s) (median; the first after a 3 s warm-up"
        " of each endpoint), "
        f"{WRK_THREADS} wrk threads, timeout 30 s; errors are non-2xx answers, timeouts and socket errors"
        " over all runs.\n\n"
        "| endpoint | connections | req/s | p50 | p99 | errors | vs bare sync | vs bare async | goal |\n"
        "|---|---:|---:|---:|---:|---:|---:|---:|---|\n" + "\n".join(rows)
    )


def _search_table(searches: list[Search]) -> str:
    rows = "\n".join(
        f"| {s.label} | `{s.query}` | {s.found} | {'≈ ' if s.estimated else ''}{s.total:,}"
        f" | {s.api_ms:.1f} ms | {s.page_ms:.1f} ms | {'**yes**' if s.seq_scan else 'no'} | {s.filtered:,} |"
        for s in searches
    )
    return (
        f"#### Staff searches, one connection (median of {SEARCH_RUNS}, warm, session and transaction"
        " included)\n\n"
        "API: `GET /api/v1/tickets` (`list_tickets`, first 50, newest first); list page: `/staff/tickets`"
        " (`staff_list`, a page of 50 by urgency with the total; ≈: the total the page shows is the planner's"
        " estimate, \"about …\"). Goal: < 20 ms.\n\n"
        "| search | filter | returned | matching | API | list page | seq scan on ticket"
        " | rows read and dropped |\n"
        "|---|---|---:|---:|---:|---:|---|---:|\n" + rows
    )


if __name__ == "__main__":
    main()
