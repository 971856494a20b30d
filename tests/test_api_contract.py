"""The OpenAPI document is the API's documentation (issue 18): every operation under /api says what it
does, answers a typed shape (never a bare object), and describes each field of that shape and of the body
it takes."""

from __future__ import annotations

import os
from typing import Any

import pytest

from civicdesk.asgi import create_app
from kernel.db import make_engine

# Operations not yet described field by field; each leaves this list when its module is typed. An entry
# that no longer fails fails the test below. Empty since the health and public reads were typed.
NOT_YET_TYPED: frozenset[tuple[str, str]] = frozenset()


def _document() -> dict[str, Any]:
    """Building the document needs no database: an engine that is never connected serves."""
    unused = make_engine(os.environ["CIVICDESK_TEST_POSTGRES_URL"])
    document: dict[str, Any] = create_app(unused).openapi()
    unused.dispose()
    return document


DOCUMENT = _document()
COMPONENTS: dict[str, Any] = DOCUMENT.get("components", {}).get("schemas", {})


def _component(ref: str) -> dict[str, Any]:
    schema: dict[str, Any] = COMPONENTS[ref.rsplit("/", 1)[-1]]
    return schema


def _untyped(schema: dict[str, Any], where: str) -> list[str]:
    """Where a response schema says nothing about its shape: an empty schema, a bare object, or a map
    whose values are themselves untyped."""
    if "$ref" in schema:
        target = _component(schema["$ref"])
        if target.get("type") == "object" and not target.get("properties"):
            return [f"{where}: {schema['$ref']} has no properties"]
        return []
    for key in ("anyOf", "oneOf", "allOf"):
        if key in schema:
            return [p for option in schema[key] for p in _untyped(option, where)]
    kind = schema.get("type")
    if kind == "array":
        return _untyped(schema.get("items", {}), f"{where}[]")
    if kind == "object":
        values = schema.get("additionalProperties")
        if schema.get("properties"):
            return []
        if isinstance(values, dict) and values:
            return _untyped(values, f"{where}{{}}")
        return [f"{where}: a bare object"]
    if kind is None:
        return [f"{where}: no schema"]
    return []


def _models_in(schema: dict[str, Any], seen: set[str]) -> None:
    """Every component a response schema reaches, however deep."""
    if "$ref" in schema:
        name = schema["$ref"].rsplit("/", 1)[-1]
        if name in seen:
            return
        seen.add(name)
        schema = COMPONENTS[name]
    for value in schema.values():
        if isinstance(value, dict):
            _models_in(value, seen)
        elif isinstance(value, list):
            for item in value:
                if isinstance(item, dict):
                    _models_in(item, seen)


def _operations() -> list[tuple[str, str, dict[str, Any]]]:
    return [
        (method.upper(), path, operation)
        for path, item in DOCUMENT["paths"].items()
        if path.startswith("/api/")
        for method, operation in item.items()
    ]


def _json_responses(operation: dict[str, Any]) -> list[tuple[str, dict[str, Any]]]:
    return [
        (status, media["schema"])
        for status, answer in operation.get("responses", {}).items()
        if status.startswith("2")
        for kind, media in answer.get("content", {}).items()
        if "json" in kind and "schema" in media
    ]


def _request_bodies(operation: dict[str, Any]) -> list[dict[str, Any]]:
    """JSON and multipart bodies; the OAuth2 password form is the standard's, described by RFC 6749."""
    return [
        media["schema"]
        for kind, media in operation.get("requestBody", {}).get("content", {}).items()
        if kind != "application/x-www-form-urlencoded" and "schema" in media
    ]


def problems_of(method: str, path: str, operation: dict[str, Any]) -> list[str]:
    """What the document leaves unsaid about one operation."""
    found = [] if operation.get("description", "").strip() else ["no description"]
    seen: set[str] = set()
    for status, schema in _json_responses(operation):
        found += _untyped(schema, f"{status} response")
        _models_in(schema, seen)
    for schema in _request_bodies(operation):
        _models_in(schema, seen)
    for name in sorted(seen):
        model = COMPONENTS[name]
        found += [
            f"{name}.{field} has no description"
            for field, spec in model.get("properties", {}).items()
            if not spec.get("description", "").strip()
        ]
    return found


def test_every_api_operation_is_described_and_typed() -> None:
    """Fails naming each operation and field left undocumented."""
    failing = {
        f"{method} {path}: {problem}"
        for method, path, operation in _operations()
        if (method, path) not in NOT_YET_TYPED
        for problem in problems_of(method, path, operation)
    }
    assert not failing, "\n".join(sorted(failing))


def test_the_list_of_untyped_operations_only_shrinks() -> None:
    operations = {(method, path): operation for method, path, operation in _operations()}
    typed_now = {key for key in NOT_YET_TYPED if key in operations and not problems_of(*key, operations[key])}
    assert not typed_now, f"typed now, remove from NOT_YET_TYPED: {sorted(typed_now)}"
    assert NOT_YET_TYPED <= operations.keys(), sorted(NOT_YET_TYPED - operations.keys())


@pytest.mark.parametrize(
    ("schema", "untyped"),
    [
        ({"type": "object"}, True),
        ({"type": "object", "additionalProperties": True}, True),
        ({"type": "array", "items": {"type": "object", "additionalProperties": True}}, True),
        ({}, True),
        ({"type": "object", "additionalProperties": {"type": "string"}}, False),
        ({"type": "array", "items": {"type": "integer"}}, False),
        ({"anyOf": [{"type": "string"}, {"type": "null"}]}, False),
    ],
)
def test_the_checker_tells_a_bare_object_from_a_shape(schema: dict[str, Any], untyped: bool) -> None:
    assert bool(_untyped(schema, "200 response")) is untyped
