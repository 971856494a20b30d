"""The trained category model as plain numbers, and the predictor rebuilt from them with NumPy alone.

scikit-learn only trains (nlp/training.py); what it learnt is stored in a format of our own: an NPZ file
(NumPy's documented .npy arrays in a zip, read without pickle) holding the vocabularies and idf weights of
the TF-IDF blocks, the lexicon, and the coefficients of the linear classifier, plus a JSON header.
An upgrade of scikit-learn (or of NumPy's pickles) therefore cannot make the shipped model unreadable;
tests/test_category_model.py checks that the rebuilt predictor gives the fitted pipeline's probabilities.

Format 2 adds the calibration (one sigmoid per class over the classifier's score, or over its softmax
for naive Bayes, as scikit-learn's CalibratedClassifierCV(method="sigmoid") fits it, then normalised over
the classes); format 1 files,
without it, are still read and give the regression's softmax. Format 3 gives each TF-IDF block the view of
the report it reads (nlp.normalise.model_text: the folded matching form, or the words that keep their
diacritics); blocks of older files read the folded form. A model's version is the start of the
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

from nlp.normalise import view

FORMAT = "civicdesk.category-model/3"
READABLE = ("civicdesk.category-model/1", "civicdesk.category-model/2", FORMAT)

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
    view: str = "folded"  # which view of nlp.normalise.model_text the block reads

    columns: dict[str, tuple[int, float]] = field(init=False, repr=False, compare=False)  # term: column, idf
    tokens: re.Pattern[str] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        idf = self.idf.tolist()
        object.__setattr__(
            self, "columns", {term: (column, idf[column]) for column, term in enumerate(self.terms)}
        )
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

    def values(self, text: str) -> dict[int, float]:
        """The row's non-zero columns: sublinear tf times idf, L2-normalised, times the block's weight."""
        text = view(text, self.view)
        counts = Counter(self.columns[g] for g in self.grams(text) if g in self.columns)
        values = {column: (1.0 + math.log(n)) * idf for (column, idf), n in counts.items()}
        norm = math.sqrt(sum(value * value for value in values.values()))
        return {column: value * self.weight / norm for column, value in values.items()}


@dataclass(frozen=True)
class LexiconBlock:
    """Per category, log(1 + how many of its keywords the text contains as whole words)."""

    categories: list[str]
    keywords: dict[str, list[str]]
    weight: float

    @property
    def width(self) -> int:
        return len(self.categories)

    def values(self, text: str) -> dict[int, float]:
        padded = f" {view(text, 'folded')} "
        hits = {
            column: sum(1 for word in self.keywords[category] if f" {word} " in padded)
            for column, category in enumerate(self.categories)
        }
        return {column: self.weight * math.log1p(count) for column, count in hits.items() if count}


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

    def features(self, text: str) -> tuple[npt.NDArray[np.intp], npt.NDArray[np.float64]]:
        """The text's non-zero feature columns and their values. Scoring only those keeps a long dense
        row away from a multi-threaded BLAS, which costs tens of milliseconds on a busy machine."""
        columns: list[int] = []
        values: list[float] = []
        start = 0
        for block in self.blocks:
            for column, value in block.values(text).items():
                columns.append(start + column)
                values.append(value)
            start += block.width
        return np.array(columns, dtype=np.intp), np.array(values, dtype=np.float64)

    def scores(self, texts: Sequence[str]) -> Matrix:
        out = np.tile(self.intercept, (len(texts), 1))
        for row, text in enumerate(texts):
            columns, values = self.features(text)
            out[row] += self.coef[:, columns] @ values
        return out

    def predict_proba(self, texts: Sequence[str]) -> Matrix:
        """Softmax of the linear scores, calibrated when the model carries a calibration; texts normalised."""
        if not texts:
            return np.zeros((0, len(self.classes)))
        scores = self.scores(texts)
        if self.calibration is None:
            return self._softmax(scores)
        if self.calibrated_on == "probabilities":
            return self._calibrated(self._softmax(scores))
        return self._calibrated(scores)

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
                        "view": block.view,
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
        views = {block.view for block in model.blocks if isinstance(block, TfidfBlock)}
        if not views <= {"folded", "accented"}:
            raise UnreadableModel(path, f"blocks read views {sorted(views)}, not folded or accented")
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
        view=str(spec.get("view", "folded")),
    )
