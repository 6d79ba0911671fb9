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


def test_a_refit_that_fails_leaves_the_fitted_model_as_it_was():
    # A refit refused before training set classes_ (and a regressor's target scaling) from the new y and
    # kept the old network: four classes_ beside three outputs changed every label (0.92 -> 0.08), a
    # regressor predicted on the new targets' scale with the old weights.
    X, y = load_digits(return_X_y=True)
    X, y = X[:120], y[:120] % 3
    names = np.array(["brick", "grass", "gravel"])[y]
    small = dict(module__filters=4, module__fc_units=(8,), max_epochs=1, batch_size=32, random_state=0)
    classifier = CNNClassifier(**small, device="cpu").fit(X, names)
    before = classifier.predict_proba(X)
    lone = np.concatenate([names[:-1], ["asphalt"]])  # a class of one image: no stratified split
    with pytest.raises(ValueError, match="early_stopping"):
        classifier.set_params(early_stopping=True).fit(X, lone)
    assert classifier.classes_.tolist() == ["brick", "grass", "gravel"]
    np.testing.assert_array_equal(classifier.predict_proba(X), before)
    with pytest.raises(ValueError, match="class_weight"):
        classifier.set_params(early_stopping=False, class_weight={"gravel": 2.0}).fit(
            X[names != "gravel"], names[names != "gravel"]
        )
    np.testing.assert_array_equal(classifier.predict_proba(X), before)

    regressor = CNNRegressor(**small, device="cpu").fit(X, y.astype(float))
    predicted, scale = regressor.predict(X), regressor.y_scale_.copy()
    with pytest.raises(ValueError, match="dropout"):
        regressor.set_params(module__dropout=1.5).fit(X, 250.0 * y)
    np.testing.assert_array_equal(regressor.y_scale_, scale)
    np.testing.assert_array_equal(regressor.predict(X), predicted)

    # A first fit that fails leaves an unfitted estimator, not a half-fitted one.
    fresh = CNNClassifier(**small, device="cpu", early_stopping=True)
    with pytest.raises(ValueError, match="early_stopping"):
        fresh.fit(X, lone)
    assert not hasattr(fresh, "classes_")


def test_a_loss_that_stops_being_a_number_stops_the_fit():
    # A diverging fit went on to max_epochs on NaN weights without a word; NaN probabilities then gave
    # classes_[0] for every image (and score a number), a regressor NaN for every image.
    from skvision.neural._callbacks import NonFiniteLossError

    X, y = load_digits(return_X_y=True)
    X, y = X[:200], y[:200]
    small = dict(module__filters=4, module__fc_units=(8,), max_epochs=3, batch_size=32, random_state=0)
    classifier = CNNClassifier(**small, device="cpu", optimizer="sgd", lr=1e20)
    with pytest.raises(
        NonFiniteLossError,
        match=r"CNNClassifier: the training loss \(train_loss\) became nan "
        r"in epoch 1.*Lower lr \(it was 1e\+20\)\.$",
    ):
        classifier.fit(X, y)
    assert not hasattr(classifier, "net_")  # nothing half-fitted is left
    regressor = CNNRegressor(**small, device="cpu", optimizer="sgd", lr=0.1, standardize_targets=False)
    fitted = CNNRegressor(**small, device="cpu").fit(X, y.astype(float))
    expected = fitted.predict(X)
    with pytest.raises(ValueError, match="became nan in epoch 1.*keep standardize_targets=True"):
        regressor.fit(X, 1e6 * (1.0 + y))
    with pytest.raises(ValueError, match="became nan"):  # a refit that diverges keeps the model it had
        fitted.set_params(optimizer="sgd", lr=0.1, standardize_targets=False).fit(X, 1e6 * (1.0 + y))
    np.testing.assert_array_equal(fitted.predict(X), expected)
