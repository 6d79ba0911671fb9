"""GLCM / Haralick features: equal to scikit-image's graycomatrix / graycoprops, batched."""

import pickle

import numpy as np
import pytest
import skimage.data
from skimage.feature import graycomatrix as sk_graycomatrix
from skimage.feature import graycoprops as sk_graycoprops
from sklearn.base import clone
from sklearn.utils.estimator_checks import parametrize_with_checks

from skvision._images import ImageScaleError, ImageScaleWarning
from skvision._testing import expected_failed_checks
from skvision.descriptors import GLCM, graycomatrix, graycoprops
from skvision.descriptors._glcm import GLCM_PROPERTIES, pixel_offsets

ANGLES = [0, np.pi / 4, np.pi / 2, 3 * np.pi / 4]
DEFAULT_PROPERTIES = ["contrast", "dissimilarity", "homogeneity", "energy", "correlation", "ASM", "entropy"]


@pytest.fixture(scope="module")
def real_crops():
    """uint8 crops of real images: camera, brick, and the luminance-free red plane of astronaut."""
    return np.stack(
        [
            skimage.data.camera()[100:164, 200:264],
            skimage.data.brick()[:64, :64],
            skimage.data.astronaut()[:64, 100:164, 0],
        ]
    )


def reference_features(image_levels, distances, angles, levels, symmetric, properties):
    """One image, scikit-image's functions, properties concatenated as GLCM orders them."""
    P = sk_graycomatrix(image_levels, distances, angles, levels=levels, symmetric=symmetric, normed=True)
    return np.concatenate([sk_graycoprops(P, prop).ravel() for prop in properties])


@pytest.mark.parametrize("symmetric", [False, True])
@pytest.mark.parametrize("normed", [False, True])
def test_graycomatrix_equals_skimage_on_random_images(symmetric, normed):
    rng = np.random.default_rng(0)
    images = rng.integers(0, 6, size=(4, 13, 17)).astype(np.uint8)
    distances = [1, 2, 3.5]
    angles = [0, np.pi / 6, np.pi / 4, np.pi / 2, 3 * np.pi / 4, np.pi, -np.pi / 3]
    P = graycomatrix(images, distances, angles, levels=6, symmetric=symmetric, normed=normed)
    assert P.shape == (4, 6, 6, 3, 7)
    for n in range(len(images)):
        expected = sk_graycomatrix(images[n], distances, angles, levels=6, symmetric=symmetric, normed=normed)
        assert P[n].dtype == expected.dtype
        np.testing.assert_array_equal(P[n], expected)


def test_graycomatrix_and_graycoprops_equal_skimage_on_real_images(real_crops):
    P = graycomatrix(real_crops, [1, 4], ANGLES, symmetric=True)  # uint8: 256 levels by default
    for n, image in enumerate(real_crops):
        expected = sk_graycomatrix(image, [1, 4], ANGLES, symmetric=True)
        np.testing.assert_array_equal(P[n], expected)
        for prop in GLCM_PROPERTIES:
            np.testing.assert_allclose(
                graycoprops(P, prop)[n], sk_graycoprops(expected, prop), rtol=1e-10, atol=1e-12, err_msg=prop
            )


def test_graycoprops_of_degenerate_matrices_follow_skimage():
    flat = np.full((1, 6, 6), 2, dtype=np.uint8)  # one level: correlation's marginals have std 0
    P = graycomatrix(flat, [1], ANGLES, levels=4)
    for prop in GLCM_PROPERTIES:
        np.testing.assert_allclose(graycoprops(P, prop)[0], sk_graycoprops(P[0], prop), err_msg=prop)


def test_offsets_round_like_skimage():
    # Offsets round half away from zero; pi/2 points one row down.
    offsets = pixel_offsets([1, 2], [0, np.pi / 4, np.pi / 2, 3 * np.pi / 4, np.pi])
    assert offsets[0].tolist() == [[0, 1], [1, 1], [1, 0], [1, -1], [0, -1]]
    assert offsets[1].tolist() == [[0, 2], [1, 1], [2, 0], [1, -1], [0, -2]]


@pytest.mark.parametrize("levels", [8, 16, 256])
def test_transformer_equals_skimage_after_integer_division(real_crops, levels):
    glcm = GLCM(distances=[1, 3], levels=levels, properties=GLCM_PROPERTIES).fit(real_crops)
    features = glcm.transform(real_crops)
    for n, image in enumerate(real_crops):
        expected = reference_features(image // (256 // levels), [1, 3], ANGLES, levels, True, GLCM_PROPERTIES)
        np.testing.assert_allclose(features[n], expected, rtol=1e-10, atol=1e-12)


def test_grid_cells_and_rotation_average_and_matrix(real_crops):
    glcm = GLCM(
        distances=[2],
        levels=4,
        symmetric=False,
        normed=False,
        properties=["matrix", "contrast", "correlation"],
        rotation_average=True,
        grid=(2, 3),
    ).fit(real_crops)
    features = glcm.transform(real_crops)
    names = glcm.get_feature_names_out()
    assert features.shape == (3, len(names)) == (3, 6 * (16 + 2))
    # Cells split 64 columns as 21 / 21 / 22; the last cell of the first row:
    cell = real_crops[:, 0:32, 42:64] // 64
    at = list(names).index("glcm_cell0_2_matrix0_0_d2")
    for n in range(3):
        counts = sk_graycomatrix(cell[n], [2], ANGLES, levels=4)  # raw counts: normed=False
        np.testing.assert_allclose(features[n, at : at + 16], counts.mean(axis=3).reshape(16))
        P = sk_graycomatrix(cell[n], [2], ANGLES, levels=4, normed=True)
        contrast = names.tolist().index("glcm_cell0_2_contrast_d2")
        correlation = names.tolist().index("glcm_cell0_2_correlation_d2")
        np.testing.assert_allclose(features[n, contrast], sk_graycoprops(P, "contrast").mean())
        np.testing.assert_allclose(features[n, correlation], sk_graycoprops(P, "correlation").mean())


def test_rotation_average_is_invariant_to_right_angle_rotations(real_crops):
    glcm = GLCM(distances=[1, 2], levels=16, rotation_average=True).fit(real_crops)
    rotated = np.rot90(real_crops, 1, axes=(1, 2))
    np.testing.assert_allclose(glcm.transform(rotated), glcm.transform(real_crops), rtol=1e-12)
    # Without averaging the angles swap places, so features differ.
    plain = GLCM(distances=[1], levels=16).fit(real_crops)
    assert not np.allclose(plain.transform(rotated), plain.transform(real_crops))


def test_value_range_is_inferred_from_dtype(real_crops):
    as_uint8 = GLCM(levels=8).fit(real_crops)
    as_float = GLCM(levels=8).fit(real_crops / 255.0)
    assert as_uint8.value_range_ == (0.0, 255.0) and as_float.value_range_ == (0.0, 1.0)
    np.testing.assert_allclose(
        as_float.transform(real_crops / 255.0), as_uint8.transform(real_crops), rtol=1e-12
    )
    explicit = GLCM(levels=8, value_range=(0, 255)).fit(real_crops.astype(np.float64))
    np.testing.assert_allclose(explicit.transform(real_crops.astype(float)), as_uint8.transform(real_crops))


def test_values_outside_the_value_range_raise(real_crops):
    glcm = GLCM().fit(real_crops / 255.0)
    # Floats in 0-255 after a fit on [0, 1] floats: another scale (skvision._images).
    with pytest.raises(ImageScaleError, match=r"values in \[7, 225\]: pass X / 255"):
        glcm.transform(real_crops.astype(np.float64))
    overshoot = real_crops / 255.0
    overshoot[0, 0, 0] = 1.2  # a little outside (0, 1): a warning from the rule, refused by GLCM
    with pytest.warns(ImageScaleWarning), pytest.raises(ValueError, match=r"1.2\].*value_range=\(0, 1\)"):
        glcm.transform(overshoot)
    with pytest.raises(ValueError, match="value_range"):
        GLCM().fit(real_crops.astype(np.float64))  # floats read on (0, 1)


def test_value_range_image_stretches_each_image(real_crops):
    glcm = GLCM(
        levels=8,
        value_range="image",
        properties=["matrix"],
        symmetric=False,
        normed=False,
        distances=[1],
        angles=[0],
    )
    stretched = glcm.fit_transform(real_crops)
    for n, image in enumerate(real_crops):
        low, high = image.min(), image.max()
        level = np.clip(np.floor((image - low) * 8.0 / (high - low)), 0, 7).astype(np.uint8)
        np.testing.assert_array_equal(stretched[n], sk_graycomatrix(level, [1], [0], levels=8).ravel())
    # A contrast change of the input leaves stretched features unchanged.
    np.testing.assert_array_equal(glcm.fit_transform(real_crops.astype(np.int64) * 2 + 10), stretched)


@pytest.fixture(scope="module")
def camera_patches():
    """144 uint8 32x32 patches of camera(): flat sky, the coat, the grass."""
    camera = skimage.data.camera()
    return np.stack([camera[r : r + 32, c : c + 32] for r in range(0, 384, 32) for c in range(0, 384, 32)])


@pytest.mark.parametrize("levels", [5, 8, 16])
def test_value_range_image_gives_uint8_and_its_float_copy_the_same_features(camera_patches, levels):
    glcm = GLCM(levels=levels, value_range="image", distances=[1, 2], properties=[*GLCM_PROPERTIES, "matrix"])
    on_uint8 = glcm.fit(camera_patches).transform(camera_patches)
    # Pixels exactly on a level boundary, (v - min) * levels / (max - min) an integer: in 8-bit
    # arithmetic exact, from X / 255 a rounding either side of it.
    low = camera_patches.min(axis=(1, 2), keepdims=True).astype(np.int64)
    span = camera_patches.max(axis=(1, 2), keepdims=True) - low
    on_boundary = ((camera_patches - low) * levels % span == 0) & (camera_patches > low)
    assert on_boundary.any(axis=(1, 2)).mean() > 0.2
    np.testing.assert_array_equal(glcm.transform(camera_patches / 255.0), on_uint8)
    on_floats = glcm.fit(camera_patches / 255.0)
    np.testing.assert_array_equal(on_floats.transform(camera_patches / 255.0), on_uint8)


def test_value_range_image_quantises_a_boundary_pixel_as_integer_arithmetic_does():
    x = np.array([[[0, 153, 153, 204], [0, 153, 153, 204]]], np.uint8)  # 153 * 8 / 204 = 6
    glcm = GLCM(
        levels=8, value_range="image", angles=[0], properties=["matrix"], symmetric=False, normed=False
    ).fit(x)
    matrix = glcm.transform(x / 255.0).reshape(8, 8)  # 0.6 * 8 / 0.8 is 5.999999999999999
    assert matrix[0, 6] == matrix[6, 6] == matrix[6, 7] == 2 and matrix.sum() == 6
    np.testing.assert_array_equal(glcm.transform(x), glcm.transform(x / 255.0))


def test_explicit_value_range_reads_later_batches_on_the_scale_of_fit(real_crops):
    glcm = GLCM(levels=8, value_range=(0, 255)).fit(real_crops)
    expected = glcm.transform(real_crops)
    # The same intensities in another dtype: read on fit's 8-bit scale, not quantised as all black.
    np.testing.assert_array_equal(glcm.transform(real_crops / 255.0), expected)
    # Floats holding 0-255 after a uint8 fit are another scale, refused as for value_range=None.
    with pytest.raises(ImageScaleError, match=r"fitted on uint8 images \(0-255\) but X is float64 .*X / 255"):
        glcm.transform(real_crops.astype(np.float64))
    # A narrower range: X / 255 is checked against it once on fit's scale, and named in X's units.
    inner = np.clip(real_crops, 50, 200)
    narrow = GLCM(levels=8, value_range=(50, 200)).fit(inner)
    np.testing.assert_array_equal(narrow.transform(inner / 255.0), narrow.transform(inner))
    named = r"\[0.027451, 0.882353\].*\(50, 200\).*\(0.196078, 0.784314\) for float64 images"
    with pytest.raises(ValueError, match=named):
        narrow.transform(real_crops / 255.0)


def test_explicit_value_range_after_a_fit_on_floats_taken_as_given(real_crops):
    glcm = GLCM(levels=8, value_range=(0, 255)).fit(real_crops.astype(np.float64))
    # The range says (0, 255): the same values as floats in [0, 1] would all be black.
    with pytest.warns(ImageScaleWarning, match="times smaller look like another scale"):
        glcm.transform(real_crops / 255.0)
    with pytest.raises(ImageScaleError, match=r"taken as given, but X is uint8 images"):
        glcm.transform(real_crops)


def test_explicit_value_range_on_integers_beyond_8_bits_is_the_callers_scale(real_crops):
    twelve_bit = real_crops.astype(np.int32) * 16
    glcm = GLCM(levels=8, value_range=(0, 4095))
    glcm.fit(real_crops)  # a first fit on uint8 does not make the refit read int32 as 8-bit levels
    features = glcm.fit(twelve_bit).transform(twelve_bit)
    np.testing.assert_array_equal(features, GLCM(levels=8).fit(real_crops).transform(real_crops))
    over = twelve_bit.copy()
    over[0, 0, 0] = 4096
    with pytest.raises(ValueError, match=r", 4096\] .*value_range=\(0, 4095\)"):
        glcm.transform(over)


def test_colour_images_each_channel():
    astronaut = skimage.data.astronaut()[None, 200:248, 200:248]
    glcm = GLCM(channels="each", levels=8, distances=[1], angles=[0], properties=["contrast"]).fit(astronaut)
    features = glcm.transform(astronaut)
    assert glcm.get_feature_names_out().tolist() == [f"glcm_c{c}_contrast_d1_a0" for c in range(3)]
    for c in range(3):
        expected = reference_features(astronaut[0, ..., c] // 32, [1], [0], 8, True, ["contrast"])
        np.testing.assert_allclose(features[0, c], expected[0])


def test_n_jobs_clone_pickle_and_names(real_crops):
    X = np.concatenate([real_crops] * 3)
    glcm = GLCM(distances=[1, 2], grid=2, batch_size=2).fit(X)
    single = glcm.transform(X)
    np.testing.assert_array_equal(clone(glcm).set_params(n_jobs=2).fit(X).transform(X), single)
    np.testing.assert_array_equal(pickle.loads(pickle.dumps(glcm)).transform(X), single)
    assert len(glcm.get_feature_names_out()) == single.shape[1] == glcm.n_features_out_ == 4 * 7 * 2 * 4


@pytest.mark.parametrize(
    "params, match",
    [
        ({"levels": 1}, "levels"),
        ({"distances": []}, "distances"),
        ({"distances": [0]}, "distances"),
        ({"angles": ["north"]}, "angles"),
        ({"distances": [1, 2, 1]}, r"distances must be distinct; got \[1, 2, 1\]"),  # repeated columns
        ({"angles": [0, 0]}, "angles must be distinct"),
        ({"angles": [0, 2 * np.pi]}, r"angles must be distinct \(modulo 2 pi\)"),  # the same offsets
        ({"angles": [0, 45, 90, 135]}, r"radians.*45 radians is more than a turn.*np.deg2rad"),  # degrees
        ({"properties": ["contrast", "shininess"]}, "properties"),
        ({"properties": []}, "properties"),
        ({"grid": 0}, "grid"),
        ({"grid": (2, 2, 2)}, "grid"),
        ({"value_range": (255, 0)}, "value_range"),
        ({"value_range": "auto"}, "value_range"),
        ({"channels": "rgb"}, "channels"),
    ],
)
def test_invalid_parameters_name_the_parameter(params, match):
    with pytest.raises(ValueError, match=match):
        GLCM(**params).fit(np.zeros((2, 16, 16), dtype=np.uint8))


def test_images_too_small_say_the_minimum_size():
    with pytest.raises(ValueError, match=r"at least 8x8 .*grid"):
        GLCM(distances=[3], grid=(2, 2)).fit(np.zeros((1, 7, 16), dtype=np.uint8))


@pytest.mark.parametrize(
    "images, kwargs, match",
    [
        (np.zeros((1, 5, 5)), {"levels": 4}, "integer images"),
        (np.full((1, 5, 5), 4, dtype=np.uint8), {"levels": 4}, "levels=4"),
        (np.zeros((1, 5, 5), dtype=np.int16), {}, "levels is required"),
        (np.full((1, 5, 5), -1, dtype=np.int16), {"levels": 4}, "non-negative"),
        (np.zeros((1, 5, 5, 3), dtype=np.uint8), {}, r"\(N, H, W\)"),
        (np.zeros((1, 5, 5), dtype=np.uint8), {"distances": [-1]}, "distances"),
        (np.zeros((1, 5, 5), dtype=np.uint8), {"angles": []}, "angles"),
    ],
)
def test_graycomatrix_rejects_bad_input(images, kwargs, match):
    args = {"distances": [1], "angles": [0], **kwargs}
    with pytest.raises(ValueError, match=match):
        graycomatrix(images, **args)


def test_graycoprops_rejects_bad_input():
    with pytest.raises(ValueError, match="prop"):
        graycoprops(np.ones((1, 4, 4, 1, 1)), "shininess")
    with pytest.raises(ValueError, match=r"\(N, L, L, D, A\)"):
        graycoprops(np.ones((4, 4, 1, 1)), "contrast")


@parametrize_with_checks(
    [GLCM(levels=4, grid=2, rotation_average=True)], expected_failed_checks=expected_failed_checks
)
def test_sklearn_compatible(estimator, check):
    check(estimator)


def test_counts_split_into_sub_batches_give_the_same_matrices(real_crops, monkeypatch):
    whole = graycomatrix(real_crops, [1, 2], ANGLES, levels=256)
    monkeypatch.setattr(
        "skvision.descriptors._glcm._MAX_COUNT_CELLS", 2 * 256 * 256
    )  # two images per bincount
    np.testing.assert_array_equal(graycomatrix(real_crops, [1, 2], ANGLES, levels=256), whole)


def test_wide_integer_ranges_quantise_by_integer_arithmetic():
    # value_range=(0, 10**7) on int32 data: 1428571 * 7 / 10**7 = 0.9999997 is within the float path's
    # 1e-6 tolerance of level 1, and took it; integer arithmetic (and scikit-image) say level 0.
    from skimage.feature import graycomatrix

    levels, span = 7, 10_000_000
    X = np.zeros((1, 4, 4), dtype=np.int32)
    X[0, :, 2:] = 1_428_571
    X[0, 0, 0] = span
    glcm = GLCM(
        distances=[1],
        angles=[0],
        levels=levels,
        value_range=(0, span),
        properties=["matrix"],
        normed=False,
        symmetric=False,
    ).fit(X)
    exact = np.minimum(X[0].astype(np.int64) * levels // span, levels - 1)
    expected = graycomatrix(exact.astype(np.uint8), [1], [0], levels=levels)[:, :, 0, 0]
    np.testing.assert_array_equal(glcm.transform(X).reshape(levels, levels), expected)
