"""The workflow: cross-validate ``features -> estimator`` for every feature set, on the same folds.

It takes :class:`~skvision.compare.FeatureSet` objects (from
:func:`~skvision.compare.build_feature_sets`) or a plain dict of transformers,
and records in a :class:`~skvision.compare.ComparisonResult` everything the
table, the pictures and the report need.
"""

from __future__ import annotations

import time

import numpy as np
from sklearn.base import clone, is_classifier
from sklearn.model_selection import KFold, StratifiedKFold, check_cv, cross_validate
from sklearn.pipeline import Pipeline

from ._estimators import make_estimator, task_of
from ._families import FeatureSet
from ._result import ComparisonResult, FeatureResult

__all__ = ["compare_features"]


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
    features : dict of str -> transformer, or list of FeatureSet
        Name -> unfitted transformer (cloned for each fold); or the feature
        sets of :func:`~skvision.compare.build_feature_sets`, which carry their
        kind, whether to precompute, and why a set is left out.
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
        With a dict of transformers: the feature sets whose ``fit`` learns
        nothing from the images (a frozen pretrained backbone, say): fitted
        once, they describe every image once, and the estimator alone is
        cross-validated on those features. The scores are those of the full
        pipeline; the fit time of a fold counts the description of its training
        images. A :class:`~skvision.compare.FeatureSet` says it itself.
    on_error : {'raise', 'skip'}, default='raise'
        A feature set whose cross-validation fails either stops the comparison
        or is recorded in ``skipped`` with its error message.
    target_names : sequence of str or None
        Class names for the pictures (``target_names[label]``).
    kinds : dict of str -> str or None
        With a dict of transformers: kind of each feature set ('handcrafted',
        'learned', ...) for the table. A FeatureSet says it itself.
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
    >>> from sklearn.pipeline import make_pipeline
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
    feature_sets = _as_feature_sets(features, precompute, kinds)
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
    skipped.update((s.name, s.skipped) for s in feature_sets if not s.available)

    results = {}
    for feature_set in feature_sets:
        if not feature_set.available:
            continue
        name = feature_set.name
        pipeline = Pipeline([("features", clone(feature_set.transformer)), ("estimator", clone(estimator))])
        try:
            result = _cross_validate_one(
                name, pipeline, X, y, splits, scoring, n_jobs, feature_set.precompute
            )
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
        kinds={s.name: s.kind for s in feature_sets if s.kind},
    )


def _as_feature_sets(features, precompute, kinds):
    """The feature sets of ``features``: a dict of name -> transformer, or FeatureSet objects."""
    if isinstance(features, dict):
        if not features:
            raise ValueError("features must be a non-empty dict of name -> transformer; got {}.")
        unknown = set(precompute) - set(features)
        if unknown:
            raise ValueError(f"precompute names feature sets that are not in features: {sorted(unknown)}.")
        kinds = kinds or {}
        return [
            FeatureSet(name, transformer, kinds.get(name, ""), precompute=name in precompute)
            for name, transformer in features.items()
        ]
    sets = list(features) if isinstance(features, (list, tuple)) else None
    if not sets or not all(isinstance(s, FeatureSet) for s in sets):
        raise ValueError(
            "features must be a non-empty dict of name -> transformer or a list of FeatureSet; "
            f"got {features!r}."
        )
    if precompute or kinds:
        raise ValueError(
            "precompute and kinds apply to a dict of transformers; FeatureSet objects carry their own."
        )
    if not any(s.available for s in sets):
        reasons = "; ".join(f"{s.name} {s.skipped}" for s in sets)
        raise ValueError(f"No feature set can run: {reasons}.")
    return sets


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
        training_history=_training_history(scores["estimator"][0]),
        n_train=np.array([len(train) for train, _ in splits]),
        n_test=np.array([len(test) for _, test in splits]),
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
        training_history=_training_history(transformer),
        n_train=np.array([len(train) for train, _ in splits]),
        n_test=np.array([len(test) for _, test in splits]),
    )


def _training_history(fitted):
    """The per-epoch history of the network trained in ``fitted`` (a pipeline), or None without one."""
    from ..plotting._training import find_history

    try:
        history = find_history(fitted)
    except ValueError:
        return None
    # Epoch entries as plain dicts; the per-batch records stay with the network.
    return [{key: value for key, value in row.items() if key != "batches"} for row in history]
