"""Demo data: one user per role and about 200 realistic Vietnamese reports across channels, categories,
wards and states, so a newcomer sees a living system within a minute. Deterministic for a seed."""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta

from sqlmodel import Session, func, select

from kernel.timeutil import utcnow
from routing.models import RoutingRule
from routing.rules import route_of, save_rule
from tickets import service
from tickets.citizens import Contact, phone_is_valid
from tickets.models import Channel, Status, Ticket
from tickets.service import SYSTEM, Actor, NewTicket
from tickets.staff import User, create_user

DEMO_PASSWORD = "civicdesk-demo"  # noqa: S105 - documented in the README, demo data only


@dataclass(frozen=True)
class DemoUser:
    username: str
    role: str
    full_name: str
    department: str | None = None
    ward: str | None = None
    head: bool = False  # the unit's head, told first about SLA breaches


DEMO_USERS = [
    DemoUser("admin", "admin", "Quản trị hệ thống"),
    DemoUser("giamsat", "supervisor", "Trần Thị Giám Sát"),
    DemoUser("tongdai", "agent", "Nguyễn Văn Tổng Đài"),
    DemoUser("qldt", "department_staff", "Lê Văn Đô Thị", department="qldt", head=True),
    DemoUser("tnmt", "department_staff", "Phạm Thị Môi Trường", department="tnmt", head=True),
    DemoUser("phuong.phanrang", "ward_officer", "Đặng Văn Phường", ward="phan-rang", head=True),
]

STREETS = [
    "Thống Nhất",
    "16 Tháng 4",
    "Ngô Gia Tự",
    "Trần Phú",
    "Lê Hồng Phong",
    "Yên Ninh",
    "21 Tháng 8",
    "Hải Thượng Lãn Ông",
    "Nguyễn Văn Cừ",
    "Quang Trung",
    "Lê Duẩn",
    "Minh Mạng",
    "Bác Ái",
    "Ngô Quyền",
    "Lê Lợi",
    "Hùng Vương",
    "Trường Chinh",
    "Nguyễn Trãi",
    "Tô Hiệu",
    "Nguyễn Thị Minh Khai",
]
# Old unit names (as people still say them) and the unit in force since July 2025.
PLACES = [
    ("Phủ Hà", "phan-rang"),
    ("Kinh Dinh", "phan-rang"),
    ("Thanh Sơn", "phan-rang"),
    ("Đạo Long", "phan-rang"),
    ("Đài Sơn", "phan-rang"),
    ("Mỹ Hương", "phan-rang"),
    ("Tấn Tài", "phan-rang"),
    ("Mỹ Bình", "dong-hai-2025"),
    ("Mỹ Đông", "dong-hai-2025"),
    ("Mỹ Hải", "dong-hai-2025"),
    ("Đông Hải", "dong-hai-2025"),
    ("Văn Hải", "ninh-chu"),
    ("Phước Mỹ", "bao-an-2025"),
    ("Bảo An", "bao-an-2025"),
    ("Thành Hải", "bao-an-2025"),
    ("Đô Vinh", "do-vinh-2025"),
]

REPORTS: dict[str, list[str]] = {
    "road_damage": [
        "Đường {street} có ổ gà rất lớn trước nhà số {no}, xe máy đi qua dễ té ngã, đề nghị sửa gấp",
        "mat duong {street} bi lun sut doan gan so {no}, troi mua nuoc dong rat nguy hiem",
        "Vỉa hè trước số {no} {street} bị bong tróc gạch, người đi bộ vấp ngã",
    ],
    "street_lighting": [
        "Đèn đường trên {street} đoạn gần số {no} bị tắt cả tuần nay, buổi tối rất tối",
        "den duong hem {no} {street} ko sang may ngay roi, mn di lai so lam",
        "Trụ đèn chiếu sáng trước số {no} {street} chập chờn, lúc sáng lúc tắt",
    ],
    "drainage_flooding": [
        "Cống thoát nước trên {street} bị tắc, mưa xuống ngập tới đầu gối trước số {no}",
        "ho ga truoc so {no} {street} bi mat nap, rat nguy hiem cho nguoi di duong",
        "Mưa lớn làm ngập khu phố gần {street}, nước không thoát được",
    ],
    "waste_collection": [
        "Rác thải tập kết trái phép ở đầu hẻm {no} {street}, bốc mùi hôi thối mấy ngày chưa thu gom",
        "xe rac ko toi thu gom o {street} 3 ngay nay r, rac tran ra duong",
        "Có người đổ xà bần và rác ở bãi đất trống gần số {no} {street}",
    ],
    "pollution": [
        "Cơ sở sản xuất gần số {no} {street} xả khói đen và mùi khét vào ban đêm",
        "nuoc thai tu quan an so {no} {street} chay ra duong boc mui",
    ],
    "noise": [
        "Quán karaoke số {no} {street} hát đến 12 giờ đêm, ồn ào không ngủ được",
        "nha so {no} {street} mo loa keo qua to tu chieu den khuya",
    ],
    "encroachment": [
        "Quán cà phê số {no} {street} bày bàn ghế chiếm hết vỉa hè, người đi bộ phải xuống lòng đường",
        "bán hàng rong lấn chiếm lòng đường {street} đoạn chợ, gây kẹt xe",
    ],
    "illegal_construction": [
        "Nhà số {no} {street} đang xây thêm tầng không có giấy phép",
        "cong trinh so {no} {street} xay lan ra hanh lang duong",
    ],
    "land": ["Tranh chấp ranh giới đất giữa hai hộ ở hẻm {no} {street}, đề nghị phường đo đạc lại"],
    "traffic": [
        "Đèn tín hiệu giao thông ngã tư {street} bị hỏng, xe cộ đi lộn xộn rất nguy hiểm",
        "bien bao cam dung do o {street} bi gay do",
    ],
    "security": ["Có nhóm thanh niên tụ tập đua xe trên đường {street} lúc nửa đêm"],
    "trees_parks": [
        "Cây xanh trước số {no} {street} bị nghiêng sắp đổ sau cơn mưa, đề nghị cắt tỉa",
        "cay phuong o cong vien gan {street} bi sau an, canh kho co the gay",
    ],
    "water_supply": [
        "Khu vực {street} mất nước sinh hoạt từ sáng đến giờ không có thông báo",
        "ong nuoc bi be truoc so {no} {street}, nuoc chay lenh lang ra duong",
    ],
    "electricity": [
        "Mất điện khu vực {street} nhiều lần trong ngày",
        "day dien vong thap truoc so {no} {street}",
    ],
    "health_food": ["Quán ăn số {no} {street} mất vệ sinh, nhiều người bị đau bụng sau khi ăn"],
    "education": ["Trường tiểu học gần {street} thu các khoản phí ngoài quy định"],
    "social_welfare": ["Gia đình tôi thuộc hộ nghèo ở {street} nhưng chưa nhận được trợ cấp quý này"],
    "admin_procedure": ["Hồ sơ cấp giấy chứng nhận nộp ở bộ phận một cửa đã quá hạn mà chưa có kết quả"],
    "culture_tourism": ["Biển quảng cáo trên {street} treo sai quy định, che khuất biển báo"],
    "animals": ["Chó thả rông không rọ mõm ở hẻm {no} {street}, đã cắn một cháu nhỏ"],
    "other": ["Đề nghị lắp thêm ghế đá ở công viên gần {street}"],
}

CHANNELS = (
    [Channel.PHONE] * 4
    + [Channel.ZALO] * 4
    + [Channel.FACEBOOK] * 3
    + [Channel.WEB] * 2
    + [Channel.VOICEMAIL]
)
FAMILY = ["Nguyễn", "Trần", "Lê", "Phạm", "Huỳnh", "Võ", "Đặng", "Bùi", "Đỗ", "Hồ"]
GIVEN = ["Văn An", "Thị Bình", "Minh Châu", "Quốc Dũng", "Thị Hoa", "Văn Hùng", "Thanh Lan", "Hữu Nghĩa"]


def seed_demo_users(session: Session) -> list[User]:
    made = []
    for demo in DEMO_USERS:
        if session.exec(select(User).where(User.username == demo.username)).first():
            continue
        user = create_user(
            session,
            username=demo.username,
            password=DEMO_PASSWORD,
            role=demo.role,
            full_name=demo.full_name,
            department=demo.department,
            ward=demo.ward,
        )
        user.is_head = demo.head
        made.append(user)
    return made


# Sidewalk encroachment is the ward's to clear: the demo's ward officer has a route of their own.
def _demo_rule() -> RoutingRule:
    # a new row each time: a copy of one module-level table model would share its database state, and a
    # second seeding in the same process would then insert nothing
    return RoutingRule(
        position=10, name="Lấn chiếm vỉa hè: phường xử lý", category_code="encroachment", ward_officer=True
    )


def _seed_demo_rules(session: Session) -> None:
    if session.exec(select(RoutingRule)).first() is None:
        save_rule(session, _demo_rule())


def _contact(rng: random.Random, channel: Channel) -> Contact:
    name = f"{rng.choice(FAMILY)} {rng.choice(GIVEN)}"
    phone = f"09{rng.randrange(10**7, 10**8)}"
    while not phone_is_valid(phone):  # not every 09… range is a mobile network's
        phone = f"09{rng.randrange(10**7, 10**8)}"
    if channel in (Channel.PHONE, Channel.VOICEMAIL):
        return Contact(phone=phone, name=name)
    if channel == Channel.ZALO:
        return Contact(zalo_id=str(rng.randrange(10**17, 10**18)), name=name)
    if channel == Channel.FACEBOOK:
        return Contact(facebook_id=str(rng.randrange(10**15, 10**16)), name=name)
    return Contact(email=f"nguoidan{rng.randrange(1000)}@example.vn") if rng.random() < 0.5 else Contact()


# Where a demo ticket ends up, and the moves that get it there.
JOURNEYS: list[tuple[float, list[Status]]] = [
    (0.12, []),
    (0.10, [Status.TRIAGED]),
    (0.18, [Status.TRIAGED, Status.ASSIGNED]),
    (0.20, [Status.TRIAGED, Status.ASSIGNED, Status.IN_PROGRESS]),
    (0.05, [Status.TRIAGED, Status.WAITING_CITIZEN]),
    (0.20, [Status.TRIAGED, Status.ASSIGNED, Status.IN_PROGRESS, Status.RESOLVED]),
    (0.10, [Status.TRIAGED, Status.ASSIGNED, Status.IN_PROGRESS, Status.RESOLVED, Status.CLOSED]),
    (0.05, [Status.REJECTED]),
]


def _holder(session: Session, ticket: Ticket) -> str | None:
    """The department the rules choose, or None for a ticket its ward's officers handle."""
    found = route_of(session, ticket)
    if found.ward_officer and ticket.ward_code:
        return None
    return ticket.department_code or "vp"


def _walk(session: Session, ticket: Ticket, path: list[Status], actor: Actor) -> None:
    assert ticket.id is not None
    for step in path:
        if step == Status.ASSIGNED:
            service.assign(session, ticket.id, department=_holder(session, ticket), actor=actor)
        elif step == Status.REJECTED:
            service.transition(
                session, ticket.id, step, actor=actor, reason="Không thuộc thẩm quyền giải quyết"
            )
        elif step == Status.WAITING_CITIZEN:
            service.transition(session, ticket.id, step, actor=actor, reason="Xin cho biết địa chỉ cụ thể")
        else:
            service.transition(session, ticket.id, step, actor=actor)
        if step == Status.RESOLVED:
            service.add_comment(
                session,
                ticket.id,
                text="Đơn vị đã xử lý xong, cảm ơn người dân đã phản ánh.",
                public=True,
                actor=actor,
            )


def seed_demo_tickets(
    session: Session, *, count: int = 200, seed: int = 2026, progress: Callable[[int], None] | None = None
) -> int:
    """Add demo tickets if there are none yet; returns how many were added."""
    if session.exec(select(func.count()).select_from(Ticket)).one() > 0:
        return 0
    _seed_demo_rules(session)
    rng = random.Random(seed)
    now = utcnow()
    weights = [w for w, _ in JOURNEYS]
    for index in range(count):
        category = rng.choice(list(REPORTS))
        old_name, ward = rng.choice(PLACES)
        street, number = rng.choice(STREETS), rng.randrange(1, 300)
        text = rng.choice(REPORTS[category]).format(street=street, no=number)
        text += rng.choice(
            ["", f", phường {old_name}", f" (P. {old_name})", f" khu phố {rng.randrange(1, 9)} {old_name}"]
        )
        channel = rng.choice(CHANNELS)
        draft = NewTicket(
            description=text,
            channel=channel,
            contact=_contact(rng, channel),
            address=f"{number} {street}, {old_name}",
            category=category,
            ward=ward,
            created_at=now - timedelta(minutes=rng.randrange(10, 60 * 24 * 45)),
        )
        ticket = service.create_ticket(session, draft, actor=SYSTEM)
        _, path = rng.choices(JOURNEYS, weights=weights)[0]
        _walk(session, ticket, path, SYSTEM)
        if ticket.status in (Status.RESOLVED, Status.CLOSED) and rng.random() < 0.6:
            service.rate(session, ticket.id or 0, rating=rng.choice([3, 4, 4, 5, 5, 5, 2]))
        if progress:
            progress(index + 1)
    return count
