"""A model a city can trust: doubtful reports for sensitive departments wait for a person, corrections
retrain the model on the worker's schedule and change the next decision without a restart, a less
accurate model is refused, a corrupt model file keeps the old model and raises an alert, and the shipped
model meets the accuracy gate on the held-out split."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from civicdesk.celery_app import celery_app
from civicdesk.observability.metrics import ModelCollector
from kernel.db import unit_of_work
from kernel.settings import get_settings
from nlp import classifier
from nlp.category_model import CategoryModel
from nlp.corpus import Example, read_examples
from routing import learning, triage
from routing.models import TriageCorrection
from tickets import service
from tickets.models import EventKind, Ticket, TicketEvent
from tickets.service import NewTicket

Headers = Callable[..., dict[str, str]]
FEW = {"street_lighting", "water_supply", "electricity"}  # a small model trains in seconds


def _few(split: str) -> list[Example]:
    return [e for e in read_examples(split=split) if e.category in FEW]


# The retrain tests' own corpus, written here rather than drawn from nlp/data: what one correction does to
# a model trained on the project's corpus depends on which of its held-out reports sit near the correction,
# and changes whenever the corpus does. Here the held-out reports say plainly what they are in the training
# reports' words and share no word with the corrected report, even folded (tủ/từ, rồi/rơi), nor with the
# place it names: the correction has nothing to move them by, and the outcome does not hang on the corpus.
OWN_TRAINING = {
    "street_lighting": [
        "Đèn đường trước nhà tôi tắt cả tuần nay",
        "Bóng đèn đường đầu ngõ bị cháy",
        "Cột đèn chiếu sáng bị nghiêng, bóng đèn không sáng",
        "Đèn đường chập chờn suốt đêm",
        "Đoạn đường này chưa có đèn chiếu sáng",
        "Dãy đèn đường trên cầu không sáng",
        "Đèn công viên hư, buổi tối không có ánh sáng",
        "Đèn đường bật sáng cả ban ngày",
    ],
    "water_supply": [
        "Mất nước máy từ sáng đến giờ",
        "Nước máy đục, có cặn vàng",
        "Ống nước bị vỡ, nước phun lên mặt đường",
        "Nước máy yếu, không lên được bồn",
        "Hóa đơn tiền nước tăng gấp ba",
        "Đồng hồ nước quay khi không dùng nước",
        "Nước máy có mùi clo nồng",
        "Cúp nước không báo trước",
    ],
    "electricity": [
        "Mất điện cả khu từ sáng",
        "Dây điện bị đứt rơi xuống đường",
        "Trụ điện nghiêng sắp đổ",
        "Điện áp yếu, máy lạnh không chạy được",
        "Tiền điện tháng này tăng vọt",
        "Công tơ điện chạy nhanh bất thường",
        "Trạm biến áp bốc khói",
        "Cúp điện liên tục không báo trước",
    ],
}
OWN_HELD_OUT = {
    "street_lighting": ["Đèn đường không sáng", "Bóng đèn đường bị cháy cả tuần"],
    "water_supply": ["Mất nước máy cả ngày", "Nước máy đục có cặn"],
    "electricity": ["Mất điện cả buổi sáng", "Dây điện đứt nằm trên đường"],
}


def _own(split: str) -> list[Example]:
    written = OWN_TRAINING if split == "train" else OWN_HELD_OUT
    return [
        Example(text, category, None, None, "2026-11-01T08:00:00+07:00", "diacritics", base, split)
        for category, texts in written.items()
        for base, text in enumerate(texts)
    ]


def file(session: Session, text: str) -> Ticket:
    return service.create_ticket(session, NewTicket(description=text))  # type: ignore[call-arg]


@pytest.fixture
def model_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    path = tmp_path / "category.npz"
    monkeypatch.setenv("CIVICDESK_NLP_MODEL_PATH", str(path))
    get_settings.cache_clear()
    classifier.clear_cache()
    yield path
    get_settings.cache_clear()
    classifier.clear_cache()


def _set(monkeypatch: pytest.MonkeyPatch, **values: float) -> None:
    for name, value in values.items():
        monkeypatch.setenv(f"CIVICDESK_{name.upper()}", str(value))
    get_settings.cache_clear()


def test_a_doubtful_report_for_a_sensitive_department_waits_for_a_person(
    engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    fight = "Có mấy thanh niên cầm dao đánh nhau trước quán nước ở phường Phủ Hà"
    lamp = "Đèn đường trước nhà tôi tắt cả tuần nay ở phường Phủ Hà"
    with unit_of_work(engine) as session:
        police = triage.decide(session, fight)
        roads = triage.decide(session, lamp)
    assert (police.department, roads.department) == ("ca", "qldt")
    assert police.category_confidence < 1.0 and police.model_version

    # both above the ordinary threshold; the police report below the sensitive one
    _set(monkeypatch, triage_confidence_threshold=0.01, triage_sensitive_threshold=1.0)
    with unit_of_work(engine) as session:
        police = triage.decide(session, fight)
        roads = triage.decide(session, lamp)
    assert police.needs_review and not roads.needs_review
    assert any("sensitive department ca: to the triage queue" in r for r in police.reasons)

    # a police report confident enough meets the sensitive threshold; it still waits for a person only
    # because its category (security) is never routed unseen
    _set(monkeypatch, triage_sensitive_threshold=police.category_confidence - 0.001)
    with unit_of_work(engine) as session:
        confident = triage.decide(session, fight)
    assert not any("confidence below" in r for r in confident.reasons)
    assert [r for r in confident.reasons if "to the triage queue" in r] == [
        "sensitive category security: to the triage queue"
    ]
    get_settings.cache_clear()


def test_the_sensitive_threshold_is_never_below_the_ordinary_one(monkeypatch: pytest.MonkeyPatch) -> None:
    _set(monkeypatch, triage_confidence_threshold=0.6, triage_sensitive_threshold=0.3)
    assert triage.confidence_threshold("gddt") == (0.6, True)
    assert triage.confidence_threshold("qldt") == (0.6, False)
    get_settings.cache_clear()


def test_the_worker_retrains_the_model_on_a_schedule() -> None:
    entry = celery_app.conf.beat_schedule["retrain-category-model"]
    assert entry["task"] == "routing.retrain_category_model"
    assert entry["task"] in celery_app.tasks
    assert entry["schedule"] == get_settings().nlp_retrain_seconds


def test_a_correction_and_the_scheduled_retrain_change_the_next_decision_without_a_restart(
    engine: Engine, client: TestClient, make_user: Headers, model_file: Path
) -> None:
    training, held_out = _own("train"), _own("test")
    odd = "Cái tủ ở đầu hẻm kêu rè rè rồi tắt ngấm, xin xem giúp ở phường Phủ Hà"
    with unit_of_work(engine) as session:
        first = learning.retrain(session, training=training, held_out=held_out)
        assert first.replaced and first.current_accuracy is None and model_file.exists()
        ticket = file(session, odd)
        before = triage.apply(session, ticket.id or 0)
        assert before is not None and before.model_version == first.version
        event = session.exec(
            select(TicketEvent).where(
                TicketEvent.ticket_id == ticket.id, TicketEvent.kind == EventKind.CLASSIFIED
            )
        ).one()
        assert event.data["model_version"] == first.version  # kept on the ticket's timeline
        ticket_id, guessed = ticket.id, ticket.category_code
    # staff correct the report (a buzzing cabinet that goes dark) to another of the three categories; the
    # held-out reports share no word with it, so the candidate is not less accurate and is put in place
    target = "electricity" if guessed != "electricity" else "street_lighting"
    supervisor = make_user("supervisor")
    fixed = client.patch(f"/api/v1/tickets/{ticket_id}", json={"category": target}, headers=supervisor)
    assert fixed.status_code == 200

    with unit_of_work(engine) as session:  # what the beat's task does, on the small corpus
        again = learning.retrain(session, training=training, held_out=held_out)
        assert again.replaced and again.corrections == 1 and again.version != first.version
        assert again.candidate_accuracy is not None and again.current_accuracy is not None
        assert again.candidate_accuracy == again.current_accuracy == 1.0
        after = triage.decide(session, odd)  # same process, nothing restarted or cleared
    assert (after.category, after.model_version) == (target, again.version)

    with unit_of_work(engine) as session:
        unchanged = learning.retrain(session, training=training, held_out=held_out)
    assert not unchanged.replaced and unchanged.reason == "no new corrections"


def test_no_retrain_without_corrections(
    engine: Engine, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The shipped model was trained on the corpus alone: with no correction there is nothing to learn."""
    monkeypatch.setenv("CIVICDESK_NLP_MODEL_PATH", "")
    monkeypatch.setenv("CIVICDESK_VAR_DIR", str(tmp_path))
    get_settings.cache_clear()
    assert classifier.model_path() == classifier.MODEL_FILE  # no retrained model yet: the shipped one
    with unit_of_work(engine) as session:
        outcome = learning.retrain(session)
    get_settings.cache_clear()
    assert not outcome.replaced and outcome.reason == "no new corrections" and outcome.corrections == 0
    assert not (tmp_path / classifier.RETRAINED_NAME).exists()


def test_a_less_accurate_model_is_refused(engine: Engine, model_file: Path) -> None:
    training, held_out = _own("train"), _own("test")
    with unit_of_work(engine) as session:
        learning.retrain(session, training=training, held_out=held_out)
    in_use = model_file.read_bytes()
    lamps = [e.text for e in held_out if e.category == "street_lighting"]
    with unit_of_work(engine) as session:  # people "correct" every held-out lamp report to water
        for text in lamps:
            ticket = file(session, text)
            session.add(
                TriageCorrection(
                    ticket_id=ticket.id or 0,
                    field="category",
                    old_value="street_lighting",
                    new_value="water_supply",
                    text=text,
                )
            )
    with unit_of_work(engine) as session:
        outcome = learning.retrain(session, training=training, held_out=held_out)
    assert not outcome.replaced and outcome.reason == "less accurate on the held-out split"
    assert outcome.candidate_accuracy is not None and outcome.current_accuracy is not None
    assert outcome.candidate_accuracy < outcome.current_accuracy
    assert model_file.read_bytes() == in_use
    assert classifier.load_model().version == outcome.version


def test_a_corrupt_model_file_keeps_the_old_model_and_raises_an_alert(
    model_file: Path, caplog: pytest.LogCaptureFixture
) -> None:
    training = _few("train")
    good = classifier.train([e.text for e in training], [e.category for e in training], path=model_file)
    in_use = classifier.load_model()
    assert in_use.classes == good.classes and in_use.version
    failures = classifier.model_load_failures()

    model_file.write_bytes(b"PK\x03\x04 half a zip, as a full disk leaves it")
    with caplog.at_level(logging.ERROR, logger="nlp.classifier"):
        kept = classifier.load_model()
        assert classifier.predict("đèn đường tắt cả tuần").category == "street_lighting"
    assert kept is in_use
    assert classifier.model_load_failures() == failures + 1  # once per bad file, not once per report
    alerts = [r for r in caplog.records if getattr(r, "alert", None) == "nlp_model_unreadable"]
    assert len(alerts) == 1 and in_use.version in alerts[0].getMessage()
    (scraped,) = ModelCollector().collect()  # what /metrics shows as civicdesk_nlp_model_load_failures_total
    assert scraped.samples[0].value == failures + 1

    newer = _few("train")[: len(training) // 2]
    classifier.train([e.text for e in newer], [e.category for e in newer], path=model_file)
    assert classifier.load_model().version not in ("", in_use.version)  # a good file is picked up again


# The issue asks for 0.92; the shipped model reaches 0.925 on this split (0.918 before reports_train_d.tsv,
# 0.754 before the accented view, the SVM and reports_train_a/b; 0.602 for the model before the corpus).
# The gate is the figure, just under what is reached, so a worse shipped model fails here.
ACCURACY_GATE = 0.92


def test_the_shipped_model_meets_the_accuracy_gate_on_the_held_out_split() -> None:
    held_out = read_examples(split="test")
    model = CategoryModel.load(classifier.MODEL_FILE)
    assert len(held_out) >= 21 * 50 and model.calibration is not None
    assert learning.accuracy(model, held_out) >= ACCURACY_GATE
