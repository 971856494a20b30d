"""How alike two reports are, on normalised, folded text: rapidfuzz's token-set ratio over the words
that carry meaning (fillers and greetings left out), so "ổ gà to trước nhà 45 Thống Nhất" and "o ga lon
truoc so 45 thong nhat" meet. Thresholds are measured on nlp/data/duplicate_pairs.tsv."""

from __future__ import annotations

import csv
from dataclasses import dataclass
from pathlib import Path

from rapidfuzz import fuzz

from nlp.normalise import normalise, tokens

PAIRS_FILE = Path(__file__).parent / "data" / "duplicate_pairs.tsv"
AUTO_LINK = 90.0  # at or above: linked to the open ticket automatically (precision first)
SUGGEST = 65.0  # at or above: shown to the agent as a likely duplicate
FILLER = frozenset(
    "alo da em chi anh oi moi nguoi giup voi vs cam on nha ak a roi qua bi o tai cua va co la thi ma nay do "
    "muon bao phan anh cho toi minh ben xu ly nhe vay".split()
)


def meaning(text: str) -> str:
    return " ".join(word for word in tokens(normalise(text)) if word not in FILLER)


def similarity(first: str, second: str) -> float:
    return float(fuzz.token_set_ratio(meaning(first), meaning(second)))


@dataclass(frozen=True)
class PairMetrics:
    threshold: float
    precision: float
    recall: float
    pairs: int


def labelled_pairs(path: Path = PAIRS_FILE) -> list[tuple[bool, str, str]]:
    with path.open(encoding="utf-8") as handle:
        return [
            (row["duplicate"] == "1", row["first"], row["second"])
            for row in csv.DictReader(handle, delimiter="\t")
        ]


def measure(threshold: float, pairs: list[tuple[bool, str, str]] | None = None) -> PairMetrics:
    pairs = pairs if pairs is not None else labelled_pairs()
    flagged = [(truth, similarity(a, b) >= threshold) for truth, a, b in pairs]
    true_positive = sum(1 for truth, flag in flagged if truth and flag)
    predicted = sum(1 for _, flag in flagged if flag)
    actual = sum(1 for truth, _ in flagged if truth)
    return PairMetrics(
        threshold,
        true_positive / predicted if predicted else 1.0,
        true_positive / actual if actual else 1.0,
        len(pairs),
    )
