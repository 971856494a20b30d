"""Where a report is: the administrative unit (old or new names, aliases, abbreviations, no diacritics,
misspellings) and the street address (house number, alley, khu phố, street). Matching is on normalised,
folded text on both sides; a unit named by an old name is resolved to the unit in force on the report's
date, and both are kept."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from functools import cache
from pathlib import Path

from rapidfuzz import fuzz, process

from nlp.corpus import Unit, in_force, load_units
from nlp.normalise import normalise
from nlp.text import fold

STREETS_FILE = Path(__file__).parent / "data" / "streets.txt"
STREET_WARDS_FILE = Path(__file__).parent / "data" / "street_wards.tsv"
MARKED_CUTOFF = 84  # after "phường"/"P."/"xã": a misspelt name still counts
WEAK_CUTOFF = 88  # after "ở"/"tại": a misspelt name counts when it is close
NOT_A_WARD_AFTER = {"phan rang": ("thap cham",)}  # the city's own name is not the ward Phan Rang


@dataclass(frozen=True)
class WardMatch:
    code: str  # the unit in force on the report's date
    named_code: str  # the unit the text names
    named_name: str  # its Vietnamese name
    matched_text: str
    score: float
    marked: bool  # preceded by phường / xã / P.


@dataclass(frozen=True)
class Address:
    house_number: str | None = None
    alley: str | None = None
    khu_pho: str | None = None
    street: str | None = None

    def as_text(self) -> str | None:
        parts = [
            f"số {self.house_number}" if self.house_number else None,
            f"hẻm {self.alley}" if self.alley else None,
            f"đường {self.street}" if self.street else None,
            f"khu phố {self.khu_pho}" if self.khu_pho else None,
        ]
        text = ", ".join(p for p in parts if p)
        return text or None


@dataclass(frozen=True)
class Gazetteer:
    units: dict[str, Unit]
    names: dict[str, tuple[str, ...]]  # folded name → unit codes that carry it (old and new)


@cache
def gazetteer() -> Gazetteer:
    units = load_units()
    names: dict[str, list[str]] = {}
    for unit in units.values():
        for name in (unit.name, *unit.aliases):
            key = _strip_marker(normalise(name))
            if key and unit.code not in names.setdefault(key, []):
                names[key].append(unit.code)
    return Gazetteer(units, {k: tuple(v) for k, v in names.items()})


def _strip_marker(name: str) -> str:
    for marker in ("phuong ", "xa ", "thi tran "):
        if name.startswith(marker):
            return name[len(marker) :]
    return name


def _windows(words: list[str], start: int) -> list[tuple[str, int]]:
    return [(" ".join(words[start : start + size]), size) for size in (3, 2, 1) if start + size <= len(words)]


def find_ward(text: str, on: date) -> WardMatch | None:
    """The best-supported unit the text names, resolved to the unit in force on ``on``."""
    words = re.findall(r"[a-z0-9]+", normalise(text))
    table = gazetteer()
    best: WardMatch | None = None
    best_strength: tuple[bool, bool, float] = (False, False, 0.0)
    for index in range(len(words)):
        before = words[index - 1] if index > 0 else ""
        marked = before in ("phuong", "xa") or " ".join(words[max(0, index - 2) : index]) == "thi tran"
        cutoff = MARKED_CUTOFF if marked else WEAK_CUTOFF if before in ("o", "tai") else None
        for window, size in _windows(words, index):
            match = _lookup(window, cutoff, table)
            if match is None:
                continue
            name, score = match
            following = " ".join(words[index + size : index + size + 2])
            if any(following.startswith(skip) for skip in NOT_A_WARD_AFTER.get(name, ())):
                continue
            candidate = _resolve(name, window, score, marked, on, table)
            strength = (marked, cutoff is not None, score)
            if best is None or strength > best_strength:
                best, best_strength = candidate, strength
    return best


def _lookup(window: str, cutoff: float | None, table: Gazetteer) -> tuple[str, float] | None:
    """An exact name anywhere; a close one only where a marker says a place name follows."""
    if window in table.names:
        return window, 100.0
    if cutoff is None or len(window) < 5:
        return None
    found = process.extractOne(window, table.names.keys(), scorer=fuzz.ratio, score_cutoff=cutoff)
    return (found[0], float(found[1])) if found else None


def _resolve(name: str, window: str, score: float, marked: bool, on: date, table: Gazetteer) -> WardMatch:
    codes = table.names[name]
    # of units sharing a name (Bảo An before and after 2025), the one in force that day is meant
    named = next((c for c in codes if _valid(table.units[c], on)), None) or _oldest(codes, table)
    unit = table.units[named]
    return WardMatch(in_force(table.units, named, on), named, unit.name, window, score, marked)


def _valid(unit: Unit, on: date) -> bool:
    return (unit.valid_from is None or unit.valid_from <= on) and (
        unit.valid_to is None or on <= unit.valid_to
    )


def _oldest(codes: tuple[str, ...], table: Gazetteer) -> str:
    return min(codes, key=lambda c: table.units[c].valid_from or date.min)


@cache
def _streets() -> dict[str, str]:
    lines = STREETS_FILE.read_text(encoding="utf-8").splitlines()
    return {fold(line.strip()): line.strip() for line in lines if line.strip()}


_NUMBER = r"\d{1,4}[a-z]?(?:\s*/\s*\d{1,4}[a-z]?)*(?!\d)"
_HOUSE = re.compile(rf"\b(?:so nha|nha so|so|nha)\s+({_NUMBER})")
_ALLEY = re.compile(rf"\b(?:hem|kiet|ngo|ngach)\s+(?:so\s+)?({_NUMBER})|\bk({_NUMBER})")
_KHU_PHO = re.compile(r"\bkhu pho\s+(\d+|[a-z]+ ?\d*)")
_BARE_HOUSE = re.compile(rf"(?:^|[^a-z0-9/])({_NUMBER})\s+(?:duong\s+)?$")
# "cột điện số 12" is a pole, "tổ 5" a neighbourhood group, "quốc lộ 1" a road: not house numbers
_NOT_A_HOUSE_BEFORE = re.compile(
    r"\b(?:hem|kiet|ngo|ngach|khu pho|to|quoc lo|tinh lo|thang|cot dien|cot|tru dien|tru|tram)(?:\s+so)?\s+$"
)


def find_address(text: str) -> Address:
    """House number (số 45, sn 12A, 45 Thống Nhất, 12/3 Ngô Gia Tự), alley (hẻm, kiệt, ngõ, K12), khu phố
    (KP3), street (after đường/phố, or a known street right after a number)."""
    folded = normalise(text)
    street, street_at = _street(folded)
    house = next(
        (m for m in _HOUSE.finditer(folded) if not _NOT_A_HOUSE_BEFORE.search(folded[: m.start()])), None
    )
    alley = _ALLEY.search(folded)
    khu_pho = _KHU_PHO.search(folded)
    number = _compact(house.group(1)) if house else _bare_house(folded, street_at)
    return Address(
        house_number=number,
        alley=_compact(alley.group(1) or alley.group(2)) if alley else None,
        khu_pho=khu_pho.group(1).strip() if khu_pho else None,
        street=street,
    )


def _compact(number: str) -> str:
    return re.sub(r"\s+", "", number)


def _bare_house(folded: str, street_at: int | None) -> str | None:
    """'45 thong nhat': a number right before the street's name is its house number."""
    if street_at is None:
        return None
    before = folded[:street_at]
    found = _BARE_HOUSE.search(before)
    if found is None or _NOT_A_HOUSE_BEFORE.search(before[: found.start(1)]):
        return None
    return _compact(found.group(1))


def _street(folded: str) -> tuple[str | None, int | None]:
    """The first known street named after 'đường' / 'phố' (or 'đ.'), else a known street named whole;
    with where its name starts in the text."""
    streets = _streets()
    words = list(re.finditer(r"[a-z0-9]+", folded))
    for index, word in enumerate(words):
        if word.group() not in ("duong", "pho"):
            continue
        following = words[index + 1 : index + 6]
        for size in range(len(following), 0, -1):
            found = process.extractOne(
                " ".join(w.group() for w in following[:size]),
                streets.keys(),
                scorer=fuzz.ratio,
                score_cutoff=88,
            )
            if found:
                return streets[found[0]], following[0].start()
    for key, name in sorted(streets.items(), key=lambda item: -len(item[0])):
        whole = re.search(rf"(?<![a-z0-9]){re.escape(key)}(?![a-z0-9])", folded)
        if whole and " " in key:
            return name, whole.start()
    return None, None


@cache
def _street_wards() -> dict[str, tuple[str, ...]]:
    rows = STREET_WARDS_FILE.read_text(encoding="utf-8").splitlines()
    table = {}
    for row in rows:
        if row.strip() and not row.startswith("#"):
            street, wards = row.split("\t")
            table[fold(street.strip())] = tuple(w.strip() for w in wards.split(";") if w.strip())
    return table


def ward_from_street(street: str | None, on: date) -> str | None:
    """A street that runs through one ward only (in force on the day) places the report in that ward."""
    if street is None:
        return None
    units = gazetteer().units
    listed = [units[code] for code in _street_wards().get(fold(street), ()) if code in units]
    if not listed or any(unit.valid_from is not None and on < unit.valid_from for unit in listed):
        return None  # a street listed by today's wards says nothing about a report from before them
    wards = {in_force(units, unit.code, on) for unit in listed}
    return wards.pop() if len(wards) == 1 else None
