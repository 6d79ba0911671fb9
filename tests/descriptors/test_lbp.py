"""LBP: code maps equal to scikit-image's, the square operator of the course, and the LBP transformer."""

import importlib.util
import itertools
import pickle
import warnings

import numpy as np
import pytest
import skimage.data
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays
from skimage.color import rgb2gray
from skimage.feature import local_binary_pattern as sk_lbp
from sklearn.base import clone
from sklearn.exceptions import NotFittedError
from sklearn.model_selection import GridSearchCV, cross_validate
from sklearn.pipeline import make_pipeline
from sklearn.svm import SVC
from sklearn.utils.estimator_checks import parametrize_with_checks

from skvision import LBP
from skvision._images import ImageShapeError
from skvision._testing import expected_failed_checks
from skvision.datasets import load_textures
from skvision.descriptors import _lbp_kernels, _numba, local_binary_pattern
from skvision.descriptors._base import torch_path_on_cpu

METHODS = ["default", "ror", "uniform", "nri_uniform", "var"]
# The example of the course slides (000_*.txt, "LBP (1 / 3)"): centre 12, read
# clockwise from the top-left neighbour, first bit most significant.
SLIDE_PATCH = np.array([[35, 47, 33], [8, 12, 10], [17, 21, 5]], dtype=np.uint8)
SLIDE_CODE = 0b11100110  # 230


def skimage_lbp(image, P, R, method):
    """scikit-image's LBP of one image, without its warning about float input."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        return sk_lbp(image, P, R, method)


def assert_same_lbp(ours, expected):
    """Integer labels identical; 'var' values equal to float rounding, NaN where skimage has NaN."""
    np.testing.assert_array_equal(np.isnan(ours), np.isnan(expected))
    np.testing.assert_allclose(ours, expected, rtol=1e-12, atol=1e-9, equal_nan=True)


@pytest.fixture(params=["numpy", "compiled rows", "compiled lanes"])
def route(request, monkeypatch):
    """Run a test through the numpy path and through the compiled (numba) kernels, in each layout.

    The kernels run images narrower than ``_LANES_BELOW_WIDTH`` with the batch's images as
    the vectorised loop ("lanes"), wider ones row by row ("rows"); both layouts are forced
    here on the tests' small images. Every route must equal scikit-image.
    """
    if request.param == "numpy":
        monkeypatch.setenv("SKVISION_NUMBA", "0")
        return request.param
    monkeypatch.delenv("SKVISION_NUMBA", raising=False)
    if not _numba.numba_available():
        pytest.skip("numba is not installed (the 'fast' extra): only the numpy path runs")
    monkeypatch.setattr(_lbp_kernels, "_LANES_BELOW_WIDTH", 0 if request.param == "compiled rows" else 10**6)
    return request.param


@pytest.fixture(scope="module")
def random_batches():
    rng = np.random.default_rng(0)
    return [
        rng.integers(0, 256, size=(3, 17, 21)).astype(np.uint8),
        # Few grey levels: ties between samples and centres everywhere, the cases
        # where only the exact interpolation arithmetic gives skimage's bits.
        rng.integers(0, 3, size=(2, 16, 16)).astype(np.uint8),
        rng.normal(size=(2, 15, 18)),
    ]


@pytest.fixture(scope="module")
def real_crops():
    return np.stack(
        [
            skimage.data.camera()[100:148, 200:248],
            skimage.data.brick()[:48, :48],
            np.rint(rgb2gray(skimage.data.astronaut())[:48, 100:148] * 255).astype(np.uint8),
        ]
    )


@pytest.fixture(scope="module")
def textures():
    return load_textures(patch_size=24, n_per_class=12, return_X_y=True)


# ---------------------------------------------------------------------------- functional API
@pytest.mark.parametrize("P, R", list(itertools.product([4, 8, 16, 24], [1, 1.5, 2, 3])))
def test_equals_skimage_on_random_and_real_images(P, R, random_batches, real_crops, route):
    for method in METHODS:
        for batch in [*random_batches, real_crops]:
            ours = local_binary_pattern(batch, P, R, method=method)
            assert ours.shape == batch.shape and ours.dtype == np.float64
            for k, image in enumerate(batch):
                assert_same_lbp(ours[k], skimage_lbp(image, P, R, method))


@pytest.mark.parametrize("P, R", [(1, 1), (2, 1), (3, 1.3), (17, 2.7), (12, 0.5)])
def test_equals_skimage_on_unusual_parameters(P, R, random_batches, route):
    for method in METHODS:
        for batch in random_batches:
            ours = local_binary_pattern(batch, P, R, method=method)
            for k, image in enumerate(batch):
                assert_same_lbp(ours[k], skimage_lbp(image, P, R, method))


def test_integer_methods_are_bit_exact(random_batches, route):
    batch = random_batches[1]
    for method in ["default", "ror", "uniform", "nri_uniform"]:
        ours = local_binary_pattern(batch, 8, 1.5, method=method)
        expected = np.stack([skimage_lbp(image, 8, 1.5, method) for image in batch])
        np.testing.assert_array_equal(ours, expected)


@pytest.mark.parametrize(
    "P, R, sampling",
    [(8, 1, "circular"), (8, 1, "square"), (16, 2, "circular"), (12, 1.5, "circular"), (24, 3, "circular")],
)
def test_compiled_kernels_are_bit_identical_to_the_numpy_path(P, R, sampling, monkeypatch, tmp_path):
    # Not just close: equal, code maps and histograms, for every method, in both layouts, for
    # every input dtype (uint8 and float64 read as they are, the others converted), strided and
    # memmapped input, images narrower and wider than the lanes threshold, tall and narrow ones.
    if not _numba.numba_available():
        pytest.skip("numba is not installed (the 'fast' extra)")
    rng = np.random.default_rng(P)
    wide = rng.integers(0, 256, size=(3, 23, 70), dtype=np.uint8)
    wide[:, :5, :7] = 9  # flat patches: ties between samples and centres
    path = tmp_path / "images.npy"
    np.save(path, wide[:, :, 5:40])
    inputs = {
        "uint8 wide": wide,
        "uint8 narrow": wide[:, :, 5:40],
        "tall narrow": np.ascontiguousarray(wide.transpose(0, 2, 1)),
        "strided": wide[:, ::-1, ::2],
        "memmap": np.load(path, mmap_mode="r"),
        "float64": wide / 255.0,
        "float32": (wide / 7.0).astype(np.float32),
        "uint16": wide.astype(np.uint16) * 257,
        "int8": (wide.astype(np.int16) - 128).astype(np.int8),
        "bool": wide > 100,
    }
    methods = [m for m in METHODS if not (m == "default" and P > 16) and not (m == "ror" and P > 20)]
    for name, images in inputs.items():
        for method in METHODS:
            compiled = local_binary_pattern(images, P, R, method, sampling=sampling)
            monkeypatch.setenv("SKVISION_NUMBA", "0")
            with_numpy = local_binary_pattern(images, P, R, method, sampling=sampling)
            monkeypatch.delenv("SKVISION_NUMBA")
            np.testing.assert_array_equal(compiled, with_numpy, err_msg=f"maps of {name}: {method}")
        if name == "int8":
            continue  # the function reads them; LBP refuses negative pixels (the value-scale rule)
        for method, normalize, grid in itertools.product(methods, ["l1", "l2", "none"], [(1, 1), (2, 3)]):
            lbp = LBP(P, R, method=method, sampling=sampling, normalize=normalize, grid=grid, n_bins=5)
            lbp.fit(images)
            compiled = lbp.transform(images)
            monkeypatch.setenv("SKVISION_NUMBA", "0")
            with_numpy = lbp.transform(images)
            monkeypatch.delenv("SKVISION_NUMBA")
            np.testing.assert_array_equal(
                compiled, with_numpy, err_msg=f"{name}: {method}, {normalize}, {grid}"
            )


def test_the_two_layouts_of_the_kernels_agree(monkeypatch):
    if not _numba.numba_available():
        pytest.skip("numba is not installed (the 'fast' extra)")
    images = np.random.default_rng(1).integers(0, 256, size=(300, 20, 30), dtype=np.uint8)
    lbp = LBP(P=[8, 16], R=[1, 2.5], method="nri_uniform", grid=(3, 2)).fit(images)
    lanes = lbp.transform(images)  # several blocks of images, the last one partial
    lanes_maps = local_binary_pattern(images, 16, 2.5, "var")
    monkeypatch.setattr(_lbp_kernels, "_LANES_BELOW_WIDTH", 0)
    np.testing.assert_array_equal(lbp.transform(images), lanes)
    np.testing.assert_array_equal(local_binary_pattern(images, 16, 2.5, "var"), lanes_maps)


def test_kernels_compile_without_a_writable_cache(monkeypatch):
    # numba raises "cannot cache function" where no cache directory is writable: the kernels
    # then compile in memory instead of failing LBP.
    if not _numba.numba_available():
        pytest.skip("numba is not installed (the 'fast' extra)")
    import numba

    real_njit = numba.njit
    calls = []

    def njit_without_cache(*args, cache=False, **kwargs):
        calls.append(cache)
        if cache:
            raise RuntimeError("cannot cache function 'kernel': no locator available")
        return real_njit(*args, **kwargs)

    monkeypatch.setattr(numba, "njit", njit_without_cache)
    kernel = _numba.compile_kernel(lambda x: x + 1, numba)
    assert kernel(41) == 42 and calls == [True, False]


@pytest.mark.parametrize("block_pixels", [150, 2000])
def test_blocks_and_row_bands_do_not_change_results(block_pixels, real_crops, monkeypatch):
    # Small blocks force bands of rows (down to one row) within an image, and
    # several images per block: both layouts must give the same codes and counts.
    from skvision.descriptors import _lbp

    reference = LBP(16, 2, method="var", grid=(3, 2), normalize="none").fit(real_crops)
    expected_counts = reference.transform(real_crops)
    monkeypatch.setattr(_lbp, "_BLOCK_PIXELS", block_pixels)
    for method in METHODS:
        ours = local_binary_pattern(real_crops, 16, 2, method=method)
        for k, image in enumerate(real_crops):
            assert_same_lbp(ours[k], skimage_lbp(image, 16, 2, method))
    lbp = LBP(16, 2, method="var", grid=(3, 2), normalize="none").fit(real_crops)
    np.testing.assert_array_equal(lbp.transform(real_crops), expected_counts)


def test_colour_images_are_described_by_their_luminance(route):
    rgb = skimage.data.astronaut()[None, :32, :32]
    grey = rgb.astype(np.float64) @ np.array([0.2125, 0.7154, 0.0721])
    np.testing.assert_array_equal(
        local_binary_pattern(rgb, 8, 1, method="uniform"), local_binary_pattern(grey, 8, 1, method="uniform")
    )


# ------------------------------------------------------------------------- square operator
def square_reference(image):
    """Plain loop: 8 square neighbours clockwise from the top-left, MSB first, zeros outside."""
    padded = np.pad(image.astype(np.float64), 1)
    order = [(-1, -1), (-1, 0), (-1, 1), (0, 1), (1, 1), (1, 0), (1, -1), (0, -1)]
    codes = np.zeros(image.shape, dtype=np.int64)
    for r in range(image.shape[0]):
        for c in range(image.shape[1]):
            centre = padded[r + 1, c + 1]
            for dr, dc in order:
                codes[r, c] = 2 * codes[r, c] + int(padded[r + 1 + dr, c + 1 + dc] >= centre)
    return codes


def patch_with_code(code):
    """A 3x3 patch whose square code is ``code`` (bit 7 = top-left, clockwise)."""
    order = [(0, 0), (0, 1), (0, 2), (1, 2), (2, 2), (2, 1), (2, 0), (1, 0)]
    patch = np.full((3, 3), 10, dtype=np.uint8)
    for k, (r, c) in enumerate(order):
        patch[r, c] = 20 if (code >> (7 - k)) & 1 else 0
    return patch


def test_square_operator_on_the_course_example(route):
    codes = {m: local_binary_pattern(SLIDE_PATCH[None], 8, 1, m, sampling="square")[0, 1, 1] for m in METHODS}
    assert codes["default"] == SLIDE_CODE == 230
    # 11100110 has four 0/1 transitions around the circle: not uniform -> P + 1.
    assert codes["uniform"] == 9
    assert codes["nri_uniform"] == 8 * 7 + 2
    # Smallest of the rotations of 11100110 is 00110111.
    assert codes["ror"] == 0b00110111 == 55
    neighbours = np.array([35, 47, 33, 10, 5, 21, 17, 8], dtype=np.float64)
    assert codes["var"] == pytest.approx(np.var(neighbours))


def test_square_operator_on_uniform_hand_examples():
    # Top row brighter than the centre: 11100000, one run of three ones.
    patch = patch_with_code(0b11100000)[None]
    assert local_binary_pattern(patch, 8, 1, sampling="square")[0, 1, 1] == 224
    assert local_binary_pattern(patch, 8, 1, "uniform", sampling="square")[0, 1, 1] == 3
    assert local_binary_pattern(patch, 8, 1, "ror", sampling="square")[0, 1, 1] == 0b00000111
    flat = np.full((1, 3, 3), 7, dtype=np.uint8)
    assert local_binary_pattern(flat, 8, 1, sampling="square")[0, 1, 1] == 255
    assert local_binary_pattern(flat, 8, 1, "uniform", sampling="square")[0, 1, 1] == 8


def test_square_ror_groups_the_course_rotation_example():
    # The slides' rotation-invariant example: 117, 93 and 174 are rotations of one code.
    labels = {
        code: local_binary_pattern(patch_with_code(code)[None], 8, 1, "ror", sampling="square")[0, 1, 1]
        for code in (117, 93, 174)
    }
    assert len(set(labels.values())) == 1
    assert labels[117] == 0b01010111


def test_square_operator_equals_a_plain_loop_including_borders(route):
    rng = np.random.default_rng(3)
    images = rng.integers(0, 4, size=(3, 7, 9)).astype(np.uint8)
    codes = local_binary_pattern(images, 8, 1, sampling="square")
    for k, image in enumerate(images):
        np.testing.assert_array_equal(codes[k], square_reference(image))


# ----------------------------------------------------------------------------- invalid input
@pytest.mark.parametrize(
    "kwargs, name",
    [
        ({"P": 0}, "P"),
        ({"P": -3}, "P"),
        ({"P": 33}, "P"),
        ({"P": 2.5}, "P"),
        ({"R": 0}, "R"),
        ({"R": -1.0}, "R"),
        ({"method": "riu2"}, "method"),
        ({"sampling": "hexagonal"}, "sampling"),
        ({"P": 16, "sampling": "square"}, "P"),
        ({"R": 2, "sampling": "square"}, "R"),
    ],
)
def test_invalid_parameters_name_themselves(kwargs, name):
    params = {"P": 8, "R": 1, **kwargs}
    images = np.zeros((2, 12, 12), dtype=np.uint8)
    with pytest.raises(ValueError, match=name):
        local_binary_pattern(images, **params)
    with pytest.raises(ValueError, match=name):
        LBP(**params).fit(images)


@pytest.mark.parametrize(
    "params, match",
    [
        ({"grid": (13, 1)}, "grid"),
        ({"grid": 0}, "grid"),
        ({"grid": (2, 2, 2)}, "grid"),
        ({"P": [8, 16], "R": [1, 2, 3]}, "same length"),
        ({"P": [8, 8], "R": [1, 1]}, "distinct"),
        ({"P": [], "R": 1}, "empty"),
        ({"P": [8, 0], "R": 1}, "P"),
        ({"P": 17, "method": "default"}, "P <= 16"),
        ({"P": 21, "method": "ror"}, "P <= 20"),
        ({"normalize": "max"}, "normalize"),
        ({"n_bins": 1}, "n_bins"),
    ],
)
def test_invalid_transformer_parameters(params, match):
    with pytest.raises(ValueError, match=match):
        LBP(**params).fit(np.zeros((2, 12, 12), dtype=np.uint8))


def test_images_too_small():
    with pytest.raises(ImageShapeError, match=r"at least 7x7 for P=8, R=3"):
        local_binary_pattern(np.zeros((1, 6, 9)), 8, 3)
    with pytest.raises(ImageShapeError, match=r"at least 5x5 for P=16, R=2"):
        LBP(P=16, R=2).fit(np.zeros((2, 4, 4)))
    with pytest.raises(ImageShapeError, match=r"at least 3x3 for P=8, R=1"):
        local_binary_pattern(np.zeros((1, 2, 5)), 8, 1, sampling="square")


def test_transform_before_fit_and_wrong_size():
    images = np.zeros((2, 10, 10), dtype=np.uint8)
    with pytest.raises(NotFittedError):
        LBP().transform(images)
    with pytest.raises(ValueError, match="fitted on images of shape"):
        LBP().fit(images).transform(np.zeros((2, 11, 10)))
    # Same size, other channels: the message names the channels, not the size.
    with pytest.raises(ValueError, match=r"X has 3-channel images but LBP was fitted on grey .*Grayscale"):
        LBP().fit(images).transform(np.zeros((2, 10, 10, 3)))


# ------------------------------------------------------------------------------- transformer
def skimage_histograms(images, P, R, method, n_labels, grid=(1, 1)):
    """Per-cell label counts from scikit-image's code maps (cells split as floor(i * h / rows))."""
    rows, cols = grid
    out = []
    for image in images:
        labels = skimage_lbp(image, P, R, method).astype(np.int64)
        h, w = labels.shape
        r_edges = np.arange(rows + 1) * h // rows
        c_edges = np.arange(cols + 1) * w // cols
        cells = [
            np.bincount(cell.ravel(), minlength=n_labels)
            for i in range(rows)
            for j in range(cols)
            for cell in [labels[r_edges[i] : r_edges[i + 1], c_edges[j] : c_edges[j + 1]]]
        ]
        out.append(np.concatenate(cells))
    return np.asarray(out, dtype=np.float64)


def rotation_classes(P):
    """Smallest rotation of every P-bit code, by brute force over all codes and rotations."""
    codes = np.arange(2**P, dtype=np.int64)
    smallest = codes.copy()
    for k in range(1, P):
        smallest = np.minimum(smallest, ((codes << k) | (codes >> (P - k))) & (2**P - 1))
    return np.unique(smallest)


@pytest.mark.parametrize(
    "method, P, n_labels",
    [
        ("default", 8, 256),
        ("ror", 8, 36),
        ("ror", 4, 6),
        ("ror", 16, 4116),
        ("uniform", 8, 10),
        ("uniform", 24, 26),
        ("nri_uniform", 8, 59),
        ("nri_uniform", 16, 243),
        ("var", 8, 16),
    ],
)
def test_bins_per_cell(method, P, n_labels):
    lbp = LBP(P=P, R=2, method=method, grid=(2, 1)).fit(np.zeros((1, 9, 9), dtype=np.uint8))
    assert lbp.n_features_out_ == 2 * n_labels
    assert len(lbp.get_feature_names_out()) == 2 * n_labels


@pytest.mark.parametrize("method", ["default", "uniform", "nri_uniform"])
@pytest.mark.parametrize("grid", [(1, 1), (2, 3)])
def test_histograms_equal_skimage_counts(method, grid, real_crops, route):
    n_labels = {"default": 256, "uniform": 10, "nri_uniform": 59}[method]
    lbp = LBP(P=8, R=1.5, method=method, grid=grid, normalize="none").fit(real_crops)
    expected = skimage_histograms(real_crops, 8, 1.5, method, n_labels, grid)
    np.testing.assert_array_equal(lbp.transform(real_crops), expected)


def test_ror_histograms_number_rotation_classes_compactly(real_crops, route):
    classes = rotation_classes(8)
    lbp = LBP(P=8, R=1, method="ror", normalize="none").fit(real_crops)
    expected = [
        np.bincount(np.searchsorted(classes, ror.astype(int)).ravel(), minlength=36)
        for ror in (skimage_lbp(image, 8, 1, "ror") for image in real_crops)
    ]
    np.testing.assert_array_equal(lbp.transform(real_crops), expected)


def test_ror_beyond_lookup_tables_equals_skimage(textures, route):
    images = textures[0][:3]
    lbp = LBP(P=17, R=2, method="ror", normalize="none").fit(images)
    features = lbp.transform(images)
    classes = rotation_classes(17)
    assert features.shape == (3, len(classes))
    for k, image in enumerate(images):
        labels = np.searchsorted(classes, skimage_lbp(image, 17, 2, "ror").astype(int).ravel())
        np.testing.assert_array_equal(features[k], np.bincount(labels, minlength=len(classes)))
    if importlib.util.find_spec("torch") is not None:
        with torch_path_on_cpu():
            np.testing.assert_array_equal(lbp.transform(images), features)


def test_normalisation(real_crops, route):
    raw = LBP(grid=(2, 2), normalize="none").fit_transform(real_crops).reshape(3, 4, 10)
    assert np.array_equal(raw, LBP(grid=(2, 2), normalize=None).fit_transform(real_crops).reshape(3, 4, 10))
    np.testing.assert_array_equal(raw.sum(axis=2), np.full((3, 4), 24 * 24))
    l1 = LBP(grid=(2, 2), normalize="l1").fit_transform(real_crops).reshape(3, 4, 10)
    np.testing.assert_allclose(l1, raw / raw.sum(axis=2, keepdims=True))
    l2 = LBP(grid=(2, 2), normalize="l2").fit_transform(real_crops).reshape(3, 4, 10)
    np.testing.assert_allclose(np.linalg.norm(l2, axis=2), 1.0)
    np.testing.assert_allclose(l2, raw / np.linalg.norm(raw, axis=2, keepdims=True))


def test_scales_concatenate_single_scales(real_crops, route):
    multi = LBP(P=[8, 16], R=[1, 2], grid=(2, 1)).fit(real_crops)
    parts = [LBP(P=p, R=r, grid=(2, 1)).fit(real_crops).transform(real_crops) for p, r in [(8, 1), (16, 2)]]
    np.testing.assert_array_equal(multi.transform(real_crops), np.hstack(parts))
    names = multi.get_feature_names_out()
    assert names[0] == "lbp_cell0_0_P8_R1_bin0"
    assert names[-1] == "lbp_cell1_0_P16_R2_bin17"
    assert len(set(names)) == len(names)
    # A single value pairs with every element of the other list.
    broadcast = LBP(P=[8, 16], R=2).fit(real_crops)
    assert broadcast.get_feature_names_out()[-1] == "lbp_P16_R2_bin17"


def test_var_bin_edges_are_learned_in_fit(real_crops, route):
    train, test = real_crops[:2], real_crops[1:]
    lbp = LBP(P=8, R=1, method="var", n_bins=5, normalize="none").fit(train)
    var = np.concatenate([np.nan_to_num(skimage_lbp(image, 8, 1, "var"), nan=0.0).ravel() for image in train])
    (edges,) = lbp.var_bin_edges_
    np.testing.assert_allclose(edges, np.quantile(var, [0.2, 0.4, 0.6, 0.8]))
    expected = [
        np.bincount(np.searchsorted(edges, np.nan_to_num(var, nan=0.0).ravel(), side="left"), minlength=5)
        for var in (skimage_lbp(image, 8, 1, "var") for image in test)
    ]
    np.testing.assert_array_equal(lbp.transform(test), expected)
    # Training images spread evenly over the quantile bins.
    counts = lbp.transform(train).sum(axis=0)
    np.testing.assert_allclose(counts / counts.sum(), 0.2, atol=0.01)
    assert LBP().fit(train).var_bin_edges_ is None


def test_var_zero_variance_lands_in_the_lowest_bin_when_edges_tie(route):
    # Flat areas: over half the training variances are 0, so the first quantile edges all equal 0.
    X = np.random.default_rng(0).integers(0, 256, (4, 32, 32)).astype(np.uint8)
    X[:, :20] = 100
    lbp = LBP(P=8, R=1, method="var", n_bins=16, normalize="none").fit(X)
    (edges,) = lbp.var_bin_edges_
    assert np.all(edges[:8] == 0) and edges[8] > 0
    counts = lbp.transform(X)
    zeros = np.isnan(local_binary_pattern(X, 8, 1, method="var")).sum(axis=(1, 2))
    np.testing.assert_array_equal(counts[:, 0], zeros)
    # Bins 1-7 lie between equal edges: empty, as the ties force; the others are not.
    assert np.all(counts[:, 1:8] == 0) and np.all(counts[:, 8:].sum(axis=0) > 0)
    if importlib.util.find_spec("torch") is not None:
        with torch_path_on_cpu():
            np.testing.assert_array_equal(lbp.transform(X), counts)


def test_channels_each(real_crops, route):
    rgb = skimage.data.astronaut()[None, :30, :30].repeat(2, axis=0)
    rgb[1] = rgb[1, ::-1]
    lbp = LBP(P=8, R=1, channels="each").fit(rgb)
    per_channel = [LBP(P=8, R=1).fit(rgb[..., c]).transform(rgb[..., c]) for c in range(3)]
    np.testing.assert_array_equal(lbp.transform(rgb), np.hstack(per_channel))
    names = lbp.get_feature_names_out()
    assert names[0] == "lbp_c0_P8_R1_bin0" and names[-1] == "lbp_c2_P8_R1_bin9"
    grey = LBP(P=8, R=1).fit(rgb)
    assert grey.n_features_out_ == 10


def test_n_jobs_and_batch_size_do_not_change_output(textures, route):
    X = textures[0]
    expected = LBP(P=[8, 16], R=[1, 2], method="nri_uniform", grid=2).fit(X).transform(X)
    for params in [{"n_jobs": 2}, {"batch_size": 1}, {"batch_size": 7}, {"n_jobs": 2, "batch_size": 5}]:
        lbp = LBP(P=[8, 16], R=[1, 2], method="nri_uniform", grid=2, **params).fit(X)
        np.testing.assert_array_equal(lbp.transform(X), expected)


@pytest.mark.parametrize(
    "params",
    [{"method": m, "sampling": s} for m in METHODS for s in ("circular", "square")]
    + [{"P": [4, 24], "R": [1.5, 3], "method": "uniform"}, {"P": 24, "R": 3, "method": "nri_uniform"}],
)
def test_torch_cpu_path_equals_numpy(params, textures, route):
    pytest.importorskip("torch")
    X = textures[0][:9]
    lbp = LBP(grid=(2, 3), **params).fit(X)
    expected = lbp.transform(X)
    with torch_path_on_cpu():
        np.testing.assert_allclose(lbp.transform(X), expected, rtol=0, atol=1e-5)


@pytest.mark.parametrize("method", ["uniform", "nri_uniform", "ror"])
def test_torch_path_reads_float_copies_of_8bit_images_as_levels(real_crops, method):
    # The GPU run found this: the torch path compared X / 255 on the [0, 1] scale, where equal pixels
    # interpolate an ulp off the centre and codes flip, while the numpy path reads the levels.
    pytest.importorskip("torch")
    lbp = LBP(P=8, R=1.5, method=method, grid=2).fit(real_crops)
    expected = lbp.transform(real_crops)
    for images in (real_crops / 255.0, (real_crops / 255.0).astype(np.float32)):
        np.testing.assert_array_equal(lbp.transform(images), expected)
        with torch_path_on_cpu():
            np.testing.assert_array_equal(lbp.transform(images), expected)


def test_clone_and_pickle_round_trip(real_crops):
    lbp = LBP(P=[8, 12], R=[1, 1.5], method="var", grid=(2, 2), n_bins=6).fit(real_crops)
    expected = lbp.transform(real_crops)
    np.testing.assert_array_equal(pickle.loads(pickle.dumps(lbp)).transform(real_crops), expected)
    np.testing.assert_array_equal(clone(lbp).fit(real_crops).transform(real_crops), expected)


@parametrize_with_checks(
    [LBP(), LBP(P=[4, 8], R=[1, 2], method="var", grid=2, n_bins=4)],
    expected_failed_checks=expected_failed_checks,
)
def test_sklearn_compatible(estimator, check):
    check(estimator)


def test_pipeline_grid_search_and_cross_validate(textures):
    X, y = textures
    pipe = make_pipeline(LBP(), SVC())
    search = GridSearchCV(
        pipe, {"lbp__P": [4, 8], "lbp__R": [1, 2], "lbp__method": ["uniform", "ror"]}, cv=2
    ).fit(X, y)
    assert search.best_score_ > 0.6
    scores = cross_validate(make_pipeline(LBP(P=8, R=1), SVC()), X, y, cv=3, n_jobs=2)
    assert scores["test_score"].mean() > 0.6


# ------------------------------------------------------------------------ invariance properties
nonnegative_images = arrays(np.uint8, st.tuples(st.integers(3, 9), st.integers(3, 9)))
larger_images = arrays(np.uint8, st.tuples(st.integers(5, 9), st.integers(5, 9)))


@settings(max_examples=25, deadline=None)
@given(image=nonnegative_images, power=st.floats(0.3, 3.0))
def test_square_codes_invariant_to_monotonic_grey_changes(image, power):
    # No interpolation: any strictly increasing map with f(0) = 0 keeps every
    # comparison, the zero padding included.
    mapped = image.astype(np.float64) ** power
    for method in ("default", "uniform"):
        np.testing.assert_array_equal(
            local_binary_pattern(image[None], 8, 1, method, sampling="square"),
            local_binary_pattern(mapped[None], 8, 1, method, sampling="square"),
        )


@settings(max_examples=25, deadline=None)
@given(image=larger_images, shift=st.integers(0, 4))
def test_interpolated_codes_invariant_to_power_of_two_gains(image, shift):
    # With interpolation only gains that float arithmetic carries exactly (powers
    # of two) keep every comparison; other monotonic maps move interpolated
    # samples relative to the centre.
    for method in ("default", "uniform"):
        np.testing.assert_array_equal(
            local_binary_pattern(image[None], 8, 1.5, method),
            local_binary_pattern(image[None] * 2.0**shift, 8, 1.5, method),
        )


@settings(max_examples=20, deadline=None)
@given(image=nonnegative_images, turns=st.integers(1, 3))
def test_square_rotation_invariant_histograms(image, turns):
    rotated = np.rot90(image, turns).copy()
    for method in ("ror", "uniform"):
        lbp = LBP(P=8, R=1, method=method, sampling="square", normalize="none")
        np.testing.assert_array_equal(lbp.fit_transform(image[None]), lbp.fit_transform(rotated[None]))


@settings(max_examples=20, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), P=st.sampled_from([4, 8, 16]), turns=st.integers(1, 3))
def test_circular_rotation_invariant_histograms_without_ties(seed, P, turns):
    # Bilinear interpolation commutes with right-angle rotations, so for P a multiple
    # of 4 a rotation only rotates the bits. The weights' last bits depend on the
    # absolute position, so exact ties (flat regions) may break differently: the
    # property holds on images without ties, such as continuous random values.
    image = np.random.default_rng(seed).random((12, 12))
    rotated = np.rot90(image, turns).copy()
    for method in ("ror", "uniform"):
        lbp = LBP(P=P, R=2, method=method, normalize="none")
        np.testing.assert_array_equal(lbp.fit_transform(image[None]), lbp.fit_transform(rotated[None]))


@pytest.mark.parametrize("method", ["default", "ror", "uniform", "nri_uniform"])
@pytest.mark.parametrize("R", [1, 1.5])
def test_float_images_of_8bit_levels_get_the_codes_of_the_uint8_images(method, R):
    # X / 255 (img_as_float of uint8 X) is X by the value-scale rule; on [0, 1] the interpolated
    # neighbours of equal pixels fell an ulp off the centre and histograms moved by up to 0.08.
    X = load_textures(return_X_y=True)[0][:120]
    expected = LBP(P=8, R=R, method=method).fit_transform(X)
    for floats in (X / 255.0, X.astype(np.float32) / np.float32(255), X.astype(np.float64)):
        np.testing.assert_array_equal(LBP(P=8, R=R, method=method).fit_transform(floats), expected)
    # So is the 16-bit copy X * 257 (it moved 2 codes in 1,024 at R=1).
    sixteen_bit = X.astype(np.uint16) * 257
    np.testing.assert_array_equal(LBP(P=8, R=R, method=method).fit_transform(sixteen_bit), expected)


def test_8bit_levels_are_read_image_by_image_whatever_the_batch():
    X = load_textures(return_X_y=True)[0][:6]
    smooth = skimage.data.camera()[:32, :32] / 255.0 + 1e-3  # not levels: described as it is
    batch = np.concatenate([X / 255.0, smooth[np.newaxis]])
    together = LBP(batch_size=2).fit_transform(batch)
    np.testing.assert_array_equal(together[:6], LBP().fit_transform(X))
    np.testing.assert_array_equal(together[6:], LBP().fit_transform(smooth[np.newaxis]))
    np.testing.assert_array_equal(together, LBP(batch_size=7).fit_transform(batch))
