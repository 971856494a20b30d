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

import re
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TypeVar, cast

from sqlalchemy import TextClause, event, text
from sqlalchemy.orm import ORMExecuteState
from sqlalchemy.orm import Session as OrmSession
from sqlmodel import Session, SQLModel, select

from tickets.reference import Category, Department, Ward

M = TypeVar("M", bound=SQLModel)
T = TypeVar("T")
_lock = threading.Lock()

_TABLES = (
    " (SELECT string_agg(code || ':' || xmin::text, ',' ORDER BY code) FROM category),"
    " (SELECT string_agg(code || ':' || xmin::text, ',' ORDER BY code) FROM department),"
    " (SELECT string_agg(code || ':' || xmin::text, ',' ORDER BY code) FROM ward)"
)
_watched: tuple[str, ...] = ()


def fingerprint_expression() -> str:
    """The fingerprint as an SQL expression, for a statement that wants it beside its own columns (the
    status page's version reads both in one round trip)."""
    extra = "".join(
        f", (SELECT string_agg(ctid::text || ':' || xmin::text, ',' ORDER BY ctid) FROM {table})"  # noqa: S608 - watch() admits identifiers only
        for table in _watched
    )
    return f"md5(concat_ws('|',{_TABLES}{extra}))"


def _fingerprint_sql() -> TextClause:
    return text(f"SELECT {fingerprint_expression()}")  # noqa: S608 - our own expression


_FINGERPRINT = _fingerprint_sql()


def watch(table: str) -> None:
    """Make a table of a domain above this one part of the fingerprint, so that what that domain keeps with
    :meth:`Reference.held` is built again after any committed change to the table (routing's rules).
    Every row's ``ctid`` and ``xmin`` change with each update; a deleted row leaves the list."""
    global _FINGERPRINT, _watched
    if not re.fullmatch(r"[a-z_][a-z0-9_]*", table):
        raise ValueError(f"not a table name: {table!r}")
    with _lock:
        if table not in _watched:
            _watched = (*_watched, table)
            _FINGERPRINT = _fingerprint_sql()


@dataclass(frozen=True)
class Reference:
    fingerprint: str
    categories: dict[str, Category]
    departments: dict[str, Department]
    wards: dict[str, Ward]
    _predecessors: dict[str, frozenset[str]] = field(default_factory=dict)
    _held: dict[str, object] = field(default_factory=dict)

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

    def held(self, key: str, build: Callable[[], T]) -> T:
        """What ``build`` makes from the tables this fingerprint covers (the reference tables and every
        :func:`watch`-ed one), made once per fingerprint: the next change to any of them makes a new
        Reference, and so a new build. Two threads may both build it once; either result is right."""
        if key not in self._held:
            self._held[key] = build()
        return cast(T, self._held[key])


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


def remember(session: Session, fingerprint: str) -> None:
    """This transaction has read the fingerprint already (beside its own columns, with
    ``fingerprint_expression``): when the tables held match it, its next ``reference`` reads nothing."""
    held = _held
    if held is not None and held.fingerprint == fingerprint:
        session.info[_MEMO] = held


def _forget(session: Session, *_: object) -> None:
    session.info.pop(_MEMO, None)


def _forget_after_write(state: ORMExecuteState) -> None:
    if not state.is_select:
        state.session.info.pop(_MEMO, None)


# anything the session writes, and the end of its transaction, makes the next use read the fingerprint again
for _moment in ("after_flush", "after_commit", "after_rollback", "after_soft_rollback"):
    event.listen(OrmSession, _moment, _forget)
event.listen(OrmSession, "do_orm_execute", _forget_after_write)
