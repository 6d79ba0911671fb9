"""LPQ: hand-checked codes, a plain-loop STFT reference, blur insensitivity, the transformer."""

import importlib.util
import pickle

import numpy as np
import pytest
import skimage.data
from scipy import ndimage
from skimage.feature import local_binary_pattern
from sklearn.base import clone
from sklearn.utils.estimator_checks import parametrize_with_checks

from skvision._testing import expected_failed_checks
from skvision.descriptors import LPQ, _numba, local_phase_quantization
from skvision.descriptors._base import torch_path_on_cpu


@pytest.fixture(params=["numpy", "compiled"])
def route(request, monkeypatch):
    """Run a test through the numpy path and through the compiled (numba) kernel."""
    if request.param == "numpy":
        monkeypatch.setenv("SKVISION_NUMBA", "0")
        return request.param
    monkeypatch.delenv("SKVISION_NUMBA", raising=False)
    if not _numba.numba_available():
        pytest.skip("numba is not installed (the 'fast' extra): only the numpy path runs")
    return request.param


def both_routes(monkeypatch, function, *args, **kwargs):
    """``function(*args, **kwargs)`` through the numpy path and through the compiled kernel."""
    monkeypatch.setenv("SKVISION_NUMBA", "0")
    numpy_result = function(*args, **kwargs)
    monkeypatch.delenv("SKVISION_NUMBA")
    return numpy_result, function(*args, **kwargs)


def reference_codes(image, window_size, window="uniform", decorrelate=False, rho=0.9):
    """LPQ codes of one image by the definition: explicit STFT sums at each pixel.

    F(u, x) = sum_y f(x - y) w(y) exp(-2 pi i u.y) over the window, at the four
    frequencies of the reference code (x along columns): (a, 0), (0, a), (a, a),
    (-a, a), with a = 1 / window_size.
    """
    r = (window_size - 1) // 2
    offsets = np.arange(-r, r + 1)
    a = 1.0 / window_size
    freqs = [(a, 0.0), (0.0, a), (a, a), (-a, a)]  # (along x, along y)
    if window == "uniform":
        envelope = np.ones(window_size)
    else:
        sigma = (window_size - 1) / 4.0
        envelope = np.exp(-0.5 * (offsets / sigma) ** 2) / (np.sqrt(2 * np.pi) * sigma)
    kernels = []  # [y, x] complex kernel for each frequency
    for ux, uy in freqs:
        kx = envelope * np.exp(-2j * np.pi * ux * offsets)
        ky = envelope * np.exp(-2j * np.pi * uy * offsets)
        if window == "gaussian":
            # The reference code makes the windowed exponentials zero-mean (not the plain envelope).
            kx = kx - kx.mean() if ux else kx
            ky = ky - ky.mean() if uy else ky
        kernels.append(np.outer(ky, kx))
    rows, cols = image.shape[0] - 2 * r, image.shape[1] - 2 * r
    coefficients = np.zeros((8, rows, cols))
    for i in range(rows):
        for j in range(cols):
            cy, cx = i + r, j + r
            for k, kernel in enumerate(kernels):
                total = 0j
                for dy in offsets:
                    for dx in offsets:
                        total += image[cy - dy, cx - dx] * kernel[dy + r, dx + r]
                coefficients[2 * k, i, j] = total.real
                coefficients[2 * k + 1, i, j] = total.imag
    if decorrelate:
        flat = np.array([part(kernel).ravel() for kernel in kernels for part in (np.real, np.imag)])
        yy, xx = np.mgrid[:window_size, :window_size]
        pos = np.c_[yy.ravel(), xx.ravel()]
        distance = np.hypot(*(pos[:, None, :] - pos[None, :, :]).transpose(2, 0, 1))
        covariance = flat @ rho**distance @ flat.T
        scale = np.diag([1.000007, 1.000006, 1.000005, 1.000004, 1.000003, 1.000002, 1.000001, 1.0])
        vt = np.linalg.svd(scale @ covariance @ scale)[2]
        for row in vt:
            row *= np.sign(row[np.argmax(np.abs(row))])
        coefficients = np.einsum("ij,jhw->ihw", vt, coefficients)
    bits = coefficients > 1e-9 * np.abs(image).max() * window_size**2
    return (bits * (2 ** np.arange(8))[:, None, None]).sum(axis=0)


# ----------------------------------------------------------------- the code maps
@pytest.mark.usefixtures("route")
def test_impulse_codes_by_hand():
    # A unit impulse at offset p from the centre gives F(u) = exp(+2 pi i u.p) at the centre.
    impulse = np.zeros((1, 3, 3))
    impulse[0, 1, 1] = 1
    # p = 0: F = 1 at all four frequencies -> every real part positive, imaginary parts zero.
    assert local_phase_quantization(impulse, window_size=3, decorrelate=False)[0, 0, 0] == 0b01010101
    right = np.zeros((1, 3, 3))
    right[0, 1, 2] = 1
    # p = (x=1, y=0): F1 = F3 = exp(2 pi i / 3) (Re < 0, Im > 0), F2 = 1, F4 = exp(-2 pi i / 3).
    assert local_phase_quantization(right, window_size=3, decorrelate=False)[0, 0, 0] == 0b00100110
    below = np.zeros((1, 3, 3))
    below[0, 2, 1] = 1
    # p = (x=0, y=1): F1 = 1, F2 = F3 = F4 = exp(2 pi i / 3).
    assert local_phase_quantization(below, window_size=3, decorrelate=False)[0, 0, 0] == 0b10101001


@pytest.mark.usefixtures("route")
def test_flat_images_give_code_zero_whatever_their_level():
    flats = np.stack([np.full((9, 9), v) for v in (0.0, 1.0, 200.0, 1e6)])
    for window in ("uniform", "gaussian"):
        assert not local_phase_quantization(flats, window_size=5, window=window).any()


@pytest.mark.usefixtures("route")
@pytest.mark.parametrize("window", ["uniform", "gaussian"])
@pytest.mark.parametrize("decorrelate", [False, True])
@pytest.mark.parametrize("window_size", [3, 5])
def test_codes_equal_the_plain_loop_definition(window, decorrelate, window_size):
    image = np.random.default_rng(window_size).integers(0, 256, (11, 12)).astype(np.float64)
    expected = reference_codes(image, window_size, window, decorrelate)
    got = local_phase_quantization(image[None], window_size, window, decorrelate)[0]
    assert got.shape == (12 - window_size, 13 - window_size)
    np.testing.assert_array_equal(got, expected)


@pytest.mark.usefixtures("route")
def test_blur_changes_lpq_codes_far_less_than_lbp_codes():
    image = skimage.data.camera()[100:196, 100:196]

    def blur(sigma):  # a centrally symmetric blur, back on uint8 grey levels as LBP wants
        return np.rint(ndimage.gaussian_filter(image.astype(np.float64), sigma)).astype(np.uint8)

    inner = (slice(10, -10), slice(10, -10))  # the same pixels in both code maps
    for sigma in (0.5, 1.0):
        blurred = blur(sigma)
        lpq = local_phase_quantization(np.stack([image, blurred]), window_size=7)
        lpq_changed = np.mean(lpq[0][inner] != lpq[1][inner])
        lbp = [local_binary_pattern(im, 8, 1)[3:-3][inner] for im in (image, blurred)]
        lbp_changed = np.mean(lbp[0] != lbp[1])
        # Measured: 0.24 vs 0.41 at sigma 0.5, 0.56 vs 0.78 at sigma 1.
        assert lpq_changed < 0.75 * lbp_changed, (sigma, lpq_changed, lbp_changed)
    # ... and so do the histograms.
    blurred = blur(1.0)
    lpq_hist = LPQ().fit_transform(np.stack([image, blurred]))
    lbp_hist = [
        np.bincount(local_binary_pattern(im, 8, 1).astype(int).ravel(), minlength=256) / im.size
        for im in (image, blurred)
    ]
    assert np.abs(lpq_hist[0] - lpq_hist[1]).sum() < 0.5 * np.abs(lbp_hist[0] - lbp_hist[1]).sum()


def _code_test_images():
    rng = np.random.default_rng(7)
    ramp = np.tile(np.arange(30.0), (2, 30, 1))
    checker = (np.indices((2, 24, 24)).sum(axis=0) % 2) * 255.0
    return {
        "uint8 noise": rng.integers(0, 256, (40, 28, 28)).astype(np.float64),
        "camera": skimage.data.camera()[::4, ::4][None].astype(np.float64),
        "flat": np.full((2, 16, 16), 7.0),
        "ramp": ramp,  # responses that are exactly zero for some frequencies
        "transposed ramp": ramp.transpose(0, 2, 1),
        "checkerboard": checker,
        "unit floats": rng.random((10, 19, 33)),
        "negative": rng.normal(size=(5, 20, 20)) * 1e-3,
        "strided": rng.random((3, 40, 40))[:, ::2, 1::2],  # not contiguous
    }


@pytest.mark.parametrize(
    "params",
    [{}, {"window_size": 3}, {"window_size": 5, "rho": 0.5}, {"window": "gaussian"}, {"decorrelate": False}],
    ids=str,
)
def test_compiled_codes_are_bit_identical_to_the_numpy_path(params, monkeypatch):
    if not _numba.numba_available():
        pytest.skip("numba is not installed (the 'fast' extra)")
    for name, images in _code_test_images().items():
        numpy_codes, compiled_codes = both_routes(monkeypatch, local_phase_quantization, images, **params)
        assert compiled_codes.dtype == np.uint8
        np.testing.assert_array_equal(compiled_codes, numpy_codes, err_msg=name)
        # Not a trivially constant map: the test images exercise many codes.
        if name in ("uint8 noise", "camera"):
            assert len(np.unique(compiled_codes)) > 100


@pytest.mark.parametrize("normalize", ["l1", "l2", None])
def test_compiled_histograms_are_bit_identical_to_the_numpy_path(normalize, monkeypatch):
    if not _numba.numba_available():
        pytest.skip("numba is not installed (the 'fast' extra)")
    rgb = np.random.default_rng(3).integers(0, 256, (6, 23, 31, 3), dtype=np.uint8)
    for params in ({"grid": (2, 3)}, {"grid": 1, "channels": "each", "window_size": 5}):
        lpq = LPQ(normalize=normalize, **params).fit(rgb)
        numpy_features, compiled_features = both_routes(monkeypatch, lpq.transform, rgb)
        np.testing.assert_array_equal(compiled_features, numpy_features)


# ------------------------------------------------------------------ transformer
@pytest.mark.usefixtures("route")
def test_histograms_per_cell_shape_sum_and_content():
    images = np.random.default_rng(1).integers(0, 256, (3, 21, 20), dtype=np.uint8)
    lpq = LPQ(window_size=5, grid=(2, 3)).fit(images)
    features = lpq.transform(images)
    assert features.shape == (3, 2 * 3 * 256) == (3, lpq.n_features_out_)
    np.testing.assert_allclose(features.reshape(3, 6, 256).sum(axis=-1), 1.0)
    # Code maps (3, 17, 16): cell rows 0-7 | 8-16, cell columns 0-4 | 5-9 | 10-15.
    codes = local_phase_quantization(images, window_size=5)
    top_middle = codes[:, :8, 5:10].reshape(3, -1)
    expected = np.stack([np.bincount(c, minlength=256) / c.size for c in top_middle])
    np.testing.assert_allclose(features.reshape(3, 6, 256)[:, 1], expected)
    names = lpq.get_feature_names_out()
    assert names[0] == "lpq_cell0_0_bin0" and names[-1] == "lpq_cell1_2_bin255"
    raw = LPQ(window_size=5, normalize=None).fit_transform(images)
    assert raw.sum(axis=1).tolist() == [17 * 16] * 3
    # 'none' as LBP takes it (it was refused here, accepted there).
    np.testing.assert_array_equal(LPQ(window_size=5, normalize="none").fit_transform(images), raw)
    np.testing.assert_allclose(np.linalg.norm(LPQ(normalize="l2").fit_transform(images), axis=1), 1.0)


@pytest.mark.usefixtures("route")
def test_channels_each_describes_every_channel():
    rgb = np.random.default_rng(2).integers(0, 256, (2, 12, 12, 3), dtype=np.uint8)
    features = LPQ(window_size=3, channels="each").fit_transform(rgb)
    for c in range(3):
        one_channel = LPQ(window_size=3).fit_transform(rgb[..., c])
        np.testing.assert_array_equal(features[:, c * 256 : (c + 1) * 256], one_channel)


@pytest.mark.usefixtures("route")
def test_torch_path_parallel_chunks_clone_and_pickle_agree():
    images = skimage.data.brick()[:120, :120].reshape(4, 30, 120).copy()
    lpq = LPQ(window="gaussian", grid=2).fit(images)
    expected = lpq.transform(images)
    if importlib.util.find_spec("torch") is not None:
        with torch_path_on_cpu():
            np.testing.assert_array_equal(clone(lpq).fit(images).transform(images), expected)
    parallel = clone(lpq).set_params(n_jobs=2, batch_size=1).fit(images)
    np.testing.assert_array_equal(parallel.transform(images), expected)
    np.testing.assert_array_equal(pickle.loads(pickle.dumps(lpq)).transform(images), expected)


@pytest.mark.parametrize(
    "params, name",
    [
        ({"window_size": 4}, "window_size"),
        ({"window_size": 1}, "window_size"),
        ({"window": "hann"}, "window"),
        ({"rho": 1.0}, "rho"),
        ({"grid": (0, 2)}, "grid"),
        ({"normalize": "max"}, "normalize"),
    ],
)
def test_invalid_parameters_are_named(params, name):
    images = np.zeros((2, 16, 16))
    with pytest.raises(ValueError, match=name):
        LPQ(**params).fit(images)
    functional = {k: v for k, v in params.items() if k not in ("grid", "normalize")}
    if functional:
        with pytest.raises(ValueError, match=name):
            local_phase_quantization(images, **functional)


def test_images_too_small_give_the_minimum_size():
    with pytest.raises(ValueError, match=r"at least 9x9 for window_size=9"):
        LPQ(window_size=9).fit(np.zeros((2, 8, 20)))
    with pytest.raises(ValueError, match=r"at least 10x11 for window_size=7 and grid=\(4, 5\)"):
        LPQ(grid=(4, 5)).fit(np.zeros((2, 9, 20)))
    with pytest.raises(ValueError, match=r"at least 5x5 for window_size=5"):
        local_phase_quantization(np.zeros((1, 4, 4)), window_size=5)


@parametrize_with_checks([LPQ(window="gaussian", grid=2)], expected_failed_checks=expected_failed_checks)
def test_sklearn_compatible(estimator, check):
    check(estimator)


def test_float32_copies_of_8bit_images_give_the_uint8_features():
    # float32's rounding of X / 255 moved LPQ responses near 0 across the sign test: 14 values of 1,000
    # 64x64 photo crops (448 of 2.56 M on 10,000) differed from the uint8 images' features.
    import skimage.data

    rng = np.random.default_rng(0)
    camera = skimage.data.camera()
    X = np.stack([camera[r : r + 64, c : c + 64] for r, c in rng.integers(0, 440, (400, 2)).tolist()])
    fitted = LPQ().fit(X)
    np.testing.assert_array_equal(fitted.transform((X / 255).astype(np.float32)), fitted.transform(X))
