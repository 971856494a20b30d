"""The labelled corpus: hand-written reports, each told in seven registers — full diacritics, a formal
letter, none, VIQR, teencode, a phone transcript, a few words — with a place in one of the city's units of
any period, as citizens really name them. `civicdesk nlp corpus` rebuilds nlp/data/corpus.jsonl.

The held-out split is honest by construction: its reports (nlp/data/reports_held_out.tsv) were written
separately from the training reports (nlp/data/reports_base.tsv and every nlp/data/reports_train_*.tsv,
read in name order), as new sentences rather than
paraphrases, and the openings, closings and letter formulas wrapped around them come from lists of
their own (_FRAMES), so no phrase a test report is built from is ever trained on."""

from __future__ import annotations

import csv
import json
import random
import unicodedata
from collections.abc import Iterator
from dataclasses import asdict, dataclass
from datetime import date, datetime, time, timedelta
from pathlib import Path

from kernel.timeutil import VN_TZ
from nlp.text import fold

DATA = Path(__file__).parent / "data"
WARDS_FILE = Path(__file__).resolve().parents[1] / "kernel" / "data" / "wards.csv"
CORPUS_FILE = DATA / "corpus.jsonl"
REGISTERS = ("diacritics", "formal", "plain", "viqr", "teencode", "transcript", "short")
HELD_OUT_BASE = 1000  # held-out reports are numbered from here, so (category, base) never meets training
COMPOSED_BASE = 500  # training reports composed from nlp/data/report_clauses.tsv are numbered from here
COMPOSED_PER_CATEGORY = 60
# Further training files, nlp/data/reports_train_*.tsv (same format as reports_base.tsv), each numbered
# from its own thousand above this, in the files' name order: a report's number never meets another's
TRAIN_FILES_BASE = 2000


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


# Words wrapped around a report, one list per split: a test report is never framed as a training one.
_FRAMES: dict[str, dict[str, list[str]]] = {
    "train": {
        "teen_tail": ["", " mn oi", " giup vs", " ak", " nha"],
        "call_open": ["alo dạ cho em phản ánh", "dạ em muốn báo là", "alô tổng đài ơi", "chị ơi cho tôi báo"],
        "call_close": ["", "vậy đó", "cảm ơn", "nhờ bên mình xử lý giúp"],
        "letter_open": ["Kính gửi UBND thành phố,", "Kính gửi đường dây nóng,", "Tôi xin phản ánh:"],
        "letter_close": ["Kính đề nghị xem xét giải quyết.", "Trân trọng cảm ơn.", "Mong sớm được xử lý."],
    },
    "test": {
        "teen_tail": ["", " nhe", " pls", " lm on", " ha"],
        "call_open": ["à vâng tôi gọi là vì", "ờ em chào anh em ở gần đây thì", "tổng đài hả cho hỏi là"],
        "call_close": ["", "thế thôi", "anh ghi giúp em với", "vâng"],
        "letter_open": [
            "Kính thưa quý cơ quan,",
            "Thưa lãnh đạo phường,",
            "Công dân chúng tôi phản ánh việc",
        ],
        "letter_close": ["Xin chân thành cảm ơn.", "Rất mong được quan tâm.", "Đề nghị kiểm tra."],
    },
}


def to_teencode(text: str, rng: random.Random, split: str = "train") -> str:
    lowered = text.lower()
    for word, code in TEEN:
        if rng.random() < 0.8:
            lowered = lowered.replace(word, code)
    return fold(lowered) + rng.choice(_FRAMES[split]["teen_tail"])


def to_transcript(text: str, rng: random.Random, split: str = "train") -> str:
    """As a phone call is dictated: no punctuation, no capitals, a greeting and a sign-off."""
    words = "".join(ch if ch.isalnum() or ch.isspace() or ch == "/" else " " for ch in text.lower()).split()
    frames = _FRAMES[split]
    return " ".join([rng.choice(frames["call_open"]), *words, rng.choice(frames["call_close"])]).strip()


def to_letter(text: str, rng: random.Random, split: str = "train") -> str:
    frames = _FRAMES[split]
    body = text[0].lower() + text[1:] if text[1:2].islower() else text  # keep "UBND", lower "Đường"
    return f"{rng.choice(frames['letter_open'])} {body}. {rng.choice(frames['letter_close'])}"


def to_short(text: str, rng: random.Random) -> str:
    """A few words, as typed in a hurry: the first clause, at most six words, often without diacritics."""
    clause = text.replace(",", " ,").split(" ,")[0].split()[:6]
    short = " ".join(clause).lower()
    return fold(short) if rng.random() < 0.5 else short


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


def fill_placeholders(text: str, seed: str) -> str:
    """A report that may name {street}, {house} or {alley}, filled in reproducibly; others unchanged."""
    if "{" not in text:
        return text
    return _fill(text, random.Random(seed))  # noqa: S311 - reproducible data, not secrets


def _moment(rng: random.Random) -> datetime:
    day = date(2023, 1, 1) + timedelta(days=rng.randrange(0, (date(2026, 11, 20) - date(2023, 1, 1)).days))
    return datetime.combine(day, time(rng.randint(6, 21), rng.randrange(60)), VN_TZ)


def _rows(name: str) -> list[dict[str, str]]:
    with (DATA / name).open(encoding="utf-8") as handle:
        return list(csv.DictReader(handle, delimiter="\t"))


def training_files() -> list[str]:
    """The hand-written training files: reports_base.tsv, then every reports_train_*.tsv by name."""
    return ["reports_base.tsv", *sorted(path.name for path in DATA.glob("reports_train_*.tsv"))]


def examples() -> Iterator[Example]:
    units = load_units()
    sources = [
        ("train", name, 0 if index == 0 else TRAIN_FILES_BASE + 1000 * (index - 1))
        for index, name in enumerate(training_files())
    ]
    for split, name, first in [*sources, ("test", "reports_held_out.tsv", HELD_OUT_BASE)]:
        per_category: dict[str, int] = {}
        for row in _rows(name):
            category = row["category"]
            base = first + per_category.get(category, 0)
            per_category[category] = base - first + 1
            for register in REGISTERS:
                rng = random.Random(f"{category}/{base}/{register}")  # noqa: S311 - reproducible data, not secrets
                yield _example(row["text"], category, base, split, register, units, rng)
    yield from _composed_examples(units)


# Training only: short problem clauses (nlp/data/report_clauses.tsv) composed into reports, for a wider
# vocabulary than whole sentences give; some mention a second, lesser problem after the main one.
_COMPOSE = [
    "{C1}",
    "{C1} {where}",
    "{C1}, {c2}",
    "Phản ánh: {c1} {where}",
    "Khu tôi {c1}, mong được xử lý",
    "Sao {c1} mãi mà không ai giải quyết",
    "{C1} đã lâu rồi, {c2}, đề nghị kiểm tra",
    "{Where} {c1}",
    "{C1} {where}, ngoài ra còn {aside}",
]
_COMPOSE_OTHER = ["{C1}", "{C1} ạ", "Dạ {c1}", "{C1}, cảm ơn", "Chào anh chị, {c1}"]
_WHERE = ["ở đầu hẻm", "trước nhà tôi", "trong khu phố", "gần chợ", "trên đường {street}", "cạnh trường"]


def _composed(category: str, clauses: dict[str, list[str]], rng: random.Random) -> str:
    first, second = rng.sample(clauses[category], 2)
    aside = rng.choice(clauses[rng.choice([c for c in clauses if c not in (category, "other")])])
    where = rng.choice(_WHERE)
    template = rng.choice(_COMPOSE_OTHER if category == "other" else _COMPOSE)
    return template.format(
        C1=first[0].upper() + first[1:],
        c1=first,
        c2=second,
        aside=aside,
        where=where,
        Where=where[0].upper() + where[1:],
        street="{street}",
    )


def _composed_examples(units: dict[str, Unit]) -> Iterator[Example]:
    clauses: dict[str, list[str]] = {}
    for row in _rows("report_clauses.tsv"):
        clauses.setdefault(row["category"], []).append(row["clause"])
    for category in sorted(clauses):
        for index in range(COMPOSED_PER_CATEGORY):
            base = COMPOSED_BASE + index
            rng = random.Random(f"composed/{category}/{base}")  # noqa: S311 - reproducible data, not secrets
            register = rng.choice(REGISTERS)
            yield _example(_composed(category, clauses, rng), category, base, "train", register, units, rng)


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
    if register == "short":
        return Example(to_short(text, rng), category, None, None, moment.isoformat(), register, base, split)
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
        "formal": lambda: to_letter(text, rng, split),
        "plain": lambda: fold(text),
        "viqr": lambda: to_viqr(text),
        "teencode": lambda: to_teencode(text, rng, split),
        "transcript": lambda: to_transcript(text, rng, split),
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
