"""The messages citizens receive, in Vietnamese by default; administrators edit them (reply_template)."""

from __future__ import annotations

from sqlmodel import Session

from channels.models import ReplyTemplate

DEFAULTS: dict[str, str] = {
    "receipt": (
        "CivicDesk đã tiếp nhận phản ánh của bạn, mã {code}. Theo dõi tại {link}. "
        "Cảm ơn bạn đã góp ý cho thành phố."
    ),
    "status_assigned": "Phản ánh {code} đã được chuyển đến đơn vị xử lý. Theo dõi: {link}",
    "status_in_progress": "Phản ánh {code} đang được xử lý.",
    "status_waiting_citizen": (
        "Về phản ánh {code}, chúng tôi cần bạn bổ sung: {note}. Vui lòng trả lời tin nhắn này."
    ),
    "status_resolved": (
        "Phản ánh {code} đã được xử lý. {note} Bạn hài lòng không? "
        "Đánh giá hoặc mở lại trong 7 ngày tại {link}"
    ),
    "status_rejected": "Phản ánh {code} không thuộc phạm vi xử lý: {note}. Chi tiết: {link}",
    "status_duplicate": "Phản ánh {code} trùng với một phản ánh đang được xử lý. Theo dõi: {link}",
    "status_reopened": "Phản ánh {code} đã được mở lại và sẽ được xử lý tiếp.",
    "reply": "{note}",
}


def previews(session: Session) -> dict[str, str]:
    """Every template as it reads now, with its placeholders shown, for the admin pages."""
    return {key: render(session, key, code="{code}", link="{link}", note="{note}") for key in DEFAULTS}


def render(session: Session, key: str, **values: str) -> str:
    row = session.get(ReplyTemplate, key)
    text = row.text_vi if row else DEFAULTS[key]
    return text.format_map({"code": "", "link": "", "note": "", **values}).strip()


NOT_CANNED = frozenset({"reply"})  # the bare "{note}" wrapper is no reply of its own
NOTE_MARK = "…"


def canned_replies(session: Session, *, code: str, lookup_link: str) -> list[tuple[str, str]]:
    """The reply templates as staff insert them into a reply: the ticket's code filled in, "…" where
    their own words go, and the public look-up page for {link}: a reply is a public comment, and the
    secret tracking link must never appear in one."""
    return [
        (key, render(session, key, code=code, link=lookup_link, note=NOTE_MARK))
        for key in DEFAULTS
        if key not in NOT_CANNED
    ]
