"""Hu's moments (equal to scikit-image) and Zernike moments (against direct sums and analytic values)."""

import math
import pickle

import numpy as np
import pytest
import skimage.data
from skimage.measure import moments_central, moments_hu, moments_normalized
from skimage.transform import rotate
from sklearn.base import clone
from sklearn.utils.estimator_checks import parametrize_with_checks

from skvision._testing import expected_failed_checks
from skvision.descriptors import HuMoments, ZernikeMoments, hu_moments, zernike_moments
from skvision.descriptors._moments import zernike_indices


def skimage_hu(image):
    return moments_hu(moments_normalized(moments_central(image.astype(np.float64))))


@pytest.fixture(scope="module")
def shapes_and_photos():
    rng = np.random.default_rng(0)
    shapes = np.zeros((3, 48, 48))
    shapes[0, 10:30, 5:40] = 1
    shapes[1][np.hypot(*np.mgrid[-20:28, -24:24]) < 15] = 1
    shapes[2, 30:45, 10:20] = 1
    shapes[2, 5:12, 20:44] = 3  # an asymmetric mass: odd-order moments and h7 non-zero
    photos = np.stack(
        [
            skimage.data.camera()[::8, ::8][:48, :48],
            skimage.data.brick()[:48, :48],
            (rng.random((48, 48)) * 255).astype(np.uint8),
        ]
    ).astype(np.float64)
    return np.concatenate([shapes, photos])


def test_hu_moments_equal_skimage(shapes_and_photos):
    hu = hu_moments(shapes_and_photos)
    for n, image in enumerate(shapes_and_photos):
        expected = skimage_hu(image)
        # Cancellation in h5..h7: compare against the size of the largest invariant.
        np.testing.assert_allclose(hu[n], expected, rtol=1e-7, atol=1e-12 * np.abs(expected).max())
    assert np.abs(hu[5, 6]) > 0  # the asymmetric shape has a non-zero skew invariant


def test_hu_moments_log_scale(shapes_and_photos):
    hu = hu_moments(shapes_and_photos)
    logged = hu_moments(shapes_and_photos, log_scale=True)
    # The rectangle and the disc are symmetric: their h3-h7 (and the disc's h2) are rounding noise,
    # 0 on the log scale; every other moment is -sign(h) log10|h|.
    noise = np.zeros_like(hu, dtype=bool)
    noise[0:2, 2:] = noise[1, 1] = True
    assert np.abs(hu[noise]).max() < 1e-25
    np.testing.assert_array_equal(logged[noise], 0.0)
    genuine = ~noise & (hu != 0)
    assert genuine.sum() == hu.size - noise.sum()
    np.testing.assert_allclose(logged[genuine], -np.sign(hu[genuine]) * np.log10(np.abs(hu[genuine])))
    transformer = HuMoments().fit(shapes_and_photos)  # log_scale=True by default
    np.testing.assert_allclose(transformer.transform(shapes_and_photos), logged)


def test_log_scaled_moments_of_a_symmetric_shape_do_not_depend_on_where_it_lies():
    # Before, their rounding noise (1e-30 to 1e-70) became +-30 to +-70, its sign flipping when the
    # shape moved by a pixel or came Fortran-ordered.
    rectangles = np.zeros((3, 32, 40), np.uint8)
    rectangles[0, 5:20, 10:30] = rectangles[1, 6:21, 10:30] = rectangles[2, 5:20, 11:31] = 200
    rows, cols = np.mgrid[:48, :48]
    discs = np.stack(
        [
            np.clip(255 - np.hypot(rows - 20 - shift, cols - 22) * 20, 0, 255).astype(np.uint8)
            for shift in (0, 1, 2)
        ]
    )
    for shapes in (rectangles, discs):
        features = HuMoments().fit_transform(shapes)
        np.testing.assert_allclose(features, features[[0, 0, 0]], rtol=1e-12)
        np.testing.assert_allclose(HuMoments().fit_transform(np.asfortranarray(shapes)), features, rtol=1e-12)
        np.testing.assert_array_equal(features[:, 2:], 0.0)  # h3-h7: 0 by the half-turn symmetry
    assert np.all(HuMoments().fit_transform(discs)[:, 1] == 0)  # and h2 by the quarter-turn
    # A mirror-symmetric arrow: the skew invariant h7 is 0, h3-h6 are not.
    arrow = np.zeros((1, 40, 40))
    arrow[0, 10:30, 17:23] = 1
    for row in range(8):
        arrow[0, 30 + row, 12 + row : 28 - row] = 1
    logged = HuMoments().fit_transform(arrow)[0]
    raw = skimage_hu(arrow[0])
    np.testing.assert_allclose(logged[:6], -np.sign(raw[:6]) * np.log10(np.abs(raw[:6])))
    assert abs(raw[6]) < 1e-20 * abs(raw[4]) ** 0.5 and logged[6] == 0.0


def test_a_single_bright_pixel_has_hu_moments_of_zero_wherever_it_lies():
    # Its spread is 0, but centring left 1e-14 in h1 and h2, which the log scale made -13.6 and 27.3
    # in one column, 14.5 and 29.1 in another (scikit-image: 0).
    points = np.zeros((6, 1, 24), np.uint8)
    points[np.arange(6), 0, [0, 3, 7, 11, 16, 23]] = 200
    np.testing.assert_array_equal(HuMoments().fit_transform(points), 0.0)
    pair = np.zeros((1, 9, 700), np.uint8)
    pair[0, 4, 650:652] = 255  # two pixels on a wide image still have a spread
    assert np.all(HuMoments().fit_transform(pair)[0, :2] != 0.0)
    np.testing.assert_allclose(
        HuMoments(log_scale=False).fit_transform(pair)[0, :2], skimage_hu(pair[0] / 255.0)[:2]
    )


def test_hu_moments_are_invariant_to_rotation_translation_and_scale(shapes_and_photos):
    shape = shapes_and_photos[3:4] * 0  # start from blank and draw an asymmetric object
    shape[0, 10:20, 8:30] = 1
    shape[0, 20:26, 8:12] = 2
    moved = np.roll(shape, (9, 11), axis=(1, 2))
    rotated = np.rot90(shape, 1, axes=(1, 2))
    scaled = np.kron(shape[:, 8:32, 6:30], np.ones((2, 2)))  # 24x24 crop holding the object, doubled
    hu = HuMoments(log_scale=False).fit(shape)
    reference = hu.transform(shape)
    for other in (moved, rotated):
        np.testing.assert_allclose(hu.transform(other), reference, rtol=1e-9, atol=1e-15)
    # Doubling pixels changes the discretisation of the second moments only slightly.
    np.testing.assert_allclose(hu.transform(scaled)[0, :2], reference[0, :2], rtol=0.02)


def test_blank_image_gets_zero_moments_and_negative_values_raise():
    assert np.all(hu_moments(np.zeros((1, 8, 8))) == 0)
    with pytest.raises(ValueError, match="non-negative"):
        HuMoments().fit(np.full((1, 8, 8), -1.0))
    fitted = HuMoments().fit(np.full((1, 8, 8), 2.0))
    with pytest.raises(ValueError, match="non-negative"):
        fitted.transform(np.full((1, 8, 8), -1.0))
    with pytest.raises(ValueError, match="log_scale"):
        hu_moments(np.ones((1, 8, 8)), log_scale="yes")


def direct_zernike(image, n, m):
    """One moment by a plain loop over pixels, with the textbook radial polynomial."""
    height, width = image.shape
    radius = min(height, width) / 2
    total = 0j
    for r in range(height):
        for c in range(width):
            x, y = (c - (width - 1) / 2) / radius, (r - (height - 1) / 2) / radius
            rho = math.hypot(x, y)
            if rho > 1:
                continue
            radial = sum(
                (-1) ** s
                * math.factorial(n - s)
                / (math.factorial(s) * math.factorial((n + m) // 2 - s) * math.factorial((n - m) // 2 - s))
                * rho ** (n - 2 * s)
                for s in range((n - m) // 2 + 1)
            )
            total += (
                image[r, c]
                * radial
                * complex(math.cos(m * math.atan2(y, x)), -math.sin(m * math.atan2(y, x)))
            )
    return (n + 1) / math.pi * total / radius**2


def test_zernike_moments_equal_a_direct_sum():
    rng = np.random.default_rng(1)
    images = rng.random((2, 9, 12))
    moments = zernike_moments(images, order=5)
    for k, (n, m) in enumerate(zernike_indices(5)):
        for i in range(2):
            assert moments[i, k] == pytest.approx(direct_zernike(images[i], n, m), rel=1e-10, abs=1e-12)


def test_zernike_moments_approach_the_analytic_integrals():
    # On the unit disc, f = rho**2 has Z_00 = 1/2 and Z_20 = 3/pi * int rho^2 (2 rho^2 - 1) dA = 1/2;
    # a constant 1 has Z_00 = 1 and every other moment 0.
    size = 96
    rows, cols = np.mgrid[0:size, 0:size] - (size - 1) / 2
    rho_squared = (rows**2 + cols**2) / (size / 2) ** 2
    indices = zernike_indices(4)
    moments = zernike_moments(np.stack([rho_squared, np.ones((size, size))]), order=4)
    assert moments[0, indices.index((0, 0))].real == pytest.approx(0.5, rel=0.01)
    assert moments[0, indices.index((2, 0))].real == pytest.approx(0.5, rel=0.01)
    assert moments[1, 0].real == pytest.approx(1.0, rel=0.01)
    others = [k for k, nm in enumerate(indices) if nm[0] > 0 and nm != (2, 0)]
    assert np.abs(moments[:, others]).max() < 0.01


def test_zernike_magnitudes_are_rotation_invariant():
    size = 96
    rows, cols = np.mgrid[0:size, 0:size]
    blobs = np.exp(-((rows - 30) ** 2 + (cols - 55) ** 2) / 150) + 0.5 * np.exp(
        -((rows - 60) ** 2 + (cols - 40) ** 2) / 80
    )
    zm = ZernikeMoments(order=8).fit(blobs[None])
    reference = zm.transform(blobs[None])[0]
    # Right angles permute the pixels of the inscribed disc: equal to rounding.
    np.testing.assert_allclose(zm.transform(np.rot90(blobs)[None])[0], reference, rtol=1e-10, atol=1e-14)
    # Arbitrary angles resample the image: equal to interpolation error.
    for angle in (30, 73):
        rotated = rotate(blobs, angle, order=3, mode="constant")[None]
        np.testing.assert_allclose(
            zm.transform(rotated)[0], reference, rtol=0.01, atol=0.01 * reference.max()
        )
    # The complex moments themselves do rotate: their phase changes with m.
    z = zernike_moments(np.stack([blobs, rotate(blobs, 30, order=3)]), order=2)
    m11 = zernike_indices(2).index((1, 1))
    assert abs(np.angle(z[1, m11] / z[0, m11])) == pytest.approx(np.radians(30), abs=0.01)


def test_zernike_feature_names_and_real_images():
    astronaut = skimage.data.astronaut()[None, :64, :64]
    zm = ZernikeMoments(order=3, channels="each").fit(astronaut)
    features = zm.transform(astronaut)
    names = zm.get_feature_names_out()
    assert names[:6].tolist() == [
        "zernike_c0_n0_m0",
        "zernike_c0_n1_m1",
        "zernike_c0_n2_m0",
        "zernike_c0_n2_m2",
        "zernike_c0_n3_m1",
        "zernike_c0_n3_m3",
    ]
    assert features.shape == (1, len(names)) == (1, 18)
    expected = np.abs(zernike_moments(astronaut[..., 1] / 255, order=3))  # uint8 read on [0, 1]
    np.testing.assert_allclose(features[:, 6:12], expected)


@pytest.mark.parametrize("estimator", [HuMoments(), ZernikeMoments(order=4)], ids=["hu", "zernike"])
def test_n_jobs_clone_pickle_and_names(estimator, shapes_and_photos):
    estimator = clone(estimator).set_params(batch_size=2).fit(shapes_and_photos)
    single = estimator.transform(shapes_and_photos)
    np.testing.assert_array_equal(
        clone(estimator).set_params(n_jobs=2).fit(shapes_and_photos).transform(shapes_and_photos), single
    )
    np.testing.assert_array_equal(pickle.loads(pickle.dumps(estimator)).transform(shapes_and_photos), single)
    assert len(estimator.get_feature_names_out()) == single.shape[1] == estimator.n_features_out_


@pytest.mark.parametrize(
    "estimator, match",
    [
        (ZernikeMoments(order=-1), "order"),
        (ZernikeMoments(order=2.5), "order"),
        (HuMoments(log_scale="yes"), "log_scale"),
    ],
)
def test_invalid_parameters_name_the_parameter(estimator, match):
    with pytest.raises(ValueError, match=match):
        estimator.fit_transform(np.ones((1, 8, 8)))


def test_functional_order_is_validated():
    with pytest.raises(ValueError, match="order"):
        zernike_moments(np.ones((1, 8, 8)), order=-2)


@parametrize_with_checks(
    [HuMoments(), ZernikeMoments(order=4)], expected_failed_checks=expected_failed_checks
)
def test_sklearn_compatible(estimator, check):
    check(estimator)
