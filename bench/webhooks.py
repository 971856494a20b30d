"""Deliveries per second that the Zalo webhook accepts durably on PostgreSQL (signature checked, event
stored, task queued after commit), with the p99 time to acknowledge, next to a plain INSERT of the same
rows, one committed transaction each, in the same run.

    .venv/bin/python bench/webhooks.py [--deliveries 3000] [--server postgresql+psycopg://…/postgres]
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import statistics
import sys
import tempfile
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
os.environ.setdefault("CIVICDESK_VAR_DIR", tempfile.mkdtemp(prefix="civicdesk-bench-"))
os.environ["CIVICDESK_ZALO_OA_SECRET_KEY"] = "bench-secret"  # noqa: S105 - a benchmark's own fake secret
os.environ["CIVICDESK_ZALO_APP_ID"] = "3600000000000000001"
os.environ.setdefault("CIVICDESK_BROKER_URL", "redis://127.0.0.1:6379/0")  # production's broker
os.environ.setdefault("CIVICDESK_TASK_QUEUE", "bench-webhooks")  # no worker reads it; purged after the run

import httpx  # noqa: E402
from fakes import serve  # noqa: E402
from sqlalchemy import text  # noqa: E402

from bench.report import write_section  # noqa: E402
from bench.scratch import scratch_database  # noqa: E402
from civicdesk import wiring  # noqa: E402
from civicdesk.asgi import create_app  # noqa: E402

APP_ID = "3600000000000000001"


def body(n: int, run: str) -> tuple[bytes, str]:
    event = {
        "app_id": APP_ID,
        "event_name": "user_send_text",
        "timestamp": str(int(time.time() * 1000)),
        "sender": {"id": f"4100000{n % 500:012d}"},
        "recipient": {"id": "2900000000000000001"},
        "message": {"msg_id": f"{run}-{n}", "text": f"Rác chưa thu gom ở hẻm {n} Thống Nhất"},
    }
    raw = json.dumps(event, ensure_ascii=False).encode()
    mac = hashlib.sha256(APP_ID.encode() + raw + event["timestamp"].encode() + b"bench-secret").hexdigest()
    return raw, f"mac={mac}"


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--deliveries", type=int, default=3000)
    parser.add_argument("--server", default="postgresql+psycopg://postgres@127.0.0.1:5432/postgres")
    args = parser.parse_args()
    wiring.install()
    with scratch_database(args.server) as engine:
        run = uuid.uuid4().hex[:6]
        payloads = [body(n, run) for n in range(args.deliveries)]
        latencies: list[float] = []
        with serve(create_app(engine)) as base, httpx.Client(base_url=base, timeout=30) as http:

            def post(item: tuple[bytes, str]) -> None:
                started = time.perf_counter()
                answer = http.post("/webhooks/zalo", content=item[0], headers={"X-ZEvent-Signature": item[1]})
                latencies.append(time.perf_counter() - started)
                assert answer.status_code == 200, answer.text

            for item in payloads[:50]:  # warm up
                post(item)
            latencies.clear()
            started = time.perf_counter()
            with ThreadPoolExecutor(8) as pool:
                list(pool.map(post, payloads[50:]))
            webhook_seconds = time.perf_counter() - started
        accepted = len(payloads) - 50
        started = time.perf_counter()
        for n in range(accepted):
            with engine.begin() as conn:
                conn.execute(
                    text(
                        "INSERT INTO inbound_event (channel, event_key, event_name, payload, state,"
                        " attempts, received_at) VALUES ('zalo', :key, 'user_send_text',"
                        " CAST(:payload AS JSON), 'pending', 0, now())"
                    ),
                    {"key": f"plain-{run}-{n}", "payload": payloads[n][0].decode()},
                )
        insert_seconds = time.perf_counter() - started
    p99 = sorted(latencies)[int(len(latencies) * 0.99)] * 1000
    median = statistics.median(latencies) * 1000
    webhook_rate, insert_rate = accepted / webhook_seconds, accepted / insert_seconds
    broker = os.environ["CIVICDESK_BROKER_URL"].split("://")[0]
    _purge_queue()
    table = "\n".join(
        [
            "| path | rate | time to acknowledge |",
            "|---|---:|---|",
            f"| webhook: verify, store, enqueue, answer | **{webhook_rate:,.0f} deliveries/s**"
            f" | median {median:.1f} ms, p99 **{p99:.1f} ms** |",
            f"| plain INSERT of the same rows, one committed transaction each, one connection"
            f" | {insert_rate:,.0f} rows/s | — |",
        ]
    )
    write_section(
        "webhooks",
        "Webhook intake on PostgreSQL",
        f"""`bench/webhooks.py`: {accepted:,} signed Zalo deliveries posted over HTTP by 8 client threads to
one uvicorn process on this machine (2 cores shared by client, server and PostgreSQL). Each is verified,
stored as one row in its own transaction and acknowledged; the processing task is queued after the commit
({broker} broker).

{table}

Zalo wants an answer within 2 s and Meta within about 20 s.""",
    )
    print(f"webhook {webhook_rate:.0f}/s p99 {p99:.1f} ms; plain insert {insert_rate:.0f}/s")


def _purge_queue() -> None:
    from civicdesk.celery_app import celery_app

    with celery_app.connection_for_write() as connection:
        connection.default_channel.queue_purge(os.environ["CIVICDESK_TASK_QUEUE"])


if __name__ == "__main__":
    main()
