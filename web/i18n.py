"""Vietnamese first, with an English switch. The language comes from ?lang=, then the `lang` cookie."""

from __future__ import annotations

from collections.abc import Callable

from fastapi import Request

LANGUAGES = ("vi", "en")
DEFAULT_LANGUAGE = "vi"

MESSAGES: dict[str, dict[str, str]] = {
    "site_name": {"vi": "Phản ánh hiện trường", "en": "Citizen reports"},
    "city": {"vi": "TP. Phan Rang – Tháp Chàm", "en": "Phan Rang – Thap Cham City"},
    "hotline": {"vi": "Đường dây nóng", "en": "Hotline"},
    "switch_language": {"vi": "English", "en": "Tiếng Việt"},
    "nav_report": {"vi": "Gửi phản ánh", "en": "Report a problem"},
    "nav_lookup": {"vi": "Tra cứu", "en": "Look up"},
    "nav_list": {"vi": "Phản ánh của người dân", "en": "Public reports"},
    "home_title": {"vi": "Bạn thấy sự cố trong thành phố?", "en": "Seen a problem in the city?"},
    "home_intro": {
        "vi": "Ổ gà, rác thải, đèn đường hỏng, ngập nước, tiếng ồn, lấn chiếm vỉa hè… Hãy báo cho chúng tôi: "
        "bạn sẽ nhận mã phản ánh và đường dẫn để theo dõi đến khi xử lý xong.",
        "en": "Potholes, rubbish, dark street lights, flooding, noise, blocked pavements… Tell us: you get a "
        "code and a link to follow your report until it is resolved.",
    },
    "home_channels": {
        "vi": "Bạn cũng có thể gọi 1900 9113, nhắn Zalo OA hoặc Facebook của thành phố.",
        "en": "You can also call 1900 9113 or message the city on Zalo or Facebook.",
    },
    "form_title": {"vi": "Gửi phản ánh", "en": "Report a problem"},
    "form_text": {"vi": "Nội dung phản ánh", "en": "What is the problem?"},
    "form_text_hint": {
        "vi": "Mô tả sự việc và địa điểm, ví dụ: ổ gà lớn trước số 12 đường Thống Nhất, phường Phủ Hà.",
        "en": "Describe the problem and where it is, e.g. a large pothole outside 12 Thong Nhat street.",
    },
    "form_photos": {"vi": "Ảnh (tối đa 5 ảnh, mỗi ảnh ≤ 10 MB)", "en": "Photos (up to 5, 10 MB each)"},
    "form_address": {"vi": "Địa chỉ", "en": "Address"},
    "form_location": {"vi": "Vị trí trên bản đồ (không bắt buộc)", "en": "Place on the map (optional)"},
    "form_use_location": {"vi": "Dùng vị trí của tôi", "en": "Use my location"},
    "form_latitude": {"vi": "Vĩ độ", "en": "Latitude"},
    "form_longitude": {"vi": "Kinh độ", "en": "Longitude"},
    "form_contact": {
        "vi": "Số điện thoại hoặc email để nhận thông báo (không bắt buộc, không công khai)",
        "en": "Phone or e-mail for updates (optional, never published)",
    },
    "form_phone": {"vi": "Số điện thoại", "en": "Phone"},
    "form_email": {"vi": "Email", "en": "E-mail"},
    "form_submit": {"vi": "Gửi phản ánh", "en": "Send report"},
    "form_errors": {"vi": "Chưa gửi được, vui lòng sửa:", "en": "Not sent yet; please fix:"},
    "done_title": {"vi": "Đã nhận phản ánh của bạn", "en": "Your report has been received"},
    "done_code": {"vi": "Mã phản ánh", "en": "Report code"},
    "done_link": {
        "vi": "Lưu đường dẫn bí mật này để theo dõi (không chia sẻ cho người khác):",
        "en": "Keep this secret link to follow your report (do not share it):",
    },
    "status_title": {"vi": "Phản ánh", "en": "Report"},
    "category": {"vi": "Lĩnh vực", "en": "Category"},
    "ward": {"vi": "Phường/xã", "en": "Ward"},
    "status": {"vi": "Trạng thái", "en": "Status"},
    "address": {"vi": "Địa điểm", "en": "Place"},
    "received_at": {"vi": "Tiếp nhận lúc", "en": "Received"},
    "deadline": {"vi": "Hạn xử lý", "en": "Deadline"},
    "timeline": {"vi": "Quá trình xử lý", "en": "Progress"},
    "photos": {"vi": "Hình ảnh", "en": "Photos"},
    "photo_before": {"vi": "Trước khi xử lý", "en": "Before"},
    "photo_after": {"vi": "Sau khi xử lý", "en": "After"},
    "photo_evidence": {"vi": "Ảnh người dân gửi", "en": "Photo sent with the report"},
    "not_classified": {"vi": "Đang phân loại", "en": "Being classified"},
    "rate_title": {"vi": "Bạn hài lòng với kết quả?", "en": "Are you satisfied with the result?"},
    "rate_comment": {"vi": "Góp ý (không bắt buộc)", "en": "Comment (optional)"},
    "rate_submit": {"vi": "Gửi đánh giá", "en": "Send rating"},
    "rated": {"vi": "Bạn đã đánh giá", "en": "You rated"},
    "notify_prefs_title": {"vi": "Thông báo về phản ánh", "en": "Updates about this report"},
    "notify_prefs_intro": {
        "vi": "Chúng tôi báo cho bạn khi phản ánh được tiếp nhận, cần bổ sung, đổi trạng thái hoặc đã xử lý.",
        "en": "We tell you when the report is received, needs more from you, changes status or is resolved.",
    },
    "notify_stop_submit": {"vi": "Ngừng nhận thông báo", "en": "Stop updates"},
    "notify_stopped": {
        "vi": "Bạn sẽ không nhận thêm thông báo nào. Trang này vẫn cập nhật tình trạng phản ánh.",
        "en": "You will receive no more updates. This page still shows the report's status.",
    },
    "reopen_title": {"vi": "Sự việc chưa được khắc phục?", "en": "Not fixed?"},
    "reopen_reason": {"vi": "Lý do mở lại", "en": "Why reopen it"},
    "reopen_submit": {"vi": "Mở lại phản ánh", "en": "Reopen the report"},
    "reopen_until": {"vi": "Có thể mở lại đến", "en": "Can be reopened until"},
    "lookup_title": {"vi": "Tra cứu phản ánh", "en": "Look up a report"},
    "confirm_title": {"vi": "Xác nhận thông tin liên hệ", "en": "Confirm your contact details"},
    "confirm_ask": {
        "vi": "Bấm nút dưới đây để xác nhận đây là của bạn:",
        "en": "Press the button below to confirm this is yours:",
    },
    "confirm_submit": {"vi": "Xác nhận", "en": "Confirm"},
    "confirm_done": {
        "vi": "Cảm ơn bạn. Đã xác nhận; các phản ánh của bạn trên mọi kênh sẽ được nối với nhau:",
        "en": "Thank you. Confirmed; your reports on every channel will be kept together:",
    },
    "lookup_code": {"vi": "Mã phản ánh (ví dụ PR-2026-000123)", "en": "Report code (e.g. PR-2026-000123)"},
    "lookup_phone": {"vi": "4 số cuối điện thoại đã đăng ký", "en": "Last 4 digits of your phone number"},
    "lookup_submit": {"vi": "Tra cứu", "en": "Look up"},
    "lookup_failed": {
        "vi": "Không tìm thấy phản ánh với mã và số điện thoại này.",
        "en": "No report matches this code and phone number.",
    },
    "list_title": {"vi": "Phản ánh của người dân", "en": "Reports from citizens"},
    "filter_all": {"vi": "Tất cả", "en": "All"},
    "filter_open": {"vi": "Đang xử lý", "en": "Open"},
    "filter_resolved": {"vi": "Đã xử lý", "en": "Resolved"},
    "filter_apply": {"vi": "Lọc", "en": "Filter"},
    "map_title": {"vi": "Bản đồ phản ánh theo phường", "en": "Map of reports by ward"},
    "map_note": {
        "vi": "Sơ đồ ranh giới phường mang tính minh họa.",
        "en": "Ward boundaries are schematic.",
    },
    "map_boundaries_from": {"vi": "Ranh giới phường", "en": "Ward boundaries"},
    "map_licence": {"vi": "giấy phép", "en": "licence"},
    "no_reports": {"vi": "Chưa có phản ánh nào.", "en": "No reports yet."},
    "not_found_title": {"vi": "Không tìm thấy", "en": "Not found"},
    "not_found": {
        "vi": "Đường dẫn không đúng hoặc đã hết hạn. Hãy tra cứu bằng mã phản ánh.",
        "en": "This link is wrong or has expired. Look your report up by its code.",
    },
    "too_many": {
        "vi": "Bạn thao tác quá nhanh. Vui lòng thử lại sau ít phút.",
        "en": "Too many attempts. Please try again in a few minutes.",
    },
    "too_many_title": {"vi": "Vui lòng đợi", "en": "Please wait"},
    "problem_title": {"vi": "Chưa thực hiện được", "en": "That did not work"},
    "invalid_fields": {
        "vi": "Vui lòng quay lại và kiểm tra các ô:",
        "en": "Please go back and check these fields:",
    },
    "field_rating": {"vi": "số sao", "en": "stars"},
    "field_reason": {"vi": "lý do mở lại (ít nhất 3 ký tự)", "en": "reason to reopen (3 characters or more)"},
    "field_comment": {"vi": "nhận xét", "en": "comment"},
    "field_code": {"vi": "mã phản ánh", "en": "report code"},
    "field_phone_last4": {"vi": "4 số cuối điện thoại", "en": "last 4 digits of the phone"},
    "field_text": {"vi": "nội dung", "en": "description"},
    "field_address": {"vi": "địa chỉ", "en": "address"},
    "field_latitude": {"vi": "vĩ độ", "en": "latitude"},
    "field_longitude": {"vi": "kinh độ", "en": "longitude"},
    "field_phone": {"vi": "số điện thoại", "en": "phone"},
    "field_page": {"vi": "số trang", "en": "page number"},
    "field_email": {"vi": "thư điện tử", "en": "e-mail"},
    "field_photos": {"vi": "hình ảnh", "en": "photos"},
    "reports_count": {"vi": "phản ánh", "en": "reports"},
    # the conversation on the status page
    "conv_you_wrote": {"vi": "Bạn đã gửi", "en": "You wrote"},
    "conv_merged_into": {
        "vi": "Phản ánh này trùng và được xử lý chung với phản ánh",
        "en": "This report is a duplicate and is handled together with report",
    },
    "note_question": {"vi": "Cơ quan xử lý hỏi", "en": "The city asks"},
    "note_summary": {"vi": "Kết quả xử lý", "en": "What was done"},
    "note_reason": {"vi": "Lý do", "en": "Reason"},
    "reply_title_answer": {
        "vi": "Cơ quan xử lý đang chờ bạn trả lời",
        "en": "The city is waiting for your answer",
    },
    "reply_title_add": {"vi": "Bổ sung thông tin", "en": "Add information"},
    "reply_text": {"vi": "Nội dung trả lời", "en": "Your message"},
    "reply_submit": {"vi": "Gửi trả lời", "en": "Send"},
    "reply_sent": {
        "vi": "Đã gửi. Cán bộ phụ trách đã được báo và sẽ tiếp tục xử lý.",
        "en": "Sent. The officer in charge has been told and will carry on.",
    },
    "reply_closed": {
        "vi": "Phản ánh này đã kết thúc nên không nhận thêm tin nhắn."
        " Nếu sự việc vẫn còn, hãy gửi phản ánh mới.",
        "en": "This report is finished and takes no more messages."
        " If the problem is still there, send a new report.",
    },
    "reply_kept": {
        "vi": "Nội dung bạn đã viết (để sao chép):",
        "en": "What you wrote (to copy):",
    },
    "err_reply_empty": {
        "vi": "Hãy viết nội dung trả lời hoặc gửi kèm ít nhất một ảnh.",
        "en": "Write a message or attach at least one photo.",
    },
    "err_reply_too_long": {"vi": "Nội dung quá dài.", "en": "The message is too long."},
    "err_photo_too_large": {
        "vi": "Có ảnh lớn hơn giới hạn cho phép (10 MB mỗi ảnh).",
        "en": "A photo is larger than allowed (10 MB each).",
    },
    "err_too_many_photos": {"vi": "Chỉ gửi tối đa 5 ảnh.", "en": "Send at most 5 photos."},
    "err_not_a_photo": {
        "vi": "Có tệp không phải ảnh đọc được; hãy gửi ảnh JPEG, PNG hoặc WebP.",
        "en": "A file is not a photo we can read; send a JPEG, PNG or WebP picture.",
    },
    # statuses
    "st_new": {"vi": "Mới tiếp nhận", "en": "Received"},
    "st_triaged": {"vi": "Đã phân loại", "en": "Classified"},
    "st_assigned": {"vi": "Đã chuyển đơn vị xử lý", "en": "Sent to the responsible unit"},
    "st_in_progress": {"vi": "Đang xử lý", "en": "In progress"},
    "st_waiting_citizen": {"vi": "Chờ người dân bổ sung", "en": "Waiting for your reply"},
    "st_resolved": {"vi": "Đã xử lý", "en": "Resolved"},
    "st_closed": {"vi": "Đã đóng", "en": "Closed"},
    "st_rejected": {"vi": "Không thuộc phạm vi xử lý", "en": "Out of scope"},
    "st_duplicate": {"vi": "Trùng phản ánh khác", "en": "Duplicate of another report"},
    "st_reopened": {"vi": "Được mở lại", "en": "Reopened"},
    # timeline events
    "ev_created": {"vi": "Tiếp nhận phản ánh", "en": "Report received"},
    "ev_status_changed": {"vi": "Cập nhật trạng thái", "en": "Status update"},
    "ev_assigned": {"vi": "Chuyển đơn vị xử lý", "en": "Sent to a unit"},
    "ev_comment": {"vi": "Trả lời của cơ quan", "en": "Reply from the city"},
    "ev_reopened": {"vi": "Mở lại", "en": "Reopened"},
    "ev_rated": {"vi": "Người dân đánh giá", "en": "Rated by the citizen"},
    "ev_merged": {"vi": "Gộp với phản ánh trùng", "en": "Merged with a duplicate"},
    "ev_attachment_added": {"vi": "Bổ sung hình ảnh", "en": "Photo added"},
    "ev_reply_sent": {"vi": "Đã gửi tin nhắn", "en": "Message sent"},
    "ev_escalated": {"vi": "Chuyển cấp thành phố", "en": "Escalated to city level"},
}


def _with_staff_words() -> None:
    from web.i18n_staff import STAFF_MESSAGES

    MESSAGES.update(STAFF_MESSAGES)


_with_staff_words()


def language_of(request: Request) -> str:
    wanted = request.query_params.get("lang") or request.cookies.get("lang") or DEFAULT_LANGUAGE
    return wanted if wanted in LANGUAGES else DEFAULT_LANGUAGE


def translator(language: str) -> Callable[[str], str]:
    def translate(key: str) -> str:
        entry = MESSAGES.get(key)
        if entry is None:
            return key
        return entry.get(language) or entry[DEFAULT_LANGUAGE]

    return translate
