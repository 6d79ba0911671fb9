"""The report: report.md, results.csv and the figures, built from the result alone."""

import dataclasses
import re

import numpy as np
import pytest

from skvision.compare import ComparisonResult


def test_report_is_written_with_its_figures(two_sets, tmp_path):
    folder = "Image folder 'x': 4 images.\n  cats: 2 images\n  dogs: 2 images\nLeft out: 1 bad files."
    report = two_sets.write_report(tmp_path / "out", embedding="pca", notes=["a note", folder])
    text = report.read_text()
    assert "| pixels |" in text and "- a note" in text
    # A folder's DESCR keeps its lines: nested bullets, not one run-on paragraph.
    nested = "- Image folder 'x': 4 images.\n  - cats: 2 images\n  - dogs: 2 images\n  - Left out: 1 bad"
    assert nested in text
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


def test_html_report_is_self_contained_with_every_figure(two_sets, tmp_path):
    import re

    report = two_sets.write_report(tmp_path, embedding="pca", title="digits <check>")
    markdown = report.read_text()
    page = (tmp_path / "report.html").read_text()
    figures = [line for line in markdown.splitlines() if line.startswith("![")]
    images = re.findall(r'<img src="([^"]*)"', page)
    assert len(images) == len(figures) and all(src.startswith("data:image/png;base64,") for src in images)
    links = re.findall(r'(?:src|href)="([^"]*)"', page)
    assert all(link.startswith(("data:", "#")) for link in links), "nothing loaded from elsewhere"
    assert "<script src" not in page and "http" not in page and "@import" not in page
    assert "<title>digits &lt;check&gt;</title>" in page, "text is escaped"
    assert '<table class="sortable">' in page and 'href="#fs-pixels"' in page and 'id="fs-pca8"' in page
    assert page.count('class="tab-panel"') == len(figures) - 1  # every figure but the score bars is in a tab


def test_markdown_report_marks_significance_and_the_per_class_view(two_sets, tmp_path):
    text = two_sets.write_report(tmp_path, embedding=None).read_text()
    tests = two_sets.significance()
    lines = text.splitlines()
    # The title, the software line, then the scores' table.
    assert lines[2].startswith("- software: skvision ") and "| vs best |" in lines[6]
    assert f"| {tests.best} |" in text and "best |" in text
    assert "Nadeau & Bengio's corrected resampled t-test" in text and "p-values unadjusted (one pair)" in text
    assert "## Per class" in text and "| class | n | pixels P / R | pca8 P / R | best F1 |" in text
    per_class = two_sets.per_class()
    assert per_class.to_markdown() in text


def test_html_report_can_be_left_out(two_sets, tmp_path):
    two_sets.write_report(tmp_path, embedding=None, html=False)
    assert (tmp_path / "report.md").exists() and not (tmp_path / "report.html").exists()


def test_regression_report_has_predictions_and_no_per_class_view(digits, tmp_path):
    from sklearn.linear_model import Ridge
    from sklearn.preprocessing import FunctionTransformer

    from skvision import compare_features

    from .conftest import flatten

    X, y = digits
    target = y + 0.1 * X.reshape(len(X), -1).mean(axis=1)
    features = {
        "pixels": FunctionTransformer(flatten),
        "means": FunctionTransformer(lambda a: a.mean(axis=2)),
    }
    result = compare_features(X, target, features, estimator="logreg", cv=3)
    text = result.write_report(tmp_path, embedding=None).read_text()
    assert result.scoring == "r2" and "## Per class" not in text and "vs best" in text
    page = (tmp_path / "report.html").read_text()
    assert ">Predictions</button>" in page and "Per class" not in page
    # Whole-number regression targets (here y itself) are mapped on a colour bar, not as classes.
    whole = compare_features(X, y.astype(float), features, estimator=Ridge(), cv=3)
    assert whole.task == "regression"
    display = whole.plot_embedding("means", method="pca")
    assert display.ax_.get_legend() is None and len(display.figure_.axes) == 2


def test_feature_sets_on_different_splits_get_no_marks(two_sets, tmp_path):
    short = dataclasses.replace(two_sets.results["pca8"], scores=two_sets.results["pca8"].scores[:2])
    result = ComparisonResult(
        {"pixels": two_sets.results["pixels"], "pca8": short},
        skipped={},
        task=two_sets.task,
        scoring=two_sets.scoring,
        X=two_sets.X,
    )
    assert "vs best" not in str(result).splitlines()[0]
    assert "vs best" not in result.write_report(tmp_path, embedding=None).read_text()


def test_figures_drawn_in_worker_processes_make_the_same_report(two_sets, tmp_path):
    serial_stages, parallel_stages = [], []
    serial = two_sets.write_report(tmp_path / "one", html=False, progress=serial_stages.append)
    parallel = two_sets.write_report(tmp_path / "two", n_jobs=2, html=False, progress=parallel_stages.append)
    assert parallel.read_text() == serial.read_text()
    serial_files = sorted(path.name for path in (tmp_path / "one").iterdir())
    assert sorted(path.name for path in (tmp_path / "two").iterdir()) == serial_files
    assert "embedding_pca8.png" in serial_files and "errors_pixels.png" in serial_files
    assert ".skvision-report" in serial_files  # the mark that keeps an image folder from reading it
    for name in serial_files:
        if name != ".skvision-report":
            assert (tmp_path / "two" / name).stat().st_size > 100
    assert "t-SNE map of pca8 (80 points)" in serial_stages
    assert parallel_stages[1] == "writing the figures of 2 feature sets in 2 processes"
    assert sorted(parallel_stages[2:]) == ["wrote the figures: pca8", "wrote the figures: pixels"]
    # Only a copy without fitted models travels to a worker.
    from skvision.compare._report import _one_feature_set

    one = _one_feature_set(two_sets, "pca8")
    assert list(one.results) == ["pca8"] and one.results["pca8"].estimators == []
    assert two_sets.results["pca8"].estimators, "the caller's result keeps its models"


def test_names_the_font_cannot_draw_give_one_warning_not_one_per_glyph(two_sets, tmp_path):
    import warnings

    from skvision.compare._report import glyphs_missing

    names = np.array(["零", "一", "two", "three", "four", "five", "six", "seven", "eight", "nine"])
    fonts, missing = glyphs_missing(["skvision", *names, "é"])
    assert missing == ["一", "零"] and fonts  # DejaVu Sans, matplotlib's own, draws é but no CJK
    result = _with_class_names(two_sets, names)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        text = result.write_report(tmp_path, embedding="pca", html=False).read_text()
    messages = [str(w.message) for w in caught if issubclass(w.category, UserWarning)]
    assert not [m for m in messages if m.startswith("Glyph")], "matplotlib's own warnings are replaced"
    ours = [m for m in messages if "has no glyph" in m]
    assert len(ours) == 1 and "2 characters" in ours[0] and "(一零)" in ours[0]
    assert "零" in text  # the markdown keeps the names


def test_the_command_prints_its_own_warnings_as_one_line(monkeypatch, capsys):
    import warnings

    from skvision import cli

    def warn(args):  # as if raised in skvision's code, then in another library's
        warnings.warn_explicit("something the user should know", UserWarning, cli.__file__, 1)
        warnings.warn_explicit("a library's warning", RuntimeWarning, "/elsewhere/library.py", 1)
        return 0

    monkeypatch.setattr(cli, "_run_compare", warn)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        assert cli.main(["compare"]) == 0
    assert capsys.readouterr().err == "skvision compare: warning: something the user should know\n"
    # Other warnings go on to Python's own display (here the recorder).
    assert [(w.category, str(w.message)) for w in caught] == [(RuntimeWarning, "a library's warning")]


def test_a_report_written_over_another_leaves_none_of_its_figures(two_sets, tmp_path, monkeypatch):
    # From Python (the CLI deletes them first): a report of one feature set written over one of two
    # kept confusion_pca8.png, embedding_pca8.png and errors_pca8.png, no longer linked.
    from skvision.compare import _report

    two_sets.write_report(tmp_path, embedding="pca", html=False)
    assert (tmp_path / "confusion_pca8.png").is_file()
    (tmp_path / "notes.txt").write_text("mine")
    one = ComparisonResult(
        {"pixels": two_sets.results["pixels"]},
        skipped={},
        scoring=two_sets.scoring,
        task=two_sets.task,
        target_names=two_sets.target_names,
        X=two_sets.X,
    )
    one.write_report(tmp_path, embedding=None, html=False)
    names = sorted(p.name for p in tmp_path.iterdir())
    assert not [name for name in names if "pca8" in name or name.startswith("embedding_")], names
    assert (
        "notes.txt" in names and "confusion_pixels.png" in names and ".skvision-previous-report" not in names
    )
    # A report that fails while being written leaves the earlier one as it was.
    before = sorted(p.name for p in tmp_path.iterdir())

    def failing(*args, **kwargs):
        (tmp_path / "results.csv").write_text("half")
        raise OSError("disk full")

    monkeypatch.setattr(_report, "_write_report", failing)
    with pytest.raises(OSError, match="disk full"):
        two_sets.write_report(tmp_path, html=False)
    assert sorted(p.name for p in tmp_path.iterdir()) == before
    assert (tmp_path / "report.md").read_text().count("pixels") > 0


def test_class_names_and_notes_show_as_written_in_the_markdown(two_sets, tmp_path):
    """A class folder 'x|y' split its per-class row (every number one column right of its header), and
    '<i>it&amp;' rendered as italics; the notes' names too."""
    names = np.array(
        ["x|y", "<i>it&amp;", "a*b*", "[link](z)", "five", "six", "seven", "eight", "nine", "ten"]
    )
    result = _with_class_names(two_sets, names)
    text = result.write_report(
        tmp_path, embedding=None, html=False, notes=["classes x|y, <i>it&amp;"]
    ).read_text()
    table = [line for line in text.splitlines() if re.match(r"\| .* \| \d+ \| \d\.\d\d / ", line)]
    assert len(table) == 10
    for row in table:  # unescaped pipes only between the cells: class, n, two feature sets, best F1
        assert len(re.split(r"(?<!\\)\|", row)) == 2 + 5
    assert "| x\\|y |" in text and "| &lt;i>it&amp;amp; |" in text and "| a\\*b\\* |" in text
    assert "| \\[link\\](z) |" in text
    assert "- classes x\\|y, &lt;i>it&amp;amp;" in text


def test_embedding_none_is_spelled_as_the_command_spells_it_and_the_error_sample_is_said(two_sets, tmp_path):
    text = two_sets.write_report(tmp_path, embedding="none", html=False).read_text()
    assert "embedding_" not in text and not list(tmp_path.glob("embedding_*.png"))
    with pytest.raises(ValueError, match="embedding must be 'tsne', 'pca', 'none' or None; got 'umap'"):
        two_sets.write_report(tmp_path, embedding="umap")
    # More errors than the figure holds: the report says it shows a random sample and where the rest are.
    pca8 = two_sets.results["pca8"]
    for n_errors in (240, 3):
        y_pred = np.array(pca8.y_true, copy=True)
        y_pred[:n_errors] = (y_pred[:n_errors] + 1) % 10
        wrong = dataclasses.replace(pca8, y_pred=y_pred)
        result = ComparisonResult(
            {"pca8": wrong}, skipped={}, task="classification", scoring="accuracy", X=two_sets.X
        )
        text = result.write_report(tmp_path / str(n_errors), embedding=None, html=False).read_text()
        line = next(line for line in text.splitlines() if line.startswith(f"{n_errors} of 240 held-out"))
        sample = "The figure shows 24 of them, drawn at random; misclassified.csv lists all."
        assert (sample in line) == (n_errors > 24), line


def test_a_class_never_predicted_has_no_precision_not_a_precision_of_0(two_sets, tmp_path):
    """0 / 0 read "0.00", as if every prediction of the class had been wrong."""
    pca8 = two_sets.results["pca8"]
    y_pred = np.where(pca8.y_true == 1, 0, pca8.y_true)  # class 1 never predicted, class 0 half wrong
    result = ComparisonResult(
        {"pca8": dataclasses.replace(pca8, y_pred=y_pred)},
        skipped={},
        task="classification",
        scoring="accuracy",
        X=two_sets.X,
        target_names=[str(d) for d in range(10)],
    )
    per_class = result.per_class()
    n0, n1 = (np.asarray(pca8.y_true) == 0).sum(), (np.asarray(pca8.y_true) == 1).sum()
    assert per_class.cell(0, 1) == "- / 0.00"
    assert per_class.cell(0, 0) == f"{n0 / (n0 + n1):.2f} / 1.00" and per_class.cell(0, 2) == "1.00 / 1.00"
    text = result.write_report(tmp_path, embedding=None).read_text()
    assert "| 1 | " in text and "| - / 0.00 | none (F1 0) |" in text
    assert "- / 0.00" in (tmp_path / "report.html").read_text()


def _with_class_names(result, names):
    """``result`` with other class names."""
    return ComparisonResult(
        result.results,
        skipped={},
        task=result.task,
        scoring=result.scoring,
        X=result.X,
        target_names=names,
    )
