"""Colour histograms and moments: equal to skimage conversions + numpy histograms + scipy statistics."""

import pickle

import numpy as np
import pytest
import skimage.data
from scipy.stats import skew
from skimage.color import rgb2hsv, rgb2lab
from sklearn.base import clone
from sklearn.utils.estimator_checks import parametrize_with_checks

from skvision._images import ImageScaleError, ImageScaleWarning
from skvision._testing import expected_failed_checks
from skvision.descriptors import ColorHistogram
from skvision.descriptors._color import COLOR_SPACES, rgb_to_hsv


@pytest.fixture(scope="module")
def patches():
    """uint8 RGB patches: astronaut, chelsea, coffee, a random one, and a flat grey one."""
    rng = np.random.default_rng(0)
    return np.stack(
        [
            skimage.data.astronaut()[100:140, 180:220],
            skimage.data.chelsea()[100:140, 200:240],
            skimage.data.coffee()[150:190, 250:290],
            rng.integers(0, 256, size=(40, 40, 3), dtype=np.uint8),
            np.full((40, 40, 3), 128, dtype=np.uint8),
        ]
    )


def convert(image_uint8, color_space):
    rgb = image_uint8 / 255.0
    return {"rgb": rgb, "hsv": rgb2hsv(rgb), "lab": rgb2lab(rgb)}[color_space]


def reference(image_uint8, color_space, bins, histogram, moments):
    """One image: skimage conversion, numpy histograms over the documented ranges, scipy moments."""
    colors = convert(image_uint8, color_space).reshape(-1, 3)
    _, ranges = COLOR_SPACES[color_space]
    parts = []
    if histogram == "joint":
        hist, _ = np.histogramdd(colors, bins=bins, range=ranges)
        parts.append(hist.ravel() / len(colors))
    elif histogram == "marginal":
        for c in range(3):
            hist, _ = np.histogram(colors[:, c], bins=bins[c], range=ranges[c])
            parts.append(hist / len(colors))
    if moments:
        stats = []
        for c in range(3):
            channel = colors[:, c]
            flat = np.ptp(channel) == 0
            stats += [channel.mean(), channel.std(), 0.0 if flat else skew(channel)]
        parts.append(np.asarray(stats))
    return np.concatenate(parts)


@pytest.mark.parametrize("color_space", ["rgb", "hsv", "lab"])
@pytest.mark.parametrize("histogram, bins", [("joint", (4, 3, 5)), ("marginal", (8, 8, 8))])
def test_equals_skimage_conversion_and_numpy_histograms(patches, color_space, histogram, bins):
    descriptor = ColorHistogram(color_space=color_space, bins=bins, histogram=histogram).fit(patches)
    features = descriptor.transform(patches)
    for n, patch in enumerate(patches):
        np.testing.assert_allclose(
            features[n], reference(patch, color_space, bins, histogram, True), rtol=1e-9, atol=1e-12
        )
    assert np.allclose(
        features[:, : np.prod(bins) if histogram == "joint" else 24].sum(axis=1),
        1 if histogram == "joint" else 3,
    )


def test_own_hsv_conversion_is_skimage_bit_for_bit_on_every_8bit_colour():
    # ColorHistogram converts RGB to HSV itself (rgb2hsv was 60 % of its time): same bits, signs of
    # zero included, on all 2**24 colours and on floats with ties, greys, black and white.
    levels = np.arange(256)
    for red in np.array_split(levels, 32):
        cube = np.stack(np.meshgrid(red, levels, levels, indexing="ij"), axis=-1).reshape(-1, 256, 3) / 255.0
        ours, theirs = rgb_to_hsv(cube), rgb2hsv(cube)
        np.testing.assert_array_equal(ours, theirs)
        np.testing.assert_array_equal(np.signbit(ours), np.signbit(theirs))
    floats = np.random.default_rng(0).random((7, 9, 11, 3))
    floats[:2] = np.round(floats[:2] * 3) / 3  # ties between channels
    floats[2, :, :, 1] = floats[2, :, :, 0]
    floats[3] = 0.0
    floats[4] = 1.0
    np.testing.assert_array_equal(rgb_to_hsv(floats), rgb2hsv(floats))
    np.testing.assert_array_equal(rgb_to_hsv(floats[0, 0, 0]), rgb2hsv(floats[0, 0, 0]))  # one pixel


def test_moments_only_and_grid(patches):
    descriptor = ColorHistogram(color_space="lab", histogram=None, grid=(2, 1)).fit(patches)
    features = descriptor.transform(patches)
    names = descriptor.get_feature_names_out()
    assert (
        features.shape == (5, 18)
        and names[0] == "color_cell0_0_L_mean"
        and names[-1] == "color_cell1_0_b_skew"
    )
    for n, patch in enumerate(patches):
        expected = [reference(patch[rows], "lab", None, None, True) for rows in (slice(0, 20), slice(20, 40))]
        np.testing.assert_allclose(features[n], np.concatenate(expected), rtol=1e-9, atol=1e-9)


def test_value_range_from_dtype_and_rgba(patches):
    uint8 = ColorHistogram(color_space="hsv", bins=6).fit(patches)
    floats = ColorHistogram(color_space="hsv", bins=6).fit(patches / 255.0)
    assert uint8.value_range_ == (0.0, 255.0) and floats.value_range_ == (0.0, 1.0)
    np.testing.assert_allclose(
        floats.transform(patches / 255.0), uint8.transform(patches), rtol=1e-12, atol=1e-15
    )
    rgba = np.concatenate([patches, np.zeros(patches.shape[:3] + (1,), dtype=np.uint8)], axis=-1)
    np.testing.assert_array_equal(
        ColorHistogram(color_space="hsv", bins=6).fit_transform(rgba), uint8.transform(patches)
    )
    # Floats in 0-255 after a fit on [0, 1] floats are another scale (skvision._images).
    with pytest.raises(ImageScaleError, match=r"values in \[0, 255\]: pass X / 255"):
        floats.transform(patches.astype(np.float64))


def test_explicit_value_range_reads_later_batches_on_the_scale_of_fit(patches):
    histogram = ColorHistogram(color_space="rgb", bins=2, moments=False, value_range=(0, 255)).fit(patches)
    expected = histogram.transform(patches)
    # The same colours as floats in [0, 1]: read on fit's 8-bit scale, not all in the darkest bin.
    np.testing.assert_array_equal(histogram.transform(patches / 255.0), expected)
    with pytest.raises(ImageScaleError, match=r"fitted on uint8 images \(0-255\) but X is float64 .*X / 255"):
        histogram.transform(patches.astype(np.float64))
    # After a fit on floats given in 0-255, floats in [0, 1] look like another scale.
    on_floats = clone(histogram).fit(patches.astype(np.float64))
    np.testing.assert_array_equal(on_floats.transform(patches.astype(np.float64)), expected)
    with pytest.warns(ImageScaleWarning, match="255 times smaller look like another scale"):
        on_floats.transform(patches / 255.0)


def test_grey_input_is_rejected_with_a_clear_message():
    with pytest.raises(
        ValueError, match=r"colour images of shape \(N, H, W, 3\).*grey images of shape \(2, 8, 8\)"
    ):
        ColorHistogram().fit(np.zeros((2, 8, 8), dtype=np.uint8))
    fitted = ColorHistogram().fit(np.zeros((2, 8, 8, 3), dtype=np.uint8))
    with pytest.raises(ValueError, match=r"X has grey images .* fitted on 3-channel images of the same size"):
        fitted.transform(np.zeros((2, 8, 8, 1), dtype=np.uint8))  # one channel is grey too


def test_n_jobs_clone_pickle_and_names(patches):
    X = np.concatenate([patches] * 2)
    descriptor = ColorHistogram(bins=(4, 2, 2), grid=2, batch_size=3).fit(X)
    single = descriptor.transform(X)
    np.testing.assert_array_equal(clone(descriptor).set_params(n_jobs=2).fit(X).transform(X), single)
    np.testing.assert_array_equal(pickle.loads(pickle.dumps(descriptor)).transform(X), single)
    assert (
        len(descriptor.get_feature_names_out())
        == single.shape[1]
        == descriptor.n_features_out_
        == 4 * (16 + 9)
    )


@pytest.mark.parametrize(
    "params, match",
    [
        ({"bins": 0}, "bins"),
        ({"bins": (4, 4)}, "bins"),
        ({"color_space": "xyz"}, "color_space"),
        ({"histogram": "cumulative"}, "histogram"),
        ({"histogram": None, "moments": False}, "histogram=None and moments=False"),
        ({"value_range": (1, 1)}, "value_range"),
        ({"grid": -1}, "grid"),
    ],
)
def test_invalid_parameters_name_the_parameter(params, match):
    with pytest.raises(ValueError, match=match):
        ColorHistogram(**params).fit_transform(np.zeros((1, 8, 8, 3), dtype=np.uint8))


def test_images_smaller_than_the_grid_say_the_minimum_size():
    with pytest.raises(ValueError, match=r"at least 3x3 for grid=3"):
        ColorHistogram(grid=3).fit(np.zeros((1, 2, 8, 3), dtype=np.uint8))


@parametrize_with_checks([ColorHistogram(bins=2)], expected_failed_checks=expected_failed_checks)
def test_sklearn_compatible(estimator, check):
    check(estimator)
