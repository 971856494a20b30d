"""Run by tests/test_after_commit.py as a process of its own, configured like production through the
environment: creates tickets in one transaction, each in a savepoint (one of them rolled back), prints
what it kept, then waits for a line on stdin before committing, so the test can look at the broker
while the transaction is still open."""

from __future__ import annotations

import json
import sys

from civicdesk import wiring
from kernel.db import unit_of_work
from tickets import service
from tickets.service import NewTicket


class Abandoned(Exception):
    pass


def main(count: int) -> None:
    wiring.install()
    with unit_of_work() as session:
        kept = []
        for n in range(count):
            with session.begin_nested():
                draft = NewTicket(description=f"Đèn đường số {n} ở phường Đô Vinh bị hỏng")
                kept.append(service.create_ticket(session, draft).id)
        try:
            with session.begin_nested():
                service.create_ticket(session, NewTicket(description="Báo cáo bị huỷ giữa chừng"))
                raise Abandoned
        except Abandoned:
            pass
        print(json.dumps({"kept": kept}), flush=True)
        sys.stdin.readline()
    print("committed", flush=True)


if __name__ == "__main__":
    main(int(sys.argv[1]))
