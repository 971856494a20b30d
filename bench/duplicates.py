"""Duplicate detection on the labelled pairs (nlp/data/duplicate_pairs.tsv): precision and recall of
'suggested' and of 'linked automatically' at each threshold, what happens to each kind of pair, and the
ward accuracy of the text on the corpus.

    .venv/bin/python bench/duplicates.py
"""

from __future__ import annotations

import statistics
import sys
import time
from collections import Counter
from datetime import datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.report import write_section  # noqa: E402
from nlp import duplicates, location  # noqa: E402
from nlp.corpus import read_examples  # noqa: E402

THRESHOLDS = range(50, 101, 5)


def outcome(pair: duplicates.LabelledPair) -> str:
    found = duplicates.compare(pair.first, pair.second)
    if found is None:
        return "not compared"
    return "linked" if found.automatic else "suggested" if found.suggested else "not flagged"


def main() -> None:
    pairs = duplicates.labelled_pairs()
    rows = []
    for threshold in THRESHOLDS:
        suggest = duplicates.measure(threshold, pairs)
        auto = duplicates.measure(threshold, pairs, automatic=True)
        marks = " ← suggest" if threshold == duplicates.limits().suggest_score else ""
        marks += " ← automatic link" if threshold == duplicates.limits().auto_link_score else ""
        rows.append(
            f"| {threshold}{marks} | {suggest.precision:.3f} | {suggest.recall:.3f} | {suggest.flagged} "
            f"| {auto.precision:.3f} | {auto.recall:.3f} | {auto.flagged} |"
        )
    kinds = Counter((pair.kind, pair.duplicate, outcome(pair)) for pair in pairs)
    kind_rows = []
    for kind, truth in sorted({(k, t) for k, t, _ in kinds}):
        counts = {o: n for (k, t, o), n in kinds.items() if (k, t) == (kind, truth)}
        kind_rows.append(
            f"| {kind} | {'duplicate' if truth else 'near-miss'} | {sum(counts.values())} "
            f"| {counts.get('linked', 0)} | {counts.get('suggested', 0)} | {counts.get('not flagged', 0)} "
            f"| {counts.get('not compared', 0)} |"
        )
    timings = []
    for pair in pairs:
        started = time.perf_counter()
        duplicates.compare(
            duplicates.Report(
                pair.first.text + " ",
                pair.first.category,
                None,
                None,
                pair.first.latitude,
                pair.first.longitude,
            ),
            duplicates.Report(
                pair.second.text + " ",
                pair.second.category,
                None,
                None,
                pair.second.latitude,
                pair.second.longitude,
            ),
        )
        timings.append(time.perf_counter() - started)
    examples = read_examples()
    ward_hits = [
        (found.code if found else None) == e.ward
        for e in examples
        for found in [location.find_ward(e.text, datetime.fromisoformat(e.reported_at).date())]
    ]
    positives = sum(p.duplicate for p in pairs)
    body = "\n".join(
        [
            f"{len(pairs)} labelled pairs: {positives} true duplicates worded differently, "
            f"{len(pairs) - positives} near-misses (`nlp/data/duplicate_pairs.tsv`, made by "
            "`bench/duplicate_pairs.py` from the project's own sentences, plus 40 written by hand before). "
            "'Automatic' counts a pair only when nothing forbids the link (another house number, alley or "
            f"street, pins more than {duplicates.limits().auto_link_metres:.0f} m apart, no place to"
            " compare).",
            "",
            "| threshold | suggest precision | suggest recall | flagged "
            "| automatic precision | automatic recall | linked |",
            "|---|---|---|---|---|---|---|",
            *rows,
            "",
            f"At the thresholds in force (suggest {duplicates.limits().suggest_score:.0f}, "
            f"automatic {duplicates.limits().auto_link_score:.0f}):",
            "",
            "| kind of pair | truth | pairs | linked | suggested | not flagged | not compared |",
            "|---|---|---|---|---|---|---|",
            *kind_rows,
            "",
            f"Comparing two reports (address parsing included, uncached): median "
            f"{statistics.median(timings) * 1000:.2f} ms on one core.",
            "",
            f"Ward named by the text, whole corpus ({len(ward_hits)} reports): "
            f"**{sum(ward_hits) / len(ward_hits):.3f}**. Ward from a pin cannot be measured here: no "
            "surveyed boundaries exist to compare with (GADM's may not be used); inside an imported boundary "
            "it is exact by construction, and the nearest-centre fallback is marked approximate and goes to "
            "a person.",
            "",
            "Caveat: the pairs and the synonym table in `nlp/duplicates.py` were written by the same hand, "
            "so recall here is likely higher than on reports written by citizens; precision rests on rules "
            "(house numbers, distance) that do not depend on wording.",
        ]
    )
    write_section("duplicates", "Duplicates that reason about place, and ward accuracy", body)
    print(body)


if __name__ == "__main__":
    main()
