"""The gettext catalogues: complete for what the code asks, in the asker's language, fed by the converter."""

from __future__ import annotations

import importlib.util
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path
from types import ModuleType

import pytest
from babel.messages.pofile import read_po
from fastapi.testclient import TestClient
from sqlalchemy.engine import Engine

from kernel.db import unit_of_work
from kernel.i18n import _, catalogue, label, local_number, local_percent, localize
from tickets import service
from tickets.models import EventKind
from tickets.service import NewTicket
from web.pages.common import TEMPLATES, js_keys

ROOT = Path(__file__).resolve().parents[1]
CONVERTER = "python scripts/messages.py from-dicts"


def _messages_script() -> ModuleType:
    spec = importlib.util.spec_from_file_location("messages_script", ROOT / "scripts" / "messages.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


def test_no_words_are_left_in_the_old_dicts() -> None:
    """New words belong in the catalogues; an entry left in a dict would bypass the translators."""
    from web.i18n import MESSAGES
    from web.i18n_staff import STAFF_MESSAGES

    left = sorted({*MESSAGES, *STAFF_MESSAGES})
    assert left == [], f"move these into kernel/locale with `{CONVERTER}`: {left}"


def test_every_message_the_code_asks_for_is_translated_and_in_the_template() -> None:
    script = _messages_script()
    extracted = script.template()
    with (ROOT / "kernel" / "locale" / "messages.pot").open("rb") as pot:
        committed = {message.id for message in read_po(pot) if message.id}
    wanted = {message.id for message in extracted if message.id}
    assert wanted - committed == set(), "run `make messages` and commit kernel/locale"
    english, vietnamese = catalogue("en"), catalogue("vi")
    assert sorted(msgid for msgid in wanted if not english.get(msgid)) == []
    assert sorted(msgid for msgid in wanted if script.is_key(msgid) and not vietnamese.get(msgid)) == []


def test_a_message_is_vietnamese_until_it_is_asked_for_in_english() -> None:
    message = _("Không có phản ánh số {number}.", number=42)
    assert message == "Không có phản ánh số 42."  # a str: logs and comparisons keep working
    assert message.in_language("en") == "There is no ticket number 42."
    assert localize(message, "en") == "There is no ticket number 42." and localize("plain", "en") == "plain"
    status = _("Phản ánh “{status}” không thể giao; hãy mở lại trước.", status=label("st_", "closed"))
    assert status == "Phản ánh “Đã đóng” không thể giao; hãy mở lại trước."
    assert status.in_language("en") == "A ticket that is “Closed” cannot be assigned; reopen it first."


def test_dates_and_numbers_are_written_the_way_each_language_writes_them() -> None:
    moment = datetime(2026, 11, 28, 8, 40, tzinfo=UTC)  # 15:40 in the city
    page = TEMPLATES.env.from_string("{{ at|datetime }} | {{ n|number(1) }} | {{ share|percent }}")
    values = {"at": moment, "n": 1234.56, "share": 0.428}
    assert page.render(lang="vi", **values) == "15:40 28/11/26 | 1.234,6 | 42,8 %"
    assert (
        page.render(lang="en", **values) == "11/28/26, 3:40\u202fPM | 1,234.6 | 42.8 %"
    )  # CLDR's narrow space
    assert local_number(None, "vi") == "—" and local_percent(None, "en") == "—"
    assert page.render(lang="vi", **{**values, "at": "2026-11-28T08:40:00Z"}).startswith("15:40 28/11/26")


def test_a_note_the_system_wrote_is_shown_in_the_page_language(engine: Engine) -> None:
    with unit_of_work(engine) as session:
        ticket = service.create_ticket(session, NewTicket(description="Đèn đường hỏng"))
        note = _(
            "Kênh {channel} chưa được cấu hình: người dân chưa nhận được tin", channel=label("ch_", "zalo")
        )
        event = service.record_event(session, ticket, EventKind.REPLY_FAILED, note=note)
        session.flush()
        session.refresh(event)
        staff_note = service.record_event(session, ticket, EventKind.COMMENT, note="Đã liên hệ phường")
        page = TEMPLATES.env.from_string("{{ e|note }}")
        assert (
            event.note == "Kênh Zalo chưa được cấu hình: người dân chưa nhận được tin"
        )  # stored for search, logs
        assert page.render(lang="en", e=event) == "Zalo is not configured here: the citizen was not told"
        assert page.render(lang="en", e=staff_note) == "Đã liên hệ phường"  # a person's words stay theirs


def test_the_scripts_get_their_words_in_the_page_language(client: TestClient) -> None:
    assert {"js_saved", "js_overdue", "js_ioc_no_alerts"} <= set(js_keys())  # `${t("…")}` included
    page = client.get("/ioc?lang=en").text
    assert "data-messages='{" in page and '"js_ioc_no_alerts": "No alerts"' in page


def test_api_errors_answer_in_the_language_asked_for(client: TestClient, admin: dict[str, str]) -> None:
    vietnamese = client.get("/api/v1/tickets/999999", headers=admin)
    assert vietnamese.status_code == 404 and vietnamese.json()["detail"] == "Không có phản ánh số 999999."
    english = client.get("/api/v1/tickets/999999", headers={**admin, "Accept-Language": "en-US,en;q=0.8"})
    assert english.json()["detail"] == "There is no ticket number 999999."
    assert client.get("/api/v1/tickets/999999?lang=en", headers=admin).json()["detail"].startswith("There is")


def test_validation_errors_name_the_field_and_the_problem(client: TestClient, admin: dict[str, str]) -> None:
    answer = client.post("/api/v1/tickets", json={"description": "x" * 5001}, headers=admin)
    assert answer.status_code == 422
    assert answer.json()["errors"][0]["message"] == "description: dài quá 5000 ký tự"
    assert answer.json()["detail"] == "Yêu cầu chưa đúng: description: dài quá 5000 ký tự"
    english = client.post("/api/v1/tickets?lang=en", json={}, headers=admin).json()
    assert english["errors"][0]["message"] == "description: is missing"


@pytest.mark.parametrize(
    ("language", "expected"),
    [("vi", "Nội dung đang trống; hãy cho biết sự việc và địa điểm."), ("en", "The description is empty")],
)
def test_the_report_form_explains_in_the_page_language(
    client: TestClient, language: str, expected: str
) -> None:
    page = client.post(f"/report?lang={language}", data={"text": "  "})
    assert page.status_code == 422 and expected in page.text and "field_" not in page.text


# --- the converter the lead runs at merge time ---------------------------------------------------

DICTS = """X: int = 1
MESSAGES: dict[str, dict[str, str]] = {
    "home_title": {"vi": "Bạn thấy sự cố?", "en": "Seen a problem?"},
    "brand_new": {"vi": "Mới toanh", "en": "Brand new"},
}


def f() -> None: ...
"""


def test_the_converter_moves_dict_entries_into_the_catalogues(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    script = _messages_script()
    source = tmp_path / "i18n.py"
    source.write_text(DICTS, encoding="utf-8")
    assert script.dict_entries(DICTS, "MESSAGES")["brand_new"] == {"vi": "Mới toanh", "en": "Brand new"}
    for language in ("vi", "en"):
        (tmp_path / language).mkdir()
    monkeypatch.setattr(script, "po_path", lambda language: tmp_path / language / "messages.po")
    assert script.write_entries(script.dict_entries(DICTS, "MESSAGES")) == ["home_title", "brand_new"]
    assert script.write_entries(script.dict_entries(DICTS, "MESSAGES")) == []  # a second run changes nothing
    with (tmp_path / "en" / "messages.po").open("rb") as po:
        assert read_po(po).get("brand_new").string == "Brand new"
    script.empty_dict(source, "MESSAGES")
    assert source.read_text(encoding="utf-8") == (
        "X: int = 1\nMESSAGES: dict[str, dict[str, str]] = {}\n\n\ndef f() -> None: ...\n"
    )


def test_at_merge_the_converter_takes_what_another_branch_added(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`from-dicts --from-ref BRANCH`: entries BRANCH added or changed since the merge base, no others."""
    script = _messages_script()

    def git(*args: str) -> None:
        identity = ["-c", "user.name=t", "-c", "user.email=t@example.vn"]
        subprocess.run(["git", *identity, *args], cwd=tmp_path, check=True, capture_output=True)

    (tmp_path / "i18n.py").write_text(DICTS, encoding="utf-8")
    git("init", "-q", "-b", "main")
    git("add", "i18n.py")
    git("commit", "-qm", "base")
    git("checkout", "-qb", "other")
    changed = DICTS.replace("Brand new", "Brand-new").replace(
        "}\n\n\n", '    "added": {"vi": "Thêm", "en": "Added"},\n}\n\n\n'
    )
    (tmp_path / "i18n.py").write_text(changed, encoding="utf-8")
    git("commit", "-qam", "other")
    git("checkout", "-q", "main")
    monkeypatch.setattr(script, "ROOT", tmp_path)
    monkeypatch.setattr(script, "DICT_FILES", {"i18n.py": "MESSAGES"})
    assert script.entries_from_ref("other") == {
        "brand_new": {"vi": "Mới toanh", "en": "Brand-new"},
        "added": {"vi": "Thêm", "en": "Added"},
    }
