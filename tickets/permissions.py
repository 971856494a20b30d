"""What each role may do to a ticket it can see, as data. Visibility itself is ``service.visible_to``."""

from __future__ import annotations

from civicdesk.errors import Forbidden
from tickets.models import Status
from tickets.staff import Role, User

S = Status
ALL = frozenset(Status)

STATUS_MOVES_BY_ROLE: dict[Role, frozenset[Status]] = {
    Role.ADMIN: ALL,
    Role.SUPERVISOR: ALL,
    Role.AGENT: frozenset({S.TRIAGED, S.WAITING_CITIZEN, S.REJECTED, S.REOPENED, S.CLOSED}),
    Role.DEPARTMENT_STAFF: frozenset({S.IN_PROGRESS, S.WAITING_CITIZEN, S.RESOLVED, S.TRIAGED}),
    Role.WARD_OFFICER: frozenset({S.IN_PROGRESS, S.WAITING_CITIZEN, S.RESOLVED, S.TRIAGED}),
}

ACTIONS_BY_ROLE: dict[str, frozenset[Role]] = {
    "create": frozenset({Role.ADMIN, Role.SUPERVISOR, Role.AGENT}),
    "assign": frozenset({Role.ADMIN, Role.SUPERVISOR, Role.AGENT}),
    "merge": frozenset({Role.ADMIN, Role.SUPERVISOR, Role.AGENT}),
    "edit": frozenset(Role),
    "comment": frozenset(Role),
    "attach": frozenset(Role),
    "manage_users": frozenset({Role.ADMIN}),
}


def require_action(user: User, action: str) -> None:
    if Role(user.role) not in ACTIONS_BY_ROLE[action]:
        raise Forbidden(f"a {user.role} cannot {action} tickets; ask a supervisor")


def require_status_move(user: User, target: Status) -> None:
    if target not in STATUS_MOVES_BY_ROLE[Role(user.role)]:
        raise Forbidden(f"a {user.role} cannot set a ticket to {target.value}; ask a supervisor")


# The staff pages each role may open. Tickets themselves are bounded by ``service.visible_to``.
WORKSPACES: dict[str, frozenset[Role]] = {
    "console": frozenset({Role.AGENT, Role.SUPERVISOR, Role.ADMIN}),
    "tasks": frozenset({Role.DEPARTMENT_STAFF, Role.WARD_OFFICER, Role.SUPERVISOR, Role.ADMIN}),
    "boards": frozenset({Role.SUPERVISOR, Role.ADMIN}),
    "admin": frozenset({Role.ADMIN}),
    "tickets": frozenset(Role),
}

HOME_BY_ROLE: dict[Role, str] = {
    Role.AGENT: "console",
    Role.DEPARTMENT_STAFF: "tasks",
    Role.WARD_OFFICER: "tasks",
    Role.SUPERVISOR: "boards",
    Role.ADMIN: "admin",
}


def can_open(user: User, workspace: str) -> bool:
    return Role(user.role) in WORKSPACES[workspace]


def require_workspace(user: User, workspace: str) -> None:
    if not can_open(user, workspace):
        raise Forbidden(f"a {user.role} cannot open this page; ask an administrator for access")
