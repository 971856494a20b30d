"""A schema-driven fuzz of the whole OpenAPI document: no operation may answer 5xx, whatever it is sent,
with an admin's token or with none. Bounded (few examples per operation, a fixed seed) so CI runs it
in a few minutes; `FUZZ_EXAMPLES=200 pytest tests/test_fuzz_openapi.py` digs deeper by hand."""

from __future__ import annotations

import os
from collections.abc import Iterator
from typing import Any

import pytest
import schemathesis
from fastapi import FastAPI
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from schemathesis.config import SchemathesisConfig
from schemathesis.generation import GenerationMode

from civicdesk.db import make_engine, unit_of_work
from tickets.staff import create_user
from web.app import create_app
from web.security import issue_token

EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "12"))


@pytest.fixture(scope="module")
def fuzzed_app(module_database: str) -> Iterator[FastAPI]:
    engine = make_engine(module_database)
    yield create_app(engine)
    engine.dispose()


@pytest.fixture(scope="module")
def admin_headers(fuzzed_app: FastAPI) -> dict[str, str]:
    with unit_of_work(fuzzed_app.state.engine) as session:
        user = create_user(session, username="fuzz-admin", password="fuzz-pass-123", role="admin")
        return {"Authorization": f"Bearer {issue_token(user)}"}


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


@schema.parametrize()
@settings(
    max_examples=EXAMPLES,
    derandomize=True,
    deadline=None,
    database=None,
    suppress_health_check=list(HealthCheck),
)
def test_no_operation_answers_5xx(case: Any, fuzzed_app: FastAPI, admin_headers: dict[str, str]) -> None:
    """Each generated request is sent twice: anonymously, and as an admin (who reaches the handlers)."""
    for headers in ({}, admin_headers):
        response = case.call(headers=headers, app=fuzzed_app)
        case.validate_response(response, checks=[not_a_server_error])
