"""The embedded run as a new user meets it, from an empty folder with no CIVICDESK_* variable set:

1. seconds from starting `civicdesk run --port P` to /api/v1/health answering 200 (migrations, reference
   and demo data included, as `make run` does them);
2. seconds from a report filed through the public web form, right after that, to its classification
   (its public status leaves `new`), with the demo tickets' triage queued ahead of it;
3. background tasks per second through a real worker (the run's own pool: threads, concurrency 4) on
   the embedded broker and on the system Redis, with the run still up so both see the same load;
4. SIGTERM to the run, then a search for any process of it left behind.

    .venv/bin/python bench/embedded_run.py [--tasks 2000] [--rounds 3] [--redis redis://127.0.0.1:6379/0]
"""

from __future__ import annotations

import argparse
import os
import re
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import httpx  # noqa: E402
import psutil  # noqa: E402
from celery import Celery  # noqa: E402
from kombu import Connection  # noqa: E402
from kombu.exceptions import ChannelError  # noqa: E402

from bench.report import write_section  # noqa: E402

BIN = Path(sys.executable).parent
REPORT = "Đèn đường bị hỏng, tối om cả đoạn đường Thống Nhất trước số 120, phường Phủ Hà, rất nguy hiểm"
CLASSIFY_GOAL_SECONDS = 5.0
THROUGHPUT_GOAL = 0.5


@dataclass
class Figures:
    healthy_s: float = 0.0
    classified_s: float | None = None
    classified_as: str = ""
    queued_ahead: int = 0
    link: str = ""
    link_ok: bool = False
    rates: dict[str, list[float]] = field(default_factory=dict)
    enqueue: dict[str, list[float]] = field(default_factory=dict)
    timeline: list[str] = field(default_factory=list)
    load: str = ""
    stop_s: float | None = None
    left_behind: list[str] = field(default_factory=list)


def clean_env(folder: Path) -> dict[str, str]:
    """The environment of a new user: nothing of ours configured, so the embedded defaults apply."""
    env = {name: value for name, value in os.environ.items() if not name.startswith("CIVICDESK_")}
    env["PATH"] = f"{BIN}{os.pathsep}{env.get('PATH', '')}"
    env["PWD"] = str(folder)
    return env


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def wait_for(check: Callable[[], bool], timeout: float, what: str, pause: float = 0.02) -> float:
    started = time.perf_counter()
    while not check():
        if time.perf_counter() - started > timeout:
            raise SystemExit(f"gave up after {timeout:.0f} s waiting for {what}")
        time.sleep(pause)
    return time.perf_counter() - started


def answers(http: httpx.Client, path: str) -> bool:
    try:
        return http.get(path).status_code == 200
    except httpx.TransportError:
        return False


# --- 1 and 2: healthy, then the first report --------------------------------------------------------


def file_report(http: httpx.Client) -> str:
    form = http.get("/report").text
    submission = re.search(r'name="submission_id" value="([0-9a-f]{32})"', form)
    assert submission, "the report form has no submission_id"
    data = {"text": REPORT, "address": "", "phone": "", "email": "", "website": ""}  # website: honeypot
    filed = http.post("/report", data={**data, "submission_id": submission.group(1)}, follow_redirects=False)
    assert filed.status_code == 303, filed.text[:300]
    token = re.fullmatch(r"/t/([A-Za-z0-9_-]+)\?new=1", filed.headers["location"])
    assert token, filed.headers["location"]
    return token.group(1)


def tracking_link(http: httpx.Client, token: str) -> str:
    """The link the status page hands the citizen right after filing."""
    page = http.get(f"/t/{token}?new=1").text
    link = re.search(r'data-testid="tracking-link" href="([^"]+)"', page)
    return link.group(1) if link else "(none on the page)"


def classification(http: httpx.Client, token: str) -> str | None:
    report = http.get(f"/api/v1/public/reports/{token}").json()
    return None if report["status"] == "new" else f"{report['category_code']} ({report['status']})"


# --- 3: tasks per second ----------------------------------------------------------------------------


def queue_size(conn: Connection, queue: str) -> int:
    try:
        return int(conn.default_channel.queue_declare(queue=queue, passive=True).message_count)
    except ChannelError:  # a Redis list that is empty no longer exists
        return 0


def fill(url: str, queue: str, count: int) -> float:
    """Queue ``count`` no-op tasks (Celery's built-in `celery.accumulate`); seconds it took."""
    producer_app = Celery("bench-producer", broker=url)
    started = time.perf_counter()
    with producer_app.producer_or_acquire() as producer:
        for n in range(count):
            producer_app.send_task(
                "celery.accumulate", args=(n,), queue=queue, ignore_result=True, producer=producer
            )
    elapsed = time.perf_counter() - started
    producer_app.close()
    return elapsed


def drain_rate(url: str, queue: str, count: int, folder: Path, env: dict[str, str], cap_s: float) -> float:
    """Start a worker like the run's on a full queue; tasks per second from its first take to empty."""
    worker_env = {**env, "CIVICDESK_VAR_DIR": str(folder / "var"), "CIVICDESK_BROKER_URL": url}
    worker_env["CIVICDESK_TASK_QUEUE"] = queue
    # the pool `civicdesk run` gives its worker (civicdesk/cli.py, _start_children)
    pool = ["--pool", "threads", "--concurrency", "4", "--prefetch-multiplier", "4"]
    command = [str(BIN / "civicdesk"), "worker", "-Q", queue, *pool]
    command += ["-l", "warning", "--without-gossip", "--without-mingle", "-n", f"{queue}@%h"]
    with running(command, folder, worker_env, folder / f"{queue}.log"), Connection(url) as conn:
        wait_for(lambda: queue_size(conn, queue) < count, 120, "the worker's first task", pause=0.005)
        first_seen = time.perf_counter()
        left_at_start = left = queue_size(conn, queue)
        while left > 0 and time.perf_counter() - first_seen < cap_s:
            time.sleep(0.02)
            left = queue_size(conn, queue)
        return (left_at_start - left) / (time.perf_counter() - first_seen)


def throughput(figures: Figures, brokers: dict[str, str], args: argparse.Namespace, folder: Path) -> None:
    env = clean_env(folder)
    for round_number in range(args.rounds):
        order = list(brokers) if round_number % 2 == 0 else list(reversed(brokers))
        for name in order:
            queue = f"bench-{uuid.uuid4().hex[:8]}"
            figures.enqueue.setdefault(name, []).append(args.tasks / fill(brokers[name], queue, args.tasks))
            rate = drain_rate(brokers[name], queue, args.tasks, folder, env, args.cap)
            figures.rates.setdefault(name, []).append(rate)
            print(f"round {round_number + 1}: {name} {rate:.0f} tasks/s", flush=True)
            purge(brokers[name], queue)


def purge(url: str, queue: str) -> None:
    with Connection(url) as conn:
        conn.default_channel.queue_delete(queue)


# --- processes --------------------------------------------------------------------------------------


@contextmanager
def running(
    command: list[str], folder: Path, env: dict[str, str], log: Path
) -> Iterator[subprocess.Popen[bytes]]:
    with open(log, "ab") as out:
        process = subprocess.Popen(command, cwd=folder, env=env, stdout=out, stderr=subprocess.STDOUT)
    try:
        yield process
    finally:
        if process.poll() is None:
            process.terminate()
            try:
                process.wait(30)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


def processes_of(folder: Path) -> list[psutil.Process]:
    """Processes working in the run's folder or naming it (its worker and beat run there; the embedded
    servers keep their data there, in sessions of their own)."""
    found = []
    for process in psutil.process_iter(["cmdline", "cwd", "name"]):
        cmdline = " ".join(process.info["cmdline"] or [])
        if process.pid != os.getpid() and (
            str(folder) in cmdline or str(process.info["cwd"] or "").startswith(str(folder))
        ):
            found.append(process)
    return found


def kind_of(process: psutil.Process) -> str:
    cmdline = " ".join(process.info["cmdline"] or [])
    return "celery worker or beat" if "celery" in cmdline else str(process.info["name"])


def stop_run(run: subprocess.Popen[bytes], folder: Path, figures: Figures) -> None:
    """SIGTERM, as a service manager or Ctrl-C sends; then whatever is left is noted, and stopped."""
    started = time.perf_counter()
    run.send_signal(signal.SIGTERM)
    try:
        run.wait(60)
        figures.stop_s = time.perf_counter() - started
    except subprocess.TimeoutExpired:
        figures.left_behind.append("civicdesk run itself (still up 60 s after SIGTERM)")
        run.kill()
        run.wait()
    time.sleep(1.0)  # children already on their way out are not counted
    leftovers = processes_of(folder)
    kinds = Counter(kind_of(p) for p in leftovers)
    figures.left_behind += [f"{kind} ×{count}" for kind, count in sorted(kinds.items())]
    for process in leftovers:
        process.terminate()
    _, alive = psutil.wait_procs(leftovers, timeout=15)
    for process in alive:
        process.kill()


# --- the run ----------------------------------------------------------------------------------------


def embedded_broker(folder: Path) -> str:
    """The Valkey the run started in its folder (found by the same code, which reuses a running one)."""
    from kernel.embedded import broker_url

    return broker_url(folder / "var")


MILESTONES = re.compile(r"^(database:|reference data:|demo tickets:|CivicDesk)")


def keep_output(run: subprocess.Popen[bytes], log: Path, started: float, timeline: list[str]) -> None:
    """The run's output to its log, and when each step of its start was reached."""
    assert run.stdout is not None
    with open(log, "ab") as out:
        for raw in run.stdout:
            out.write(raw)
            line = raw.decode(errors="replace").strip()
            if MILESTONES.match(line):
                timeline.append(f"{time.perf_counter() - started:6.1f} s  {line[:90]}")


def measure(args: argparse.Namespace) -> Figures:
    figures = Figures(load=f"{os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")
    folder = Path(tempfile.mkdtemp(prefix="civicdesk-run-bench-"))
    port = free_port()
    log = folder / "run.log"
    started = time.perf_counter()
    run = subprocess.Popen(
        [str(BIN / "civicdesk"), "run", "--port", str(port)],
        cwd=folder,
        env=clean_env(folder),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    threading.Thread(target=keep_output, args=(run, log, started, figures.timeline), daemon=True).start()
    try:
        with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=30) as http:
            wait_for(lambda: run.poll() is not None or answers(http, "/api/v1/health"), 600, "healthy", 0.05)
            if run.poll() is not None:
                raise SystemExit(f"civicdesk run exited with {run.returncode}; see {log}")
            figures.healthy_s = time.perf_counter() - started
            print(f"healthy after {figures.healthy_s:.1f} s", flush=True)
            broker = embedded_broker(folder)
            with Connection(broker) as conn:
                figures.queued_ahead = queue_size(conn, "celery")  # the run's own queue
            token = file_report(http)
            filed = time.perf_counter()
            outcome: list[str] = []

            def classified() -> bool:
                found = classification(http, token)
                outcome.extend([found] if found else [])
                return bool(found)

            wait_for(classified, args.classify_timeout, "the first report's classification", 0.05)
            figures.classified_s = time.perf_counter() - filed
            figures.link = tracking_link(http, token)
            figures.link_ok = figures.link == f"http://127.0.0.1:{port}/t/{token}"
            figures.classified_as = outcome[0]
            print(f"classified after {figures.classified_s:.2f} s as {figures.classified_as}", flush=True)
        brokers = {"embedded": broker, "system Redis": args.redis}
        throughput(figures, brokers, args, folder)
    finally:
        stop_run(run, folder, figures)
    return figures


def section(figures: Figures, args: argparse.Namespace) -> str:
    median = {name: statistics.median(rates) for name, rates in figures.rates.items()}
    ratio = median["embedded"] / median["system Redis"]
    classified = (
        f"**{figures.classified_s:.2f} s** ({figures.classified_as})" if figures.classified_s else "never"
    )
    link = "yes" if figures.link_ok else f"no: {figures.link}"
    stopped = f"{figures.stop_s:.1f} s" if figures.stop_s is not None else "did not stop in 60 s"
    rows = "\n".join(
        f"| {name} | **{median[name]:.0f}** | {', '.join(f'{r:.0f}' for r in rates)} |"
        f" {statistics.median(figures.enqueue[name]):.0f} |"
        for name, rates in figures.rates.items()
    )
    timeline = "\n".join(f"    {line}" for line in figures.timeline) or "    (nothing printed)"
    left = "none" if not figures.left_behind else "; ".join(figures.left_behind)
    return f"""
`bench/embedded_run.py`: `civicdesk run --port <free port>` in an empty temporary folder with no
`CIVICDESK_*` variable set, so it uses its embedded engines. Load average when it started:
{figures.load} (the machine is shared; figures move with it). Its start, as it printed it:

{timeline}

| measure | value | goal |
|---|---|---|
| start to `/api/v1/health` 200 (migrate, seed, demo data) | **{figures.healthy_s:.1f} s** | |
| first report through the web form → classified | {classified} | < {CLASSIFY_GOAL_SECONDS:.0f} s |
| tasks queued ahead of it when it was filed (demo tickets' triage) | {figures.queued_ahead} | |
| the citizen's tracking link uses the served address | {link} | yes |
| background tasks per second, embedded ÷ system Redis | **{ratio:.2f}** | ≥ {THROUGHPUT_GOAL} |
| SIGTERM to the run → exited | {stopped} | |
| processes of the run left after it exited | {left} | none |

Tasks per second: {args.tasks} no-op tasks (Celery's built-in `celery.accumulate`, results ignored)
queued first, then one worker like the run's own (`--pool threads --concurrency 4
--prefetch-multiplier 4`, late acknowledgement) started on them; the rate counts from its first
take until the queue is empty (or {args.cap:.0f} s), polling the queue length; {args.rounds} round(s),
brokers alternating, the run still up.

| broker | tasks/s (median) | each round | queued/s (median) |
|---|---:|---|---:|
{rows}
"""


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--tasks", type=int, default=2000, help="no-op tasks per throughput round")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--cap", type=float, default=60.0, help="longest seconds to drain one round")
    parser.add_argument("--classify-timeout", type=float, default=600.0)
    parser.add_argument("--redis", default="redis://127.0.0.1:6379/0", help="the system Redis to compare")
    args = parser.parse_args()
    figures = measure(args)
    body = section(figures, args)
    print(body)
    write_section("embedded-run", "Embedded run: start, first report, background tasks", body)


if __name__ == "__main__":
    main()
