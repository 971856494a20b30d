"""Settings that would make a deployment hand out wrong links are refused at start, in one line."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from pydantic import ValidationError

from kernel.settings import DEFAULT_PUBLIC_BASE_URL, Settings

SECRET = "s" * 48


def test_production_needs_a_public_base_url(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("CIVICDESK_PUBLIC_BASE_URL", raising=False)
    with pytest.raises(ValidationError, match="CIVICDESK_PUBLIC_BASE_URL"):
        Settings(environment="production", secret_key=SECRET)
    given = Settings(environment="production", secret_key=SECRET, public_base_url="https://phananh.example.vn")
    assert given.public_base_url == "https://phananh.example.vn"
    assert Settings(environment="development").public_base_url == DEFAULT_PUBLIC_BASE_URL


def test_civicdesk_web_in_production_without_a_base_url_says_so_in_one_line(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if k != "CIVICDESK_PUBLIC_BASE_URL"}
    env.update(CIVICDESK_ENVIRONMENT="production", CIVICDESK_SECRET_KEY=SECRET)
    started = subprocess.run(
        [sys.executable, "-m", "civicdesk.cli", "web", "--port", "1"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    assert started.returncode == 2
    assert "Traceback" not in started.stderr
    assert len(started.stderr.strip().splitlines()) == 1 and "CIVICDESK_PUBLIC_BASE_URL" in started.stderr
