"""Triage quality and speed: held-out category accuracy (per class, confusion matrix, calibration), ward
accuracy, duplicate precision/recall, and the median time to triage one report on one core.

    .venv/bin/python bench/triage.py
"""

from __future__ import annotations

import csv
import os
import statistics
import sys
import tempfile
import time
from datetime import datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
os.environ.setdefault("CIVICDESK_VAR_DIR", tempfile.mkdtemp(prefix="civicdesk-bench-"))
CATEGORIES_FILE = Path(__file__).resolve().parents[1] / "civicdesk" / "data" / "categories.csv"

from bench.report import write_section  # noqa: E402
from civicdesk import migrations, wiring  # noqa: E402
from civicdesk.db import get_engine, unit_of_work  # noqa: E402
from civicdesk.settings import get_settings  # noqa: E402
from nlp import classifier, duplicates, location  # noqa: E402
from nlp.corpus import Example, read_examples  # noqa: E402
from routing import triage  # noqa: E402
from tickets.reference import seed_reference  # noqa: E402


def main() -> None:
    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {min(os.sched_getaffinity(0))})  # one core, as the target says
    wiring.install()
    test = read_examples(split="test")
    everything = read_examples()
    metrics = classifier.evaluate([e.text for e in test], [e.category for e in test], classifier.predict_many)
    by_register: dict[str, list[bool]] = {}
    predictions = classifier.predict_many([e.text for e in test])
    for example, prediction in zip(test, predictions, strict=True):
        by_register.setdefault(example.register, []).append(prediction.category == example.category)
    model = classifier.load_model()
    sensitive = _sensitive_routing(test, predictions)
    classify_times = []
    for example in test:
        started = time.perf_counter()
        classifier.predict(example.text, model)
        classify_times.append(time.perf_counter() - started)
    ward_hits = [
        ((found.code if found else None) == e.ward)
        for e in everything
        for found in [location.find_ward(e.text, datetime.fromisoformat(e.reported_at).date())]
    ]
    pairs = {
        name: duplicates.measure(value, automatic=name == "automatic link")
        for name, value in (("suggest", duplicates.SUGGEST), ("automatic link", duplicates.AUTO_LINK))
    }

    engine = get_engine()  # the embedded PostgreSQL in the bench's own var dir, unless one is configured
    migrations.upgrade(engine)
    with unit_of_work(engine) as session:
        seed_reference(session)
    timings = []
    with unit_of_work(engine) as session:
        triage.decide(session, "warm up")
        for example in test:
            started = time.perf_counter()
            triage.decide(session, example.text, reported_at=datetime.fromisoformat(example.reported_at))
            timings.append(time.perf_counter() - started)
    engine.dispose()

    classes = sorted(metrics.confusion)
    per_class = "\n".join(
        f"| {name} | {p:.2f} | {r:.2f} | {n} |" for name, (p, r, n) in sorted(metrics.per_class.items())
    )
    abbreviations = {name: f"c{index}" for index, name in enumerate(classes)}
    confusion = "\n".join(
        f"| {abbreviations[truth]} {truth} | "
        + " | ".join(
            str(metrics.confusion[truth][p]) if metrics.confusion[truth][p] else "·" for p in classes
        )
        + " |"
        for truth in classes
    )
    suggest, automatic = pairs["suggest"], pairs["automatic link"]
    settings = get_settings()
    median, p95 = statistics.median(timings) * 1000, sorted(timings)[int(len(timings) * 0.95)] * 1000
    summary = "\n".join(
        [
            "| measure | value |",
            "|---|---|",
            f"| held-out category accuracy (model {model.version}) | **{metrics.accuracy:.3f}** |",
            "| by register | {registers} |",
            f"| expected calibration error of the confidence | {metrics.expected_calibration_error:.3f} |",
            f"| ward accuracy, whole corpus ({len(ward_hits)} reports, old and new names, typos)"
            f" | **{sum(ward_hits) / len(ward_hits):.3f}** |",
            f"| duplicates at 'suggest' ({duplicates.SUGGEST:.0f}) on {suggest.pairs} labelled pairs"
            f" | precision {suggest.precision:.2f}, recall {suggest.recall:.2f} |",
            f"| duplicates at 'automatic link' ({duplicates.AUTO_LINK:.0f})"
            f" | precision {automatic.precision:.2f}, recall {automatic.recall:.2f} |",
            "| triage of one report (classify, locate, route, look for duplicates), median on one core"
            f" | **{median:.2f} ms** (p95 {p95:.2f} ms; load average {os.getloadavg()[0]:.1f}"
            f" on {os.cpu_count()} CPUs) |",
            f"| of which classifying, median | {statistics.median(classify_times) * 1000:.2f} ms |",
            "| held-out reports the model sends to police, health or education | "
            f"{sensitive['predicted']}, of which {sensitive['wrong']} wrong |",
            f"| … routed without a person at the ordinary threshold ({settings.triage_confidence_threshold})"
            f" | {sensitive['plain_routed']}, of which {sensitive['plain_wrong']} wrong |",
            f"| … routed without a person at the sensitive threshold ({settings.triage_sensitive_threshold})"
            f" | {sensitive['routed']}, of which {sensitive['routed_wrong']} wrong |",
        ]
    )
    registers = ", ".join(f"{name} {sum(hits) / len(hits):.2f}" for name, hits in sorted(by_register.items()))
    summary = summary.replace("{registers}", registers)
    write_section(
        "triage",
        "Triage: quality and speed",
        f"""`bench/triage.py`. Corpus: {len(everything)} labelled reports in seven registers (diacritics,
formal letter, no diacritics, VIQR, teencode, phone transcript, a few words). The held-out split
({len(test)} reports: 9 sentences per category in every register) was written apart from the training
sentences and clauses, as new sentences with openings and closings of its own; it is never trained on.
Both were written by the same author, so the split is honest about phrasing but not about authorship.
The model shipped before this corpus (logistic regression on 252 reports in five registers) scores 0.602
(calibration error 0.152) on this split. The issue's target, 0.92, is not reached: the misses are
reports whose words the training sentences never use for their category (see the confusion matrix).
Timings depend on the machine's load, given beside them; classifying is a small part of triage, whose
place, duplicate and routing look-ups query PostgreSQL.

{summary}

Ward accuracy is measured on place phrases the corpus generator wrote from the gazetteer's own names,
aliases and deliberate typos: it measures normalisation and matching, not how often people name a place
the gazetteer does not know.

Per class on the held-out split:

| category | precision | recall | n |
|---|---:|---:|---:|
{per_class}

Confusion matrix (rows: truth; columns: predicted, in the same order c0…c{len(classes) - 1}):

| truth | {" | ".join(abbreviations[c] for c in classes)} |
|---|{"---|" * len(classes)}
{confusion}""",
    )
    print(
        f"held-out accuracy {metrics.accuracy:.3f}; median triage {statistics.median(timings) * 1000:.2f} ms"
    )


def _sensitive_routing(test: list[Example], predictions: list[classifier.Prediction]) -> dict[str, int]:
    """How many held-out reports the model would send to a sensitive department, how many of those are
    wrong, and how many of each the ordinary and the sensitive threshold let through without a person."""
    with CATEGORIES_FILE.open(encoding="utf-8") as handle:
        department = {row["code"]: row["department"] for row in csv.DictReader(handle)}
    ordinary = get_settings().triage_confidence_threshold
    counts = dict.fromkeys(("predicted", "wrong", "plain_routed", "plain_wrong", "routed", "routed_wrong"), 0)
    for example, prediction in zip(test, predictions, strict=True):
        threshold, sensitive = triage.confidence_threshold(department[prediction.category])
        if not sensitive:
            continue
        wrong = prediction.category != example.category
        counts["predicted"] += 1
        counts["wrong"] += wrong
        counts["plain_routed"] += prediction.confidence >= ordinary
        counts["plain_wrong"] += wrong and prediction.confidence >= ordinary
        counts["routed"] += prediction.confidence >= threshold
        counts["routed_wrong"] += wrong and prediction.confidence >= threshold
    return counts


if __name__ == "__main__":
    main()
