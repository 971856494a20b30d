"""The city profile: the facts about one city that code used to hard-code (its name, hotline, time zone,
map frame, sensitive departments, Open311 groups, the IOC's wards and cameras, SLA and duplicate
thresholds), read from one TOML file.

The shipped file (kernel/data/city.toml) is Phan Rang–Tháp Chàm's; another city points
``CIVICDESK_CITY_PROFILE`` at its own copy. A wrong file is refused as a whole, with a message that names
the field, before anything runs on it (`civicdesk check-profile FILE`, and every command's start).
"""

from __future__ import annotations

import tomllib
from functools import lru_cache
from pathlib import Path
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from kernel.settings import get_settings, zone_exists

SHIPPED_PROFILE = Path(__file__).parent / "data" / "city.toml"
PriorityName = Literal["low", "normal", "high", "urgent"]
Fraction = Annotated[float, Field(ge=0, le=1)]
Score = Annotated[float, Field(ge=0, le=100)]
Metres = Annotated[float, Field(gt=0)]
Code = Annotated[str, Field(pattern=r"^[a-z0-9][a-z0-9_-]*$")]


class ProfileError(ValueError):
    """A profile that cannot be used: the message names the file and the field."""


class _Part(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)  # a misspelt key is named, not ignored


class MapFrame(_Part):
    centre: tuple[float, float] = Field(description="latitude, longitude where the maps open")
    bounds: tuple[float, float, float, float] = Field(description="south, west, north, east")

    @model_validator(mode="after")
    def _centre_inside(self) -> MapFrame:
        south, west, north, east = self.bounds
        if not (-90 <= south < north <= 90 and -180 <= west < east <= 180):
            raise ValueError("bounds must be south < north and west < east, in degrees")
        latitude, longitude = self.centre
        if not (south <= latitude <= north and west <= longitude <= east):
            raise ValueError("centre must lie inside bounds")
        return self


class Routing(_Part):
    confidence_threshold: Fraction
    sensitive_threshold: Fraction
    sensitive_departments: tuple[Code, ...]


class Open311(_Part):
    groups: dict[str, str]
    other_group: str = Field(min_length=1)


class Ioc(_Part):
    current_wards: tuple[Code, ...] = Field(min_length=1)
    camera_url: str = Field(pattern=r"^[a-z][a-z0-9+.-]*://\S+$")

    @field_validator("camera_url")
    @classmethod
    def _known_placeholders(cls, value: str) -> str:
        try:
            value.format(subsystem="s", ward="w", n=1)
        except (KeyError, IndexError, ValueError):
            raise ValueError("camera_url may use only {subsystem}, {ward} and {n}") from None
        return value


class Sla(_Part):
    warning_fraction: float = Field(gt=0, lt=1)
    escalation: dict[PriorityName, PriorityName]


class Duplicates(_Part):
    auto_link_score: Score
    suggest_score: Score
    text_only_auto_link_score: Score
    auto_link_metres: Metres
    near_metres: Metres

    @model_validator(mode="after")
    def _ordered(self) -> Duplicates:
        if not self.suggest_score <= self.auto_link_score <= self.text_only_auto_link_score:
            raise ValueError("scores must be suggest_score ≤ auto_link_score ≤ text_only_auto_link_score")
        if self.auto_link_metres > self.near_metres:
            raise ValueError("auto_link_metres must not exceed near_metres")
        return self


class CityProfile(_Part):
    name_vi: str = Field(min_length=1)
    name_en: str = Field(min_length=1)
    short_name: str = Field(min_length=1)
    hotline: str = Field(pattern=r"^\+?\d{3,15}$", description="as dialled")
    hotline_display: str = Field(min_length=3, description="as people read it")
    timezone: str
    map: MapFrame
    routing: Routing
    open311: Open311
    ioc: Ioc
    sla: Sla
    duplicates: Duplicates

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        if not zone_exists(value):
            raise ValueError(f"'{value}' is not an IANA time zone (e.g. Asia/Ho_Chi_Minh)")
        return value

    def name(self, language: str) -> str:
        return self.name_en if language == "en" else self.name_vi


def load_profile(path: Path) -> CityProfile:
    """Read and check one profile file; any problem is a :class:`ProfileError` naming the field."""
    where = f"Hồ sơ thành phố sai (invalid city profile) {path}"
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise ProfileError(f"{where}: {exc.strerror or exc}") from None
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise ProfileError(f"{where}: not TOML: {exc}") from None
    try:
        return CityProfile.model_validate(data)
    except ValidationError as exc:
        raise ProfileError(f"{where}: {_problems(exc)}") from None


def _problems(exc: ValidationError) -> str:
    lines = []
    for error in exc.errors():
        field = ".".join(str(part) for part in error["loc"]) or "(file)"
        lines.append(f"{field}: {error['msg'].removeprefix('Value error, ')}")
    return "; ".join(lines)


def profile_path() -> Path:
    """The file in force: CIVICDESK_CITY_PROFILE, else the one shipped in the package."""
    return get_settings().city_profile or SHIPPED_PROFILE


def city_profile() -> CityProfile:
    return _cached(profile_path())  # no resolve(): read in hot loops, it would touch the disk


@lru_cache
def _cached(path: Path) -> CityProfile:
    return load_profile(path)


# the facts a setting may still override (they were settings before the profile existed)


def timezone_name() -> str:
    return get_settings().timezone or city_profile().timezone


def hotline_number() -> str:
    return get_settings().hotline_number or city_profile().hotline


def hotline_display() -> str:
    """The hotline as people read it: the profile's spelling, unless a setting dials another number."""
    profile = city_profile()
    number = hotline_number()
    return profile.hotline_display if number == profile.hotline else number


def confidence_threshold() -> float:
    configured = get_settings().triage_confidence_threshold
    return city_profile().routing.confidence_threshold if configured is None else configured


def sensitive_threshold() -> float:
    configured = get_settings().triage_sensitive_threshold
    return city_profile().routing.sensitive_threshold if configured is None else configured


def sensitive_departments() -> frozenset[str]:
    configured = get_settings().triage_sensitive_departments
    if configured is None:
        return frozenset(city_profile().routing.sensitive_departments)
    return frozenset(code.strip() for code in configured.split(",") if code.strip())
