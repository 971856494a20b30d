"""A ticket's life as flows/ticket_life.py tells it, and the entry points that hand that flow to the ticket
core: a report arrives and has its SLA clocks, its receipt queued and its triage; a process that never
named the flow cannot file a ticket at all (it used to file one silently with no clock and no triage)."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap

from sqlalchemy.engine import Engine
from sqlmodel import select

from channels.models import OutboundMessage
from kernel.db import unit_of_work
from routing import triage
from sla.models import ClockKind, ClockState, SlaClock
from tickets import service as tickets
from tickets.citizens import Contact
from tickets.models import EventKind, Status, Ticket
from tickets.service import CITIZEN, NewTicket

REPORT = NewTicket(
    description="Đèn đường trước số 12 Lê Lợi, phường Vinh Phú bị tắt cả tuần nay",
    contact=Contact(email="nguoidan@example.vn"),
)


def test_a_report_arrives_gets_its_clocks_its_receipt_and_then_its_triage(engine: Engine) -> None:
    with unit_of_work(engine) as session:
        ticket_id = tickets.create_ticket(session, REPORT, actor=CITIZEN).id
    assert ticket_id is not None

    with unit_of_work(engine) as session:
        clocks = session.exec(select(SlaClock).where(SlaClock.ticket_id == ticket_id)).all()
        assert {(c.kind, c.state) for c in clocks} == {
            (ClockKind.RESPONSE, ClockState.RUNNING),
            (ClockKind.RESOLUTION, ClockState.RUNNING),
        }
        outbox = session.exec(select(OutboundMessage).where(OutboundMessage.ticket_id == ticket_id)).all()
        assert [m.purpose for m in outbox] == ["receipt"]

    with unit_of_work(engine) as session:  # what the worker's routing.triage_ticket, sent after commit, does
        assert triage.apply(session, ticket_id) is not None
    with unit_of_work(engine) as session:
        ticket = session.get(Ticket, ticket_id)
        assert ticket is not None and ticket.triaged_at is not None and ticket.status != Status.NEW
        kinds = [e.kind for e in tickets.timeline(session, ticket_id)]
        assert kinds[0] == EventKind.CREATED and EventKind.CLASSIFIED in kinds


def _fresh_process(code: str) -> subprocess.CompletedProcess[str]:
    """Each entry point in a process of its own: in this one, conftest has installed the flow already."""
    return subprocess.run(  # noqa: S603 - our own interpreter and code
        [sys.executable, "-c", textwrap.dedent(code)],
        capture_output=True,
        text=True,
        timeout=120,
        env=os.environ.copy(),
        check=False,
    )


FOLLOWED = "from tickets.life import follower; print(type(follower()).__name__)"


def test_the_web_app_hands_the_flow_to_the_ticket_core() -> None:
    done = _fresh_process(f"from civicdesk.asgi import create_app; create_app()\n{FOLLOWED}")
    assert done.stdout.strip() == "CityFlows", done.stderr


def test_the_celery_app_hands_the_flow_to_the_ticket_core() -> None:
    done = _fresh_process(f"import civicdesk.celery_app\n{FOLLOWED}")
    assert done.stdout.strip() == "CityFlows", done.stderr


def test_every_cli_command_hands_the_flow_to_the_ticket_core() -> None:
    done = _fresh_process(
        f"""
        from click.testing import CliRunner
        from civicdesk.cli import main
        result = CliRunner().invoke(main, ["db", "--help"])
        assert result.exit_code == 0, result.output
        {FOLLOWED}
        """
    )
    assert done.stdout.strip() == "CityFlows", done.stderr


def test_importing_a_domains_tasks_installs_nothing() -> None:
    done = _fresh_process(
        """
        import sys
        from tickets.life import Unfollowed, follower
        import channels.tasks, incidents.tasks, ioc.tasks, routing.tasks, sla.tasks, telephony.tasks
        import notifications.tasks, tickets.tasks
        print("civicdesk.celery_app" in sys.modules)
        try:
            follower()
        except Unfollowed:
            print("unfollowed")
        """
    )
    assert done.stdout.split() == ["False", "unfollowed"], done.stderr


def test_a_process_that_named_no_flow_cannot_change_a_ticket() -> None:
    done = _fresh_process(
        """
        from sqlmodel import Session
        from tickets.life import Unfollowed
        from tickets.models import EventKind, Ticket
        from tickets.service import record_event
        try:
            record_event(Session(), Ticket(id=1, code="X", title="x", description="x"), EventKind.COMMENT)
        except Unfollowed as refused:
            print(refused)
        """
    )
    assert "civicdesk.wiring.install()" in done.stdout, done.stderr
