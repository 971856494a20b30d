"""Where a public read's time goes (issue 22): cProfile around the status page, its JSON and the public
list page and API, each called directly on the kept million-ticket database (bench/million.py), rendered
cold (nothing kept: the process's pages cleared, no shared cache) and then kept. cProfile sees only the
calling thread, hence the direct calls rather than requests through a server.

    .venv/bin/python bench/public_profile.py [--database postgresql+psycopg://postgres@127.0.0.1:5432/civicdesk_load]
        [--calls 60] [--top 12]
"""

from __future__ import annotations

import argparse
import cProfile
import io
import os
import pstats
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("CIVICDESK_VAR_DIR", tempfile.mkdtemp(prefix="civicdesk-profile-"))
os.environ["CIVICDESK_CACHE_URL"] = "off"  # a cold render is what is profiled; kept ones are timed below
os.environ["CIVICDESK_PUBLIC_LIST_SECONDS"] = "0"

from sqlalchemy import text  # noqa: E402
from starlette.requests import Request  # noqa: E402

from bench.report import write_section  # noqa: E402


def _request(path: str) -> Request:
    return Request(
        {
            "type": "http",
            "method": "GET",
            "path": path,
            "query_string": b"",
            "headers": [],
            "client": ("127.0.0.1", 1),
            "app": None,
            "root_path": "",
        }
    )


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--database", default="postgresql+psycopg://postgres@127.0.0.1:5432/civicdesk_load")
    parser.add_argument("--calls", type=int, default=60)
    parser.add_argument("--top", type=int, default=12)
    args = parser.parse_args()
    os.environ["CIVICDESK_DATABASE_URL"] = args.database

    from civicdesk import wiring
    from kernel.db import make_engine, unit_of_work
    from web import status_cache
    from web.api import public as api
    from web.pages import public as pages

    wiring.install()
    engine = make_engine(args.database)
    with engine.connect() as conn:
        found = conn.execute(
            text("SELECT tracking_token FROM ticket WHERE id % 991 = 0 LIMIT :n"), {"n": args.calls}
        )
        tokens = [row[0] for row in found]

    def status(i: int, kept: bool) -> None:
        with unit_of_work(engine) as session:
            if not kept:
                status_cache.PAGES.clear()
            pages.status_page(_request(f"/t/{tokens[i]}"), tokens[i], session)

    def status_json(i: int, kept: bool) -> None:
        with unit_of_work(engine) as session:
            if not kept:
                status_cache.PAGES.clear()
            api.report_by_token(_request("/api"), tokens[i], session)

    def reports(_i: int, _kept: bool) -> None:
        with unit_of_work(engine) as session:
            pages.public_reports(_request("/reports"), session, page=1)

    def public_list(_i: int, _kept: bool) -> None:
        with unit_of_work(engine) as session:
            api.list_reports(session, None, None, None, 100)

    calls: dict[str, Callable[[int, bool], None]] = {
        "`GET /t/{token}`, cold": status,
        "`GET /api/v1/public/reports/{token}`, cold": status_json,
        "`GET /reports`, rendered": reports,
        "`GET /api/v1/public/reports`, rendered": public_list,
    }
    parts = [
        f"cProfile around the functions behind each read, called directly {len(tokens)} times in one thread"
        f" on the kept database (1,000,000 tickets; another token each call), nothing kept (no shared cache,"
        f" the process's pages cleared before each call); load average at the start {os.getloadavg()[0]:.2f}"
        " (the machine is shared: the times are an upper bound, the shares are what counts). Top functions"
        " by own time and by cumulative time (our code only in the second list)."
    ]
    parts.append(BEFORE)
    for label, call in calls.items():
        parts.append(_profile(label, call, len(tokens), args.top))
    kept = []
    for label, call in (("`GET /t/{token}`", status), ("`GET /api/v1/public/reports/{token}`", status_json)):
        for i in range(len(tokens)):
            call(i, True)  # rendered and kept in the process
        started = time.perf_counter()
        for i in range(len(tokens)):
            call(i, True)
        kept.append(f"{label}: {(time.perf_counter() - started) / len(tokens) * 1000:.2f} ms")
    parts.append(
        "Kept (the version statement, the kept bytes, the headers), per call: " + "; ".join(kept) + "."
    )
    write_section(
        "public-profile", "Public reads at a million tickets: where the time goes", "\n\n".join(parts)
    )
    print("\n\n".join(parts))


BEFORE = """Before issue 22's shared cache (the same profile at commit d36cb70, load average ~5): a cold
status page 36-52 ms a call, of which `conversation_names_of` 47-51 % (called twice: by `public_report` and
again by `public_events`), `names_of_reporters`/`first_owners` 25 %, the version statement 9 %, the SLA
deadline 7 %, the timeline 7 %, masking 5 %, the template 4 %; `/reports` 167 ms a call: the capped count
41 ms, the page of reports 36 ms, the map 41 ms (`voronoi_cells` computed twice per view, 25 ms), the map's
points 15 ms, the template 28 ms. Since then the names are read once per status page, the cells once per
process, and kept pages and lists are served from the shared cache (see the load section's kept rows)."""


def _profile(label: str, call: Callable[[int, bool], None], calls: int, top: int) -> str:
    for i in range(min(3, calls)):
        call(i, False)  # warm: imports, templates, the reference tables
    profile = cProfile.Profile()
    started = time.perf_counter()
    profile.enable()
    for i in range(calls):
        call(i, False)
    profile.disable()
    each = (time.perf_counter() - started) / calls * 1000
    out = io.StringIO()
    stats = pstats.Stats(profile, stream=out)
    stats.sort_stats("tottime").print_stats(top)
    own = _table_lines(out.getvalue())
    out = io.StringIO()
    stats = pstats.Stats(profile, stream=out)
    stats.sort_stats("cumulative").print_stats(str(ROOT) + r"/(?!\.venv|bench)", top)
    ours = _table_lines(out.getvalue())
    return f"#### {label}: {each:.1f} ms a call (profiled)\n\n```\n{own}\n```\n\n```\n{ours}\n```"


def _table_lines(printed: str) -> str:
    lines = printed.splitlines()
    start = next(i for i, line in enumerate(lines) if line.strip().startswith("ncalls"))
    return "\n".join(line.replace(str(ROOT) + "/", "") for line in lines[start:] if line.strip())


if __name__ == "__main__":
    main()
