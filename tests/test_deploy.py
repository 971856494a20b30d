"""The deploy kit in deploy/: the compose file follows the Compose Specification, the .env example
documents every setting, the nginx sample passes `nginx -t` and, run on loopback ports in front of a
real `civicdesk web`, redirects to HTTPS, forwards the client's address and scheme, streams the staff
live events, limits bodies and skips a stopped web process; the systemd units are hardened."""

from __future__ import annotations

import copy
import json
import os
import re
import shutil
import ssl
import subprocess
import sys
import uuid
from collections.abc import Iterator
from importlib import resources
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml
from jsonschema import Draft202012Validator
from sqlalchemy import text
from staff_signin import sign_in
from webserver import civicdesk_web, free_port, wait_until_answering

from kernel.db import make_engine, unit_of_work
from kernel.settings import Settings
from tickets.staff import create_user
from web.pages.public import MAX_PHOTOS

DEPLOY = Path(__file__).resolve().parent.parent / "deploy"
LONG_RUNNING = ("web", "worker", "beat", "telephony")
# read by deploy/compose.yaml, not by the application
COMPOSE_ONLY = {
    "CIVICDESK_IMAGE",
    "CIVICDESK_WEB_REPLICAS",
    "CIVICDESK_WEB_WORKERS",
    "CIVICDESK_WORKER_CONCURRENCY",
}


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


def test_the_env_example_names_no_setting_that_does_not_exist() -> None:
    settings = {f"CIVICDESK_{name.upper()}" for name in Settings.model_fields}
    unknown = {name for name in _documented_variables() if name.startswith("CIVICDESK_")} - settings
    assert unknown == COMPOSE_ONLY, "a setting was renamed or removed: update deploy/civicdesk.env.example"


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
        + ["-addext", "subjectAltName=IP:127.0.0.1,DNS:localhost"]
        + ["-keyout", str(key), "-out", str(cert)],
        check=True,
        capture_output=True,
    )
    return cert, key


def _main_config(folder: Path, site: Path) -> str:
    """An nginx.conf that keeps every file nginx writes inside ``folder`` and includes ``site``."""
    temp_paths = "".join(
        f"    {kind}_temp_path {folder / kind};\n"
        for kind in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi")
    )
    return (
        f"pid {folder / 'nginx.pid'};\nerror_log {folder / 'error.log'};\nevents {{}}\n"
        f"http {{\n    access_log {folder / 'access.log'};\n{temp_paths}    include {site};\n}}\n"
    )


def test_the_nginx_sample_passes_nginx_t(tmp_path: Path) -> None:
    nginx = _nginx()
    cert, key = _self_signed_certificate(tmp_path)
    sample = NGINX_SAMPLE.read_text()
    assert sample.count(SAMPLE_CERT) == 1 and sample.count(SAMPLE_KEY) == 1
    site = tmp_path / "civicdesk.conf"
    site.write_text(sample.replace(SAMPLE_CERT, str(cert)).replace(SAMPLE_KEY, str(key)))
    main = tmp_path / "nginx.conf"
    main.write_text(_main_config(tmp_path, site))
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


# --- nginx in front of civicdesk web --------------------------------------------------------------


def _site_on_loopback(cert: Path, key: str | Path, ports: dict[str, int]) -> str:
    """The sample with its certificate, listening on loopback ports; the first upstream is a live
    civicdesk web, the second a port where nothing listens (a web process being restarted)."""
    site = NGINX_SAMPLE.read_text().replace(SAMPLE_CERT, str(cert)).replace(SAMPLE_KEY, str(key))
    site = re.sub(r"\n\s*listen \[::\]:(80|443)[^;]*;", "", site)
    site = site.replace("listen 80;", f"listen 127.0.0.1:{ports['http']};")
    site = site.replace("listen 443 ssl http2;", f"listen 127.0.0.1:{ports['https']} ssl;")
    site = site.replace("server 127.0.0.1:8001 ", f"server 127.0.0.1:{ports['web']} ")
    site = site.replace("server 127.0.0.1:8002 ", f"server 127.0.0.1:{ports['stopped']} ")
    assert all(str(port) in site for port in ports.values())
    return site


@pytest.fixture
def nginx_in_front(tmp_path: Path, postgres_url: str) -> Iterator[tuple[str, str, ssl.SSLContext]]:
    nginx = _nginx()
    cert, key = _self_signed_certificate(tmp_path)
    with civicdesk_web(postgres_url, tmp_path) as web:
        ports = {"http": free_port(), "https": free_port(), "web": int(web.rsplit(":", 1)[1])}
        ports["stopped"] = free_port()
        (tmp_path / "civicdesk.conf").write_text(_site_on_loopback(cert, key, ports))
        main = tmp_path / "nginx.conf"
        main.write_text(
            "daemon off;\nmaster_process off;\n" + _main_config(tmp_path, tmp_path / "civicdesk.conf")
        )
        command = [nginx, "-p", str(tmp_path), "-e", str(tmp_path / "error.log"), "-c", str(main)]
        process = subprocess.Popen(command)  # noqa: S603 - the system's nginx
        try:
            trust = ssl.create_default_context(cafile=str(cert))
            wait_until_answering(f"https://127.0.0.1:{ports['https']}/", process, verify=trust)
            yield f"http://127.0.0.1:{ports['http']}", f"https://127.0.0.1:{ports['https']}", trust
        finally:
            process.terminate()
            process.wait(timeout=30)


def test_through_nginx_citizens_and_staff_get_tls_their_address_and_the_live_stream(
    nginx_in_front: tuple[str, str, ssl.SSLContext], postgres_url: str
) -> None:
    plain, secure, trust = nginx_in_front
    engine = make_engine(postgres_url)
    username = f"nginx-{uuid.uuid4().hex[:6]}"
    with unit_of_work(engine) as session:
        create_user(session, username=username, password="secret-pass", role="admin")

    redirect = httpx.get(f"{plain}/report?x=1")
    assert redirect.status_code == 301 and redirect.headers["location"].endswith("/report?x=1")
    assert redirect.headers["location"].startswith("https://")

    with httpx.Client(base_url=secure, verify=trust) as browser:
        # a client's own X-Forwarded-For is replaced by nginx with the address it really comes from
        signed_in = sign_in(browser, username, "secret-pass", headers={"X-Forwarded-For": "203.0.113.7"})
        assert signed_in.status_code == 303 and "secure" in signed_in.headers["set-cookie"].lower()
        with browser.stream("GET", "/staff/events", timeout=20) as live:
            assert live.headers["content-type"].startswith("text/event-stream")
            assert next(live.iter_lines()) == "retry: 2000"  # arrives while the stream stays open

        style = browser.get("/static/app.css", headers={"Accept-Encoding": "gzip"})
        assert style.status_code == 200 and style.headers["content-encoding"] == "gzip"
        assert browser.get("/metrics").status_code == 404
        too_large = browser.post("/api/v1/auth/token", content=b"x" * (2 * 1024 * 1024))
        assert too_large.status_code == 413 and "quá lớn" in too_large.text

    with engine.connect() as conn:
        audited = conn.execute(
            text("SELECT address FROM staff_audit WHERE username = :u AND action = 'sign_in'"),
            {"u": username},
        ).scalar_one()
    engine.dispose()
    assert audited == "127.0.0.1"
