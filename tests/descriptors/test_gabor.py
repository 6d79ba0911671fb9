"""Gabor responses equal to scikit-image's gabor; the bank's statistics equal a plain per-image loop."""

import pickle
import re

import numpy as np
import pytest
import skimage.data
from skimage.filters import gabor as sk_gabor
from sklearn.base import clone
from sklearn.utils.estimator_checks import parametrize_with_checks

from skvision._testing import expected_failed_checks
from skvision.descriptors import GaborBank, gabor
from skvision.descriptors._base import torch_path_on_cpu


@pytest.fixture(scope="module")
def crops():
    """Real crops (camera, brick, astronaut luminance-free green plane) and a random image, float64."""
    rng = np.random.default_rng(0)
    return np.stack(
        [
            skimage.data.camera()[200:240, 100:140],
            skimage.data.brick()[:40, :40],
            skimage.data.astronaut()[100:140, 200:240, 1],
            rng.integers(0, 256, size=(40, 40)),
        ]
    ).astype(np.float64)


@pytest.mark.parametrize("mode", ["reflect", "mirror", "nearest", "wrap", "constant"])
def test_gabor_equals_skimage_for_every_mode(mode, crops):
    # Frequency 0.05 has a 69x69 kernel: larger than the 40x40 images, so borders extend repeatedly.
    for frequency, theta in [(0.05, 0.3), (0.25, np.pi / 2)]:
        real, imag = gabor(crops[:2], frequency, theta, mode=mode, cval=17.0)
        for n in range(2):
            expected_real, expected_imag = sk_gabor(crops[n], frequency, theta, mode=mode, cval=17.0)
            scale = np.abs(expected_real).max()
            np.testing.assert_allclose(real[n], expected_real, rtol=1e-9, atol=1e-10 * scale)
            np.testing.assert_allclose(imag[n], expected_imag, rtol=1e-9, atol=1e-10 * scale)


def test_gabor_kernel_options_pass_through(crops):
    kwargs = {"bandwidth": 1.5, "sigma_x": 2.0, "sigma_y": 4.0, "n_stds": 2.5, "offset": 0.7}
    real, imag = gabor(crops[1:3], 0.15, 1.1, **kwargs)
    for n in range(2):
        expected_real, expected_imag = sk_gabor(crops[n + 1], 0.15, 1.1, **kwargs)
        np.testing.assert_allclose(real[n], expected_real, rtol=1e-9, atol=1e-9)
        np.testing.assert_allclose(imag[n], expected_imag, rtol=1e-9, atol=1e-9)


def reference_bank(image, frequencies, angles, grid, mode="reflect"):
    """Per image, per filter: scikit-image responses, magnitude, mean and variance per cell."""
    rows, cols = grid
    height, width = image.shape
    per_filter = []
    for frequency in frequencies:
        for theta in angles:
            real, imag = sk_gabor(image, frequency, theta, mode=mode)
            magnitude = np.hypot(real, imag)
            cells = []
            for r in range(rows):
                for c in range(cols):
                    cell = magnitude[
                        r * height // rows : (r + 1) * height // rows,
                        c * width // cols : (c + 1) * width // cols,
                    ]
                    cells.append([cell.mean(), cell.var()])
            per_filter.append(cells)
    # (filters, cells, 2) -> cells first, as GaborBank reports them.
    return np.asarray(per_filter).transpose(1, 0, 2).ravel()


def test_bank_equals_a_loop_over_skimage(crops):
    bank = GaborBank(frequencies=[0.1, 0.3], orientations=3, grid=(2, 3), mode="nearest").fit(crops)
    features = bank.transform(crops)
    angles = [0, np.pi / 3, 2 * np.pi / 3]
    for n, image in enumerate(crops):
        expected = reference_bank(image, [0.1, 0.3], angles, (2, 3), mode="nearest")
        np.testing.assert_allclose(features[n], expected, rtol=1e-8)
    names = bank.get_feature_names_out()
    assert names[0] == "gabor_cell0_0_f0.1_a0_mean" and names[-1] == "gabor_cell1_2_f0.3_a120_var"


def test_orientations_as_angles_and_uint8_input(crops):
    as_uint8 = crops[:2].astype(np.uint8)
    bank = GaborBank(frequencies=[0.2], orientations=[0.0, 1.0]).fit(as_uint8)
    features = bank.transform(as_uint8)
    # uint8 is read as intensities on [0, 1] (the value-scale rule of skvision._images), and
    # computed in float: skimage would truncate responses to uint8 given uint8 input.
    for n in range(2):
        np.testing.assert_allclose(
            features[n], reference_bank(crops[n] / 255, [0.2], [0.0, 1.0], (1, 1)), rtol=1e-8
        )
    assert bank.get_feature_names_out()[2] == "gabor_f0.2_a57.2958_mean"


def test_magnitudes_do_not_depend_on_the_half_turn():
    stripes = np.sin(np.arange(32) * 0.7)[None, None, :] * np.ones((1, 32, 1))
    angle = GaborBank(frequencies=[0.11], orientations=[0.4]).fit_transform(stripes)
    opposite = GaborBank(frequencies=[0.11], orientations=[0.4 + np.pi]).fit_transform(stripes)
    np.testing.assert_allclose(angle, opposite, rtol=1e-9)


def test_torch_path_on_cpu_matches_numpy(crops):
    pytest.importorskip("torch")
    params = {"frequencies": [0.05, 0.25], "orientations": 2, "grid": 2, "mode": "constant", "cval": 3.0}
    numpy_features = GaborBank(**params).fit_transform(crops)
    with torch_path_on_cpu():
        torch_features = GaborBank(**params).fit_transform(crops)
    np.testing.assert_allclose(torch_features, numpy_features, rtol=1e-9)


def test_colour_images_each_channel():
    astronaut = skimage.data.astronaut()[None, 50:82, 50:82]
    bank = GaborBank(frequencies=[0.2], orientations=1, channels="each").fit(astronaut)
    features = bank.transform(astronaut)
    assert bank.get_feature_names_out().tolist() == [
        f"gabor_c{c}_f0.2_a0_{s}" for c in range(3) for s in ("mean", "var")
    ]
    for c in range(3):
        np.testing.assert_allclose(
            features[0, 2 * c : 2 * c + 2],
            reference_bank(astronaut[0, ..., c] / 255, [0.2], [0], (1, 1)),
        )


def test_n_jobs_clone_pickle_and_names(crops):
    X = np.concatenate([crops] * 2)
    bank = GaborBank(frequencies=[0.1, 0.2], orientations=2, grid=2, batch_size=3).fit(X)
    single = bank.transform(X)
    np.testing.assert_array_equal(clone(bank).set_params(n_jobs=2).fit(X).transform(X), single)
    np.testing.assert_array_equal(pickle.loads(pickle.dumps(bank)).transform(X), single)
    assert len(bank.get_feature_names_out()) == single.shape[1] == bank.n_features_out_ == 4 * 4 * 2


@pytest.mark.parametrize(
    "params, match",
    [
        ({"frequencies": []}, "frequencies"),
        ({"frequencies": [0.1, -0.2]}, "frequencies"),
        ({"frequencies": [0.1, 2.0]}, r"at most 0.5 cycles per pixel .*got \[2.0\]"),
        ({"frequencies": [[0.1, 0.2]]}, "frequencies"),
        ({"orientations": 0}, "orientations"),
        ({"orientations": [np.nan]}, "orientations"),
        ({"bandwidth": 0}, "bandwidth"),
        ({"n_stds": -1}, "n_stds"),
        ({"mode": "periodic"}, "mode"),
        ({"grid": (0, 2)}, "grid"),
        ({"frequencies": (0.1, 0.1)}, r"frequencies must be distinct; got \(0.1, 0.1\)"),  # repeated columns
        ({"orientations": (0.0, 1.0, 0.0)}, "orientations must be distinct"),
    ],
)
def test_invalid_parameters_name_the_parameter(params, match):
    with pytest.raises(ValueError, match=match):
        GaborBank(**params).fit(np.zeros((1, 16, 16)))


def test_images_smaller_than_the_grid_say_the_minimum_size():
    with pytest.raises(ValueError, match=r"at least 4x3 for grid=\(4, 3\)"):
        GaborBank(grid=(4, 3)).fit(np.zeros((1, 3, 3)))


def test_functional_rejects_bad_input():
    with pytest.raises(ValueError, match="frequency"):
        gabor(np.zeros((1, 8, 8)), 0)
    with pytest.raises(ValueError, match="mode"):
        gabor(np.zeros((1, 8, 8)), 0.1, mode="periodic")
    with pytest.raises(ValueError, match=r"\(N, H, W\)"):
        gabor(np.zeros((1, 8, 8, 3)), 0.1)


@parametrize_with_checks(
    [GaborBank(frequencies=[0.2], orientations=2)], expected_failed_checks=expected_failed_checks
)
def test_sklearn_compatible(estimator, check):
    check(estimator)


def test_blocks_of_images_give_the_same_features(crops, monkeypatch):
    bank = GaborBank(frequencies=[0.05, 0.3], orientations=2, grid=2).fit(crops)
    whole = bank.transform(crops)
    monkeypatch.setattr("skvision.descriptors._gabor._BLOCK_SPECTRUM_CELLS", 1)  # one image per block
    np.testing.assert_array_equal(bank.transform(crops), whole)
    real, imag = gabor(crops, 0.1)
    np.testing.assert_allclose(real[3], sk_gabor(crops[3], 0.1)[0], rtol=1e-9, atol=1e-9)


def test_transform_works_in_blocks_that_stay_in_the_cache():
    # Each block's spectra, products and responses are new arrays per filter: in 100 MB blocks every
    # one was memory the kernel had to zero first (2,000 28x28 images: 4.0 s, against 1.7 s now).
    from skvision._testing import peak_traced_bytes

    images = np.random.default_rng(0).integers(0, 256, (500, 28, 28)).astype(np.uint8)
    bank = GaborBank().fit(images)
    bank.transform(images[:5])
    peak = peak_traced_bytes(lambda: bank.transform(images))
    assert peak < 16e6, f"peak {peak / 1e6:.0f} MB for 500 28x28 images (239 MB in blocks of 2**21 cells)"


def test_a_long_quiet_transform_says_how_it_goes(monkeypatch, capsys):
    # verbose=0: GaborBank on 10,000 64x64 images was silent for 42 s; verbose=1's bar counted 2 chunks.
    from skvision import _talk

    X = np.random.default_rng(0).integers(0, 256, (40, 32, 32), dtype=np.uint8)
    bank = GaborBank(frequencies=(0.2,), orientations=2, batch_size=10).fit(X)
    expected = bank.transform(X)
    assert capsys.readouterr().err == ""  # short: nothing
    monkeypatch.setattr(_talk, "LONG_CALL_FIRST_SECONDS", 0.0)
    monkeypatch.setattr(_talk, "LONG_CALL_SECONDS", 0.0)
    np.testing.assert_array_equal(bank.transform(X), expected)
    lines = capsys.readouterr().err.splitlines()
    assert [line.split(",")[0] for line in lines] == [f"GaborBank: {n} of 40 images" for n in (10, 20, 30)]
    assert all(re.search(r"so far \(about [\d.]+ s left\)$", line) for line in lines)
    bank.set_params(verbose=1).transform(X)
    assert "40/40" in capsys.readouterr().err  # the bar counts images


def test_a_transform_in_one_large_chunk_says_how_it_goes(monkeypatch, capsys):
    # GaborBank(batch_size=10000) on 10,000 64x64 images ran 50 s in one chunk without a word: the lines
    # came only at the end of a chunk. A thread now speaks when no chunk ended for a while.
    import time

    from skvision import _talk

    monkeypatch.setattr(_talk, "LONG_CALL_FIRST_SECONDS", 0.05)
    monkeypatch.setattr(_talk, "LONG_CALL_SECONDS", 0.1)
    monkeypatch.setattr(_talk.LongCallLines, "_TICK_SECONDS", 0.02)
    from skvision.descriptors import _base

    monkeypatch.setattr(_base, "_TICK_ABOVE_SECONDS", 0.0)  # these 8 small images: estimated at ms
    X = np.random.default_rng(0).integers(0, 256, (8, 32, 32), dtype=np.uint8)
    bank = GaborBank(frequencies=(0.2,), orientations=2, batch_size=8).fit(X)
    expected = bank.transform(X)
    capsys.readouterr()
    real = GaborBank._transform_chunk_into

    def slow(self, images, out):
        time.sleep(0.35)
        real(self, images, out)

    monkeypatch.setattr(GaborBank, "_transform_chunk_into", slow)
    started = time.perf_counter()
    np.testing.assert_array_equal(bank.transform(X), expected)
    elapsed = time.perf_counter() - started
    lines = capsys.readouterr().err.splitlines()
    # At 0.05 s, then every 0.1 s while the chunk runs (a loaded machine makes it run longer).
    assert 2 <= len(lines) <= 1 + elapsed / 0.1, lines
    assert all(re.fullmatch(r"GaborBank: 0 of 8 images, \d+\.\d s so far", x) for x in lines), lines
    time.sleep(0.3)
    assert capsys.readouterr().err == ""  # the thread stopped with the call
