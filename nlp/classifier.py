"""The category classifier: trained by `civicdesk nlp train` (nlp/training.py, scikit-learn), stored and
read back as a CategoryModel (nlp/category_model.py, NumPy only), so the model file that ships with the
package stays readable whatever scikit-learn version is installed."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from nlp.category_model import CategoryModel
from nlp.normalise import normalise

MODEL_FILE = Path(__file__).parent / "model" / "category.npz"


@dataclass(frozen=True)
class Prediction:
    category: str
    confidence: float
    runner_up: str | None
    runner_up_confidence: float


def model_path() -> Path:
    from civicdesk.settings import get_settings

    configured = get_settings().nlp_model_path
    return Path(configured) if configured else MODEL_FILE


def train(texts: Sequence[str], labels: Sequence[str], path: Path | None = None) -> CategoryModel:
    from nlp.training import fit_pipeline, to_category_model

    model = to_category_model(fit_pipeline(texts, labels))
    model.save(path or model_path())
    _load.cache_clear()
    return model


def load_model(path: Path | None = None) -> CategoryModel:
    return _load(path or model_path())


@cache
def _load(path: Path) -> CategoryModel:
    if not path.exists():
        raise FileNotFoundError(f"no category model at {path}; build it with `civicdesk nlp train`")
    return CategoryModel.load(path)


def predict(text: str, model: CategoryModel | None = None) -> Prediction:
    return predict_many([text], model)[0]


def predict_many(texts: Sequence[str], model: CategoryModel | None = None) -> list[Prediction]:
    model = model or load_model()
    probabilities = model.predict_proba([normalise(t) for t in texts])
    classes = model.classes
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
