"""What the incident detector costs a report: an hour of 1,000 reports (a flood night: a third of them
flooding in three wards, the rest spread over the city and the categories), each considered as triage
classifies it; the time of `incidents.service.consider` per report, and the incidents it opened.

    .venv/bin/python bench/incidents.py [--server postgresql+psycopg://…] [--reports 1000]
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import time
from datetime import timedelta
from pathlib import Path

from sqlmodel import select

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.report import write_section  # noqa: E402
from bench.scratch import scratch_database  # noqa: E402
from civicdesk import wiring  # noqa: E402
from geo.centres import unit_centres  # noqa: E402
from incidents import service  # noqa: E402
from incidents.models import Incident  # noqa: E402
from kernel.db import unit_of_work  # noqa: E402
from kernel.timeutil import utcnow  # noqa: E402
from tickets import service as tickets  # noqa: E402
from tickets.citizens import Contact  # noqa: E402
from tickets.models import Channel  # noqa: E402
from tickets.reference import seed_reference  # noqa: E402
from web.geo import city_bounds  # noqa: E402

FLOODED = ["phu-ha", "my-huong", "thanh-son"]
OTHER = [
    "road_damage",
    "street_lighting",
    "waste_collection",
    "noise",
    "electricity",
    "trees_parks",
    "traffic",
]


def one_report(rng: random.Random, n: int, total: int) -> tuple[str, tuple[float, float], float]:
    minutes_ago = 60 - n * 60 / total
    if rng.random() < 1 / 3:
        lat, lon = unit_centres()[rng.choice(FLOODED)]
        return (
            "drainage_flooding",
            (lat + rng.uniform(-0.004, 0.004), lon + rng.uniform(-0.004, 0.004)),
            minutes_ago,
        )
    south, west, north, east = city_bounds()
    return rng.choice(OTHER), (rng.uniform(south, north), rng.uniform(west, east)), minutes_ago


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--server", default="postgresql+psycopg://postgres@127.0.0.1:5432/postgres")
    parser.add_argument("--reports", type=int, default=1000)
    args = parser.parse_args()
    wiring.install()
    rng = random.Random(2026)
    timings: list[float] = []
    with scratch_database(args.server) as engine:
        with unit_of_work(engine) as session:
            seed_reference(session)
        for n in range(args.reports):
            category, point, minutes_ago = one_report(rng, n, args.reports)
            with unit_of_work(engine) as session:
                ticket = tickets.create_ticket(  # no category yet: triage gives it below
                    session,
                    tickets.NewTicket(
                        description="phản ánh thử",
                        channel=Channel.WEB,
                        contact=Contact(phone=f"091{rng.randrange(10**7):07d}"),
                        latitude=point[0],
                        longitude=point[1],
                        created_at=utcnow() - timedelta(minutes=minutes_ago),
                    ),
                )
                ticket.category_code = category
                session.flush()
                started = time.perf_counter()
                service.consider(session, ticket)
                timings.append(time.perf_counter() - started)
            if (n + 1) % 100 == 0:
                print(f"{n + 1} reports", flush=True)
        with unit_of_work(engine) as session:
            opened = session.exec(select(Incident)).all()
            grouped = sum(len(service.members(session, i.id or 0)) for i in opened)
    ms = sorted(t * 1000 for t in timings)
    median, p95, worst = statistics.median(ms), ms[int(len(ms) * 0.95)], ms[-1]
    print(f"consider: median {median:.2f} ms, p95 {p95:.2f} ms, max {worst:.2f} ms; {len(opened)} incidents")
    body = f"""`bench/incidents.py`: {args.reports:,} reports in one hour (a third of them flooding around
three neighbouring wards, the rest random categories and places in the city), each considered once as triage
classifies it (`incidents.service.consider`: join an open incident nearby, or count the surge around it).

| per report | median | p95 | max |
|---|---:|---:|---:|
| consider | {median:.2f} ms | {p95:.2f} ms | {worst:.2f} ms |

Incidents opened: {len(opened)}, grouping {grouped} reports. At 1,000 reports an hour the detector spends
about {sum(ms) / 1000:.1f} s of database time an hour. The machine runs other jobs on its 2 cores; take
the figures as an order of magnitude.
"""
    write_section("incidents", "Incidents: surge detector at 1,000 reports an hour", body)


if __name__ == "__main__":
    main()
