"""The citizens' pages over HTTP: report form, status page, rating, reopening, lookup, list and map."""

from __future__ import annotations

import io
import re
from collections.abc import Callable
from datetime import timedelta

import pytest
from fastapi.testclient import TestClient
from PIL import ExifTags, Image
from pydantic import TypeAdapter
from sqlalchemy import update
from sqlalchemy.engine import Engine
from sqlmodel import select

from kernel.db import unit_of_work
from tickets import service
from tickets.models import Attachment, Status, Ticket
from tickets.service import SYSTEM, NewTicket
from web.api.public import PublicReportOut, PublicSummaryOut

Headers = Callable[..., dict[str, str]]


def jpeg(gps: bool = False, serial: str = "CAM-SERIAL-777") -> bytes:
    image = Image.new("RGB", (32, 24), (30, 120, 200))
    exif = Image.Exif()
    exif[ExifTags.Base.BodySerialNumber] = serial
    if gps:
        info = exif.get_ifd(ExifTags.IFD.GPSInfo)
        info[ExifTags.GPS.GPSLatitudeRef] = "N"
        info[ExifTags.GPS.GPSLatitude] = (11.0, 34.0, 12.0)
        info[ExifTags.GPS.GPSLongitudeRef] = "E"
        info[ExifTags.GPS.GPSLongitude] = (108.0, 59.0, 30.0)
    out = io.BytesIO()
    image.save(out, format="JPEG", exif=exif)
    return out.getvalue()


def file_report(client: TestClient, text: str, **fields: str) -> str:
    """Submit the web form; return the tracking token from the redirect."""
    response = client.post("/report", data={"text": text, **fields}, follow_redirects=False)
    assert response.status_code == 303, response.text
    match = re.fullmatch(r"/t/([A-Za-z0-9_-]+)\?new=1", response.headers["location"])
    assert match
    return match.group(1)


def ticket_by_token(engine: Engine, token: str) -> Ticket:
    with unit_of_work(engine) as session:
        ticket = session.exec(select(Ticket).where(Ticket.tracking_token == token)).one()
        session.expunge(ticket)
        return ticket


def resolve(engine: Engine, ticket_id: int, summary: str = "Đã vá xong ổ gà") -> None:
    with unit_of_work(engine) as session:
        service.transition(session, ticket_id, Status.TRIAGED, actor=SYSTEM)
        service.assign(session, ticket_id, department="qldt", actor=SYSTEM)
        service.transition(session, ticket_id, Status.IN_PROGRESS, actor=SYSTEM)
        service.add_comment(session, ticket_id, text=summary, public=True, actor=SYSTEM)
        service.transition(session, ticket_id, Status.RESOLVED, actor=SYSTEM)


def test_pages_are_vietnamese_with_an_english_switch(client: TestClient) -> None:
    home = client.get("/")
    assert home.status_code == 200
    assert '<html lang="vi">' in home.text and "Gửi phản ánh" in home.text
    english = client.get("/?lang=en")
    assert '<html lang="en">' in english.text
    assert client.get("/report").text.count('lang="en"') == 1  # the choice is kept in a cookie


def test_report_with_photo_shows_code_link_and_a_clean_photo(client: TestClient, engine: Engine) -> None:
    response = client.post(
        "/report",
        data={"text": "Ổ gà lớn trước nhà số 12 đường Thống Nhất", "address": "12 Thống Nhất"},
        files=[("photos", ("pothole.jpg", jpeg(gps=True), "image/jpeg"))],
        follow_redirects=False,
    )
    assert response.status_code == 303
    page = client.get(response.headers["location"])
    ticket = ticket_by_token(engine, page.url.path.rsplit("/", 1)[1])
    assert ticket.code in page.text and f"/t/{ticket.tracking_token}" in page.text
    assert ticket.latitude == pytest.approx(11.57, abs=1e-3)  # read from the photo's EXIF
    with unit_of_work(engine) as session:
        photo = session.exec(select(Attachment).where(Attachment.ticket_id == ticket.id)).one()
    served = client.get(f"/t/{ticket.tracking_token}/photos/{photo.id}")
    assert served.status_code == 200 and served.headers["content-type"] == "image/jpeg"
    assert b"CAM-SERIAL-777" not in served.content
    with Image.open(io.BytesIO(served.content)) as image:
        assert len(image.getexif()) == 0


def test_status_page_never_shows_contact_details_or_names(client: TestClient, engine: Engine) -> None:
    token = file_report(
        client,
        "Tôi tên là Nguyễn Văn Bình, gọi 0912 345 678 hoặc binh.nv@example.com. Đèn đường hỏng.",
        phone="0987654321",
        email="other@example.com",
    )
    page = client.get(f"/t/{token}").text
    for secret in (
        "0912",
        "345 678",
        "binh.nv@example.com",
        "0987654321",
        "other@example.com",
        "Nguyễn Văn Bình",
    ):
        assert secret not in page
    assert "Đèn đường hỏng" in page


def test_staff_edit_the_public_wording(client: TestClient, engine: Engine, admin: dict[str, str]) -> None:
    token = file_report(client, "Hàng xóm ông Tám xả rác bừa bãi ở hẻm 5")
    ticket = ticket_by_token(engine, token)
    response = client.patch(
        f"/api/v1/tickets/{ticket.id}", json={"public_description": "Rác thải tại hẻm 5"}, headers=admin
    )
    assert response.status_code == 200
    page = client.get(f"/t/{token}").text
    assert "Rác thải tại hẻm 5" in page and "ông Tám" not in page


def test_made_up_and_wrong_tokens_get_a_plain_404(client: TestClient) -> None:
    for token in ("nope", "A" * 32, "../../etc/passwd"):
        response = client.get(f"/t/{token}")
        assert response.status_code == 404
        assert "text/html" in response.headers["content-type"]


def test_guessing_links_is_rate_limited(client: TestClient) -> None:
    statuses = [client.get(f"/t/made-up-{n}").status_code for n in range(32)]
    assert statuses[:30] == [404] * 30
    assert statuses[-1] == 429


def test_timeline_shows_public_replies_only(client: TestClient, engine: Engine) -> None:
    token = file_report(client, "Cống thoát nước bị tắc ở đường Ngô Gia Tự")
    ticket = ticket_by_token(engine, token)
    with unit_of_work(engine) as session:
        service.add_comment(
            session, ticket.id or 0, text="Ghi chú nội bộ: gọi đội 3", public=False, actor=SYSTEM
        )
    resolve(engine, ticket.id or 0, summary="Đã nạo vét cống")
    page = client.get(f"/t/{token}").text
    assert "Đã nạo vét cống" in page and "Ghi chú nội bộ" not in page
    assert "Đã xử lý" in page  # the resolved status, in Vietnamese


def test_rating_after_resolution(client: TestClient, engine: Engine) -> None:
    token = file_report(client, "Đèn đường tắt cả tuần ở Phủ Hà")
    ticket = ticket_by_token(engine, token)
    early = client.post(f"/t/{token}/rate", data={"rating": "5"})
    assert early.status_code == 409  # not resolved yet
    resolve(engine, ticket.id or 0)
    assert client.post(f"/t/{token}/rate", data={"rating": "9"}).status_code == 400
    rated = client.post(f"/t/{token}/rate", data={"rating": "4", "comment": "Nhanh, cảm ơn"})
    assert rated.status_code == 200
    assert 'data-testid="rating"' in rated.text
    assert ticket_by_token(engine, token).rating == 4


def test_reopen_within_seven_days_only(client: TestClient, engine: Engine) -> None:
    first = file_report(client, "Nước ngập sau mưa ở Đô Vinh")
    second = file_report(client, "Nước ngập sau mưa ở Bảo An")
    for token in (first, second):
        resolve(engine, ticket_by_token(engine, token).id or 0)
    reopened = client.post(f"/t/{first}/reopen", data={"reason": "Vẫn còn ngập"})
    assert reopened.status_code == 200 and ticket_by_token(engine, first).status == Status.REOPENED
    old = ticket_by_token(engine, second)
    with unit_of_work(engine) as session:
        session.execute(
            update(Ticket)
            .where(Ticket.id == old.id)  # type: ignore[arg-type]
            .values(resolved_at=(old.resolved_at or old.created_at) - timedelta(days=8))
        )
    assert f'action="/t/{second}/reopen"' not in client.get(f"/t/{second}").text
    late = client.post(f"/t/{second}/reopen", data={"reason": "Vẫn còn ngập"})
    assert late.status_code == 409
    assert ticket_by_token(engine, second).status == Status.RESOLVED


def test_lookup_by_code_and_last_four_digits(client: TestClient, engine: Engine) -> None:
    token = file_report(client, "Lấn chiếm vỉa hè đường 16/4", phone="0912345678")
    code = ticket_by_token(engine, token).code
    found = client.post("/lookup", data={"code": code.lower(), "phone_last4": "5678"}, follow_redirects=False)
    assert found.status_code == 303 and found.headers["location"] == f"/t/{token}"
    wrong = client.post("/lookup", data={"code": code, "phone_last4": "1111"})
    assert wrong.status_code == 404 and token not in wrong.text
    assert client.post("/lookup", data={"code": code, "phone_last4": "12a4"}).status_code == 400


def test_lookup_is_rate_limited(client: TestClient) -> None:
    answers = [
        client.post("/lookup", data={"code": f"PR-2026-{n:06d}", "phone_last4": "0000"}).status_code
        for n in range(11)
    ]
    assert answers == [404] * 10 + [429]


def test_honeypot_and_rate_limit_on_the_form(client: TestClient, engine: Engine) -> None:
    bot = client.post("/report", data={"text": "Mua thuốc giá rẻ", "website": "http://spam.example"})
    assert bot.status_code == 200
    with unit_of_work(engine) as session:
        assert session.exec(select(Ticket)).first() is None
    answers = [
        client.post("/report", data={"text": f"Rác ở chợ {n}"}, follow_redirects=False).status_code
        for n in range(6)
    ]
    assert answers == [303] * 5 + [429]


def test_bad_form_input_explains_itself(client: TestClient) -> None:
    not_a_photo = client.post(
        "/report", data={"text": "Ổ gà"}, files=[("photos", ("x.jpg", b"not an image", "image/jpeg"))]
    )
    assert not_a_photo.status_code == 422 and "hình ảnh" in not_a_photo.text
    too_many = client.post(
        "/report",
        data={"text": "Ổ gà"},
        files=[("photos", (f"{n}.jpg", jpeg(), "image/jpeg")) for n in range(6)],
    )
    assert too_many.status_code == 422
    bad_latitude = client.post("/report", data={"text": "Ổ gà", "latitude": "north"})
    assert bad_latitude.status_code == 422 and "vĩ độ" in bad_latitude.text
    assert client.post("/report", data={"text": "x" * 6000}).status_code == 400


def test_public_list_leaves_out_sensitive_hidden_and_rejected(client: TestClient, engine: Engine) -> None:
    with unit_of_work(engine) as session:
        drafts = {
            "light": NewTicket(
                description="Đèn hỏng ở Kinh Dinh", category="street_lighting", ward="kinh-dinh"
            ),
            "security": NewTicket(
                description="Nhóm thanh niên gây rối", category="security", ward="kinh-dinh"
            ),
            "hidden": NewTicket(description="Chuyện riêng tư", category="street_lighting", ward="kinh-dinh"),
            "rejected": NewTicket(description="Quảng cáo", category="street_lighting", ward="kinh-dinh"),
        }
        made = {key: service.create_ticket(session, draft) for key, draft in drafts.items()}
        made["hidden"].hidden_from_public = True
        service.transition(session, made["rejected"].id or 0, Status.REJECTED, reason="spam", actor=SYSTEM)
        codes = {key: ticket.code for key, ticket in made.items()}
    page = client.get("/reports").text
    assert codes["light"] in page
    for key in ("security", "hidden", "rejected"):
        assert codes[key] not in page
    assert "<svg" in page and "Kinh Dinh" in page
    for ticket_token_fragment in ("/t/",):
        assert ticket_token_fragment not in page  # tracking links are never listed
    assert codes["light"] not in client.get("/reports?category=road_damage").text
    assert client.get("/reports?status=bogus").status_code == 422


def test_public_list_filters_by_current_ward_include_old_units(client: TestClient, engine: Engine) -> None:
    with unit_of_work(engine) as session:
        # Mỹ Hương merged into Kinh Dinh in 2024, which became part of Phan Rang in 2025
        code = service.create_ticket(
            session, NewTicket(description="Đèn hỏng", category="street_lighting", ward="my-huong")
        ).code
    assert code in client.get("/reports?ward=phan-rang").text
    assert code not in client.get("/reports?ward=ninh-chu").text


PERSONAL = ("0912", "345 678", "binh.nv@example.com", "0987654321", "other@example.com", "Nguyễn Văn Bình")


def test_public_api_never_returns_personal_data(client: TestClient, engine: Engine) -> None:
    token = file_report(
        client,
        "Tôi tên là Nguyễn Văn Bình, gọi 0912 345 678 hoặc binh.nv@example.com. Đèn đường hỏng.",
        phone="0987654321",
        email="other@example.com",
    )
    ticket = ticket_by_token(engine, token)
    with unit_of_work(engine) as session:
        service.update_ticket(session, ticket.id or 0, {"category_code": "street_lighting"}, actor=SYSTEM)
    one = client.get(f"/api/v1/public/reports/{token}")
    listed = client.get("/api/v1/public/reports")
    assert one.status_code == 200 and listed.status_code == 200
    assert ticket.code in listed.text and token not in listed.text
    for body in (one.text, listed.text, client.get("/reports").text):
        for secret in PERSONAL:
            assert secret not in body
    assert client.get("/api/v1/public/reports/not-a-token").status_code == 404


def test_public_api_answers_the_documented_shapes(client: TestClient, engine: Engine) -> None:
    """The list and the status JSON are sent pre-encoded (cached bodies, not through the response model):
    what goes on the wire is exactly what the OpenAPI document describes, field for field."""
    token = file_report(client, "Đèn đường trước chợ Phan Rang tắt cả tuần nay.")
    ticket = ticket_by_token(engine, token)
    with unit_of_work(engine) as session:
        service.update_ticket(session, ticket.id or 0, {"category_code": "street_lighting"}, actor=SYSTEM)
    one = client.get(f"/api/v1/public/reports/{token}")
    listed = client.get("/api/v1/public/reports")
    assert one.status_code == 200 and listed.status_code == 200
    assert list(one.json()) == list(PublicReportOut.model_fields)
    PublicReportOut.model_validate_json(one.text)
    assert ticket.code in listed.text
    for item in listed.json():
        assert list(item) == list(PublicSummaryOut.model_fields)
    TypeAdapter(list[PublicSummaryOut]).validate_json(listed.text)


def test_a_form_sent_twice_makes_one_report(client: TestClient, engine: Engine) -> None:
    form = client.get("/report").text
    submission = re.search(r'name="submission_id" value="([0-9a-f]{32})"', form)
    assert submission
    data = {"text": "Cây đổ chắn đường Yên Ninh", "submission_id": submission.group(1)}
    first = client.post("/report", data=data, follow_redirects=False)
    again = client.post("/report", data=data, follow_redirects=False)
    assert first.status_code == again.status_code == 303
    assert first.headers["location"] == again.headers["location"]
    with unit_of_work(engine) as session:
        assert len(session.exec(select(Ticket)).all()) == 1
