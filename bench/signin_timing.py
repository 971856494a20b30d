"""How long a wrong password takes to be refused for a real account and for an unknown one: if the two
differ, the timing tells which usernames exist. Alternating requests to /api/v1/auth/token in process,
the per-address pause cleared between them so that only the password check is measured.

    .venv/bin/python bench/signin_timing.py [--requests 60] [--server postgresql+psycopg://…/postgres]
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
os.environ.setdefault("CIVICDESK_VAR_DIR", tempfile.mkdtemp(prefix="civicdesk-bench-"))
os.environ.setdefault("CIVICDESK_ENVIRONMENT", "development")

from fastapi.testclient import TestClient  # noqa: E402
from sqlalchemy import text  # noqa: E402

from bench.report import write_section  # noqa: E402
from bench.scratch import scratch_database  # noqa: E402
from civicdesk.asgi import create_app  # noqa: E402
from kernel.db import unit_of_work  # noqa: E402
from tickets.reference import seed_reference  # noqa: E402
from tickets.staff import create_user  # noqa: E402


def _ms(samples: list[float]) -> tuple[float, float]:
    ordered = sorted(samples)
    return statistics.median(ordered) * 1000, ordered[int(len(ordered) * 0.9)] * 1000


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--requests", type=int, default=60, help="per kind of account")
    parser.add_argument("--server", default="postgresql+psycopg://postgres@127.0.0.1:5432/postgres")
    args = parser.parse_args()
    with scratch_database(args.server) as engine:
        with unit_of_work(engine) as session:
            seed_reference(session)
            create_user(session, username="tongdai", password="mat-khau-dung", role="agent")  # noqa: S106
        times: dict[str, list[float]] = {"real": [], "unknown": []}
        with TestClient(create_app(engine)) as client:
            for _ in range(args.requests):
                for kind, username in (("real", "tongdai"), ("unknown", "khong-ton-tai")):
                    started = time.perf_counter()
                    answer = client.post("/api/v1/auth/token", data={"username": username, "password": "sai"})
                    times[kind].append(time.perf_counter() - started)
                    assert answer.status_code == 401, answer.text
                    with engine.begin() as conn:
                        conn.execute(text("DELETE FROM rate_limit_backoff"))
    real, unknown = _ms(times["real"]), _ms(times["unknown"])
    body = f"""`bench/signin_timing.py`: {args.requests} wrong passwords each, alternating, to
`/api/v1/auth/token` in process; both answer 401 with the same body.

| account | median | p90 |
|---|---:|---:|
| real | {real[0]:.1f} ms | {real[1]:.1f} ms |
| unknown | {unknown[0]:.1f} ms | {unknown[1]:.1f} ms |

Medians differ by {abs(real[0] - unknown[0]):.1f} ms: both paths run one Argon2 check (a dummy hash for an
unknown account) and write the same audit row and per-address failure count.
"""
    write_section("signin-timing", "Wrong password: real versus unknown account", body)
    print(body)


if __name__ == "__main__":
    main()
