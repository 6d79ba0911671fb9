"""The report: report.md, results.csv and the figures, built from the result alone."""

import dataclasses

import numpy as np

from skvision.compare import ComparisonResult


def test_report_is_written_with_its_figures(two_sets, tmp_path):
    report = two_sets.write_report(tmp_path / "out", embedding="pca", notes=["a note"])
    text = report.read_text()
    assert "| pixels |" in text and "- a note" in text
    images = [line.split("](")[1].rstrip(")") for line in text.splitlines() if line.startswith("![")]
    assert {"scores.png", "confusion_pixels.png", "embedding_pca8.png", "errors_pixels.png"} <= set(images)
    for name in images:
        assert (tmp_path / "out" / name).stat().st_size > 1000
    assert (tmp_path / "out" / "results.csv").exists()
    assert not any(name.startswith("training_") for name in images), "no network was trained"


def test_training_curves_come_from_the_recorded_history_not_the_fitted_models(two_sets, tmp_path):
    """The report reads the result only: a history recorded there is drawn, with no fitted model at hand."""
    history = [
        {"epoch": 1, "train_loss": 1.0, "valid_loss": 1.2, "dur": 0.1},
        {"epoch": 2, "train_loss": 0.5, "valid_loss": 0.9, "dur": 0.1},
    ]
    pixels = dataclasses.replace(two_sets.results["pixels"], estimators=[], training_history=history)
    result = ComparisonResult(
        {"pixels": pixels},
        skipped={"cnn": "not available in this installation"},
        task=two_sets.task,
        scoring=two_sets.scoring,
        X=two_sets.X,
        target_names=two_sets.target_names,
    )
    text = result.write_report(tmp_path, embedding=None).read_text()
    assert "![training curves of pixels](training_pixels.png)" in text
    assert (tmp_path / "training_pixels.png").stat().st_size > 1000
    assert "- **cnn**: not available in this installation" in text


def test_an_empty_comparison_still_writes_its_table(tmp_path):
    result = ComparisonResult(
        {},
        skipped={"hog": "failed: ValueError"},
        task="classification",
        scoring="accuracy",
        X=np.zeros((2, 8, 8)),
    )
    text = result.write_report(tmp_path).read_text()
    assert text.rstrip().endswith("No feature set ran.") and "**hog**" in text
    assert (tmp_path / "results.csv").read_text().startswith("feature set")
