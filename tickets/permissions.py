"""What each role may do to a ticket it can see, as data. Visibility itself is ``service.visible_to``."""

from __future__ import annotations

from kernel.errors import Forbidden
from kernel.i18n import Text, _, label
from tickets.models import Status, Ticket
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
    # beyond tickets: who may read and configure each part of the system
    "triage": frozenset({Role.ADMIN, Role.SUPERVISOR, Role.AGENT}),
    "read_routing": frozenset({Role.ADMIN, Role.SUPERVISOR}),
    "manage_routing": frozenset({Role.ADMIN}),
    "call_centre": frozenset({Role.ADMIN, Role.SUPERVISOR, Role.AGENT}),
    "watch_pbx_actions": frozenset({Role.ADMIN, Role.SUPERVISOR}),
    "read_channel_events": frozenset({Role.ADMIN, Role.SUPERVISOR}),
    "edit_templates": frozenset({Role.ADMIN}),
    "connect_channels": frozenset({Role.ADMIN}),
    "manage_sla": frozenset({Role.ADMIN}),
    "read_compliance": frozenset({Role.ADMIN, Role.SUPERVISOR}),
    "manage_incidents": frozenset({Role.ADMIN, Role.SUPERVISOR}),
    "manage_ioc": frozenset({Role.ADMIN}),
    "manage_open311_clients": frozenset({Role.ADMIN}),
    "read_notification_costs": frozenset({Role.ADMIN, Role.SUPERVISOR}),
    "set_fallback_order": frozenset({Role.ADMIN}),
}

# the refusals that say more than "your role may not do this"
REFUSALS: dict[str, Text] = {
    "call_centre": _("Dữ liệu cuộc gọi dành cho tổng đài; hãy hỏi giám sát viên."),
    "read_channel_events": _("Chỉ quản trị viên và giám sát viên xem được sự kiện kênh."),
    "edit_templates": _("Chỉ quản trị viên sửa được mẫu trả lời."),
    "connect_channels": _("Chỉ quản trị viên cấp quyền cho Zalo OA."),
    "manage_ioc": _("Chỉ quản trị viên cấu hình được nguồn dữ liệu IOC và quy tắc cảnh báo."),
}

# who may see a person's tickets across departments, link their identifiers and merge or un-merge them
CITIZEN_DESK = frozenset({Role.ADMIN, Role.SUPERVISOR, Role.AGENT})


# Which ticket fields each role may change. Department staff and ward officers do the work; the fields
# that set their own deadline or take a ticket out of public view (priority, legal process, hidden,
# and category/ward, which choose the SLA and the department) belong to the desk and supervisors.
DETAIL_FIELDS = frozenset({"title", "public_description", "address_text"})
SLA_FIELDS = frozenset({"category_code", "ward_code", "priority", "hidden_from_public", "legal_process"})
DESK_FIELDS = DETAIL_FIELDS | SLA_FIELDS
FIELDS_BY_ROLE: dict[Role, frozenset[str]] = {
    Role.ADMIN: DESK_FIELDS,
    Role.SUPERVISOR: DESK_FIELDS,
    Role.AGENT: DESK_FIELDS,
    Role.DEPARTMENT_STAFF: DETAIL_FIELDS,
    Role.WARD_OFFICER: DETAIL_FIELDS,
}
FIELD_NAMES_VI = {
    "title": "tiêu đề",
    "public_description": "mô tả công khai",
    "address_text": "địa chỉ",
    "category_code": "lĩnh vực",
    "ward_code": "phường/xã",
    "priority": "mức ưu tiên",
    "hidden_from_public": "ẩn khỏi trang công khai",
    "legal_process": "xử lý theo thủ tục khiếu nại/tố cáo",
}


def require_fields(user: User, fields: set[str]) -> None:
    """Refuse (403) a change to a field the user's role may not change."""
    role = Role(user.role)
    refused = sorted(fields - FIELDS_BY_ROLE[role])
    if refused:
        names = ", ".join(FIELD_NAMES_VI.get(name, name) for name in refused)
        raise Forbidden(
            _(
                "Vai trò “{role}” không được thay đổi: {fields}; hãy đề nghị giám sát viên.",
                role=label("r_", role.value),
                fields=names,
            ),
            fields=refused,
        )


def may(user: User, action: str) -> bool:
    return Role(user.role) in ACTIONS_BY_ROLE[action]


def require_action(user: User, action: str) -> None:
    if not may(user, action):
        raise Forbidden(
            REFUSALS.get(action)
            or _(
                "Vai trò “{role}” không được làm việc này; hãy đề nghị giám sát viên.",
                role=label("r_", user.role),
            )
        )


def require_citizen_desk(user: User) -> None:
    if Role(user.role) not in CITIZEN_DESK:
        raise Forbidden(
            _(
                "Chỉ tổng đài viên, giám sát viên và quản trị viên được xem, liên kết"
                " hoặc gộp hồ sơ người dân."
            )
        )


def require_status_move(user: User, target: Status, ticket: Ticket | None = None) -> None:
    if target not in STATUS_MOVES_BY_ROLE[Role(user.role)]:
        raise Forbidden(
            _(
                "Vai trò “{role}” không được chuyển phản ánh sang “{target}”; hãy đề nghị giám sát viên.",
                role=label("r_", user.role),
                target=label("st_", target.value),
            )
        )
    if ticket is not None and not works_on(user, ticket):
        raise Forbidden(DEPARTMENTS_TICKET_VI, department=ticket.department_code)


DEPARTMENTS_TICKET_VI = _(
    "Phản ánh này không do phường/xã giữ (phòng ban xử lý hoặc đang chờ điều phối); cán bộ phường/xã"
    " chỉ theo dõi và ghi chú."
)


NOT_YET_ROUTED = frozenset({Status.NEW, Status.TRIAGED})


def works_on(user: User, ticket: Ticket) -> bool:
    """A ward officer works the tickets held at ward level (routed, with no department); a department's
    ticket in the ward, or one waiting for the desk to route it, the officer sees and may comment on."""
    if user.role != Role.WARD_OFFICER:
        return True
    return ticket.department_code is None and ticket.status not in NOT_YET_ROUTED


def require_assign(user: User, ticket: Ticket, *, department: str | None) -> None:
    """The desk routes anywhere. A ward officer hands a ward-level ticket to another officer of the same
    ward (the assignee is checked by the service), never to a department: that is a return to triage."""
    role = Role(user.role)
    if role in ACTIONS_BY_ROLE["assign"]:
        return
    if role == Role.WARD_OFFICER and department is None and works_on(user, ticket):
        return
    if role == Role.WARD_OFFICER:
        raise Forbidden(
            _(
                "Cán bộ phường/xã chỉ giao việc cho cán bộ cùng phường; muốn chuyển phòng ban, hãy trả lại"
                " để định tuyến lại."
            ),
            field="department",
        )
    raise Forbidden(
        _("Vai trò “{role}” không được giao việc; hãy đề nghị giám sát viên.", role=label("r_", user.role))
    )


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
        raise Forbidden(
            _(
                "Vai trò “{role}” không mở được trang này; hãy đề nghị quản trị viên cấp quyền.",
                role=label("r_", user.role),
            )
        )
