"""What an engine has open at a given moment, counted by SQLAlchemy's own pool and connection events: the
tests that prove slow outside work (speech, HTTP) runs with no connection or transaction held use it."""

from __future__ import annotations

from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import Engine


class Openness:
    """What the engine has open right now: connections out of the pool, transactions begun."""

    def __init__(self, engine: Engine) -> None:
        self.connections = 0
        self.transactions = 0
        self.seen: list[tuple[int, int]] = []
        event.listen(engine.pool, "checkout", self._checkout)
        event.listen(engine.pool, "checkin", self._checkin)
        event.listen(engine, "begin", self._begin)
        event.listen(engine, "commit", self._end)
        event.listen(engine, "rollback", self._end)

    def _checkout(self, *_: Any) -> None:
        self.connections += 1

    def _checkin(self, *_: Any) -> None:
        self.connections -= 1

    def _begin(self, *_: Any) -> None:
        self.transactions += 1

    def _end(self, *_: Any) -> None:
        self.transactions = max(0, self.transactions - 1)

    def note(self) -> None:
        self.seen.append((self.connections, self.transactions))
