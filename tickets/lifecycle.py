"""The ticket life cycle as data: which status may follow which.

new → triaged → assigned → in_progress → resolved → closed, with waiting_citizen (the clock pauses),
rejected (out of scope, with a reason), duplicate (merged into another ticket) and reopened (the
citizen disputes a resolution within the reopen window).
"""

from __future__ import annotations

from tickets.models import Status

S = Status

ALLOWED_TRANSITIONS: dict[Status, frozenset[Status]] = {
    S.NEW: frozenset({S.TRIAGED, S.ASSIGNED, S.WAITING_CITIZEN, S.REJECTED, S.DUPLICATE}),
    S.TRIAGED: frozenset({S.ASSIGNED, S.WAITING_CITIZEN, S.REJECTED, S.DUPLICATE}),
    S.ASSIGNED: frozenset({S.IN_PROGRESS, S.TRIAGED, S.WAITING_CITIZEN, S.RESOLVED, S.REJECTED, S.DUPLICATE}),
    S.IN_PROGRESS: frozenset({S.RESOLVED, S.WAITING_CITIZEN, S.TRIAGED, S.REJECTED, S.DUPLICATE}),
    S.WAITING_CITIZEN: frozenset({S.TRIAGED, S.ASSIGNED, S.IN_PROGRESS, S.REJECTED, S.DUPLICATE}),
    S.RESOLVED: frozenset({S.CLOSED, S.REOPENED}),
    S.REOPENED: frozenset({S.TRIAGED, S.ASSIGNED, S.IN_PROGRESS, S.RESOLVED, S.REJECTED}),
    S.CLOSED: frozenset({S.REOPENED}),
    S.REJECTED: frozenset(),
    S.DUPLICATE: frozenset(),
}

# Statuses that need a reason from the person who sets them.
REASON_REQUIRED = frozenset({S.REJECTED, S.REOPENED, S.WAITING_CITIZEN})

# Statuses in which a ticket is with a department or a ward officer: from them, a person's move back
# to ``triaged`` is a return, with a reason, to the triage queue.
RETURNABLE = frozenset({S.ASSIGNED, S.IN_PROGRESS, S.WAITING_CITIZEN, S.REOPENED})

# Statuses set by their own verbs (assign, merge), not by a bare transition request.
SET_BY_OWN_VERB = frozenset({S.ASSIGNED, S.DUPLICATE})


def allowed_next(current: Status) -> list[Status]:
    return sorted(ALLOWED_TRANSITIONS[current], key=list(Status).index)


def can_move(current: Status, target: Status) -> bool:
    return target in ALLOWED_TRANSITIONS[current]
