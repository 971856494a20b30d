"""The trained category model as plain numbers, and the predictor rebuilt from them with NumPy alone.

scikit-learn only trains (nlp/training.py); what it learnt is stored in a format of our own: an NPZ file
(NumPy's documented .npy arrays in a zip, read without pickle) holding the vocabularies and idf weights of
the two TF-IDF blocks, the lexicon, and the coefficients of the logistic regression, plus a JSON header.
An upgrade of scikit-learn (or of NumPy's pickles) therefore cannot make the shipped model unreadable;
tests/test_category_model.py checks that the rebuilt predictor gives the fitted pipeline's probabilities.

Format 2 adds the calibration (one sigmoid per class over the classifier's score, or over its softmax
for naive Bayes, as scikit-learn's CalibratedClassifierCV(method="sigmoid") fits it, then normalised over
the classes); format 1 files,
without it, are still read and give the regression's softmax. A model's version is the start of the
SHA-256 of its file, so every process that reads the same file names it the same way."""

from __future__ import annotations

import hashlib
import io
import json
import math
import re
import zipfile
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

FORMAT = "civicdesk.category-model/2"
READABLE = ("civicdesk.category-model/1", FORMAT)
BATCH = 512  # texts turned into dense feature rows at a time

Matrix = npt.NDArray[np.float64]


class UnreadableModel(Exception):
    def __init__(self, path: Path, why: str) -> None:
        super().__init__(
            f"the category model {path} cannot be read ({why}); rebuild it with `civicdesk nlp train`"
        )


@dataclass(frozen=True)
class TfidfBlock:
    """What TfidfVectorizer(lowercase, sublinear_tf, norm="l2") computes, for analyzer "word" or "char_wb"."""

    name: str
    analyzer: str
    ngram_range: tuple[int, int]
    token_pattern: str
    terms: list[str]  # column order
    idf: npt.NDArray[np.float64]
    weight: float

    columns: dict[str, int] = field(init=False, repr=False, compare=False)
    tokens: re.Pattern[str] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "columns", {term: column for column, term in enumerate(self.terms)})
        object.__setattr__(self, "tokens", re.compile(self.token_pattern))

    @property
    def width(self) -> int:
        return len(self.terms)

    def grams(self, text: str) -> list[str]:
        text = text.lower()
        if self.analyzer == "word":
            return self._word_grams(self.tokens.findall(text))
        return self._char_wb_grams(text)

    def _word_grams(self, tokens: list[str]) -> list[str]:
        low, high = self.ngram_range
        return [" ".join(tokens[i : i + n]) for n in range(low, high + 1) for i in range(len(tokens) - n + 1)]

    def _char_wb_grams(self, text: str) -> list[str]:
        low, high = self.ngram_range
        grams = []
        for word in text.split():
            padded = f" {word} "
            for n in range(low, high + 1):
                grams += [padded[i : i + n] for i in range(max(1, len(padded) - n + 1))]
                if len(padded) <= n:  # a word no longer than n is one gram, once: no longer grams
                    break
        return grams

    def fill(self, text: str, row: Matrix) -> None:
        counts = Counter(self.columns[g] for g in self.grams(text) if g in self.columns)
        for column, count in counts.items():
            row[column] = (1.0 + math.log(count)) * self.idf[column]
        norm = float(np.sqrt(np.dot(row, row)))
        if norm > 0:
            row *= self.weight / norm


@dataclass(frozen=True)
class LexiconBlock:
    """Per category, log(1 + how many of its keywords the text contains as whole words)."""

    categories: list[str]
    keywords: dict[str, list[str]]
    weight: float

    @property
    def width(self) -> int:
        return len(self.categories)

    def fill(self, text: str, row: Matrix) -> None:
        padded = f" {text} "
        for column, category in enumerate(self.categories):
            hits = sum(1 for word in self.keywords[category] if f" {word} " in padded)
            row[column] = self.weight * math.log1p(hits)


@dataclass(frozen=True)
class CategoryModel:
    classes: list[str]
    blocks: tuple[TfidfBlock | LexiconBlock, ...]
    coef: Matrix  # classes x features
    intercept: npt.NDArray[np.float64]
    trained_with: dict[str, str]
    calibration: Matrix | None = None  # classes x 2: the sigmoid's a and b; None: softmax
    calibrated_on: str = "scores"  # the linear scores (a regression), or their softmax (naive Bayes)
    version: str = ""  # set when read from a file

    def features(self, texts: Sequence[str]) -> Matrix:
        rows = np.zeros((len(texts), sum(block.width for block in self.blocks)))
        for index, text in enumerate(texts):
            start = 0
            for block in self.blocks:
                block.fill(text, rows[index, start : start + block.width])
                start += block.width
        return rows

    def predict_proba(self, texts: Sequence[str]) -> Matrix:
        """Softmax of the linear scores, as the multinomial logistic regression gives; texts normalised."""
        parts = []
        for start in range(0, len(texts), BATCH):
            scores = self.features(texts[start : start + BATCH]) @ self.coef.T + self.intercept
            if self.calibration is None:
                parts.append(self._softmax(scores))
            elif self.calibrated_on == "probabilities":
                parts.append(self._calibrated(self._softmax(scores)))
            else:
                parts.append(self._calibrated(scores))
        return np.vstack(parts) if parts else np.zeros((0, len(self.classes)))

    @staticmethod
    def _softmax(scores: Matrix) -> Matrix:
        scores = scores - scores.max(axis=1, keepdims=True)
        exp = np.exp(scores)
        return exp / exp.sum(axis=1, keepdims=True)  # type: ignore[no-any-return]

    def _calibrated(self, scores: Matrix) -> Matrix:
        assert self.calibration is not None
        a, b = self.calibration[:, 0], self.calibration[:, 1]
        probabilities = 1.0 / (1.0 + np.exp(np.clip(a * scores + b, -500, 500)))
        total = probabilities.sum(axis=1, keepdims=True)
        uniform = np.full_like(probabilities, 1.0 / len(self.classes))
        return np.where(total > 0, probabilities / np.where(total > 0, total, 1.0), uniform)

    def save(self, path: Path) -> None:
        arrays: dict[str, Any] = {"coef": self.coef, "intercept": self.intercept}
        if self.calibration is not None:
            arrays["calibration"] = self.calibration
        header: dict[str, Any] = {
            "format": FORMAT,
            "classes": self.classes,
            "trained_with": self.trained_with,
            "calibrated_on": self.calibrated_on,
            "blocks": [],
        }
        for block in self.blocks:
            if isinstance(block, TfidfBlock):
                arrays[f"{block.name}_terms"] = np.array(block.terms, dtype=str)
                arrays[f"{block.name}_idf"] = block.idf
                header["blocks"].append(
                    {
                        "kind": "tfidf",
                        "name": block.name,
                        "analyzer": block.analyzer,
                        "ngram_range": list(block.ngram_range),
                        "token_pattern": block.token_pattern,
                        "weight": block.weight,
                    }
                )
            else:
                header["blocks"].append(
                    {
                        "kind": "lexicon",
                        "categories": block.categories,
                        "keywords": block.keywords,
                        "weight": block.weight,
                    }
                )
        arrays["header"] = np.array(json.dumps(header, ensure_ascii=False))
        path.parent.mkdir(parents=True, exist_ok=True)
        with path.open("wb") as handle:  # a file object: NumPy would otherwise append ".npz" to the name
            np.savez_compressed(handle, **arrays)

    @classmethod
    def load(cls, path: Path) -> CategoryModel:
        try:
            content = path.read_bytes()
            with np.load(io.BytesIO(content), allow_pickle=False) as stored:
                arrays = {name: stored[name] for name in stored.files}
            header = json.loads(str(arrays["header"]))
        except (OSError, ValueError, KeyError, EOFError, zipfile.BadZipFile) as exc:
            raise UnreadableModel(path, f"not a {FORMAT} file: {exc}") from exc
        if header.get("format") not in READABLE:
            raise UnreadableModel(path, f"format {header.get('format')!r}, this version reads {FORMAT}")
        try:
            model = cls(
                classes=list(header["classes"]),
                blocks=tuple(_block(spec, arrays) for spec in header["blocks"]),
                coef=arrays["coef"].astype(np.float64),
                intercept=arrays["intercept"].astype(np.float64),
                trained_with=dict(header["trained_with"]),
                calibration=arrays["calibration"].astype(np.float64) if "calibration" in arrays else None,
                calibrated_on=str(header.get("calibrated_on", "scores")),
                version=hashlib.sha256(content).hexdigest()[:12],
            )
        except (KeyError, TypeError, ValueError, IndexError) as exc:
            raise UnreadableModel(path, f"incomplete {FORMAT} file: {exc}") from exc
        if model.calibrated_on not in ("scores", "probabilities"):
            raise UnreadableModel(path, f"calibrated on {model.calibrated_on!r}, not scores or probabilities")
        if model.coef.shape != (len(model.classes), sum(block.width for block in model.blocks)):
            raise UnreadableModel(path, f"coefficients of shape {model.coef.shape} do not fit its features")
        return model


def _block(spec: dict[str, Any], arrays: dict[str, Any]) -> TfidfBlock | LexiconBlock:
    if spec["kind"] == "lexicon":
        return LexiconBlock(spec["categories"], spec["keywords"], float(spec["weight"]))
    return TfidfBlock(
        name=spec["name"],
        analyzer=spec["analyzer"],
        ngram_range=(int(spec["ngram_range"][0]), int(spec["ngram_range"][1])),
        token_pattern=spec["token_pattern"],
        terms=[str(term) for term in arrays[f"{spec['name']}_terms"]],
        idf=arrays[f"{spec['name']}_idf"].astype(np.float64),
        weight=float(spec["weight"]),
    )
