"""The final estimators a comparison puts after the features, by name, and the task of a target."""

from __future__ import annotations

from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.utils.multiclass import type_of_target

__all__ = ["ESTIMATORS", "ESTIMATOR_SPACES", "make_estimator", "estimator_space", "task_of"]


def _svc(task, random_state):
    from sklearn.compose import TransformedTargetRegressor
    from sklearn.svm import SVC, SVR

    if task == "classification":
        return SVC()
    # SVR's epsilon (0.1) is in the target's units: a target spread over less than that (a contrast
    # in [0, 1], std 0.03) was predicted as a constant, R^2 -0.9 for every feature set, and the same
    # target x 100 ranked them. On the standardised target the scores do not depend on its units.
    return TransformedTargetRegressor(regressor=SVR(), transformer=StandardScaler())


#: The ridge penalties the regression counterpart of 'logreg' chooses from (efficient leave-one-out).
RIDGE_ALPHAS = (0.01, 0.1, 1.0, 10.0, 100.0, 1_000.0, 10_000.0)


def _logreg(task, random_state):
    from sklearn.linear_model import LogisticRegression, RidgeCV

    if task == "classification":
        return LogisticRegression(max_iter=2000)
    # A ridge of alpha 1 on more features than training images (324 HOG values, 120 images) scored
    # R^2 -1.2 where alpha 100 gave 0.8 and SVR 0.85: features compared by an unregularised fit.
    # RidgeCV picks alpha by leave-one-out on the training images, at the cost of one ridge fit.
    return RidgeCV(alphas=RIDGE_ALPHAS)


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
    "svc": (
        _svc,
        "standardised features -> RBF support vector machine (SVR on the standardised target for regression)",
    ),
    "logreg": (
        _logreg,
        "standardised features -> logistic regression (for regression: ridge, its alpha chosen by "
        "leave-one-out)",
    ),
    "knn": (_knn, "standardised features -> 5 nearest neighbours"),
    "rf": (_rf, "random forest of 200 trees"),
}


#: What ``compare_features(tune=True)`` searches for each named estimator: (classification grid,
#: regression grid), parameter names of the model itself (the scaler in front is not tuned).
ESTIMATOR_SPACES = {
    "svc": ({"C": [0.1, 1.0, 10.0, 100.0]}, {"regressor__C": [0.1, 1.0, 10.0, 100.0]}),
    # RidgeCV chooses its alpha in every fit: nothing for the search to add.
    "logreg": ({"C": [0.01, 0.1, 1.0, 10.0]}, {}),
    "knn": ({"n_neighbors": [1, 3, 5, 9, 15]}, {"n_neighbors": [1, 3, 5, 9, 15]}),
    "rf": ({"max_features": ["sqrt", 0.3, 1.0]}, {"max_features": ["sqrt", 0.3, 1.0]}),
}


def estimator_space(name, task="classification"):
    """The search space of the named estimator, as parameter names of :func:`make_estimator`'s result.

    Examples
    --------
    >>> estimator_space("svc")
    {'svc__C': [0.1, 1.0, 10.0, 100.0]}
    >>> estimator_space("rf", "regression")
    {'max_features': ['sqrt', 0.3, 1.0]}
    >>> estimator_space("svc", "regression")
    {'transformedtargetregressor__regressor__C': [0.1, 1.0, 10.0, 100.0]}
    """
    if name not in ESTIMATOR_SPACES:
        raise ValueError(f"Unknown estimator {name!r}; expected one of {sorted(ESTIMATOR_SPACES)}.")
    grid = ESTIMATOR_SPACES[name][0 if task == "classification" else 1]
    model = make_estimator(name, task)
    prefix = f"{model.steps[-1][0]}__" if hasattr(model, "steps") else ""
    return {prefix + key: list(values) for key, values in grid.items()}


def make_estimator(name="svc", task="classification", random_state=None):
    """The final estimator called ``name`` for ``task``, behind a StandardScaler.

    Examples
    --------
    >>> make_estimator("knn", "regression")
    Pipeline(steps=[('standardscaler', StandardScaler()),
                    ('kneighborsregressor', KNeighborsRegressor())])
    """
    try:
        build, _ = ESTIMATORS[name]
    except KeyError:
        raise ValueError(f"Unknown estimator {name!r}; expected one of {sorted(ESTIMATORS)}.") from None
    model = build(task, random_state)
    # Trees do not care about feature scales; everything else does.
    return model if name == "rf" else make_pipeline(StandardScaler(), model)


def task_of(y):
    """'regression' for a continuous target, else 'classification'."""
    return "regression" if type_of_target(y).startswith("continuous") else "classification"
