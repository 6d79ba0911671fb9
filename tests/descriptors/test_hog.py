"""HOG: equal to scikit-image's hog image by image, batched; the options it lacks checked by hand."""

import pickle

import numpy as np
import pytest
import scipy.ndimage
import skimage.data
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays
from skimage.feature import hog as sk_hog
from sklearn.base import clone
from sklearn.exceptions import NotFittedError
from sklearn.model_selection import GridSearchCV, cross_validate
from sklearn.pipeline import make_pipeline
from sklearn.svm import LinearSVC
from sklearn.utils.estimator_checks import parametrize_with_checks

from skvision import HOG, HuMoments
from skvision._testing import expected_failed_checks
from skvision.datasets import load_faces
from skvision.descriptors import _hog_kernels, _numba, hog
from skvision.descriptors._base import torch_path_on_cpu
from skvision.descriptors._hog import BLOCK_NORMS, _sobel_gradients
from skvision.descriptors._hog_tables import uint8_lookup, uint8_magnitude_quarter

RTOL = 1e-6  # the tolerance; scikit-image sums cells in float32, we in float64


def reference(images, **kwargs):
    """scikit-image's hog of each image, stacked."""
    return np.stack([sk_hog(image, feature_vector=True, **kwargs) for image in images])


def as_pair(value):
    return value if isinstance(value, tuple) else (value, value)


@pytest.fixture
def rng():
    # A new generator per test: a test's images must not depend on which tests ran before it
    # on the same worker (a module-wide generator made test_torch_cpu_equals_numpy flaky).
    return np.random.default_rng(0)


@pytest.fixture(params=["compiled", "numpy"])
def route(request, monkeypatch):
    """Run a test through the compiled (numba) kernel and through the numpy path.

    8-bit images take the compiled kernel when numba is installed (the ``fast``
    extra) and the numpy lookup path otherwise; both must equal scikit-image.
    """
    if request.param == "numpy":
        monkeypatch.setenv("SKVISION_NUMBA", "0")
    else:
        monkeypatch.delenv("SKVISION_NUMBA", raising=False)
        if not _hog_kernels.numba_available():
            pytest.skip("numba is not installed (the 'fast' extra): only the numpy path runs")
    return request.param


# ------------------------------------------------------- equality with skimage
@pytest.mark.parametrize("orientations", [4, 9, 12])
@pytest.mark.parametrize("pixels_per_cell", [4, 8, (6, 8)])
@pytest.mark.parametrize("cells_per_block", [1, 2, 3])
def test_equals_skimage_over_parameter_grid(orientations, pixels_per_cell, cells_per_block, route):
    rng = np.random.default_rng(orientations * 100 + cells_per_block)
    cell = as_pair(pixels_per_cell)
    # Sizes that are not multiples of the cell: the ragged edge is cropped.
    shape = (cell[0] * (cells_per_block + 1) + 3, cell[1] * (cells_per_block + 1) + 1)
    images = rng.integers(0, 256, size=(3, *shape), dtype=np.uint8)
    for block_norm in BLOCK_NORMS:
        for transform_sqrt in (False, True):
            params = dict(
                orientations=orientations,
                pixels_per_cell=cell,
                cells_per_block=(cells_per_block, cells_per_block),
                block_norm=block_norm,
                transform_sqrt=transform_sqrt,
            )
            ours = hog(images, **params)
            expected = reference(images, **params)
            np.testing.assert_allclose(ours, expected, rtol=RTOL, atol=0, err_msg=str(params))


@pytest.mark.parametrize("dtype", [np.float64, np.float32, np.int32, np.uint16, bool])
@pytest.mark.parametrize("shape", [(17, 23), (24, 24), (25, 31)])
def test_equals_skimage_for_dtypes_and_ragged_sizes(rng, dtype, shape):
    if dtype is bool:
        images = rng.random((3, *shape)) > 0.5
    elif np.dtype(dtype).kind == "f":
        images = (rng.random((3, *shape)) * 4 - 1).astype(dtype)
    else:
        images = rng.integers(0, 1000, size=(3, *shape)).astype(dtype)
    other = dict(orientations=7, pixels_per_cell=(5, 3), cells_per_block=(2, 1), block_norm="L1")
    for params in (dict(), other):
        params = {"pixels_per_cell": (4, 4), "cells_per_block": (2, 2), **params}
        # Booleans are uint8 0 / 255 (True is white, skvision._images).
        expected = reference(images.astype(np.uint8) * 255 if dtype is bool else images, **params)
        np.testing.assert_allclose(hog(images, **params), expected, rtol=RTOL, atol=0)


@pytest.mark.parametrize("shape", [(1, 8), (8, 1), (1, 1), (2, 9), (3, 3), (9, 17)])
def test_tiny_images_and_whole_image_cells_equal_skimage(rng, shape, route):
    # One-row/column images, and cells spanning the whole image, hit every border rule.
    images = rng.integers(0, 256, size=(2, *shape), dtype=np.uint8)
    for cell in ((1, 1), shape, (1, shape[1])):
        for image_type in (np.uint8, np.float64):
            params = dict(orientations=4, pixels_per_cell=cell, cells_per_block=(1, 1), block_norm="L1")
            np.testing.assert_allclose(
                hog(images.astype(image_type), **params), reference(images, **params), rtol=RTOL, atol=0
            )


def test_edge_angles_follow_skimage(rng, route):
    # Integer gradients at exactly 0, 45, 90, 135 and 180 degrees sit on bin edges
    # when the number of bins is even; each must fall in scikit-image's bin.
    images = rng.integers(0, 3, size=(4, 24, 24), dtype=np.uint8) * 40
    for orientations in (2, 4, 8, 12):
        for image_type in (np.uint8, np.float64):
            params = dict(orientations=orientations, pixels_per_cell=(4, 4), cells_per_block=(1, 1))
            np.testing.assert_allclose(
                hog(images.astype(image_type), **params), reference(images, **params), rtol=RTOL, atol=0
            )


def test_lookup_table_path_equals_float_path(rng, route):
    # uint8 images go through the lookup table, the same values as floats through arctan2.
    images = rng.integers(0, 256, size=(5, 30, 27), dtype=np.uint8)
    for params in (dict(), dict(signed=True, orientations=8), dict(weighting="count", block_norm=None)):
        np.testing.assert_allclose(hog(images, **params), hog(images.astype(float), **params), rtol=1e-12)


def test_magnitude_quarter_is_the_lookup_tables_nonnegative_quarter():
    # The compiled kernel reads |g_row|, |g_col| from a 256 x 256 table: that is exact
    # only if the 511 x 511 table is sign-symmetric, which hypot guarantees.
    _, magnitude = uint8_lookup(9, False, "magnitude")
    table = magnitude.reshape(511, 511)
    quarter = uint8_magnitude_quarter()
    np.testing.assert_array_equal(table[255:, 255:], quarter)
    np.testing.assert_array_equal(table[255::-1, 255::-1], quarter)
    np.testing.assert_array_equal(table[255:, 255::-1], quarter)
    assert quarter[3, 4] == 5.0 and quarter[0, 0] == 0.0


@pytest.mark.parametrize(
    "params",
    [
        dict(),
        dict(orientations=12, pixels_per_cell=(5, 7), cells_per_block=(2, 1), block_norm="L1"),
        dict(signed=True, orientations=8, block_norm=None),
        dict(weighting="count", block_norm=None, pixels_per_cell=(3, 3)),
        dict(weighting="count", signed=True, orientations=300, pixels_per_cell=(4, 4), block_norm="L2"),
        dict(pixels_per_cell=(1, 1), cells_per_block=(1, 1), block_norm=None),
    ],
)
def test_compiled_kernel_is_bit_identical_to_the_numpy_path(rng, monkeypatch, params):
    # Same tables, same order of additions per cell: not just close, equal. 300 bins
    # take the wide (intp) bin table; int8, colour, tiny, strided and memmap inputs each
    # reach the kernel in their own form.
    if not _hog_kernels.numba_available():
        pytest.skip("numba is not installed (the 'fast' extra)")
    colour = rng.integers(0, 256, size=(6, 29, 26, 3), dtype=np.uint8)
    # Rows of cells of 64 pixels or more are voted row by row, shorter ones cell by cell.
    wide = rng.integers(0, 256, size=(3, 27, 131, 3), dtype=np.uint8)
    inputs = {
        "uint8": colour[..., 0],
        "int8": (colour[..., 1].astype(np.int16) - 128).astype(np.int8),
        "colour": colour,
        "strided": colour[:, ::-1, 1:, 1],
        "wide": wide[..., 0],
        "wide colour": wide,
        "wide int8": (wide[..., 2].astype(np.int16) - 128).astype(np.int8),
    }
    if params.get("pixels_per_cell") == (1, 1):
        inputs.update({"one row": colour[:, :1, :, 0], "one column": colour[:, :, :1, 2]})
    for name, images in inputs.items():
        channel_axis = -1 if images.ndim == 4 else None
        compiled = hog(images, channel_axis=channel_axis, **params)
        monkeypatch.setenv("SKVISION_NUMBA", "0")
        with_numpy = hog(images, channel_axis=channel_axis, **params)
        monkeypatch.delenv("SKVISION_NUMBA")
        np.testing.assert_array_equal(compiled, with_numpy, err_msg=f"{name}: {params}")


def test_compiled_block_normalisation_reproduces_numpy_or_steps_aside(rng, monkeypatch):
    # The kernel normalises blocks with numpy's own reductions, reproduced (pairwise sums for
    # L1, einsum's two-lane sums of products for L2); the self-check holds on this numpy. Where
    # it would not (another numpy build), numpy normalises the kernel's cell histograms: the
    # same features either way.
    if not _hog_kernels.numba_available():
        pytest.skip("numba is not installed (the 'fast' extra)")
    assert _hog_kernels.normalization_matches_numpy()
    images = rng.integers(0, 256, size=(4, 40, 72), dtype=np.uint8)
    for block_norm in BLOCK_NORMS:
        params = dict(pixels_per_cell=(4, 6), cells_per_block=(3, 4), orientations=11, block_norm=block_norm)
        in_kernel = hog(images, **params)
        with monkeypatch.context() as patched:
            patched.setattr(_hog_kernels, "normalization_matches_numpy", lambda: False)
            stepped_aside = hog(images, **params)
        monkeypatch.setenv("SKVISION_NUMBA", "0")
        with_numpy = hog(images, **params)
        monkeypatch.delenv("SKVISION_NUMBA")
        np.testing.assert_array_equal(in_kernel, with_numpy, err_msg=block_norm)
        np.testing.assert_array_equal(stepped_aside, with_numpy, err_msg=block_norm)


@pytest.mark.parametrize("block_norm", BLOCK_NORMS)
def test_compiled_normalisation_is_bit_identical_on_many_images(rng, monkeypatch, block_norm):
    # The kernel reproduces numpy's norms operation for operation on flat arrays at
    # offsets: equal, not close, on many images and layouts. Rows of blocks not a multiple
    # of the four normed together, blocks longer than numpy's 128-value pairwise leaf,
    # 512-pixel rows, flat patches (a norm of eps alone), hard edges (L2-Hys clips).
    if not _hog_kernels.numba_available():
        pytest.skip("numba is not installed (the 'fast' extra)")
    assert _hog_kernels.normalization_matches_numpy()  # else numpy normalises, and this tests nothing
    noise = rng.integers(0, 256, size=(24, 61, 67), dtype=np.uint8)
    noise[::3, 20:45] = noise[::3, 20:21]  # flat rows: zero row gradients over whole cells
    noise[1::3, :, ::2] = 0  # 0/255 stripes: strong edges, clipped blocks
    noise[1::3, :, 1::2] = 255
    wide = rng.integers(0, 256, size=(2, 64, 512), dtype=np.uint8)
    colour = rng.integers(0, 256, size=(6, 45, 50, 3), dtype=np.uint8)
    cases = [
        (noise, {}),
        (noise, dict(pixels_per_cell=(3, 5), cells_per_block=(2, 3), orientations=7)),
        (noise, dict(pixels_per_cell=(4, 4), cells_per_block=(4, 4), orientations=12)),  # 192 per block
        (noise, dict(pixels_per_cell=(2, 2), cells_per_block=(1, 1), orientations=1)),
        (noise, dict(pixels_per_cell=(6, 6), cells_per_block=(3, 3), weighting="count", signed=True)),
        (wide, {}),
        (wide[:, :40], dict(cells_per_block=(2, 2))),
        (colour, dict(channel_axis=-1)),
        ((noise.astype(np.int16) - 128).astype(np.int8), dict(pixels_per_cell=(5, 5), cells_per_block=2)),
    ]
    for images, params in cases:
        compiled = hog(images, block_norm=block_norm, **params)
        monkeypatch.setenv("SKVISION_NUMBA", "0")
        with_numpy = hog(images, block_norm=block_norm, **params)
        monkeypatch.delenv("SKVISION_NUMBA")
        np.testing.assert_array_equal(compiled, with_numpy, err_msg=f"{images.shape}: {params}")


def test_compiled_kernel_reads_memmapped_images(rng, tmp_path):
    if not _hog_kernels.numba_available():
        pytest.skip("numba is not installed (the 'fast' extra)")
    images = rng.integers(0, 256, size=(4, 24, 24), dtype=np.uint8)
    path = tmp_path / "images.npy"
    np.save(path, images)
    mapped = np.load(path, mmap_mode="r")
    np.testing.assert_array_equal(HOG().fit(mapped).transform(mapped), hog(images))
    np.testing.assert_allclose(hog(mapped), reference(images), rtol=RTOL, atol=0)


def test_kernel_compiles_without_a_writable_cache(rng, monkeypatch):
    # numba raises "cannot cache function" where no cache directory is writable:
    # the kernel then compiles in memory instead of failing HOG.
    if not _hog_kernels.numba_available():
        pytest.skip("numba is not installed (the 'fast' extra)")
    from skvision.descriptors import _hog_numba

    real_njit = _hog_numba.numba.njit

    def njit_without_cache(*args, cache=False, **kwargs):
        if cache:
            raise RuntimeError("cannot cache function 'vote_cells': no locator available")
        return real_njit(*args, **kwargs)

    monkeypatch.setattr(_hog_numba.numba, "njit", njit_without_cache)
    kernel, _ = _hog_numba._compile_vote_cells(colour=False)
    images = rng.integers(0, 256, size=(3, 16, 16), dtype=np.uint8)
    bins, _ = uint8_lookup(9, False, "magnitude")
    histograms = np.empty((3, 2, 2, 9))
    kernel(images, 8, 8, bins, uint8_magnitude_quarter(), False, histograms)
    expected = hog(images, pixels_per_cell=8, cells_per_block=1, block_norm=None)
    np.testing.assert_array_equal(histograms.reshape(3, -1), expected)


def test_skvision_numba_0_turns_the_compiled_kernel_off(monkeypatch):
    monkeypatch.setenv("SKVISION_NUMBA", "0")
    assert not _hog_kernels.numba_available()
    monkeypatch.setenv("SKVISION_NUMBA", "1")
    assert _hog_kernels.numba_available() == (_numba._numba_importable())


def test_real_images_equal_skimage(route):
    camera = skimage.data.camera()[96:224, 160:288]
    brick = skimage.data.brick()[:96, :120]
    for image in (camera, brick):
        other = dict(orientations=12, pixels_per_cell=(6, 8), cells_per_block=(2, 2), block_norm="L1")
        for params in (dict(), other):
            expected = reference([image], **params)
            np.testing.assert_allclose(hog(image[np.newaxis], **params), expected, rtol=RTOL, atol=0)


def test_colour_max_channel_equals_skimage_channel_axis(route):
    astronaut = skimage.data.astronaut()[:96, 160:288]  # the face and the helmet's edges
    images = np.stack([astronaut, astronaut[::-1, ::-1]])
    other = dict(orientations=6, pixels_per_cell=(6, 6), cells_per_block=(2, 2), transform_sqrt=True)
    for params in (dict(), other):
        expected = reference(images, channel_axis=-1, **params)
        np.testing.assert_allclose(hog(images, channel_axis=-1, **params), expected, rtol=RTOL, atol=0)
        transformer = HOG(channels="max", **params).fit(images)
        np.testing.assert_allclose(transformer.transform(images), expected, rtol=RTOL, atol=0)
    # The float path (colour floats) takes the same channel at every pixel.
    floats = images / 255.0
    expected = reference(floats, channel_axis=-1)
    np.testing.assert_allclose(hog(floats, channel_axis=-1), expected, rtol=RTOL, atol=0)


def hypot_tie_images():
    """One 16 x 16 colour image per pair of integer gradients with equal squared magnitudes
    that ``np.hypot`` rounds apart, in both channel orders; the pair sits at pixel (1, 1)."""
    levels = np.arange(256)
    g_row, g_col = (grid.ravel() for grid in np.meshgrid(levels, levels, indexing="ij"))
    squared, magnitude = g_row**2 + g_col**2, np.hypot(g_row, g_col)
    order = np.lexsort((magnitude, squared))
    split = np.flatnonzero((np.diff(squared[order]) == 0) & (np.diff(magnitude[order]) != 0))
    assert split.size > 0  # hypot does round some equal squares apart
    images = []
    for low, high in zip(order[split], order[split + 1]):
        for first, second in ((low, high), (high, low)):
            image = np.zeros((16, 16, 3), dtype=np.uint8)
            for channel, pixel in ((0, first), (1, second)):
                image[2, 1, channel], image[1, 2, channel] = g_row[pixel], g_col[pixel]
            images.append(image)
    return np.stack(images)


def test_colour_max_channel_follows_hypot_where_it_rounds_equal_squares_apart(route):
    # hypot(47, 28) < hypot(17, 52) by one ulp although 47**2 + 28**2 == 17**2 + 52**2:
    # scikit-image takes the second channel, and ranking by the squares took the first.
    images = hypot_tie_images()
    params = dict(orientations=9, pixels_per_cell=(8, 8), cells_per_block=(1, 1))
    expected = np.stack([sk_hog(image, channel_axis=-1, **params) for image in images])
    for batch in (images, images.astype(np.float64)):
        got = HOG(channels="max", **params).fit(batch).transform(batch)
        np.testing.assert_allclose(got, expected, rtol=RTOL, atol=0)


def test_torch_path_max_channel_follows_hypot_on_integer_gradients():
    pytest.importorskip("torch")
    images = hypot_tie_images()
    params = dict(orientations=9, pixels_per_cell=(8, 8), cells_per_block=(1, 1))
    expected = np.stack([sk_hog(image, channel_axis=-1, **params) for image in images])
    for batch in (images, images.astype(np.float64)):
        with torch_path_on_cpu():
            got = HOG(channels="max", **params).fit(batch).transform(batch)
        np.testing.assert_allclose(got, expected, rtol=0, atol=1e-12)


def test_visualisation_equals_skimage(rng):
    images = rng.integers(0, 256, size=(3, 37, 45), dtype=np.uint8)
    for orientations, cell in ((9, (8, 8)), (4, (6, 10)), (7, (5, 5))):
        _, drawings = hog(images, orientations, cell, (2, 2), visualize=True)
        expected = np.stack([sk_hog(im, orientations, cell, (2, 2), visualize=True)[1] for im in images])
        # scikit-image's cell histograms are float32 sums, ours float64.
        np.testing.assert_allclose(drawings, expected, rtol=RTOL, atol=1e-12)
        assert drawings.shape == images.shape
    transformer = HOG(orientations=4, pixels_per_cell=(6, 10), cells_per_block=2).fit(images)
    np.testing.assert_allclose(transformer.visualize(images), hog(images, 4, (6, 10), 2, visualize=True)[1])


# ------------------------------------------------- options skimage lacks, by hand
def one_cell(image, **params):
    return hog(np.asarray(image, dtype=np.uint8)[np.newaxis], pixels_per_cell=4, block_norm=None, **params)[0]


def test_plain_cell_histogram_of_a_vertical_edge():
    # Columns 1 and 2 see a step of 10 (central differences), the border columns 0.
    edge = [[0, 0, 10, 10]] * 4
    # 8 pixels of magnitude 10 at 0 degrees, averaged over the 16 pixels of the cell.
    np.testing.assert_allclose(one_cell(edge, orientations=4), [5, 0, 0, 0])
    # Light-to-dark: 180 degrees folds onto 0 unsigned, lands in bin 2 of 4 when signed.
    np.testing.assert_allclose(one_cell(np.fliplr(edge), orientations=4), [5, 0, 0, 0])
    np.testing.assert_allclose(one_cell(np.fliplr(edge), orientations=4, signed=True), [0, 0, 5, 0])
    np.testing.assert_allclose(one_cell(edge, orientations=4, signed=True), [5, 0, 0, 0])
    # count: 8 of 16 pixels have a gradient; flat pixels have no orientation.
    np.testing.assert_allclose(one_cell(edge, orientations=4, weighting="count"), [0.5, 0, 0, 0])


def test_sobel_on_a_single_bright_pixel():
    dot = np.zeros((4, 4))
    dot[1, 1] = 8
    # Central differences: (row 1, col 2) has g = (0, -8) -> 180 = 0 degrees;
    # (row 2, col 1) has g = (-8, 0) -> -90 = 90 degrees (bin 2 of 4).
    np.testing.assert_allclose(one_cell(dot, orientations=4), [8 / 16, 0, 8 / 16, 0])
    # Sobel / 4: g_row is -[2, 4, 2] on row 2 (cols 0-2), g_col is -[2, 4, 2] on column 2
    # (rows 0-2); (2, 2) has g = (-2, -2) -> -135 = 45 degrees with magnitude 2 * sqrt(2).
    expected = [(2 + 4) / 16, 2 * np.sqrt(2) / 16, (2 + 4) / 16, 0]
    np.testing.assert_allclose(one_cell(dot, orientations=4, gradient="sobel"), expected)
    # count with Sobel: 2 pixels at 0 degrees, 1 at 45, 2 at 90.
    counts = one_cell(dot, orientations=4, gradient="sobel", weighting="count")
    np.testing.assert_allclose(counts, [2 / 16, 1 / 16, 2 / 16, 0])


def test_sobel_gradients_equal_scipy_inside_the_border(rng):
    image = rng.random((1, 9, 11))
    g_row, g_col = _sobel_gradients(image, 9, 11)
    expected_row = scipy.ndimage.sobel(image[0], axis=0, mode="nearest") / 4
    expected_col = scipy.ndimage.sobel(image[0], axis=1, mode="nearest") / 4
    np.testing.assert_allclose(g_row[0, 1:-1], expected_row[1:-1])
    np.testing.assert_allclose(g_col[0, :, 1:-1], expected_col[:, 1:-1])
    # Zero on the first/last row (column), as scikit-image's central differences.
    assert not g_row[0, [0, -1]].any() and not g_col[0, :, [0, -1]].any()


def test_block_norm_none_concatenates_cells_in_row_major_order():
    image = np.zeros((4, 8), dtype=np.uint8)
    image[:, 6:] = 20  # an edge in the second cell only: columns 5 and 6 see +20
    features = hog(image[np.newaxis], orientations=3, pixels_per_cell=4, block_norm=None)[0]
    np.testing.assert_allclose(features, [0, 0, 0, 8 * 20 / 16, 0, 0])
    fitted = HOG(orientations=3, pixels_per_cell=4, block_norm=None).fit(image[np.newaxis])
    names = fitted.get_feature_names_out()
    assert list(names) == [f"hog_cell0_{c}_o{o}" for c in range(2) for o in range(3)]


def test_block_layout_and_feature_names_follow_skimage_order(rng):
    images = rng.integers(0, 256, size=(2, 24, 32), dtype=np.uint8)
    transformer = HOG(orientations=4, pixels_per_cell=8, cells_per_block=2).fit(images)
    names = transformer.get_feature_names_out()
    blocks = sk_hog(images[0], 4, (8, 8), (2, 2), feature_vector=False)  # (2, 3, 2, 2, 4)
    assert len(names) == blocks.size == transformer.n_features_out_
    assert names[0] == "hog_block0_0_cell0_0_o0"
    position = np.ravel_multi_index((1, 2, 0, 1, 3), blocks.shape)
    assert names[position] == "hog_block1_2_cell0_1_o3"
    assert transformer.transform(images)[0, position] == pytest.approx(blocks[1, 2, 0, 1, 3], rel=RTOL)


@settings(max_examples=25, deadline=None)
@given(
    image=arrays(np.uint8, (16, 16)),
    scale=st.floats(0.5, 4.0),
    block_norm=st.sampled_from(BLOCK_NORMS),
)
def test_block_normalised_hog_is_invariant_to_intensity_scaling(image, scale, block_norm):
    # 6 bins: the only bin edges integer gradients can hit exactly are 0 and 90
    # degrees, where a gradient component is exactly zero before and after scaling.
    params = dict(orientations=6, pixels_per_cell=4, cells_per_block=2, block_norm=block_norm)
    original = hog(image[np.newaxis], **params)
    scaled = hog(image[np.newaxis] * scale, **params)
    # Scaling moves every vote by the same factor, so the bins do not change and only
    # eps breaks the invariance. For 8-bit images a block with any gradient has cell
    # values >= 1/16 (one unit step in a 16-pixel cell): L1 norms change by at most
    # eps / ||v||_1 <= 1e-5 * 16, L2 norms by eps^2 / ||v||_2^2 <= 1e-10 * 256.
    atol = 2e-4 if block_norm.startswith("L1") else 1e-7
    np.testing.assert_allclose(scaled, original, rtol=0, atol=atol)


# ------------------------------------------------------------- the transformer
def test_transformer_equals_function_and_skimage(rng):
    images = rng.integers(0, 256, size=(7, 33, 29), dtype=np.uint8)
    params = dict(orientations=8, pixels_per_cell=(6, 5), cells_per_block=(2, 3), block_norm="L2")
    features = HOG(**params).fit(images).transform(images)
    np.testing.assert_array_equal(features, hog(images, **params))
    np.testing.assert_allclose(features, reference(images, **params), rtol=RTOL, atol=0)
    assert features.dtype == np.float64


def test_gray_and_each_channel_modes(rng):
    images = rng.integers(0, 256, size=(4, 24, 24, 3), dtype=np.uint8)
    gray = HOG(pixels_per_cell=6, cells_per_block=2).fit(images).transform(images)
    luminance = images @ np.array([0.2125, 0.7154, 0.0721])
    expected = reference(luminance, pixels_per_cell=(6, 6), cells_per_block=(2, 2))
    np.testing.assert_allclose(gray, expected, rtol=RTOL, atol=0)
    each = HOG(pixels_per_cell=6, cells_per_block=2, channels="each").fit(images)
    expected = np.concatenate(
        [reference(images[..., c], pixels_per_cell=(6, 6), cells_per_block=(2, 2)) for c in range(3)], axis=1
    )
    np.testing.assert_allclose(each.transform(images), expected, rtol=RTOL, atol=0)
    assert each.get_feature_names_out()[expected.shape[1] // 3] == "hog_c1_block0_0_cell0_0_o0"
    assert each.visualize(images).shape == images.shape


def test_n_jobs_and_batch_size_do_not_change_the_output(rng, route):
    images = rng.integers(0, 256, size=(41, 32, 32), dtype=np.uint8)
    expected = HOG(pixels_per_cell=8, cells_per_block=2).fit(images).transform(images)
    for kwargs in (dict(n_jobs=2), dict(batch_size=1), dict(batch_size=7), dict(batch_size=7, n_jobs=2)):
        got = HOG(pixels_per_cell=8, cells_per_block=2, **kwargs).fit(images).transform(images)
        np.testing.assert_array_equal(got, expected, err_msg=str(kwargs))


def test_n_jobs_runs_threads_unless_joblib_is_told_otherwise(rng, monkeypatch):
    import os
    import threading

    from joblib import parallel_config

    from skvision.descriptors import _base

    images = rng.integers(0, 256, size=(40, 32, 32), dtype=np.uint8)
    calls = []
    original = HOG._describe_into

    def recording(self, chunk, out):
        # Only threads of this process can append to this list.
        calls.append((os.getpid(), threading.get_ident()))
        return original(self, chunk, out)

    monkeypatch.setattr(HOG, "_describe_into", recording)
    descriptor = HOG(pixels_per_cell=8, cells_per_block=2, batch_size=5, n_jobs=2).fit(images)
    expected = hog(images, pixels_per_cell=8, cells_per_block=2)
    # This little work runs serially (a second thread would cost more than it brings)...
    np.testing.assert_array_equal(descriptor.transform(images), expected)
    assert len(calls) == 8 and {ident for _, ident in calls} == {threading.get_ident()}
    calls.clear()
    # ...and on this process's pool of threads once there is enough of it.
    monkeypatch.setattr(_base, "_MIN_PARALLEL_SECONDS", {"threads": 0.0, "processes": 0.0})
    monkeypatch.setattr(_base, "_MIN_TASK_SECONDS", {"threads": 0.0, "processes": 0.0})
    np.testing.assert_array_equal(descriptor.transform(images), expected)
    assert len(calls) == 8 and {pid for pid, _ in calls} == {os.getpid()}
    assert threading.get_ident() not in {ident for _, ident in calls}
    calls.clear()
    with parallel_config(backend="loky"):
        np.testing.assert_array_equal(descriptor.transform(images), expected)
    assert calls == []  # the chunks ran in worker processes


@pytest.mark.parametrize(
    "params",
    [
        dict(),
        dict(orientations=12, pixels_per_cell=(6, 8), cells_per_block=1, block_norm="L1-sqrt"),
        dict(transform_sqrt=True, block_norm="L2"),
        dict(signed=True, gradient="sobel", block_norm="L1"),
        dict(weighting="count", block_norm=None),
        dict(channels="max", orientations=4),
    ],
)
def test_torch_cpu_equals_numpy(rng, params):
    pytest.importorskip("torch")
    colour = rng.integers(0, 256, size=(5, 30, 26, 3), dtype=np.uint8)
    # Sevenths tie exactly between channels (47**2 + 28**2 == 17**2 + 52**2); X / 255 puts gradients
    # within an ulp of the 45-degree edge; float32 keeps scikit-image's float32 gradients.
    batches = [colour, colour[..., 1], colour / 7.0, colour.astype(np.float64), colour / 255.0]
    batches += [(colour / 255.0).astype(np.float32), rng.random(colour.shape).astype(np.float32)]
    for images in batches:
        numpy_features = HOG(**params).fit(images).transform(images)
        with torch_path_on_cpu():
            torch_features = HOG(**params).fit(images).transform(images)
        np.testing.assert_allclose(torch_features, numpy_features, rtol=1e-12, atol=1e-15)


@pytest.mark.parametrize(
    "params",
    [
        dict(orientations=8),
        dict(orientations=12, pixels_per_cell=(6, 6), cells_per_block=(2, 2), block_norm="L1-sqrt"),
        dict(orientations=4, block_norm=None),
        dict(orientations=8, gradient="sobel", transform_sqrt=True),
    ],
)
def test_float_copies_of_8bit_images_get_the_8bit_features(params):
    # With a bin edge at 45 degrees (orientations a multiple of 4), scikit-image's float path puts the
    # gradients of X / 255 with |g_row| == |g_col| an ulp either side of it: its features of X / 255 are
    # not those of X (up to 0.07 here). skvision reads X / 255 as its levels, whatever the float type;
    # an image that is no copy of 8-bit levels, in the same batch, keeps the float path.
    photos = np.stack([skimage.data.camera()[100:196, 100:196], skimage.data.brick()[:96, :96]])
    expected = HOG(**params).fit(photos).transform(photos)
    if "gradient" not in params and params.get("block_norm", "L2-Hys") is not None:  # scikit-image's options
        assert np.abs(expected - np.stack([sk_hog(p, **params) for p in photos])).max() < 1e-6
        sk_float = np.stack([sk_hog(p / 255.0, **params) for p in photos])
        assert np.abs(sk_float - expected).max() > 1e-3
    for images in (photos / 255.0, (photos / 255.0).astype(np.float32)):
        np.testing.assert_array_equal(HOG(**params).fit(images).transform(images), expected)
    smooth = skimage.filters.gaussian(photos[:1] / 255.0, sigma=(0, 1, 1))
    mixed = np.concatenate([photos / 255.0, smooth])
    features = HOG(**params).fit(mixed).transform(mixed)
    np.testing.assert_allclose(features[:2], expected, rtol=1e-12, atol=1e-15)
    np.testing.assert_array_equal(features[2:], HOG(**params).fit(mixed).transform(smooth))


@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_torch_path_bins_and_channels_of_photographs_like_numpy(dtype):
    # The GPU run found these: photographs as X / 255 put many gradients within an ulp of the
    # 45-degree edge of 12 orientations (torch.atan2 rounds them to the other side), and their
    # square roots give channels of equal magnitude that torch.hypot rounds apart.
    pytest.importorskip("torch")
    grey = np.stack([skimage.data.camera()[100:196, 100:196], skimage.data.brick()[:96, :96]]) / 255.0
    colour = skimage.data.astronaut()[None, 100:196, 100:196] / 255.0
    cases = [
        (grey, dict(orientations=12, pixels_per_cell=6, cells_per_block=2, block_norm="L1-sqrt")),
        (grey, dict(orientations=4, gradient="sobel", transform_sqrt=True)),
        (colour, dict(channels="max", transform_sqrt=True)),
        (colour, dict(channels="max", orientations=12, gradient="sobel", signed=True)),
    ]
    for images, params in cases:
        images = images.astype(dtype)
        hog = HOG(**params).fit(images)
        numpy_features = hog.transform(images)
        with torch_path_on_cpu():
            torch_features = hog.transform(images)
            np.testing.assert_array_equal(hog.transform(images), torch_features)  # repeats itself
        np.testing.assert_allclose(torch_features, numpy_features, rtol=1e-12, atol=1e-15)


def test_torch_path_bins_pixels_on_bin_edges_like_numpy(rng):
    # One-pixel cells without blocks show every pixel's bin and magnitude. Levels
    # 0/40/80 give gradients at exact multiples of 45 degrees: on the bin edges of
    # an even number of bins, where torch.atan2 must agree with numpy's arctan2.
    pytest.importorskip("torch")
    images = rng.integers(0, 3, size=(3, 40, 40), dtype=np.uint8) * 40
    for orientations in (4, 8, 12):
        for signed in (False, True):
            params = dict(orientations=orientations, pixels_per_cell=1, block_norm=None, signed=signed)
            numpy_features = HOG(**params).fit(images).transform(images)
            with torch_path_on_cpu():
                torch_features = HOG(**params).fit(images).transform(images)
            np.testing.assert_allclose(torch_features, numpy_features, rtol=0, atol=1e-12)


def test_clone_and_pickle_round_trips_give_identical_output(rng):
    images = rng.integers(0, 256, size=(6, 32, 32, 3), dtype=np.uint8)
    params = dict(orientations=6, pixels_per_cell=8, cells_per_block=2, channels="each", signed=True)
    fitted = HOG(**params).fit(images)
    expected = fitted.transform(images)
    np.testing.assert_array_equal(pickle.loads(pickle.dumps(fitted)).transform(images), expected)
    np.testing.assert_array_equal(clone(fitted).fit(images).transform(images), expected)


# ------------------------------------------------------------------ bad input
@pytest.mark.parametrize(
    "params, name",
    [
        (dict(orientations=0), "orientations"),
        (dict(pixels_per_cell=0), "pixels_per_cell"),
        (dict(pixels_per_cell=(8, -1)), "pixels_per_cell"),
        (dict(pixels_per_cell=(2, 2, 2)), "pixels_per_cell"),
        (dict(cells_per_block=(0, 1)), "cells_per_block"),
        (dict(block_norm="L3"), "block_norm"),
        (dict(gradient="prewitt"), "gradient"),
        (dict(weighting="area"), "weighting"),
        (dict(signed="yes"), "signed"),
    ],
)
def test_invalid_parameters_name_the_parameter(params, name):
    images = np.zeros((2, 32, 32), dtype=np.uint8)
    with pytest.raises(ValueError, match=name):
        HOG(**params).fit(images)
    with pytest.raises(ValueError, match=name):
        hog(images, **params)


def test_images_too_small_or_cells_larger_than_images():
    images = np.zeros((2, 20, 30), dtype=np.uint8)
    message = r"at least 24x24 for pixels_per_cell=\(8, 8\) and cells_per_block=\(3, 3\)"
    with pytest.raises(ValueError, match=message):
        HOG().fit(images)
    with pytest.raises(ValueError, match=message):
        hog(images)
    with pytest.raises(ValueError, match=r"pixels_per_cell=\(32, 32\)"):
        HOG(pixels_per_cell=32, block_norm=None).fit(images)
    with pytest.raises(ValueError, match=r"pixels_per_cell=\(32, 32\)"):
        hog(images, pixels_per_cell=32, block_norm=None)
    assert hog(images, pixels_per_cell=(20, 30), block_norm=None).shape == (2, 9)


@pytest.mark.parametrize("block_norm", ["L2-Hys", None])
def test_an_images_features_do_not_depend_on_the_company_it_keeps(block_norm):
    # X / 255 copies took the lookup-table route in a chunk of copies only and the float route beside
    # other float images: the last bits of an image's features changed with batch_size (8e-17).
    rng = np.random.default_rng(0)
    X = rng.random((24, 20, 26))
    X[::2] = rng.integers(0, 256, (12, 20, 26)) / 255.0
    hog = HOG(pixels_per_cell=(4, 4), cells_per_block=(2, 2), block_norm=block_norm).fit(X)
    together = hog.transform(X)
    np.testing.assert_array_equal(together, hog.set_params(batch_size=1).transform(X))
    np.testing.assert_array_equal(together, hog.set_params(batch_size=5).transform(X))
    levels = (X[::2] * 255).round().astype(np.uint8)
    np.testing.assert_array_equal(together[::2], hog.set_params(batch_size=None).transform(levels))


def test_transform_needs_fit_and_the_fitted_image_size():
    images = np.zeros((2, 32, 32), dtype=np.uint8)
    with pytest.raises(NotFittedError):
        HOG().transform(images)
    with pytest.raises(NotFittedError):
        HOG().visualize(images)
    fitted = HOG().fit(images)
    with pytest.raises(ValueError, match=r"fitted on images of shape \(32, 32\)"):
        fitted.transform(np.zeros((2, 40, 32), dtype=np.uint8))
    # The message says what to do, and no longer claims the width depends on the size (Hu's does not).
    with pytest.raises(ValueError, match=r"Resize them first: skvision.preprocessing.Resize\(\(32, 32\)\)"):
        HuMoments().fit(images).transform(np.zeros((2, 40, 32), dtype=np.uint8))


def test_bad_images_are_rejected():
    with pytest.raises(ValueError, match="channel_axis=-1"):
        hog(np.zeros((2, 32, 32, 3)))
    with pytest.raises(ValueError, match="channel_axis"):
        hog(np.zeros((2, 32, 32, 3)), channel_axis=1)
    with pytest.raises(
        ValueError, match=r"hog needs non-negative .*transform_sqrt.*images has a minimum of -1"
    ):
        hog(-np.ones((2, 32, 32)), transform_sqrt=True)
    with pytest.raises(ValueError, match=r"HOG needs non-negative .*transform_sqrt.*X has a minimum of -1"):
        HOG(transform_sqrt=True).fit(-np.ones((2, 32, 32)))
    with pytest.raises(ValueError, match="NaN"):
        hog(np.full((2, 32, 32), np.nan))
    with pytest.raises(ValueError, match="ndim=2"):
        HOG().fit(np.zeros((32, 32)))


# ------------------------------------------------------------- sklearn manners
@parametrize_with_checks(
    [HOG(), HOG(orientations=4, pixels_per_cell=2, cells_per_block=1, block_norm=None, channels="max")],
    expected_failed_checks=expected_failed_checks,
)
def test_sklearn_compatible(estimator, check):
    check(estimator)


def test_pipeline_grid_search_and_cross_validate_on_faces():
    faces, labels = load_faces(return_X_y=True)  # 200 25x25 patches: faces vs not
    pipeline = make_pipeline(HOG(cells_per_block=2), LinearSVC())
    search = GridSearchCV(
        pipeline, {"hog__orientations": [6, 9], "hog__pixels_per_cell": [(6, 6), (8, 8)]}, cv=3
    ).fit(faces, labels)
    assert search.best_params_["hog__orientations"] in (6, 9)
    assert search.best_score_ > 0.8
    scores = cross_validate(clone(search.best_estimator_), faces, labels, cv=3, n_jobs=2)
    assert scores["test_score"].mean() > 0.8
