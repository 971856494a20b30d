"""Ticket text search, with or without diacritics, on PostgreSQL's unaccent and trigram index.

``ticket.search_text`` is a generated column, ``civicdesk_fold(code, title, description, address)``,
with a GIN trigram index. Each word of the query is folded by the same database function, so
"đèn đường", "den duong" and "ĐÈN ĐƯỜNG" find the same tickets, and must appear in the text as a
substring (a partial code such as "000123" works). A whole code is looked up by the code's own unique
index: its trigrams ("pr-", "-20", "202" …) are in every ticket and would make the trigram scan slow.
A query that is a phone number also finds the tickets of the citizen with that number."""

from __future__ import annotations

import re
from typing import Any

from sqlalchemy import ColumnElement, any_, func, literal, or_, text
from sqlmodel import Session, col, select

from kernel.errors import Invalid
from tickets.citizens import normalize_phone
from tickets.models import ChannelIdentity, IdentityKind, Ticket

WHOLE_CODE = re.compile(r"^[A-Za-z]{1,10}-\d{4}-\d{1,10}$")
PHONE_LIKE = re.compile(r"^[\d\s+().-]+$")


def _like_escaped(word: str) -> str:
    return word.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def _contains(word: str) -> ColumnElement[bool]:
    pattern = literal("%") + func.civicdesk_fold(_like_escaped(word)) + literal("%")
    return col(Ticket.search_text).like(pattern, escape="\\")


def _phone_of(text: str) -> str | None:
    try:
        return normalize_phone(text)
    except Invalid:
        return None


def _citizen_with_phone(phone: str) -> ColumnElement[bool]:
    """``citizen_id = ANY(ARRAY(SELECT …))``: the citizens are found first (an init plan), so the
    condition can read ``ix_ticket_citizen_id`` and be OR-ed with the trigram index; ``IN (SELECT …)``
    under an OR made PostgreSQL test the subquery against every ticket."""
    citizens = select(ChannelIdentity.citizen_id).where(
        col(ChannelIdentity.kind) == IdentityKind.PHONE, col(ChannelIdentity.value) == phone
    )
    return col(Ticket.citizen_id) == any_(func.array(citizens.scalar_subquery()))


def text_conditions(text: str) -> list[Any]:
    phone = _phone_of(text) if PHONE_LIKE.match(text.strip()) else None
    if phone is not None:
        return [or_(_contains(phone), _citizen_with_phone(phone))]
    return [_word(word) for word in text.split()]


def _word(word: str) -> ColumnElement[bool]:
    if WHOLE_CODE.match(word):
        return col(Ticket.code) == word.upper()
    return _contains(word)


def prefer_index_walks(session: Session) -> None:
    """Cost a page read from the (cached) ticket table as what it is, for this transaction: with
    PostgreSQL's default ``random_page_cost`` of 4 (spinning disks) the staff list walked ``created_at``
    over 480,000 tickets for an old ward's newest matches of a word (0.5–1.7 s at a million tickets)
    rather than the ward's own index ``ix_ticket_ward_created`` (4 ms).

    And plan each statement for its own values: psycopg prepares a statement run five times on a
    connection, and PostgreSQL then settles on one generic plan for every search word, which cannot use
    the trigram index (the list page's "den duong" went from 20 to 200 ms from its eleventh run on a
    pooled connection at a million tickets)."""
    session.execute(
        text(
            "SELECT set_config('random_page_cost', '1.1', true),"
            " set_config('plan_cache_mode', 'force_custom_plan', true)"
        )
    )
