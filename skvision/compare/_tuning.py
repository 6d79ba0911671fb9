"""The inner search of a tuned comparison: settings chosen on the training images of each outer fold.

:func:`inner_search` scores every candidate setting of
``Pipeline([("features", transformer), ("estimator", estimator)])`` by an inner
k-fold cross-validation of the outer fold's training images, and returns the
best. The candidates are the whole grid when it has at most ``budget``
settings, else ``budget`` settings drawn at random from it (without
replacement, seeded): :class:`~sklearn.model_selection.ParameterGrid` and
:class:`~sklearn.model_selection.ParameterSampler`.

The features are cached: candidates that share the transformer's settings
(they differ in the estimator's ``C``, say) share one fit and one
description of each inner fold, so the estimator's settings cost an
estimator fit each and never a feature computation. This is what
``Pipeline(memory=...)`` does for the training features, done for the held-out
ones too, in memory, for the length of one outer fold.
"""

from __future__ import annotations

import warnings

import numpy as np
from sklearn.base import clone
from sklearn.model_selection import (
    GroupKFold,
    KFold,
    ParameterGrid,
    ParameterSampler,
    StratifiedGroupKFold,
    StratifiedKFold,
)

from .._warnings import user_stacklevel

__all__ = ["candidates", "inner_search"]


def _grids(space):
    if not space:
        return []
    return [space] if isinstance(space, dict) else list(space)


def candidates(space, budget, random_state):
    """The settings to try: every one of ``space`` when there are at most ``budget``, else a seeded sample.

    Examples
    --------
    >>> candidates({"a": [1, 2], "b": [3]}, 5, 0)
    [{'a': 1, 'b': 3}, {'a': 2, 'b': 3}]
    >>> len(candidates({"a": list(range(10)), "b": [0, 1]}, 5, 0))
    5
    """
    grids = _grids(space)
    if not grids:
        return [{}]
    grid = ParameterGrid(grids)
    if len(grid) <= budget:
        return list(grid)
    if len(grids) == 1:
        # Lists only: sampled without replacement (sklearn), in a seeded order.
        return list(ParameterSampler(grids[0], n_iter=budget, random_state=random_state))
    # Several grids (alternatives): draw indices of the whole grid without replacement.
    rng = np.random.RandomState(random_state)
    return [grid[int(i)] for i in rng.choice(len(grid), size=budget, replace=False)]


def _take(X, indices):
    if isinstance(X, np.ndarray):
        return X[indices]
    return [X[i] for i in indices]


def _split(param):
    """('features' | 'estimator', name within that step) of a pipeline parameter."""
    step, _, rest = param.partition("__")
    if step not in ("features", "estimator") or not rest:
        raise ValueError(
            f"Search-space parameter {param!r} must name a parameter of the 'features' or 'estimator' step "
            "(e.g. 'features__P', 'estimator__svc__C')."
        )
    return step, rest


def inner_search(pipeline, space, X, y, *, scorer, cv, budget, random_state, classification, groups=None):
    """Choose the setting of ``pipeline`` with the best inner cross-validation score on ``X, y``.

    Parameters
    ----------
    pipeline : Pipeline
        ``Pipeline([("features", transformer), ("estimator", estimator)])``, unfitted.
    space : dict, list of dict or None
        Parameter names of ``pipeline`` mapped to lists of values.
    X, y : the outer fold's training images and targets.
    scorer : callable
        ``scorer(estimator, features, y) -> float`` (higher is better).
    cv : int
        Inner folds (shuffled, stratified for classes, seeded by ``random_state``).
    budget : int
        At most this many settings.
    random_state : int or None
    classification : bool
    groups : array-like of shape (len(y),) or None
        Group labels: the inner folds keep each group whole (StratifiedGroupKFold,
        GroupKFold for a regression target).

    Returns
    -------
    best_params : dict
        The chosen setting (ties go to the first candidate tried).
    best_score : float
        Its mean inner score.
    n_candidates : int
        Settings scored.
    """
    settings = candidates(space, budget, random_state)
    if len(settings) == 1:
        return settings[0], float("nan"), 1
    if groups is None:
        splitter = (StratifiedKFold if classification else KFold)(cv, shuffle=True, random_state=random_state)
    else:
        splitter = (StratifiedGroupKFold if classification else GroupKFold)(
            cv, shuffle=True, random_state=random_state
        )
    with warnings.catch_warnings():
        # A class with fewer members than inner folds: sklearn warns, the folds are still usable.
        warnings.filterwarnings("ignore", message="The least populated class", category=UserWarning)
        inner = list(splitter.split(np.zeros(len(y)), y, groups))
    # Group the candidates by their transformer settings: each group computes its features once per fold.
    groups = {}
    for index, setting in enumerate(settings):
        feature_part = {k: v for k, v in setting.items() if _split(k)[0] == "features"}
        key = repr(sorted(feature_part.items()))
        groups.setdefault(key, (feature_part, []))[1].append(index)
    scores = np.full((len(settings), len(inner)), np.nan)
    errors = []
    for j, (train, test) in enumerate(inner):
        y_train, y_test = y[train], y[test]
        for feature_part, indices in groups.values():
            transformer = clone(pipeline.named_steps["features"]).set_params(
                **{_split(k)[1]: v for k, v in feature_part.items()}
            )
            try:
                F_train = transformer.fit_transform(_take(X, train), y_train)
                F_test = transformer.transform(_take(X, test))
            except Exception as exc:  # noqa: BLE001 - a setting that fails scores nothing (like error_score=nan)
                errors.append(exc)
                continue
            for i in indices:
                estimator = clone(pipeline.named_steps["estimator"]).set_params(
                    **{_split(k)[1]: v for k, v in settings[i].items() if _split(k)[0] == "estimator"}
                )
                try:
                    estimator.fit(F_train, y_train)
                    scores[i, j] = scorer(estimator, F_test, y_test)
                except Exception as exc:  # noqa: BLE001
                    errors.append(exc)
    means = np.where(np.isnan(scores).any(axis=1), -np.inf, np.nan_to_num(scores).mean(axis=1))
    if not np.isfinite(means).any():
        raise RuntimeError(
            f"Every one of the {len(settings)} settings failed in the inner search; the first error: "
            f"{type(errors[0]).__name__}: {errors[0]}"
        ) from errors[0]
    if errors:
        failed = int((~np.isfinite(means)).sum())
        warnings.warn(
            f"{failed} of {len(settings)} settings failed in the inner search and were left out "
            f"(first error: {type(errors[0]).__name__}: {errors[0]}).",
            RuntimeWarning,
            stacklevel=user_stacklevel(),
        )
    best = int(np.argmax(means))
    return settings[best], float(means[best]), len(settings)
