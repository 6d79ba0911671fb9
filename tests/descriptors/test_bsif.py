"""BSIF: filters learned by FastICA, codes against an ndimage reference, invariances, round trips."""

import importlib.util
import pickle

import numpy as np
import pytest
import skimage.data
from scipy import ndimage
from sklearn.base import clone
from sklearn.decomposition import FastICA
from sklearn.exceptions import NotFittedError
from sklearn.utils.estimator_checks import parametrize_with_checks

from skvision._testing import expected_failed_checks, peak_traced_bytes
from skvision.descriptors import BSIF
from skvision.descriptors import _bsif as bsif_module
from skvision.descriptors._base import torch_path_on_cpu
from skvision.descriptors._bsif import _sample_patches


@pytest.fixture(scope="module")
def textures():
    sources = (skimage.data.brick, skimage.data.grass, skimage.data.gravel)
    return np.stack([source()[:48, :48] for source in sources])


@pytest.fixture(scope="module")
def fitted(textures):
    return BSIF(n_filters=6, filter_size=5, n_patches=3000, random_state=0).fit(textures)


def test_filters_are_fastica_on_mean_free_patches(textures, fitted):
    # Learned on intensities in [0, 1] (uint8 / 255, the value-scale rule of skvision._images).
    patches = _sample_patches(textures / 255.0, 5, 3000, random_state=0)
    patches -= patches.mean(axis=1, keepdims=True)
    ica = FastICA(n_components=6, whiten="unit-variance", max_iter=1000, random_state=0).fit(patches)
    np.testing.assert_allclose(fitted.filters_.reshape(6, -1), ica.components_, atol=1e-12)
    assert fitted.filters_.shape == (6, 5, 5)
    np.testing.assert_allclose(fitted.filters_.sum(axis=(1, 2)), 0.0, atol=1e-12)
    # ICA filters turn the patches into uncorrelated, unit-variance responses.
    responses = (patches - patches.mean(axis=0)) @ fitted.filters_.reshape(6, -1).T
    np.testing.assert_allclose(np.cov(responses, rowvar=False, bias=True), np.eye(6), atol=1e-6)


def test_codes_equal_wrapped_correlation_with_each_filter(textures, fitted):
    features = fitted.set_params(normalize=None).transform(textures)
    for image, got in zip(textures.astype(np.float64), features):
        responses = [ndimage.correlate(image, f, mode="wrap") for f in fitted.filters_]
        codes = sum((r > 0).astype(int) << i for i, r in enumerate(responses))
        np.testing.assert_array_equal(got, np.bincount(codes.ravel(), minlength=64))
    fitted.set_params(normalize="l1")


def test_codes_ignore_brightness_and_contrast(textures, fitted):
    expected = fitted.transform(textures)
    np.testing.assert_array_equal(fitted.transform(textures * 0.37 + 40.0), expected)


def test_grid_names_and_torch_path(textures, fitted):
    gridded = clone(fitted).set_params(grid=(2, 3)).fit(textures)
    np.testing.assert_array_equal(gridded.filters_, fitted.filters_)
    features = gridded.transform(textures)
    assert features.shape == (3, 6 * 64)
    np.testing.assert_allclose(features.reshape(3, 6, 64).sum(-1), 1.0)
    assert gridded.get_feature_names_out()[-1] == "bsif_cell1_2_bin63"
    if importlib.util.find_spec("torch") is not None:
        with torch_path_on_cpu():
            np.testing.assert_array_equal(clone(gridded).fit(textures).transform(textures), features)


def test_clone_refits_the_same_filters_and_pickle_keeps_them(textures, fitted):
    refitted = clone(fitted).fit(textures)
    np.testing.assert_array_equal(refitted.filters_, fitted.filters_)
    restored = pickle.loads(pickle.dumps(fitted))
    np.testing.assert_array_equal(restored.filters_, fitted.filters_)
    np.testing.assert_array_equal(restored.transform(textures), fitted.transform(textures))
    other_seed = clone(fitted).set_params(random_state=1).fit(textures)
    assert not np.allclose(other_seed.filters_, fitted.filters_)


def test_channels_each_learns_one_filter_set_from_all_channels():
    rgb = skimage.data.astronaut()[:64:2, :64:2]
    bsif = BSIF(n_filters=4, filter_size=3, n_patches=2000, random_state=0, channels="each").fit(rgb[None])
    features = bsif.transform(rgb[None])
    assert features.shape == (1, 3 * 16)
    red_only = clone(bsif).set_params(channels="gray")
    red_only.fit(rgb[None, ..., 0])
    red_only.filters_ = bsif.filters_
    np.testing.assert_array_equal(features[:, :16], red_only.transform(rgb[None, ..., 0]))


def test_transform_before_fit_raises():
    with pytest.raises(NotFittedError):
        BSIF().transform(np.zeros((1, 16, 16)))


@pytest.mark.parametrize(
    "params, pattern",
    [
        ({"n_filters": 0}, "n_filters"),
        ({"n_filters": 17}, "n_filters"),
        ({"n_filters": 9, "filter_size": 3}, "n_filters=9 is too many for filter_size=3"),
        ({"filter_size": 4}, "filter_size"),
        ({"n_patches": 3}, "n_patches"),
        ({"random_state": "seed"}, "random_state"),
    ],
)
def test_invalid_parameters_are_named(params, pattern):
    images = np.random.default_rng(0).integers(0, 256, (2, 16, 16))
    with pytest.raises(ValueError, match=pattern):
        BSIF(**params).fit(images)


def test_flat_training_images_are_refused():
    with pytest.raises(ValueError, match=r"span only 0 dimension"):
        BSIF(n_patches=100).fit(np.full((3, 16, 16), 7.0))


def test_images_too_small_give_the_minimum_size():
    with pytest.raises(ValueError, match=r"at least 9x9 for filter_size=9"):
        BSIF(filter_size=9).fit(np.zeros((2, 8, 30)))


@parametrize_with_checks(
    [BSIF(n_filters=4, filter_size=3, n_patches=200, random_state=0)],
    expected_failed_checks=expected_failed_checks,
)
def test_sklearn_compatible(estimator, check):
    check(estimator)


def test_code_maps_in_blocks_of_images_are_the_same_and_stay_small(fitted, monkeypatch):
    # A whole chunk's responses are n_filters float64 arrays of the chunk's size: 537 MB per step for
    # the default 2**23-pixel chunks, memory the kernel zeroes first. Blocks of 2**16 pixels run 1.6-2.4x
    # faster and give the same codes as one image per block.
    from skvision._testing import peak_traced_bytes

    images = np.random.default_rng(0).integers(0, 256, (400, 48, 48)).astype(np.uint8)
    expected = fitted.transform(images)
    peak = peak_traced_bytes(lambda: fitted.transform(images))
    assert peak < 40e6, f"peak {peak / 1e6:.0f} MB for 400 48x48 images (113 MB in one block)"
    monkeypatch.setattr("skvision.descriptors._bsif._BLOCK_PIXELS", 1)  # one image per block
    np.testing.assert_array_equal(fitted.transform(images), expected)


def test_a_refit_that_fails_leaves_the_fitted_descriptor_as_it_was():
    # fit validated (and recorded) the new images' shape before learning the filters failed: the
    # descriptor then held the old filters beside the new shape, and refused its own training size.
    rng = np.random.default_rng(0)
    images = rng.integers(0, 256, (6, 24, 24), dtype=np.uint8)
    bsif = BSIF(n_filters=4, filter_size=5, n_patches=500, random_state=0).fit(images)
    expected = bsif.transform(images)
    with pytest.raises(ValueError, match="span only"):
        bsif.fit(np.full((6, 40, 40), 7, dtype=np.uint8))  # flat: no filters to learn
    assert bsif.image_shape_ == (24, 24)
    np.testing.assert_array_equal(bsif.transform(images), expected)


@pytest.mark.parametrize("channels", ["gray", "each"])
@pytest.mark.parametrize("dtype", [np.uint8, np.float32])
def test_fit_cuts_the_patches_of_the_whole_batch_a_chunk_at_a_time(channels, dtype, monkeypatch):
    # The float64 planes of every training image (10x the memory of uint8 RGB images, 15.6x with
    # channels='each') for 10,000 patches: a chunk of images at a time now, the same patches.
    rng = np.random.default_rng(0)
    images = rng.integers(0, 256, (30, 24, 24, 3), dtype=np.uint8)
    images = images if dtype == np.uint8 else (images / 255).astype(np.float32)
    bsif = BSIF(n_filters=4, n_patches=500, channels=channels, random_state=0).fit(images)
    planes = [bsif._fit_scale(plane, images.dtype) for _, plane in bsif._unscaled_planes(images)]
    whole = np.concatenate(planes).astype(np.float64)
    expected = _sample_patches(whole, bsif.filter_size, 500, random_state=0)
    monkeypatch.setattr(bsif_module, "_FIT_CHUNK_PIXELS", 7 * 24 * 24)  # chunks of 7 images
    np.testing.assert_array_equal(bsif._training_patches(images), expected)
    np.testing.assert_array_equal(clone(bsif).fit(images).filters_, bsif.filters_)


@pytest.mark.parametrize("channels, most", [("gray", 5.0), ("each", 3.0)])
def test_fit_memory_stays_near_the_images(channels, most):
    images = np.random.default_rng(0).integers(0, 256, (300, 128, 128, 3), dtype=np.uint8)
    peak = peak_traced_bytes(lambda: BSIF(channels=channels, random_state=0).fit(images))
    assert peak < most * images.nbytes, f"{peak / images.nbytes:.1f}x the images"  # was 10.7x and 16x
