"""The city profile (kernel/city.py): the shipped file holds Phan Rang–Tháp Chàm's facts, another
city's file changes what the pages, routing, Open311, IOC, SLA and duplicates use, and a wrong file is
refused with its field named, from the CLI with exit code 2."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from fastapi.testclient import TestClient
from staff_signin import sign_in

from civicdesk.cli import main
from ioc import sources
from kernel import city
from kernel.settings import get_settings
from nlp import duplicates
from routing import triage
from sla.service import escalated
from tickets.models import Priority

SHIPPED = city.SHIPPED_PROFILE.read_text(encoding="utf-8")
# another city, written as an operator would: the shipped file with its facts changed
DA_LAT = {
    'name_vi = "Phan Rang – Tháp Chàm"': 'name_vi = "Đà Lạt"',
    'name_en = "Phan Rang – Thap Cham"': 'name_en = "Da Lat"',
    'hotline = "19009113"': 'hotline = "02633822222"',
    'hotline_display = "1900 9113"': 'hotline_display = "0263 382 2222"',
    'sensitive_departments = ["ca", "yt", "gddt"]': 'sensitive_departments = ["qldt"]',
    'qldt = "Hạ tầng đô thị"': 'qldt = "Đường sá, cầu cống"',
    'current_wards = ["phan-rang", "dong-hai-2025", "ninh-chu", "bao-an-2025", "do-vinh-2025"]': (
        'current_wards = ["phan-rang", "ninh-chu"]'
    ),
    'camera_url = "rtsp://camera.phanrang.local/{subsystem}/{ward}/{n}"': (
        'camera_url = "https://cam.dalat.example/{ward}/{subsystem}-{n}.m3u8"'
    ),
    "warning_fraction = 0.75": "warning_fraction = 0.5",
    'escalation = { low = "normal", normal = "high", high = "urgent" }': 'escalation = { low = "high" }',
    "auto_link_score = 85.0": "auto_link_score = 90.0",
}


def profile_text(changes: dict[str, str]) -> str:
    text = SHIPPED
    for old, new in changes.items():
        assert old in text, old  # the shipped file changed: this test's edits must follow it
        text = text.replace(old, new)
    return text


@pytest.fixture
def use_profile(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Callable[[str], Path]]:
    """Point CIVICDESK_CITY_PROFILE at a file with this text, for the rest of the test."""

    def use(text: str) -> Path:
        path = tmp_path / "city.toml"
        path.write_text(text, encoding="utf-8")
        monkeypatch.setenv("CIVICDESK_CITY_PROFILE", str(path))
        get_settings.cache_clear()
        return path

    yield use
    monkeypatch.delenv("CIVICDESK_CITY_PROFILE", raising=False)
    get_settings.cache_clear()


def test_the_shipped_profile_is_the_reference_citys() -> None:
    profile = city.city_profile()
    assert city.profile_path() == city.SHIPPED_PROFILE
    assert (profile.name_vi, profile.hotline, profile.timezone) == (
        "Phan Rang – Tháp Chàm",
        "19009113",
        "Asia/Ho_Chi_Minh",
    )
    assert city.sensitive_departments() == {"ca", "yt", "gddt"}
    assert (city.confidence_threshold(), city.sensitive_threshold()) == (0.45, 0.8)
    assert escalated(Priority.NORMAL) == Priority.HIGH and escalated(Priority.URGENT) == Priority.URGENT


def test_another_citys_profile_changes_routing_ioc_sla_and_duplicates(use_profile: Any) -> None:
    use_profile(profile_text(DA_LAT))
    assert triage.confidence_threshold("qldt") == (0.8, True)  # roads are this city's sensitive department
    assert triage.confidence_threshold("ca") == (0.45, False)
    assert sources.current_wards() == ("phan-rang", "ninh-chu")
    assert sources.cameras("traffic", 1)[0]["stream"] == "https://cam.dalat.example/phan-rang/traffic-1.m3u8"
    assert escalated(Priority.LOW) == Priority.HIGH
    assert escalated(Priority.NORMAL) == Priority.NORMAL  # no step written for it: it keeps its level
    assert duplicates.limits().auto_link_score == 90.0


def test_a_setting_still_overrides_the_profile(use_profile: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    use_profile(profile_text(DA_LAT))
    monkeypatch.setenv("CIVICDESK_TRIAGE_SENSITIVE_DEPARTMENTS", "yt")
    monkeypatch.setenv("CIVICDESK_HOTLINE_NUMBER", "1022")
    get_settings.cache_clear()
    assert city.sensitive_departments() == {"yt"}
    assert (city.hotline_number(), city.hotline_display()) == ("1022", "1022")


def test_another_citys_name_and_hotline_are_on_the_public_pages(client: TestClient, use_profile: Any) -> None:
    use_profile(profile_text(DA_LAT))
    home = client.get("/").text
    assert "TP. Đà Lạt" in home and 'href="tel:02633822222"' in home and "gọi 0263 382 2222" in home
    assert "Phan Rang" not in home and "1900 9113" not in home
    english = client.get("/?lang=en").text
    assert "Da Lat City" in english and "call 0263 382 2222" in english
    discovery = client.get("/open311/v2/discovery.json").json()
    assert discovery["contact"].endswith("0263 382 2222")


def test_the_open311_groups_are_the_profiles(client: TestClient, use_profile: Any) -> None:
    before = {s["service_code"]: s["group"] for s in client.get("/open311/v2/services.json").json()}
    use_profile(profile_text(DA_LAT))
    after = {s["service_code"]: s["group"] for s in client.get("/open311/v2/services.json").json()}
    changed = {code for code in before if before[code] != after[code]}
    assert changed and {before[code] for code in changed} == {"Hạ tầng đô thị"}
    assert {after[code] for code in changed} == {"Đường sá, cầu cống"}


def test_a_pin_outside_names_the_profiles_city(client: TestClient, use_profile: Any) -> None:
    use_profile(profile_text(DA_LAT))
    outside = client.get("/api/v1/geo/locate", params={"latitude": 10.776, "longitude": 106.7}).json()
    assert outside["ward"] is None and "ngoài thành phố Đà Lạt" in outside["message"]


@pytest.mark.parametrize(
    ("changes", "named"),
    [
        ({"sensitive_threshold = 0.8": "sensitive_threshold = 1.5"}, "routing.sensitive_threshold"),
        ({'timezone = "Asia/Ho_Chi_Minh"': 'timezone = "Asia/Phan_Rang"'}, "timezone"),
        ({"centre = [11.565, 108.990]": "centre = [21.0, 105.8]"}, "map: centre must lie inside bounds"),
        ({"[sla]\n": "[sla]\nwarn_fraction = 0.5\n"}, "sla.warn_fraction: Extra inputs"),
        ({'high = "urgent" }': 'high = "critical" }'}, "sla.escalation.high"),
        ({"suggest_score = 65.0": "suggest_score = 95.0"}, "duplicates: scores must be"),
        ({"{subsystem}/{ward}/{n}": "{subsystem}/{street}"}, "ioc.camera_url"),
        ({'hotline = "19009113"': 'hotline = "gọi ngay"'}, "hotline"),
        ({"[open311]": "[open311"}, "not TOML"),
    ],
)
def test_a_wrong_profile_is_refused_with_its_field_named(
    tmp_path: Path, changes: dict[str, str], named: str
) -> None:
    path = tmp_path / "city.toml"
    path.write_text(profile_text(changes), encoding="utf-8")
    with pytest.raises(city.ProfileError) as refused:
        city.load_profile(path)
    assert named in str(refused.value) and str(path) in str(refused.value)
    answer = CliRunner().invoke(main, ["check-profile", str(path)])
    assert answer.exit_code == 2 and named.split(":")[0] in answer.output and "Traceback" not in answer.output


def test_check_profile_summarises_a_good_file() -> None:
    answer = CliRunner().invoke(main, ["check-profile", str(city.SHIPPED_PROFILE)])
    assert answer.exit_code == 0 and "1900 9113" in answer.output and "OK" in answer.output


def test_every_command_stops_on_a_wrong_configured_profile(use_profile: Any) -> None:
    use_profile(profile_text({"near_metres = 300.0": "near_metres = -1"}))
    answer = CliRunner().invoke(main, ["sla", "due", "--help"])
    assert answer.exit_code == 2 and "duplicates.near_metres" in answer.output


def test_admins_see_the_profile_in_force_and_where_it_came_from(
    client: TestClient, make_user: Any, use_profile: Any
) -> None:
    make_user("admin", username="quantri")
    sign_in(client, "quantri", "secret-pass")
    shipped = client.get("/staff/admin/city")
    assert shipped.status_code == 200
    assert str(city.SHIPPED_PROFILE) in shipped.text and "Hồ sơ thành phố" in shipped.text
    path = use_profile(profile_text(DA_LAT))
    page = client.get("/staff/admin/city").text
    assert str(path) in page and "Đường sá, cầu cống" in page and "0263 382 2222" in page
    make_user("agent", username="tongdai1")
    sign_in(client, "tongdai1", "secret-pass")
    assert client.get("/staff/admin/city").status_code == 403
