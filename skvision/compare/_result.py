"""What a comparison found: the result of each feature set, the table, and the pictures.

:class:`ComparisonResult` holds everything the report needs; the report builder
(``_report.py``) reads it and nothing else.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from ._markdown import markdown_table

__all__ = ["FeatureResult", "ComparisonResult"]


@dataclass
class FeatureResult:
    """The cross-validation of one feature set.

    A comparison runs ``n_splits = n_repeats * n_folds`` train/test splits (one
    repeat unless ``repeats`` asks for more), repeat after repeat; the arrays
    of length ``n_splits`` below follow that order, and ``repeat_index`` /
    ``fold_index`` say which (repeat, fold) each entry is.

    Attributes
    ----------
    name : str
    n_features : int
        Width of the feature vectors (of the first split: with tuning, of the
        setting chosen there).
    scores : ndarray of shape (n_splits,)
        Test score per (repeat, fold).
    fit_times : ndarray of shape (n_splits,)
        Seconds to fit the whole pipeline per split (with tuning: the refit of
        the chosen settings on the split's training images; the search itself
        is in ``tune_seconds``).
    transform_seconds : float
        Seconds spent computing the features of the test images counted in
        ``n_transformed``: once every split has run, the pipeline fitted on
        the first split (in the main process) describes its test fold again,
        for a tenth of a second or at most 100 times, with no worker process
        running and the garbage collector off, so that the rate compares
        across feature sets, their order and ``n_jobs``. A set described once
        for all splits (``precompute``) keeps the rate of that description
        when no worker ran meanwhile.
    n_transformed : int
        Test images described in that time.
    y_true, y_pred : ndarray
        Targets and out-of-fold predictions of the first repeat, fold after
        fold (every image once with k-fold splits).
    test_indices : ndarray
        Index in ``X`` of each entry of ``y_true``.
    embedding : ndarray of shape (n_fold0, n_features)
        Features of the first test fold (held-out images, one fitted space).
    embedding_indices : ndarray
        Their indices in ``X``.
    estimators : list
        The fitted pipeline of each split; ``None`` for a split read back from
        the store of an earlier run (``compare_features(resume=True)``).
    training_history : list of dict or None
        Per-epoch entries (losses, validation scores) of the network trained in
        the first fold, for the training curves; ``None`` when no network was
        trained.
    n_train, n_test : ndarray of int, shape (n_splits,) or None
        Training and test set sizes of each split, in the order of ``scores``
        (the corrected resampled t-test needs their ratio). Default: ``n_test``
        from ``fold_test_indices`` when given; ``None`` when not recorded, and
        then the statistics infer them from ``y_true`` and the number of images.
    repeat_index, fold_index : ndarray of int, shape (n_splits,)
        The repeat and the fold (both from 0) of each split. Default: one
        repeat, folds in order.
    fold_test_indices, fold_predictions : list of ndarray or None
        Test indices and out-of-fold predictions of every split, all repeats
        (``y_pred`` holds the first repeat's only). Default: cut from
        ``test_indices`` / ``y_pred`` by ``n_test``.
    best_params : list of dict or None
        With tuning: the settings chosen by the inner search for each split,
        as parameter names of ``Pipeline([("features", ...), ("estimator",
        ...)])`` (``'features__P'``, ``'estimator__svc__C'``); ``None`` without.
    tune_scores : ndarray of shape (n_splits,) or None
        With tuning: the inner cross-validation score of the chosen settings.
    tune_seconds : ndarray of shape (n_splits,) or None
        With tuning: seconds the inner search took per split.
    warmup_seconds : float
        Seconds of the untimed warm-up (a tiny fit before the timed splits, so
        that imports, compilation and lazy set-up stay out of the timings).
    n_resumed : int
        Splits read back from the store of an earlier run.
    parallel : int
        Processes its splits ran in, the main one included (1: all in the
        main process; see ``compare_features(n_jobs=...)``).
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
    repeat_index: np.ndarray | None = field(default=None, repr=False)
    fold_index: np.ndarray | None = field(default=None, repr=False)
    fold_test_indices: list | None = field(default=None, repr=False)
    fold_predictions: list | None = field(default=None, repr=False)
    best_params: list | None = field(default=None, repr=False)
    tune_scores: np.ndarray | None = field(default=None, repr=False)
    tune_seconds: np.ndarray | None = field(default=None, repr=False)
    warmup_seconds: float = field(default=0.0, repr=False)
    n_resumed: int = field(default=0, repr=False)
    parallel: int = field(default=1, repr=False)

    def __post_init__(self):
        n_splits = len(self.scores)
        if self.repeat_index is None:
            self.repeat_index = np.zeros(n_splits, dtype=int)
        if self.fold_index is None:
            self.fold_index = np.arange(n_splits)
        if self.n_test is None and self.fold_test_indices is not None:
            self.n_test = np.array([len(t) for t in self.fold_test_indices])
        if (
            self.fold_test_indices is None
            and self.n_test is not None
            and len(self.test_indices) == sum(self.n_test)
        ):
            bounds = np.cumsum(self.n_test)[:-1]
            self.fold_test_indices = np.split(np.asarray(self.test_indices), bounds)
            self.fold_predictions = np.split(np.asarray(self.y_pred), bounds)

    @property
    def n_repeats(self):
        """Number of repeats of the k-fold split."""
        return int(np.max(self.repeat_index)) + 1 if len(self.repeat_index) else 0

    @property
    def score_matrix(self):
        """The scores as an array of shape (n_repeats, n_folds): repeat r, fold k at ``[r, k]``."""
        matrix = np.full((self.n_repeats, int(np.max(self.fold_index)) + 1), np.nan)
        matrix[self.repeat_index, self.fold_index] = self.scores
        return matrix

    @property
    def throughput(self):
        """Test images described per second."""
        return self.n_transformed / self.transform_seconds if self.transform_seconds > 0 else math.inf


def _are_indices(filenames):
    """Whether ``filenames`` holds the images' indices (integers) rather than their files: also for None."""
    return filenames is None or np.asarray(filenames).dtype.kind in "iu"


def _short_param(key):
    """'features__P' -> 'P'; 'estimator__svc__C' -> 'C'; a fused set's part: 'hog: orientations'.

    Examples
    --------
    >>> _short_param("features__P"), _short_param("features__network__lr")
    ('P', 'lr')
    >>> _short_param("features__cnn__features__network__lr")
    'cnn: lr'
    >>> _short_param("features__hog__features__orientations")
    'hog: orientations'
    """
    parts = key.split("__")
    if parts[0] == "features" and len(parts) >= 4 and parts[2] == "features":
        return f"{parts[1]}: {parts[-1]}"  # a fused set's part
    return parts[-1]


#: Columns of the score table read as text (left-aligned); the others are numbers.
_TEXT_COLUMNS = frozenset({"feature set", "kind", "vs best"})


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
        Kind of each feature set ('handcrafted', 'learned', 'baseline', 'fused'), for the table.
    parts : dict of str -> tuple of str
        The parts of each fused feature set (``{'hog+cnn': ('hog', 'cnn')}``).
    n_repeats, n_folds : int
        The repeated k-fold: every feature set met the same ``n_repeats *
        n_folds`` splits.
    tuning : dict or None
        With tuning: ``{'budget': candidates per feature set, 'cv': inner
        folds, 'spaces': {name: search space}}``; ``None`` without.
    """

    def __init__(
        self,
        results,
        *,
        skipped,
        task,
        scoring,
        X,
        target_names=None,
        kinds=None,
        parts=None,
        n_repeats=1,
        n_folds=None,
        tuning=None,
    ):
        self.results = results
        self.skipped = skipped
        self.task = task
        self.scoring = scoring
        self.X = X
        self.target_names = target_names
        self.kinds = kinds or {}
        self.parts = parts or {}
        self.n_repeats = n_repeats
        if n_folds is None:
            n_folds = len(next(iter(results.values())).scores) // n_repeats if results else 0
        self.n_folds = n_folds
        self.tuning = tuning

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
                    **({"search s": float(np.mean(r.tune_seconds))} if r.tune_seconds is not None else {}),
                    "images/s": r.throughput,
                    "p vs best (Holm)": math.nan if tests is None else tests.vs_best(name),
                    "vs best": "" if tests is None else tests.mark(name),
                }
            )
        return sorted(rows, key=lambda row: -row[f"{self.scoring} mean"])

    def best(self):
        """Name of the feature set with the highest mean score."""
        return self.rows()[0]["feature set"]

    def chosen_settings(self, name):
        """The settings the inner search chose for ``name``: one ``(repeat, fold, dict)`` per split.

        The dict's keys drop the pipeline's step prefixes (``'features__P'``
        is ``'P'``, ``'estimator__svc__C'`` is ``'C'``, a fused set's
        ``'hog__features__orientations'`` is ``'hog: orientations'``). Empty
        without tuning.
        """
        r = self.results[name]
        if r.best_params is None:
            return []
        return [
            (int(rep), int(fold), {_short_param(k): v for k, v in params.items()})
            for rep, fold, params in zip(r.repeat_index, r.fold_index, r.best_params)
        ]

    def tuning_markdown(self):
        """The chosen settings per feature set and outer fold, as Markdown ('' without tuning)."""
        if not self.tuning:
            return ""
        lines = [
            f"Each family's settings were chosen on the training images of every outer fold by an "
            f"inner {self.tuning['cv']}-fold search over at most {self.tuning['budget']} candidates "
            f"(the whole grid when it is smaller, a random sample of it otherwise).",
            "",
            "| feature set | repeat | fold | chosen settings | inner score |",
            "|---|---:|---:|---|---:|",
        ]
        for name, r in self.results.items():
            if r.best_params is None:
                continue
            inner = r.tune_scores if r.tune_scores is not None else np.full(len(r.scores), np.nan)
            for (rep, fold, params), score in zip(self.chosen_settings(name), inner):
                shown = ", ".join(f"{k}={v!r}" for k, v in params.items()) or "(nothing to tune)"
                lines.append(f"| {name} | {rep + 1} | {fold + 1} | {shown} | {score:.3f} |")
        return "\n".join(lines)

    def _table_cells(self):
        rows = self.rows()
        searched = any("search s" in row for row in rows)
        # With tuning the width is the first split's chosen setting's, and the refit ("fit") is only part
        # of a fold's cost: the inner search ("search") is the rest.
        # Feature sets given as transformers have no kind: no column of blanks then.
        kinds = ["kind"] if any(row["kind"] for row in rows) else []
        header = [
            "feature set",
            *kinds,
            "dims (split 1)" if searched else "dims",
            self.scoring,
            "fit s / fold",
        ]
        header += ["search s / fold"] if searched else []
        header += ["transform images/s"]
        body = []
        for row in rows:
            search = [f"{row['search s']:.2f}" if "search s" in row else "-"] if searched else []
            body.append(
                [
                    row["feature set"],
                    *([row["kind"]] if kinds else []),
                    str(row["dims"]),
                    f"{row[f'{self.scoring} mean']:.3f} ± {row[f'{self.scoring} std']:.3f}",
                    f"{row['fit s']:.2f}",
                    *search,
                    _format_rate(row["images/s"]),
                ]
            )
        if len(body) > 1 and rows[0]["vs best"]:  # significance marks (_stats.py): best, n.s., worse + p
            from ._stats import format_p

            header.append("vs best")
            for cells, row in zip(body, rows):
                p = row["p vs best (Holm)"]
                mark = row["vs best"]
                cells.append(mark if mark == "best" else f"{mark} (p {format_p(p).replace('< ', '<')})")
        return header, body

    def __str__(self):
        header, body = self._table_cells()
        widths = [max(len(line[i]) for line in [header, *body]) for i in range(len(header))]
        right = {i for i, name in enumerate(header) if name not in _TEXT_COLUMNS}

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
        return markdown_table(header, body, ["---" if name in _TEXT_COLUMNS else "---:" for name in header])

    def fold_rows(self):
        """Every split's score as a list of dicts: one per (feature set, repeat, fold), in run order.

        Keys: ``feature set``, ``kind``, ``repeat``, ``fold`` (both from 1),
        ``n_train``, ``n_test``, the score (named after the scoring), ``fit s``
        and, with tuning, ``chosen settings`` and ``inner score``.
        """
        rows = []
        for name, r in self.results.items():
            settings = self.chosen_settings(name)
            for i, score in enumerate(r.scores):
                row = {
                    "feature set": name,
                    "kind": self.kinds.get(name, ""),
                    "repeat": int(r.repeat_index[i]) + 1,
                    "fold": int(r.fold_index[i]) + 1,
                    "n_train": None if r.n_train is None else int(r.n_train[i]),
                    "n_test": None if r.n_test is None else int(r.n_test[i]),
                    self.scoring: float(score),
                    "fit s": float(r.fit_times[i]),
                }
                if settings:
                    row["chosen settings"] = ", ".join(f"{k}={v!r}" for k, v in settings[i][2].items())
                    row["inner score"] = float(r.tune_scores[i]) if r.tune_scores is not None else math.nan
                rows.append(row)
        return rows

    def to_fold_csv(self, path):
        """Write :meth:`fold_rows` (every split's score, for statistics elsewhere) as CSV."""
        import csv

        rows = self.fold_rows()
        fields = list(dict.fromkeys(key for row in rows for key in row)) or ["feature set"]
        with open(path, "w", newline="") as handle:
            writer = csv.DictWriter(handle, fieldnames=fields)
            writer.writeheader()
            writer.writerows(rows)

    def fold_assignment_rows(self, filenames=None):
        """Which test fold each image fell in, per repeat: one row per image and repeat.

        Every feature set met the same folds; the folds follow the order of the
        images (a folder's file names), so a renamed file moves them. With these
        rows a reviewer rebuilds the splits whatever the names became.

        Parameters
        ----------
        filenames : sequence of str, array of int, or None
            As for :meth:`misclassified_rows`: rows name the ``file``, or give the
            ``index``.

        Returns
        -------
        rows : list of dict
            ``file`` (or ``index``), ``repeat`` and ``fold`` (from 1), ordered by
            repeat, then image.
        """
        ran = next((r for r in self.results.values() if r.fold_test_indices is not None), None)
        if ran is None:
            return []
        by_file = not _are_indices(filenames)
        indices = None if by_file or filenames is None else np.asarray(filenames)
        rows = []
        for repeat in np.unique(ran.repeat_index):
            assigned = []
            for split in np.flatnonzero(ran.repeat_index == repeat):
                assigned += [(int(i), int(ran.fold_index[split]) + 1) for i in ran.fold_test_indices[split]]
            for index, fold in sorted(assigned):
                if by_file:
                    where = {"file": str(filenames[index])}
                else:
                    where = {"index": index if indices is None else int(indices[index])}
                rows.append({**where, "repeat": int(repeat) + 1, "fold": fold})
        return rows

    def to_fold_assignment_csv(self, path, filenames=None):
        """Write :meth:`fold_assignment_rows` as CSV."""
        import csv

        rows = self.fold_assignment_rows(filenames)
        where = "index" if _are_indices(filenames) else "file"
        with open(path, "w", newline="") as handle:
            writer = csv.DictWriter(handle, fieldnames=[where, "repeat", "fold"])
            writer.writeheader()
            writer.writerows(rows)

    def to_csv(self, path):
        """Write the table (unformatted numbers) as CSV."""
        import csv

        rows = self.rows()
        # Every row's keys (only tuned sets have a search time), in the order they come.
        fields = list(dict.fromkeys(key for row in rows for key in row)) or ["feature set"]
        with open(path, "w", newline="") as handle:
            writer = csv.DictWriter(handle, fieldnames=fields)
            writer.writeheader()
            writer.writerows(rows)

    def misclassified_rows(self, filenames=None):
        """The held-out images each feature set misclassified (first repeat), one row per pair.

        Parameters
        ----------
        filenames : sequence of str, array of int, or None
            One per image of ``X`` (a folder's ``filenames``): rows then name the
            file. Integers are the images' indices in the data set ``X`` was drawn
            from (a subset's ``kept`` indices): rows give those. Without them, the
            image's index in ``X``.

        Returns
        -------
        rows : list of dict
            ``feature set``, ``file`` (or ``index``), ``fold``, ``true`` and
            ``predicted`` (class names where ``target_names`` gives them), in
            the order of the table's feature sets, then of the images.
        """
        if self.task != "classification":
            return []
        names = self._display_labels()

        def shown(label):
            if names is not None and isinstance(label, (int, np.integer)) and 0 <= label < len(names):
                return names[label]
            return str(label)

        by_file = not _are_indices(filenames)
        # The images' indices: in X, or those given (X a subset of a data set).
        indices = None if by_file or filenames is None else np.asarray(filenames)
        rows = []
        for name, r in self.results.items():
            folds = None
            if r.n_test is not None and r.fold_index is not None:  # the first repeat's splits come first
                folds = np.repeat(np.asarray(r.fold_index), r.n_test)[: len(r.y_true)]
            wrong = np.flatnonzero(np.asarray(r.y_true) != np.asarray(r.y_pred))
            # Files in name order, images in the order of X.
            if by_file:
                keys = [str(filenames[i]) for i in r.test_indices]
            else:
                keys = [int(i if indices is None else indices[i]) for i in r.test_indices]
            for k in sorted(wrong, key=keys.__getitem__):
                index = int(r.test_indices[k])
                if by_file:
                    where = {"file": str(filenames[index])}
                else:
                    where = {"index": index if indices is None else int(indices[index])}
                fold = {"fold": int(folds[k]) + 1} if folds is not None else {}
                rows.append(
                    {
                        "feature set": name,
                        **where,
                        **fold,
                        "true": shown(r.y_true[k]),
                        "predicted": shown(r.y_pred[k]),
                    }
                )
        return rows

    def to_misclassified_csv(self, path, filenames=None):
        """Write :meth:`misclassified_rows` as CSV."""
        import csv

        rows = self.misclassified_rows(filenames)
        where = "index" if _are_indices(filenames) else "file"
        with open(path, "w", newline="") as handle:
            writer = csv.DictWriter(handle, fieldnames=["feature set", where, "fold", "true", "predicted"])
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
        """t-SNE (or PCA) map of the held-out features of the first fold, coloured by target.

        ``ax=False`` computes the map without drawing it (``display.plot()`` draws it).
        """
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
            # Whole-number regression targets (ages) are drawn on a colour bar, not as 60 classes.
            continuous=self.task == "regression",
        )

    def plot_errors(self, name, max_images=24, ax=None):
        """Grid of the misclassified held-out images of ``name`` (true -> predicted)."""
        from ..plotting import ImageGridDisplay

        r = self.results[name]
        n_errors = int((np.asarray(r.y_true) != np.asarray(r.y_pred)).sum())
        shown = f"{max_images} of {n_errors} " if n_errors > max_images else ""
        sample = ", drawn at random" if shown else ""
        return ImageGridDisplay.from_predictions(
            self.X,
            r.y_true,
            r.y_pred,
            indices=r.test_indices,
            only_errors=True,
            max_images=max_images,
            target_names=self.target_names,
            title=f"{name}: {shown}misclassified held-out images{sample}",
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
        self,
        out_dir,
        *,
        embedding="tsne",
        title="skvision feature comparison",
        notes=(),
        html=True,
        progress=None,
        n_jobs=None,
        filenames=None,
    ):
        """Write ``report.md``, ``report.html``, ``results.csv`` and the PNG figures to ``out_dir``.

        Parameters
        ----------
        out_dir : str or path-like
            Created if needed.
        embedding : {'tsne', 'pca', 'none', None}, default='tsne'
            Method of the feature-space maps; ``None`` (or ``'none'``, as the
            command spells it) draws none.
        title : str
        notes : sequence of str
            Lines printed under the title (data set, options...).
        html : bool, default=True
            Also write ``report.html``: the same tables and figures in one
            self-contained page (figures embedded, no network), with a sortable
            score table and each feature set's figures in tabs.
        progress : callable or None
            ``progress(message)`` is called as each stage of the report starts
            (the figures, each t-SNE map, ...); ``skvision compare`` prints them.
        n_jobs : int or None, default=None
            Processes that draw the feature sets' figures (the t-SNE map takes
            about a second per feature set): this one and ``n_jobs - 1``
            workers, those of the comparison when they are still alive;
            ``None``: this process alone. The report is the same either way.
        filenames : sequence of str, array of int, or None
            The file of each image of ``X`` (a folder's ``filenames``): the
            misclassified images are then listed by file in
            ``misclassified.csv``; integers: by these indices (of the data set
            ``X`` is a subset of); without them, by index in ``X``.

        Returns
        -------
        path : pathlib.Path
            The Markdown report.
        """
        from ._report import write_report

        return write_report(
            self,
            Path(out_dir),
            embedding=embedding,
            title=title,
            notes=notes,
            html=html,
            progress=progress,
            n_jobs=n_jobs,
            filenames=filenames,
        )
