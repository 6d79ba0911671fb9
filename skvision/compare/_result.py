"""What a comparison found: the result of each feature set, the table, and the pictures.

:class:`ComparisonResult` holds everything the report needs; the report builder
(``_report.py``) reads it and nothing else.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

__all__ = ["FeatureResult", "ComparisonResult"]


@dataclass
class FeatureResult:
    """The cross-validation of one feature set.

    Attributes
    ----------
    name : str
    n_features : int
        Width of the feature vectors.
    scores : ndarray of shape (n_folds,)
        Test score per fold.
    fit_times : ndarray of shape (n_folds,)
        Seconds to fit the whole pipeline per fold.
    transform_seconds : float
        Seconds spent computing the features of every test fold.
    n_transformed : int
        Test images described in that time.
    y_true, y_pred : ndarray
        Targets and out-of-fold predictions, fold after fold.
    test_indices : ndarray
        Index in ``X`` of each entry of ``y_true``.
    embedding : ndarray of shape (n_fold0, n_features)
        Features of the first test fold (held-out images, one fitted space).
    embedding_indices : ndarray
        Their indices in ``X``.
    estimators : list
        The fitted pipeline of each fold.
    training_history : list of dict or None
        Per-epoch entries (losses, validation scores) of the network trained in
        the first fold, for the training curves; ``None`` when no network was
        trained.
    n_train, n_test : ndarray of shape (n_folds,) or None
        Training and test set sizes of each split, in the order of ``scores``
        (the corrected t-test needs their ratio); ``None`` when not recorded,
        and then inferred from ``y_true`` and the number of images.
    """

    name: str
    n_features: int
    scores: np.ndarray
    fit_times: np.ndarray
    transform_seconds: float
    n_transformed: int
    y_true: np.ndarray
    y_pred: np.ndarray
    test_indices: np.ndarray
    embedding: np.ndarray
    embedding_indices: np.ndarray
    estimators: list = field(repr=False)
    training_history: list | None = field(default=None, repr=False)
    n_train: np.ndarray | None = field(default=None, repr=False)
    n_test: np.ndarray | None = field(default=None, repr=False)

    @property
    def throughput(self):
        """Test images described per second."""
        return self.n_transformed / self.transform_seconds if self.transform_seconds > 0 else math.inf


def _format_rate(rate):
    if not math.isfinite(rate):
        return "inf"
    return f"{rate:,.0f}" if rate >= 10 else f"{rate:.2g}"


class ComparisonResult:
    """What :func:`compare_features` found: a table, and the pictures behind it.

    ``print(result)`` shows the table; the ``plot_*`` methods draw with
    matplotlib; :meth:`write_report` writes everything to a folder.

    Attributes
    ----------
    results : dict of str -> FeatureResult
        One entry per feature set that ran, in the order given.
    skipped : dict of str -> str
        Feature sets left out, with the reason.
    task : {'classification', 'regression'}
    scoring : str
        Name of the score ('accuracy', 'r2', ...).
    target_names : ndarray or None
        Display names of the classes.
    X : array-like
        The images compared (the misclassified-image grids show them).
    kinds : dict of str -> str
        Kind of each feature set ('handcrafted', 'learned', 'baseline'), for the table.
    """

    def __init__(self, results, *, skipped, task, scoring, X, target_names=None, kinds=None):
        self.results = results
        self.skipped = skipped
        self.task = task
        self.scoring = scoring
        self.X = X
        self.target_names = target_names
        self.kinds = kinds or {}

    # ---------------------------------------------------------------- table
    def rows(self):
        """The table as a list of dicts (one per feature set), best score first."""
        rows = []
        try:
            tests = self.significance()
        except ValueError:  # feature sets scored on different splits: no test, no marks
            tests = None
        for name, r in self.results.items():
            rows.append(
                {
                    "feature set": name,
                    "kind": self.kinds.get(name, ""),
                    "dims": r.n_features,
                    f"{self.scoring} mean": float(np.mean(r.scores)),
                    f"{self.scoring} std": float(np.std(r.scores)),
                    "fit s": float(np.mean(r.fit_times)),
                    "images/s": r.throughput,
                    "p vs best (Holm)": math.nan if tests is None else tests.vs_best(name),
                    "vs best": "" if tests is None else tests.mark(name),
                }
            )
        return sorted(rows, key=lambda row: -row[f"{self.scoring} mean"])

    def best(self):
        """Name of the feature set with the highest mean score."""
        return self.rows()[0]["feature set"]

    def _table_cells(self):
        header = ["feature set", "kind", "dims", self.scoring, "fit s / fold", "transform images/s"]
        body = []
        rows = self.rows()
        for row in rows:
            body.append(
                [
                    row["feature set"],
                    row["kind"],
                    str(row["dims"]),
                    f"{row[f'{self.scoring} mean']:.3f} ± {row[f'{self.scoring} std']:.3f}",
                    f"{row['fit s']:.2f}",
                    _format_rate(row["images/s"]),
                ]
            )
        if len(body) > 1 and rows[0]["vs best"]:  # significance marks (_stats.py): best, n.s., worse + p
            from ._stats import format_p

            header.append("vs best")
            for cells, row in zip(body, rows):
                p = row["p vs best (Holm)"]
                mark = {"best": "best", "tie": "n.s.", "worse": "worse"}[row["vs best"]]
                cells.append(mark if mark == "best" else f"{mark} (p {format_p(p).replace('< ', '<')})")
        return header, body

    def __str__(self):
        header, body = self._table_cells()
        widths = [max(len(line[i]) for line in [header, *body]) for i in range(len(header))]
        right = {2, 3, 4, 5}

        def fmt(cells):
            padded = (c.rjust(w) if i in right else c.ljust(w) for i, (c, w) in enumerate(zip(cells, widths)))
            return "  ".join(padded).rstrip()

        lines = [fmt(header), "  ".join("-" * w for w in widths), *map(fmt, body)]
        lines += [f"(skipped {name}: {why})" for name, why in self.skipped.items()]
        return "\n".join(lines)

    def __repr__(self):
        return f"<ComparisonResult of {len(self.results)} feature sets ({self.scoring})>\n{self}"

    def to_markdown(self):
        """The table as Markdown."""
        header, body = self._table_cells()
        align = ["---"] * 2 + ["---:"] * 4 + ["---"] * (len(header) - 6)
        lines = ["| " + " | ".join(header) + " |", "|" + "|".join(align) + "|"]
        lines += ["| " + " | ".join(row) + " |" for row in body]
        return "\n".join(lines)

    def to_csv(self, path):
        """Write the table (unformatted numbers) as CSV."""
        import csv

        rows = self.rows()
        with open(path, "w", newline="") as handle:
            writer = csv.DictWriter(handle, fieldnames=list(rows[0]) if rows else ["feature set"])
            writer.writeheader()
            writer.writerows(rows)

    # ------------------------------------------------------------- pictures
    def _display_labels(self):
        if self.target_names is None:
            return None
        return [str(name) for name in self.target_names]

    def plot_scores(self, ax=None):
        """Bar chart of the mean score of each feature set with its fold std as error bar."""
        from ..plotting import ScoresDisplay

        rows = self.rows()
        return ScoresDisplay(
            names=[row["feature set"] for row in rows],
            means=[row[f"{self.scoring} mean"] for row in rows],
            stds=[row[f"{self.scoring} std"] for row in rows],
            scoring=self.scoring,
            kinds=[row["kind"] for row in rows],
        ).plot(ax=ax)

    def plot_confusion_matrix(self, name, ax=None, **kwargs):
        """sklearn's ConfusionMatrixDisplay of the out-of-fold predictions of ``name``."""
        from sklearn.metrics import ConfusionMatrixDisplay

        from ..plotting._base import check_matplotlib

        check_matplotlib("ComparisonResult.plot_confusion_matrix")
        if self.task != "classification":
            raise ValueError(
                "Confusion matrices need a classification target; this comparison is a regression."
            )
        r = self.results[name]
        labels = np.unique(np.concatenate([r.y_true, r.y_pred]))
        display_labels = self._display_labels()
        integer_labels = np.issubdtype(labels.dtype, np.integer)
        if display_labels is not None and integer_labels and labels.max() < len(display_labels):
            display_labels = [display_labels[i] for i in labels]
        else:
            display_labels = None
        kwargs.setdefault("colorbar", False)
        kwargs.setdefault("cmap", "Blues")
        display = ConfusionMatrixDisplay.from_predictions(
            r.y_true, r.y_pred, labels=labels, display_labels=display_labels, ax=ax, **kwargs
        )
        display.ax_.set_title(f"{name}: out-of-fold predictions")
        from ..plotting._confusion import readable_confusion_matrix

        # Readable labels, unless the caller chose their rotation.
        return readable_confusion_matrix(display, rotate=False if "xticks_rotation" in kwargs else None)

    def plot_prediction_error(self, name, ax=None):
        """sklearn's PredictionErrorDisplay (predicted against true) for a regression target."""
        from sklearn.metrics import PredictionErrorDisplay

        from ..plotting._base import check_matplotlib

        check_matplotlib("ComparisonResult.plot_prediction_error")
        r = self.results[name]
        display = PredictionErrorDisplay.from_predictions(
            r.y_true, r.y_pred, kind="actual_vs_predicted", ax=ax
        )
        display.ax_.set_title(f"{name}: out-of-fold predictions")
        return display

    def plot_embedding(self, name, ax=None, method="tsne", random_state=0):
        """t-SNE (or PCA) map of the held-out features of the first fold, coloured by target."""
        from ..plotting import EmbeddingDisplay

        r = self.results[name]
        # The first fold comes first in y_true.
        return EmbeddingDisplay.from_features(
            r.embedding,
            r.y_true[: len(r.embedding_indices)],
            method=method,
            random_state=random_state,
            target_names=self.target_names,
            title=f"{name} ({method})",
            ax=ax,
        )

    def plot_errors(self, name, max_images=24, ax=None):
        """Grid of the misclassified held-out images of ``name`` (true -> predicted)."""
        from ..plotting import ImageGridDisplay

        r = self.results[name]
        return ImageGridDisplay.from_predictions(
            self.X,
            r.y_true,
            r.y_pred,
            indices=r.test_indices,
            only_errors=True,
            max_images=max_images,
            target_names=self.target_names,
            title=f"{name}: misclassified held-out images",
            ax=ax,
        )

    # ------------------------------------------------------------ statistics
    def significance(self, alpha=0.05):
        """Every pair of feature sets tested on the same splits: corrected t-test, Holm-adjusted.

        See :func:`skvision.compare.pairwise_tests`; ``None`` with fewer than two
        feature sets.
        """
        from ._stats import pairwise_tests

        return pairwise_tests(self, alpha=alpha)

    def per_class(self):
        """Per-class precision and recall of each feature set, and the winner of each class.

        See :func:`skvision.compare.per_class_scores`; ``None`` for a regression.
        """
        from ._stats import per_class_scores

        return per_class_scores(self)

    def write_report(
        self, out_dir, *, embedding="tsne", title="skvision feature comparison", notes=(), html=True
    ):
        """Write ``report.md``, ``report.html``, ``results.csv`` and the PNG figures to ``out_dir``.

        Parameters
        ----------
        out_dir : str or path-like
            Created if needed.
        embedding : {'tsne', 'pca', None}, default='tsne'
            Method of the feature-space maps; ``None`` draws none.
        title : str
        notes : sequence of str
            Lines printed under the title (data set, options...).
        html : bool, default=True
            Also write ``report.html``: the same tables and figures in one
            self-contained page (figures embedded, no network), with a sortable
            score table and each feature set's figures in tabs.

        Returns
        -------
        path : pathlib.Path
            The Markdown report.
        """
        from ._report import write_report

        return write_report(self, Path(out_dir), embedding=embedding, title=title, notes=notes, html=html)
