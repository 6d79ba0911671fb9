"""Property-based tests (hypothesis) of the descriptor functions of ``skvision.descriptors``.

What is checked, and why it must hold:

* shapes and value ranges of every functional descriptor (LBP labels per
  method, HOG blocks, GLCM counts and properties, WLD angles, LPQ codes) and
  of the histogram transformers (each cell sums to 1 under 'l1');
* LBP labels of 'ror', 'uniform' and 'nri_uniform' against a plain Python
  mapping of the 'default' codes;
* LBP invariance to strictly monotonic grey-level changes, exactly where the
  arithmetic allows it (see the comments at each test);
* LBP under 90-degree rotations: codes rotate by P/4 bits, so 'ror' and
  'uniform' maps rotate with the image;
* HOG block normalisation against a plain reimplementation, and HOG
  invariance to intensity scaling with a tolerance derived from its ``eps``;
* Hu moments and Zernike magnitudes under 90-degree rotations and
  reflections, Gabor responses under linear changes and circular shifts.

Example counts are kept small (``max_examples`` 25 or fewer) so that the file
runs in seconds; every property also has a fixed example that hypothesis
always tries first.
"""

import math

import numpy as np
import scipy.ndimage
import skimage.measure
from hypothesis import assume, example, given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from skvision import LBP, LPQ, WLD, ColorHistogram
from skvision.descriptors import (
    gabor,
    graycomatrix,
    graycoprops,
    hog,
    hu_moments,
    local_binary_pattern,
    local_phase_quantization,
    weber_local_descriptor,
    zernike_moments,
)

SETTINGS = settings(max_examples=25, deadline=None)
FEW = settings(max_examples=15, deadline=None)

#: scikit-image's HOG block-normalisation epsilon (skvision uses the same).
HOG_EPS = 1e-5
INTEGER_METHODS = ("default", "ror", "uniform", "nri_uniform")


# ----------------------------------------------------------------------------- strategies
def grey_images(min_side, max_side=12, max_images=3, dtype=np.uint8):
    """A batch ``(N, H, W)`` of small grey images drawn element by element (shrinkable)."""
    shapes = st.tuples(
        st.integers(1, max_images), st.integers(min_side, max_side), st.integers(min_side, max_side)
    )
    if dtype == np.uint8:
        return arrays(np.uint8, shapes)
    return arrays(np.float64, shapes, elements=st.floats(0, 1000, allow_subnormal=False))


@st.composite
def seeded_images(draw, min_side, max_side=14):
    """One ``(H, W)`` float image from a seed: continuous values, or a few grey levels (ties)."""
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    shape = (draw(st.integers(min_side, max_side)), draw(st.integers(min_side, max_side)))
    levels = draw(st.sampled_from([None, 2, 3, 16]))
    if levels is None:
        return rng.random(shape) * 100
    return rng.integers(0, levels, size=shape).astype(np.float64) * 10


# ---------------------------------------------------------------------------------- helpers
def circular_offsets(P, R):
    """scikit-image's neighbour offsets: bit i at (-R sin(2 pi i / P), R cos(2 pi i / P)), to 5 decimals."""
    angles = 2 * np.pi * np.arange(P) / P
    return np.round(-R * np.sin(angles), 5), np.round(R * np.cos(angles), 5)


def tie_margin(image, P, R):
    """``(interior, margin)``: interior pixels (all samples inside) and, there, the smallest
    ``|bilinear sample - centre|`` over the P neighbours, computed independently of skvision
    (``scipy.ndimage.map_coordinates``). Codes can only depend on rounding where it is tiny."""
    rows, cols = circular_offsets(P, R)
    q = int(max(np.ceil(np.abs(rows)).max(), np.ceil(np.abs(cols)).max()))
    height, width = image.shape
    rr, cc = np.meshgrid(np.arange(q, height - q), np.arange(q, width - q), indexing="ij")
    margin = np.full(rr.shape, np.inf)
    for dr, dc in zip(rows, cols):
        sample = scipy.ndimage.map_coordinates(image, [rr + dr, cc + dc], order=1, mode="constant", cval=0.0)
        margin = np.minimum(margin, np.abs(sample - image[rr, cc]))
    return (slice(q, height - q), slice(q, width - q)), margin


def rotate_bits(codes, shift, P):
    """Codes with their P bits rotated left by ``shift`` (bit i moves to bit i + shift)."""
    codes = codes.astype(np.int64)
    shift %= P
    return ((codes << shift) | (codes >> (P - shift))) & ((1 << P) - 1)


def ror_reference(code, P):
    """Smallest value among the P cyclic rotations of a code."""
    return min(int(rotate_bits(np.array(code), s, P)) for s in range(P))


def uniform_reference(code, P):
    """Number of 1 bits if the circular bit string has at most 2 transitions, else P + 1."""
    bits = [(code >> i) & 1 for i in range(P)]
    transitions = sum(bits[i] != bits[(i + 1) % P] for i in range(P))
    return sum(bits) if transitions <= 2 else P + 1


def hog_blocks(cells, n_cells, block):
    """(n, block_rows, block_cols, cells in block, orientations) from ``hog(block_norm=None)`` rows."""
    n = cells.shape[0]
    grid = cells.reshape(n, n_cells[0], n_cells[1], -1)
    windows = np.lib.stride_tricks.sliding_window_view(grid, block, axis=(1, 2))
    # windows: (n, block_row, block_col, orientation, cell_row, cell_col) -> cells before orientation.
    blocks = windows.transpose(0, 1, 2, 4, 5, 3)
    return blocks.reshape(n, blocks.shape[1], blocks.shape[2], -1)


def normalise_blocks(blocks, block_norm):
    """scikit-image's block normalisations (``_hog_normalize_block``), written out plainly."""
    if block_norm == "L1":
        return blocks / (np.abs(blocks).sum(-1, keepdims=True) + HOG_EPS)
    if block_norm == "L1-sqrt":
        return np.sqrt(blocks / (np.abs(blocks).sum(-1, keepdims=True) + HOG_EPS))
    out = blocks / np.sqrt((blocks**2).sum(-1, keepdims=True) + HOG_EPS**2)
    if block_norm == "L2-Hys":
        out = np.minimum(out, 0.2)
        out = out / np.sqrt((out**2).sum(-1, keepdims=True) + HOG_EPS**2)
    return out


# ========================================================================= LBP: shapes, ranges
@st.composite
def lbp_cases(draw):
    sampling = draw(st.sampled_from(["circular", "square"]))
    if sampling == "square":
        P, R = 8, 1.0
    else:
        # Up to 24 neighbours: P <= 16 goes through lookup tables, beyond through bit arithmetic.
        P = draw(st.integers(1, 24))
        R = draw(st.floats(0.25, 3.0, allow_nan=False))
    side = 2 * math.ceil(R) + 1
    dtype = draw(st.sampled_from([np.uint8, np.float64]))
    images = draw(grey_images(side, side + 6, dtype=dtype))
    return images, P, R, sampling


@SETTINGS
@given(case=lbp_cases())
@example(case=(np.arange(3 * 49, dtype=np.uint8).reshape(3, 7, 7), 16, 2.0, "circular"))
def test_lbp_labels_lie_in_each_methods_range_and_follow_the_default_codes(case):
    images, P, R, sampling = case
    codes = local_binary_pattern(images, P, R, "default", sampling=sampling)
    assert codes.shape == images.shape and codes.dtype == np.float64
    assert np.array_equal(codes, np.round(codes))
    assert codes.min() >= 0 and codes.max() < 2**P

    labels = {m: local_binary_pattern(images, P, R, m, sampling=sampling) for m in INTEGER_METHODS[1:]}
    for method, values in labels.items():
        assert values.shape == images.shape
        assert np.array_equal(values, np.round(values)), method
    assert labels["ror"].min() >= 0 and labels["ror"].max() < 2**P
    assert labels["uniform"].min() >= 0 and labels["uniform"].max() <= P + 1
    assert labels["nri_uniform"].min() >= 0 and labels["nri_uniform"].max() <= P * (P - 1) + 2

    # Every label is a function of the pixel's 'default' code, as a plain mapping gives it.
    non_uniform = P * (P - 1) + 2
    nri_of_code = {}
    columns = [labels[m].ravel() for m in ("ror", "uniform", "nri_uniform")]
    for code, ror, uniform, nri in zip(codes.ravel().astype(np.int64), *columns):
        code = int(code)
        assert ror == ror_reference(code, P)
        assert uniform == uniform_reference(code, P)
        # nri_uniform: one distinct label per uniform code, one shared label for all others.
        assert (nri == non_uniform) == (uniform == P + 1)
        assert nri_of_code.setdefault(code, nri) == nri
    uniform_labels = [label for label in nri_of_code.values() if label != non_uniform]
    assert len(set(uniform_labels)) == len(uniform_labels)


@SETTINGS
@given(case=lbp_cases())
def test_lbp_var_is_a_non_negative_variance_or_nan(case):
    images, P, R, sampling = case
    var = local_binary_pattern(images, P, R, "var", sampling=sampling)
    assert var.shape == images.shape
    finite = var[~np.isnan(var)]
    # A population variance of values within [0, max]: at most max^2 / 4. NaN marks a
    # variance of exactly 0; rounding of sum(t^2) - sum(t)^2 / P could in principle
    # leave a value a few ulps below 0 (as in scikit-image), hence the tolerance.
    peak = float(np.abs(images).max())
    assert np.all(finite >= -1e-12 * peak**2)
    assert np.all(finite <= peak**2 / 4 * (1 + 1e-12) + 1e-300)
    # A constant image has zero variance everywhere inside (NaN), whatever the level.
    q = math.ceil(R)
    flat = np.full((1, 2 * q + 3, 2 * q + 3), 7.0)
    assert np.isnan(local_binary_pattern(flat, P, R, "var", sampling=sampling)[0, q:-q, q:-q]).all()


# ================================================================== LBP: monotonic grey maps
# Offsets that land on pixels: the square operator, and circular P=4 with an integer R
# (the offsets (0, R), (-R, 0), (0, -R), (R, 0)). No interpolation, so each bit is a
# comparison between two pixel values, which any strictly increasing map f keeps. The
# padding outside the image reads 0 (not f(0)): with f(0) = 0 and non-negative images the
# padding comparisons (0 >= f(g) iff g = 0) are kept too, so the whole map is invariant;
# otherwise only codes of pixels whose neighbourhood lies inside the image are.
PIXEL_SAMPLINGS = [(8, 1, "square"), (4, 1, "circular"), (4, 2, "circular"), (4, 3, "circular")]


@st.composite
def increasing_lookup_tables(draw):
    """A strictly increasing map of 0..255 to floats, as a 256-entry table starting at 0."""
    steps = draw(arrays(np.float64, 255, elements=st.floats(0.01, 50.0, allow_subnormal=False)))
    return np.concatenate([[0.0], np.cumsum(steps)])


@SETTINGS
@given(
    images=grey_images(7, 12),
    table=increasing_lookup_tables(),
    shift=st.floats(-1000, 1000),
    scale=st.sampled_from(PIXEL_SAMPLINGS),
)
def test_lbp_on_pixel_offsets_is_invariant_to_any_strictly_increasing_map(images, table, shift, scale):
    P, R, sampling = scale
    mapped = table[images]  # f(0) = 0
    shifted = mapped + shift  # still strictly increasing, but f(0) != 0
    q = math.ceil(R)
    for method in ("default", "ror", "uniform", "nri_uniform"):
        original = local_binary_pattern(images, P, R, method, sampling=sampling)
        np.testing.assert_array_equal(local_binary_pattern(mapped, P, R, method, sampling=sampling), original)
        np.testing.assert_array_equal(
            local_binary_pattern(shifted, P, R, method, sampling=sampling)[:, q:-q, q:-q],
            original[:, q:-q, q:-q],
        )


@SETTINGS
@given(
    image=seeded_images(7),
    P=st.integers(3, 16),
    R=st.floats(0.5, 3.0),
    power=st.integers(-6, 6),
)
def test_interpolated_lbp_is_invariant_to_power_of_two_gains_bit_for_bit(image, P, R, power):
    # Interpolated samples are sums of products; multiplying every pixel by 2**k multiplies
    # every intermediate result by 2**k exactly (no rounding, far from overflow), so every
    # comparison, ties included, and every label is unchanged; 'var' scales by 4**k exactly.
    assume(image.shape[0] >= 2 * math.ceil(R) + 1 and image.shape[1] >= 2 * math.ceil(R) + 1)
    gain = 2.0**power
    for method in INTEGER_METHODS:
        np.testing.assert_array_equal(
            local_binary_pattern(image[None] * gain, P, R, method),
            local_binary_pattern(image[None], P, R, method),
        )
    np.testing.assert_array_equal(
        local_binary_pattern(image[None] * gain, P, R, "var"),
        local_binary_pattern(image[None], P, R, "var") * gain**2,
    )


@SETTINGS
@given(
    image=seeded_images(7),
    P=st.integers(3, 16),
    R=st.floats(0.5, 3.0),
    gain=st.floats(0.01, 100.0),
    shift=st.floats(-1000.0, 1000.0),
)
def test_interpolated_lbp_is_invariant_to_increasing_affine_maps_away_from_ties(image, P, R, gain, shift):
    # With bilinear interpolation only affine maps g -> a g + b (a > 0) commute with the
    # sampling (the weights sum to 1), and only in exact arithmetic: in floats a sample equal
    # to its centre, or within rounding of it, may compare either way. So the property is:
    # codes agree at every interior pixel whose samples all differ from the centre by more
    # than a rounding margin (measured independently with scipy). The padding reads 0, not
    # b, so border pixels are excluded.
    assume(image.shape[0] >= 2 * math.ceil(R) + 1 and image.shape[1] >= 2 * math.ceil(R) + 1)
    inside, margin = tie_margin(image, P, R)
    clear = margin > 1e-9 * (np.abs(image).max() + abs(shift) / gain + 1)
    mapped = image * gain + shift
    for method in INTEGER_METHODS:
        original = local_binary_pattern(image[None], P, R, method)[0][inside]
        changed = local_binary_pattern(mapped[None], P, R, method)[0][inside]
        np.testing.assert_array_equal(changed[clear], original[clear])


def test_nonlinear_maps_do_change_interpolated_codes():
    # Why the two tests above stop at powers of two and affine maps: a bilinear sample is an
    # average, and a non-linear increasing map does not commute with averages.
    image = np.random.default_rng(0).random((1, 16, 16))
    assert not np.array_equal(local_binary_pattern(image**3, 8, 1), local_binary_pattern(image, 8, 1))
    # ...while on pixel offsets it does not matter.
    np.testing.assert_array_equal(local_binary_pattern(image**3, 4, 1), local_binary_pattern(image, 4, 1))


def test_clear_margin_keeps_most_pixels_of_continuous_images():
    # The away-from-ties tests are not vacuous: on continuous images nearly every pixel counts.
    image = np.random.default_rng(1).random((14, 14)) * 100
    _, margin = tie_margin(image, 8, 1.5)
    assert np.mean(margin > 1e-9 * 101) > 0.95


# ============================================================================ LBP: rotations
# np.rot90(image, k) turns the image counter-clockwise. Neighbour i sits at angle 2 pi i / P
# counter-clockwise from the right, so for P a multiple of 4 the turned neighbourhood of a
# pixel is the old one with bit i moved to bit i + k P / 4: 'default' codes rotate by k P / 4
# bits, and 'ror' (the smallest rotation) and 'uniform' (ones and transitions around the
# circle) do not change. For offsets on pixels (square; P = 4 with an integer R) and for P = 4
# with a half-integer R (weights exactly 0.5 and 0.5, and addition commutes) the samples are
# the same numbers, so the maps are equal bit for bit, borders included (the zero padding
# turns with the image). Other interpolated offsets give the same samples only in exact
# arithmetic (rows and columns swap roles in the weights' rounding), so there the codes
# agree away from ties.
EXACT_ROTATION_SCALES = [
    (8, 1, "square"),
    (4, 1, "circular"),
    (4, 2, "circular"),
    (4, 0.5, "circular"),
    (4, 1.5, "circular"),
    (4, 2.5, "circular"),
]


@SETTINGS
@given(
    images=grey_images(3, 11, max_images=2),
    scale=st.sampled_from(EXACT_ROTATION_SCALES),
    turns=st.integers(1, 3),
)
def test_lbp_maps_turn_with_the_image_exactly_on_pixel_and_half_pixel_offsets(images, scale, turns):
    P, R, sampling = scale
    assume(min(images.shape[1:]) >= 2 * math.ceil(R) + 1)
    turned = np.rot90(images, turns, axes=(1, 2))
    codes = local_binary_pattern(images, P, R, "default", sampling=sampling)
    np.testing.assert_array_equal(
        local_binary_pattern(turned, P, R, "default", sampling=sampling),
        rotate_bits(np.rot90(codes, turns, axes=(1, 2)), turns * P // 4, P),
    )
    for method in ("ror", "uniform"):
        np.testing.assert_array_equal(
            local_binary_pattern(turned, P, R, method, sampling=sampling),
            np.rot90(local_binary_pattern(images, P, R, method, sampling=sampling), turns, axes=(1, 2)),
        )
    # 'var' sums the same samples in another order: equal to rounding, NaN at the same pixels.
    np.testing.assert_allclose(
        local_binary_pattern(turned, P, R, "var", sampling=sampling),
        np.rot90(local_binary_pattern(images, P, R, "var", sampling=sampling), turns, axes=(1, 2)),
        rtol=1e-12,
        atol=1e-9,
        equal_nan=True,
    )


@SETTINGS
@given(
    image=seeded_images(7),
    P=st.sampled_from([8, 12, 16, 20]),
    R=st.sampled_from([1.0, 1.25, 1.5, 2.0, 2.5, 3.0]),
    turns=st.integers(1, 3),
)
def test_interpolated_lbp_turns_with_the_image_away_from_ties(image, P, R, turns):
    assume(min(image.shape) >= 2 * math.ceil(R) + 1)
    rows, cols = circular_offsets(P, R)
    # The rounded offsets themselves must turn into each other: (dr, dc) -> (-dc, dr).
    np.testing.assert_array_equal(np.roll(rows, -(P // 4)), -cols)
    np.testing.assert_array_equal(np.roll(cols, -(P // 4)), rows)
    inside, margin = tie_margin(image, P, R)
    clear = margin > 1e-9 * (np.abs(image).max() + 1)
    turned = np.rot90(image, turns)
    codes = local_binary_pattern(image[None], P, R, "default")[0]
    expected = {
        "default": rotate_bits(codes, turns * P // 4, P),
        "ror": local_binary_pattern(image[None], P, R, "ror")[0],
        "uniform": local_binary_pattern(image[None], P, R, "uniform")[0],
    }
    for method, before in expected.items():
        after = np.rot90(local_binary_pattern(turned[None], P, R, method)[0], -turns)
        np.testing.assert_array_equal(after[inside][clear], before[inside][clear])


# ============================================================================= HOG: ranges
@st.composite
def hog_cases(draw, scale_safe=False):
    """(images, parameters). ``scale_safe``: no bin edge at 45 or 135 degrees (see below)."""
    signed = draw(st.booleans())
    orientations = draw(st.integers(1, 12))
    if scale_safe:
        # Integer gradients hit a bin edge exactly only at 0, 45, 90, 135 ... degrees (tan of
        # any other edge is irrational). Components that are exactly 0 stay 0 after scaling,
        # but equal non-zero components (45 degrees) may not stay equal after rounding.
        assume(orientations % (8 if signed else 4) != 0)
    cell = (draw(st.integers(1, 5)), draw(st.integers(1, 5)))
    block = (draw(st.integers(1, 3)), draw(st.integers(1, 3)))
    height = draw(st.integers(cell[0] * block[0], cell[0] * block[0] + 7))
    width = draw(st.integers(cell[1] * block[1], cell[1] * block[1] + 7))
    images = draw(arrays(np.uint8, (draw(st.integers(1, 2)), height, width)))
    params = dict(
        orientations=orientations,
        pixels_per_cell=cell,
        cells_per_block=block,
        signed=signed,
        gradient=draw(st.sampled_from(["central", "sobel"])),
        weighting=draw(st.sampled_from(["magnitude", "count"])),
        transform_sqrt=draw(st.booleans()),
    )
    return images, params


@SETTINGS
@given(case=hog_cases())
def test_hog_shape_ranges_and_block_normalisation_equal_a_plain_reimplementation(case):
    images, params = case
    cell, block = params["pixels_per_cell"], params["cells_per_block"]
    n_cells = (images.shape[1] // cell[0], images.shape[2] // cell[1])
    n_blocks = (n_cells[0] - block[0] + 1, n_cells[1] - block[1] + 1)
    cells = hog(images, block_norm=None, **params)
    assert cells.shape == (len(images), n_cells[0] * n_cells[1] * params["orientations"])
    assert np.isfinite(cells).all() and cells.min() >= 0
    per_cell = cells.reshape(len(images), -1, params["orientations"]).sum(-1)
    if params["weighting"] == "count":
        # The fraction of the cell's pixels that voted.
        assert per_cell.max() <= 1 + 1e-12
    blocks = hog_blocks(cells, n_cells, block)
    for block_norm in ("L1", "L1-sqrt", "L2", "L2-Hys"):
        features = hog(images, block_norm=block_norm, **params)
        per_image = n_blocks[0] * n_blocks[1] * block[0] * block[1] * params["orientations"]
        assert features.shape == (len(images), per_image)
        assert np.isfinite(features).all() and features.min() >= 0
        per_block = features.reshape(blocks.shape)
        # Unit norms at most (eps only ever shrinks them); L2-Hys clips at 0.2 and then
        # renormalises, so its values are not bounded by 0.2 but its block norms are by 1.
        if block_norm == "L1":
            assert per_block.sum(-1).max() <= 1 + 1e-12
        else:
            assert np.sqrt((per_block**2).sum(-1)).max() <= 1 + 1e-12
        np.testing.assert_allclose(per_block, normalise_blocks(blocks, block_norm), rtol=1e-10, atol=1e-14)


# ======================================================================= HOG: intensity scaling
def scaling_tolerance(block_norm, blocks, c):
    """Largest change of a normalised value when the unnormalised blocks scale by c.

    Without eps every normalisation is exactly scale-invariant; with it (per element):

    * L1: ``v/(s+e)`` becomes ``v/(s+e/c)``, a change by the factor ``r = (s+e)/(s+e/c)``
      of a value <= 1, so by at most ``|1 - r| <= e |1 - 1/c| / s``, s the block's L1 norm;
    * L1-sqrt: the square root of a value <= 1 changed by the factor r changes by at most
      ``|1 - sqrt r| <= |1 - r|``: the same bound;
    * L2: ``<= e^2 |1 - 1/c^2| / (2 q)``, q the block's squared L2 norm;
    * L2-Hys: clipping is 1-Lipschitz and renormalising a vector of norm >= 0.2 is
      10-Lipschitz, on the whole block: ``10 sqrt(d)`` times the L2 bound.

    Blocks without a vote are 0 before and after. 1e-12 covers ordinary rounding.
    """
    s = blocks.sum(-1)
    q = (blocks**2).sum(-1)
    if not (s > 0).any():
        return 1e-12
    s_min, q_min, d = s[s > 0].min(), q[q > 0].min(), blocks.shape[-1]
    if block_norm in ("L1", "L1-sqrt"):
        bound = HOG_EPS * abs(1 - 1 / c) / s_min
    else:
        bound = HOG_EPS**2 * abs(1 - 1 / c**2) / (2 * q_min)
        if block_norm == "L2-Hys":
            bound *= 10 * math.sqrt(d)
    return bound + 1e-12


@SETTINGS
@given(
    case=hog_cases(scale_safe=True),
    factor=st.floats(0.2, 8.0),
    power=st.integers(-3, 3),
    block_norm=st.sampled_from(["L1", "L1-sqrt", "L2", "L2-Hys"]),
)
def test_block_normalised_hog_is_invariant_to_intensity_scaling(case, factor, power, block_norm):
    images, params = case
    if params["gradient"] == "sobel" or params["transform_sqrt"]:
        # Exact scalings only: Sobel sums of different pixels that are equal in exact
        # arithmetic may differ by an ulp once scaled (a zero gradient becoming 1e-16 with
        # some orientation, which counts with weighting='count'), and square roots of the
        # scaled image are exact multiples only for powers of four.
        c = 4.0**power
    else:
        # Central differences of c*a and c*b: zero exactly when a == b, else c (a - b) to
        # rounding, which cannot push an integer gradient across a bin edge (see hog_cases).
        c = factor
    scaled = images.astype(np.float64) * c
    original = hog(images, block_norm=block_norm, **params)
    cell = params["pixels_per_cell"]
    n_cells = (images.shape[1] // cell[0], images.shape[2] // cell[1])
    blocks = hog_blocks(hog(images, block_norm=None, **params), n_cells, params["cells_per_block"])
    effective = math.sqrt(c) if params["transform_sqrt"] else c
    if params["weighting"] == "count":
        effective = 1.0  # votes do not depend on the magnitude: the histograms are unchanged
    atol = scaling_tolerance(block_norm, blocks, effective)
    np.testing.assert_allclose(hog(scaled, block_norm=block_norm, **params), original, rtol=0, atol=atol)


def _hypot_apart_image():
    """A 6x7 grey image with one gradient (159, 91) whose ``np.hypot`` is one ulp below its sqrt."""
    image = np.full((1, 6, 7), 56, dtype=np.uint8)
    image[0, 4, 0], image[0, 5, 1] = 147, 215
    return image


@SETTINGS
@given(case=hog_cases(scale_safe=True), power=st.integers(-4, 4))
@example(
    case=(
        _hypot_apart_image(),
        {
            "orientations": 1,
            "pixels_per_cell": (1, 1),
            "cells_per_block": (1, 1),
            "signed": False,
            "gradient": "central",
            "weighting": "magnitude",
            "transform_sqrt": False,
        },
    ),
    power=0,
)
def test_unnormalised_hog_scales_with_the_image(case, power):
    # block_norm=None: magnitude votes scale by c (sqrt(c) after transform_sqrt), count votes
    # do not change. With c a power of four every step is exact, so the equality is too, among
    # float images. 8-bit images look their magnitudes up (np.hypot's values, as scikit-image)
    # where float ones take sqrt(a^2 + b^2): the two agree to an ulp, not always to the bit.
    images, params = case
    c = 4.0**power
    cells = hog(images.astype(np.float64), block_norm=None, **params)
    np.testing.assert_allclose(hog(images, block_norm=None, **params), cells, rtol=1e-15, atol=0)
    scaled = hog(images.astype(np.float64) * c, block_norm=None, **params)
    if params["weighting"] == "count":
        np.testing.assert_array_equal(scaled, cells)
    else:
        np.testing.assert_array_equal(scaled, cells * (2.0**power if params["transform_sqrt"] else c))


# ================================================================================ GLCM
GLCM_ANGLES = [0.0, np.pi / 4, np.pi / 2, 3 * np.pi / 4, np.pi]


@FEW
@given(
    images=grey_images(2, 9),
    levels=st.integers(2, 8),
    distances=st.lists(st.integers(1, 4), min_size=1, max_size=2),
    angles=st.lists(st.sampled_from(GLCM_ANGLES), min_size=1, max_size=3),
)
def test_glcm_counts_every_pixel_pair_once_and_properties_stay_in_range(images, levels, distances, angles):
    images = images % levels
    counts = graycomatrix(images, distances, angles, levels=levels)
    assert counts.shape == (len(images), levels, levels, len(distances), len(angles))
    for d, distance in enumerate(distances):
        for a, angle in enumerate(angles):
            # skimage's offsets: round half away from zero of (sin, cos) * distance.
            dr = int(math.copysign(math.floor(abs(math.sin(angle) * distance) + 0.5), math.sin(angle)))
            dc = int(math.copysign(math.floor(abs(math.cos(angle) * distance) + 0.5), math.cos(angle)))
            pairs = max(0, images.shape[1] - abs(dr)) * max(0, images.shape[2] - abs(dc))
            np.testing.assert_array_equal(counts[..., d, a].sum(axis=(1, 2)), pairs)
    symmetric = graycomatrix(images, distances, angles, levels=levels, symmetric=True)
    np.testing.assert_array_equal(symmetric, counts + counts.transpose(0, 2, 1, 3, 4))
    normed = graycomatrix(images, distances, angles, levels=levels, normed=True)
    totals = normed.sum(axis=(1, 2))
    assert np.all((np.abs(totals - 1) < 1e-12) | (counts.sum(axis=(1, 2)) == 0))

    names = ("contrast", "dissimilarity", "homogeneity", "energy", "correlation", "ASM", "entropy")
    props = {name: graycoprops(counts, name) for name in names}
    has_pairs = counts.sum(axis=(1, 2)) > 0
    tol = 1e-12
    assert np.all(props["contrast"] >= 0)
    # Jensen: (E|i - j|)^2 <= E (i - j)^2.
    assert np.all(props["dissimilarity"] ** 2 <= props["contrast"] + tol)
    assert np.all((props["homogeneity"] > 0) == has_pairs) and np.all(props["homogeneity"] <= 1 + tol)
    assert np.all(props["ASM"] <= 1 + tol)
    np.testing.assert_allclose(props["energy"] ** 2, props["ASM"], rtol=1e-12, atol=1e-15)
    assert np.all(np.abs(props["correlation"][has_pairs]) <= 1 + 1e-9)
    assert np.all(props["entropy"] >= -tol) and np.all(props["entropy"] <= np.log(levels**2) + tol)


# ================================================================= moments, Gabor, WLD, LPQ
def hu_scale(image):
    """Per-invariant magnitude scale: Hu's invariants are homogeneous polynomials in the
    2nd- (a) and 3rd-order (b) normalised moments, of degrees a, a^2, b^2, b^2, b^4, a b^2, b^4."""
    nu = skimage.measure.moments_normalized(skimage.measure.moments_central(image, order=3), order=3)
    a = max(abs(nu[2, 0]), abs(nu[0, 2]), abs(nu[1, 1]), 1e-300)
    b = max(abs(nu[3, 0]), abs(nu[0, 3]), abs(nu[2, 1]), abs(nu[1, 2]), 1e-300)
    return np.array([a, a * a, b * b, b * b, b**4, a * b * b, b**4])


@SETTINGS
@given(images=grey_images(2, 12, max_images=2), turns=st.integers(1, 3))
def test_hu_moments_are_invariant_to_right_angle_turns_and_flip_sign_7_under_reflection(images, turns):
    # A right-angle turn or a transpose maps the pixel grid onto itself, so the central
    # moments are permuted (with signs) exactly: Hu's invariants 1-6 keep their values and
    # the 7th, a pseudo-invariant, changes sign under a reflection.
    hu = hu_moments(images)
    turned = hu_moments(np.rot90(images, turns, axes=(1, 2)))
    mirrored = hu_moments(np.transpose(images, (0, 2, 1)))
    for k, image in enumerate(images.astype(np.float64)):
        if image.sum() == 0:
            np.testing.assert_array_equal(hu[k], 0)
            continue
        tolerance = 1e-9 * (hu_scale(image) + np.abs(hu[k]))
        for other in (turned[k], mirrored[k] * [1, 1, 1, 1, 1, 1, -1]):
            assert np.all(np.abs(other - hu[k]) <= tolerance), (other, hu[k], tolerance)


@SETTINGS
@given(
    images=st.integers(3, 12).flatmap(lambda side: arrays(np.uint8, (1, side, side))),
    turns=st.integers(1, 3),
    order=st.integers(0, 6),
)
def test_zernike_magnitudes_are_invariant_to_right_angle_turns_and_reflections(images, turns, order):
    # On a square image the disc and its pixel centres are symmetric under these maps, which
    # multiply each Z_nm by a unit complex number (turn) or conjugate it (reflection).
    z = zernike_moments(images, order=order)
    bound = (order + 1) / np.pi * images.astype(np.float64).sum() / (images.shape[1] / 2) ** 2
    atol = 1e-10 * (bound + 1)
    variants = (np.rot90(images, turns, axes=(1, 2)), images[:, ::-1, :], np.transpose(images, (0, 2, 1)))
    for variant in variants:
        magnitudes = np.abs(zernike_moments(variant, order=order))
        np.testing.assert_allclose(magnitudes, np.abs(z), rtol=1e-9, atol=atol)


@FEW
@given(
    images=grey_images(6, 14, max_images=2),
    frequency=st.floats(0.05, 0.45),
    theta=st.floats(0, np.pi),
    gain=st.floats(-5, 5),
    roll=st.tuples(st.integers(0, 13), st.integers(0, 13)),
)
def test_gabor_responses_are_linear_and_shift_equivariant_with_wrap(images, frequency, theta, gain, roll):
    images = images.astype(np.float64)
    real, imag = gabor(images, frequency, theta=theta, mode="wrap")
    assert real.shape == imag.shape == images.shape
    scale = 1e-9 * (np.abs(images).max() + 1) * (abs(gain) + 1)
    real_g, imag_g = gabor(images * gain, frequency, theta=theta, mode="wrap")
    np.testing.assert_allclose(real_g, gain * real, atol=scale, rtol=0)
    np.testing.assert_allclose(imag_g, gain * imag, atol=scale, rtol=0)
    # With periodic borders, filtering commutes with circular shifts.
    shifted = np.roll(images, roll, axis=(1, 2))
    real_s, imag_s = gabor(shifted, frequency, theta=theta, mode="wrap")
    np.testing.assert_allclose(real_s, np.roll(real, roll, axis=(1, 2)), atol=scale, rtol=0)
    np.testing.assert_allclose(imag_s, np.roll(imag, roll, axis=(1, 2)), atol=scale, rtol=0)


@SETTINGS
@given(images=grey_images(3, 12), alpha=st.floats(0.1, 10), beta=st.floats(0.1, 50))
def test_wld_maps_shapes_and_angle_ranges(images, alpha, beta):
    excitation, orientation = weber_local_descriptor(images, alpha=alpha, beta=beta)
    expected = (len(images), images.shape[1] - 2, images.shape[2] - 2)
    assert excitation.shape == orientation.shape == expected
    assert np.all(np.abs(excitation) <= np.pi / 2)
    assert np.all((orientation >= 0) & (orientation < 2 * np.pi))


@SETTINGS
@given(
    image=seeded_images(5, 12),
    window_size=st.sampled_from([3, 5]),
    window=st.sampled_from(["uniform", "gaussian"]),
    decorrelate=st.booleans(),
    power=st.integers(-5, 5),
)
def test_lpq_codes_shape_and_power_of_two_gain_invariance(image, window_size, window, decorrelate, power):
    assume(min(image.shape) >= window_size)
    params = dict(window_size=window_size, window=window, decorrelate=decorrelate)
    codes = local_phase_quantization(image[None], **params)
    assert codes.dtype == np.uint8
    assert codes.shape == (1, image.shape[0] - window_size + 1, image.shape[1] - window_size + 1)
    # Coefficients and the zero tolerance (relative to the peak pixel) both scale by 2**k exactly.
    np.testing.assert_array_equal(local_phase_quantization(image[None] * 2.0**power, **params), codes)


# ======================================================================= histogram transformers
def cell_sizes(length, n_cells):
    """Cells split a length as floor(i * length / n) (see cell_histograms)."""
    return np.diff(np.arange(n_cells + 1) * length // n_cells)


@SETTINGS
@given(
    images=grey_images(8, 14, max_images=3),
    grid=st.tuples(st.integers(1, 3), st.integers(1, 3)),
    which=st.sampled_from(["LBP", "LBP-square", "LPQ", "WLD"]),
)
def test_code_histogram_cells_sum_to_one_or_count_every_pixel(images, grid, which):
    make, border = {
        "LBP": (lambda **kw: LBP(P=8, R=1.5, method="uniform", **kw), 0),
        "LBP-square": (lambda **kw: LBP(P=8, R=1, sampling="square", method="ror", **kw), 0),
        "LPQ": (lambda **kw: LPQ(window_size=3, **kw), 1),
        "WLD": (lambda **kw: WLD(**kw), 1),
    }[which]
    n_cells = grid[0] * grid[1]
    l1 = make(grid=grid, normalize="l1").fit_transform(images).reshape(len(images), n_cells, -1)
    np.testing.assert_allclose(l1.sum(-1), 1.0, rtol=1e-12)
    assert l1.min() >= 0
    l2 = make(grid=grid, normalize="l2").fit_transform(images).reshape(len(images), n_cells, -1)
    np.testing.assert_allclose(np.sqrt((l2**2).sum(-1)), 1.0, rtol=1e-12)
    raw_norm = "none" if which.startswith("LBP") else None
    counts = make(grid=grid, normalize=raw_norm).fit_transform(images).reshape(len(images), n_cells, -1)
    # Every pixel of the code map (the image less the 'valid' border) counts once, in its cell.
    rows = cell_sizes(images.shape[1] - 2 * border, grid[0])
    cols = cell_sizes(images.shape[2] - 2 * border, grid[1])
    expected = np.outer(rows, cols).ravel()
    np.testing.assert_array_equal(counts.sum(-1), np.broadcast_to(expected, (len(images), n_cells)))


@FEW
@given(
    images=arrays(np.uint8, st.tuples(st.integers(1, 3), st.integers(2, 10), st.integers(2, 10), st.just(3))),
    color_space=st.sampled_from(["rgb", "hsv", "lab"]),
    bins=st.integers(1, 5),
    histogram=st.sampled_from(["joint", "marginal"]),
)
def test_colour_histograms_sum_to_one_per_channel_and_cell(images, color_space, bins, histogram):
    ch = ColorHistogram(color_space=color_space, bins=bins, histogram=histogram, moments=False, grid=(2, 2))
    features = ch.fit_transform(images)
    assert np.isfinite(features).all() and features.min() >= 0
    per_cell = features.reshape(len(images), 4, -1)
    if histogram == "joint":
        np.testing.assert_allclose(per_cell.sum(-1), 1.0, rtol=1e-12)
    else:
        np.testing.assert_allclose(per_cell.reshape(len(images), 4, 3, bins).sum(-1), 1.0, rtol=1e-12)
