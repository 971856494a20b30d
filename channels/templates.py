"""The messages citizens receive, in Vietnamese with an English version (the citizen's language when
known); administrators edit both (reply_template). Placeholders: {code}, {link}, {note}, {status} and
{hotline} (the city profile's hotline, filled in unless given)."""

from __future__ import annotations

from sqlmodel import Session

from channels.models import ReplyTemplate
from kernel.city import hotline_number
from kernel.errors import Invalid, NotFound
from kernel.i18n import _
from kernel.timeutil import utcnow

PLACEHOLDERS = ("code", "link", "note", "status", "hotline")

DEFAULTS: dict[str, str] = {
    "receipt": (
        "CivicDesk đã tiếp nhận phản ánh của bạn, mã {code}. Theo dõi tại {link}. "
        "Cảm ơn bạn đã góp ý cho thành phố."
    ),
    "status_assigned": "Phản ánh {code} đã được chuyển đến đơn vị xử lý. Theo dõi: {link}",
    "status_in_progress": "Phản ánh {code} đang được xử lý.",
    "status_waiting_citizen": (
        "Về phản ánh {code}, chúng tôi cần bạn bổ sung: {note}. Vui lòng trả lời tại {link}"
    ),
    "status_resolved": (
        "Phản ánh {code} đã được xử lý. {note} Bạn hài lòng không? "
        "Đánh giá hoặc mở lại trong 7 ngày tại {link}"
    ),
    "status_rejected": "Phản ánh {code} không thuộc phạm vi xử lý: {note}. Chi tiết: {link}",
    "status_duplicate": "Phản ánh {code} trùng với một phản ánh đang được xử lý. Theo dõi: {link}",
    "status_reopened": "Phản ánh {code} đã được mở lại theo ý kiến của bạn và sẽ được xử lý tiếp. {link}",
    "reply": "{note}",
    "incident_notice": "Về phản ánh {code}: {note} Theo dõi: {link}",
    "ask_phone": (
        "Để tổng đài {hotline} nhận ra bạn khi bạn gọi và nối các phản ánh của bạn trên mọi kênh, bạn vui"
        " lòng trả lời tin nhắn này bằng số điện thoại của mình (ví dụ 0912345678)."
    ),
    "email_subject": "[{code}] {status}",
}

DEFAULTS_EN: dict[str, str] = {
    "receipt": (
        "CivicDesk has received your report {code}. Follow it at {link}. Thank you for helping the city."
    ),
    "status_assigned": "Report {code} has been passed to the department that handles it. Follow it: {link}",
    "status_in_progress": "Report {code} is being handled.",
    "status_waiting_citizen": "About report {code}, we need more from you: {note}. Please answer at {link}",
    "status_resolved": (
        "Report {code} has been resolved. {note} Are you satisfied? "
        "Rate it or reopen it within 7 days at {link}"
    ),
    "status_rejected": "Report {code} is outside what the city handles: {note}. Details: {link}",
    "status_duplicate": "Report {code} duplicates one already being handled. Follow it: {link}",
    "status_reopened": "Report {code} has been reopened as you asked and will be handled again. {link}",
    "reply": "{note}",
    "incident_notice": "About report {code}: {note} Follow it: {link}",
    "ask_phone": (
        "So that the {hotline} hotline recognises you when you call and joins your reports on every"
        " channel, please answer this message with your phone number (e.g. 0912345678)."
    ),
    "email_subject": "[{code}] {status}",
}

# what {status} says in each language, for subjects and ZNS template data
STATUS_WORDS: dict[str, tuple[str, str]] = {
    "receipt": ("Đã tiếp nhận", "Received"),
    "reply": ("Trả lời từ đơn vị xử lý", "A reply from the city"),
    "incident_notice": ("Thông báo về sự cố chung", "A notice about a wider incident"),
    "ask_phone": ("Xin số điện thoại của bạn", "May we have your phone number"),
    "status_assigned": ("Đã chuyển đơn vị xử lý", "Assigned"),
    "status_in_progress": ("Đang xử lý", "In progress"),
    "status_waiting_citizen": ("Cần bạn bổ sung thông tin", "We need more information"),
    "status_resolved": ("Đã xử lý", "Resolved"),
    "status_rejected": ("Không thuộc phạm vi xử lý", "Rejected"),
    "status_duplicate": ("Trùng phản ánh khác", "Duplicate"),
    "status_reopened": ("Đã mở lại", "Reopened"),
}


def status_word(key: str, language: str = "vi") -> str:
    vi, en = STATUS_WORDS.get(key, ("Cập nhật", "Update"))
    return en if language == "en" else vi


def previews(session: Session, language: str = "vi") -> dict[str, str]:
    """Every template as it reads now, with its placeholders shown, for the admin pages."""
    shown = {name: "{" + name + "}" for name in PLACEHOLDERS}
    return {key: render(session, key, language=language, **shown) for key in DEFAULTS}


def check(text: str) -> None:
    """KeyError/ValueError/IndexError when a template uses anything but the known placeholders."""
    text.format_map(dict.fromkeys(PLACEHOLDERS, ""))


def save(session: Session, key: str, *, text_vi: str, text_en: str) -> ReplyTemplate:
    """An administrator's wording of one template, both languages checked before anything is stored:
    a template with an unknown placeholder would fail at the moment a citizen is told."""
    if key not in DEFAULTS:
        raise NotFound(
            _("Không có mẫu “{key}”; các mẫu: {known}", key=key, known=", ".join(sorted(DEFAULTS)))
        )
    for field, text in (("text_vi", text_vi), ("text_en", text_en)):
        try:
            check(text)
        except (KeyError, ValueError, IndexError) as exc:
            raise Invalid(
                _("Mẫu tin chỉ được dùng {{code}}, {{link}}, {{note}} và {{status}}: {error}", error=exc),
                field=field,
            ) from exc
    row = session.get(ReplyTemplate, key) or ReplyTemplate(key=key, text_vi=text_vi)
    row.text_vi, row.text_en, row.updated_at = text_vi, text_en, utcnow()
    session.add(row)
    return row


def render(session: Session, key: str, *, language: str = "vi", **values: str) -> str:
    row = session.get(ReplyTemplate, key)
    if language == "en":
        text = row.text_en if row and row.text_en else DEFAULTS_EN.get(key, DEFAULTS[key])
    else:
        text = row.text_vi if row else DEFAULTS[key]
    known = {**dict.fromkeys(PLACEHOLDERS, ""), "hotline": hotline_number()}
    return text.format_map({**known, **values}).strip()


NOT_CANNED = frozenset({"reply", "email_subject", "ask_phone", "incident_notice"})  # not replies of their own
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
