"""Grouped cross-validation of the category model on the corpus's training split only: the held-out
split and the independent set are never read, so a modelling choice (features, C, weights, new training
text) can be made here without tuning against the figures BENCHMARKS.md reports.

A report's seven registers render one hand-written sentence; GroupKFold over that sentence (category and
base number) keeps them in one fold, so a fold is scored on sentences the model has not seen in any form.
Prints the mean accuracy per register over the folds, the same restricted to the training files older than
reports_train_d.tsv (the sentences every candidate is scored on alike), and the most frequent confusions.

    .venv/bin/python bench/triage_cv.py [--folds 5] [--set model__estimator__C=0.3 ...] [--without FILE]
"""

from __future__ import annotations

import argparse
import ast
import sys
import time
from collections import Counter
from pathlib import Path

import numpy as np
from sklearn.model_selection import GroupKFold

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from nlp.corpus import REGISTERS, TRAIN_FILES_BASE, Example, read_examples, training_files  # noqa: E402
from nlp.normalise import model_text  # noqa: E402
from nlp.training import build_pipeline  # noqa: E402
from routing.learning import training_data  # noqa: E402

NEWEST_SCORED_FILE = "reports_train_c.tsv"  # sentences of files after this one are trained on, not scored


def first_base(name: str) -> int:
    """The first base number of a training file's reports (nlp.corpus.examples numbers them so)."""
    index = training_files().index(name)
    return 0 if index == 0 else TRAIN_FILES_BASE + 1000 * (index - 1)


def parse_settings(pairs: list[str]) -> dict[str, object]:
    """'model__estimator__C=0.3' → {'model__estimator__C': 0.3}: values are Python literals."""
    settings: dict[str, object] = {}
    for pair in pairs:
        name, _, value = pair.partition("=")
        try:
            settings[name] = ast.literal_eval(value)
        except (ValueError, SyntaxError):
            settings[name] = value
    return settings


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--folds", type=int, default=5)
    parser.add_argument("--set", action="append", default=[], help="a pipeline parameter, name=value")
    parser.add_argument("--without", action="append", default=[], help="leave a training file out")
    parser.add_argument("--fast", action="store_true", help="the bare SVM, without calibration (argmax only)")
    args = parser.parse_args()

    examples = read_examples(split="train")
    for name in args.without:
        start = first_base(name)
        examples = [e for e in examples if not start <= e.base < start + 1000]
    texts, labels, groups = training_data(examples, [])
    prepared = np.array([model_text(text) for text in texts], dtype=object)
    label_array = np.array(labels)
    scored_below = first_base(NEWEST_SCORED_FILE) + 1000
    predicted = np.empty(len(texts), dtype=object)
    started = time.perf_counter()
    for fold, (train, test) in enumerate(GroupKFold(args.folds).split(prepared, label_array, groups)):
        pipeline = build_pipeline()
        if args.fast:
            pipeline.set_params(model=pipeline.named_steps["model"].estimator)
        pipeline.set_params(**parse_settings(args.set))
        pipeline.fit(list(prepared[train]), list(label_array[train]))
        predicted[test] = pipeline.predict(list(prepared[test]))
        print(f"fold {fold + 1}/{args.folds} done, {time.perf_counter() - started:.0f} s", file=sys.stderr)
    report(examples, predicted, scored_below, args)


def report(
    examples: list[Example], predicted: np.ndarray, scored_below: int, args: argparse.Namespace
) -> None:
    right = np.array([p == e.category for p, e in zip(predicted, examples, strict=True)])
    old = np.array([e.base < scored_below for e in examples])
    registers = np.array([e.register for e in examples])
    without = f"; without {', '.join(args.without)}" if args.without else ""
    uncalibrated = "; uncalibrated" if args.fast else ""
    settings = args.set or "as shipped"
    print(f"grouped {args.folds}-fold CV on the training split; settings {settings}{without}{uncalibrated}")
    print("| examples | all | " + " | ".join(REGISTERS) + " |")
    print("|---|---:|" + "---:|" * len(REGISTERS))
    for title, mask in (
        ("every training report", np.ones_like(old)),
        (f"files up to {NEWEST_SCORED_FILE}", old),
    ):
        cells = [f"{right[mask & (registers == r)].mean():.3f}" for r in REGISTERS]
        print(f"| {title} ({mask.sum()}) | {right[mask].mean():.3f} | " + " | ".join(cells) + " |")
    confusions = Counter((e.category, p) for p, e in zip(predicted, examples, strict=True) if p != e.category)
    print("most frequent confusions (truth → predicted: count):")
    for (truth, guess), count in confusions.most_common(25):
        print(f"  {truth} → {guess}: {count}")


if __name__ == "__main__":
    main()
