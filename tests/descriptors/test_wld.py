"""WLD: hand-checked maps and codes, a plain-loop reference, rotation, the transformer."""

import importlib.util
import math
import pickle

import numpy as np
import pytest
import skimage.data
from sklearn.base import clone
from sklearn.utils.estimator_checks import parametrize_with_checks

from skvision._testing import expected_failed_checks
from skvision.descriptors import WLD, weber_local_descriptor
from skvision.descriptors._base import torch_path_on_cpu


def reference_histogram(image, segments, orientations, segment_bins, alpha=3.0, beta=5.0):
    """WLD histogram of one image, pixel by pixel with the paper's formulas (scalar math)."""
    n_bins = segments * segment_bins
    hist = np.zeros((segments, orientations, segment_bins))
    for y in range(1, image.shape[0] - 1):
        for x in range(1, image.shape[1] - 1):
            centre = float(image[y, x])
            differences = float(image[y - 1 : y + 2, x - 1 : x + 2].sum()) - 9 * centre
            excitation = math.atan(alpha * differences / (centre + beta))
            theta = math.atan2(
                float(image[y - 1, x]) - float(image[y + 1, x]),
                float(image[y, x + 1]) - float(image[y, x - 1]),
            ) % (2 * math.pi)
            t = int(math.floor(theta / (2 * math.pi / orientations) + 0.5)) % orientations
            k = min(int(math.floor((excitation / math.pi + 0.5) * n_bins)), n_bins - 1)
            hist[k // segment_bins, t, k % segment_bins] += 1
    return hist.ravel()


def test_maps_and_code_by_hand():
    ramp = np.array([[[10, 20, 30], [40, 50, 60], [70, 80, 90]]], dtype=np.uint8)
    excitation, orientation = weber_local_descriptor(ramp)
    # Neighbours sum to 8 x the centre: no excitation. Gradient: up - down = -60, right - left = 20.
    assert excitation[0, 0, 0] == 0.0
    assert orientation[0, 0, 0] == pytest.approx(math.atan2(-60, 20) + 2 * math.pi)  # 288.4 degrees
    # xi = 0 is the middle of 24 excitation bins: segment 3, sub-bin 0; 288.4 degrees is nearest 270 (t = 6).
    features = WLD(normalize=None).fit_transform(ramp)
    assert features.shape == (1, 6 * 8 * 4)
    assert np.flatnonzero(features[0]).tolist() == [(3 * 8 + 6) * 4 + 0]

    spot = np.full((1, 3, 3), 10.0)
    spot[0, 1, 1] = 30.0
    excitation, orientation = weber_local_descriptor(spot, alpha=1.0, beta=5.0)
    assert excitation[0, 0, 0] == pytest.approx(math.atan(8 * (10 - 30) / 35))
    assert orientation[0, 0, 0] == 0.0


@pytest.mark.parametrize("segments, orientations, segment_bins", [(6, 8, 4), (3, 4, 1), (5, 6, 3)])
def test_histogram_equals_the_plain_loop(segments, orientations, segment_bins):
    image = skimage.data.brick()[100:140, 200:236]
    wld = WLD(segments=segments, orientations=orientations, segment_bins=segment_bins, normalize=None)
    got = wld.fit_transform(image[None])[0]
    np.testing.assert_array_equal(got, reference_histogram(image, segments, orientations, segment_bins))


def test_rotating_the_image_rotates_the_orientation_bins():
    image = skimage.data.gravel()[:48, :48]
    wld = WLD(segments=6, orientations=8, segment_bins=4).fit(image[None])
    hist = wld.transform(image[None]).reshape(6, 8, 4)
    rotated = wld.transform(np.rot90(image)[None]).reshape(6, 8, 4)
    # A quarter turn counter-clockwise adds 90 degrees (2 of 8 orientations) and keeps the excitation.
    np.testing.assert_array_equal(rotated, np.roll(hist, 2, axis=1))


def test_cells_names_and_normalisation():
    images = np.random.default_rng(0).integers(0, 256, (3, 14, 17), dtype=np.uint8)
    wld = WLD(segments=2, orientations=4, segment_bins=2, grid=(2, 3)).fit(images)
    features = wld.transform(images)
    assert features.shape == (3, 6 * 16)
    np.testing.assert_allclose(features.reshape(3, 6, 16).sum(-1), 1.0)
    names = wld.get_feature_names_out()
    assert names[0] == "wld_cell0_0_seg0_o0_bin0" and names[-1] == "wld_cell1_2_seg1_o3_bin1"
    # Cell (1, 2) of the 12x15 code map is rows 6-11, cols 10-14: image rows 6-13, cols 10-16.
    raw = WLD(segments=2, orientations=4, segment_bins=2, normalize=None)
    one_cell = raw.fit_transform(images[:, 6:, 10:])
    np.testing.assert_allclose(features.reshape(3, 6, 16)[:, 5], one_cell / 30)


def test_torch_path_and_pickle_agree():
    images = np.stack([skimage.data.brick()[:40, :40], skimage.data.grass()[:40, :40]])
    wld = WLD(grid=2, channels="gray").fit(images)
    expected = wld.transform(images)
    if importlib.util.find_spec("torch") is not None:
        with torch_path_on_cpu():
            np.testing.assert_array_equal(clone(wld).fit(images).transform(images), expected)
    np.testing.assert_array_equal(pickle.loads(pickle.dumps(wld)).transform(images), expected)


def test_negative_intensities_are_refused():
    images = np.random.default_rng(0).normal(size=(2, 8, 8))
    with pytest.raises(ValueError, match="non-negative"):
        WLD().fit_transform(images)
    with pytest.raises(ValueError, match="non-negative"):
        weber_local_descriptor(images)


@pytest.mark.parametrize(
    "params, name",
    [
        ({"segments": 0}, "segments"),
        ({"orientations": 0}, "orientations"),
        ({"segment_bins": 2.5}, "segment_bins"),
        ({"alpha": 0}, "alpha"),
        ({"beta": -1}, "beta"),
        ({"grid": (1, 0)}, "grid"),
    ],
)
def test_invalid_parameters_are_named(params, name):
    images = np.zeros((2, 8, 8))
    with pytest.raises(ValueError, match=name):
        WLD(**params).fit(images)
    if name in ("alpha", "beta"):
        with pytest.raises(ValueError, match=name):
            weber_local_descriptor(images, **params)


def test_images_too_small_give_the_minimum_size():
    with pytest.raises(ValueError, match=r"at least 3x3 for the 3x3 neighbourhood"):
        WLD().fit(np.zeros((2, 2, 9)))
    with pytest.raises(ValueError, match=r"at least 6x3 .*grid=\(4, 1\)"):
        WLD(grid=(4, 1)).fit(np.zeros((2, 5, 9)))


@parametrize_with_checks([WLD(grid=2)], expected_failed_checks=expected_failed_checks)
def test_sklearn_compatible(estimator, check):
    check(estimator)
