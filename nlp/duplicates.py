"""Whether two reports are about the same problem in the same place.

Place first: by distance when both have coordinates, by street and house number when both typed one, by
ward otherwise; then text, as rapidfuzz's token-set ratio over the words that carry meaning (fillers and
greetings left out), so "ổ gà to trước nhà 45 Thống Nhất" and "o ga lon truoc so 45 thong nhat" meet.
Two different house numbers, alleys or streets, or two points more than ``auto_link_metres`` apart, are
never linked without a person, whatever the text says. The thresholds are the city profile's
[duplicates], measured on nlp/data/duplicate_pairs.tsv (bench/duplicates.py)."""

from __future__ import annotations

import csv
import re
from dataclasses import dataclass, field
from datetime import date
from functools import lru_cache
from pathlib import Path

from rapidfuzz import fuzz

from kernel.city import Duplicates, city_profile
from kernel.distance import metres_between
from nlp.location import Address, find_address, find_ward
from nlp.normalise import normalise, tokens

PAIRS_FILE = Path(__file__).parent / "data" / "duplicate_pairs.tsv"
FILLER = frozenset(
    "alo da em chi anh oi moi nguoi giup voi vs cam on nha ak a roi qua bi o tai cua va co la thi ma nay do "
    "muon bao phan anh cho toi minh ben xu ly nhe vay".split()
)
# words that only say where: the place is compared on its own, so it must not make texts look alike
PLACE_WORDS = frozenset("so nha hem kiet ngo khu phuong truoc gan ngay sn".split())
# how people name one problem in different words (folded); longer phrases first
SAME_PROBLEM = [
    (("den xanh den do", "den tin hieu", "den giao thong"), "dentinhieu"),
    (("khong co mot giot", "khong co nuoc", "cup nuoc", "mat nuoc"), "matnuoc"),
    (("khong hoat dong", "khong sang", "tat het", "tat"), "hong"),
    (("nap ho ga", "nap cong"), "napcong"),
    (("mieng cong", "cong thoat nuoc"), "cong"),
    (("duong day dien", "day dien"), "daydien"),
    (("duong ong", "ong nuoc"), "ongnuoc"),
    (("cot den", "tru den"), "cotden"),
    (("o ga", "ho sau", "lung"), "oga"),
    (("sut lun", "lun"), "lun"),
    (("nghet", "tac"), "tac"),
    (("be", "vo"), "vo"),
    (("chung", "vong"), "vong"),
    (("coi noi", "xay them"), "xaythem"),
    (("um tum", "ram", "rap"), "ram"),
    (("xa ban", "gach vun"), "xaban"),
    (("on ao", "lam on", "on"), "on"),
    (("lan chiem", "chiem"), "chiem"),
    (("nhanh", "canh"), "canh"),
    (("hu", "hong"), "hong"),
]
_SAME_PROBLEM = [
    (re.compile(r"\b(?:" + "|".join(re.escape(v) for v in variants) + r")\b"), canonical)
    for variants, canonical in SAME_PROBLEM
]


def meaning(text: str) -> str:
    return " ".join(word for word in tokens(normalise(text)) if word not in FILLER)


def similarity(first: str, second: str) -> float:
    return float(fuzz.token_set_ratio(meaning(first), meaning(second)))


def problem_similarity(first: str, second: str) -> float:
    """Text likeness with the place taken out (numbers, street names, place words): the place is compared
    on its own, and two reports at one address must not look alike for that alone."""
    return float(fuzz.token_set_ratio(_problem_words(first), _problem_words(second)))


@lru_cache(maxsize=4096)
def _problem_words(text: str) -> str:
    street = _address(text).street
    drop = PLACE_WORDS | set(tokens(normalise(street))) if street else PLACE_WORDS
    words = " ".join(tokens(normalise(text)))
    for pattern, canonical in _SAME_PROBLEM:
        words = pattern.sub(canonical, words)
    return " ".join(w for w in words.split() if w not in drop and w not in FILLER and not w.isdigit())


@dataclass(frozen=True)
class Report:
    text: str
    category: str | None = None
    ward: str | None = None  # in force
    named_ward: str | None = None  # the unit the text names (an old one, perhaps)
    latitude: float | None = None
    longitude: float | None = None

    @property
    def point(self) -> tuple[float, float] | None:
        """(latitude, longitude), the order of kernel.distance."""
        if self.latitude is None or self.longitude is None:
            return None
        return self.latitude, self.longitude

    @property
    def address(self) -> Address:
        return _address(self.text)


@lru_cache(maxsize=4096)  # bounded: a worker sees every text once, and compares each with up to 200
def _address(text: str) -> Address:
    return find_address(text)


def address_of(text: str) -> Address:
    """The typed address of a report, read once per process for the texts compared most recently: triage
    reads the new report's address through this so that its duplicate look-up does not read it again."""
    return _address(text)


def limits() -> Duplicates:
    """The scores and distances in force, from the city profile's [duplicates]: auto_link_score (at or
    above, with nothing that forbids it, linked automatically), suggest_score (shown to the agent),
    text_only_auto_link_score (no address and no pins: only near-identical text links itself),
    auto_link_metres (pins further apart are never linked automatically) and near_metres (pins further
    apart are not the same problem at all)."""
    return city_profile().duplicates


@dataclass(frozen=True)
class Comparison:
    score: float  # 0–100
    text_score: float
    distance_m: float | None
    same_address: bool
    blocked: str | None  # why it may never be linked automatically (Vietnamese, shown to staff)
    reasons: tuple[str, ...] = field(default_factory=tuple)  # Vietnamese, shown to staff

    @property
    def automatic(self) -> bool:
        return self.blocked is None and self.score >= limits().auto_link_score

    @property
    def suggested(self) -> bool:
        return self.score >= limits().suggest_score

    def why(self) -> str:
        """'cách 35 m, cùng lĩnh vực, nội dung giống 72%' — the reasons, then what stops an automatic link."""
        return ", ".join([*self.reasons, *([self.blocked] if self.blocked else [])])


def compare(first: Report, second: Report) -> Comparison | None:
    """None when place or category says they cannot be the same problem; else how alike they are."""
    if first.ward and second.ward and first.ward != second.ward:
        return None
    if first.named_ward and second.named_ward and first.named_ward != second.named_ward:
        return None  # Mỹ Đông and Đông Hải are one ward today, but the texts name two places
    distance = metres_between(first.point, second.point) if first.point and second.point else None
    limit = limits()
    if distance is not None and distance > limit.near_metres:
        return None
    a, b = first.address, second.address
    if a.street and b.street and a.street != b.street:
        return None
    text_score = problem_similarity(first.text, second.text)
    reasons: list[str] = []
    blocked = _blocked(a, b, distance)
    bonus = 0.0
    if distance is not None:
        reasons.append(f"cách {distance:.0f} m")
        bonus = max(bonus, 15.0 if distance <= 25 else 10.0 if distance <= limit.auto_link_metres else 0.0)
    # one number on two streets nobody named is not one address
    same_address = bool(
        a.house_number and a.street and (a.house_number, a.street) == (b.house_number, b.street)
    )
    if same_address:
        reasons.append(f"cùng địa chỉ số {a.house_number} {a.street}")
        bonus = 15.0
    if first.category and first.category == second.category:
        reasons.append("cùng lĩnh vực")
    elif first.category and second.category:
        blocked = blocked or "khác lĩnh vực: không tự gộp"
    if (
        distance is None
        and not same_address
        and blocked is None
        and text_score < limit.text_only_auto_link_score
    ):
        blocked = "không có vị trí hay địa chỉ để đối chiếu: cần người xem"
    reasons.append(f"nội dung giống {text_score:.0f}%")
    score = min(100.0, text_score + bonus)
    return Comparison(score, text_score, distance, same_address, blocked, tuple(reasons))


def _blocked(a: Address, b: Address, distance: float | None) -> str | None:
    if a.house_number and b.house_number and a.house_number != b.house_number:
        return f"khác số nhà ({a.house_number} và {b.house_number}): không tự gộp"
    if a.alley and b.alley and a.alley != b.alley:
        return f"khác hẻm ({a.alley} và {b.alley}): không tự gộp"
    apart = limits().auto_link_metres
    if distance is not None and distance > apart:
        return f"xa nhau hơn {apart:.0f} m: không tự gộp"
    return None


# --- measured on the labelled pairs ------------------------------------------------------------------


@dataclass(frozen=True)
class LabelledPair:
    duplicate: bool
    kind: str
    first: Report
    second: Report


@dataclass(frozen=True)
class PairMetrics:
    threshold: float
    precision: float
    recall: float
    pairs: int
    flagged: int


PAIRS_DAY = date(2026, 1, 15)


def _report(text: str, category: str, point: str) -> Report:
    lat, lon = (float(v) for v in point.split(",")) if point else (None, None)
    ward = find_ward(text, PAIRS_DAY)
    return Report(
        text, category or None, ward.code if ward else None, ward.named_code if ward else None, lat, lon
    )


def labelled_pairs(path: Path = PAIRS_FILE) -> list[LabelledPair]:
    with path.open(encoding="utf-8") as handle:
        return [
            LabelledPair(
                row["duplicate"] == "1",
                row["kind"],
                _report(row["first"], row["first_category"], row["first_point"]),
                _report(row["second"], row["second_category"], row["second_point"]),
            )
            for row in csv.DictReader(handle, delimiter="\t")
        ]


def measure(
    threshold: float, pairs: list[LabelledPair] | None = None, *, automatic: bool = False
) -> PairMetrics:
    """Precision and recall of 'flagged at this threshold' (and, for automatic, not blocked)."""
    pairs = pairs if pairs is not None else labelled_pairs()
    flagged = []
    for pair in pairs:
        found = compare(pair.first, pair.second)
        hit = found is not None and found.score >= threshold and (not automatic or found.blocked is None)
        flagged.append((pair.duplicate, hit))
    true_positive = sum(1 for truth, flag in flagged if truth and flag)
    predicted = sum(1 for _, flag in flagged if flag)
    actual = sum(1 for truth, _ in flagged if truth)
    return PairMetrics(
        threshold,
        true_positive / predicted if predicted else 1.0,
        true_positive / actual if actual else 1.0,
        len(pairs),
        predicted,
    )
