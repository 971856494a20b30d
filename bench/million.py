"""A kept benchmark database of many tickets, built inside PostgreSQL (INSERT … SELECT over
generate_series, no ORM rows): citizens with phone and Zalo identities, tickets over three years whose wards
are those of the period they were filed in (before the November 2024 merge, until the July 2025 one, after
it), a realistic mix of statuses, categories, channels and priorities, a timeline of several events per
ticket, photos on a third of them and the SLA clocks. The database is named and kept, so a second run of
the benchmark costs nothing; `build(..., rebuild=True)` starts again.

Secondary indexes are dropped during the fill and made again at the end (one sorted build each instead of
a million insertions), and foreign keys are not checked row by row (the rows are made consistent here)."""

from __future__ import annotations

import csv
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

from sqlalchemy import text
from sqlalchemy.engine import Connection, Engine, make_url

from bench.search import vocabulary
from kernel import migrations
from kernel.db import make_engine, unit_of_work
from tickets.reference import seed_reference
from tickets.staff import create_user

ROOT = Path(__file__).resolve().parents[1]
BATCH = 100_000
DAYS = 1100  # tickets spread over three years up to now
MARK = "civicdesk load benchmark: {tickets} tickets"
BENCH_ADMIN = "bench-admin"
TABLES = ("ticket", "ticket_event", "attachment", "sla_clock", "citizen", "channel_identity")

TICKETS = """
INSERT INTO ticket (id, code, tracking_token, title, description, address_text, category_code, ward_code,
    ward_named_code, department_code, latitude, longitude, priority, status, origin_channel, citizen_id,
    hidden_from_public, city_level, legal_process, needs_review, rating, created_at, updated_at,
    resolved_at, closed_at, triaged_at)
SELECT g, 'PR-' || extract(year FROM at AT TIME ZONE 'Asia/Ho_Chi_Minh') || '-' || lpad(g::text, 7, '0'),
    md5('token' || g) || md5('bench' || g), left(d.text, 120), d.text, d.address, cat, ward,
    CASE WHEN r % 5 = 0 THEN ward END, dept, 11.56 + (r % 400) * 0.0002, 108.96 + (r % 500) * 0.0002,
    (ARRAY['normal','normal','normal','high','low','urgent'])[1 + r % 6], st,
    (ARRAY['phone','phone','phone','zalo','zalo','zalo','web','web','facebook','voicemail','open311',
        'email'])[1 + (r / 7) % 12],
    CASE WHEN r % 4 = 0 THEN NULL ELSE 1 + (g * 7) % :citizens END,
    r % 37 = 0, false, r % 97 = 0, r % 53 = 0,
    CASE WHEN st = 'closed' AND r % 3 = 0 THEN 1 + r % 5 END,
    at, at + interval '2 days',
    CASE WHEN st IN ('resolved', 'closed') THEN at + interval '2 days' END,
    CASE WHEN st = 'closed' THEN at + interval '9 days' END,
    CASE WHEN st <> 'new' THEN at + interval '5 minutes' END
FROM generate_series(CAST(:first AS bigint), CAST(:last AS bigint)) AS g
CROSS JOIN LATERAL (SELECT (g * 2654435761) % 1000003 AS r,
    now() - interval '1 day' * :days * (1 - g::float / :tickets) AS at OFFSET 0) AS seed
CROSS JOIN LATERAL (SELECT
    CASE WHEN at < :period2 THEN (:wards1)::text[]
         WHEN at < :period3 THEN (:wards2)::text[] ELSE (:wards3)::text[] END AS wards,
    1 + (r / 11) % :n_categories AS c,
    CASE WHEN at < now() - interval '60 days' THEN
        (ARRAY['closed','closed','closed','closed','closed','closed','closed','closed','closed','closed',
               'closed','closed','closed','resolved','resolved','rejected','duplicate','in_progress',
               'waiting_citizen','closed'])[1 + (r / 13) % 20]
    ELSE (ARRAY['new','new','new','triaged','triaged','assigned','assigned','assigned','assigned',
                'in_progress','in_progress','in_progress','in_progress','in_progress','waiting_citizen',
                'resolved','resolved','resolved','closed','reopened'])[1 + (r / 13) % 20] END AS st
    OFFSET 0) AS mix
CROSS JOIN LATERAL (SELECT wards[1 + (r / 17) % cardinality(wards)] AS ward,
    ((:categories)::text[])[c] AS cat, ((:departments)::text[])[c] AS dept OFFSET 0) AS place
CROSS JOIN LATERAL (
    SELECT CASE WHEN g % :rare_every = 0 THEN :rare ELSE
        replace(replace(replace(tpl, '{street}', street), '{house}', 'số ' || house || ' ' || street),
            '{alley}', house % 99 || '/' || house % 30 || ' ' || street) END AS text,
        'số ' || house || ' ' || street AS address
    FROM (SELECT
        (CASE WHEN g % 3 = 0 THEN (:plain)::text[] ELSE (:templates)::text[] END)
            [(1 + (g * 7919 + g / 7) % :n_templates)::int] AS tpl,
        ((:streets)::text[])[(1 + (g * 104729) % :n_streets)::int] AS street,
        1 + (g * 31) % 300 AS house
        OFFSET 0) AS pick
) AS d
"""

# created, routed (internal), then the status moves each status implies, a public comment on a third
EVENTS = """
INSERT INTO ticket_event (ticket_id, kind, actor_type, public, note, data, created_at)
SELECT t.id, e.kind, e.actor, e.public, e.note, e.data::json, t.created_at + e.after
FROM ticket t
CROSS JOIN LATERAL (VALUES
    (1, 'created', 'citizen', true, NULL, '{}', interval '0'),
    (2, 'routed', 'system', false, NULL, '{"department": "' || t.department_code || '"}', interval '5 min'),
    (3, 'status_changed', 'staff', true, NULL, '{"old": "triaged", "new": "assigned"}', interval '1 hour'),
    (4, 'status_changed', 'staff', true, NULL, '{"old": "assigned", "new": "in_progress"}', interval '1 day'),
    (5, 'comment', 'staff', true, 'Đơn vị đã tiếp nhận và cử người kiểm tra hiện trường.', '{}',
        interval '1 day 2 hours'),
    (6, 'status_changed', 'staff', true, 'Đã xử lý xong, mời người dân kiểm tra.',
        '{"old": "in_progress", "new": "resolved"}', interval '2 days'),
    (7, 'status_changed', 'system', true, NULL, '{"old": "resolved", "new": "closed"}', interval '9 days')
) AS e(step, kind, actor, public, note, data, after)
WHERE t.id BETWEEN :first AND :last AND CASE e.step
    WHEN 3 THEN t.status NOT IN ('new', 'triaged', 'rejected', 'duplicate')
    WHEN 4 THEN t.status IN ('in_progress', 'waiting_citizen', 'resolved', 'closed', 'reopened')
    WHEN 5 THEN t.id % 3 = 0
    WHEN 6 THEN t.status IN ('resolved', 'closed')
    WHEN 7 THEN t.status = 'closed'
    ELSE true END
"""

PHOTOS = """
INSERT INTO attachment (ticket_id, sha256, mime_type, size_bytes, original_name, storage_key, purpose,
    public, created_at)
SELECT t.id, md5('a' || t.id) || md5('b' || t.id), 'image/jpeg', 180000 + t.id % 90000, 'anh.jpg',
    'bench/' || t.id, CASE WHEN t.status = 'closed' AND t.id % 2 = 0 THEN 'after' ELSE 'evidence' END,
    true, t.created_at
FROM ticket t WHERE t.id BETWEEN :first AND :last AND t.id % 3 = 1
"""

# the resolution clock: running (or paused while waiting for the citizen) for open work, met or missed
CLOCKS = """
INSERT INTO sla_clock (ticket_id, kind, cycle, state, target_minutes, consumed_minutes, started_at,
    segment_started_at, due_at, warn_at, warned, breached_at, met_at)
SELECT t.id, 'resolution', 1, s.state, 4320, 0, t.created_at, t.created_at, s.due,
    s.due - interval '12 hours', false, CASE WHEN s.state = 'breached' THEN s.due END,
    CASE WHEN s.state = 'met' THEN t.resolved_at END
FROM ticket t
CROSS JOIN LATERAL (SELECT t.created_at + interval '1 day' * (3 + t.id % 12) AS due OFFSET 0) AS d
CROSS JOIN LATERAL (SELECT d.due, CASE
    WHEN t.status = 'waiting_citizen' THEN 'paused'
    WHEN t.status IN ('resolved', 'closed') THEN 'met'
    WHEN t.status IN ('rejected', 'duplicate') THEN 'cancelled'
    WHEN d.due < now() THEN 'breached' ELSE 'running' END AS state OFFSET 0) AS s
WHERE t.id BETWEEN :first AND :last AND NOT t.legal_process
"""

CITIZENS = """
INSERT INTO citizen (id, display_name, created_at)
SELECT c, (ARRAY['Nguyễn Văn An','Trần Thị Bình','Lê Minh Châu','Phạm Thu Hà','Võ Quốc Dũng'])[1 + c % 5],
    now() - interval '1 day' * :days * (1 - c::float / :citizens)
FROM generate_series(1, :citizens) AS c
"""

IDENTITIES = """
INSERT INTO channel_identity (citizen_id, kind, value, created_at, last_seen_at, verified_by, verified_at)
SELECT c, 'phone', '+849' || lpad(c::text, 8, '0'), now(), now(), 'call', now()
FROM generate_series(1, :citizens) AS c WHERE c % 5 <> 0
UNION ALL
SELECT c, 'zalo', '41' || lpad(c::text, 17, '0'), now(), now(), NULL, NULL
FROM generate_series(1, :citizens) AS c WHERE c % 5 IN (0, 1, 2)
"""


@dataclass(frozen=True)
class Built:
    url: str
    tickets: int
    seconds: float  # 0 when the kept database was reused
    sizes: dict[str, str]


def phone_of(citizen: int) -> str:
    """The phone number given to a citizen by IDENTITIES (citizens whose id is a multiple of 5 have none)."""
    return f"09{citizen:08d}"


def _ward_periods() -> tuple[list[str], list[str], list[str]]:
    with (ROOT / "kernel" / "data" / "wards.csv").open(encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))

    def held_on(day: date) -> list[str]:
        return [
            row["code"]
            for row in rows
            if (not row["valid_from"] or date.fromisoformat(row["valid_from"]) <= day)
            and (not row["valid_to"] or day <= date.fromisoformat(row["valid_to"]))
        ]

    return held_on(date(2024, 6, 1)), held_on(date(2025, 1, 1)), held_on(date(2025, 8, 1))


def _categories() -> tuple[list[str], list[str]]:
    with (ROOT / "kernel" / "data" / "categories.csv").open(encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    return [r["code"] for r in rows], [r["department"] for r in rows]


def _exists(server: Engine, name: str) -> str | None:
    """The database's mark (how many tickets it was built with), None when it does not exist."""
    with server.connect() as conn:
        found = conn.execute(
            text(
                "SELECT coalesce(shobj_description(oid, 'pg_database'), '') FROM pg_database"
                " WHERE datname = :name"
            ),
            {"name": name},
        ).first()
    return None if found is None else str(found[0])


def build(server_url: str, name: str, tickets: int, *, rebuild: bool = False) -> Built:
    """The database `name` on the server with `tickets` tickets: reused when it was already built with
    that many (migrated to the head, in case the code moved on), else made again."""
    server = make_engine(server_url).execution_options(isolation_level="AUTOCOMMIT")
    url = make_url(server_url).set(database=name).render_as_string(hide_password=False)
    mark = MARK.format(tickets=tickets)
    started = time.perf_counter()
    try:
        existing = _exists(server, name)
        if existing == mark and not rebuild:
            engine = make_engine(url)
            migrations.upgrade(engine)
            print(f"reusing database {name} ({tickets:,} tickets); --rebuild to make it again", flush=True)
            return Built(url, tickets, 0.0, _sizes(engine))
        with server.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            conn.execute(text(f'CREATE DATABASE "{name}"'))
        engine = make_engine(url)
        migrations.upgrade(engine)
        _fill(engine, tickets, started)
        with server.connect() as conn:
            conn.execute(text(f"COMMENT ON DATABASE \"{name}\" IS '{mark}'"))
        return Built(url, tickets, time.perf_counter() - started, _sizes(engine))
    finally:
        server.dispose()


def _fill(engine: Engine, tickets: int, started: float) -> None:
    citizens = max(1, tickets // 3)
    with unit_of_work(engine) as session:
        seed_reference(session)
        create_user(session, username=BENCH_ADMIN, password="bench-pass-1234", role="admin")  # noqa: S106
    words = vocabulary()
    wards1, wards2, wards3 = _ward_periods()
    categories, departments = _categories()
    params: dict[str, Any] = {
        **words,
        "tickets": tickets,
        "citizens": citizens,
        "days": DAYS,
        "period2": "2024-11-01T00:00:00+07:00",
        "period3": "2025-07-01T00:00:00+07:00",
        "wards1": wards1,
        "wards2": wards2,
        "wards3": wards3,
        "categories": categories,
        "departments": departments,
        "n_categories": len(categories),
    }
    indexes = _drop_secondary_indexes(engine)

    def say(what: str) -> None:
        print(f"  {what}, {time.perf_counter() - started:.0f} s", flush=True)

    with _bulk(engine) as conn:
        conn.execute(text(CITIZENS), params)
        conn.execute(text(IDENTITIES), params)
    say(f"{citizens:,} citizens with their phone and Zalo identities")
    for first in range(1, tickets + 1, BATCH):
        last = min(first + BATCH - 1, tickets)
        with _bulk(engine) as conn:
            bounds = {"first": first, "last": last}
            conn.execute(text(TICKETS), {**params, **bounds})
            conn.execute(text(EVENTS), bounds)
            conn.execute(text(PHOTOS), bounds)
            conn.execute(text(CLOCKS), bounds)
        say(f"{last:,} tickets with their timelines, photos and SLA clocks")
    with _bulk(engine) as conn:
        conn.execute(
            text(
                "INSERT INTO ticket_sequence (year, last) SELECT split_part(code, '-', 2)::int, max(id)"
                " FROM ticket GROUP BY 1"
                " ON CONFLICT (year) DO UPDATE SET last = greatest(ticket_sequence.last, excluded.last)"
            )
        )
        for table in ("ticket", "citizen"):
            conn.execute(text(f"SELECT setval('{table}_id_seq', (SELECT max(id) FROM {table}))"))  # noqa: S608
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.execute(text("SET maintenance_work_mem = '512MB'"))
        for statement in indexes:
            conn.execute(text(statement))
            say(statement.split(" ON ")[0].replace("CREATE ", "made ").lower())
        for table in TABLES:
            conn.execute(text(f"VACUUM ANALYZE {table}"))
    say("vacuumed and analysed")


@contextmanager
def _bulk(engine: Engine) -> Iterator[Connection]:
    """A transaction that skips the per-row foreign-key triggers and waits for no WAL flush."""
    with engine.begin() as conn:
        conn.execute(text("SET LOCAL session_replication_role = replica"))
        conn.execute(text("SET LOCAL synchronous_commit = off"))
        conn.execute(text("SET LOCAL work_mem = '256MB'"))
        yield conn


def _drop_secondary_indexes(engine: Engine) -> list[str]:
    """Drop the indexes of the filled tables that back no constraint; return how to make them again."""
    with engine.begin() as conn:
        rows = conn.execute(
            text(
                "SELECT i.indexname, i.indexdef FROM pg_indexes i"
                " WHERE i.schemaname = 'public' AND i.tablename = ANY(:tables)"
                " AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conname = i.indexname)"
                " ORDER BY i.tablename, i.indexname"
            ),
            {"tables": list(TABLES)},
        ).all()
        for index_name, _definition in rows:
            conn.execute(text(f'DROP INDEX "{index_name}"'))
    return [str(definition) for _name, definition in rows]


def _sizes(engine: Engine) -> dict[str, str]:
    with engine.connect() as conn:
        rows = conn.execute(
            text(
                "SELECT relname, pg_size_pretty(pg_total_relation_size(oid)) FROM pg_class"
                " WHERE relname = ANY(:tables) AND relkind = 'r'"
            ),
            {"tables": list(TABLES)},
        ).all()
        counts = conn.execute(
            text("SELECT (SELECT count(*) FROM ticket_event), (SELECT count(*) FROM attachment)")
        ).one()
    sizes = {str(name): str(size) for name, size in rows}
    sizes["events"], sizes["photos"] = f"{counts[0]:,}", f"{counts[1]:,}"
    return sizes
