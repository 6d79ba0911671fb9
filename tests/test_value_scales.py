"""The value-scale rule of the image contract (skvision._images), across every public estimator.

One table of array faults: each public estimator is fitted once on uint8 images (the reference), then
given the same images in another dtype, on another scale, or broken. Each cell states the outcome:

* ``SAME``: the output on the uint8 images, to float tolerance;
* ``SAME_AS(make)``: the output on ``make(uint8 images)`` (booleans are uint8 0 / 255);
* ``Raises(error, pattern)``: that error, with a message matching the pattern;
* ``Warns(warning, pattern)``: that warning, and an output all the same.

Which column applies to an estimator is written in the contract: descriptors whose output ignores the
value scale, the ones that read intensities, and PretrainedFeatures, which reads only [0, 1] floats.
"""

from __future__ import annotations

import re
import warnings
from dataclasses import dataclass

import numpy as np
import pytest
from sklearn.base import clone

import skvision
from skvision import Grayscale, ImageScaleError, ImageScaleWarning, Resize
from skvision._images import ImageScale, check_images, check_scale, image_scale
from tests._estimators import ESTIMATORS, IDS, fast_net_params, good_X, good_y

#: The output does not depend on the value scale (skvision._images lists them, with the reasons).
INVARIANT = {"LBP", "HOG", "LPQ", "BSIF", "BagOfVisualWords"}
#: Reads float images as intensities in [0, 1] only, whatever fit saw.
UNIT_ONLY = {"PretrainedFeatures"}


def _column(name):
    if name in INVARIANT:
        return "invariant"
    return "unit-only" if name in UNIT_ONLY else "intensity"


@dataclass(frozen=True)
class Raises:
    error: type
    pattern: str


@dataclass(frozen=True)
class Warns:
    warning: type
    pattern: str


@dataclass(frozen=True)
class SameAs:
    make: object


@dataclass(frozen=True)
class Close:
    """The uint8 output, but for the few values a float32 rounding moves across a bin edge."""

    fraction: float


SAME = "same"

_FLOAT_0_255 = r"fitted on uint8 images \(0-255\) but X is float32 images with values in \[\d+, \d+\]: "
_ANOTHER_SCALE = Raises(ImageScaleError, _FLOAT_0_255 + r"pass X.astype\(np.uint8\) or X / 255")
_NOT_UNIT = Raises(ImageScaleError, r"reads float images as intensities in \[0, 1\], but X is .*X / 255")
_WIDE_INT = Raises(ImageScaleError, r"reads int64 images as 8-bit grey levels.*cast 16-bit data to np.uint16")
_A_LITTLE_OUT = Warns(ImageScaleWarning, r"a little outside the \[0, 1\] of float images")

# (case, make X from the uint8 reference images, {column: outcome}); one outcome for every column when a
# single value is given.
CASES = [
    ("uint8", lambda X: X, SAME),
    ("float64 in [0, 1]", lambda X: X / 255, SAME),
    ("float32 in [0, 1]", lambda X: (X / 255).astype(np.float32), SAME),
    ("uint16", lambda X: X.astype(np.uint16) * 257, SAME),
    ("int64 0-255", lambda X: X.astype(np.int64), SAME),
    ("bool", lambda X: X > 127, SameAs(lambda X: (X > 127).astype(np.uint8) * 255)),
    (
        "float32 0-255 after a uint8 fit",
        lambda X: X.astype(np.float32),
        {"invariant": SAME, "intensity": _ANOTHER_SCALE, "unit-only": _NOT_UNIT},
    ),
    (
        "float 0-65535",
        lambda X: X * 257.0,
        {
            "invariant": SAME,
            "intensity": Raises(
                ImageScaleError, r"values in \[\d+, \d+\]: pass X.astype\(np.uint8\) or X / 65535"
            ),
            "unit-only": Raises(ImageScaleError, r"X / 65535"),
        },
    ),
    (
        "negative floats (standardised)",
        lambda X: (X - 127.5) / 64,
        {
            "invariant": SAME,
            "intensity": Raises(
                ImageScaleError, r"values in \[-[\d.]+, [\d.]+\]: scale X the way the training"
            ),
            "unit-only": Raises(ImageScaleError, r"scale X the way the training images were"),
        },
    ),
    (
        # Passed with a warning that called them "a little outside" [0, 1]: a CNN scored 0.36 for 0.87.
        "centred floats (X / 255 - 0.5)",
        lambda X: X / 255 - 0.5,
        {
            "invariant": SAME,
            "intensity": Raises(ImageScaleError, r"\[-0.5, 0.5\]: scale X the way the training images were"),
            "unit-only": Raises(ImageScaleError, r"scale X the way the training images were"),
        },
    ),
    (
        # The error advised X.astype(np.uint8) or X / 255, which gave chance-level predictions.
        "floats in [0, 2] (X / 127.5)",
        lambda X: X / 127.5,
        {
            "invariant": SAME,
            "intensity": Raises(ImageScaleError, r"\[0, 2\]: scale X the way the training images were"),
            "unit-only": Raises(ImageScaleError, r"scale X the way the training images were"),
        },
    ),
    (
        "floats a little above 1",
        lambda X: X / 255 * 1.2,
        {"invariant": SAME, "intensity": _A_LITTLE_OUT, "unit-only": _A_LITTLE_OUT},
    ),
    (
        "int64 above 255",
        lambda X: X.astype(np.int64) * 16,
        {"invariant": SAME, "intensity": _WIDE_INT, "unit-only": _WIDE_INT},
    ),
    (
        "uint16 holding 8-bit values",
        lambda X: X.astype(np.uint16),
        {
            "invariant": SAME,
            "intensity": Raises(ImageScaleError, r"X is uint16 images whose values all stay at or below \d+"),
            "unit-only": Warns(ImageScaleWarning, r"8-bit data in a 16-bit array, read as near black"),
        },
    ),
    ("NaN", lambda X: np.where(X > 250, np.nan, X / 255), Raises(ValueError, "NaN")),
    ("inf", lambda X: np.where(X > 250, np.inf, X / 255), Raises(ValueError, "infinite")),
    ("object dtype", lambda X: X.astype(object), Raises(TypeError, "dtype object")),
    ("complex", lambda X: X.astype(np.complex128), Raises(ValueError, "Complex data not supported")),
    ("strings", lambda X: np.full(X.shape, "a"), Raises(TypeError, "dtype <U1")),
]
# Where a descriptor's own rule speaks after the value-scale rule: GLCM and ColorHistogram quantise on
# their value range and refuse values outside it (after the warning).
#
# Quantising descriptors see float32 intensities, rounded: a pixel on a bin edge may change bins.
#
# LBP codes ignore the scale (any positive factor) but not an offset: neighbours outside the image read
# 0 (scikit-image's zero padding), so border codes of standardised images are those of X - 127.5.
OVERRIDES = {
    ("LBP", "negative floats (standardised)"): SameAs(lambda X: X - 127.5),
    ("LBP", "centred floats (X / 255 - 0.5)"): SameAs(lambda X: X - 127.5),
    ("WLD", "float32 in [0, 1]"): Close(0.005),
    ("ColorHistogram", "float32 in [0, 1]"): Close(0.01),
    ("GLCM", "floats a little above 1"): Raises(ValueError, r"value_range=\(0, 1\)"),
    ("ColorHistogram", "floats a little above 1"): Raises(ValueError, r"value_range=\(0, 1\)"),
}


def _outcome(name, case, outcome):
    if (name, case) in OVERRIDES:
        return OVERRIDES[(name, case)]
    return outcome[_column(name)] if isinstance(outcome, dict) else outcome


def _method(kind):
    return "predict_proba" if kind == "classifier" else "predict" if kind == "regressor" else "transform"


_FITTED = {}


def _seeded(estimator):
    """``estimator`` with a fixed random_state where it has one: two fits then learn alike."""
    estimator = clone(estimator)
    if "random_state" in estimator.get_params():
        estimator.set_params(random_state=0)
    return estimator


def _fitted(name, estimator, kind):
    """The estimator fitted once on the uint8 images (shared by the cells of its row)."""
    if name not in _FITTED:
        _FITTED[name] = _seeded(estimator).fit(good_X(kind), good_y(kind))
    return _FITTED[name]


_DESCRIPTORS = {"GLCM", "HuMoments", "ZernikeMoments", "GaborBank", "WLD", "ColorHistogram"}


def _tolerance(name):
    """float64 descriptors agree to rounding (float32 input: its own rounding); float32 networks less."""
    return dict(rtol=1e-5, atol=1e-8) if name in _DESCRIPTORS | INVARIANT else dict(rtol=1e-4, atol=1e-5)


@pytest.mark.parametrize("case, make_X, outcome", CASES, ids=[c[0] for c in CASES])
@pytest.mark.parametrize("name, estimator, kind", ESTIMATORS, ids=IDS)
def test_value_scale_matrix(name, estimator, kind, case, make_X, outcome):
    fitted = _fitted(name, estimator, kind)
    method = getattr(fitted, _method(kind))
    X = good_X(kind)
    expected = _outcome(name, case, outcome)
    if isinstance(expected, Raises):
        with pytest.raises(expected.error, match=expected.pattern), warnings.catch_warnings():
            warnings.simplefilter("ignore", ImageScaleWarning)  # a warning may come before the error
            method(make_X(X))
        return
    tolerance = _tolerance(name)
    if isinstance(expected, Warns):
        with pytest.warns(expected.warning, match=expected.pattern):
            out = method(make_X(X))
        assert np.all(np.isfinite(out))
        return
    with warnings.catch_warnings():
        warnings.simplefilter("error", ImageScaleWarning)  # the right answer comes without a word
        out = method(make_X(X))
    if isinstance(expected, Close):
        reference = method(X)
        moved = ~np.isclose(out, reference, **tolerance)
        assert moved.mean() <= expected.fraction, f"{name}: {moved.mean():.2%} of the values moved"
        return
    reference = method(X) if expected == SAME else method(expected.make(X))
    np.testing.assert_allclose(out, reference, **tolerance, err_msg=f"{name}: {case}")


@pytest.mark.parametrize("name, estimator, kind", ESTIMATORS, ids=IDS)
def test_fit_records_the_scale_and_uint8_and_unit_floats_fit_alike(name, estimator, kind):
    """``input_scale_`` says what fit saw; a fit on X / 255 gives the model a fit on X gives."""
    X, y = good_X(kind), good_y(kind)
    on_uint8 = _fitted(name, estimator, kind)
    assert str(on_uint8.input_scale_) == "uint8 images (0-255)"
    on_floats = _seeded(estimator).fit(X / 255, y)
    assert on_floats.input_scale_.kind == "unit" and on_floats.input_scale_.dtype == "float64"
    method = _method(kind)
    tolerance = _tolerance(name)
    np.testing.assert_allclose(
        getattr(on_floats, method)(X / 255), getattr(on_uint8, method)(X), **tolerance, err_msg=name
    )


@pytest.mark.parametrize("name, estimator, kind", ESTIMATORS, ids=IDS)
def test_a_fit_on_floats_outside_0_1_wants_the_same_units_later(name, estimator, kind):
    """Floats outside [0, 1] are taken as given; integers later are another scale (if anything reads it)."""
    X, y = good_X(kind), good_y(kind)
    column = _column(name)
    if name in ("GLCM", "ColorHistogram"):
        with pytest.raises(ValueError, match=r"value_range=\(black, white\)"):
            clone(estimator).fit(X.astype(np.float64), y)  # they quantise on a value range: name it
        return
    if column == "unit-only":
        with pytest.raises(ImageScaleError, match=r"intensities in \[0, 1\]"):
            clone(estimator).fit(X.astype(np.float64), y)
        return
    fitted = _seeded(estimator).fit(X.astype(np.float64), y)
    assert fitted.input_scale_.kind == "float" and not fitted.input_scale_.follows_rule
    method = getattr(fitted, _method(kind))
    same_units = method(X.astype(np.float32))
    if column == "invariant":
        np.testing.assert_allclose(method(X), same_units, rtol=1e-7, atol=1e-9)
        return
    with pytest.raises(
        ImageScaleError, match=r"taken as given, but X is uint8 images.*X.astype\(np.float64\)"
    ):
        method(X)
    with pytest.warns(ImageScaleWarning, match=r"255 times smaller look like another scale"):
        method(X / 255)


def test_estimators_cover_every_public_estimator():
    """The columns above name real estimators: a renamed one cannot drop out of the matrix silently."""
    assert INVARIANT | UNIT_ONLY <= set(IDS)
    assert _DESCRIPTORS <= set(IDS)


# ------------------------------------------------------------------ the failures that motivated the rule
def test_cnn_fit_on_uint8_refuses_a_float32_copy_it_used_to_misread():
    """Fit on uint8 digits, predict on ``np.asarray(X, dtype=np.float32)``: an error, not 24 % agreement."""
    from skvision.datasets import load_digits

    X, y = load_digits(return_X_y=True)
    X, y = X[:300], y[:300]
    cnn = skvision.CNNClassifier(**fast_net_params(max_epochs=2)).fit(X, y)
    with pytest.raises(ImageScaleError, match=re.escape("pass X.astype(np.uint8) or X / 255")):
        cnn.predict(np.asarray(X, dtype=np.float32))
    np.testing.assert_array_equal(cnn.predict(X / 255.0), cnn.predict(X))


@pytest.mark.parametrize("cls", [skvision.GaborBank, skvision.ZernikeMoments, skvision.HuMoments])
def test_intensity_descriptors_agree_on_uint8_and_unit_floats(cls):
    """They used to give other features for X / 255 than for X."""
    from skvision.datasets import load_digits

    X = load_digits(return_X_y=True)[0][:50]
    np.testing.assert_allclose(cls().fit_transform(X / 255.0), cls().fit_transform(X), rtol=1e-9, atol=1e-12)
    fitted = cls().fit(X)
    np.testing.assert_allclose(fitted.transform(X / 255.0), fitted.transform(X), rtol=1e-9, atol=1e-12)
    with pytest.raises(ImageScaleError, match=r"pass X.astype\(np.uint8\) or X / 255"):
        fitted.transform(X.astype(np.float32))


@pytest.mark.parametrize(
    "descriptor",
    [skvision.WLD(), skvision.LBP(method="var"), skvision.HOG(block_norm=None)],
    ids=["WLD", "LBP-var", "HOG-unnormalised"],
)
def test_a_float_copy_of_8bit_images_fitted_and_described_alike_gives_the_8bit_features(descriptor):
    """Floats outside [0, 1] are taken as given: 0-255 floats are not read as [0, 1] intensities (x 255)."""
    from skvision.datasets import load_textures

    X = load_textures(patch_size=24, n_per_class=6, return_X_y=True)[0]
    for images in (X, X // 8):  # textures, and dark ones (values 0-31)
        expected = clone(descriptor).fit_transform(images)
        floats = images.astype(np.float64)
        np.testing.assert_allclose(clone(descriptor).fit(floats).transform(floats), expected, rtol=1e-12)
    # Floats in [0, 1] are still intensities: X / 255 reads as X.
    np.testing.assert_allclose(clone(descriptor).fit_transform(X / 255.0), clone(descriptor).fit_transform(X))


@pytest.mark.parametrize("name, estimator, kind", ESTIMATORS, ids=IDS)
def test_big_endian_16_bit_images_read_as_the_same_numbers(name, estimator, kind):
    """'>u2' arrays (a Pillow 'I;16B' TIFF, FITS) were read on the 8-bit scale: other features, no word."""
    X, y = good_X(kind), good_y(kind)
    native = X.astype(np.uint16) * 257
    big_endian = native.astype(">u2")
    model = _seeded(estimator).fit(native, y)
    assert str(_seeded(estimator).fit(big_endian, y).input_scale_) == "uint16 images (0-65535)"
    method = _method(kind)
    np.testing.assert_allclose(
        getattr(model, method)(big_endian), getattr(model, method)(native), rtol=1e-6, atol=1e-7, err_msg=name
    )


# ------------------------------------------------------------------ the rule itself
def test_scale_of_each_dtype_and_the_white_it_reads():
    cases = [
        (np.zeros((1, 2, 2), np.uint8), "uint8", 255.0),
        (np.zeros((1, 2, 2), np.uint16), "uint16", 65535.0),
        (np.zeros((1, 2, 2), np.int32), "int", 255.0),
        (np.full((1, 2, 2), 0.5), "unit", 1.0),
        (np.full((1, 2, 2), 3.0, np.float32), "float", 1.0),
    ]
    for X, kind, white in cases:
        images, scale = check_images(X, return_scale=True)
        assert (scale.kind, scale.white) == (kind, white), X.dtype
        assert scale == image_scale(images)
    images, scale = check_images(np.ones((1, 2, 2), bool), return_scale=True)
    assert scale == ImageScale("uint8", boolean=True) and images.max() == 255  # True is white: 255


class _Scanned(np.ndarray):
    """An array that records each ``min`` / ``max`` taken of it in ``_Scanned.calls``."""

    calls: list = []

    def min(self, *args, **kwargs):
        _Scanned.calls.append("min")
        return super().min(*args, **kwargs)

    def max(self, *args, **kwargs):
        _Scanned.calls.append("max")
        return super().max(*args, **kwargs)


def test_uint8_and_uint16_are_not_scanned_and_floats_are_scanned_once():
    """Telling scales apart costs nothing for 8- and 16-bit images; floats reuse the NaN check's range."""
    for dtype, expected in ((np.uint8, []), (np.uint16, []), (np.float32, ["min", "max"])):
        _Scanned.calls = []
        check_images(np.zeros((2, 4, 4), dtype).view(_Scanned), return_scale=True)
        assert _Scanned.calls == expected, dtype


@pytest.mark.parametrize("descriptor", [skvision.WLD(), skvision.GLCM()], ids=["WLD", "GLCM"])
def test_a_0_1_copy_of_boolean_training_masks_is_refused_and_a_0_255_one_is_read_alike(descriptor):
    """Masks fitted as booleans and described as uint8 0 / 1 used to be read as near-black images."""
    masks = np.random.default_rng(0).random((6, 16, 16)) > 0.5
    fitted = clone(descriptor).fit(masks)
    assert str(fitted.input_scale_) == "boolean images (False / True: black / white)"
    with pytest.raises(ImageScaleError, match=r"X is uint8 images of 0 and 1.*X.astype\(bool\)"):
        fitted.transform(masks.astype(np.uint8))
    np.testing.assert_array_equal(fitted.transform(masks.astype(np.uint8) * 255), fitted.transform(masks))


@pytest.mark.parametrize("bits", [8, 12])
def test_narrow_data_in_16_bit_training_images_is_named_and_full_range_data_is_not(bits):
    images = np.random.default_rng(1).integers(0, 2**bits, (5, 16, 16)).astype(np.uint16)
    with pytest.warns(ImageScaleWarning, match=rf"{bits}-bit data in a 16-bit array.*X / {2**bits - 1}"):
        skvision.GLCM().fit(images)
    with warnings.catch_warnings():
        warnings.simplefilter("error", ImageScaleWarning)
        fitted = skvision.GLCM().fit(images << (16 - bits))
        fitted.transform(images << (16 - bits))
        skvision.LBP().fit(images)  # its codes ignore the scale: not scanned, nothing to say


def test_the_container_checks_scan_only_where_the_dtype_cannot_tell():
    """uint8 and uint16 batches on the dtype fit saw are never scanned; a dtype change is, once."""
    X = np.random.default_rng(2).integers(0, 256, (4, 16, 16)).astype(np.uint8)
    fitted = skvision.WLD().fit(X)
    for batch, expected in ((X, []), (X.astype(np.uint16) * 257, ["max"])):
        _Scanned.calls = []
        fitted.transform(batch.view(_Scanned))
        # (WLD itself takes a minimum of each batch; the container check reads the maximum.)
        assert [call for call in _Scanned.calls if call == "max"] == expected, batch.dtype


def test_check_scale_cells_without_an_estimator():
    uint8 = ImageScale("uint8")
    unit = ImageScale("float64", 0.0, 1.0)
    check_scale(unit, owner="E", fitted=uint8)  # the same intensities
    check_scale(ImageScale("uint16"), owner="E", fitted=unit)
    check_scale(ImageScale("float32", -3.0, 300.0), owner="E")  # fit: floats taken as given
    check_scale(ImageScale("float32", 0.0, 1.0 + 1e-9), owner="E", fitted=uint8)  # rounding
    with pytest.raises(ImageScaleError, match=r"fitted on float64 images with values in \[0, 1\].*X / 255"):
        check_scale(ImageScale("float32", 0.0, 255.0), owner="E", fitted=unit)
    with pytest.warns(ImageScaleWarning, match="a little outside"):
        check_scale(ImageScale("float32", -0.1, 1.0), owner="E", fitted=uint8)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        check_scale(
            ImageScale("float32", 0.0, 0.0), owner="E", fitted=ImageScale("float32", 0.0, 255.0)
        )  # black
        check_scale(ImageScale("float32", -2.2, 2.9), owner="E", fitted=ImageScale("float32", -2.0, 3.1))


@pytest.mark.parametrize("step", [Grayscale(), Resize((12, 12))], ids=["Grayscale", "Resize"])
def test_preprocessing_records_the_scale_and_passes_it_through(step):
    X = good_X("colour")
    fitted = clone(step).fit(X)
    assert str(fitted.input_scale_) == "uint8 images (0-255)"
    assert fitted.transform(X).dtype == np.uint8
    floats = clone(step).fit(X / 255)
    assert floats.input_scale_.kind == "unit" and floats.transform(X / 255).max() <= 1.0


def test_resize_records_the_scale_of_images_of_mixed_sizes():
    images = [np.zeros((10, 12)), np.full((6, 6), 0.5)]
    assert str(Resize((8, 8)).fit(images).input_scale_) == "float64 images with values in [0, 0.5]"


def test_pipeline_of_preprocessing_and_descriptor_keeps_the_rule():
    from sklearn.pipeline import make_pipeline

    X = good_X("colour")[..., 0]  # grey: Grayscale passes it through (uint8 colour would be rounded)
    pipeline = make_pipeline(Grayscale(), skvision.GaborBank(frequencies=[0.2], orientations=2)).fit(X)
    np.testing.assert_allclose(pipeline.transform(X / 255), pipeline.transform(X), rtol=1e-6, atol=1e-9)
    with pytest.raises(ImageScaleError, match="GaborBank was fitted on uint8 images"):
        pipeline.transform(X.astype(np.float32))


def test_device_mps_is_refused_by_name_without_apples_gpu():
    """The device cell of the matrix: every estimator with a device says what it cannot honour."""
    import torch

    if torch.backends.mps.is_available():
        pytest.skip("Apple's GPU is present")
    for _, estimator, kind in ESTIMATORS:
        if "device" not in estimator.get_params():
            continue
        with pytest.raises(ValueError, match=r"device='mps'.*(Apple's GPU|cannot be honoured).*device='cpu'"):
            clone(estimator).set_params(device="mps").fit(good_X(kind), good_y(kind))


def test_labels_unseen_in_fit_are_named_when_scoring():
    X, y = good_X("classifier"), good_y("classifier")
    cnn = _fitted("CNNClassifier", dict((n, e) for n, e, _ in ESTIMATORS)["CNNClassifier"], "classifier")
    with pytest.warns(UserWarning, match=r"labels never seen in fit: 3 \(4 of 12 samples\).*classes=train"):
        score = cnn.score(X, np.where(y == 2, 3, y))
    assert score == pytest.approx(np.mean(cnn.predict(X) == np.where(y == 2, 3, y)))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        cnn.score(X[y < 2], y[y < 2])  # a subset of the classes: nothing to say


@pytest.mark.parametrize(
    "n, fraction, pattern",
    [
        (
            12,
            0.1,
            r"validation_fraction=0.1 of the 12 training images, 2 images.*"
            r"raise validation_fraction to at least 0.25",
        ),
        (4, 0.5, r"needs at least 2 images of every class; 2 class\(es\) have one \(1, 2\)"),
    ],
)
def test_early_stopping_on_tiny_data_names_validation_fraction(n, fraction, pattern):
    X, y = good_X("classifier")[:n], good_y("classifier")[:n]
    cnn = skvision.CNNClassifier(**fast_net_params(early_stopping=True, validation_fraction=fraction))
    with pytest.raises(ValueError, match=pattern):
        cnn.fit(X, y)
    skvision.CNNClassifier(**fast_net_params(early_stopping=True, validation_fraction=0.25)).fit(
        good_X("classifier"), good_y("classifier")
    )
