"""Every public skvision estimator, with parameters small enough for quick tests.

One table shared by the cross-estimator tests (bad input, persistence,
determinism): a new public estimator joins them all by adding one line here.
"""

from __future__ import annotations

import numpy as np

import skvision

__all__ = ["ESTIMATORS", "IDS", "fast_net_params", "good_X", "good_y", "fit"]

_RNG = np.random.default_rng(0)
#: 12 grey 24x24 images, three classes.
X_GRAY = _RNG.integers(0, 256, size=(12, 24, 24), dtype=np.uint8)
#: 12 colour 24x24 images.
X_COLOUR = _RNG.integers(0, 256, size=(12, 24, 24, 3), dtype=np.uint8)
Y_CLASS = np.tile([0, 1, 2], 4)
Y_REG = np.linspace(0.0, 1.0, 12)


def fast_net_params(**extra):
    """Parameters of a neural estimator that trains in well under a second."""
    params = dict(max_epochs=1, batch_size=8, verbose=0, random_state=0, device="cpu")
    params.update(extra)
    return params


def _estimators():
    """(name, estimator, kind); kind is one of
    'unsupervised', 'colour' (needs colour images), 'classifier', 'regressor',
    'supervised-transformer' (a transformer that needs y), 'preprocessing'."""
    yield "LBP", skvision.LBP(), "unsupervised"
    yield "HOG", skvision.HOG(pixels_per_cell=(6, 6), cells_per_block=(2, 2)), "unsupervised"
    yield "GLCM", skvision.GLCM(), "unsupervised"
    yield "HuMoments", skvision.HuMoments(), "unsupervised"
    yield "ZernikeMoments", skvision.ZernikeMoments(), "unsupervised"
    yield "GaborBank", skvision.GaborBank(), "unsupervised"
    yield "LPQ", skvision.LPQ(), "unsupervised"
    yield "WLD", skvision.WLD(), "unsupervised"
    yield "BSIF", skvision.BSIF(), "unsupervised"
    yield "BagOfVisualWords", skvision.BagOfVisualWords(), "unsupervised"
    yield "ColorHistogram", skvision.ColorHistogram(), "colour"
    yield "CNNClassifier", skvision.CNNClassifier(**fast_net_params()), "classifier"
    yield "CNNRegressor", skvision.CNNRegressor(**fast_net_params()), "regressor"
    yield "CNNFeatures", skvision.CNNFeatures(**fast_net_params()), "supervised-transformer"
    yield "AutoencoderFeatures", skvision.AutoencoderFeatures(**fast_net_params()), "unsupervised"
    yield "GANFeatures", skvision.GANFeatures(**fast_net_params(filters=8)), "unsupervised"
    yield (
        "PretrainedFeatures",
        skvision.PretrainedFeatures(backbone="resnet10t", weights=None, input_size=32, device="cpu"),
        "unsupervised",
    )


#: (name, unfitted estimator, kind) for every public estimator taking images.
ESTIMATORS = list(_estimators())
IDS = [name for name, _, _ in ESTIMATORS]


def good_X(kind):
    """A valid image batch for an estimator of ``kind``."""
    return X_COLOUR if kind == "colour" else X_GRAY


def good_y(kind):
    """Valid targets for an estimator of ``kind`` (classes, or floats for regressors)."""
    return Y_REG if kind == "regressor" else Y_CLASS


def fit(estimator, kind, X=None, y=None):
    """``estimator.fit`` on the valid batch of ``kind`` (or on the given ``X`` / ``y``)."""
    X = good_X(kind) if X is None else X
    y = good_y(kind) if y is None else y
    return estimator.fit(X, y)
