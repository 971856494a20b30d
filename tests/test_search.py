"""Ticket search on PostgreSQL (unaccent + trigram index): with or without diacritics, upper case,
by code (whole or partial), by the citizen's phone, and the index the planner can use."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import text
from sqlalchemy.engine import Engine

Headers = dict[str, str]
pytestmark = pytest.mark.parametrize("engine", ["postgresql"], indirect=True)


def _new(client: TestClient, headers: Headers, description: str, **body: object) -> dict[str, object]:
    response = client.post("/api/v1/tickets", json={"description": description, **body}, headers=headers)
    assert response.status_code == 201, response.text
    return response.json()  # type: ignore[no-any-return]


def _found(client: TestClient, headers: Headers, query: str) -> list[object]:
    answer = client.get("/api/v1/tickets", params={"q": query}, headers=headers)
    assert answer.status_code == 200, answer.text
    return sorted(t["id"] for t in answer.json()["items"])


def test_words_match_with_or_without_diacritics_and_in_any_case(client: TestClient, admin: Headers) -> None:
    lamp = _new(client, admin, "Đèn đường không sáng ở hẻm 12 Ngô Gia Tự")["id"]
    upper = _new(client, admin, "ĐÈN ĐƯỜNG trước chợ Phủ Hà tắt cả tuần")["id"]
    _new(client, admin, "Cống thoát nước bị tắc", address="đường Thống Nhất")
    for query in ("đèn đường", "den duong", "ĐÈN ĐƯỜNG", "Den Duong"):
        assert _found(client, admin, query) == sorted([lamp, upper]), query
    assert _found(client, admin, "cho phu ha") == [upper]
    assert _found(client, admin, "thong nhat") != []  # the address is searched too
    assert _found(client, admin, "đèn cống") == []  # every word must be there


def test_code_whole_or_partial_and_like_wildcards_are_plain_text(client: TestClient, admin: Headers) -> None:
    first = _new(client, admin, "Rác thải ở chợ")
    _new(client, admin, "Ngập nước sau mưa")
    code = str(first["code"])
    assert _found(client, admin, code) == [first["id"]]
    assert _found(client, admin, code.lower()) == [first["id"]]
    assert _found(client, admin, code[-6:] + " rac") == [first["id"]]
    assert _found(client, admin, "%") == [] and _found(client, admin, "_") == []


def test_a_phone_number_finds_the_citizens_tickets(client: TestClient, admin: Headers) -> None:
    mine = _new(client, admin, "Cây đổ chắn đường", phone="0912345678")["id"]
    _new(client, admin, "Cây đổ chắn lối đi", phone="0987654321")
    assert _found(client, admin, "0912345678") == [mine]
    assert _found(client, admin, "+84 912 345 678") == [mine]
    assert _found(client, admin, "cây 0912345678") == []  # a number among words is text


def test_the_trigram_index_serves_the_search(engine: Engine) -> None:
    with engine.connect() as conn:
        conn.execute(text("SET enable_seqscan = off"))
        plan = "\n".join(
            row[0]
            for row in conn.execute(
                text("EXPLAIN SELECT id FROM ticket WHERE search_text LIKE '%' || civicdesk_fold(:w) || '%'"),
                {"w": "Đường"},
            )
        )
        folded = conn.execute(text("SELECT civicdesk_fold('ĐÈN ĐƯỜNG Đắk Lắk')")).scalar_one()
    assert "ix_ticket_search_text_trgm" in plan
    assert "'%duong%'" in plan  # folded once, at planning time
    assert folded == "den duong dak lak"


def test_a_search_is_planned_for_its_own_words_within_its_transaction_only(engine: Engine) -> None:
    """psycopg prepares a statement run five times on a connection, and PostgreSQL may then keep one
    generic plan for every word, which cannot use the trigram index: the lists plan each run anew."""
    from kernel.db import unit_of_work
    from tickets.search import prefer_index_walks

    settings = text("SELECT current_setting('plan_cache_mode'), current_setting('random_page_cost')")
    with unit_of_work(engine) as session:
        before = session.execute(settings).one()
        prefer_index_walks(session)
        assert tuple(session.execute(settings).one()) == ("force_custom_plan", "1.1")
    with unit_of_work(engine) as session:
        assert session.execute(settings).one() == before  # the pooled connection is left as it was
    assert before[0] == "auto"
