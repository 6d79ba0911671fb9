"""The bad-input contract, proven across every public estimator.

Each public estimator x each kind of bad input: the documented exception type and
a message that names the problem. One table, so a new estimator joins by adding
one line to ESTIMATORS.
"""

from __future__ import annotations

import re

import numpy as np
import pytest
from sklearn.base import clone
from sklearn.exceptions import NotFittedError

from skvision import Grayscale, Resize
from tests._estimators import ESTIMATORS, IDS
from tests._estimators import fit as _fit
from tests._estimators import good_X as _good_X
from tests._estimators import good_y as _good_y

ESTIMATORS_BY_NAME = {name: (estimator, kind) for name, estimator, kind in ESTIMATORS}


# Bad image batches: (case id, batch maker, exception, message pattern).
def _mixed_sizes(kind):
    good = _good_X(kind)
    return [good[0], good[1], good[2, :20]]


BAD_IMAGES = [
    ("empty-batch", lambda kind: _good_X(kind)[:0], ValueError, "empty batch"),
    ("1-D", lambda kind: np.zeros(24), ValueError, r"\(N, H, W\)"),
    ("5-D", lambda kind: np.zeros((2, 24, 24, 3, 1)), ValueError, r"\(N, H, W\)"),
    ("NaN", lambda kind: np.where(_good_X(kind) > 250, np.nan, 1.0), ValueError, "NaN"),
    ("inf", lambda kind: np.where(_good_X(kind) > 250, np.inf, 1.0), ValueError, "infinite"),
    ("object-dtype", lambda kind: _good_X(kind).astype(object), TypeError, "dtype object"),
    ("strings", lambda kind: np.full(_good_X(kind).shape, "a"), TypeError, "dtype <U1"),
    ("mixed-sizes", _mixed_sizes, ValueError, r"same size.*ImageLoader\(image_size=\(height, width\)\)"),
    ("wrong-channel-count", lambda kind: np.zeros((12, 24, 24, 2), np.uint8), ValueError, "2 channels"),
]


@pytest.mark.parametrize("case, make_X, error, pattern", BAD_IMAGES, ids=[c[0] for c in BAD_IMAGES])
@pytest.mark.parametrize("name, estimator, kind", ESTIMATORS, ids=IDS)
def test_bad_images_in_fit(name, estimator, kind, case, make_X, error, pattern):
    X = make_X(kind)
    y = _good_y(kind)[: len(X)] if hasattr(X, "__len__") and len(X) else _good_y(kind)[:0]
    with pytest.raises(error, match=pattern):
        clone(estimator).fit(X, y)


# Estimators defined on images of any size, and why; every other one names its minimum.
NO_MINIMUM_SIZE = {
    "PretrainedFeatures": "resizes every image to the backbone's input size",
    "HuMoments": "moments exist for any image, down to one pixel",
    "ZernikeMoments": "moments exist for any image, down to one pixel",
    "ColorHistogram": "a histogram exists for any image, down to one pixel",
    "GaborBank": "the filter bank convolves with reflected borders, defined for any image size",
}
# Parameters that make the minimum size bite on 2x2 images where the defaults need less.
TOO_SMALL_PARAMS = {"GLCM": {"distances": (3,)}}


@pytest.mark.parametrize("name, estimator, kind", ESTIMATORS, ids=IDS)
def test_images_too_small(name, estimator, kind):
    if name in NO_MINIMUM_SIZE:
        pytest.skip(f"{name} {NO_MINIMUM_SIZE[name]}: no minimum")
    X = _good_X(kind)[:, :2, :2]
    estimator = clone(estimator).set_params(**TOO_SMALL_PARAMS.get(name, {}))
    with pytest.raises(ValueError, match=r"at least \d+x\d+"):
        _fit(estimator, kind, X=X)


@pytest.mark.parametrize("name, estimator, kind", ESTIMATORS, ids=IDS)
def test_y_of_wrong_length_and_y_with_nan(name, estimator, kind):
    if kind in ("unsupervised", "colour"):
        pytest.skip("unsupervised transformer: y is ignored, as in every sklearn transformer")
    with pytest.raises(ValueError, match=r"(?i)inconsistent|length|samples"):
        _fit(clone(estimator), kind, y=_good_y(kind)[:-1])
    y_nan = _good_y(kind).astype(float)
    y_nan[3] = np.nan
    with pytest.raises(ValueError, match=r"NaN"):
        _fit(clone(estimator), kind, y=y_nan)


@pytest.mark.parametrize("name, estimator, kind", ESTIMATORS, ids=IDS)
def test_transform_before_fit(name, estimator, kind):
    method = "predict" if kind in ("classifier", "regressor") else "transform"
    with pytest.raises(NotFittedError):
        getattr(clone(estimator), method)(_good_X(kind))


@pytest.mark.parametrize("name, estimator, kind", ESTIMATORS, ids=IDS)
def test_transform_with_another_image_size(name, estimator, kind):
    if name == "PretrainedFeatures":
        pytest.skip("PretrainedFeatures resizes every image to the backbone's input size")
    fitted = _fit(clone(estimator), kind)
    method = "predict" if kind in ("classifier", "regressor") else "transform"
    other = _good_X(kind)[:, :20, :22]
    with pytest.raises(ValueError, match=re.escape(str(_good_X(kind).shape[1:3])[:-1])):
        getattr(fitted, method)(other)


# The preprocessing steps share the image contract; Resize alone accepts images of mixed sizes
# (making them equal is its job), and neither learns anything in fit, so no size check at transform.
PREPROCESSING = [("Grayscale", Grayscale()), ("Resize", Resize((16, 16)))]


@pytest.mark.parametrize("case, make_X, error, pattern", BAD_IMAGES, ids=[c[0] for c in BAD_IMAGES])
@pytest.mark.parametrize("name, step", PREPROCESSING, ids=[n for n, _ in PREPROCESSING])
def test_bad_images_in_preprocessing(name, step, case, make_X, error, pattern):
    X = make_X("unsupervised")
    if name == "Resize" and case == "mixed-sizes":
        assert clone(step).fit_transform(X).shape == (3, 16, 16)
        return
    with pytest.raises(error, match=pattern):
        clone(step).fit_transform(X)


def test_transform_after_a_feature_count_changing_set_params_says_refit():
    from skvision import HOG

    X = _good_X("unsupervised")
    hog = HOG(pixels_per_cell=(6, 6), cells_per_block=(2, 2)).fit(X)
    with pytest.raises(
        ValueError, match=r"HOG: a parameter changed after fit \(set_params: orientations=9 -> 8\)"
    ):
        hog.set_params(orientations=8).transform(X)
    with pytest.raises(ValueError, match="fit it again"):
        hog.get_feature_names_out()  # the names would be of the new parameters, the features of the old
    assert hog.fit(X).transform(X).shape == (12, 288)
    # How the work runs may change: the same features.
    assert np.array_equal(hog.set_params(n_jobs=2, batch_size=5, verbose=0).transform(X), hog.transform(X))


# What fit learnt comes from the parameters of that fit: a parameter changed since (set_params) gave
# features of neither (LBP's variance bins learnt at another radius), the old ones (BSIF's 7x7 filters
# under filter_size=5, a codebook of 8 words under n_words=4), or a corrupted heap (LBP's compiled
# kernel writing 16 variance bins into a histogram of n_bins=5).
STALE_AFTER_SET_PARAMS = [
    ("BSIF", dict(random_state=0), dict(filter_size=5)),
    ("LBP", dict(method="var"), dict(R=3)),
    ("LBP", dict(method="var"), dict(n_bins=5)),
    ("BagOfVisualWords", dict(n_words=8, random_state=0), dict(n_words=4)),
    ("GLCM", dict(), dict(value_range=(0, 300))),
    ("ColorHistogram", dict(), dict(value_range=(0, 300))),
    ("HuMoments", dict(), dict(channels="each")),
]


@pytest.mark.parametrize(("name", "params", "change"), STALE_AFTER_SET_PARAMS)
def test_a_parameter_changed_after_fit_asks_for_a_refit(name, params, change):
    import skvision

    X = _good_X("unsupervised")
    if name in ("ColorHistogram", "HuMoments"):
        X = np.stack([X, X[::-1], X[:, ::-1]], axis=-1)  # colour images
    descriptor = getattr(skvision, name)(**params).fit(X)
    ((key, value),) = change.items()
    old = descriptor.get_params()[key]
    descriptor.set_params(**change)
    said = re.escape(f"{name}: a parameter changed after fit (set_params: {key}={old!r} -> {value!r})")
    with pytest.raises(ValueError, match=said + ".*fit it again"):
        descriptor.transform(X)
    with pytest.raises(ValueError, match=said):
        descriptor.get_feature_names_out()
    refit = descriptor.fit(X)
    assert refit.transform(X).shape == (len(X), len(refit.get_feature_names_out()))


def test_how_the_work_runs_and_a_histograms_normalisation_may_change_after_fit():
    import skvision

    X = _good_X("unsupervised")
    for descriptor in (skvision.BSIF(random_state=0), skvision.LBP(method="var")):
        descriptor.fit(X)
        raw = descriptor.set_params(normalize=None, n_jobs=2, batch_size=3).transform(X)
        assert np.array_equal(raw, clone(descriptor).fit(X).transform(X))  # = a fit with those parameters
        assert raw.sum(axis=1).min() > 1  # counts, not frequencies


def test_rgba_images_for_an_rgb_descriptor_are_told_how_to_drop_alpha():
    import skvision

    X = np.random.default_rng(0).integers(0, 256, (4, 8, 8, 3), dtype=np.uint8)
    rgba = np.concatenate([X, np.full((4, 8, 8, 1), 255, dtype=np.uint8)], axis=-1)
    with pytest.raises(
        ValueError, match=r"4-channel images .* 3-channel .* \(X\[\.\.\., :3\] keeps the first 3"
    ):
        skvision.ColorHistogram().fit(X).transform(rgba)


def test_n_jobs_zero_is_refused_by_the_descriptors_and_the_loader():
    """joblib's "n_jobs == 0 in Parallel has no meaning" came at transform, naming no class or parameter."""
    import skvision
    from skvision.preprocessing import ImageLoader

    X = _good_X("unsupervised")
    with pytest.raises(ValueError, match=r"'n_jobs' parameter of LBP must be .* Got 0 instead"):
        skvision.LBP(n_jobs=0).fit(X)
    # How the work runs may change after fit, but not to a value fit would refuse (2.5 ran as 2, "x"
    # raised "'<' not supported between instances of 'str' and 'int'").
    for value in (0, 2.5, "x"):
        lbp = skvision.LBP().fit(X).set_params(n_jobs=value)
        with pytest.raises(ValueError, match=rf"'n_jobs' parameter of LBP must be .* Got {value!r} instead"):
            lbp.transform(X)
    lbp = skvision.LBP().fit(X).set_params(batch_size=0)
    with pytest.raises(ValueError, match=r"'batch_size' parameter of LBP must be .* Got 0 instead"):
        lbp.transform(X)
    with pytest.raises(ValueError, match=r"'n_jobs' parameter of ImageLoader must be"):
        ImageLoader(n_jobs=0).fit(["a.png"])
