"""Two concurrent moves of one ticket cannot both win: the second waits for the first's row lock,
then sees the new status and is refused."""

from __future__ import annotations

import threading
import time

from sqlalchemy.engine import Engine

from kernel.db import unit_of_work
from kernel.errors import Conflict
from tickets import service
from tickets.models import Status
from tickets.service import SYSTEM, NewTicket


def test_two_concurrent_transitions_cannot_both_win(engine: Engine) -> None:
    with unit_of_work(engine) as session:
        ticket_id = service.create_ticket(session, NewTicket(description="Cây đổ chắn đường Yên Ninh")).id
    assert ticket_id is not None
    first_holds_lock = threading.Event()
    release_first = threading.Event()
    outcomes: dict[str, object] = {}

    def first() -> None:
        with unit_of_work(engine) as session:
            service.transition(session, ticket_id, Status.REJECTED, actor=SYSTEM, reason="ngoài phạm vi")
            first_holds_lock.set()
            release_first.wait(10)
        outcomes["first"] = "won"

    def second() -> None:
        first_holds_lock.wait(10)
        try:
            with unit_of_work(engine) as session:
                service.transition(session, ticket_id, Status.TRIAGED, actor=SYSTEM)
            outcomes["second"] = "won"
        except Conflict as refused:
            outcomes["second"] = refused

    threads = [threading.Thread(target=first), threading.Thread(target=second)]
    for thread in threads:
        thread.start()
    first_holds_lock.wait(10)
    time.sleep(0.3)  # let the second reach the lock; correctness does not depend on this pause
    assert "second" not in outcomes, "the second transition must wait for the first's lock"
    release_first.set()
    for thread in threads:
        thread.join(20)
    assert outcomes["first"] == "won"
    assert isinstance(outcomes["second"], Conflict)
    assert outcomes["second"].detail["current"] == "rejected"
    with unit_of_work(engine) as session:
        assert service.get_ticket(session, ticket_id).status == Status.REJECTED
        assert [e.data.get("new") for e in service.timeline(session, ticket_id)][1:] == ["rejected"]


def test_concurrent_creators_never_share_a_code(engine: Engine) -> None:
    codes: list[str] = []
    lock = threading.Lock()

    def create() -> None:
        for _ in range(5):
            with unit_of_work(engine) as session:
                code = service.create_ticket(session, NewTicket(description="Ngập nước đường Lê Duẩn")).code
            with lock:
                codes.append(code)

    threads = [threading.Thread(target=create) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert len(codes) == 20 and len(set(codes)) == 20
