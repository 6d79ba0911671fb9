"""CNN estimators as sklearn citizens: estimator checks, params, clone, pickle, Pipeline, search, CV."""

import functools

import joblib
import numpy as np
import pytest
import torch
from sklearn.base import clone
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import GridSearchCV, cross_validate
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import FunctionTransformer
from sklearn.utils.estimator_checks import parametrize_with_checks

from skvision import CNNClassifier, CNNFeatures, CNNRegressor
from skvision._testing import IMAGE_INPUT_REASON, expected_failed_checks
from skvision.datasets import load_digits
from skvision.neural.modules import ConvNet
from skvision.preprocessing import Resize

TINY = dict(module__filters=4, module__fc_units=(8,), max_epochs=2, batch_size=32, random_state=0)
# For the common checks: a tiny architecture without routed keyword arguments, since
# check_no_attributes_set_in_init compares the attributes to the signature.
TINY_CONVNET = functools.partial(ConvNet, filters=2, fc_units=(4,))

SUPERVISED_2D_CHECKS = (
    "check_classifier_data_not_an_array",
    "check_classifiers_classes",
    "check_classifiers_train",
    "check_class_weight_classifiers",
    "check_regressors_train",
    "check_regressor_data_not_an_array",
    "check_regressors_no_decision_function",
    "check_regressors_int",
    "check_supervised_y_2d",
    "check_estimators_partial_fit_n_features",
)


def _expected_failures(estimator):
    extra = {name: IMAGE_INPUT_REASON for name in SUPERVISED_2D_CHECKS}
    return expected_failed_checks(estimator, extra=extra)


@pytest.fixture(scope="module")
def digits():
    X, y = load_digits(return_X_y=True)
    return X[:200], y[:200]


@parametrize_with_checks(
    [
        CNNClassifier(module=TINY_CONVNET, max_epochs=1, random_state=0),
        CNNRegressor(module=TINY_CONVNET, max_epochs=1, random_state=0),
        CNNFeatures(module=TINY_CONVNET, max_epochs=1, random_state=0),
    ],
    expected_failed_checks=_expected_failures,
)
def test_sklearn_estimator_checks(estimator, check):
    check(estimator)


def test_routed_params_in_get_set_params_and_clone():
    clf = CNNClassifier(module__filters=8, optimizer__weight_decay=0.1)
    params = clf.get_params()
    assert params["module__filters"] == 8 and params["optimizer__weight_decay"] == 0.1
    clf.set_params(module__filters=16, lr=0.5, iterator_train__drop_last=True)
    cloned = clone(clf)
    assert cloned.get_params()["module__filters"] == 16 and cloned.lr == 0.5
    assert cloned.get_params()["iterator_train__drop_last"] is True
    assert "module__filters=16" in repr(clf)


def test_routed_params_reach_the_net(digits):
    X, y = digits
    clf = CNNClassifier(
        **TINY, module__kernel_size=5, optimizer="sgd", optimizer__momentum=0.8, lr_schedule=None
    )
    clf.fit(X, y)
    assert clf.net_.module_.features[0].kernel_size == (5, 5)
    assert isinstance(clf.net_.optimizer_, torch.optim.SGD)
    assert clf.net_.optimizer_.param_groups[0]["momentum"] == 0.8


def test_joblib_round_trip(tmp_path, digits):
    X, y = digits
    reg = CNNRegressor(**TINY).fit(X, y.astype(float))
    path = tmp_path / "reg.joblib"
    joblib.dump(reg, path)
    np.testing.assert_array_equal(joblib.load(path).predict(X), reg.predict(X))


def test_pipelines(digits):
    X, y = digits
    invert = FunctionTransformer(lambda images: 255 - images)
    pipe = make_pipeline(invert, CNNClassifier(**TINY)).fit(X, y)
    assert pipe.predict(X).shape == (len(X),)
    # LeNet-5 with valid convolutions needs 16x16: a Resize step in front makes the 8x8 digits fit.
    lenet = make_pipeline(
        Resize((16, 16)), CNNClassifier("lenet5", module__padding=0, max_epochs=1, random_state=0)
    )
    assert lenet.fit(X, y).predict(X[:4]).shape == (4,)
    with pytest.raises(ValueError, match="at least 16x16"):
        CNNClassifier("lenet5", module__padding=0).fit(X, y)
    features = make_pipeline(CNNFeatures(**{**TINY, "max_epochs": 6}), LogisticRegression(max_iter=500))
    features.fit(X, y)
    assert features.score(X, y) > 0.5


def test_grid_search_over_lr_module_augment_and_mixup(digits):
    X, y = digits
    grid = {
        "lr": [1e-3, 1e-2],
        "module__filters": [2, 4],
        "augment": ["none", "light"],
        "mixup": [0.0, 0.2],
    }
    search = GridSearchCV(CNNClassifier(module__fc_units=(8,), max_epochs=1, random_state=0), grid, cv=2)
    search.fit(X[:80], y[:80])
    assert len(search.cv_results_["params"]) == 16
    best = search.best_estimator_
    assert best.net_.module_.features[0].out_channels == search.best_params_["module__filters"]


def test_cross_validate_in_two_processes(digits):
    X, y = digits
    clf = CNNClassifier(module__filters=8, max_epochs=8, lr=0.01, batch_size=16, random_state=0)
    result = cross_validate(clf, X, y, cv=2, n_jobs=2)
    serial = cross_validate(clf, X, y, cv=2, n_jobs=1)
    # Seeded CPU training: the two worker processes reproduce the serial run exactly.
    np.testing.assert_array_equal(result["test_score"], serial["test_score"])
    assert np.all(result["test_score"] > 0.5)
