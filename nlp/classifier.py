"""The category classifier: trained by `civicdesk nlp train` (nlp/training.py, scikit-learn), stored and
read back as a CategoryModel (nlp/category_model.py, NumPy only), so the model file that ships with the
package stays readable whatever scikit-learn version is installed.

Web and workers pick up a retrained model without a restart: every prediction looks at the model file's
modification time and size (one stat call) and reads the file again when they changed. A file that cannot
be read then keeps the model already in memory and raises an alert (an error log line, which error
tracking forwards, and `model_load_failures`)."""

from __future__ import annotations

import logging
import os
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from nlp.category_model import CategoryModel, UnreadableModel
from nlp.normalise import model_text

log = logging.getLogger(__name__)

MODEL_FILE = Path(__file__).parent / "model" / "category.npz"
RETRAINED_NAME = "models/category.npz"  # under var_dir: where the worker's retrained model lives


@dataclass(frozen=True)
class Prediction:
    category: str
    confidence: float
    runner_up: str | None
    runner_up_confidence: float


def trained_model_path() -> Path:
    """Where training writes: the configured file, or the install's own under var_dir."""
    from kernel.settings import get_settings

    settings = get_settings()
    return Path(settings.nlp_model_path) if settings.nlp_model_path else settings.var_dir / RETRAINED_NAME


def model_path() -> Path:
    """The model in use: the configured or retrained file, else the one shipped with the package."""
    trained = trained_model_path()
    from kernel.settings import get_settings

    return trained if get_settings().nlp_model_path or trained.exists() else MODEL_FILE


def train(
    texts: Sequence[str],
    labels: Sequence[str],
    path: Path | None = None,
    groups: Sequence[str] | None = None,
) -> CategoryModel:
    from nlp.training import fit_pipeline, to_category_model

    model = to_category_model(fit_pipeline(texts, labels, groups))
    save_atomically(model, path or trained_model_path())
    return model


def save_atomically(model: CategoryModel, path: Path) -> None:
    """Readers see the old file or the new one, never half of one."""
    draft = path.with_name(f".{path.name}.{os.getpid()}.{threading.get_ident()}")
    model.save(draft)
    os.replace(draft, path)


def load_model(path: Path | None = None) -> CategoryModel:
    return _models.get(path or model_path())


class _ModelCache:
    """One model per path, read again when the file's (mtime, size) changes; a bad file keeps the old."""

    def __init__(self) -> None:
        self._entries: dict[Path, tuple[tuple[int, int], CategoryModel]] = {}
        self._lock = threading.Lock()
        self.load_failures = 0

    def get(self, path: Path) -> CategoryModel:
        try:
            stat = path.stat()
        except FileNotFoundError:
            kept = self._entries.get(path)
            if kept is None:
                raise FileNotFoundError(
                    f"no category model at {path}; build it with `civicdesk nlp train`"
                ) from None
            return kept[1]
        stamp = (stat.st_mtime_ns, stat.st_size)
        kept = self._entries.get(path)
        if kept is not None and kept[0] == stamp:
            return kept[1]
        with self._lock:
            return self._reload(path, stamp, kept)

    def _reload(
        self, path: Path, stamp: tuple[int, int], kept: tuple[tuple[int, int], CategoryModel] | None
    ) -> CategoryModel:
        try:
            model = CategoryModel.load(path)
        except UnreadableModel as exc:
            if kept is None:
                raise
            self.load_failures += 1
            self._entries[path] = (stamp, kept[1])  # alert once per bad file, not once per report
            log.error(
                "category model file unreadable; keeping model %s",
                kept[1].version,
                extra={"alert": "nlp_model_unreadable", "path": str(path), "reason": str(exc)},
            )
            return kept[1]
        if kept is not None:
            log.info("category model %s replaces %s", model.version, kept[1].version)
        self._entries[path] = (stamp, model)
        return model

    def clear(self) -> None:
        self._entries.clear()


_models = _ModelCache()


def model_load_failures() -> int:
    return _models.load_failures


def clear_cache() -> None:
    _models.clear()


def predict(text: str, model: CategoryModel | None = None) -> Prediction:
    return predict_many([text], model)[0]


def predict_many(texts: Sequence[str], model: CategoryModel | None = None) -> list[Prediction]:
    model = model or load_model()
    probabilities = model.predict_proba([model_text(t) for t in texts])
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
