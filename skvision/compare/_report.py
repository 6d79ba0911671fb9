"""Write a comparison to a folder: report.md, report.html, results.csv and the figures.

The builder reads the :class:`~skvision.compare.ComparisonResult` and nothing
else: what a picture needs (predictions, held-out features, the training
history of a network) the workflow recorded in the result. ``report.html``
(``_html.py``) holds the same tables and figures in one self-contained page.
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import sys
import warnings
from dataclasses import replace
from pathlib import Path

from joblib import effective_n_jobs

from .._warnings import user_stacklevel
from ..plotting._base import check_matplotlib
from ._markdown import markdown_text
from ._scheduler import SplitScheduler, SplitTask, check_n_jobs
from ._stats import ALPHA

__all__ = ["write_report", "remove_stale_report", "mark_report_folder", "REPORT_FILES"]

#: Every file ``write_report`` writes matches one of these patterns (a test keeps them in step).
REPORT_FILES = (
    "report.md",
    "results.csv",
    "fold-scores.csv",
    "fold-assignment.csv",
    "misclassified.csv",
    "report.html",
    "ranks.csv",
    "critical_difference.png",
    "scores.png",
    "confusion_*.png",
    "predictions_*.png",
    "embedding_*.png",
    "errors_*.png",
    "training_*.png",
)


def note_lines(notes):
    r"""Markdown bullets of ``notes``; a note of several lines (a folder's ``DESCR``) nests the rest.

    Examples
    --------
    >>> note_lines(["Image folder 'x': 4 images.\n  cats: 2 images\n  dogs: 2 images", "seed 0"])
    ["- Image folder 'x': 4 images.", '  - cats: 2 images', '  - dogs: 2 images', '- seed 0']
    """
    lines = []
    for note in notes:
        first, *rest = str(note).splitlines() or [""]
        # Notes are text (folder and class names among it), not Markdown: a "|" or "<i>" shows as written.
        lines.append(f"- {markdown_text(first)}")
        # Unindented, the other lines would run into the first as one paragraph.
        lines += [f"  - {markdown_text(line.strip())}" for line in rest if line.strip()]
    return lines


def mark_report_folder(out_dir):
    """Create ``out_dir`` and mark it as a report folder, which reading an image folder leaves out.

    A report written inside the image folder it describes (``skvision compare
    --dataset . --out report``) would otherwise be read back by the next run:
    its figures as a class of their own, or as bad files.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> from skvision.datasets._folder import REPORT_MARKER
    >>> folder = pathlib.Path(tempfile.mkdtemp()) / "report"
    >>> mark_report_folder(folder)
    >>> (folder / REPORT_MARKER).is_file()
    True
    >>> import shutil; shutil.rmtree(folder.parent)
    """
    from ..datasets._folder import REPORT_MARKER

    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    (out_dir / REPORT_MARKER).touch()


def remove_stale_report(out_dir):
    """Delete the files of an earlier report in ``out_dir``, and only those; return their paths.

    A folder is taken for a report folder when it holds ``report.md``,
    ``results.csv`` or ``ranks.csv`` (several data sets); then every file
    matching :data:`REPORT_FILES` goes, so that no figure of an earlier run (of
    a feature set not run this time) lingers next to the new report. The
    per-data-set reports an earlier report over several data sets links to
    (its sub-folders) go the same way, and a sub-folder left empty with them.
    Other files (a ``--resume`` store among them) are never touched.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> out = pathlib.Path(tempfile.mkdtemp())
    >>> mark_report_folder(out / "faces")
    >>> _ = (out / "faces" / "report.md").write_text("# faces")
    >>> _ = (out / "report.md").write_text("- [faces](faces/report.md): best hog")
    >>> _ = (out / "ranks.csv").write_text("feature set")
    >>> _ = (out / "notes.txt").write_text("mine")
    >>> sorted(p.relative_to(out).as_posix() for p in remove_stale_report(out))
    ['faces/.skvision-report', 'faces/report.md', 'ranks.csv', 'report.md']
    >>> sorted(p.name for p in out.iterdir())
    ['notes.txt']
    >>> import shutil; shutil.rmtree(out)
    """
    from ..datasets._folder import REPORT_MARKER

    out_dir = Path(out_dir)
    if not any((out_dir / name).is_file() for name in ("report.md", "results.csv", "ranks.csv")):
        return []
    linked = []
    if (out_dir / "ranks.csv").is_file() and (out_dir / "report.md").is_file():
        text = (out_dir / "report.md").read_text(errors="replace")
        linked = sorted(set(re.findall(r"\]\(([A-Za-z0-9_][A-Za-z0-9_.-]*)/report\.md\)", text)))
    removed = []
    for pattern in REPORT_FILES:
        for path in sorted(out_dir.glob(pattern)):
            if path.is_file() or path.is_symlink():
                path.unlink()
                removed.append(path)
    for name in linked:
        sub = out_dir / name
        if sub.is_symlink() or not (sub / REPORT_MARKER).is_file():
            continue  # not a folder a report wrote
        removed += remove_stale_report(sub)
        if {path.name for path in sub.iterdir()} == {REPORT_MARKER}:
            (sub / REPORT_MARKER).unlink()
            removed.append(sub / REPORT_MARKER)
            sub.rmdir()
    return removed


def _slug(name):
    return re.sub(r"[^A-Za-z0-9_.-]+", "_", name)


def _figure(size):
    # A bare Figure (no pyplot): nothing is shown, nothing leaks between figures.
    from matplotlib.figure import Figure

    figure = Figure(figsize=size, dpi=110)
    return figure, figure.subplots()


def _save(figure, path):
    with warnings.catch_warnings():
        # One warning for the whole report says which characters show as boxes (glyphs_missing).
        warnings.filterwarnings("ignore", message=r"Glyph \d+ .* missing from", category=UserWarning)
        figure.tight_layout()
        figure.savefig(path)
    return path.name


def glyphs_missing(texts):
    """The fonts of matplotlib's ``font.family``, and the characters of ``texts`` none of them can draw.

    matplotlib draws such a character as a box, with a warning per character and
    figure; the report gives one warning instead.

    Returns
    -------
    fonts : list of str
        The family names of the fonts found.
    missing : list of str
        The characters missing from all of them, sorted.

    Examples
    --------
    >>> glyphs_missing(["cat", "dog"])[1]
    []
    """
    wanted = {char for text in texts for char in str(text) if ord(char) > 127 and not char.isspace()}
    if not wanted:
        return [], []
    from matplotlib import font_manager, rcParams
    from matplotlib.ft2font import FT2Font

    fonts, covered = [], set()
    for family in rcParams["font.family"]:
        with contextlib.suppress(Exception):  # a family with no installed font draws nothing
            font = FT2Font(
                font_manager.findfont(font_manager.FontProperties(family=[family]), fallback_to_default=False)
            )
            fonts.append(font.family_name)
            covered.update(font.get_charmap())
    return fonts, sorted(char for char in wanted if ord(char) not in covered)


def significance_lines(tests):
    """Markdown lines that say how the "vs best" column was computed, and the pairwise p-values."""
    if tests is None:
        return []
    others = tests.tied_with_best[1:]  # the best first: not "worse than" itself
    return [
        f"*vs best* ({tests.best}): {significance_text(tests)} Not significantly worse than {tests.best}: "
        f"{', '.join(others) if others else 'none'}.",
        "",
        "<details><summary>Every pair (Holm-adjusted p-values)</summary>",
        "",
        tests.to_markdown(),
        "",
        "</details>",
        "",
    ]


def significance_text(tests):
    """How the "vs best" column was computed, in one paragraph (plain text)."""
    n = tests.n_splits
    n_pairs = len(tests.names) * (len(tests.names) - 1) // 2
    adjusted = f"Holm-adjusted over the {n_pairs} pairs" if n_pairs > 1 else "unadjusted (one pair)"
    text = (
        f"Nadeau & Bengio's corrected resampled t-test of each feature set against the best on the same {n} "
        f"splits (variance factor 1/{n} + n_test/n_train = 1/{n} + {tests.test_train_ratio:.3g}), p-values "
        f"{adjusted}; n.s.: not "
        f"significantly worse than the best at alpha = {tests.alpha:g} (which is not proof of a tie)."
    )
    if n < 10:
        text += (
            f" With {n} splits the test has little power: only large differences count as significant "
            "(--repeats R gives R x the folds as splits)."
        )
    return text


def per_class_lines(per_class, n_repeats=1):
    """The per-class section of report.md."""
    if per_class is None:
        return []
    wins = per_class.wins()
    summary = ", ".join(f"{name} {count}" for name, count in sorted(wins.items(), key=lambda kv: -kv[1]))
    pooled = (
        f" of all {n_repeats} repeats pooled (n: images per class in one repeat)" if n_repeats > 1 else ""
    )
    return [
        "## Per class",
        "",
        f"Precision / recall of each feature set on each class, from the out-of-fold predictions{pooled}; "
        f"the winner of a class has the highest F1 there (precision -: the class was never predicted). "
        f"Classes won (ties count for each): {summary}.",
        "",
        per_class.to_markdown(),
        "",
    ]


def write_report(
    result,
    out_dir: Path,
    *,
    embedding="tsne",
    title="skvision feature comparison",
    notes=(),
    html=True,
    progress=None,
    n_jobs=None,
    filenames=None,
):
    """Write the report of a :class:`~skvision.compare.ComparisonResult` (see its ``write_report``).

    Files of an earlier report in ``out_dir`` that this one does not write again
    (the figures of a feature set not in it) are deleted once it is written: a
    report of lbp alone written over one of lbp and hog kept ``confusion_hog.png``
    and the rest beside it. (``skvision compare`` deletes them first, and says so.)
    Other files in ``out_dir`` are left alone.
    """
    out_dir = Path(out_dir)
    # An earlier report's files are moved aside while this one is written, then deleted; if the
    # writing fails, those it did not replace come back.
    aside = out_dir / ".skvision-previous-report"
    earlier = _report_files(out_dir)
    if earlier:
        aside.mkdir(exist_ok=True)
        for path in earlier:
            os.replace(path, aside / path.name)
    try:
        path = _write_report(
            result,
            out_dir,
            embedding=embedding,
            title=title,
            notes=notes,
            html=html,
            progress=progress,
            n_jobs=n_jobs,
            filenames=filenames,
        )
    except BaseException:
        for old in earlier:
            if not old.exists() and (aside / old.name).exists():
                os.replace(aside / old.name, old)
        raise
    finally:
        if earlier:
            shutil.rmtree(aside, ignore_errors=True)
    return path


def _report_files(out_dir):
    """The files in ``out_dir`` that a report writes (:data:`REPORT_FILES`)."""
    if not out_dir.is_dir():
        return []
    return sorted(
        {
            path
            for pattern in REPORT_FILES
            for path in out_dir.glob(pattern)
            if path.is_file() and not path.is_symlink()
        }
    )


def software_note():
    """The versions, threads and cores a rerun of the report needs, in one line.

    A learned family's scores follow torch's thread count (its sums run in
    another order), and each library's version: a reviewer who reruns the
    command elsewhere can tell what differs.

    Examples
    --------
    >>> software_note().startswith("software: skvision ")
    True
    """
    import platform

    from .. import __version__

    parts = [f"skvision {__version__}", f"Python {platform.python_version()}"]
    for module_name, label in (
        ("numpy", "numpy"),
        ("scipy", "scipy"),
        ("sklearn", "scikit-learn"),
        ("skimage", "scikit-image"),
        ("numba", "numba"),
        ("torch", "torch"),
        ("skorch", "skorch"),
        ("timm", "timm"),
    ):
        module = sys.modules.get(module_name)
        version = getattr(module, "__version__", None)
        if version is not None:
            threads = f" ({module.get_num_threads()} threads)" if module_name == "torch" else ""
            parts.append(f"{label} {version}{threads}")
    return f"software: {', '.join(parts)}; machine: {platform.machine()}, {os.cpu_count()} cores"


def _write_report(result, out_dir, *, embedding, title, notes, html, progress, n_jobs, filenames):
    stage = progress or (lambda message: None)
    notes = [*notes, software_note()]
    check_matplotlib("ComparisonResult.write_report")
    n_jobs = check_n_jobs(n_jobs)
    if embedding == "none":  # the command's spelling
        embedding = None
    if embedding not in ("tsne", "pca", None):
        raise ValueError(f"embedding must be 'tsne', 'pca', 'none' or None; got {embedding!r}.")
    mark_report_folder(out_dir)
    names = [] if result.target_names is None else list(result.target_names)
    fonts, missing = glyphs_missing([title, *names, *result.results])
    if missing:
        warnings.warn(
            f"The figures' font ({', '.join(fonts) or 'none found'}) has no glyph for "
            f"{len(missing)} characters of the class or feature-set names ({''.join(missing[:20])}"
            f"{'...' if len(missing) > 20 else ''}): the figures show them as boxes; report.md and "
            "report.html show them. Install a font that has them and name it in matplotlibrc (font.family).",
            UserWarning,
            stacklevel=user_stacklevel(),
        )
    try:
        tests = result.significance(ALPHA) if len(result.results) > 1 else None
    except ValueError:  # feature sets scored on different splits: nothing to test
        tests = None
    per_class = result.per_class()
    lines = [f"# {title}", ""]
    lines += note_lines(notes)
    lines += ["", "## Scores", "", result.to_markdown(), ""]
    lines += significance_lines(tests)
    if result.skipped:
        lines += ["Left out:", ""] + [f"- **{name}**: {why}" for name, why in result.skipped.items()] + [""]
    if result.tuning:
        lines += ["## Tuned settings", "", result.tuning_markdown(), ""]
    result.to_csv(out_dir / "results.csv")
    result.to_fold_csv(out_dir / "fold-scores.csv")
    if filenames is not None and result.X is not None and len(filenames) != len(result.X):
        raise ValueError(f"filenames has {len(filenames)} entries for {len(result.X)} images.")
    result.to_fold_assignment_csv(out_dir / "fold-assignment.csv", filenames)
    if result.task == "classification" and result.results:
        from ._result import _are_indices

        result.to_misclassified_csv(out_dir / "misclassified.csv", filenames)
        lines += [
            "The held-out images each feature set misclassified (first repeat) are listed, "
            f"{'by index' if _are_indices(filenames) else 'by file'}, in misclassified.csv.",
            "",
        ]
    figures = {}
    if not result.results:
        path = out_dir / "report.md"
        path.write_text("\n".join(lines + ["No feature set ran."]) + "\n")
        if html:
            from ._html import write_comparison_html

            write_comparison_html(result, out_dir, title=title, notes=notes, figures=figures, tests=tests)
        return path

    stage("writing the figures: scores")
    figure, ax = _figure((7, 1.6 + 0.42 * len(result.results)))
    result.plot_scores(ax=ax)
    scores_png = _save(figure, out_dir / "scores.png")
    lines += [f"![scores]({scores_png})", ""]
    lines += per_class_lines(per_class, max((r.n_repeats for r in result.results.values()), default=1))

    for name, (section, shown) in _family_sections(result, out_dir, embedding, n_jobs, stage):
        lines += section
        figures[name] = shown
    path = out_dir / "report.md"
    path.write_text("\n".join(lines) + "\n")
    if html:
        from ._html import write_comparison_html

        stage("writing report.html")
        write_comparison_html(
            result,
            out_dir,
            title=title,
            notes=notes,
            figures=figures,
            tests=tests,
            per_class=per_class,
            scores_png=scores_png,
        )
    return path


#: The figures of a feature set's section, in the order the section shows them.
_PIECES = ("predictions", "map", "errors", "training")


def _family_sections(result, out_dir, embedding, n_jobs, stage):
    """``(name, (markdown lines, figures shown))`` of each feature set, in the table's order.

    With ``n_jobs`` >= 2 the figures are drawn and saved in ``n_jobs``
    processes: each feature set's map (t-SNE above all, the longest figure) in
    one task, its other figures in another, so that the processes finish
    together. Only a copy of the result holding that feature set, without its
    fitted models, travels to a worker (the images too, memory-mapped by
    joblib when large).
    """
    names = [row["feature set"] for row in result.rows()]
    if n_jobs is None or effective_n_jobs(n_jobs) < 2 or len(names) < 2:
        for name in names:
            yield name, _family_section(result, name, out_dir, embedding, stage)
        return
    # The comparison's worker processes, still alive, take the tasks (main process too).
    scheduler = SplitScheduler(
        n_jobs, worker_function=_family_pieces, start_cost=0.0, modules=None, rc_params=True
    )
    processes = min(scheduler.processes, len(names))
    stage(f"writing the figures of {len(names)} feature sets in {processes} processes")
    drawn = {name: {} for name in names}
    groups, n_tasks = {}, 0  # tasks not finished per feature set; tasks queued
    try:
        for name in names:
            r = result.results[name]
            one = _one_feature_set(result, name)
            # The map's cost grows with the points mapped; each other figure is about a second.
            mapped = embedding is not None and len(r.embedding) >= 3
            tasks = [(("map",), 1.0 + len(r.embedding))] if mapped else []
            tasks.append((tuple(piece for piece in _PIECES if piece != "map"), 1.0))
            for pieces, estimate in tasks:
                groups[name] = groups.get(name, 0) + 1
                args = (one, name, out_dir, embedding, None, pieces)
                scheduler.add(SplitTask(name, n_tasks, args, {}, estimate))
                n_tasks += 1
        while scheduler.busy():
            task = scheduler.take_for_main()
            if task is not None:
                finished = [(task, _family_pieces(*task.args), None)] + scheduler.outcomes()
            else:
                finished = scheduler.outcomes(block=True)
            for task, pieces, error in finished:
                if error is not None:
                    raise error
                drawn[task.family].update(pieces)
                groups[task.family] -= 1
                if not groups[task.family]:
                    stage(f"wrote the figures: {task.family}")
    finally:
        scheduler.close(abort=any(groups.values()))
    for name in names:
        yield name, _assemble_section(result, name, drawn[name])


def _one_feature_set(result, name):
    """A copy of ``result`` with only feature set ``name``, and none of its fitted models."""
    from ._result import ComparisonResult

    return ComparisonResult(
        {name: replace(result.results[name], estimators=[])},
        skipped={},
        task=result.task,
        scoring=result.scoring,
        X=result.X,
        target_names=result.target_names,
        kinds={name: result.kinds.get(name)} if name in result.kinds else None,
        n_repeats=result.n_repeats,
        n_folds=result.n_folds,
    )


def _family_section(result, name, out_dir, embedding, stage=None):
    """Draw and save the figures of feature set ``name``; return its markdown lines and figures shown."""
    return _assemble_section(result, name, _family_pieces(result, name, out_dir, embedding, stage))


def _assemble_section(result, name, drawn):
    """The section of feature set ``name`` from its drawn pieces (``_family_pieces``), in their order."""
    r = result.results[name]
    lines = [
        f"## {name}",
        "",
        f"{r.n_features} features; {result.scoring} per fold: " + ", ".join(f"{s:.3f}" for s in r.scores),
        "",
    ]
    shown = []
    for piece in _PIECES:
        piece_lines, piece_shown = drawn.get(piece, ([], []))
        lines += piece_lines
        shown += piece_shown
    lines.append("")
    return lines, shown


def _family_pieces(result, name, out_dir, embedding, stage=None, pieces=_PIECES):
    """Draw and save the figures ``pieces`` (of ``_PIECES``) of feature set ``name``.

    Returns piece -> (markdown lines, figures shown as (title, file, caption)),
    for the pieces the data has (no map without an embedding, no training
    curves without a network).
    """
    stage = stage or (lambda message: None)
    slug = _slug(name)
    r = result.results[name]
    drawn = {}
    if "predictions" in pieces:
        stage(f"writing the figures: {name}")
        if result.task == "classification":
            figure, ax = _figure(_confusion_size(result, r))
            result.plot_confusion_matrix(name, ax=ax)
            png = _save(figure, out_dir / f"confusion_{slug}.png")
            which = _first_repeat(r)
            caption = f"Out-of-fold predictions of every held-out image{which}."
            drawn["predictions"] = (
                [f"![confusion matrix of {name}]({png})"] + ([caption] if which else []),
                [("Confusion matrix", png, caption)],
            )
        else:
            figure, ax = _figure((4.5, 4.5))
            result.plot_prediction_error(name, ax=ax)
            png = _save(figure, out_dir / f"predictions_{slug}.png")
            drawn["predictions"] = (
                [f"![predictions of {name}]({png})"],
                [("Predictions", png, "Out-of-fold predictions against the true target.")],
            )
    if "map" in pieces and embedding is not None and len(r.embedding) >= 3:
        figure, ax = _figure((5.5, 4.5))
        method = "t-SNE" if embedding == "tsne" else "PCA"
        stage(f"{method} map of {name} ({len(r.embedding)} points)")
        result.plot_embedding(name, ax=ax, method=embedding)
        png = _save(figure, out_dir / f"embedding_{slug}.png")
        caption = (
            f"{method} map of the features of the {min(len(r.embedding), 1000)} held-out images "
            "of the first fold (one fitted feature space)."
        )
        drawn["map"] = ([f"![feature map of {name}]({png})"], [("Feature map", png, caption)])
    if "errors" in pieces and result.task == "classification" and _has_images(result.X):
        n_errors = int((r.y_true != r.y_pred).sum())
        n_shown = min(n_errors, 24)
        cols = max(1, min(8, n_shown))
        rows = max(1, -(-n_shown // cols))
        figure, ax = _figure((1.3 * cols + 0.4, 1.45 * rows + 0.6))
        result.plot_errors(name, ax=ax)
        png = _save(figure, out_dir / f"errors_{slug}.png")
        summary = f"{n_errors} of {len(r.y_true)} held-out images misclassified{_first_repeat(r)}."
        if n_shown < n_errors:  # a sample: said so, and where the rest are
            summary += f" The figure shows {n_shown} of them, drawn at random; misclassified.csv lists all."
        more = f" ({n_shown} shown, true -> predicted)" if n_errors else ""
        drawn["errors"] = (
            [f"![misclassified by {name}]({png})", "", summary],
            [("Misclassified", png, summary[:-1] + more + ".")],
        )
    if "training" in pieces and r.training_history:
        figure, ax = _figure((6, 3.8))
        _training_curves(r.training_history, name, ax)
        png = _save(figure, out_dir / f"training_{slug}.png")
        drawn["training"] = (
            ["", f"![training curves of {name}]({png})"],
            [("Training curves", png, "Per-epoch losses and scores of the network of fold 1.")],
        )
    return drawn


def _first_repeat(r):
    """'' or, for a repeated k-fold, which of its predictions a figure shows (those of the first repeat)."""
    if r.n_repeats > 1:
        return f" in the first of the {r.n_repeats} repeats (the per-class table pools them all)"
    return ""


def _confusion_size(result, r):
    import numpy as np

    from ..plotting._confusion import confusion_figsize

    labels = np.unique(np.concatenate([r.y_true, r.y_pred]))
    names = result._display_labels()
    if names is not None and np.issubdtype(labels.dtype, np.integer) and labels.max() < len(names):
        return confusion_figsize([names[i] for i in labels])
    return confusion_figsize([str(label) for label in labels])


def _has_images(X):
    import numpy as np

    return isinstance(X, np.ndarray) and X.ndim in (3, 4)


def _training_curves(history, name, ax):
    """Draw the first fold's training history."""
    from ..plotting import TrainingCurveDisplay

    return TrainingCurveDisplay.from_history(history, title=f"{name}: training (fold 1)", ax=ax)
