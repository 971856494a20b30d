"""The public HTML pages with NUL and control characters in the path, the query and the forms: a clear
4xx page (or the text kept without them), never a 500."""

from __future__ import annotations

import re
from urllib.parse import quote

import pytest
from fastapi.routing import APIRoute
from fastapi.testclient import TestClient
from sqlalchemy.engine import Engine
from sqlmodel import select

from kernel.db import unit_of_work
from tickets.models import Ticket
from web.pages import ioc as ioc_pages
from web.pages import public as public_pages

CONTROL = ["\x00", "\x1b"]
PAGE_ROUTES = sorted(
    (method, route.path)
    for router in (public_pages.router, ioc_pages.router)
    for route in router.routes
    if isinstance(route, APIRoute)
    for method in route.methods
)
GET_PAGES = [path for method, path in PAGE_ROUTES if method == "GET"] + ["/staff/login"]
PARAM = re.compile(r"\{[^}]+\}")


def _with_params(path: str, value: str) -> str:
    return PARAM.sub(quote(value, safe=""), path)


def test_the_public_pages_are_all_here() -> None:
    assert {"/", "/report", "/t/{token}", "/lookup", "/reports", "/ioc", "/ioc/{code}"} <= set(GET_PAGES)


@pytest.mark.parametrize("char", CONTROL, ids=[f"U+{ord(c):04X}" for c in CONTROL])
@pytest.mark.parametrize("path", GET_PAGES)
def test_control_characters_in_the_query_get_a_400_page(client: TestClient, path: str, char: str) -> None:
    url = _with_params(path, "abc") + "?q=" + quote(f"a{char}b") + "&page=" + quote(char)
    response = client.get(url, headers={"Accept": "text/html"})
    assert response.status_code == 400, response.text[:300]
    assert "ký tự điều khiển" in response.text


@pytest.mark.parametrize("char", CONTROL, ids=[f"U+{ord(c):04X}" for c in CONTROL])
@pytest.mark.parametrize("path", [path for path in GET_PAGES if PARAM.search(path)] + ["/t"])
def test_control_characters_in_the_path_get_a_4xx_page(client: TestClient, path: str, char: str) -> None:
    url = _with_params(path, f"x{char}y") if PARAM.search(path) else f"{path}/{quote(char)}"
    response = client.get(url, headers={"Accept": "text/html"})
    assert 400 <= response.status_code < 500, response.text[:300]


@pytest.mark.parametrize("char", CONTROL, ids=[f"U+{ord(c):04X}" for c in CONTROL])
def test_control_characters_in_a_report_are_dropped_and_the_text_kept(
    client: TestClient, engine: Engine, char: str
) -> None:
    response = client.post(
        "/report",
        data={"text": f"Ổ gà{char} trước số 12\nđường Trần Phú", "address": f"12{char} Trần Phú"},
        follow_redirects=False,
    )
    assert response.status_code == 303, response.text[:300]
    with unit_of_work(engine) as session:
        ticket = session.exec(select(Ticket)).one()
        assert ticket.description == "Ổ gà trước số 12\nđường Trần Phú"
        assert ticket.address_text == "12 Trần Phú"


@pytest.mark.parametrize(("method", "path"), [r for r in PAGE_ROUTES if r[0] == "POST"])
def test_nul_in_every_form_field_is_never_a_500(client: TestClient, method: str, path: str) -> None:
    fields = dict.fromkeys(
        ("text", "address", "phone", "email", "comment", "reason", "code", "stars", "token"), "a\x00b"
    )
    response = client.request(method, _with_params(path, "abc"), data=fields, follow_redirects=False)
    assert response.status_code < 500, response.text[:300]
