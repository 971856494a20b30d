"""The status page as a conversation: every public note (question, reply, resolution summary, refusal,
merge), and the citizen's answer through the page, which resumes the SLA clock and tells the assignee."""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterator

import httpx
import pytest
from fastapi.testclient import TestClient
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from kernel.db import unit_of_work
from kernel.settings import get_settings
from sla.models import ClockKind, ClockState, Notification, SlaClock
from tests.test_public_pages import file_report, jpeg, ticket_by_token
from tickets import service
from tickets.citizens import Contact
from tickets.models import Attachment, Direction, EventKind, Message, Status, Ticket, TicketEvent
from tickets.service import SYSTEM, Actor, NewTicket
from tickets.staff import User, create_user
from web.intake import body_limit


def officer(session: Session, username: str = "qldt-an") -> User:
    return create_user(
        session,
        username=username,
        password="secret-pass",
        role="department_staff",
        department="qldt",
        full_name="Quảng Đại Tuấn",  # a Chăm name: the detector misses it, known names mask it
    )


def in_progress(engine: Engine, ticket_id: int, *, assignee: str | None = "qldt-an") -> None:
    with unit_of_work(engine) as session:
        user = officer(session, assignee) if assignee else None
        service.transition(session, ticket_id, Status.TRIAGED, actor=SYSTEM)
        service.assign(
            session, ticket_id, department="qldt", assignee_id=user.id if user else None, actor=SYSTEM
        )
        service.transition(session, ticket_id, Status.IN_PROGRESS, actor=SYSTEM)


def ask(engine: Engine, ticket_id: int, question: str) -> None:
    with unit_of_work(engine) as session:
        service.transition(session, ticket_id, Status.WAITING_CITIZEN, actor=SYSTEM, reason=question)


def reply(
    client: TestClient,
    token: str,
    text: str,
    *,
    data: dict[str, str] | None = None,
    files: list[tuple[str, tuple[str, bytes, str]]] | None = None,
    lang: str = "vi",
) -> httpx.Response:
    fields = {"text": text, "submission_id": uuid.uuid4().hex, **(data or {})}
    return client.post(f"/t/{token}/reply?lang={lang}", data=fields, files=files, follow_redirects=False)


def resolution_clock(engine: Engine, ticket_id: int) -> SlaClock:
    with unit_of_work(engine) as session:
        clock = session.exec(
            select(SlaClock).where(SlaClock.ticket_id == ticket_id, SlaClock.kind == ClockKind.RESOLUTION)
        ).one()
        session.expunge(clock)
        return clock


def notifications(engine: Engine) -> list[tuple[str, str, str]]:
    with unit_of_work(engine) as session:
        rows = session.exec(
            select(User.username, Notification.kind, Notification.text).join(
                User, col(User.id) == Notification.user_id
            )
        ).all()
        return [(username, kind, text) for username, kind, text in rows]


def reply_box(page: str) -> str:
    found = re.search(r'<section class="card reply".*?</section>', page, re.S)
    return found.group(0) if found else ""


def test_the_page_shows_question_reply_answer_and_resolution_summary(
    client: TestClient, engine: Engine
) -> None:
    token = file_report(client, "Đèn đường không sáng ở đường Ngô Gia Tự")
    ticket = ticket_by_token(engine, token)
    tid = ticket.id or 0
    in_progress(engine, tid)
    ask(engine, tid, "Cột đèn số mấy? Gọi 0912 345 678 nếu cần.")
    asked = client.get(f"/t/{token}").text
    assert "Cơ quan xử lý hỏi" in asked and "Cột đèn số mấy?" in asked
    assert "0912" not in asked  # masked like every public text
    assert "Cơ quan xử lý đang chờ bạn trả lời" in reply_box(asked)
    assert "Cột đèn số mấy?" in reply_box(asked)  # the question again, beside the form

    answered = reply(client, token, "Cột số 12, trước nhà văn hoá")
    assert answered.status_code == 303
    with unit_of_work(engine) as session:
        service.add_comment(session, tid, text="Ghi chú nội bộ: gọi đội 3", public=False, actor=SYSTEM)
        staff = session.exec(select(User).where(User.username == "qldt-an")).one()
        service.add_comment(
            session,
            tid,
            text="Đội điện đã kiểm tra cột 12; anh Quảng Đại Tuấn phụ trách",
            public=True,
            actor=Actor.staff(staff),
        )
        service.transition(session, tid, Status.RESOLVED, actor=SYSTEM, reason="Đã thay bóng đèn cột số 12")

    page = client.get(f"/t/{token}").text
    timeline = page[page.index('data-testid="timeline"') :]
    order = [
        "Cột đèn số mấy?",
        "Bạn đã gửi",
        "Cột số 12, trước nhà văn hoá",
        "Đội điện đã kiểm tra",
        "Kết quả xử lý",
    ]
    positions = [timeline.index(text) for text in order]
    assert positions == sorted(positions)  # one conversation, in the order it happened
    assert "Đã thay bóng đèn cột số 12" in timeline
    assert "Ghi chú nội bộ" not in page
    assert "Quảng Đại Tuấn" not in page and "qldt-an" not in page  # never a staff person's name
    assert reply_box(page) == ""  # resolved: nothing more to answer here
    english = client.get(f"/t/{token}?lang=en").text
    assert "The city asks" in english and "You wrote" in english and "What was done" in english


def test_a_refusal_and_a_merge_say_why(client: TestClient, engine: Engine) -> None:
    refused = file_report(client, "Hàng xóm nuôi chó sủa cả đêm")
    with unit_of_work(engine) as session:
        service.transition(
            session,
            ticket_by_token(engine, refused).id or 0,
            Status.REJECTED,
            actor=SYSTEM,
            reason="Việc dân sự giữa các hộ; liên hệ tổ hoà giải khu phố",
        )
    page = client.get(f"/t/{refused}").text
    assert "Lý do:" in page and "liên hệ tổ hoà giải khu phố" in page

    original = file_report(client, "Ổ gà lớn trước số 45 Thống Nhất")
    duplicate = file_report(client, "Ổ gà ở 45 Thống Nhất")
    target = ticket_by_token(engine, original)
    with unit_of_work(engine) as session:
        service.merge(
            session, ticket_by_token(engine, duplicate).id or 0, into_id=target.id or 0, actor=SYSTEM
        )
    merged = client.get(f"/t/{duplicate}").text
    assert re.search(
        r'data-testid="merged-into">[^<]*được xử lý chung[^<]*<strong class="code">' + target.code, merged
    )
    assert original not in merged and "trước số 45" not in merged  # the code only: no link, no text
    assert reply_box(merged) == ""


def test_a_merge_never_shows_one_persons_words_or_name_on_anothers_page(
    client: TestClient, engine: Engine
) -> None:
    with unit_of_work(engine) as session:
        first = service.create_ticket(
            session,
            NewTicket(
                description="Cây đổ chắn đường Lê Duẩn",
                contact=Contact(name="Đàng Năng Hòa", phone="0912345678", email="hoa@example.com"),
            ),
        )
        first_token, first_id = first.tracking_token, first.id or 0
    assert reply(client, first_token, "Nhà tôi ở số 7 hẻm 3, có chó dữ").status_code == 303
    other = file_report(client, "Cây đổ trên đường Lê Duẩn", phone="0987654321")
    kept = ticket_by_token(engine, other)
    with unit_of_work(engine) as session:
        service.merge(session, first_id, into_id=kept.id or 0, actor=SYSTEM)
        service.add_comment(
            session, kept.id or 0, text="Anh Đàng Năng Hòa cũng đã báo việc này", public=True, actor=SYSTEM
        )

    kept_page = client.get(f"/t/{other}").text
    for private in ("số 7 hẻm 3", "Đàng Năng Hòa", "0912345678", "hoa@example.com", first_token):
        assert private not in kept_page
    assert "cũng đã báo việc này" in kept_page
    merged_page = client.get(f"/t/{first_token}").text
    for private in ("0987654321", other, "Cây đổ trên đường"):
        assert private not in merged_page
    assert "số 7 hẻm 3" in merged_page  # each person still sees their own words


def test_an_answer_resumes_the_clock_and_tells_the_assignee(client: TestClient, engine: Engine) -> None:
    token = file_report(client, "Nước thải tràn ra đường Ngô Gia Tự")
    tid = ticket_by_token(engine, token).id or 0
    in_progress(engine, tid)
    with unit_of_work(engine) as session:
        officer(session, "qldt-binh")  # same department, not the assignee
    ask(engine, tid, "Tràn từ nhà số mấy?")
    paused = resolution_clock(engine, tid)
    assert paused.state == ClockState.PAUSED and paused.due_at is None

    assert reply(client, token, "Từ cống trước nhà số 20").status_code == 303
    assert ticket_by_token(engine, token).status == Status.IN_PROGRESS
    running = resolution_clock(engine, tid)
    assert running.state == ClockState.RUNNING
    assert running.segment_started_at is not None and running.due_at is not None
    assert running.consumed_minutes == paused.consumed_minutes  # the paused time is not counted
    told = notifications(engine)
    assert [(user, kind) for user, kind, _ in told] == [("qldt-an", "citizen_reply")]
    assert "đã trả lời" in told[0][2] and "nhà số 20" in told[0][2]
    with unit_of_work(engine) as session:
        events = service.timeline(session, tid)
        message = session.exec(select(Message).where(Message.text == "Từ cống trước nhà số 20")).one()
    answer = next(e for e in events if e.kind == EventKind.MESSAGE_RECEIVED)
    assert answer.public and answer.actor_type == "citizen" and answer.data["message_id"] == message.id
    assert message.direction == Direction.INBOUND and message.channel == "web"
    assert events[-1].data == {"old": "waiting_citizen", "new": "in_progress"}


def test_information_added_while_open_keeps_the_status_and_tells_the_department(
    client: TestClient, engine: Engine
) -> None:
    token = file_report(client, "Rác tồn đọng ở chợ Phan Rang")
    tid = ticket_by_token(engine, token).id or 0
    in_progress(engine, tid, assignee=None)
    with unit_of_work(engine) as session:
        officer(session, "qldt-a")
        officer(session, "qldt-b")
    before = resolution_clock(engine, tid)
    page = client.get(f"/t/{token}").text
    assert "Bổ sung thông tin" in reply_box(page)
    response = reply(client, token, "Rác nhiều nhất ở cổng phía bắc")
    assert response.status_code == 303
    assert "Đã gửi" in client.get(response.headers["location"]).text
    assert ticket_by_token(engine, token).status == Status.IN_PROGRESS
    assert resolution_clock(engine, tid).due_at == before.due_at
    assert sorted(user for user, kind, _ in notifications(engine) if kind == "citizen_reply") == [
        "qldt-a",
        "qldt-b",
    ]


def test_photos_sent_with_an_answer_show_beside_it_without_metadata(
    client: TestClient, engine: Engine
) -> None:
    token = file_report(client, "Vỉa hè bị lấn chiếm ở đường 16/4")
    ticket = ticket_by_token(engine, token)
    response = reply(client, token, "", files=[("photos", ("via-he.jpg", jpeg(), "image/jpeg"))])
    assert response.status_code == 303
    with unit_of_work(engine) as session:
        photo = session.exec(select(Attachment).where(Attachment.ticket_id == ticket.id)).one()
    assert photo.message_id is not None
    page = client.get(f"/t/{token}").text
    timeline = page[page.index('data-testid="timeline"') :]
    assert f"/t/{token}/photos/{photo.id}" in timeline
    served = client.get(f"/t/{token}/photos/{photo.id}")
    assert served.status_code == 200 and b"CAM-SERIAL-777" not in served.content


def test_the_same_submission_twice_is_one_message(client: TestClient, engine: Engine) -> None:
    token = file_report(client, "Đèn tín hiệu giao thông hỏng")
    submission = uuid.uuid4().hex
    for _ in range(2):
        response = client.post(
            f"/t/{token}/reply",
            data={"text": "Ở ngã tư Thống Nhất", "submission_id": submission},
            follow_redirects=False,
        )
        assert response.status_code == 303
    with unit_of_work(engine) as session:
        assert len(session.exec(select(Message).where(Message.text == "Ở ngã tư Thống Nhất")).all()) == 1
        kinds = session.exec(select(TicketEvent.kind)).all()
    assert kinds.count(EventKind.MESSAGE_RECEIVED) == 1


def test_the_honeypot_takes_nothing(client: TestClient, engine: Engine) -> None:
    token = file_report(client, "Cống bị tắc")
    response = reply(client, token, "Mua thuốc giá rẻ", data={"website": "http://spam.example"})
    assert response.status_code == 200
    with unit_of_work(engine) as session:
        assert session.exec(select(Message).where(Message.text == "Mua thuốc giá rẻ")).first() is None


def test_replies_are_rate_limited_per_address(client: TestClient) -> None:
    token = file_report(client, "Cống bị tắc ở hẻm 5")
    answers = [reply(client, token, f"Bổ sung lần {n}").status_code for n in range(11)]
    assert answers[:10] == [303] * 10
    assert answers[10] == 429
    assert "Vui lòng đợi" in client.post(f"/t/{token}/reply", data={"text": "nữa"}).text


def test_a_finished_report_refuses_an_answer_and_gives_the_text_back(
    client: TestClient, engine: Engine
) -> None:
    token = file_report(client, "Ổ gà ở đường Lê Hồng Phong")
    tid = ticket_by_token(engine, token).id or 0
    in_progress(engine, tid)
    with unit_of_work(engine) as session:
        service.transition(session, tid, Status.RESOLVED, actor=SYSTEM, reason="Đã vá")
    refused = reply(client, token, "Vẫn còn một ổ gà nhỏ")
    assert refused.status_code == 409
    assert "đã kết thúc" in refused.text
    assert re.search(r'data-testid="kept-text">Vẫn còn một ổ gà nhỏ<', refused.text)
    english = reply(client, token, "Still one small pothole", lang="en")
    assert english.status_code == 409 and "This report is finished" in english.text
    with unit_of_work(engine) as session:
        assert session.exec(select(Ticket.status).where(Ticket.id == tid)).one() == Status.RESOLVED


def test_a_wrong_link_says_so_and_gives_the_text_back(client: TestClient) -> None:
    refused = reply(client, "a-link-that-was-never-given", "Cột số 12")
    assert refused.status_code == 404
    assert "Đường dẫn không đúng" in refused.text
    assert 'data-testid="kept-text">Cột số 12<' in refused.text


def test_an_empty_answer_is_explained_next_to_the_field(client: TestClient, engine: Engine) -> None:
    token = file_report(client, "Cây xanh gãy cành")
    response = reply(client, token, "   ")
    assert response.status_code == 422
    box = reply_box(response.text)
    assert 'id="reply-errors"' in box and "Hãy viết nội dung trả lời hoặc gửi kèm ít nhất một ảnh" in box
    with unit_of_work(engine) as session:
        assert (
            session.exec(select(TicketEvent).where(TicketEvent.kind == EventKind.MESSAGE_RECEIVED)).first()
            is None
        )


@pytest.fixture
def small_attachments(monkeypatch: pytest.MonkeyPatch) -> Iterator[int]:
    monkeypatch.setenv("CIVICDESK_ATTACHMENT_MAX_BYTES", "600")
    get_settings.cache_clear()
    yield 600
    monkeypatch.undo()
    get_settings.cache_clear()


def test_an_oversize_photo_is_explained_and_the_text_kept(
    client: TestClient, engine: Engine, small_attachments: int
) -> None:
    token = file_report(client, "Biển báo bị đổ")
    big = jpeg() + b"\0" * small_attachments
    response = reply(client, token, "Ảnh biển báo", files=[("photos", ("big.jpg", big, "image/jpeg"))])
    assert response.status_code == 422
    box = reply_box(response.text)
    assert "lớn hơn giới hạn" in box and ">Ảnh biển báo</textarea>" in box


def test_open311_publishes_the_citys_words_never_the_citizens_message(
    client: TestClient, engine: Engine
) -> None:
    with unit_of_work(engine) as session:
        ticket = service.create_ticket(
            session, NewTicket(description="Đèn đường tắt ở đường 21/8", category="street_lighting")
        )
        token, code, tid = ticket.tracking_token, ticket.code, ticket.id or 0
    in_progress(engine, tid)
    ask(engine, tid, "Đoạn nào của đường 21/8?")
    assert reply(client, token, "Đoạn trước số 88, nhà tôi sát cột").status_code == 303
    updates = client.get("/open311/v2/servicerequestupdates.json").text
    request = client.get(f"/open311/v2/requests/{code}.json").text
    assert "Đoạn nào của đường 21/8?" in updates
    for published in (updates, request):
        assert "nhà tôi sát cột" not in published


def test_the_answer_form_takes_as_many_photo_bytes_as_the_report_form() -> None:
    settings = get_settings()
    assert body_limit("/t/abc/reply", settings) == body_limit("/report", settings)
    assert body_limit("/t/abc/rate", settings) == settings.api_body_max_bytes
