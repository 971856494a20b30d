"""Two records that are one person become one, and an undo makes them two again exactly as they were.

A merge moves the source person's tickets, messages and identifiers (and the rows of other domains that
flows.ticket_life names, such as calls) to the target, and remembers each id it moved; the source stays,
marked as merged. An undo moves back exactly those rows that still name the target. A merge whose target
was itself merged on later is undone after that later one: its rows have moved on."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any

from sqlalchemy import update
from sqlmodel import Session, SQLModel, col, or_, select

from kernel.errors import Conflict, Invalid, NotFound
from kernel.timeutil import utcnow
from tickets import audit, life
from tickets.citizens import get_citizen
from tickets.models import ChannelIdentity, Citizen, CitizenMerge, Message, Ticket

log = logging.getLogger(__name__)


def _owned_elsewhere() -> dict[str, type[SQLModel]]:
    """Other domains' tables with a citizen_id column that follows the person (telephony's calls…),
    as the flow that follows tickets names them (flows.ticket_life)."""
    return {str(model.__tablename__): model for model in life.follower().tables_following_citizens}


def merge(
    session: Session,
    *,
    source_id: int,
    target_id: int,
    actor_user_id: int | None = None,
    actor_name: str = "",
    reason: str = "",
) -> CitizenMerge:
    """A person of staff merges `source` into `target`."""
    if source_id == target_id:
        raise Invalid("Không thể gộp một người dân vào chính họ.", field="into")
    source, target = _locked_pair(session, source_id, target_id)
    _refuse_merged(source)
    _refuse_merged(target)
    done = _move_all(session, source, target, reason=reason, automatic=False, actor_user_id=actor_user_id)
    audit.record(
        session,
        "citizen.merge",
        user_id=actor_user_id,
        username=actor_name,
        target=f"citizen:{source_id}->{target_id}",
        merge_id=done.id,
        tickets=done.ticket_ids,
    )
    return done


def merge_automatically(session: Session, *, source: Citizen, target: Citizen) -> CitizenMerge | None:
    """A verified identifier showed two records are one person; not if staff undid this pair before."""
    assert source.id is not None and target.id is not None
    if (
        source.merged_into_id is not None
        or target.merged_into_id is not None
        or _undone_before(session, source.id, target.id)
    ):
        return None
    done = _move_all(
        session, source, target, reason="trùng định danh đã xác thực", automatic=True, actor_user_id=None
    )
    audit.record(
        session,
        "citizen.merge.auto",
        target=f"citizen:{source.id}->{target.id}",
        merge_id=done.id,
        tickets=done.ticket_ids,
    )
    log.info("citizens merged automatically", extra={"source": source.id, "target": target.id})
    return done


def undo(
    session: Session, merge_id: int, *, actor_user_id: int | None = None, actor_name: str = ""
) -> CitizenMerge:
    done = session.get(CitizenMerge, merge_id, with_for_update=True)
    if done is None:
        raise NotFound(f"Không có lần gộp #{merge_id}.")
    if done.undone_at is not None:
        raise Conflict(f"Lần gộp #{merge_id} đã được hoàn tác lúc {done.undone_at:%Y-%m-%d %H:%M} UTC.")
    later = _later_merge(session, done)
    if later is not None:
        raise Conflict(
            f"Người dân #{done.target_id} đã được gộp tiếp ở lần #{later.id};"
            f" hãy hoàn tác lần #{later.id} trước."
        )
    source, target = _locked_pair(session, done.source_id, done.target_id)
    _move(session, Ticket, done.ticket_ids, source=target.id, target=source.id)
    _move(session, Message, done.message_ids, source=target.id, target=source.id)
    _move(session, ChannelIdentity, done.identity_ids, source=target.id, target=source.id)
    owned_elsewhere = _owned_elsewhere()
    for table, ids in done.other_ids.items():
        if table in owned_elsewhere:
            _move(session, owned_elsewhere[table], ids, source=target.id, target=source.id)
    source.merged_into_id = None
    done.undone_at, done.undone_by_user_id = utcnow(), actor_user_id
    audit.record(
        session,
        "citizen.merge.undo",
        user_id=actor_user_id,
        username=actor_name,
        target=f"citizen:{done.source_id}<-{done.target_id}",
        merge_id=done.id,
    )
    return done


def merges_of(session: Session, citizen_id: int) -> list[CitizenMerge]:
    return list(
        session.exec(
            select(CitizenMerge)
            .where(or_(CitizenMerge.source_id == citizen_id, CitizenMerge.target_id == citizen_id))
            .order_by(col(CitizenMerge.id).desc())
        ).all()
    )


def first_owner_of(session: Session, ticket: Ticket) -> int | None:
    """Who reported this ticket before any merge still in force moved it: the person whose identifiers
    and name belong to this ticket's public face."""
    owner = ticket.citizen_id
    seen: set[int] = set()
    while owner is not None and owner not in seen:
        seen.add(owner)
        into_owner = session.exec(
            select(CitizenMerge)
            .where(CitizenMerge.target_id == owner, col(CitizenMerge.undone_at).is_(None))
            .order_by(col(CitizenMerge.id).desc())
        ).all()
        moved = next((m for m in into_owner if ticket.id in m.ticket_ids), None)
        if moved is None:
            return owner
        owner = moved.source_id
    return owner


def first_owners(session: Session, tickets: Sequence[Ticket]) -> dict[int, int | None]:
    """``first_owner_of`` for many tickets at once: one statement per step back along merge chains (one
    when nobody listed was merged), whatever the number of tickets."""
    owner: dict[int, int | None] = {t.id: t.citizen_id for t in tickets if t.id is not None}
    seen: dict[int, set[int]] = {tid: set() for tid in owner}
    walking = {tid for tid, citizen in owner.items() if citizen is not None}
    while walking:
        targets = {owner[tid] for tid in walking}
        merges = session.exec(
            select(CitizenMerge)
            .where(col(CitizenMerge.target_id).in_(targets), col(CitizenMerge.undone_at).is_(None))
            .order_by(col(CitizenMerge.id).desc())
        ).all()
        into: dict[int, list[CitizenMerge]] = {}
        for merge in merges:
            into.setdefault(merge.target_id, []).append(merge)
        still: set[int] = set()
        for tid in walking:
            current = owner[tid]
            assert current is not None
            seen[tid].add(current)
            moved = next((m for m in into.get(current, []) if tid in m.ticket_ids), None)
            if moved is not None:
                owner[tid] = moved.source_id
                if moved.source_id not in seen[tid]:
                    still.add(tid)
        walking = still
    return owner


def _locked_pair(session: Session, source_id: int, target_id: int) -> tuple[Citizen, Citizen]:
    for citizen_id in sorted((source_id, target_id)):  # one order for every merge: no deadlock
        get_citizen(session, citizen_id)
        session.get(Citizen, citizen_id, with_for_update=True)
    return get_citizen(session, source_id), get_citizen(session, target_id)


def _refuse_merged(citizen: Citizen) -> None:
    if citizen.merged_into_id is not None:
        raise Conflict(
            f"Người dân #{citizen.id} đã được gộp vào #{citizen.merged_into_id}; hãy dùng hồ sơ #"
            f"{citizen.merged_into_id}."
        )


def _undone_before(session: Session, first: int, second: int) -> bool:
    pair = or_(
        (CitizenMerge.source_id == first) & (CitizenMerge.target_id == second),
        (CitizenMerge.source_id == second) & (CitizenMerge.target_id == first),
    )
    found = session.exec(
        select(CitizenMerge.id).where(pair, col(CitizenMerge.undone_at).is_not(None))
    ).first()
    return found is not None


def _later_merge(session: Session, done: CitizenMerge) -> CitizenMerge | None:
    """A later merge, still in force, that carried the target (and what this merge gave it) further."""
    return session.exec(
        select(CitizenMerge)
        .where(
            col(CitizenMerge.id) > done.id,
            col(CitizenMerge.undone_at).is_(None),
            CitizenMerge.source_id == done.target_id,
        )
        .order_by(col(CitizenMerge.id).desc())
    ).first()


def _move_all(
    session: Session,
    source: Citizen,
    target: Citizen,
    *,
    reason: str,
    automatic: bool,
    actor_user_id: int | None,
) -> CitizenMerge:
    assert source.id is not None and target.id is not None
    owned_elsewhere = _owned_elsewhere()
    others = {table: _ids_of(session, model, source.id) for table, model in owned_elsewhere.items()}
    done = CitizenMerge(
        source_id=source.id,
        target_id=target.id,
        ticket_ids=_ids_of(session, Ticket, source.id),
        message_ids=_ids_of(session, Message, source.id),
        identity_ids=_movable_identities(session, source.id, target.id),
        other_ids={table: ids for table, ids in others.items() if ids},
        reason=reason[:300],
        automatic=automatic,
        actor_user_id=actor_user_id,
    )
    _move(session, Ticket, done.ticket_ids, source=source.id, target=target.id)
    _move(session, Message, done.message_ids, source=source.id, target=target.id)
    _move(session, ChannelIdentity, done.identity_ids, source=source.id, target=target.id)
    for table, ids in done.other_ids.items():
        _move(session, owned_elsewhere[table], ids, source=source.id, target=target.id)
    source.merged_into_id = target.id
    session.add(done)
    session.flush()
    return done


def _ids_of(session: Session, model: Any, citizen_id: int) -> list[int]:
    rows = session.exec(select(model.id).where(model.citizen_id == citizen_id).order_by(model.id)).all()
    return [int(row) for row in rows]


def _movable_identities(session: Session, source_id: int, target_id: int) -> list[int]:
    """The source's identifiers the target does not already have (a value held twice stays behind)."""
    held = {
        (row.kind, row.value)
        for row in session.exec(select(ChannelIdentity).where(ChannelIdentity.citizen_id == target_id))
    }
    rows = session.exec(
        select(ChannelIdentity)
        .where(ChannelIdentity.citizen_id == source_id)
        .order_by(col(ChannelIdentity.id))
    ).all()
    return [row.id or 0 for row in rows if (row.kind, row.value) not in held]


def _move(session: Session, model: Any, ids: list[int], *, source: int | None, target: int | None) -> None:
    if ids:
        session.execute(
            update(model)
            .where(col(model.id).in_(ids), model.citizen_id == source)
            .values(citizen_id=target)
            .execution_options(synchronize_session="fetch")
        )


def own_identities(session: Session, citizen_id: int) -> list[ChannelIdentity]:
    """The identifiers this person brought, wherever merges in force moved them, without those other
    people brought in: what may unlock or mask their own ticket and no one else's."""
    active = session.exec(
        select(CitizenMerge).where(
            col(CitizenMerge.undone_at).is_(None),
            or_(CitizenMerge.source_id == citizen_id, CitizenMerge.target_id == citizen_id),
        )
    ).all()
    moved_out = {i for m in active if m.source_id == citizen_id for i in m.identity_ids}
    moved_in = {i for m in active if m.target_id == citizen_id for i in m.identity_ids}
    here = session.exec(select(ChannelIdentity).where(ChannelIdentity.citizen_id == citizen_id)).all()
    away = session.exec(select(ChannelIdentity).where(col(ChannelIdentity.id).in_(moved_out))).all()
    return [row for row in [*here, *away] if row.id not in moved_in or row.id in moved_out]
