"""`civicdesk triage` (JSON lines in, JSON lines out) and `civicdesk nlp train | eval | corpus`."""

from __future__ import annotations

import json
import sys
from datetime import datetime
from pathlib import Path
from typing import Any, TextIO

import click
from sqlalchemy.exc import OperationalError, ProgrammingError

from kernel.db import unit_of_work
from kernel.timeutil import city_tz


class SetupProblem(click.ClickException):
    exit_code = 2


def _reported_at(value: Any) -> datetime | None:
    if value in (None, ""):
        return None
    if not isinstance(value, str):
        raise ValueError("reported_at must be an ISO 8601 string")
    moment = datetime.fromisoformat(value)
    return moment if moment.tzinfo else moment.replace(tzinfo=city_tz())


def _answer(session: Any, line: str) -> dict[str, Any]:
    from routing.triage import decide

    try:
        item = json.loads(line)
    except json.JSONDecodeError as exc:
        return {"error": f"not valid JSON: {exc.msg} at column {exc.colno}"}
    if not isinstance(item, dict) or not isinstance(item.get("text"), str) or not item["text"].strip():
        return {"error": 'each line needs a non-empty "text"'}
    try:
        reported_at = _reported_at(item.get("reported_at"))
    except ValueError as exc:
        return {"error": f"reported_at: {exc}"}
    pin = [item.get("latitude"), item.get("longitude")]
    if any(v is not None and (not isinstance(v, int | float) or isinstance(v, bool)) for v in pin) or (
        (pin[0] is None) != (pin[1] is None)
    ):
        return {"error": "latitude and longitude must both be numbers, or both left out"}
    decision = decide(session, item["text"], reported_at=reported_at, latitude=pin[0], longitude=pin[1])
    answer = decision.as_json()
    return {
        key: answer[key]
        for key in (
            "category",
            "category_confidence",
            "ward",
            "ward_named",
            "department",
            "priority",
            "needs_review",
            "model_version",
            "reasons",
        )
    }


@click.command("triage")
def triage_command() -> None:
    """Triage JSON lines from standard input: {"text": ..., "reported_at": optional ISO 8601, "latitude" and
    "longitude": optional, a map pin}."""
    from nlp.category_model import UnreadableModel

    stream: TextIO = sys.stdin
    try:
        with unit_of_work() as session:
            for line in stream:
                if line.strip():
                    click.echo(json.dumps(_answer(session, line), ensure_ascii=False))
    except (FileNotFoundError, UnreadableModel) as exc:
        raise SetupProblem(str(exc)) from exc
    except UnicodeDecodeError as exc:
        raise SetupProblem(f"standard input is not UTF-8 text: {exc}") from exc


@click.group("nlp")
def nlp_group() -> None:
    """The triage model: train it, measure it, rebuild the corpus."""


@nlp_group.command("train")
@click.option("--without-corrections", is_flag=True, help="Only the corpus, not people's corrections.")
@click.option(
    "--output",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Model file to write (default: CIVICDESK_NLP_MODEL_PATH, else var_dir/models/category.npz;"
    " the shipped one is nlp/model/category.npz).",
)
def train(without_corrections: bool, output: Path | None) -> None:
    """Train the category model on the corpus's training split plus people's corrections."""
    from nlp import classifier
    from nlp.corpus import read_examples
    from routing.learning import training_data

    with click.progressbar(length=3, label="training", file=sys.stderr) as bar:
        examples = read_examples(split="train")
        bar.update(1)
        corrections = [] if without_corrections else _corrections()
        texts, labels, groups = training_data(examples, corrections)
        bar.update(1)
        target = output or classifier.trained_model_path()
        target.parent.mkdir(parents=True, exist_ok=True)
        classifier.train(texts, labels, path=target, groups=groups)
        bar.update(1)
    click.echo(f"trained on {len(examples)} corpus reports and {len(corrections)} corrections → {target}")


def _corrections() -> list[tuple[str, str]]:
    from routing.triage import category_corrections

    try:
        with unit_of_work() as session:
            return category_corrections(session)
    except (OperationalError, ProgrammingError):
        click.echo("no database to read corrections from; training on the corpus alone", err=True)
        return []


@nlp_group.command("eval")
@click.argument("path", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--split", default=None, help='Only lines whose "split" is this (e.g. test).')
def evaluate(path: Path, split: str | None) -> None:
    """Print accuracy, per-class precision/recall, the confusion matrix and ward accuracy for a labelled
    JSON-lines file ({"text", "category", optional "ward" and "reported_at"})."""
    from nlp import classifier, location
    from nlp.category_model import UnreadableModel

    rows = _labelled(path, split)
    try:
        metrics = classifier.evaluate(
            [r["text"] for r in rows], [r["category"] for r in rows], classifier.predict_many
        )
    except (FileNotFoundError, UnreadableModel) as exc:
        raise SetupProblem(str(exc)) from exc
    click.echo(f"reports: {len(rows)}\ncategory accuracy: {metrics.accuracy:.3f}")
    click.echo(f"expected calibration error: {metrics.expected_calibration_error:.3f}")
    click.echo(f"{'category':<22} {'precision':>9} {'recall':>7} {'n':>4}")
    for name, (precision, recall, support) in sorted(metrics.per_class.items()):
        click.echo(f"{name:<22} {precision:>9.2f} {recall:>7.2f} {support:>4}")
    names = sorted(metrics.confusion)
    click.echo("confusion (rows: truth, columns: predicted, in the order above)")
    for truth in names:
        click.echo(f"{truth:<22} " + " ".join(f"{metrics.confusion[truth][p]:>2}" for p in names))
    located = [r for r in rows if "ward" in r]
    if located:
        hits = 0
        for row in located:
            moment = _reported_at(row.get("reported_at")) or datetime.now(city_tz())
            found = location.find_ward(row["text"], moment.astimezone(city_tz()).date())
            hits += (found.code if found else None) == row["ward"]
        click.echo(f"ward accuracy: {hits / len(located):.3f} ({len(located)} reports)")


def _labelled(path: Path, split: str | None) -> list[dict[str, Any]]:
    rows = []
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
        except json.JSONDecodeError as exc:
            raise SetupProblem(f"{path}:{number}: not valid JSON ({exc.msg})") from exc
        if not isinstance(row, dict) or "text" not in row or "category" not in row:
            raise SetupProblem(f'{path}:{number}: each line needs "text" and "category"')
        if split is None or row.get("split") == split:
            rows.append(row)
    if not rows:
        raise SetupProblem(f"{path} has no labelled reports{' in split ' + split if split else ''}")
    return rows


@nlp_group.command("corpus")
def corpus() -> None:
    """Rebuild nlp/data/corpus.jsonl from the hand-written reports (deterministic)."""
    from nlp.corpus import CORPUS_FILE, write_corpus

    click.echo(f"{write_corpus()} labelled reports → {CORPUS_FILE}")
