"""The names a status page masks are read two ways: by the page's one statement
(``tickets.public.STATUS_EXTRAS_SQL``, issue 22) and by ``tickets.public.conversation_names`` (the ORM, for
Open311's lists and the conversation). A change to who is masked must reach both: this test builds the
situations the rule knows (the reporter, a report merged into this one and the one this was merged into,
staff who acted, the assignee, a one-word account name that is no one's name, a reporter whose record
was merged into another) and checks that both ways find the same names for every ticket."""

from __future__ import annotations

import asyncio

from sqlalchemy.engine import Engine

from flows.status_page import StatusRead, _parsed, read_status
from kernel.db import unit_of_work
from kernel.statement_pool import StatementPool
from tickets import merges
from tickets.citizens import Contact
from tickets.models import ActorType, Channel, Ticket
from tickets.public import _names_and_photos, conversation_names
from tickets.service import Actor, NewTicket, add_comment, assign, create_ticket, merge
from tickets.staff import Role, User


def _report(engine: Engine, name: str, phone: str, text: str) -> Ticket:
    with unit_of_work(engine) as session:
        draft = NewTicket(
            description=text,
            category="street_lighting",
            ward="phan-rang",
            contact=Contact(phone=phone, name=name),
            channel=Channel.WEB,
        )
        ticket = create_ticket(session, draft)
        session.expunge(ticket)
        return ticket


def _staff(engine: Engine, *names: str) -> list[int]:
    with unit_of_work(engine) as session:
        people = [
            User(username=f"nv{i}", full_name=name, role=Role.SUPERVISOR, password_hash="-")
            for i, name in enumerate(names)
        ]
        session.add_all(people)
        session.flush()
        return [person.id or 0 for person in people]


def _status_reads(engine: Engine, tokens: list[str]) -> list[StatusRead]:
    async def read_all() -> list[StatusRead]:
        pool = StatementPool(engine, connections=1)
        try:
            reads = [await read_status(pool, token) for token in tokens]
        finally:
            await pool.close()
        assert all(read is not None for read in reads)
        return [read for read in reads if read is not None]

    return asyncio.run(read_all())


def test_the_status_statement_and_the_orm_mask_the_same_names(engine: Engine) -> None:
    main = _report(engine, "Trần Thị Bích", "0912000101", "Đèn đường hỏng trước nhà số 12")
    copy = _report(engine, "Ngô Thị Hồng", "0912000102", "Đèn đường hỏng trước số 12, tối om")
    moved = _report(engine, "xuka nobita", "0912000103", "Cột đèn nghiêng ở hẻm 3")
    keeper = _report(engine, "Lê Văn Cường", "0912000104", "Đèn chớp tắt cả đêm")
    worker, lead, account = _staff(engine, "Phạm Minh Khôi", "Đặng Thu Thảo", "quantri")
    with unit_of_work(engine) as session:
        assert main.id and copy.id and moved.citizen_id and keeper.citizen_id
        add_comment(session, main.id, text="Đã nhận.", public=True, actor=Actor(ActorType.STAFF, worker))
        add_comment(session, main.id, text="Ghi chú.", public=False, actor=Actor(ActorType.STAFF, account))
        assign(session, main.id, department="qldt", assignee_id=lead, actor=Actor(ActorType.STAFF, lead))
        merge(session, copy.id, into_id=main.id, actor=Actor(ActorType.STAFF, worker))
        merges.merge(session, source_id=moved.citizen_id, target_id=keeper.citizen_id)
    tickets = [main, copy, moved, keeper]
    reads = _status_reads(engine, [t.tracking_token for t in tickets])
    with unit_of_work(engine) as session:
        for ticket, read in zip(tickets, reads, strict=True):
            by_statement, _photos = _names_and_photos(session, read.ticket, _parsed(read.extras))
            by_orm = conversation_names(session, session.get_one(Ticket, ticket.id))
            assert sorted(by_statement) == sorted(by_orm), ticket.description
    # the situations were there: otherwise both ways could agree on nothing
    with unit_of_work(engine) as session:
        names_of_main = conversation_names(session, session.get_one(Ticket, main.id))
        names_of_copy = conversation_names(session, session.get_one(Ticket, copy.id))
        names_of_moved = conversation_names(session, session.get_one(Ticket, moved.id))
    assert {"Trần Thị Bích", "Ngô Thị Hồng", "Phạm Minh Khôi", "Đặng Thu Thảo"} <= set(names_of_main)
    assert "quantri" not in names_of_main
    assert "Trần Thị Bích" in names_of_copy
    assert "xuka nobita" in names_of_moved
