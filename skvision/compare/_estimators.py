"""The final estimators a comparison puts after the features, by name, and the task of a target."""

from __future__ import annotations

from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.utils.multiclass import type_of_target

__all__ = ["ESTIMATORS", "make_estimator", "task_of"]


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


def task_of(y):
    """'regression' for a continuous target, else 'classification'."""
    return "regression" if type_of_target(y).startswith("continuous") else "classification"
