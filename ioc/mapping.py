"""A city's JSON never has our field names: a mapping per connector says, for each of our metrics, where
its values are in the payload (a JSONPath) and, optionally, where the matching dimension (a ward, a
station) is. An error names the entry and the path that did not match, for the admin page to show."""

from __future__ import annotations

import math
from typing import Any

from jsonpath_ng.exceptions import JsonPathLexerError, JsonPathParserError
from jsonpath_ng.ext.parser import parse

from ioc.ports import Reading
from kernel.errors import Invalid

MAX_ENTRIES = 64


def check(mapping: Any, known_metrics: set[str]) -> list[dict[str, str]]:
    """The mapping as stored: a list of {"metric", "value", "dimension"?} with parseable paths."""
    if not isinstance(mapping, list) or len(mapping) > MAX_ENTRIES:
        raise Invalid(f"the mapping must be a list of at most {MAX_ENTRIES} entries", field="mapping")
    checked = []
    for index, entry in enumerate(mapping):
        where = f"mapping[{index}]"
        if not isinstance(entry, dict) or not isinstance(entry.get("value"), str):
            raise Invalid(f'{where}: write {{"metric": …, "value": "$.path"}}', field="mapping", path=where)
        if entry.get("metric") not in known_metrics:
            raise Invalid(
                f"{where}: unknown metric {entry.get('metric')!r};"
                f" this subsystem has {sorted(known_metrics)}",
                field="mapping",
                path=where,
            )
        for key in ("value", "dimension"):
            if entry.get(key) is not None:
                _compiled(str(entry[key]), f"{where}.{key}")
        checked.append({k: str(entry[k]) for k in ("metric", "value", "dimension") if entry.get(k)})
    return checked


def _compiled(path: str, where: str) -> Any:
    try:
        return parse(path)
    except (JsonPathLexerError, JsonPathParserError, ValueError, AttributeError) as exc:
        raise Invalid(f"{where}: {path!r} is not a JSONPath ({exc})", field="mapping", path=path) from exc


def readings(payload: Any, mapping: list[dict[str, str]]) -> list[Reading]:
    """Every reading the mapping finds; the first path that matches nothing or a non-number fails all."""
    found: list[Reading] = []
    for index, entry in enumerate(mapping):
        where = f"mapping[{index}]"
        values = [m.value for m in _compiled(entry["value"], f"{where}.value").find(payload)]
        if not values:
            raise Invalid(
                f"{where}.value: {entry['value']} matched nothing in the payload", path=entry["value"]
            )
        dimensions = [""] * len(values)
        if entry.get("dimension"):
            dimensions = [
                str(m.value) for m in _compiled(entry["dimension"], f"{where}.dimension").find(payload)
            ]
            if len(dimensions) != len(values):
                raise Invalid(
                    f"{where}: {entry['value']} found {len(values)} values but {entry['dimension']}"
                    f" found {len(dimensions)} dimensions",
                    path=entry["dimension"],
                )
        for value, dimension in zip(values, dimensions, strict=True):
            found.append(Reading(entry["metric"], dimension[:64], _number(value, entry["value"], where)))
    return found


def _number(value: Any, path: str, where: str) -> float:
    try:
        number = float(value)
    except (TypeError, ValueError) as exc:
        raise Invalid(f"{where}.value: {path} gave {value!r}, not a number", path=path) from exc
    if not math.isfinite(number):
        raise Invalid(f"{where}.value: {path} gave {value!r}, not a finite number", path=path)
    return number
