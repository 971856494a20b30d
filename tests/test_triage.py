"""Triage on real tickets: classification and routing onto the ticket with reasons, old ward names,
the review queue, duplicates, routing rule order, the correction loop, the API and the CLI."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from datetime import datetime
from pathlib import Path

import pytest
from click.testing import CliRunner
from fastapi.testclient import TestClient
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from civicdesk import cli
from kernel.db import engine_for, unit_of_work
from kernel.settings import get_settings
from kernel.timeutil import city_tz
from nlp import classifier
from routing import triage
from routing.models import RoutingRule, TriageCorrection
from routing.rules import route, save_rule
from tickets import service
from tickets.models import EventKind, Status, Ticket, TicketEvent
from tickets.service import NewTicket

Headers = Callable[..., dict[str, str]]


def file(session: Session, text: str, **kw: object) -> Ticket:
    return service.create_ticket(session, NewTicket(description=text, **kw))  # type: ignore[arg-type]


def test_a_clear_report_is_classified_located_and_routed_with_reasons(engine: Engine) -> None:
    with unit_of_work(engine) as session:
        ticket = file(session, "Đèn đường trên đường Thống Nhất tắt cả tuần nay ở P. Kinh Dinh")
        decision = triage.apply(session, ticket.id or 0)
        assert decision is not None and not decision.needs_review
        assert (ticket.category_code, ticket.ward_code, ticket.department_code) == (
            "street_lighting",
            "phan-rang",
            "qldt",
        )
        assert ticket.ward_named_code == "kinh-dinh" and ticket.status == Status.ASSIGNED
        assert "Thống Nhất" in (ticket.address_text or "")
        event = session.exec(
            select(TicketEvent).where(
                TicketEvent.ticket_id == ticket.id, TicketEvent.kind == EventKind.CLASSIFIED
            )
        ).one()
        reasons = "; ".join(event.data["reasons"])
        assert "category street_lighting" in reasons and "ward Kinh Dinh" in reasons
        assert "taxonomy: street_lighting → qldt" in reasons
        # what staff read on the timeline: Vietnamese, with names instead of codes
        assert event.note and event.note.startswith("Lĩnh vực «Chiếu sáng công cộng» (độ tin cậy")
        assert "phường/xã Kinh Dinh (từ “" in event.note and "nay thuộc Phan Rang" in event.note
        assert "street_lighting" not in event.note and "qldt" not in event.note
        assert triage.apply(session, ticket.id or 0) is None  # a repeated task changes nothing


def test_an_old_ward_name_routes_to_the_unit_in_force_on_the_report_date(engine: Engine) -> None:
    with unit_of_work(engine) as session:
        old = file(
            session, "rac chat dong o phuong thanh son", created_at=datetime(2024, 6, 1, 9, tzinfo=city_tz())
        )
        new = file(
            session, "rac chat dong o phuong thanh son", created_at=datetime(2025, 8, 1, 9, tzinfo=city_tz())
        )
        for ticket in (old, new):
            triage.apply(session, ticket.id or 0)
        assert (old.ward_code, old.ward_named_code) == ("thanh-son", "thanh-son")
        assert (new.ward_code, new.ward_named_code) == ("phan-rang", "thanh-son")


def test_unsure_reports_wait_in_the_triage_queue(
    engine: Engine, client: TestClient, make_user: Headers
) -> None:
    with unit_of_work(engine) as session:
        nowhere = file(session, "Đèn đường tắt cả tuần nay")  # no ward in the text
        vague = file(session, "xin chào ở phường Phủ Hà")  # no problem the model knows
        for ticket in (nowhere, vague):
            triage.apply(session, ticket.id or 0)
        assert nowhere.needs_review and nowhere.status == Status.NEW and nowhere.department_code is None
        codes = {nowhere.code, vague.code if vague.needs_review else nowhere.code}
    agent = make_user("agent")
    listed = client.get("/api/v1/triage/queue", headers=agent)
    assert listed.status_code == 200 and codes <= {t["code"] for t in listed.json()}
    officer = make_user("department_staff", department="qldt")
    assert client.get("/api/v1/triage/queue", headers=officer).status_code == 403


def test_duplicates_link_automatically_or_are_suggested(engine: Engine) -> None:
    with unit_of_work(engine) as session:
        first = file(session, "Ổ gà lớn trước số 45 đường Thống Nhất phường Phủ Hà, xe máy dễ té")
        triage.apply(session, first.id or 0)
        again = file(session, "o ga lon truoc so 45 duong thong nhat phuong phu ha xe may de te")
        decision = triage.apply(session, again.id or 0)
        assert decision is not None and decision.link_to is not None
        assert again.status == Status.DUPLICATE and again.duplicate_of_id == first.id
        similar = file(session, "Đường Thống Nhất phường Phủ Hà có ổ gà to gần số 50")
        suggestion = triage.decide(session, similar.description, exclude_ticket_id=similar.id)
        assert [d.code for d in suggestion.duplicates][:1] == [first.code]
        elsewhere = triage.decide(session, "Ổ gà lớn trước số 45 đường Thống Nhất phường Đô Vinh")
        assert elsewhere.duplicates == []  # another ward is another pothole


def test_routing_rules_first_match_wins_and_order_is_data(engine: Engine) -> None:
    with unit_of_work(engine) as session:
        storm = save_rule(
            session,
            RoutingRule(
                position=1, name="bão", keywords=["cây đổ"], department_code="ttdt", priority="urgent"
            ),
        )
        parks = save_rule(
            session,
            RoutingRule(position=2, name="công viên", category_code="trees_parks", department_code="tnmt"),
        )
        text = "Cây đổ chắn ngang đường sau bão"
        first = route(session, category="trees_parks", ward=None, text=text, channel=None)
        assert (first.department, first.priority, first.reason) == ("ttdt", "urgent", "rule 1 (bão)")
        storm.position = 3
        session.flush()
        second = route(session, category="trees_parks", ward=None, text=text, channel=None)
        assert (second.department, second.priority) == ("tnmt", "normal")  # priority from the taxonomy
        parks.active = False
        storm.active = False
        session.flush()
        plain = route(session, category="trees_parks", ward=None, text=text, channel=None)
        assert plain.department == "qldt" and plain.reason.startswith("taxonomy")
        zalo = save_rule(session, RoutingRule(position=0, name="zalo", channel="zalo", priority="high"))
        assert route(session, category="noise", ward=None, text="ồn", channel="zalo").priority == "high"
        assert route(session, category="noise", ward=None, text="ồn", channel="web").priority == "normal"
        del zalo


def test_rules_api_is_for_admins_and_checks_references(
    client: TestClient, admin: dict[str, str], make_user: Headers
) -> None:
    body = {"position": 5, "name": "biển", "keywords": ["bãi biển"], "department": "vhtt"}
    assert client.post("/api/v1/routing/rules", json=body, headers=make_user("agent")).status_code == 403
    created = client.post("/api/v1/routing/rules", json=body, headers=admin)
    assert created.status_code == 201
    bad = client.post("/api/v1/routing/rules", json={**body, "department": "nope"}, headers=admin)
    assert bad.status_code == 422 and "department" in bad.text
    empty = client.post("/api/v1/routing/rules", json={"position": 1, "name": "x"}, headers=admin)
    assert empty.status_code == 422
    rule_id = created.json()["id"]
    assert (
        client.put(f"/api/v1/routing/rules/{rule_id}", json={**body, "position": 9}, headers=admin).json()[
            "position"
        ]
        == 9
    )
    assert client.delete(f"/api/v1/routing/rules/{rule_id}", headers=admin).status_code == 204
    assert client.delete(f"/api/v1/routing/rules/{rule_id}", headers=admin).status_code == 404


def test_suggestions_for_the_agents_draft(client: TestClient, engine: Engine, make_user: Headers) -> None:
    agent = make_user("agent")
    answer = client.post(
        "/api/v1/triage/suggest",
        json={
            "text": "Nước ngập sâu trên đường Yên Ninh ở P. Mỹ Hương",
            "reported_at": "2024-03-01T08:00:00+07:00",
        },
        headers=agent,
    )
    assert answer.status_code == 200
    body = answer.json()
    assert body["category"] == "drainage_flooding" and body["ward"] == "my-huong"
    assert body["department"] == "qldt" and body["address"]["street"] == "Yên Ninh"
    assert client.post("/api/v1/triage/suggest", json={"text": ""}, headers=agent).status_code == 422


def test_corrections_by_people_are_kept_and_retrain_the_model(
    client: TestClient, engine: Engine, make_user: Headers, tmp_path: Path
) -> None:
    odd = "Con đường làng ven sông bị sạt mất một nửa sau lũ"
    with unit_of_work(engine) as session:
        ticket = file(session, odd)
        triage.apply(session, ticket.id or 0)
        ticket_id, guessed = ticket.id, ticket.category_code
    supervisor = make_user("supervisor")
    target = "drainage_flooding" if guessed != "drainage_flooding" else "road_damage"
    fixed = client.patch(f"/api/v1/tickets/{ticket_id}", json={"category": target}, headers=supervisor)
    assert fixed.status_code == 200
    moved = client.post(
        f"/api/v1/tickets/{ticket_id}/assign", json={"department": "tnmt"}, headers=supervisor
    )
    assert moved.status_code == 200
    with unit_of_work(engine) as session:
        rows = session.exec(select(TriageCorrection).where(TriageCorrection.ticket_id == ticket_id)).all()
        assert {(r.field, r.new_value) for r in rows} >= {("category", target), ("department", "tnmt")}
        corrections = triage.category_corrections(session)
    assert (odd, target) in corrections
    from nlp.corpus import read_examples

    train = read_examples(split="train")
    texts = [e.text for e in train] + [text for text, _ in corrections] * 3
    labels = [e.category for e in train] + [label for _, label in corrections] * 3
    model = classifier.train(texts, labels, path=tmp_path / "retrained.joblib")
    assert classifier.predict(odd, model).category == target
    listed = client.get("/api/v1/triage/corrections", headers=supervisor)
    assert any(row["ticket_id"] == ticket_id for row in listed.json())


@pytest.fixture
def cli_env(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, new_database: Callable[[], str]
) -> Iterator[Path]:
    url = new_database()
    monkeypatch.setenv("CIVICDESK_DATABASE_URL", url)
    monkeypatch.setenv("CIVICDESK_NLP_MODEL_PATH", str(tmp_path / "model.joblib"))
    get_settings.cache_clear()
    yield tmp_path
    get_settings.cache_clear()
    engine_for(url).dispose()
    engine_for.cache_clear()
    classifier.clear_cache()


def test_cli_triage_answers_each_line_and_reports_bad_ones(cli_env: Path) -> None:
    runner = CliRunner()
    assert runner.invoke(cli.main, ["db", "upgrade"]).exit_code == 0
    assert runner.invoke(cli.main, ["seed"]).exit_code == 0
    trained = runner.invoke(cli.main, ["nlp", "train"])
    assert trained.exit_code == 0 and (cli_env / "model.joblib").exists(), trained.output
    lines = "\n".join(
        [
            json.dumps({"text": "Đèn đường hỏng ở P. Phủ Hà", "reported_at": "2024-03-01T09:00:00+07:00"}),
            "not json",
            json.dumps({"text": ""}),
            json.dumps({"nope": 1}),
            json.dumps({"text": "rác ở phường Phủ Hà", "reported_at": "yesterday"}),
            json.dumps(
                {"text": "mn oi rac chat dong o kp3 p tan tai ko ai don", "reported_at": "2026-01-01"}
            ),
        ]
    )
    result = runner.invoke(cli.main, ["triage"], input=lines + "\n")
    assert result.exit_code == 0, result.output
    answers = [json.loads(line) for line in result.output.splitlines()]
    assert len(answers) == 6
    assert answers[0]["category"] == "street_lighting" and answers[0]["ward"] == "phu-ha"
    assert answers[0]["ward_named"] == "Phủ Hà" and answers[0]["department"] == "qldt"
    assert set(answers[0]) == {
        "category",
        "category_confidence",
        "ward",
        "ward_named",
        "department",
        "priority",
        "needs_review",
        "model_version",
        "reasons",
    }
    assert answers[0]["model_version"] == classifier.load_model().version
    assert all("error" in answers[n] for n in (1, 2, 3, 4))
    assert answers[5]["category"] == "waste_collection" and answers[5]["ward"] == "phan-rang"


def test_cli_eval_prints_metrics_and_refuses_bad_files(cli_env: Path) -> None:
    runner = CliRunner()
    labelled = cli_env / "labelled.jsonl"
    labelled.write_text(
        json.dumps(
            {
                "text": "Đèn đường hỏng ở P. Phủ Hà",
                "category": "street_lighting",
                "ward": "phu-ha",
                "reported_at": "2024-03-01T09:00:00+07:00",
            }
        )
        + "\n",
        encoding="utf-8",
    )
    from nlp.corpus import read_examples

    train = read_examples(split="train")
    classifier.train([e.text for e in train], [e.category for e in train])
    result = runner.invoke(cli.main, ["nlp", "eval", str(labelled)])
    assert result.exit_code == 0, result.output
    assert "category accuracy: 1.000" in result.output and "ward accuracy: 1.000" in result.output
    broken = cli_env / "broken.jsonl"
    broken.write_text("{not json\n", encoding="utf-8")
    refused = runner.invoke(cli.main, ["nlp", "eval", str(broken)])
    assert refused.exit_code == 2 and "broken.jsonl:1" in refused.output
    missing = runner.invoke(cli.main, ["nlp", "eval", str(cli_env / "missing.jsonl")])
    assert missing.exit_code == 2
