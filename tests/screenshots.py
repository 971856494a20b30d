"""Where browser tests put their screenshots: a temporary folder, so that running the tests never changes
tracked files; `make screenshots` points CIVICDESK_SCREENSHOTS_DIR at docs/screenshots/ to refresh the
pictures the README shows."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

from playwright.sync_api import Page

SHOTS = Path(os.environ.get("CIVICDESK_SCREENSHOTS_DIR") or tempfile.mkdtemp(prefix="civicdesk-shots-"))


def shot(page: Page, name: str, *, full_page: bool = True) -> Path:
    SHOTS.mkdir(parents=True, exist_ok=True)
    path = SHOTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=full_page)
    return path
