"""The deploy kit in deploy/: the compose file follows the Compose Specification, the .env example
documents every setting, and the nginx sample is a configuration nginx accepts."""

from __future__ import annotations

import copy
import json
import os
import re
import shutil
import subprocess
import sys
from importlib import resources
from pathlib import Path
from typing import Any

import pytest
import yaml
from jsonschema import Draft202012Validator

from civicdesk.settings import Settings
from web.pages.public import MAX_PHOTOS

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


# --- nginx ----------------------------------------------------------------------------------------

NGINX_SAMPLE = DEPLOY / "nginx" / "civicdesk.conf"
SAMPLE_CERT = "/etc/letsencrypt/live/phananh.example.gov.vn/fullchain.pem"
SAMPLE_KEY = "/etc/letsencrypt/live/phananh.example.gov.vn/privkey.pem"


def _nginx() -> str:
    found = shutil.which("nginx") or next((p for p in ("/usr/sbin/nginx",) if Path(p).exists()), None)
    if found:
        return found
    if os.environ.get("CI"):
        pytest.fail(
            "nginx is missing: `bash scripts/nginx.sh` installs it (the Makefile's test target runs it)"
        )
    pytest.skip("nginx is not installed here; `bash scripts/nginx.sh` installs it")


def _self_signed_certificate(folder: Path) -> tuple[Path, Path]:
    cert, key = folder / "cert.pem", folder / "key.pem"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj", "/CN=localhost"]
        + ["-keyout", str(key), "-out", str(cert)],
        check=True,
        capture_output=True,
    )
    return cert, key


def test_the_nginx_sample_passes_nginx_t(tmp_path: Path) -> None:
    nginx = _nginx()
    cert, key = _self_signed_certificate(tmp_path)
    sample = NGINX_SAMPLE.read_text()
    assert sample.count(SAMPLE_CERT) == 1 and sample.count(SAMPLE_KEY) == 1
    site = tmp_path / "civicdesk.conf"
    site.write_text(sample.replace(SAMPLE_CERT, str(cert)).replace(SAMPLE_KEY, str(key)))
    temp_paths = "\n".join(
        f"    {kind}_temp_path {tmp_path / kind};"
        for kind in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi")
    )
    main = tmp_path / "nginx.conf"
    main.write_text(
        f"pid {tmp_path / 'nginx.pid'};\nerror_log {tmp_path / 'error.log'};\nevents {{}}\n"
        f"http {{\n    access_log {tmp_path / 'access.log'};\n{temp_paths}\n    include {site};\n}}\n"
    )
    checked = subprocess.run(
        [nginx, "-t", "-p", str(tmp_path), "-e", str(tmp_path / "error.log"), "-c", str(main)],
        capture_output=True,
        text=True,
    )
    assert checked.returncode == 0, checked.stderr
    assert "test is successful" in checked.stderr


def _location(path: str) -> str:
    """The directives of one location block of the sample (its blocks hold no nested blocks)."""
    found = re.search(r"location " + re.escape(path) + r" \{(?P<body>[^}]*)\}", NGINX_SAMPLE.read_text())
    assert found, f"no location {path} in the nginx sample"
    return found["body"]


def _megabytes(directives: str, name: str) -> int:
    found = re.search(name + r"\s+(\d+)m;", directives)
    assert found, f"{name} missing"
    return int(found[1]) * 1024 * 1024


def test_the_live_stream_is_unbuffered_with_a_long_read_timeout() -> None:
    events = _location("= /staff/events")
    assert re.search(r"proxy_buffering\s+off;", events)
    assert re.search(r"proxy_read_timeout\s+1h;", events)


def test_upload_limits_let_the_largest_accepted_files_through() -> None:
    largest = Settings().attachment_max_bytes
    assert _megabytes(_location("= /report"), "client_max_body_size") > MAX_PHOTOS * largest
    attachments = _location("~ ^/api/v1/tickets/[0-9]+/attachments$")
    assert _megabytes(attachments, "client_max_body_size") > largest


# --- systemd --------------------------------------------------------------------------------------

UNITS = DEPLOY / "systemd"
INSTALLED_AT = "/opt/civicdesk/venv/bin/civicdesk"
PROCESSES = (
    "civicdesk-web@.service",
    "civicdesk-worker@.service",
    "civicdesk-beat.service",
    "civicdesk-telephony.service",
)


def _directives(unit: str) -> set[str]:
    return {line.strip() for line in (UNITS / unit).read_text().splitlines() if "=" in line}


@pytest.mark.parametrize("unit", PROCESSES)
def test_each_process_unit_is_hardened_and_restarts_on_failure(unit: str) -> None:
    expected = {
        "User=civicdesk",
        "NoNewPrivileges=yes",
        "ProtectSystem=strict",
        "ReadWritePaths=/var/lib/civicdesk",
        "EnvironmentFile=/etc/civicdesk/civicdesk.env",
        "Restart=on-failure",
        "Requires=civicdesk-migrate.service",
        "PartOf=civicdesk.target",
        "WantedBy=civicdesk.target",
    }
    assert expected - _directives(unit) == set()


def test_the_units_pass_systemd_analyze_verify(tmp_path: Path) -> None:
    analyze = shutil.which("systemd-analyze")
    if analyze is None:  # optional: the units are only read by systemd on the target host
        pytest.skip("systemd-analyze is not installed")
    civicdesk = str(Path(sys.executable).parent / "civicdesk")
    for unit in UNITS.iterdir():  # verify checks that ExecStart exists: point it at this venv's command
        (tmp_path / unit.name).write_text(unit.read_text().replace(INSTALLED_AT, civicdesk))
    names = [p.name for p in UNITS.iterdir() if "@." not in p.name]
    names += ["civicdesk-web@8001.service", "civicdesk-worker@1.service"]
    verified = subprocess.run(
        [analyze, "verify", *(f"./{name}" for name in sorted(names))],
        cwd=tmp_path,
        capture_output=True,
        text=True,
    )
    assert (verified.returncode, verified.stderr) == (0, "")
