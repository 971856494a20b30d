"""Categories, departments and wards held in the process, so a list of a thousand tickets costs no lookup
per ticket.

Administrators edit these tables rarely, and from any web worker: each use asks PostgreSQL for a fingerprint
of the three tables (every row's key and ``xmin``, which changes with each committed insert, update or
delete — one statement over a hundred small rows) and reloads only when it differs. A change is therefore
seen by every process at its next request, with no invalidation to forget and no time to live.

The rows are copies, never attached to a session: read them, do not change them. Each table's dict is in
the order of its names as PostgreSQL sorts them (its collation), the order the selects show.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from typing import TypeVar

from sqlalchemy import event, text
from sqlalchemy.orm import ORMExecuteState
from sqlalchemy.orm import Session as OrmSession
from sqlmodel import Session, SQLModel, select

from tickets.reference import Category, Department, Ward

M = TypeVar("M", bound=SQLModel)

_FINGERPRINT = text(
    "SELECT md5(concat_ws('|',"
    " (SELECT string_agg(code || ':' || xmin::text, ',' ORDER BY code) FROM category),"
    " (SELECT string_agg(code || ':' || xmin::text, ',' ORDER BY code) FROM department),"
    " (SELECT string_agg(code || ':' || xmin::text, ',' ORDER BY code) FROM ward)))"
)


@dataclass(frozen=True)
class Reference:
    fingerprint: str
    categories: dict[str, Category]
    departments: dict[str, Department]
    wards: dict[str, Ward]
    _predecessors: dict[str, frozenset[str]] = field(default_factory=dict)

    def current_ward(self, code: str) -> str:
        """The unit in force today that took this one over (itself when it is in force)."""
        seen = {code}
        while (successor := self.wards[code].successor_code) and successor not in seen:
            code = successor
            seen.add(code)
        return code

    def ward_and_predecessors(self, code: str) -> frozenset[str]:
        """A ward and every older unit that was merged into it, however many steps back."""
        return self._predecessors.get(code, frozenset({code}))


def _copies(session: Session, model: type[M]) -> dict[str, M]:
    columns = list(model.__table__.columns)  # type: ignore[attr-defined]
    # in the database's order of names, as the selects listed them before
    rows = session.execute(select(*columns).order_by(text("name_vi"), text("code"))).mappings().all()
    return {row["code"]: model(**row) for row in rows}


def _predecessors(wards: dict[str, Ward]) -> dict[str, frozenset[str]]:
    found: dict[str, set[str]] = {code: {code} for code in wards}
    for code in wards:
        seen = {code}
        successor = wards[code].successor_code
        while successor and successor in found and successor not in seen:
            found[successor].add(code)
            seen.add(successor)
            successor = wards[successor].successor_code
    return {code: frozenset(olds) for code, olds in found.items()}


_lock = threading.Lock()
_held: Reference | None = None


_MEMO = "civicdesk.reference"


def reference(session: Session) -> Reference:
    """The reference tables as this session's transaction sees them: one small statement the first time
    in a transaction, none after it until the session writes something."""
    global _held
    memo = session.info.get(_MEMO)
    if isinstance(memo, Reference):
        return memo
    fingerprint = str(session.execute(_FINGERPRINT).scalar_one())
    held = _held
    if held is not None and held.fingerprint == fingerprint:
        session.info[_MEMO] = held
        return held
    wards = _copies(session, Ward)
    loaded = Reference(
        fingerprint=fingerprint,
        categories=_copies(session, Category),
        departments=_copies(session, Department),
        wards=wards,
        _predecessors=_predecessors(wards),
    )
    with _lock:
        _held = loaded
    session.info[_MEMO] = loaded
    return loaded


def _forget(session: Session, *_: object) -> None:
    session.info.pop(_MEMO, None)


def _forget_after_write(state: ORMExecuteState) -> None:
    if not state.is_select:
        state.session.info.pop(_MEMO, None)


# anything the session writes, and the end of its transaction, makes the next use read the fingerprint again
for _moment in ("after_flush", "after_commit", "after_rollback", "after_soft_rollback"):
    event.listen(OrmSession, _moment, _forget)
event.listen(OrmSession, "do_orm_execute", _forget_after_write)
