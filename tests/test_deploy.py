"""The deploy kit in deploy/: the compose file follows the Compose Specification, the .env example
documents every setting, and the nginx sample is a configuration nginx accepts."""

from __future__ import annotations

import copy
import json
import re
from importlib import resources
from pathlib import Path
from typing import Any

import yaml
from jsonschema import Draft202012Validator

from civicdesk.settings import Settings

DEPLOY = Path(__file__).resolve().parent.parent / "deploy"
LONG_RUNNING = ("web", "worker", "beat", "telephony")


def _compose() -> dict[str, Any]:
    loaded: dict[str, Any] = yaml.safe_load((DEPLOY / "compose.yaml").read_text())
    return loaded


def _spec_errors(document: dict[str, Any]) -> list[str]:
    # the Compose Specification's schema as check-jsonschema ships it (vendored from compose-spec)
    schema_file = resources.files("check_jsonschema.builtin_schemas.vendor") / "compose-spec.json"
    validator = Draft202012Validator(json.loads(schema_file.read_text()))
    return [f"{'/'.join(map(str, e.absolute_path))}: {e.message}" for e in validator.iter_errors(document)]


def test_compose_file_follows_the_compose_specification() -> None:
    assert _spec_errors(_compose()) == []


def test_the_schema_check_would_catch_a_misspelt_key() -> None:
    broken = copy.deepcopy(_compose())
    broken["services"]["web"]["helthcheck"] = broken["services"]["web"].pop("healthcheck")
    assert any("helthcheck" in error for error in _spec_errors(broken))


def test_every_process_waits_for_the_one_shot_migration() -> None:
    services = _compose()["services"]
    assert services["migrate"]["restart"] == "no"
    for name in LONG_RUNNING:
        assert services[name]["depends_on"]["migrate"] == {"condition": "service_completed_successfully"}


def test_engines_and_processes_have_healthchecks_and_beat_runs_once() -> None:
    services = _compose()["services"]
    for name in ("postgres", "redis", "web", "worker", "beat"):
        assert services[name]["healthcheck"]["test"], name
    assert "deploy" not in services["beat"] and "scale" not in services["beat"]
    assert "replicas" in services["web"]["deploy"]


def test_data_and_attachments_live_in_volumes() -> None:
    compose = _compose()
    assert {"postgres-data", "redis-data", "attachments"} <= set(compose["volumes"])
    for name in ("web", "worker", "migrate"):
        assert "attachments:/var/lib/civicdesk/attachments" in compose["services"][name]["volumes"]


def _documented_variables() -> set[str]:
    text = (DEPLOY / "civicdesk.env.example").read_text()
    return set(re.findall(r"^#? ?([A-Z][A-Z0-9_]*)=", text, flags=re.MULTILINE))


def test_the_env_example_documents_every_setting() -> None:
    missing = {f"CIVICDESK_{name.upper()}" for name in Settings.model_fields} - _documented_variables()
    assert not missing, f"add these settings to deploy/civicdesk.env.example: {sorted(missing)}"


def test_the_env_example_documents_every_variable_the_compose_file_reads() -> None:
    read = set(re.findall(r"\$\{([A-Z][A-Z0-9_]*)", (DEPLOY / "compose.yaml").read_text()))
    assert read - _documented_variables() == set()
