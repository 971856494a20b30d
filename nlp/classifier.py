"""The category classifier: word and character n-grams of the normalised, folded text (so diacritics,
VIQR and teencode meet in one form) with TF-IDF, plus hits of a hand-written domain lexicon per category
(nlp/data/keywords.tsv), into a multinomial logistic regression whose probabilities are the confidence.
Trained by `civicdesk nlp train`; the model file ships with the package."""

from __future__ import annotations

import csv
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import joblib
import numpy as np
from scipy.sparse import csr_matrix
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import FeatureUnion, Pipeline

from nlp.normalise import normalise

MODEL_FILE = Path(__file__).parent / "model" / "category.joblib"
LEXICON_FILE = Path(__file__).parent / "data" / "keywords.tsv"


def load_lexicon(path: Path = LEXICON_FILE) -> dict[str, list[str]]:
    with path.open(encoding="utf-8") as handle:
        return {
            row["category"]: [k.strip() for k in row["keywords"].split(";") if k.strip()]
            for row in csv.DictReader(handle, delimiter="\t")
        }


class LexiconHits(BaseEstimator, TransformerMixin):  # type: ignore[misc]
    """One feature per category: log(1 + how many of its keywords the normalised text contains)."""

    def __init__(self, lexicon: dict[str, list[str]] | None = None) -> None:
        self.lexicon = lexicon

    def fit(self, texts: Sequence[str], labels: Sequence[str] | None = None) -> LexiconHits:
        self.lexicon_ = self.lexicon or load_lexicon()
        self.categories_ = sorted(self.lexicon_)
        return self

    def transform(self, texts: Sequence[str]) -> csr_matrix:
        hits = np.zeros((len(texts), len(self.categories_)), dtype=np.float32)
        for row, text in enumerate(texts):
            padded = f" {text} "
            for column, category in enumerate(self.categories_):
                hits[row, column] = sum(1 for word in self.lexicon_[category] if f" {word} " in padded)
        return csr_matrix(np.log1p(hits))


@dataclass(frozen=True)
class Prediction:
    category: str
    confidence: float
    runner_up: str | None
    runner_up_confidence: float


def build_pipeline() -> Pipeline:
    features = FeatureUnion(
        [
            (
                "words",
                TfidfVectorizer(analyzer="word", ngram_range=(1, 2), sublinear_tf=True, dtype=np.float32),
            ),
            (
                "chars",
                TfidfVectorizer(
                    analyzer="char_wb", ngram_range=(2, 4), sublinear_tf=True, min_df=2, dtype=np.float32
                ),
            ),
            ("lexicon", LexiconHits()),
        ],
        transformer_weights={
            "words": 1.0,
            "chars": 1.0,
            "lexicon": 2.0,
        },  # by 3-fold CV on the training split, grouped by report
    )
    return Pipeline([("features", features), ("model", LogisticRegression(C=20, max_iter=3000))])


def model_path() -> Path:
    from civicdesk.settings import get_settings

    configured = get_settings().nlp_model_path
    return Path(configured) if configured else MODEL_FILE


def train(texts: Sequence[str], labels: Sequence[str], path: Path | None = None) -> Pipeline:
    pipeline = build_pipeline()
    pipeline.fit([normalise(t) for t in texts], list(labels))
    for _, vectorizer in pipeline.named_steps["features"].transformer_list:
        if hasattr(vectorizer, "stop_words_"):
            del vectorizer.stop_words_  # only needed for introspection; it would swell the file
    path = path or model_path()
    path.parent.mkdir(parents=True, exist_ok=True)
    joblib.dump(pipeline, path, compress=3)
    _load.cache_clear()
    return pipeline


def load_model(path: Path | None = None) -> Pipeline:
    return _load(path or model_path())


@cache
def _load(path: Path) -> Pipeline:
    if not path.exists():
        raise FileNotFoundError(f"no category model at {path}; build it with `civicdesk nlp train`")
    model: Pipeline = joblib.load(path)
    return model


def predict(text: str, model: Pipeline | None = None) -> Prediction:
    return predict_many([text], model)[0]


def predict_many(texts: Sequence[str], model: Pipeline | None = None) -> list[Prediction]:
    model = model or load_model()
    probabilities = model.predict_proba([normalise(t) for t in texts])
    classes = list(model.classes_)
    out = []
    for row in probabilities:
        order = row.argsort()[::-1]
        out.append(
            Prediction(
                classes[order[0]],
                float(row[order[0]]),
                classes[order[1]] if len(order) > 1 else None,
                float(row[order[1]]) if len(order) > 1 else 0.0,
            )
        )
    return out


@dataclass(frozen=True)
class Metrics:
    accuracy: float
    per_class: dict[str, tuple[float, float, int]]  # precision, recall, support
    confusion: dict[str, dict[str, int]]
    expected_calibration_error: float


def evaluate(
    texts: Sequence[str], labels: Sequence[str], predict_fn: Callable[[Sequence[str]], list[Prediction]]
) -> Metrics:
    predictions = predict_fn(texts)
    classes = sorted(set(labels) | {p.category for p in predictions})
    confusion = {truth: dict.fromkeys(classes, 0) for truth in classes}
    for truth, prediction in zip(labels, predictions, strict=True):
        confusion[truth][prediction.category] += 1
    per_class = {}
    for name in classes:
        true_positive = confusion[name][name]
        predicted = sum(confusion[t][name] for t in classes)
        actual = sum(confusion[name].values())
        per_class[name] = (
            true_positive / predicted if predicted else 0.0,
            true_positive / actual if actual else 0.0,
            actual,
        )
    correct = sum(confusion[c][c] for c in classes)
    return Metrics(correct / len(labels), per_class, confusion, _calibration_error(labels, predictions))


def _calibration_error(labels: Sequence[str], predictions: list[Prediction], bins: int = 10) -> float:
    """How far the confidence is from the accuracy, averaged over ten confidence bins."""
    total = 0.0
    for index in range(bins):
        low, high = index / bins, (index + 1) / bins
        members = [(p, t) for p, t in zip(predictions, labels, strict=True) if low < p.confidence <= high]
        if members:
            accuracy = sum(p.category == t for p, t in members) / len(members)
            confidence = sum(p.confidence for p, _ in members) / len(members)
            total += len(members) / len(labels) * abs(accuracy - confidence)
    return total
