"""A schema-driven fuzz of the whole OpenAPI document: no operation may answer 5xx, whatever it is sent,
with an admin's token or with none. Bounded (few examples per operation, a fixed seed) so CI runs it
in a few minutes; `FUZZ_EXAMPLES=200 pytest tests/test_fuzz_openapi.py` digs deeper by hand."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from typing import Any
from urllib.parse import quote

import pytest
import schemathesis
from fastapi import FastAPI
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from schemathesis.config import SchemathesisConfig
from schemathesis.generation import GenerationMode

from civicdesk.asgi import create_app
from kernel.db import make_engine, unit_of_work
from kernel.settings import get_settings
from tickets.staff import User, create_user
from web.security import issue_token

EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "10"))


# configured channels, so that the webhooks read what they are sent instead of answering 503
CHANNEL_SETTINGS = {
    "CIVICDESK_ZALO_APP_ID": "4300000000000000001",
    "CIVICDESK_ZALO_OA_SECRET_KEY": "fuzz-oa-secret-key",
    "CIVICDESK_FACEBOOK_APP_SECRET": "fuzz-fb-app-secret",
    "CIVICDESK_FACEBOOK_VERIFY_TOKEN": "fuzz-verify-token",
}


@pytest.fixture(scope="module")
def fuzzed_app(module_database: str) -> Iterator[FastAPI]:
    with pytest.MonkeyPatch.context() as patch:
        for name, value in CHANNEL_SETTINGS.items():
            patch.setenv(name, value)
        get_settings.cache_clear()
        engine = make_engine(module_database)
        yield create_app(engine)
        engine.dispose()
    get_settings.cache_clear()


AdminHeaders = Callable[[], dict[str, str]]


@pytest.fixture(scope="module")
def admin_headers(fuzzed_app: FastAPI) -> AdminHeaders:
    """A valid admin token for each case: the fuzz itself signs the admin out everywhere, deactivates
    or demotes them, and from then on would only be testing the 401."""
    engine = fuzzed_app.state.engine
    with unit_of_work(engine) as session:
        user_id = create_user(session, username="fuzz-admin", password="fuzz-pass-123", role="admin").id

    def fresh() -> dict[str, str]:
        with unit_of_work(engine) as session:
            user = session.get(User, user_id)
            assert user is not None
            user.role, user.active = "admin", True
            user.department_code = user.ward_code = None
            session.add(user)
            session.flush()
            return {"Authorization": f"Bearer {issue_token(user)}"}

    return fresh


def _openapi_document() -> dict[str, Any]:
    """The document needs no database: an engine that is never connected serves to build the app."""
    unused = make_engine(os.environ["CIVICDESK_TEST_POSTGRES_URL"])
    document: dict[str, Any] = create_app(unused).openapi()
    unused.dispose()
    return document


def _fuzz_config() -> SchemathesisConfig:
    """Valid and invalid data, the boundary values of every type (ids of 2**31, empty and NUL strings),
    the same cases on every run."""
    config = SchemathesisConfig()
    project = config.projects.default
    project.generation.update(
        modes=[GenerationMode.POSITIVE, GenerationMode.NEGATIVE], allow_x00=True, deterministic=True
    )
    project.phases.update(phases=["examples", "coverage", "fuzzing"])
    return config


schema = schemathesis.openapi.from_dict(_openapi_document(), config=_fuzz_config())


def _documented_server_errors() -> set[tuple[str, str, int]]:
    """5xx answers an operation promises in its contract (readiness answers 503 while a part it relies on
    is down): those are the answer, not a crash."""
    return {
        (method.upper(), path, int(status))
        for path, item in _openapi_document()["paths"].items()
        for method, operation in item.items()
        for status in operation.get("responses", {})
        if status.isdigit() and int(status) >= 500
    }


DOCUMENTED_5XX = _documented_server_errors()


def _crashed(method: str, path: str, status: int) -> bool:
    return status >= 500 and (method.upper(), path, status) not in DOCUMENTED_5XX


@schema.parametrize()
@settings(
    max_examples=EXAMPLES,
    derandomize=True,
    deadline=None,
    database=None,
    suppress_health_check=list(HealthCheck),
)
def test_no_operation_answers_5xx(case: Any, fuzzed_app: FastAPI, admin_headers: AdminHeaders) -> None:
    """Each generated request is sent twice: anonymously, and as an admin (who reaches the handlers)."""
    for headers in ({}, admin_headers()):
        response = case.call(headers=headers, app=fuzzed_app)
        if (case.method.upper(), case.path, response.status_code) in DOCUMENTED_5XX:
            continue
        case.validate_response(response, checks=[not_a_server_error])


def _operations() -> list[tuple[str, str, list[dict[str, Any]]]]:
    document = _openapi_document()
    return [
        (method.upper(), path, operation.get("parameters", []))
        for path, item in document["paths"].items()
        for method, operation in item.items()
    ]


BAD_VALUES = {
    "integer": str(2**63),  # beyond even bigint; 2**31 (beyond integer) is among the fuzz's boundaries
    "date": "0001-01-01",
    "date-time": "0001-01-01T00:00:00Z",
    "string": "a\x00b",
}


def _bad_value(parameter: dict[str, Any]) -> str:
    schemas = [parameter.get("schema", {}), *parameter.get("schema", {}).get("anyOf", [])]
    for schema_ in schemas:
        kind = schema_.get("format") if schema_.get("format") in BAD_VALUES else schema_.get("type")
        if kind in BAD_VALUES:
            return BAD_VALUES[kind]
    return BAD_VALUES["string"]


@pytest.mark.parametrize(("method", "path", "parameters"), _operations(), ids=lambda v: str(v)[:60])
def test_the_reviews_inputs_get_4xx_on_every_operation(
    fuzzed_app: FastAPI,
    admin_headers: AdminHeaders,
    method: str,
    path: str,
    parameters: list[dict[str, Any]],
) -> None:
    """The shapes the security review found (ids of 2**63, year-1 dates, NUL) in every parameter at once."""
    url, query = path, {}
    for parameter in parameters:
        value = _bad_value(parameter)
        if parameter["in"] == "path":
            url = url.replace("{" + parameter["name"] + "}", quote(value, safe=""))
        elif parameter["in"] == "query":
            query[parameter["name"]] = value
    url = url.replace("{fmt}", "json")
    with TestClient(fuzzed_app, raise_server_exceptions=False) as http:
        for headers in ({}, admin_headers()):
            response = http.request(method, url, params=query, headers=headers, json={})
            crashed = _crashed(method, path, response.status_code)
            assert not crashed, f"{method} {url} {query}: {response.text[:300]}"
