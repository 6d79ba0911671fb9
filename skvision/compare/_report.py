"""Write a comparison to a folder: report.md, results.csv and the figures.

The builder reads the :class:`~skvision.compare.ComparisonResult` and nothing
else: what a picture needs (predictions, held-out features, the training
history of a network) the workflow recorded in the result.
"""

from __future__ import annotations

import re
from pathlib import Path

from ..plotting._base import check_matplotlib

__all__ = ["write_report"]


def _slug(name):
    return re.sub(r"[^A-Za-z0-9_.-]+", "_", name)


def _figure(size):
    # A bare Figure (no pyplot): nothing is shown, nothing leaks between figures.
    from matplotlib.figure import Figure

    figure = Figure(figsize=size, dpi=110)
    return figure, figure.subplots()


def _save(figure, path):
    figure.tight_layout()
    figure.savefig(path)
    return path.name


def write_report(
    result, out_dir: Path, *, embedding="tsne", title="skvision feature comparison", notes=(), progress=None
):
    """Write the report of a :class:`~skvision.compare.ComparisonResult` (see its ``write_report``)."""
    stage = progress or (lambda message: None)
    check_matplotlib("ComparisonResult.write_report")
    if embedding not in ("tsne", "pca", None):
        raise ValueError(f"embedding must be 'tsne', 'pca' or None; got {embedding!r}.")
    out_dir.mkdir(parents=True, exist_ok=True)
    lines = [f"# {title}", ""]
    lines += [f"- {note}" for note in notes]
    lines += ["", "## Scores", "", result.to_markdown(), ""]
    if result.skipped:
        lines += ["Left out:", ""] + [f"- **{name}**: {why}" for name, why in result.skipped.items()] + [""]
    if result.tuning:
        lines += ["## Tuned settings", "", result.tuning_markdown(), ""]
    result.to_csv(out_dir / "results.csv")
    result.to_fold_csv(out_dir / "fold-scores.csv")
    if not result.results:
        path = out_dir / "report.md"
        path.write_text("\n".join(lines + ["No feature set ran."]) + "\n")
        return path

    stage("writing the figures: scores")
    figure, ax = _figure((7, 1.6 + 0.42 * len(result.results)))
    result.plot_scores(ax=ax)
    lines += [f"![scores]({_save(figure, out_dir / 'scores.png')})", ""]

    n_classes = len(result.target_names) if result.target_names is not None else None
    for row in result.rows():
        name = row["feature set"]
        slug = _slug(name)
        lines += [f"## {name}", ""]
        r = result.results[name]
        lines += [
            f"{r.n_features} features; {result.scoring} per fold: " + ", ".join(f"{s:.3f}" for s in r.scores),
            "",
        ]
        stage(f"writing the figures: {name}")
        if result.task == "classification":
            side = 4.5 if not n_classes or n_classes <= 10 else 0.45 * n_classes
            figure, ax = _figure((side, side))
            result.plot_confusion_matrix(name, ax=ax)
            lines.append(f"![confusion matrix of {name}]({_save(figure, out_dir / f'confusion_{slug}.png')})")
        else:
            figure, ax = _figure((4.5, 4.5))
            result.plot_prediction_error(name, ax=ax)
            lines.append(f"![predictions of {name}]({_save(figure, out_dir / f'predictions_{slug}.png')})")
        if embedding is not None and len(r.embedding) >= 3:
            stage(f"{'t-SNE' if embedding == 'tsne' else 'PCA'} map of {name} ({len(r.embedding)} points)")
            figure, ax = _figure((5.5, 4.5))
            result.plot_embedding(name, ax=ax, method=embedding)
            lines.append(f"![feature map of {name}]({_save(figure, out_dir / f'embedding_{slug}.png')})")
        if result.task == "classification" and _has_images(result.X):
            n_errors = int((r.y_true != r.y_pred).sum())
            shown = min(n_errors, 24)
            cols = max(1, min(8, shown))
            rows = max(1, -(-shown // cols))
            figure, ax = _figure((1.3 * cols + 0.4, 1.45 * rows + 0.6))
            result.plot_errors(name, ax=ax)
            lines.append(f"![misclassified by {name}]({_save(figure, out_dir / f'errors_{slug}.png')})")
            lines += ["", f"{n_errors} of {len(r.y_true)} held-out images misclassified."]
        if r.training_history:
            figure, ax = _figure((6, 3.8))
            _training_curves(r.training_history, name, ax)
            lines.append("")
            lines.append(f"![training curves of {name}]({_save(figure, out_dir / f'training_{slug}.png')})")
        lines.append("")
    path = out_dir / "report.md"
    path.write_text("\n".join(lines) + "\n")
    return path


def _has_images(X):
    import numpy as np

    return isinstance(X, np.ndarray) and X.ndim in (3, 4)


def _training_curves(history, name, ax):
    """Draw the first fold's training history."""
    from ..plotting import TrainingCurveDisplay

    return TrainingCurveDisplay.from_history(history, title=f"{name}: training (fold 1)", ax=ax)
