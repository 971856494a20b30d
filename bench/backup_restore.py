"""How long `civicdesk backup` and `civicdesk restore` take on a city-sized database with photos.

Builds a database of 100,000 tickets with 4 timeline events each and 1,000 attachment files of 100 KB
(random bytes: photos are already compressed, so gzip gains nothing on them), backs it up with the local
store, restores into a fresh database and an empty folder, and checks the counts.

    .venv/bin/python bench/backup_restore.py [--server postgresql+psycopg://postgres@127.0.0.1:5432/postgres]
"""

from __future__ import annotations

import argparse
import hashlib
import os
import sys
import tempfile
import time
from pathlib import Path

from sqlalchemy import text
from sqlalchemy.engine import Engine

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.report import write_section  # noqa: E402
from bench.scratch import scratch_database  # noqa: E402
from civicdesk import wiring  # noqa: E402
from civicdesk.backup import restore_backup, write_backup  # noqa: E402
from kernel.db import unit_of_work  # noqa: E402
from tickets.reference import seed_reference  # noqa: E402
from tickets.storage import LocalFileStore  # noqa: E402

TICKETS = 100_000
EVENTS_PER_TICKET = 4
FILES = 1_000
FILE_BYTES = 100 * 1024


def fill(engine: Engine, store: LocalFileStore) -> None:
    with engine.begin() as conn:
        conn.execute(
            text("""
            INSERT INTO ticket (code, tracking_token, title, description, search_text, priority, status,
                origin_channel, hidden_from_public, city_level, legal_process, created_at, updated_at,
                category_code, department_code)
            SELECT 'BENCH-' || g, md5(g::text) || g, 'Đèn hỏng ' || g,
                'Đèn đường hỏng trước nhà số ' || g || ' đường Thống Nhất, tối không đi được',
                'den duong hong', 'normal', 'in_progress', 'web', false, false, false, now(), now(),
                'street_lighting', 'qldt'
            FROM generate_series(1, :n) AS g
            """),
            {"n": TICKETS},
        )
        conn.execute(
            text("""
            INSERT INTO ticket_event (ticket_id, kind, actor_type, public, note, data, created_at)
            SELECT t.id, 'comment', 'system', e % 2 = 0, 'Ghi chú số ' || e, '{"bench": true}', now()
            FROM ticket t CROSS JOIN generate_series(1, :k) AS e
            """),
            {"k": EVENTS_PER_TICKET},
        )
    with engine.begin() as conn:
        for number in range(FILES):
            data = os.urandom(FILE_BYTES)
            digest = hashlib.sha256(data).hexdigest()
            key = f"{digest[:2]}/{digest}"
            store.put(key, data)
            conn.execute(
                text(
                    "INSERT INTO attachment (ticket_id, sha256, mime_type, size_bytes, storage_key, purpose,"
                    " public, created_at) VALUES (:t, :d, 'image/jpeg', :s, :k, 'evidence', true, now())"
                ),
                {"t": number + 1, "d": digest, "s": FILE_BYTES, "k": key},
            )


def count(engine: Engine, table: str) -> int:
    with engine.connect() as conn:
        return int(conn.execute(text(f'SELECT count(*) FROM "{table}"')).scalar_one())  # noqa: S608


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--server", default="postgresql+psycopg://postgres@127.0.0.1:5432/postgres")
    args = parser.parse_args()
    wiring.install()
    with tempfile.TemporaryDirectory() as work, scratch_database(args.server) as source:
        folder = Path(work)
        with unit_of_work(source) as session:
            seed_reference(session)
        print("filling …", flush=True)
        fill(source, LocalFileStore(folder / "source"))
        archive = folder / "civicdesk.tar.gz"
        started = time.perf_counter()
        write_backup(source, LocalFileStore(folder / "source"), archive)
        backup_seconds = time.perf_counter() - started
        archive_mb = archive.stat().st_size / 1e6
        print(f"backup {backup_seconds:.1f} s, {archive_mb:.1f} MB", flush=True)
        with scratch_database(args.server, migrate=False) as target:
            started = time.perf_counter()
            _, files = restore_backup(target, LocalFileStore(folder / "restored"), archive)
            restore_seconds = time.perf_counter() - started
            print(f"restore {restore_seconds:.1f} s", flush=True)
            counts = {table: count(target, table) for table in ("ticket", "ticket_event", "attachment")}
    expected = {"ticket": TICKETS, "ticket_event": TICKETS * EVENTS_PER_TICKET, "attachment": FILES}
    assert counts == expected and files == FILES, (counts, files)
    body = f"""
`bench/backup_restore.py`: {TICKETS:,} tickets, {TICKETS * EVENTS_PER_TICKET:,} timeline events,
{FILES:,} attachment files of {FILE_BYTES // 1024} KB (random bytes, as incompressible as photos), local
store; restore into a fresh database and an empty folder, counts checked.

| step | seconds |
|---|---:|
| `civicdesk backup` (COPY dump + files → .tar.gz) | {backup_seconds:.1f} |
| `civicdesk restore` (migrate, COPY load, sequences, migrate, files) | {restore_seconds:.1f} |

The archive: {archive_mb:.1f} MB ({FILES * FILE_BYTES / 1e6:.1f} MB of files). The machine runs other jobs
on its 2 cores at the same time; take the figures as an order of magnitude.
"""
    write_section("backup-restore", "Backup and restore", body)


if __name__ == "__main__":
    main()
