"""A citizen's whole journey in a real browser: Debian's Chromium driven by Playwright, against a live
server on a real port. Its screenshots go to a temporary folder; `make screenshots` refreshes
docs/screenshots/."""

from __future__ import annotations

import io
import re
import shutil
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlparse

import httpx
import pytest
import uvicorn
from PIL import Image
from playwright.sync_api import Browser, Page, expect, sync_playwright
from screenshots import shot
from sqlalchemy.engine import Engine

from civicdesk.asgi import create_app
from kernel.db import make_engine, unit_of_work
from tickets.staff import create_user
from web.security import issue_token

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
PHONE = {"width": 412, "height": 915}
ELSEWHERE = re.compile(r"^https?://(?!127\.0\.0\.1[:/])")


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture(scope="module")
def live(module_database: str) -> Iterator[tuple[str, Engine]]:
    engine = make_engine(module_database)
    port = _free_port()
    server = uvicorn.Server(
        uvicorn.Config(create_app(engine), host="127.0.0.1", port=port, log_level="warning")
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        assert time.monotonic() < deadline, "the live server did not start"
        time.sleep(0.05)
    yield f"http://127.0.0.1:{port}", engine
    server.should_exit = True
    thread.join(10)
    engine.dispose()


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    assert Path(CHROMIUM).exists(), (
        "Debian's chromium is missing: apt-get install -y chromium (make test does)"
    )
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(
            executable_path=CHROMIUM,
            args=[
                "--no-sandbox",
                "--disable-gpu",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                "--no-first-run",
            ],
        )
        yield chromium
        chromium.close()


@pytest.fixture
def page(browser: Browser) -> Iterator[Page]:
    context = browser.new_context(viewport=PHONE, device_scale_factor=1, locale="vi-VN")
    context.route(ELSEWHERE, lambda route: route.abort())  # the maps' default tiles: never the real OSM
    yield context.new_page()
    context.close()


def photo(colour: tuple[int, int, int]) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (320, 240), colour).save(out, format="JPEG")
    return out.getvalue()


def staff_headers(engine: Engine) -> dict[str, str]:
    with unit_of_work(engine) as session:
        user = create_user(
            session,
            username="qldt-browser",
            password="secret-pass",
            role="department_staff",
            department="qldt",
        )
        return {"Authorization": f"Bearer {issue_token(user)}"}


def staff_resolves(base: str, engine: Engine, code: str) -> None:
    """What a department officer does through the API: classify, take it, reply, add the after photo,
    resolve."""
    headers = staff_headers(engine)
    with httpx.Client(base_url=base, headers=headers, timeout=10) as api:
        admin = _admin_headers(engine)
        found = api.get("/api/v1/tickets", params={"q": code}, headers=admin).json()["items"]
        ticket_id = found[0]["id"]
        steps = [
            (
                "patch",
                f"/api/v1/tickets/{ticket_id}",
                {"category": "road_damage", "ward": "phan-rang"},
                admin,
            ),
            # the new category re-routed it: sent back to triage with a reason, then assigned by hand
            (
                "post",
                f"/api/v1/tickets/{ticket_id}/transition",
                {"status": "triaged", "reason": "phân loại lại"},
                admin,
            ),
            ("post", f"/api/v1/tickets/{ticket_id}/assign", {"department": "qldt"}, admin),
            ("post", f"/api/v1/tickets/{ticket_id}/transition", {"status": "in_progress"}, headers),
            (
                "post",
                f"/api/v1/tickets/{ticket_id}/comments",
                {"text": "Đội duy tu đã vá ổ gà bằng bê tông nhựa.", "public": True},
                headers,
            ),
        ]
        for method, url, body, who in steps:
            response = api.request(method.upper(), url, json=body, headers=who)
            assert response.status_code < 300, response.text
        after = api.post(
            f"/api/v1/tickets/{ticket_id}/attachments",
            files={"file": ("after.jpg", photo((90, 160, 90)), "image/jpeg")},
            data={"purpose": "after"},
        )
        assert after.status_code == 201, after.text
        done = api.post(f"/api/v1/tickets/{ticket_id}/transition", json={"status": "resolved"})
        assert done.status_code == 200, done.text


def _admin_headers(engine: Engine) -> dict[str, str]:
    with unit_of_work(engine) as session:
        user = create_user(
            session, username=f"admin-{time.monotonic_ns()}", password="secret-pass", role="admin"
        )
        return {"Authorization": f"Bearer {issue_token(user)}"}


def test_citizen_files_follows_rates_and_reopens(
    live: tuple[str, Engine], page: Page, tmp_path: Path
) -> None:
    base, engine = live
    page.goto(base + "/")
    expect(page.get_by_role("heading", level=1)).to_be_visible()
    shot(page, "01-home")

    page.get_by_role("link", name="Gửi phản ánh").first.click()
    page.get_by_label("Nội dung phản ánh").fill(
        "Ổ gà rất sâu trước số 45 đường Thống Nhất, xe máy dễ té. Liên hệ 0912 345 678."
    )
    page.get_by_label("Địa chỉ").fill("45 Thống Nhất, Phan Rang")
    before = tmp_path / "before.jpg"
    before.write_bytes(photo((150, 110, 80)))
    page.locator("#photos").set_input_files(str(before))
    page.get_by_label("Số điện thoại").fill("0912345678")
    shot(page, "02-report-form")
    page.get_by_role("button", name="Gửi phản ánh").click()

    code = page.get_by_test_id("code").inner_text()
    link = page.get_by_test_id("tracking-link").get_attribute("href")
    assert code.startswith("PR-") and link and "/t/" in link
    expect(page.get_by_test_id("report-text")).not_to_contain_text("0912")
    shot(page, "03-status-new")

    assert link.startswith("http://localhost:8000/t/")  # the deployment's public address, from settings
    page.goto(base + urlparse(link).path)
    expect(page.get_by_test_id("timeline")).to_contain_text("Tiếp nhận phản ánh")
    staff_resolves(base, engine, code)
    page.reload()
    expect(page.get_by_test_id("status")).to_have_text("Đã xử lý")
    expect(page.get_by_test_id("timeline")).to_contain_text("Đội duy tu đã vá ổ gà")
    expect(page.locator(".photos img")).to_have_count(2)  # the citizen's before, the officer's after
    shot(page, "04-status-resolved")

    page.get_by_label("4★").check()
    page.get_by_label("Góp ý").fill("Xử lý nhanh, cảm ơn.")
    page.get_by_role("button", name="Gửi đánh giá").click()
    expect(page.get_by_test_id("rating")).to_have_text("★★★★")

    page.get_by_label("Lý do mở lại").fill("Ổ gà lại bị bong sau trận mưa.")
    page.get_by_role("button", name="Mở lại phản ánh").click()
    expect(page.get_by_test_id("status")).to_have_text("Được mở lại")
    expect(page.get_by_test_id("timeline")).to_contain_text("Ổ gà lại bị bong")
    shot(page, "05-status-reopened")

    page.get_by_role("link", name="English").click()
    expect(page.get_by_test_id("status")).to_have_text("Reopened")
    shot(page, "06-status-english")


def test_lookup_list_map_and_not_found(live: tuple[str, Engine], page: Page) -> None:
    base, _ = live
    page.goto(base + "/lookup?lang=vi")
    page.get_by_label("Mã phản ánh").fill("PR-2026-999999")
    page.get_by_label("4 số cuối", exact=False).fill("1234")
    page.get_by_role("button", name="Tra cứu").click()
    expect(page.locator("[role=alert]")).to_be_visible()
    shot(page, "07-lookup-failed")

    page.goto(base + "/reports")
    expect(page.locator("#reports-map")).to_be_visible()  # Leaflet; the schematic svg.map without JS
    shot(page, "08-public-list-and-map")

    response = page.goto(base + "/t/this-link-was-made-up")
    assert response is not None and response.status == 404
    shot(page, "09-not-found")


def test_status_page_reads_without_javascript(live: tuple[str, Engine], browser: Browser) -> None:
    base, _ = live
    context = browser.new_context(java_script_enabled=False, viewport=PHONE)
    page = context.new_page()
    page.goto(base + "/report")
    page.get_by_label("Nội dung phản ánh").fill("Đèn đường không sáng ở hẻm 12 Ngô Gia Tự")
    page.get_by_role("button", name="Gửi phản ánh").click()
    expect(page.get_by_test_id("code")).to_be_visible()
    expect(page.get_by_test_id("timeline")).to_contain_text("Tiếp nhận phản ánh")
    context.close()
