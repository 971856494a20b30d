"""Learning from people without a restart: the worker retrains the category model on the corpus plus
staff corrections, measures the candidate on the held-out split, and puts it in place only when it is not
less accurate than the model in use. Web and workers notice the new file on their next prediction
(nlp/classifier.py); the old model stays in use until then, and after a refusal."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path

from sqlmodel import Session

from nlp import classifier
from nlp.category_model import CategoryModel, UnreadableModel
from nlp.corpus import Example, read_examples
from routing.triage import category_corrections

log = logging.getLogger(__name__)

# A person's correction is a real report, checked: it counts as this many corpus reports, so that a few
# corrections can move a model trained on thousands.
CORRECTION_WEIGHT = 5


@dataclass(frozen=True)
class RetrainOutcome:
    replaced: bool
    reason: str
    corrections: int
    current_accuracy: float | None
    candidate_accuracy: float | None
    version: str | None  # the model in use afterwards


def accuracy(model: CategoryModel, held_out: Sequence[Example]) -> float:
    predictions = classifier.predict_many([e.text for e in held_out], model)
    return sum(p.category == e.category for p, e in zip(predictions, held_out, strict=True)) / len(held_out)


def retrain(
    session: Session,
    *,
    training: Sequence[Example] | None = None,
    held_out: Sequence[Example] | None = None,
    target: Path | None = None,
) -> RetrainOutcome:
    """Train on the corpus's training split plus every correction; keep the better of old and new."""
    training = read_examples(split="train") if training is None else training
    held_out = read_examples(split="test") if held_out is None else held_out
    target = target or classifier.trained_model_path()
    corrections = category_corrections(session)
    current = _current(target)
    if current is not None and current.trained_with.get("corrections", "0") == str(len(corrections)):
        return RetrainOutcome(False, "no new corrections", len(corrections), None, None, current.version)
    texts, labels, groups = training_data(training, corrections)
    candidate = _fit(texts, labels, groups, len(corrections))
    candidate_accuracy = accuracy(candidate, held_out)
    current_accuracy = accuracy(current, held_out) if current is not None else None
    if current_accuracy is not None and candidate_accuracy < current_accuracy:
        log.warning(
            "retrained category model refused: held-out accuracy %.3f < %.3f of the model in use",
            candidate_accuracy,
            current_accuracy,
        )
        kept = current.version if current else None
        refused = "less accurate on the held-out split"
        return RetrainOutcome(False, refused, len(corrections), current_accuracy, candidate_accuracy, kept)
    target.parent.mkdir(parents=True, exist_ok=True)
    classifier.save_atomically(candidate, target)
    version = classifier.load_model(target).version
    log.info(
        "category model %s in use: held-out accuracy %.3f (was %s), %d corrections",
        version,
        candidate_accuracy,
        "none" if current_accuracy is None else f"{current_accuracy:.3f}",
        len(corrections),
    )
    kept_up = "not less accurate"
    return RetrainOutcome(True, kept_up, len(corrections), current_accuracy, candidate_accuracy, version)


def training_data(
    training: Sequence[Example], corrections: Sequence[tuple[str, str]]
) -> tuple[list[str], list[str], list[str]]:
    """Texts, labels, and the report each text renders (a correction's copies are one report)."""
    texts = [e.text for e in training] + [text for text, _ in corrections] * CORRECTION_WEIGHT
    labels = [e.category for e in training] + [label for _, label in corrections] * CORRECTION_WEIGHT
    groups = [f"{e.category}/{e.base}" for e in training]
    groups += [f"correction/{index}" for index in range(len(corrections))] * CORRECTION_WEIGHT
    return texts, labels, groups


def _current(target: Path) -> CategoryModel | None:
    """The model in use: for the usual target, the retrained file or else the shipped one."""
    path = classifier.model_path() if target == classifier.trained_model_path() else target
    if not path.exists():
        return None
    try:
        return classifier.load_model(path)
    except UnreadableModel:
        log.error("the model in use at %s cannot be read; the retrained one will replace it", path)
        return None


def _fit(texts: list[str], labels: list[str], groups: list[str], corrections: int) -> CategoryModel:
    from nlp.training import fit_pipeline, to_category_model

    model = to_category_model(fit_pipeline(texts, labels, groups))
    return replace(model, trained_with={**model.trained_with, "corrections": str(corrections)})
