"""The category model file: read without scikit-learn, predicting what the fitted pipeline predicts."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner
from sklearn.base import BaseEstimator
from sklearn.linear_model import LogisticRegression
from sklearn.naive_bayes import ComplementNB
from sklearn.svm import LinearSVC

from civicdesk import cli
from kernel.settings import get_settings
from nlp import classifier
from nlp.category_model import CategoryModel, UnreadableModel
from nlp.corpus import read_examples
from nlp.normalise import model_text
from nlp.training import build_pipeline, fit_pipeline, to_category_model

ROOT = Path(__file__).resolve().parents[1]

READ_SHIPPED_MODEL = """
import json, sys
from nlp.category_model import CategoryModel
from nlp.classifier import MODEL_FILE
from nlp.normalise import model_text
texts = json.load(sys.stdin)
model = CategoryModel.load(MODEL_FILE)
probabilities = model.predict_proba([model_text(t) for t in texts])
libraries = sorted(m for m in ("sklearn", "scipy", "joblib") if m in sys.modules)
answer = {"classes": model.classes, "probabilities": probabilities.tolist(), "libraries": libraries}
json.dump(answer, sys.stdout)
"""


def _texts(split: str, categories: set[str] | None = None) -> tuple[list[str], list[str]]:
    examples = [e for e in read_examples(split=split) if categories is None or e.category in categories]
    return [e.text for e in examples], [e.category for e in examples]


def _groups(split: str) -> list[str]:
    return [f"{e.category}/{e.base}" for e in read_examples(split=split)]


def test_shipped_model_is_read_without_scikit_learn_and_predicts_as_the_pipeline_it_came_from() -> None:
    """The shipped file is `civicdesk nlp train --without-corrections --output nlp/model/category.npz`:
    the corpus's training split, calibration folds grouped by hand-written report."""
    held_out, _ = _texts("test")
    read = subprocess.run(
        [sys.executable, "-c", READ_SHIPPED_MODEL],
        input=json.dumps(held_out),
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    )
    shipped = json.loads(read.stdout)
    assert shipped["libraries"] == []  # neither scikit-learn, SciPy nor a pickle loader was imported

    pipeline = fit_pipeline(*_texts("train"), _groups("train"))
    expected = pipeline.predict_proba([model_text(t) for t in held_out])
    assert shipped["classes"] == list(pipeline.classes_)
    probabilities = np.array(shipped["probabilities"])
    assert (probabilities.argmax(axis=1) == expected.argmax(axis=1)).all()
    np.testing.assert_allclose(probabilities, expected, atol=1e-5)


def test_trained_model_is_saved_under_the_given_name_and_read_back_unchanged(tmp_path: Path) -> None:
    wanted = {"street_lighting", "waste_collection", "water_supply"}
    path = tmp_path / "model.bin"
    trained = classifier.train(*_texts("train", wanted), path=path)
    assert [p.name for p in tmp_path.iterdir()] == ["model.bin"]
    loaded = CategoryModel.load(path)
    assert loaded.classes == sorted(wanted) and loaded.trained_with["scikit-learn"]
    held_out = [model_text(t) for t in _texts("test")[0]]
    assert np.array_equal(loaded.predict_proba(held_out), trained.predict_proba(held_out))
    assert classifier.predict("đèn đường phố tôi tắt cả tuần", loaded).category == "street_lighting"


@pytest.mark.parametrize(
    "estimator",
    [ComplementNB(alpha=1.0), LogisticRegression(C=20, max_iter=3000), LinearSVC(C=1.0, random_state=0)],
    ids=["naive-bayes", "logistic", "linear-svm"],
)
@pytest.mark.parametrize("categories", [2, 3])
def test_the_stored_model_gives_the_calibrated_pipelines_probabilities(
    estimator: BaseEstimator, categories: int
) -> None:
    """Each classifier, calibrated, with two categories (one calibrated score) or more (one per class); the
    texts in both views, so the block of accented words is reproduced too."""
    wanted = {"street_lighting", "water_supply", "noise"}
    texts, labels = _texts("train", set(sorted(wanted)[:categories]))
    pipeline = build_pipeline()
    pipeline.set_params(model__estimator=estimator)
    pipeline.fit([model_text(t) for t in texts], labels)
    held_out = [model_text(t) for t in _texts("test")[0]]
    stored = to_category_model(pipeline)
    assert stored.calibration is not None and len(stored.classes) == categories
    np.testing.assert_allclose(stored.predict_proba(held_out), pipeline.predict_proba(held_out), atol=1e-6)


@pytest.fixture
def broken_model(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, postgres_url: str) -> Iterator[Path]:
    path = tmp_path / "category.npz"
    monkeypatch.setenv("CIVICDESK_NLP_MODEL_PATH", str(path))
    monkeypatch.setenv("CIVICDESK_DATABASE_URL", postgres_url)
    get_settings.cache_clear()
    yield path
    get_settings.cache_clear()
    classifier.clear_cache()


def test_a_model_file_in_another_format_is_refused_with_what_to_do(broken_model: Path) -> None:
    broken_model.write_bytes(b"\x80\x04 a pickle, say from joblib")
    with pytest.raises(UnreadableModel, match="civicdesk nlp train"):
        CategoryModel.load(broken_model)
    with broken_model.open("wb") as handle:
        np.savez(handle, header=np.array(json.dumps({"format": "someone-else/9"})))
    with pytest.raises(UnreadableModel, match="format 'someone-else/9'"):
        CategoryModel.load(broken_model)

    answered = CliRunner().invoke(cli.main, ["triage"], input='{"text": "đèn đường hỏng"}\n')
    assert answered.exit_code == 2 and "civicdesk nlp train" in answered.output
    assert answered.exception is None or isinstance(answered.exception, SystemExit)
