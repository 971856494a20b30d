"""/metrics parsed with the Prometheus text parser, the health probes, request ids on JSON log lines,
and error reports to a loopback stand-in for a Sentry ingestion endpoint."""

from __future__ import annotations

import asyncio
import gzip
import io
import json
import logging
import threading
from collections import Counter
from collections.abc import Callable, Iterator
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
import sentry_sdk
from celery import Celery
from fastapi import FastAPI
from fastapi.testclient import TestClient
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy import update
from sqlalchemy.engine import Engine

from channels.models import ChannelToken, OutboundMessage, OutboxState
from civicdesk.asgi import create_app
from civicdesk.celery_app import celery_app
from civicdesk.observability.errors import init_error_tracking
from civicdesk.observability.metrics import queue_depth
from kernel.db import unit_of_work
from kernel.observability import heartbeat, logs
from kernel.observability import tasks as task_figures
from kernel.observability.health import CheckResult, Readiness
from kernel.observability.heartbeat import ami_link_up
from kernel.settings import Settings, get_settings
from kernel.timeutil import utcnow
from sla import service as sla_service
from sla.boards import urgency_counts, worklist
from sla.models import ClockKind, ClockState, SlaClock
from telephony.service import TelephonyService
from telephony.simulator import AmiPeer
from tickets import service
from tickets.service import NewTicket
from tickets.staff import Role, User

POSTGRES_ONLY = pytest.mark.parametrize("engine", ["postgresql"], indirect=True)
LOOPBACK = ("127.0.0.1", 50000)

Samples = dict[tuple[str, frozenset[tuple[str, str]]], float]


def scrape(client: TestClient, **headers: str) -> Samples:
    answer = client.get("/metrics", headers=headers)
    assert answer.status_code == 200, answer.text
    assert answer.headers["content-type"].startswith("text/plain")
    return {
        (sample.name, frozenset(sample.labels.items())): sample.value
        for family in text_string_to_metric_families(answer.text)
        for sample in family.samples
    }


def value(samples: Samples, name: str, **labels: str) -> float:
    return samples.get((name, frozenset(labels.items())), 0.0)


@pytest.fixture
def app(engine: Engine) -> FastAPI:
    return create_app(engine)


@pytest.fixture
def local(app: FastAPI) -> Iterator[TestClient]:
    with TestClient(app, client=LOOPBACK) as client:
        yield client


def fresh_scrape(client: TestClient) -> Samples:
    client.app.state.metrics_state.forget()  # type: ignore[attr-defined]
    return scrape(client)


@POSTGRES_ONLY
def test_http_latency_by_route_template(local: TestClient, admin: dict[str, str]) -> None:
    labels = {"method": "GET", "route": "/api/v1/tickets/{ticket_id}", "status": "404"}
    before = value(scrape(local), "civicdesk_http_request_duration_seconds_count", **labels)
    assert local.get("/api/v1/tickets/999999", headers=admin).status_code == 404
    assert local.get("/api/v1/tickets/888888", headers=admin).status_code == 404
    samples = scrape(local)
    assert value(samples, "civicdesk_http_request_duration_seconds_count", **labels) == before + 2
    assert not [key for key in samples if ("route", "/api/v1/tickets/999999") in key[1]]  # never raw paths
    local.get("/no/such/page")
    assert (
        value(
            scrape(local),
            "civicdesk_http_request_duration_seconds_count",
            method="GET",
            route="unmatched",
            status="404",
        )
        >= 1
    )


@POSTGRES_ONLY
def test_state_gauges_follow_the_database(local: TestClient, engine: Engine) -> None:
    samples = fresh_scrape(local)
    assert value(samples, "civicdesk_dependency_up", dependency="database") == 1
    assert value(samples, "civicdesk_sla_tickets", state="breached") == 0
    expires = utcnow() + timedelta(hours=20)
    with unit_of_work(engine) as session:
        late = service.create_ticket(
            session, NewTicket(description="Đèn đường hỏng", category="street_lighting")
        )
        service.create_ticket(session, NewTicket(description="Rác ở chợ", category="street_lighting"))
        session.execute(
            update(SlaClock)
            .where(SlaClock.ticket_id == late.id, SlaClock.kind == ClockKind.RESOLUTION)  # type: ignore[arg-type]
            .values(due_at=utcnow() - timedelta(minutes=1))
        )
        for state in (OutboxState.QUEUED, OutboxState.FAILED, OutboxState.FAILED, OutboxState.SENT):
            session.add(
                OutboundMessage(channel="zalo", recipient="u1", purpose="reply", text="x", state=state)
            )
        session.add(ChannelToken(channel="zalo", access_token="a", refresh_token="r", expires_at=expires))
    task_figures.record(engine, task="routing.triage_ticket", outcome="success", seconds=0.03)
    task_figures.record(engine, task="routing.triage_ticket", outcome="success", seconds=0.2)
    task_figures.record(engine, task="routing.triage_ticket", outcome="failure", seconds=1.5)

    cached = scrape(local)
    assert value(cached, "civicdesk_sla_tickets", state="breached") == 0  # a scrape within seconds is cached
    samples = fresh_scrape(local)
    assert value(samples, "civicdesk_sla_tickets", state="breached") == 1
    assert value(samples, "civicdesk_sla_tickets", state="open") == 2
    assert ("civicdesk_nlp_model_load_failures_total", frozenset()) in samples  # the model alert is scraped
    assert value(samples, "civicdesk_outbox_messages", channel="zalo", state="failed") == 2
    assert value(samples, "civicdesk_outbox_messages", channel="zalo", state="queued") == 1
    assert value(samples, "civicdesk_outbox_messages", channel="zalo", state="sent") == 0
    assert value(
        samples, "civicdesk_channel_token_expiry_timestamp_seconds", channel="zalo"
    ) == pytest.approx(expires.timestamp())
    task = {"task": "routing.triage_ticket"}
    assert value(samples, "civicdesk_celery_task_duration_seconds_count", **task, outcome="success") == 2
    assert (
        value(samples, "civicdesk_celery_task_duration_seconds_bucket", **task, outcome="success", le="0.05")
        == 1
    )
    assert value(
        samples, "civicdesk_celery_task_duration_seconds_sum", **task, outcome="success"
    ) == pytest.approx(0.23)
    assert value(samples, "civicdesk_celery_task_duration_seconds_count", **task, outcome="failure") == 1
    queue = get_settings().task_queue
    assert ("civicdesk_celery_queue_depth", frozenset({("queue", queue)})) in samples


def test_queue_depth_on_redis() -> None:
    queue = f"depth-{utcnow().timestamp():.0f}"
    producer = Celery("depth", broker="redis://127.0.0.1:6379/0")
    try:
        assert queue_depth(producer, queue) == 0
        for _ in range(3):
            producer.send_task("nobody.listens", queue=queue)
        assert queue_depth(producer, queue) == 3
    finally:
        with producer.connection_for_write() as conn:
            conn.default_channel.queue_delete(queue)
        producer.close()


@pytest.fixture
def metrics_token(monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    monkeypatch.setenv("CIVICDESK_METRICS_TOKEN", "scrape-secret-0123456789")
    get_settings.cache_clear()
    yield "scrape-secret-0123456789"
    monkeypatch.delenv("CIVICDESK_METRICS_TOKEN")
    get_settings.cache_clear()


@POSTGRES_ONLY
def test_metrics_open_on_loopback_only_by_default(app: FastAPI) -> None:
    with TestClient(app, client=("203.0.113.9", 40000)) as remote:
        refused = remote.get("/metrics")
    assert refused.status_code == 403 and "CIVICDESK_METRICS_TOKEN" in refused.text


@POSTGRES_ONLY
def test_metrics_token_when_set(app: FastAPI, metrics_token: str) -> None:
    with TestClient(app, client=("203.0.113.9", 40000)) as remote:
        assert remote.get("/metrics").status_code == 401
        assert remote.get("/metrics", headers={"Authorization": "Bearer wrong"}).status_code == 401
        assert scrape(remote, Authorization=f"Bearer {metrics_token}")


# --- health --------------------------------------------------------------------------------------------


@POSTGRES_ONLY
def test_live_and_ready_name_what_fails(local: TestClient, engine: Engine, app: FastAPI) -> None:
    assert local.get("/health/live").json() == {"status": "ok"}
    answer = local.get("/health/ready")
    assert answer.status_code == 503
    body = answer.json()
    assert body["status"] == "not_ready" and set(body["failing"]) == {"worker", "beat"}
    assert body["checks"]["database"]["ok"] and body["checks"]["broker"]["ok"]
    assert body["checks"]["worker"]["detail"] == "no worker heartbeat yet"

    heartbeat.beat(engine, heartbeat.WORKER)
    heartbeat.beat(engine, heartbeat.BEAT, at=utcnow() - timedelta(hours=1))
    with TestClient(create_app(engine), client=LOOPBACK) as fresh:  # a new app: nothing cached
        body = fresh.get("/health/ready").json()
        assert body["failing"] == ["beat"] and "s ago" in body["checks"]["beat"]["detail"]
        heartbeat.beat(engine, heartbeat.BEAT)
        assert fresh.get("/health/ready").json()["failing"] == ["beat"]  # checked at most every few seconds
    with TestClient(create_app(engine), client=LOOPBACK) as fresh:
        answer = fresh.get("/health/ready")
        assert answer.status_code == 200 and answer.json()["status"] == "ready"
    assert local.get("/api/v1/health").status_code == 200  # the older endpoint still answers


# --- logs ----------------------------------------------------------------------------------------------


@pytest.fixture
def json_log() -> Iterator[io.StringIO]:
    root = logging.getLogger()
    saved = root.handlers[:], root.level
    stream = io.StringIO()
    logs.configure(Settings(log_format="json"), level="INFO", stream=stream)
    yield stream
    root.handlers, level = saved
    root.setLevel(level)


def json_lines(stream: io.StringIO) -> list[dict[str, object]]:
    return [json.loads(line) for line in stream.getvalue().splitlines() if line.strip()]


@POSTGRES_ONLY
def test_every_line_of_a_request_carries_its_id(
    local: TestClient, admin: dict[str, str], json_log: io.StringIO
) -> None:
    answer = local.post(
        "/api/v1/tickets",
        json={"description": "Cống thoát nước bị tắc ở phường Đô Vinh"},
        headers={**admin, "X-Request-ID": "req-42.abc"},
    )
    assert answer.status_code == 201 and answer.headers["X-Request-ID"] == "req-42.abc"
    lines = [line for line in json_lines(json_log) if line.get("request_id") == "req-42.abc"]
    events = {line["event"] for line in lines}
    assert {"http_request", "ticket created"} <= events
    request_line = next(line for line in lines if line["event"] == "http_request")
    assert request_line["route"] == "/api/v1/tickets" and request_line["status"] == 201
    assert all(line["level"] and line["timestamp"] for line in lines)

    made_up = local.get("/", headers={"X-Request-ID": "bad id\twith tab"}).headers["X-Request-ID"]
    assert made_up != "bad id\twith tab" and len(made_up) == 32


# --- error tracking --------------------------------------------------------------------------------------


class _Ingest(BaseHTTPRequestHandler):
    received: list[bytes] = []

    def do_POST(self) -> None:  # noqa: N802 - the standard library's name
        body = self.rfile.read(int(self.headers["Content-Length"]))
        if self.headers.get("Content-Encoding") == "gzip":
            body = gzip.decompress(body)
        self.received.append(body)
        self.send_response(200)
        self.end_headers()
        self.wfile.write(b"{}")

    def log_message(self, *_: object) -> None:
        pass


@pytest.fixture
def sentry_ingest() -> Iterator[Callable[[], list[bytes]]]:
    _Ingest.received = []
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Ingest)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    port = server.server_address[1]
    assert init_error_tracking("web", Settings(sentry_dsn=f"http://publickey@127.0.0.1:{port}/1"))
    try:
        yield lambda: _Ingest.received
    finally:
        sentry_sdk.get_client().close()
        sentry_sdk.init()  # no DSN: nothing is sent by later tests
        server.shutdown()
        server.server_close()


# Built from pieces so that the source lines Sentry sends as context do not hold them whole.
PHONE, EMAIL = "0912 345 " + "678", "an.nguyen" + "@example.vn"


@POSTGRES_ONLY
def test_unhandled_error_reported_without_personal_data(
    app: FastAPI, sentry_ingest: Callable[[], list[bytes]]
) -> None:
    @app.post("/boom")
    def boom(payload: dict[str, str]) -> dict[str, str]:
        raise RuntimeError(f"could not reach {payload['phone']} or {payload['email']}")

    with TestClient(app, raise_server_exceptions=False) as client:
        answer = client.post(f"/boom?phone={PHONE.replace(' ', '')}", json={"phone": PHONE, "email": EMAIL})
    assert answer.status_code == 500
    sentry_sdk.flush(timeout=10)
    envelopes = b"\n".join(sentry_ingest())
    assert b"RuntimeError" in envelopes and b"/boom" in envelopes
    for personal in (PHONE, PHONE.replace(" ", ""), EMAIL):
        assert personal.encode() not in envelopes


# --- AMI link -------------------------------------------------------------------------------------------


def telephony_beat(engine: Engine) -> heartbeat.Heartbeat | None:
    with unit_of_work(engine) as session:
        return heartbeat.read_all(session).get(heartbeat.TELEPHONY)


@POSTGRES_ONLY
def test_ami_link_state_reaches_metrics_and_readiness(engine: Engine) -> None:
    settings: dict[str, Settings] = {}

    async def main() -> None:
        peer = AmiPeer()
        await peer.start()
        settings["ami"] = Settings(
            ami_host="127.0.0.1", ami_port=peer.port, ami_username="civicdesk", ami_secret="s3cret"
        )
        service = TelephonyService(engine, settings["ami"])
        task = asyncio.ensure_future(service.run())
        try:
            await asyncio.wait_for(service.ready.wait(), 10)
            for _ in range(100):
                if telephony_beat(engine) is not None:
                    break
                await asyncio.sleep(0.05)
            up = telephony_beat(engine)
            assert up is not None and up.state == heartbeat.UP
            readiness = Readiness(engine, celery_app, settings["ami"])
            assert readiness.run()["ami"] == CheckResult(True, "link up")
            await peer.close()  # Asterisk goes away
            for _ in range(100):
                beat = telephony_beat(engine)
                if beat is not None and beat.state == heartbeat.DOWN:
                    break
                await asyncio.sleep(0.05)
        finally:
            service.stop()
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)

    asyncio.run(main())
    with unit_of_work(engine) as session:
        beats = heartbeat.read_all(session)
    assert beats[heartbeat.TELEPHONY].state == heartbeat.DOWN
    assert ami_link_up(beats, settings["ami"]) == 0


# --- SLA gauges and the board ---------------------------------------------------------------------------


@POSTGRES_ONLY
def test_sla_counts_agree_with_the_board_after_the_scan(engine: Engine) -> None:
    def resolution(ticket_id: int | None, **values: object) -> None:
        with unit_of_work(engine) as session:
            session.execute(
                update(SlaClock)
                .where(SlaClock.ticket_id == ticket_id, SlaClock.kind == ClockKind.RESOLUTION)  # type: ignore[arg-type]
                .values(**values)
            )

    with unit_of_work(engine) as session:
        tickets = {
            name: service.create_ticket(
                session, NewTicket(description=f"Đèn hỏng {name}", category="street_lighting")
            )
            for name in ("on_track", "scanned", "late", "at_risk", "paused")
        }
    past = utcnow() - timedelta(minutes=1)
    resolution(tickets["scanned"].id, due_at=past)
    with unit_of_work(engine) as session:
        assert sla_service.scan(session).breached == 1  # its clock is now in state "breached"
    resolution(tickets["late"].id, due_at=past)
    resolution(tickets["at_risk"].id, warn_at=past)
    resolution(tickets["paused"].id, state=ClockState.PAUSED)

    with unit_of_work(engine) as session:
        counted = urgency_counts(session)
        board = Counter(
            item.urgency for item in worklist(session, User(username="m", password_hash="", role=Role.ADMIN))
        )
    assert counted == board == Counter({"breached": 2, "at_risk": 1, "on_track": 1, "paused": 1})


@POSTGRES_ONLY
def test_task_figures_are_summed_before_they_are_written(engine: Engine) -> None:
    buffer = task_figures.FigureBuffer(lambda: engine, every=3600)  # flushed by hand here
    for seconds in (0.02, 0.02, 0.3, 7.0):
        buffer.add("channels.send_outbound", "success", seconds)
    buffer.add("channels.send_outbound", "retry", 0.5)
    with unit_of_work(engine) as session:
        assert task_figures.histograms(session) == []
    buffer.flush()
    buffer.flush()  # nothing pending: nothing added twice
    with unit_of_work(engine) as session:
        retry, success = task_figures.histograms(session)  # by task, then outcome
    assert (retry.outcome, sum(retry.counts.values())) == ("retry", 1)
    assert success.counts == {"0.025": 2, "0.5": 1, "10.0": 1}
    assert success.seconds_sum == pytest.approx(7.34)
    assert success.cumulative()[-1] == ("+Inf", 4.0)
