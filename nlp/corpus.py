"""The labelled corpus: hand-written reports (nlp/data/reports_base.tsv), each told in five registers —
full diacritics, none, VIQR, teencode, a phone transcript — with a place in one of the city's units of
any period, as citizens really name them. The held-out split is by hand-written report, so no variant of
a test report is ever trained on. `civicdesk nlp corpus` rebuilds nlp/data/corpus.jsonl."""

from __future__ import annotations

import csv
import json
import random
import unicodedata
from collections.abc import Iterator
from dataclasses import asdict, dataclass
from datetime import date, datetime, time, timedelta
from pathlib import Path

from civicdesk.timeutil import VN_TZ
from nlp.text import fold

DATA = Path(__file__).parent / "data"
WARDS_FILE = Path(__file__).resolve().parents[1] / "civicdesk" / "data" / "wards.csv"
CORPUS_FILE = DATA / "corpus.jsonl"
REGISTERS = ("diacritics", "plain", "viqr", "teencode", "transcript")
HELD_OUT_EVERY = 4  # hand-written reports 3, 7, 11 of each category are never trained on


@dataclass(frozen=True)
class Example:
    text: str
    category: str
    ward: str | None  # the unit in force at reported_at
    ward_named: str | None  # the unit the text names
    reported_at: str
    register: str
    base: int
    split: str


@dataclass(frozen=True)
class Unit:
    code: str
    name: str
    kind: str
    valid_from: date | None
    valid_to: date | None
    successor: str | None
    aliases: tuple[str, ...]


def load_units() -> dict[str, Unit]:
    with WARDS_FILE.open(encoding="utf-8") as handle:
        return {
            row["code"]: Unit(
                row["code"],
                row["name_vi"],
                row["kind"],
                date.fromisoformat(row["valid_from"]) if row["valid_from"] else None,
                date.fromisoformat(row["valid_to"]) if row["valid_to"] else None,
                row["successor"] or None,
                tuple(a for a in row["aliases"].split(";") if a),
            )
            for row in csv.DictReader(handle)
        }


def in_force(units: dict[str, Unit], code: str, on: date) -> str:
    """Follow successors until the unit that was in force on that day."""
    unit = units[code]
    while unit.valid_to is not None and on > unit.valid_to and unit.successor:
        unit = units[unit.successor]
    return unit.code


def _streets() -> list[str]:
    return [
        line.strip()
        for line in (DATA / "streets.txt").read_text(encoding="utf-8").splitlines()
        if line.strip()
    ]


_TONE_MARKS = {"\u0301": "'", "\u0300": "`", "\u0309": "?", "\u0303": "~", "\u0323": "."}
_SHAPE_MARKS = {"\u0302": "^", "\u0306": "(", "\u031b": "+"}


def to_viqr(text: str) -> str:
    out = []
    for char in unicodedata.normalize("NFC", text):
        if char in "đĐ":
            out.append("dd" if char == "đ" else "DD")
            continue
        parts = unicodedata.normalize("NFD", char)
        base, marks = parts[0], parts[1:]
        shape = "".join(_SHAPE_MARKS.get(m, "") for m in marks)
        tone = "".join(_TONE_MARKS.get(m, "") for m in marks)
        out.append(base + shape + tone)
    return "".join(out)


TEEN = [
    ("không", "ko"),
    ("được", "dc"),
    ("mọi người", "mn"),
    ("người", "ng"),
    ("với", "vs"),
    ("gì", "j"),
    ("rồi", "r"),
    ("quá", "wa"),
    ("biết", "bik"),
    ("cũng", "cx"),
    ("trước", "trc"),
    ("phường", "p"),
    ("làm", "lm"),
    ("nước", "nc"),
]


def to_teencode(text: str, rng: random.Random) -> str:
    lowered = text.lower()
    for word, code in TEEN:
        if rng.random() < 0.8:
            lowered = lowered.replace(word, code)
    return fold(lowered) + rng.choice(["", " mn oi", " giup vs", " ak", " nha"])


def to_transcript(text: str, rng: random.Random) -> str:
    words = "".join(ch if ch.isalnum() or ch.isspace() or ch == "/" else " " for ch in text.lower()).split()
    opening = rng.choice(
        ["alo dạ cho em phản ánh", "dạ em muốn báo là", "alô tổng đài ơi", "chị ơi cho tôi báo"]
    )
    return " ".join(
        [opening, *words, rng.choice(["", "vậy đó", "cảm ơn", "nhờ bên mình xử lý giúp"])]
    ).strip()


def _misspell(name: str, rng: random.Random) -> str:
    letters = list(name)
    index = rng.randrange(1, len(letters) - 1)
    if letters[index].isalpha() and letters[index - 1] != " ":
        letters[index] = letters[index] * 2 if rng.random() < 0.5 else ""
    return "".join(letters)


def _place(unit: Unit, rng: random.Random) -> str:
    name = rng.choice([unit.name, unit.name, *unit.aliases]) if unit.aliases else unit.name
    if rng.random() < 0.1:
        name = _misspell(name, rng)
    if name.lower().startswith(("p.", "x.")):
        return rng.choice(["ở ", "tại ", ""]) + name
    word = "xã" if unit.kind == "xã" else "phường"
    style = rng.randrange(5)
    return [
        f"ở {word} {name}",
        f"tại {'X.' if word == 'xã' else 'P.'} {name}",
        f"khu phố {rng.randint(1, 9)} {word} {name}",
        f"{word} {name}",
        f"ở {name}",
    ][style]


def _fill(template: str, rng: random.Random) -> str:
    street = rng.choice(_streets())
    return template.format(
        street=street,
        house=f"số {rng.randint(1, 300)} {street}",
        alley=f"{rng.randint(1, 99)}/{rng.randint(1, 30)} {street}"
        if rng.random() < 0.6
        else f"{rng.randint(1, 99)} {street}",
    )


def _moment(rng: random.Random) -> datetime:
    day = date(2023, 1, 1) + timedelta(days=rng.randrange(0, (date(2026, 11, 20) - date(2023, 1, 1)).days))
    return datetime.combine(day, time(rng.randint(6, 21), rng.randrange(60)), VN_TZ)


def examples() -> Iterator[Example]:
    units = load_units()
    with (DATA / "reports_base.tsv").open(encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle, delimiter="\t"))
    per_category: dict[str, int] = {}
    for row in rows:
        category = row["category"]
        base = per_category.get(category, 0)
        per_category[category] = base + 1
        split = "test" if base % HELD_OUT_EVERY == HELD_OUT_EVERY - 1 else "train"
        for register in REGISTERS:
            rng = random.Random(f"{category}/{base}/{register}")  # noqa: S311 - reproducible data, not secrets
            yield _example(row["text"], category, base, split, register, units, rng)


def _example(
    template: str,
    category: str,
    base: int,
    split: str,
    register: str,
    units: dict[str, Unit],
    rng: random.Random,
) -> Example:
    moment = _moment(rng)
    text = _fill(template, rng)
    ward = named = None
    if rng.random() < 0.85:
        possible = [u for u in units.values() if u.valid_from is None or u.valid_from <= moment.date()]
        unit = rng.choice(possible)
        named, ward = unit.code, in_force(units, unit.code, moment.date())
        place = _place(unit, rng)
        text = (
            f"{text} {place}"
            if rng.random() < 0.7
            else f"{place[0].upper()}{place[1:]}, {text[0].lower()}{text[1:]}"
        )
    rendered = {
        "diacritics": lambda: text,
        "plain": lambda: fold(text),
        "viqr": lambda: to_viqr(text),
        "teencode": lambda: to_teencode(text, rng),
        "transcript": lambda: to_transcript(text, rng),
    }[register]()
    return Example(rendered, category, ward, named, moment.isoformat(), register, base, split)


def write_corpus(path: Path = CORPUS_FILE) -> int:
    rows = list(examples())
    with path.open("w", encoding="utf-8") as handle:
        for example in rows:
            handle.write(json.dumps(asdict(example), ensure_ascii=False) + "\n")
    return len(rows)


def read_examples(path: Path = CORPUS_FILE, split: str | None = None) -> list[Example]:
    with path.open(encoding="utf-8") as handle:
        rows = [Example(**json.loads(line)) for line in handle if line.strip()]
    return [row for row in rows if split is None or row.split == split]
