"""The workflow: cross-validate ``features -> estimator`` for every feature set, on the same folds.

It takes :class:`~skvision.compare.FeatureSet` objects (from
:func:`~skvision.compare.build_feature_sets`) or a plain dict of transformers,
and records in a :class:`~skvision.compare.ComparisonResult` everything the
table, the pictures, the statistics and the report need.

How a feature set runs (:func:`_run_feature_set`):

1. Splits stored by an earlier run are read back (``store=``, ``resume=True``).
2. Warm-up, untimed: the pipeline is fitted on a few images, so that imports,
   numba compilation and lazy set-up (loading weights) are not counted in the
   first timed fold, whatever order the feature sets run in.
3. A precomputed set (its ``stateless`` tag) describes every image once, timed,
   in the main process.
4. The first split runs in the main process. The others run there too, or in
   ``n_jobs`` worker processes when the time the first one took says that the
   work left is large enough to repay starting them (:func:`_workers`). The
   transform rate is measured on the splits run in the main process only, so
   that it does not depend on ``n_jobs``.
5. Each split: with tuning, an inner search on its training images
   (:func:`~skvision.compare._tuning.inner_search`), then the fit of the chosen
   setting (timed), the description of the test images (timed), the
   predictions and the score. It is stored as soon as it finishes: a worker's
   split by a listener thread of the main process, while the main thread may be
   running a split of its own (everything that records a split holds the
   comparison's lock; a worker's failure to raise goes to the main thread).
"""

from __future__ import annotations

import contextlib
import functools
import gc
import math
import os
import signal
import sys
import threading
import time
import warnings

import numpy as np
from sklearn.base import clone, is_classifier, is_regressor
from sklearn.metrics import accuracy_score, balanced_accuracy_score, check_scoring, f1_score, r2_score
from sklearn.model_selection import (
    GroupKFold,
    KFold,
    RepeatedKFold,
    RepeatedStratifiedKFold,
    StratifiedGroupKFold,
    StratifiedKFold,
    check_cv,
)
from sklearn.pipeline import FeatureUnion, Pipeline
from sklearn.preprocessing import FunctionTransformer
from sklearn.utils import get_tags as sklearn_get_tags

from .._tags import get_tags
from .._talk import long_fit_lines_off
from .._warnings import user_stacklevel
from ..plotting._base import check_target_names
from ._estimators import ESTIMATORS, estimator_space, make_estimator, task_of
from ._families import FeatureSet, _prefixed, _product
from ._progress import Progress, queue_eta, split_label, time_so_far
from ._result import ComparisonResult, FeatureResult
from ._scheduler import SplitScheduler, SplitTask, check_n_jobs
from ._store import FoldStore, fingerprint
from ._tuning import inner_search

__all__ = ["compare_features"]

#: Worker processes take queued splits only once these add up to this many seconds (each estimated
#: by its feature set's first split, run in the main process). The workers are spawned at the start
#: and import what the pipelines need meanwhile, on a core the main process leaves idle; what a split
#: handed to one still costs is sending it the data and its first, untimed fit of that pipeline
#: (mostly under a second now that numba kernels load from the cache in every process). Measured on
#: the digits: five quick families (pixels, lbp, hog, glcm, lpq) 26 s -> 20.5 s with 2 processes;
#: at 8 s the worker sat idle for the first 4-7 s of a 28x28 comparison.
PARALLEL_MIN_SAVING = 3.0

#: Images of the untimed warm-up fit.
WARMUP_IMAGES = 64

#: The fewest test images the transform rate is timed on (see ``_FamilyRun.time_transform``):
#: enough that a batched transform's per-call costs weigh as they do on a whole fold.
TIMED_IMAGES_MIN = 64

#: Fingerprints of the pipelines warmed up in this process (a worker warms each one up once).
_WARMED = set()


def _splits(cv, y, task, random_state, repeats, groups=None):
    """The (train, test) splits, their (repeat, fold) ids, the number of repeats and of folds."""
    classification = task == "classification"
    if isinstance(cv, (int, np.integer)):
        if cv < 2:
            raise ValueError(f"cv must be at least 2 folds; got {cv}.")
        if groups is not None:
            return _group_splits(cv, y, groups, classification, random_state, repeats)
        if repeats == 1:
            splitter = (StratifiedKFold if classification else KFold)(
                cv, shuffle=True, random_state=random_state
            )
        else:
            splitter = (RepeatedStratifiedKFold if classification else RepeatedKFold)(
                n_splits=cv, n_repeats=repeats, random_state=random_state
            )
    else:
        if repeats != 1:
            raise ValueError(
                "repeats applies to an integer cv; for a splitter of your own pass a repeated one "
                f"(RepeatedStratifiedKFold, say) with repeats=1; got cv={cv!r} and repeats={repeats}."
            )
        splitter = check_cv(cv, y, classifier=classification)
        repeats = int(getattr(splitter, "n_repeats", 1))
    # Materialised once, so that every feature set meets exactly the same folds.
    splits = list(splitter.split(np.zeros(len(y)), y, groups))
    n_folds = max(1, len(splits) // repeats)
    ids = [(i // n_folds, i % n_folds) for i in range(len(splits))]
    return splits, ids, repeats, n_folds


def _group_splits(cv, y, groups, classification, random_state, repeats):
    """Shuffled K folds that keep each group whole: StratifiedGroupKFold (GroupKFold for a regression).

    scikit-learn has no repeated group splitter: each repeat draws its own seed
    from ``random_state``, as RepeatedStratifiedKFold does.
    """
    n_groups = len(np.unique(groups))
    if n_groups < cv:
        raise ValueError(
            f"cv={cv} folds need at least {cv} groups; groups holds {n_groups} "
            "(every image of a group goes to the same fold)."
        )
    seeds = np.random.RandomState(random_state).randint(np.iinfo(np.int32).max, size=repeats)
    splitter = StratifiedGroupKFold if classification else GroupKFold
    splits = []
    for seed in seeds:
        # One seed, one shuffle: with repeats=1 the folds follow random_state itself.
        seed = random_state if repeats == 1 else int(seed)
        splits.extend(splitter(cv, shuffle=True, random_state=seed).split(np.zeros(len(y)), y, groups))
    ids = [(i // cv, i % cv) for i in range(len(splits))]
    return splits, ids, repeats, cv


def _check_groups(groups, n_images):
    """``groups`` as an array of one group label per image (or None)."""
    if groups is None:
        return None
    groups = np.asarray(groups)
    if groups.ndim != 1 or len(groups) != n_images:
        raise ValueError(
            f"groups must hold one group label per image, shape ({n_images},); got shape {groups.shape}."
        )
    if groups.dtype.kind == "f" and np.isnan(groups).any():
        raise ValueError("groups holds NaN; give every image a group label.")
    return groups


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
    repeats=1,
    tune=False,
    tune_budget=10,
    tune_cv=3,
    store=None,
    resume=False,
    groups=None,
    task=None,
):
    """Cross-validate ``features -> estimator`` for every feature set, on the same folds.

    Each feature set becomes the pipeline ``Pipeline([("features", transformer),
    ("estimator", estimator)])``, fitted on the training images of each split
    and scored on its test images, as
    :func:`sklearn.model_selection.cross_validate` would (same folds, same
    scores). The fitted pipeline describes its test images once, which gives
    the score, the out-of-fold predictions (confusion matrices, error grids),
    the transform throughput, and held-out features for the embedding maps.

    Parameters
    ----------
    X : array-like of shape (N, H, W) or (N, H, W, C), or list of images/paths
        What the feature transformers take.
    y : array-like of shape (N,)
        Class labels, or a continuous target (regression: scored with R^2).
    features : dict of str -> transformer, or list of FeatureSet
        Name -> unfitted transformer (cloned for each fold); or the feature
        sets of :func:`~skvision.compare.build_feature_sets`, which carry their
        kind, whether to precompute, their search space, and why a set is left
        out.
    estimator : estimator, str or None, default=None
        The final estimator, or a name from :data:`ESTIMATORS` ('svc', 'logreg',
        'knn', 'rf'). ``None`` is 'svc': standardised features -> RBF SVC (SVR for
        a regression target). The task is read from ``y`` (sklearn's
        ``type_of_target``: whole numbers are class labels, even as floats), except
        that with a regressor instance, floats are a regression target: ages or
        counts as floats in ``y`` with ``estimator=SVR()`` are compared as a
        regression (r2).
    cv : int or cross-validation splitter, default=5
        An int gives shuffled (stratified for classes) K folds seeded by
        ``random_state``.
    scoring : str or None, default=None
        Any sklearn scorer name; ``None`` is 'accuracy' for classes and 'r2' for
        a regression target.
    n_jobs : int or None, default=None
        Processes in all (joblib's convention; -1: every core). The main
        process runs the first split of each feature set, timed, and queues the
        others; ``n_jobs - 1`` worker processes take queued splits of any
        feature set while the main process goes on, and it takes queued splits
        too once every set has started (see :mod:`skvision.compare._scheduler`).
        Workers start only when the queued work is worth starting them (about
        ``PARALLEL_MIN_SAVING`` seconds of it), so quick comparisons run in one
        process. Sets placed on a GPU run in the main process. Once every
        split has run, each set's first test fold is described again in the
        main process, with no worker running, for the transform rate, so the
        rates do not depend on ``n_jobs``.
    random_state : int or None, default=0
        Seed of the folds, of the inner search and of the named estimators.
    precompute : collection of str, default=()
        With a dict of transformers: the feature sets whose ``fit`` learns
        nothing from the images (a frozen pretrained backbone, say): fitted
        once, they describe every image once, and the estimator alone is
        cross-validated on those features. The scores are those of the full
        pipeline; the fit time of a fold counts the description of its training
        images. A :class:`~skvision.compare.FeatureSet` says it itself. With
        tuning, only the estimator's settings are searched for such a set.
        A set whose fit learns from the labels (``CNNFeatures``, also inside a
        pipeline) is refused: precomputed, it would be trained on the test
        folds. One not tagged ``stateless`` (see :class:`~skvision.SkvisionTags`)
        gets a warning that its scores are optimistic if its fit learns.
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
        0: silent. 1: a line on stderr per feature set and split (score, mean
        so far, time spent, time left; with ``n_jobs``, the split's own time and
        the wait of all queued splits, forecast once every feature set has run a
        split) and per feature set, with a tqdm bar when
        stderr is a terminal. 2: also the learned families' epoch-by-epoch
        progress (skorch's), on stderr.
    repeats : int, default=1
        Repeated k-fold: ``repeats`` different shuffles of the ``cv`` folds
        (:class:`~sklearn.model_selection.RepeatedStratifiedKFold`, or
        :class:`~sklearn.model_selection.RepeatedKFold` for a regression target),
        the same for every feature set. The result keeps the score of every
        (repeat, fold).
    tune : bool or dict, default=False
        ``True``: choose each feature set's settings inside every outer fold,
        by an inner ``tune_cv``-fold search of its training images over the
        set's search space (:attr:`FeatureSet.space`, declared next to each
        built-in family) and the named estimator's (``C`` of the SVC, ...).
        A dict maps feature-set names to search spaces of their own, as
        parameter names of the pipeline (``{'hog': {'features__orientations':
        [6, 9], 'estimator__svc__C': [1, 10]}}``); sets it does not name are not
        tuned. The chosen settings of every split are in the result.
    tune_budget : int, default=10
        At most this many candidate settings per feature set: the whole grid
        when it is smaller, else a seeded random sample of it.
    tune_cv : int, default=3
        Inner folds of the search.
    store : path-like or None, default=None
        A folder where each finished split is written as it completes (see
        ``resume``); ``None`` stores nothing.
    resume : bool, default=False
        Read back the splits ``store`` holds from an earlier run of the same
        comparison and compute only the others: an interrupted run, run again
        with ``resume=True``, gives the same scores as an uninterrupted one. The
        stored splits are used only when the images, targets, folds, estimator,
        scoring, tuning settings, seed and skvision's version are the same (and
        a feature set's own parameters, per set); otherwise they are computed
        afresh, with a message.
    groups : array-like of shape (N,) or None, default=None
        A group label per image; the images of a group never fall on both
        sides of a split. With an integer ``cv`` the folds are
        :class:`~sklearn.model_selection.StratifiedGroupKFold` (shuffled,
        seeded by ``random_state``; :class:`~sklearn.model_selection.GroupKFold`
        for a regression target), and the inner folds of tuning keep the
        groups too; a splitter of your own receives them as
        ``cross_validate`` passes them. Use it for images that are not
        independent: exact copies (:func:`~skvision.datasets.load_image_folder`
        returns their groups as ``groups``), frames of one video, shots of one
        object.
    task : {'classification', 'regression'} or None, default=None
        What ``y`` holds; ``None`` reads it from ``y`` (see ``estimator``).
        ``'regression'`` takes whole numbers (counts, ages) as a numeric
        target whatever the estimator; ``skvision compare --targets`` passes it.

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

    Repeated, and tuned (the PCA's width and the regression's ``C``):

    >>> space = {"features__pca__n_components": [5, 20], "estimator__logisticregression__C": [0.1, 1]}
    >>> result = compare_features(X[:300], y[:300], {"pca": make_pipeline(flat, PCA())},
    ...                           estimator="logreg", cv=3, repeats=2, tune={"pca": space})
    >>> result.results["pca"].score_matrix.shape
    (2, 3)
    >>> sorted(result.chosen_settings("pca")[0][2])
    ['C', 'n_components']
    """
    feature_sets = _as_feature_sets(features, precompute, kinds)
    if on_error not in ("raise", "skip"):
        raise ValueError(f"on_error must be 'raise' or 'skip'; got {on_error!r}.")
    for name, value, minimum in (
        ("repeats", repeats, 1),
        ("tune_budget", tune_budget, 1),
        ("tune_cv", tune_cv, 2),
    ):
        if not isinstance(value, (int, np.integer)) or isinstance(value, bool) or value < minimum:
            raise ValueError(f"{name} must be an integer of at least {minimum}; got {value!r}.")
    n_jobs = check_n_jobs(n_jobs)
    if resume and store is None:
        raise ValueError("resume=True reads the splits stored in store; pass store=<folder>.")
    y = np.asarray(y)
    if y.ndim != 1:
        # Two target columns ran every fold, then the report's figures failed on them (an SVR failed
        # in the first fold with scikit-learn's words).
        hint = (
            "pass y.ravel() for its one column"
            if y.ndim == 2 and y.shape[1] == 1
            else "compare the feature sets on each target column in turn (y[:, 0], then y[:, 1], ...)"
        )
        raise ValueError(
            f"y must hold one target per image, shape ({len(X)},); got shape {y.shape}. A comparison "
            f"scores one target: {hint}."
        )
    if len(y) != len(X):
        raise ValueError(f"X has {len(X)} images but y has {len(y)} entries.")
    if y.dtype.kind == "f" and not np.isfinite(y).all():
        bad = np.flatnonzero(~np.isfinite(y))
        raise ValueError(
            f"y holds {len(bad)} missing or infinite value(s) (NaN or inf), at index "
            f"{', '.join(map(str, bad[:5]))}{', ...' if len(bad) > 5 else ''}: every image needs a target; "
            "leave those images out."
        )
    task_given = task is not None
    if task is None:
        task = task_of(y)
    elif task not in ("classification", "regression"):
        raise ValueError(f"task must be 'classification', 'regression' or None; got {task!r}.")
    elif task == "regression" and y.dtype.kind not in "iuf":
        raise ValueError(f"task='regression' needs numbers in y; got {y.dtype} values such as {y[0]!r}.")
    elif task == "classification" and task_of(y) == "regression":
        raise ValueError(
            "task='classification' needs class labels in y; it holds continuous values such as "
            f"{y[0]!r} (a regression target: task='regression')."
        )
    else:
        y = y.astype(np.float64) if task == "regression" else y
    estimator_name = None
    if estimator is None or isinstance(estimator, str):
        estimator_name = estimator or "svc"
    elif is_regressor(estimator) and task == "classification" and y.dtype.kind == "f":
        # Whole numbers as floats (ages, counts) look like class labels to type_of_target: a regressor
        # says the task. (Integer or string labels with a regressor stay refused below: likely a mistake.)
        task = "regression"
    if task == "classification" and y.dtype.kind == "f" and not task_given:
        warnings.warn(
            f"y holds floats that are all whole numbers: compared as {len(np.unique(y))} classes (accuracy, "
            "stratified folds). For a regression, pass task='regression' (or a regressor as estimator, e.g. "
            "sklearn.svm.SVR()).",
            UserWarning,
            stacklevel=user_stacklevel(),
        )
    if estimator_name is not None:
        estimator = make_estimator(estimator_name, task, random_state)
    if task == "regression" and is_classifier(estimator):
        raise ValueError(f"y is a regression target but the estimator {estimator!r} is a classifier.")
    if task == "classification" and not is_classifier(estimator):
        raise ValueError(
            f"y holds class labels but the estimator {estimator!r} is not a classifier (a regression on "
            "whole numbers: pass y as floats with a regressor)."
        )
    if target_names is not None:
        _check_target_names(target_names, y, task)
    scoring = scoring or ("accuracy" if task == "classification" else "r2")
    scorer = check_scoring(estimator, scoring=scoring)
    groups = _check_groups(groups, len(y))
    splits, split_ids, n_repeats, n_folds = _splits(cv, y, task, random_state, repeats, groups)
    spaces = _search_spaces(tune, feature_sets, estimator_name, task)
    _check_search_spaces(spaces, feature_sets, estimator)
    skipped = dict(skipped or {})
    skipped.update((s.name, s.skipped) for s in feature_sets if not s.available)
    running = [s for s in feature_sets if s.available]

    progress = Progress(verbose, total=len(running) * len(splits))
    fold_store = None
    if store is not None:
        from .. import __version__

        components = {
            "data": fingerprint((X, y) if groups is None else (X, y, groups)),
            "folds": fingerprint(splits),
            "estimator": fingerprint(estimator),
            "scoring": repr(scoring),
            "tuning": fingerprint((tune_budget, tune_cv)) if spaces is not None else "none",
            "seed": repr(random_state),
            "version": __version__,
        }
        families = {
            s.name: fingerprint((s.transformer, s.precompute, None if spaces is None else spaces.get(s.name)))
            for s in running
        }
        fold_store = FoldStore(store, components, families, resume=resume, say=progress.say)

    context = _Context(
        X=X,
        y=y,
        estimator=estimator,
        splits=splits,
        split_ids=split_ids,
        n_repeats=n_repeats,
        n_folds=n_folds,
        scorer=scorer,
        scoring=scoring,
        n_jobs=n_jobs,
        random_state=random_state,
        classification=task == "classification",
        tune_budget=tune_budget,
        tune_cv=tune_cv,
        store=fold_store,
        progress=progress,
        verbose=verbose,
        groups=groups,
        all_queued=False,
        lock=threading.RLock(),
    )
    runs = {}
    scheduler = SplitScheduler(
        n_jobs,
        worker_function=_run_split_in_worker,
        start_cost=PARALLEL_MIN_SAVING,
        modules=sorted({type(s.transformer).__module__ for s in running} | {type(estimator).__module__}),
    )

    # Worker splits are recorded as they finish (stored for --resume, their line printed) by a
    # listener thread, not between the main process's own splits: one of those can take minutes,
    # and the workers' lines then came out all at once after it, their folds unstored meanwhile.
    # Everything that records a split holds context.lock. A failure the comparison records (on_error
    # 'skip' or 'warn') is recorded where it is found; one to raise (and a Ctrl-C) goes to the main thread.
    left_over = []  # (family, exception, from a worker): what the listener could not settle

    def fail(name, exc):
        if on_error == "raise" or not isinstance(exc, Exception):
            # KeyboardInterrupt (Ctrl-C reaches the workers too) stops the comparison: it was
            # recorded as the feature set's failure and the run went on to exit 0.
            raise exc
        first_line = str(exc).splitlines()[0] if str(exc) else ""
        with context.lock:
            skipped[name] = f"failed: {type(exc).__name__}: {first_line}"
            scheduler.drop(name)
            run = runs.pop(name, None)
            progress.failed(name, skipped[name], n_left=run.left if run is not None else len(splits))

    def settle(in_main):
        """Record the finished worker splits (the caller holds context.lock)."""
        for task, outcome, error in scheduler.outcomes():
            if task.family not in runs:
                continue
            if error is None:
                try:
                    runs[task.family].finish(*outcome, scheduler)
                    continue
                except BaseException as exc:  # noqa: BLE001 - the main thread raises it
                    if in_main:
                        raise
                    left_over.append((task.family, exc, False))
            elif in_main or (on_error != "raise" and isinstance(error, Exception)):
                fail(task.family, error)  # recorded, its queued splits dropped at once (raises in main only)
            else:
                left_over.append((task.family, error, True))

    def collect(block=False):
        """Settle finished worker splits here, and what the listener left (``block``: wait a moment)."""
        if block:
            scheduler.wait_for_outcomes(0.2)  # short: a Ctrl-C reaches the main thread between waits
        with context.lock:
            settle(in_main=True)
            found, left_over[:] = list(left_over), []
        for family, exc, from_worker in found:
            if not from_worker:
                raise exc
            if family in runs:
                fail(family, exc)

    listening = threading.Event()

    def listen():
        while listening.is_set():
            if scheduler.wait_for_outcomes(0.2):
                with context.lock:
                    settle(in_main=False)

    listener = threading.Thread(target=listen, name="skvision-compare-splits", daemon=True)

    def busy():
        with context.lock:  # outcomes are taken and recorded under the lock: none is in between
            return scheduler.busy()

    def waiting_line():
        """What the main process waits for, when it has no split of its own: the workers' splits."""
        parts = [
            f"{split_label(task.family, *context.split_ids[task.index], n_repeats, n_folds)} "
            f"({time_so_far(ran, task.estimate)})"
            for task, ran in scheduler.running()
            if task.family in runs
        ]
        return f"waiting for the workers: {'; '.join(parts)}" if parts else None

    def drain():
        """Run queued splits here (and collect the workers') until none is left."""
        while busy():
            task = scheduler.take_for_main()
            if task is None:
                with progress.waiting(waiting_line):
                    collect(block=True)
                continue
            label = split_label(task.family, *context.split_ids[task.index], n_repeats, n_folds)
            try:
                with progress.running(label, estimate=task.estimate):
                    outcome = _run_split(*task.args, **task.kwargs)
            except Exception as exc:  # noqa: BLE001 - as above
                fail(task.family, exc)
            else:
                with context.lock:
                    if task.family in runs:
                        runs[task.family].finish(*outcome, scheduler)
            collect()
        collect()

    aborted = True
    try:
        scheduler.prestart()
        if scheduler.n_workers:
            listening.set()
            listener.start()
        for feature_set in running:
            name = feature_set.name
            runs[name] = _FamilyRun(feature_set, None if spaces is None else spaces.get(name), context)
            try:
                runs[name].begin(scheduler)
            except Exception as exc:  # noqa: BLE001 - with on_error='skip' any failure is recorded, not raised
                fail(name, exc)
            collect()
            if not scheduler.n_workers:
                drain()  # one process: each feature set's splits one after the other
        context.all_queued = True
        if scheduler.n_workers and len(runs) > 1:
            progress.work_left(scheduler.work_left(), scheduler.processes)
        drain()  # every feature set has started: the main process takes queued splits too
        aborted = False
    finally:
        listening.clear()
        try:
            if listener.is_alive():
                listener.join()  # a split it is recording is stored before the comparison ends
        except KeyboardInterrupt:  # Ctrl-C while it finishes: stop the workers all the same
            scheduler.close(abort=True)
            progress.close()
            raise
        scheduler.close(abort=aborted)
        if not aborted:
            progress.stage("timing the transforms")
            # As timeit does: a collection of the garbage the fits left (networks, their
            # histories) would land in whichever family is being timed.
            gc.collect()
            gc.disable()
            try:
                for run in runs.values():
                    run.time_transform(after_workers=scheduler.started)
            finally:
                gc.enable()
        progress.close()
    results = {name: run.result for name, run in runs.items() if run.result is not None}
    return ComparisonResult(
        results,
        skipped=skipped,
        task=task,
        scoring=scoring,
        X=X,
        target_names=None if target_names is None else np.asarray(target_names),
        kinds={s.name: s.kind for s in feature_sets if s.kind},
        parts={s.name: tuple(s.parts) for s in feature_sets if s.parts},
        n_repeats=n_repeats,
        n_folds=n_folds,
        tuning=None
        if spaces is None
        else {"budget": tune_budget, "cv": tune_cv, "spaces": {n: sp for n, sp in spaces.items() if sp}},
    )


def _search_spaces(tune, feature_sets, estimator_name, task):
    """name -> search space as pipeline parameters (or None: nothing to tune); None without tuning."""
    if tune is False or tune is None:
        return None
    names = [s.name for s in feature_sets]
    if isinstance(tune, dict):
        unknown = sorted(set(tune) - set(names))
        if unknown:
            raise ValueError(f"tune names feature sets that are not in features: {unknown}.")
        return {name: tune.get(name) or None for name in names}
    if tune is not True:
        raise ValueError(f"tune must be True, False or a dict of feature set -> search space; got {tune!r}.")
    estimator_grid = (
        _prefixed(estimator_space(estimator_name, task), "estimator__")
        if estimator_name in ESTIMATORS
        else []
    )
    spaces = {}
    for feature_set in feature_sets:
        grids = (
            []
            if feature_set.precompute or not feature_set.space
            else [_prefixed(feature_set.space, "features__")]
        )
        if estimator_grid:
            grids.append(estimator_grid)
        spaces[feature_set.name] = _product(grids)
    return spaces


def _check_search_spaces(spaces, feature_sets, estimator):
    """Refuse, before any split runs, a search-space name that is no parameter of its pipeline.

    Otherwise sklearn's ``set_params`` error comes from inside the first fold's
    inner search, after its warm-up (``estimator__C`` where the named estimator
    'svc' is a pipeline whose C is ``estimator__svc__C``).
    """
    from collections.abc import Mapping

    for feature_set in feature_sets:
        space = (spaces or {}).get(feature_set.name)
        if not feature_set.available or not space:
            continue
        valid = Pipeline([("features", feature_set.transformer), ("estimator", estimator)]).get_params(
            deep=True
        )
        for grid in space if isinstance(space, (list, tuple)) else [space]:
            unknown = [key for key in grid if key not in valid] if isinstance(grid, Mapping) else []
            if unknown:
                key = unknown[0]
                like = sorted(k for k in valid if k.endswith("__" + key.rsplit("__", 1)[-1]))
                hint = f"; did you mean {', '.join(like[:4])}?" if like else ""
                raise ValueError(
                    f"tune[{feature_set.name!r}]: {key!r} must name a parameter of the 'features' or "
                    f"'estimator' step of Pipeline([('features', ...), ('estimator', ...)]){hint}"
                )


def _what_fit_learns(transformer):
    """``'labels'``, ``'images'`` or ``None``: what ``transformer``'s fit may learn from, by its tags.

    A pipeline or a union learns what its steps learn.
    """
    if isinstance(transformer, Pipeline):
        parts = [step for _, step in transformer.steps]
    elif isinstance(transformer, FeatureUnion):
        parts = [part for _, part in transformer.transformer_list]
    else:
        parts = None
    if parts is not None:
        found = {_what_fit_learns(part) for part in parts if part not in (None, "passthrough", "drop")}
        return "labels" if "labels" in found else "images" if "images" in found else None
    if sklearn_get_tags(transformer).target_tags.required:
        return "labels"
    tags = get_tags(transformer)
    return None if tags.stateless or not tags.requires_fit else "images"


def _check_precomputable(name, transformer):
    """Refuse (labels) or warn about (images) a precomputed set whose fit may learn: once fitted on every
    image, its features of each test fold come from a fit that saw that fold."""
    learns = _what_fit_learns(transformer)
    if learns == "labels":
        raise ValueError(
            f"precompute names {name!r}, whose fit learns from the labels ({type(transformer).__name__}): "
            "fitted once on every image, it would be trained on the test folds' labels and score far too "
            "well. Leave it out of precompute: it is then fitted within each fold."
        )
    if learns == "images":
        warnings.warn(
            f"precompute names {name!r}, whose fit may learn from the images ({type(transformer).__name__} "
            "is not tagged stateless): fitted once on every image, test folds included, its scores are "
            "optimistic if it does (filters, a vocabulary, a network). Precompute only what learns nothing.",
            UserWarning,
            stacklevel=user_stacklevel(),
        )


def _as_feature_sets(features, precompute, kinds):
    """The feature sets of ``features``: a dict of name -> transformer, or FeatureSet objects."""
    if isinstance(features, dict):
        if not features:
            raise ValueError("features must be a non-empty dict of name -> transformer; got {}.")
        if isinstance(precompute, str):  # read letter by letter otherwise
            raise TypeError(
                f"precompute must be a list of feature set names; got {precompute!r}: [{precompute!r}]."
            )
        unknown = set(precompute) - set(features)
        if unknown:
            raise ValueError(f"precompute names feature sets that are not in features: {sorted(unknown)}.")
        kinds = kinds or {}
        unknown = set(kinds) - set(features)
        if unknown:
            raise ValueError(f"kinds names feature sets that are not in features: {sorted(unknown)}.")
        for name in precompute:
            _check_precomputable(name, features[name])
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


class _Context:
    """What every feature set of one comparison shares (folds, scorer, store, progress, ...)."""

    def __init__(self, **kwargs):
        self.__dict__.update(kwargs)


def _neural_verbose(transformer):
    """``transformer`` with skorch's epoch progress on, for every network in it (``verbose=2``)."""
    from .._tags import get_tags

    params = transformer.get_params(deep=True)
    changes = {}
    for key in params:
        owner = params[key.rsplit("__", 1)[0]] if "__" in key else transformer
        if key.endswith("verbose") and get_tags(owner).torch_support and hasattr(owner, "max_epochs"):
            changes[key] = 1
    return transformer.set_params(**changes) if changes else transformer


def _warm_sample(y, classification, n):
    """Indices of ``n`` images for the warm-up: each class in turn (the first of each, the second...)."""
    if not classification:
        return np.arange(min(n, len(y)))
    order = np.argsort(y, kind="stable")
    labels, starts = np.unique(y[order], return_index=True)
    counts = np.diff(np.append(starts, len(y)))
    picked = []
    for rank in range(int(counts.max())):
        picked += [order[s + rank] for s, c in zip(starts, counts) if rank < c]
        if len(picked) >= n:
            break
    return np.sort(np.asarray(picked[:n]))


def _warm_up(pipeline, X, y, classification):
    """Fit a copy of ``pipeline`` on a few images, untimed (one epoch for networks, no output)."""
    warm = clone(pipeline)
    params = warm.get_params(deep=True)
    quiet = {}
    for key, value in params.items():
        last = key.rsplit("__", 1)[-1]
        if last == "max_epochs" and isinstance(value, (int, np.integer)):
            quiet[key] = 1
        elif last == "early_stopping" and value is True:
            quiet[key] = False
        elif last == "verbose" and isinstance(value, (bool, int, np.integer)):
            quiet[key] = False if isinstance(value, bool) else 0
    warm.set_params(**quiet)
    indices = _warm_sample(y, classification, WARMUP_IMAGES)
    with warnings.catch_warnings(), contextlib.redirect_stdout(sys.stderr), long_fit_lines_off():
        warnings.simplefilter("ignore")
        try:
            warm.fit(_take(X, indices), y[indices])
            warm.predict(_take(X, indices[:8]))
        except Exception:  # noqa: BLE001, S110 - a warm-up that fails warms up what it reached
            pass


def _on_gpu(pipeline):
    return any(
        key.rsplit("__", 1)[-1] == "device" and isinstance(value, str) and value.startswith(("cuda", "mps"))
        for key, value in pipeline.get_params(deep=True).items()
    )


class _FamilyRun:
    """The splits of one feature set, wherever they run; its result once the last one is in."""

    def __init__(self, feature_set, space, ctx):
        self.name = feature_set.name
        self.feature_set, self.space, self.ctx = feature_set, space, ctx
        n_splits = len(ctx.splits)
        self.records, self.fitted = [None] * n_splits, [None] * n_splits
        self.left = n_splits
        self.warmup_seconds, self.n_resumed = 0.0, 0
        self.per_image = self.transformer = self.data = None
        self.result = None

    def begin(self, scheduler):
        """Read stored splits back, warm up, [describe once,] run the first split here, queue the rest."""
        ctx, name = self.ctx, self.name
        pipeline = Pipeline(
            [("features", clone(self.feature_set.transformer)), ("estimator", clone(ctx.estimator))]
        )
        if ctx.verbose >= 2:
            _neural_verbose(pipeline.named_steps["features"])
        ctx.progress.start(name, len(self.records))
        stored = ctx.store.load(name) if ctx.store is not None else {}
        for i, split_id in enumerate(ctx.split_ids):
            if split_id in stored:
                self.records[i] = stored[split_id]
                ctx.progress.split_done(
                    name,
                    *split_id,
                    ctx.n_repeats,
                    ctx.n_folds,
                    self.records[i]["score"],
                    ctx.scoring,
                    stored=True,
                )
                self.left -= 1
        self.n_resumed = len(self.records) - self.left
        ctx.progress.resumed(self.n_resumed)
        todo = [i for i in range(len(self.records)) if self.records[i] is None]
        if not todo:
            with ctx.lock:
                return self._complete()
        start = time.perf_counter()
        _warm_up(pipeline, ctx.X, ctx.y, ctx.classification)
        self.warmup_seconds = time.perf_counter() - start
        self.data, job, space = ctx.X, pipeline, self.space
        if self.feature_set.precompute:
            # Described once, timed, in this process; then the estimator alone meets the folds.
            with ctx.progress.running(f"{name}: describing the {len(ctx.y)} images once"):
                self.transformer = pipeline.named_steps["features"].fit(ctx.X, ctx.y)
                start = time.perf_counter()
                self.data = np.asarray(self.transformer.transform(ctx.X), dtype=np.float64)
            self.per_image = (time.perf_counter() - start) / len(ctx.y)
            job = Pipeline(
                [("features", FunctionTransformer()), ("estimator", pipeline.named_steps["estimator"])]
            )
            if space:  # described once: only the estimator's settings can be searched
                grids = [
                    {k: v for k, v in g.items() if not k.startswith("features__")}
                    for g in _prefixed(space, "")
                ]
                space = [g for g in grids if g] or None
        ctx.progress.timing_starts()
        arguments = dict(
            scorer=ctx.scorer,
            scoring=ctx.scoring,
            space=space,
            tune_cv=ctx.tune_cv,
            tune_budget=ctx.tune_budget,
            random_state=ctx.random_state,
            classification=ctx.classification,
            redirect=ctx.verbose >= 2,
            groups=ctx.groups,
        )
        first = todo[0]
        with ctx.progress.running(split_label(name, *ctx.split_ids[first], ctx.n_repeats, ctx.n_folds)):
            outcome = _run_split(first, job, self.data, ctx.y, *ctx.splits[first], **arguments)
        self.finish(*outcome, scheduler)
        estimate = self.records[first]["seconds"]
        for i in todo[1:]:
            task = SplitTask(
                name, i, (i, job, self.data, ctx.y, *ctx.splits[i]), arguments, estimate, _on_gpu(pipeline)
            )
            scheduler.add(task)
        return None

    def finish(self, record, fitted_pipeline, scheduler):
        """Record a finished split (from any process); the result once it is the last."""
        with self.ctx.lock:  # the main thread's splits and the listener's (worker splits) in turn
            return self._record(record, fitted_pipeline, scheduler)

    def _record(self, record, fitted_pipeline, scheduler):
        ctx, i = self.ctx, record["index"]
        record["measured_in_main"] = record["pid"] == os.getpid()
        if self.per_image is not None:
            record["fit_time"] += self.per_image * record["n_train"]
            record["transform_seconds"] = self.per_image * record["n_test"]
            record["measured_in_main"] = True
            record["n_features"] = self.data.shape[1]
            fitted_pipeline = Pipeline(
                [("features", self.transformer), ("estimator", fitted_pipeline.named_steps["estimator"])]
            )
        record["repeat"], record["fold"] = ctx.split_ids[i]
        self.records[i], self.fitted[i] = record, fitted_pipeline
        if ctx.store is not None:
            ctx.store.save(self.name, {k: v for k, v in record.items() if k != "seconds"})
        self.left -= 1
        workers = scheduler.processes if scheduler.started else 1
        family_left = None
        if workers > 1 and not ctx.all_queued and self.left:
            # Until every feature set has queued its splits the queue's wait is unknown, but this
            # one's is not: on large images a user learns early that a family will take its minutes.
            queued = scheduler.work_left().get(self.name)
            family_left = sum(queued) if queued else self.left * record.get("seconds", 0.0)
        ctx.progress.split_done(
            self.name,
            *ctx.split_ids[i],
            ctx.n_repeats,
            ctx.n_folds,
            record["score"],
            ctx.scoring,
            workers=workers,
            seconds=record.get("seconds"),
            # Known once every feature set has queued its splits: before, some are still to come.
            left_in_all=queue_eta(scheduler.work_left(), workers) if ctx.all_queued else None,
            family_left=family_left,
        )
        return self._complete() if not self.left else None

    def _complete(self):
        self.result = _assemble(self.name, self.records, self.fitted, self.ctx)
        pids = {r["pid"] for r in self.records if "pid" in r}
        self.result.warmup_seconds, self.result.n_resumed = self.warmup_seconds, self.n_resumed
        self.result.parallel = max(1, len(pids))
        self.ctx.progress.finished(self.result, self.ctx.scoring)
        return self.result

    def time_transform(self, after_workers=False, min_seconds=0.1, max_calls=100):
        """The transform rate: the first test fold described again, here, once every split has run.

        Measured the same way whatever ``n_jobs`` and the order of the feature
        sets: in the main process with no worker running, by the pipeline
        fitted here on the first split, repeated until ``min_seconds`` are
        measured (at most ``max_calls`` times). Where describing the whole
        fold once would take much longer than that (by the split's own
        timing), its first images are described instead, enough for about
        half of ``min_seconds`` a call and at least ``TIMED_IMAGES_MIN``: a
        rate needs no more, and on large images a slow family's fold can take
        a minute to describe again. During the splits other
        processes may share the cores, and a pipeline fitted in a worker
        would pay set-up here on its first call. A set described once
        (``precompute``) keeps the rate of that description, which ran in
        this process, unless workers were running then (``after_workers``):
        describing again is what it avoids. The rate is stored with the
        split, for a resumed run to read back.
        """
        if self.result is None or (self.per_image is not None and not after_workers):
            return
        here = [
            i for i, r in enumerate(self.records) if self.fitted[i] is not None and r.get("measured_in_main")
        ]
        if not here:
            return
        features = self.fitted[here[0]].named_steps["features"]
        record = self.records[here[0]]
        test = self.ctx.splits[here[0]][1]
        per_image = record["transform_seconds"] / max(1, record["n_test"])
        if per_image > 0:
            test = test[: max(TIMED_IMAGES_MIN, math.ceil(min_seconds / 2 / per_image))]
        images = _take(self.ctx.X, test)
        seconds, n_images = 0.0, 0
        for _ in range(max_calls):
            start = time.perf_counter()
            features.transform(images)
            seconds += time.perf_counter() - start
            n_images += len(images)
            if seconds >= min_seconds:
                break
        self.result.transform_seconds, self.result.n_transformed = seconds, n_images
        record["rate"] = (seconds, n_images)
        if self.ctx.store is not None:
            self.ctx.store.save(self.name, {k: v for k, v in record.items() if k != "seconds"})


def _check_target_names(target_names, y, task):
    """Raise unless ``target_names[label]`` names every class label of ``y``.

    Names that did not fit (too few, or labels 1..4 for four names) were left off the
    figures and tables without a word.
    """
    if task != "classification":
        raise ValueError("target_names name the classes of a classification target; y is continuous.")
    check_target_names(target_names, y, name="y")


@contextlib.contextmanager
def _stop_on_interrupt():
    """Raise KeyboardInterrupt at the end of the block when Ctrl-C came during it, caught or not.

    skorch's ``fit`` catches KeyboardInterrupt and returns the network it had, as a user
    at a prompt wants; in a comparison that network was scored and stored as a trained
    fold, and the run went on. Only the main thread of a process can set a handler; the
    others run the block as it is.
    """
    previous = signal.getsignal(signal.SIGINT)
    if threading.current_thread() is not threading.main_thread() or previous in (signal.SIG_IGN, None):
        yield
        return
    interrupted = []

    def note(signum, frame):
        # Noted when the handler it replaces interrupts (Python's own raises KeyboardInterrupt).
        try:
            if not callable(previous):  # SIG_DFL
                raise KeyboardInterrupt
            previous(signum, frame)
        except KeyboardInterrupt:
            interrupted.append(signum)
            raise

    signal.signal(signal.SIGINT, note)
    try:
        with warnings.catch_warnings():
            # The estimator's warning speaks of a loop that goes on to its next fit and of
            # interrupted_; this one stops at the first Ctrl-C and says so itself.
            warnings.filterwarnings("ignore", message=r".*: training interrupted \(KeyboardInterrupt\)")
            yield
    finally:
        signal.signal(signal.SIGINT, previous)
    if interrupted:
        raise KeyboardInterrupt


#: Scorings computed from a split's predictions, as their scorers compute them from ``predict``.
_SCORES_FROM_PREDICTIONS = {
    "accuracy": accuracy_score,
    "balanced_accuracy": balanced_accuracy_score,
    "f1_macro": functools.partial(f1_score, average="macro"),
    "r2": r2_score,
}


def _run_split_in_worker(index, pipeline, X, y, train, test, **kwargs):
    """:func:`_run_split` in a worker process, after that process's own untimed warm-up of ``pipeline``."""
    key = fingerprint(pipeline)
    if key not in _WARMED:
        _warm_up(pipeline, X, y, kwargs["classification"])
        _WARMED.add(key)
    return _run_split(index, pipeline, X, y, train, test, **kwargs)


def _run_split(
    index,
    pipeline,
    X,
    y,
    train,
    test,
    *,
    scorer,
    space,
    tune_cv,
    tune_budget,
    random_state,
    classification,
    redirect,
    groups=None,
    scoring=None,
):
    """One split: [inner search,] fit, describe the test images, predict, score. Runs in any process."""
    started = time.perf_counter()
    output = contextlib.redirect_stdout(sys.stderr) if redirect else contextlib.nullcontext()
    # The split's own lines and heartbeat say how it goes: no lines of the network's long fits besides.
    with output, _stop_on_interrupt(), long_fit_lines_off():
        X_train, y_train = _take(X, train), y[train]
        best, tune_score, tune_seconds = None, np.nan, np.nan
        pipeline = clone(pipeline)
        if space is not None:
            start = time.perf_counter()
            best, tune_score, _ = inner_search(
                pipeline,
                space,
                X_train,
                y_train,
                scorer=scorer,
                cv=tune_cv,
                budget=tune_budget,
                random_state=random_state,
                classification=classification,
                groups=None if groups is None else groups[train],
            )
            tune_seconds = time.perf_counter() - start
            pipeline.set_params(**best)
        start = time.perf_counter()
        pipeline.fit(X_train, y_train)
        fit_time = time.perf_counter() - start
        X_test = _take(X, test)
        start = time.perf_counter()
        described = pipeline.named_steps["features"].transform(X_test)
        transform_seconds = time.perf_counter() - start
        final = pipeline.named_steps["estimator"]
        y_pred = np.asarray(final.predict(described))
        # The scorer would predict again (as long as the prediction above: 4.6 s of a GAN fold's
        # 3,584 features on 600 images by an SVC); accuracy and R^2 are scored from y_pred.
        metric = _SCORES_FROM_PREDICTIONS.get(scoring) if isinstance(scoring, str) else None
        score = float(metric(y[test], y_pred) if metric else scorer(final, described, y[test]))
    first = index == 0
    record = {
        "index": index,
        "score": score,
        "fit_time": fit_time,
        "transform_seconds": transform_seconds,
        "n_train": len(train),
        "n_test": len(test),
        "n_features": int(np.shape(described)[1]),
        "y_pred": y_pred,
        "best_params": best,
        "tune_score": tune_score,
        "tune_seconds": tune_seconds,
        "embedding": np.asarray(described, dtype=np.float64) if first else None,
        "training_history": _training_history(pipeline) if first else None,
        "pid": os.getpid(),
        "seconds": time.perf_counter() - started,
    }
    return record, pipeline


def _assemble(name, records, fitted, ctx):
    """The FeatureResult of one feature set from the records of its splits."""
    tests = [np.asarray(test) for _, test in ctx.splits]
    first_repeat = [i for i, (repeat, _) in enumerate(ctx.split_ids) if repeat == 0]
    timed = [r for r in records if r.get("measured_in_main", True)]
    rate = next((r["rate"] for r in records if "rate" in r), None)  # FamilyRun.time_transform's
    tuned = any(r["best_params"] is not None for r in records)
    return FeatureResult(
        name=name,
        n_features=int(records[0]["n_features"]),
        scores=np.array([r["score"] for r in records], dtype=float),
        fit_times=np.array([r["fit_time"] for r in records], dtype=float),
        transform_seconds=float(rate[0] if rate else sum(r["transform_seconds"] for r in timed)),
        n_transformed=int(rate[1] if rate else sum(r["n_test"] for r in timed)),
        y_true=np.concatenate([ctx.y[tests[i]] for i in first_repeat]),
        y_pred=np.concatenate([records[i]["y_pred"] for i in first_repeat]),
        test_indices=np.concatenate([tests[i] for i in first_repeat]),
        embedding=records[0]["embedding"],
        embedding_indices=tests[0],
        estimators=fitted,
        training_history=records[0]["training_history"],
        repeat_index=np.array([repeat for repeat, _ in ctx.split_ids]),
        fold_index=np.array([fold for _, fold in ctx.split_ids]),
        n_train=np.array([r["n_train"] for r in records]),
        n_test=np.array([r["n_test"] for r in records]),
        fold_test_indices=tests,
        fold_predictions=[r["y_pred"] for r in records],
        best_params=[r["best_params"] or {} for r in records] if tuned else None,
        tune_scores=np.array([r["tune_score"] for r in records], dtype=float) if tuned else None,
        tune_seconds=np.array([r["tune_seconds"] for r in records], dtype=float) if tuned else None,
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
