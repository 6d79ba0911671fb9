"""Histograms of oriented gradients (HOG): a batched function and a transformer.

The computation follows :func:`skimage.feature.hog` step by step, so that the
shared options give the same numbers (relative tolerance 1e-6):

1. optional square root of the image (``transform_sqrt``);
2. central differences ``I[r+1] - I[r-1]`` along rows and columns, zero on the
   first/last row (column); for multichannel images, each pixel keeps the
   gradient of the channel with the largest magnitude;
3. cells of ``pixels_per_cell`` tile the image from the top-left corner; rows and
   columns left over at the bottom and right edges belong to no cell;
4. each pixel votes its gradient magnitude into one orientation bin (hard
   assignment, no interpolation): orientation ``rad2deg(arctan2(g_row, g_col)) %
   180`` falls in bin ``i`` when ``(180 / n) * i <= angle < (180 / n) * (i + 1)``;
   the cell histogram is the sum of the votes divided by the cell area;
5. blocks of ``cells_per_block`` cells slide by one cell; each block is
   normalised (``'L1'``, ``'L1-sqrt'``, ``'L2'``, ``'L2-Hys'``, ``eps = 1e-5``) and
   the blocks are concatenated in the order ``(block_row, block_col, cell_row,
   cell_col, orientation)``.

Options that scikit-image lacks (they come from the course material, where HOG is
taught as gradients -> orientations -> binning -> histograms):

* ``gradient='sobel'``: the Sobel operator instead of central differences (less
  sensitive to noise); it is divided by 4 so that both operators agree on a
  linear ramp.
* ``signed=True``: orientations over 0-360 degrees, so that a dark-to-light edge
  and a light-to-dark edge of the same direction fall in different bins.
* ``block_norm=None``: the per-cell histograms, concatenated, without block
  normalisation (the plain descriptor of the course).
* ``weighting='count'``: each pixel casts one vote instead of its magnitude, so
  the histogram is the fraction of the cell's pixels per orientation (pixels
  with a zero gradient have no orientation and do not vote).

Float copies of 8-bit images
-----------------------------
The transformer (:class:`HOG`, not the function :func:`hog`) describes ``X / 255``
as ``X`` (uint8 or float, any float type): with a bin edge at 45 degrees
(``orientations`` a multiple of 4), scikit-image's float arithmetic puts the
gradients of ``X / 255`` with ``|g_row| == |g_col|`` an ulp to either side of
the edge, and its features of ``X / 255`` differ from those of ``X`` (by up to
0.07 on photographs with 8 or 12 orientations). skvision reads such images as
their 8-bit levels, image by image (the value-scale rule of
:mod:`skvision._images`: uint8 ``X`` and float ``X / 255`` give the same
features; ``_reads_copies_as_levels`` in :mod:`skvision.descriptors._base`);
other float images follow scikit-image's float path. In a batch of both, the
levels take the float path too, where magnitudes may differ from the lookup
table's in the last bit.

Implementation notes
--------------------
The batch is processed in sub-chunks that fit in the CPU cache, with no Python
loop over images or cells. Two details keep it exact and fast:

* scikit-image's ``np.remainder`` is replaced by the equivalent comparisons for
  angles in [-180, 180], and the bin index from a multiplication is corrected by
  comparing against the exact bin edges, so every pixel lands in scikit-image's
  bin, including those exactly on an edge;
* for 8-bit images the gradients are integers in [-255, 255], so orientation bin
  and magnitude come from a lookup table over the 511 x 511 possible gradients,
  computed once with scikit-image's formulas (:mod:`skvision.descriptors._hog_tables`).

For 8-bit images, when numba is installed (the ``fast`` extra), a compiled kernel
(:mod:`skvision.descriptors._hog_kernels`) replaces the numpy passes from pixels
to cell histograms: it reads the same tables and adds each cell's votes in the
same order, so its histograms are bit for bit the numpy path's, in one pass over
memory instead of several (BENCHMARKS.md has the figures). ``SKVISION_NUMBA=0`` in
the environment turns it off.

scikit-image sums each cell in single precision (``float``) and we sum in double
precision, so results differ by about 1e-7 relative (more for very large cells:
about 8e-7 for 32 x 32-pixel cells).

The torch path (``HOG(device=...)``) runs the same steps: gradients in the
numpy path's dtype (float32 for float32 images, as scikit-image), angles and
magnitudes in float64. ``torch.atan2`` and ``torch.hypot`` may differ from
numpy's in the last bit, which matters only where it decides something: a
gradient on a bin edge (``|g_row| == |g_col|`` on the 45-degree edge, common in
8-bit images and within an ulp in their ``X / 255`` copies) or, with
``channels='max'``, two channels of equal magnitude. Those few pixels are
decided by numpy's own functions (the margins, 1e-9 degrees and 1e-12
relative, are far wider than the libraries' differences), so both paths give
the same bins and channels; cell sums differ only in their last bits. The torch
path sums cells without atomic additions, so it repeats itself bit for bit on a
GPU too.

The drawing of ``visualize=True`` is scikit-image's; with ``signed=True`` the
bins of opposite directions draw on the same line.
"""

from __future__ import annotations

import functools
from numbers import Integral

import numpy as np

from .._compat import Interval, StrOptions, validate_params
from .._images import check_image_shape, check_images
from . import _hog_kernels
from ._base import DEVICE_CONSTRAINT, BaseDescriptor, resolve_descriptor_device
from ._common import check_non_negative, check_positive_ints, grid_parts, join_names, orientation_part
from ._hog_tables import LUT_RADIUS, bin_edges, uint8_lookup, uint8_magnitude_quarter

__all__ = ["hog", "HOG"]

BLOCK_NORMS = ("L1", "L1-sqrt", "L2", "L2-Hys")
#: scikit-image's block-normalisation epsilon.
_EPS = 1e-5
#: L2-Hys clips normalised values at this level before renormalising.
_HYS_CLIP = 0.2
#: Pixels per sub-chunk of the numpy path: the working arrays of one sub-chunk
#: (a few bytes to a few tens of bytes per pixel) stay in the CPU cache.
_CACHE_CHUNK_PIXELS = 2**17
#: Features per group of images whose blocks are normalised together.
_NORMALIZE_GROUP_FEATURES = 2**17
#: Pixels per chunk of the transformer's numpy path when batch_size is None: each
#: chunk is worked through in cache-sized sub-chunks anyway; 2**20 keeps the peak
#: memory of a transform near its output's size, and fewer, larger chunks than
#: 2**18 pay the block normalisation and per-chunk calls less often (bench_hog.py's
#: memory and speed rows); larger chunks gain nothing more.
_TRANSFORM_CHUNK_PIXELS = 2**20

_HOG_PARAMETER_CONSTRAINTS = {
    "orientations": [Interval(Integral, 1, None, closed="left")],
    "pixels_per_cell": [Interval(Integral, 1, None, closed="left"), tuple, list],
    "cells_per_block": [Interval(Integral, 1, None, closed="left"), tuple, list],
    "block_norm": [StrOptions(set(BLOCK_NORMS)), None],
    "transform_sqrt": ["boolean"],
    "gradient": [StrOptions({"central", "sobel"})],
    "signed": ["boolean"],
    "weighting": [StrOptions({"magnitude", "count"})],
}


class _HOGSpec:
    """Validated HOG parameters and the geometry they imply for an image size."""

    def __init__(
        self,
        orientations,
        pixels_per_cell,
        cells_per_block,
        block_norm,
        transform_sqrt,
        gradient,
        signed,
        weighting,
    ):
        self.orientations = int(orientations)
        self.cell = check_positive_ints(pixels_per_cell, "pixels_per_cell")
        self.block = check_positive_ints(cells_per_block, "cells_per_block")
        self.block_norm = block_norm
        self.transform_sqrt = bool(transform_sqrt)
        self.gradient = gradient
        self.signed = bool(signed)
        self.weighting = weighting
        self.period = 360.0 if self.signed else 180.0

    def min_size(self):
        if self.block_norm is None:
            return self.cell
        return (self.cell[0] * self.block[0], self.cell[1] * self.block[1])

    def min_size_reason(self):
        if self.block_norm is None:
            return f"pixels_per_cell={self.cell} (one cell)"
        return f"pixels_per_cell={self.cell} and cells_per_block={self.block}"

    def n_cells(self, height, width):
        return height // self.cell[0], width // self.cell[1]

    def n_blocks(self, height, width):
        n_rows, n_cols = self.n_cells(height, width)
        return n_rows - self.block[0] + 1, n_cols - self.block[1] + 1

    def n_features(self, height, width):
        if self.block_norm is None:
            n_rows, n_cols = self.n_cells(height, width)
            return n_rows * n_cols * self.orientations
        n_rows, n_cols = self.n_blocks(height, width)
        return n_rows * n_cols * self.block[0] * self.block[1] * self.orientations

    def feature_names(self, height, width):
        """``[block{r}_{c}_][cell{r}_{c}_]o{k}``: the cells of the image (``block_norm=None``), or
        the blocks and the cells within a block, each part only where there is more than one."""
        bins = [orientation_part(o) for o in range(self.orientations)]
        if self.block_norm is None:
            return join_names(grid_parts("cell", *self.n_cells(height, width)), bins)
        blocks = grid_parts("block", *self.n_blocks(height, width))
        return join_names(blocks, grid_parts("cell", *self.block), bins)

    def bin_edges(self):
        """Bin edges exactly as scikit-image computes them: ``(180 / n) * i``."""
        return bin_edges(self.orientations, self.signed)


# --------------------------------------------------------------------- gradients
def _working_dtype(dtype):
    """scikit-image's float type for an input dtype (float32 stays float32)."""
    if dtype.kind == "f" and dtype.itemsize <= 4:
        return np.dtype(np.float32)
    return np.dtype(np.float64)


def _central_gradients(images, rows, cols):
    """Row and column central differences over the top-left ``rows x cols`` pixels.

    The first and last rows (columns) of the image get a zero row (column)
    gradient, as in scikit-image. ``images`` is ``(n, H, W[, C])``.
    """
    height, width = images.shape[1:3]
    tail = images.shape[3:]
    g_row = np.zeros((images.shape[0], rows, cols, *tail), dtype=images.dtype)
    g_col = np.zeros_like(g_row)
    stop = min(rows, height - 1)
    if stop > 1:
        np.subtract(images[:, 2 : stop + 1, :cols], images[:, : stop - 1, :cols], out=g_row[:, 1:stop])
    stop = min(cols, width - 1)
    if stop > 1:
        np.subtract(images[:, :rows, 2 : stop + 1], images[:, :rows, : stop - 1], out=g_col[:, :, 1:stop])
    return g_row, g_col


def _smooth_121(images, axis):
    """``[1, 2, 1] / 4`` along ``axis`` (1 or 2), edge pixels repeated."""
    padded = np.concatenate([images.take([0], axis=axis), images, images.take([-1], axis=axis)], axis=axis)
    size = images.shape[axis]

    def part(start):
        index = [slice(None)] * images.ndim
        index[axis] = slice(start, start + size)
        return padded[tuple(index)]

    return (part(0) + 2 * part(1) + part(2)) / 4


def _sobel_gradients(images, rows, cols):
    """Sobel gradients, zero on the first/last row (column) like the central ones."""
    height, width = images.shape[1:3]
    # One extra row/column beyond the cells is all the differences reach.
    region = images[:, : min(rows + 1, height), : min(cols + 1, width)]
    g_row, _ = _central_gradients(_smooth_121(region, axis=2), rows, cols)
    _, g_col = _central_gradients(_smooth_121(region, axis=1), rows, cols)
    return g_row, g_col


def _max_channel(g_row, g_col):
    """scikit-image's multichannel rule: per pixel, the channel of largest magnitude."""
    if g_row.dtype.kind in "iu":
        # hypot's own values, looked up: equal squared magnitudes are not always equal
        # hypots (hypot(47, 28) < hypot(17, 52) by one ulp), and scikit-image's argmax
        # follows the hypots.
        magnitude = uint8_magnitude_quarter()[np.abs(g_row), np.abs(g_col)]
    else:
        magnitude = np.hypot(g_row, g_col)
    best = magnitude.argmax(axis=-1)[..., np.newaxis]
    return (
        np.take_along_axis(g_row, best, axis=-1)[..., 0],
        np.take_along_axis(g_col, best, axis=-1)[..., 0],
    )


# ------------------------------------------------------------ orientation bins
def _fold_degrees(angle, period):
    """``angle % period`` (numpy's floor remainder) for angles in [-180, 180], in place.

    Equal, value for value, to ``np.remainder`` on that range, and much faster.
    """
    angle += period * (angle < 0)
    if period == 180.0:
        # arctan2 gives exactly 180 for g_row = +0, g_col < 0; np.remainder maps it to 0.
        angle -= period * (angle >= period)
    return angle


def _exact_bins(angle, spec):
    """Bin index of each folded angle; ``orientations`` where it is in no bin.

    A multiplication gives the bin up to one; comparing with the exact edges
    settles pixels on or next to an edge the way scikit-image does.
    """
    n_bins = spec.orientations
    edges = np.append(spec.bin_edges(), np.inf)
    bins = (angle * (n_bins / spec.period)).astype(np.intp)
    np.minimum(bins, n_bins, out=bins)
    bins -= angle < edges.take(bins)
    bins += angle >= edges.take(bins + 1)
    return bins


def _lookup_keys(images, rows, cols):
    """Row of each pixel's gradient in the 8-bit lookup table, for ``(n, H, W)`` images.

    The key ``511 * (g_row + 255) + (g_col + 255)`` is computed on a copy of the
    images padded to ``(n, rows + 2, cols + 2)`` so that the central differences
    vanish on the image border, as scikit-image's do. The arithmetic runs over
    the whole flat padded array, pads included, because contiguous arrays are
    much faster to work through than strided views with short rows; returns
    ``(n, rows, cols)`` keys.
    """
    n_images, height, width = images.shape
    used_rows, used_cols = min(rows + 1, height), min(cols + 1, width)
    padded = np.empty((n_images, rows + 2, cols + 2), dtype=np.int32)
    padded[:, 1 : used_rows + 1, 1 : used_cols + 1] = images[:, :used_rows, :used_cols]
    # Pads equal to the pixel beyond their neighbour: zero difference on the border.
    if height == 1:
        padded[:, 0] = padded[:, 2] = padded[:, 1]
    else:
        if rows == height:  # the last image row lies in a cell
            padded[:, rows + 1] = padded[:, rows - 1]
        padded[:, 0] = padded[:, 2]
    if width == 1:
        padded[:, :, 0] = padded[:, :, 2] = padded[:, :, 1]
    else:
        if cols == width:
            padded[:, :, cols + 1] = padded[:, :, cols - 1]
        padded[:, :, 0] = padded[:, :, 2]
    flat = padded.ravel()
    stride = cols + 2
    side = 2 * LUT_RADIUS + 1
    keys = np.empty_like(padded)
    key = keys.ravel()[stride:-stride]
    np.subtract(flat[2 * stride :], flat[: -2 * stride], out=key)
    key *= side
    key += flat[stride + 1 : flat.size - stride + 1]
    key -= flat[stride - 1 : flat.size - stride - 1]
    key += LUT_RADIUS * side + LUT_RADIUS
    # Widening to intp (what take wants) also drops the pads.
    return keys[:, 1:-1, 1:-1].astype(np.intp)


def _lookup_keys_from_gradients(g_row, g_col):
    side = 2 * LUT_RADIUS + 1
    key = g_row.astype(np.intp)
    key *= side
    key += g_col
    key += LUT_RADIUS * side + LUT_RADIUS
    return key


def _lookup_bins_and_weights(key, spec):
    lookup_bins, lookup_magnitude = uint8_lookup(spec.orientations, spec.signed, spec.weighting)
    weights = None if spec.weighting == "count" else lookup_magnitude.take(key)
    return lookup_bins.take(key), weights


def _bins_and_weights(g_row, g_col, spec):
    """Per-pixel orientation bin (``orientations`` = none) and vote of float gradients."""
    g_row = g_row.astype(np.float64, copy=False)
    g_col = g_col.astype(np.float64, copy=False)
    angle = np.arctan2(g_row, g_col)
    # numpy's rad2deg is x * (180 / pi), bit for bit; the multiplication is much faster.
    angle *= 180 / np.pi
    bins = _exact_bins(_fold_degrees(angle, spec.period), spec)
    # sqrt(a^2 + b^2) is within one ulp of scikit-image's hypot and much cheaper.
    magnitude = np.multiply(g_row, g_row)
    magnitude += g_col * g_col
    np.sqrt(magnitude, out=magnitude)
    if spec.weighting == "count":
        bins[magnitude == 0] = spec.orientations
        return bins, None
    if not np.isfinite(magnitude).all():
        # Squares overflowed (gradients beyond 1e154): hypot does not.
        magnitude = np.hypot(g_col, g_row)
    return bins, magnitude


@functools.lru_cache(maxsize=8)
def _cell_index(n_images, rows, cols, cell, slots):
    """Offset of each pixel's cell histogram in a flat ``(images, cells, slots)`` array,
    for the pixels of a ``(n_images, rows, cols)`` stack in order."""
    cell_rows = np.arange(rows) // cell[0]
    cell_cols = np.arange(cols) // cell[1]
    in_image = (cell_rows[:, None] * (cols // cell[1]) + cell_cols[None, :]) * slots
    image_offsets = np.arange(n_images) * ((rows // cell[0]) * (cols // cell[1]) * slots)
    index = (image_offsets[:, None, None] + in_image).astype(np.intp).ravel()
    index.flags.writeable = False
    return index


def _has_integer_gradients(images, spec):
    """Whether the gradients are integers in [-255, 255]: the lookup-table (and compiled) route."""
    return images.dtype in (np.uint8, np.int8) and spec.gradient == "central" and not spec.transform_sqrt


def _uses_compiled_kernel(images, spec):
    return _has_integer_gradients(images, spec) and _hog_kernels.numba_available()


def _cell_histograms(images, spec, index_images, out):
    """The ``(n, n_cell_rows, n_cell_cols, orientations)`` cell histograms of a sub-chunk, into ``out``.

    ``index_images`` (>= n) is the sub-chunk size, so that every sub-chunk of a
    batch shares one cached pixel-to-cell index.
    """
    n_images, height, width = images.shape[:3]
    n_cell_rows, n_cell_cols = spec.n_cells(height, width)
    rows, cols = n_cell_rows * spec.cell[0], n_cell_cols * spec.cell[1]

    if _uses_compiled_kernel(images, spec):
        lookup_bins, _ = uint8_lookup(spec.orientations, spec.signed, spec.weighting)
        count = spec.weighting == "count"
        _hog_kernels.vote_cells(images, spec.cell, lookup_bins, uint8_magnitude_quarter(), count, out)
        return
    integer_gradients = _has_integer_gradients(images, spec)
    if integer_gradients and images.ndim == 3:
        bins, weights = _lookup_bins_and_weights(_lookup_keys(images, rows, cols), spec)
    else:
        dtype = np.int16 if integer_gradients else _working_dtype(images.dtype)
        work = images[:, : rows + 1, : cols + 1].astype(dtype, copy=False)
        if spec.transform_sqrt:
            work = np.sqrt(work)
        gradients = _sobel_gradients if spec.gradient == "sobel" else _central_gradients
        g_row, g_col = gradients(work, rows, cols)
        if g_row.ndim == 4:
            g_row, g_col = _max_channel(g_row, g_col)
        if integer_gradients:
            bins, weights = _lookup_bins_and_weights(_lookup_keys_from_gradients(g_row, g_col), spec)
        else:
            bins, weights = _bins_and_weights(g_row, g_col, spec)

    # One extra slot per cell collects the pixels that fall in no bin.
    slots = spec.orientations + 1
    bins = bins.ravel()
    index = _cell_index(index_images, rows, cols, spec.cell, slots)[: bins.size] + bins
    sums = np.zeros(n_images * n_cell_rows * n_cell_cols * slots)
    # ufunc.at adds in pixel order, like a loop, and beats np.bincount here.
    np.add.at(sums, index, 1.0 if weights is None else weights.ravel())
    histograms = sums.reshape(n_images, n_cell_rows, n_cell_cols, slots)
    np.divide(histograms[..., : spec.orientations], spec.cell[0] * spec.cell[1], out=out)


# ------------------------------------------------------------- normalisation
def _normalize_blocks(histograms, spec, out):
    """scikit-image's block layout and normalisation of cell histograms, into ``out`` (n, F).

    Histograms are >= 0, so the L1 norm needs no absolute value. The block is
    multiplied by the reciprocal of its norm, where scikit-image divides by the
    norm: within one ulp of its quotient, and a vector division costs several
    multiplications (half of all the compiled kernel's time on 512x512 images
    went to the two divisions per value of L2-Hys). The work is done in place in
    ``out``: a handful of passes over the features.
    """
    n_images = histograms.shape[0]
    if spec.block_norm is None:
        out[...] = histograms.reshape(n_images, -1)
        return
    block_rows, block_cols = spec.block
    windows = np.lib.stride_tricks.sliding_window_view(histograms, spec.block, axis=(1, 2))
    blocks = out.reshape(n_images, -1, block_rows * block_cols * spec.orientations)
    # (n, block_row, block_col, orientation, cell_row, cell_col) -> cells before orientation.
    blocks.reshape(windows.shape[:3] + (block_rows, block_cols, spec.orientations))[...] = windows.transpose(
        0, 1, 2, 4, 5, 3
    )
    if spec.block_norm in ("L1", "L1-sqrt"):
        norms = blocks.sum(axis=-1, keepdims=True)
        norms += _EPS
        blocks *= np.reciprocal(norms, out=norms)
        if spec.block_norm == "L1-sqrt":
            np.sqrt(blocks, out=blocks)
        return
    for renormalize in range(2 if spec.block_norm == "L2-Hys" else 1):
        if renormalize:
            np.minimum(blocks, _HYS_CLIP, out=blocks)
        norms = np.einsum("ijk,ijk->ij", blocks, blocks)[..., np.newaxis]
        norms += _EPS**2
        np.sqrt(norms, out=norms)
        blocks *= np.reciprocal(norms, out=norms)


# ------------------------------------------------------------- visualisation
@functools.lru_cache(maxsize=16)
def _visualization_matrix(height, width, cell, orientations, signed):
    """Sparse ``(H * W, cells * orientations)`` matrix drawing each bin's line.

    The lines are scikit-image's: one per cell and bin, from
    ``(int(r0 - dc), int(c0 + dr))`` to ``(int(r0 + dc), int(c0 - dr))`` around the
    cell centre ``(r0, c0)``, with ``(dr, dc)`` the bin's mid-orientation scaled to
    ``min(cell) // 2 - 1``. Bresenham lines move with their end points, so each
    distinct pair of end-point offsets is drawn once and shifted to its cells.
    """
    from scipy import sparse
    from skimage.draw import line

    n_cell_rows, n_cell_cols = height // cell[0], width // cell[1]
    centre_rows = np.arange(n_cell_rows) * cell[0] + cell[0] // 2
    centre_cols = np.arange(n_cell_cols) * cell[1] + cell[1] // 2
    radius = min(cell) // 2 - 1
    period = 2 * np.pi if signed else np.pi
    midpoints = period * (np.arange(orientations) + 0.5) / orientations
    pixel_ids, column_ids = [], []
    for o, (dr, dc) in enumerate(zip(radius * np.sin(midpoints), radius * np.cos(midpoints))):
        # int() of the float end points, per cell, exactly as scikit-image writes them.
        row_ends = np.stack([np.trunc(centre_rows - dc), np.trunc(centre_rows + dc)], axis=1)
        col_ends = np.stack([np.trunc(centre_cols + dr), np.trunc(centre_cols - dr)], axis=1)
        row_ends = row_ends.astype(np.intp) - centre_rows[:, None]
        col_ends = col_ends.astype(np.intp) - centre_cols[:, None]
        row_offsets, row_kind = np.unique(row_ends, axis=0, return_inverse=True)
        col_offsets, col_kind = np.unique(col_ends, axis=0, return_inverse=True)
        for i, (r0, r1) in enumerate(row_offsets):
            for j, (c0, c1) in enumerate(col_offsets):
                rr, cc = line(r0, c0, r1, c1)
                cell_rows = np.flatnonzero(row_kind.ravel() == i)
                cell_cols = np.flatnonzero(col_kind.ravel() == j)
                r = centre_rows[cell_rows][:, None, None] + rr
                c = centre_cols[cell_cols][None, :, None] + cc
                r, c = np.broadcast_arrays(r, c)
                cell_ids = (cell_rows[:, None] * n_cell_cols + cell_cols[None, :])[..., None]
                cell_ids = np.broadcast_to(cell_ids, r.shape)
                inside = (r >= 0) & (r < height) & (c >= 0) & (c < width)
                pixel_ids.append((r * width + c)[inside])
                column_ids.append((cell_ids * orientations + o)[inside])
    pixel_ids = np.concatenate(pixel_ids)
    column_ids = np.concatenate(column_ids)
    return sparse.csr_array(
        (np.ones(pixel_ids.size), (pixel_ids, column_ids)),
        shape=(height * width, n_cell_rows * n_cell_cols * orientations),
    )


def _visualize(histograms, spec, height, width):
    matrix = _visualization_matrix(height, width, spec.cell, spec.orientations, spec.signed)
    flat = histograms.reshape(histograms.shape[0], -1)
    return (matrix @ flat.T).T.reshape(-1, height, width)


# ------------------------------------------------------------------ batch core
def _whole_level_images(images):
    """Which float images hold only whole numbers in [0, 255] (8-bit levels), one bool per image."""
    flat = images.reshape(len(images), -1)
    # A glance at a few pixels first: a smooth float image is out at once, without a full pass.
    glance = flat[:, :: max(1, flat.shape[1] // 16)]
    whole = (np.rint(glance) == glance).all(axis=1)
    candidates = np.flatnonzero(whole)
    if len(candidates):
        values = flat[candidates]
        whole[candidates] = (
            (np.rint(values) == values).all(axis=1) & (values.min(axis=1) >= 0) & (values.max(axis=1) <= 255)
        )
    return whole


def _hog_by_route(images, spec, *, out=None):
    """``_hog_batch``, with float images of 8-bit levels taken as uint8, image by image.

    The lookup-table route and the float route agree to the last bits only; a float
    batch mixing levels (``X / 255`` copies, read as levels) with other images would
    otherwise send the levels one way or the other by the company they keep, and an
    image's features would change with ``batch_size`` or ``n_jobs``.
    """
    if images.dtype.kind != "f" or not _has_integer_gradients(np.empty(0, np.uint8), spec):
        return _hog_batch(images, spec, out=out)
    whole = _whole_level_images(images)
    if not whole.any():
        return _hog_batch(images, spec, out=out)
    if whole.all():
        return _hog_batch(images.astype(np.uint8), spec, out=out)
    features = np.empty((len(images), spec.n_features(*images.shape[1:3]))) if out is None else out
    features[whole] = _hog_batch(images[whole].astype(np.uint8), spec)
    features[~whole] = _hog_batch(images[~whole], spec)
    return features


def _hog_batch(images, spec, *, visualize=False, out=None):
    """HOG features (and optionally images) of a validated ``(n, H, W[, C])`` batch.

    ``out``: an ``(n, F)`` float64 array to write the features into (else a new one).
    """
    n_images, height, width = images.shape[:3]
    n_cell_rows, n_cell_cols = spec.n_cells(height, width)
    n_features = spec.n_features(height, width)
    features = np.empty((n_images, n_features), dtype=np.float64) if out is None else out
    drawings = np.empty((n_images, height, width), dtype=np.float64) if visualize else None
    compiled = _uses_compiled_kernel(images, spec)
    if compiled and not visualize and _hog_kernels.normalization_matches_numpy():
        # One pass per image from the pixels to the normalised blocks, written where they belong.
        target = features if features.flags.c_contiguous else np.empty(features.shape)
        lookup_bins, _ = uint8_lookup(spec.orientations, spec.signed, spec.weighting)
        _hog_kernels.features(
            images,
            spec.cell,
            spec.block,
            spec.orientations,
            spec.block_norm,
            lookup_bins,
            uint8_magnitude_quarter(),
            spec.weighting == "count",
            target,
        )
        if target is not features:
            features[...] = target
        return features
    if compiled:
        # The compiled kernel keeps its work in registers: one call per normalisation group.
        step = max(1, _NORMALIZE_GROUP_FEATURES // n_features)
    else:
        step = max(1, _CACHE_CHUNK_PIXELS // (height * width * (images.shape[3] if images.ndim == 4 else 1)))
    # Blocks are normalised for several sub-chunks at once: fewer, larger numpy calls.
    group = step * max(1, _NORMALIZE_GROUP_FEATURES // (step * n_features))
    for group_start in range(0, n_images, group):
        members = images[group_start : group_start + group]
        histograms = np.empty((len(members), n_cell_rows, n_cell_cols, spec.orientations))
        for start in range(0, len(members), step):
            _cell_histograms(members[start : start + step], spec, step, out=histograms[start : start + step])
        _normalize_blocks(histograms, spec, out=features[group_start : group_start + group])
        if visualize:
            drawings[group_start : group_start + group] = _visualize(histograms, spec, height, width)
    return (features, drawings) if visualize else features


def _check_sqrt_input(images, spec, owner="HOG", name="X"):
    if spec.transform_sqrt:
        check_non_negative(
            images, owner, why="transform_sqrt=True takes the square root of each pixel", name=name
        )


@validate_params(
    {
        "images": ["array-like"],
        **_HOG_PARAMETER_CONSTRAINTS,
        "channel_axis": [Integral, None],
        "visualize": ["boolean"],
    },
    prefer_skip_nested_validation=True,
)
def hog(
    images,
    orientations=9,
    pixels_per_cell=(8, 8),
    cells_per_block=(3, 3),
    block_norm="L2-Hys",
    transform_sqrt=False,
    channel_axis=None,
    gradient="central",
    signed=False,
    weighting="magnitude",
    visualize=False,
):
    """Histogram of oriented gradients of every image of a batch.

    Equal, image by image, to ``skimage.feature.hog(image, ...,
    feature_vector=True)`` for the options the two share (relative tolerance
    1e-6), computed for the whole batch at once, with four options that
    scikit-image lacks (see Notes).

    Parameters
    ----------
    images : array-like of shape (N, H, W) or (N, H, W, C), or list of arrays
        The batch (see :func:`skvision._images.check_images`); 4-D input needs
        ``channel_axis=-1``.
    orientations : int, default=9
        Number of orientation bins over 0-180 degrees (0-360 when ``signed``).
    pixels_per_cell : int or (int, int), default=(8, 8)
        Cell size in pixels (rows, columns).
    cells_per_block : int or (int, int), default=(3, 3)
        Block size in cells (rows, columns).
    block_norm : {'L1', 'L1-sqrt', 'L2', 'L2-Hys'} or None, default='L2-Hys'
        Block normalisation, as in scikit-image. ``None``: no blocks, the cell
        histograms concatenated in the order ``(cell_row, cell_col, orientation)``.
    transform_sqrt : bool, default=False
        Take the square root of the images first (they must be >= 0).
    channel_axis : {-1, 3} or None, default=None
        ``None``: grey images ``(N, H, W)``. ``-1`` (or 3): ``(N, H, W, C)``
        images, each pixel taking the gradient of the channel where it is largest
        (scikit-image's rule).
    gradient : {'central', 'sobel'}, default='central'
        Central differences ``[-1, 0, 1]`` (scikit-image) or the Sobel operator
        divided by 4 (image edges repeated for its smoothing).
    signed : bool, default=False
        Orientations over 0-360 degrees instead of 0-180.
    weighting : {'magnitude', 'count'}, default='magnitude'
        A pixel's vote: its gradient magnitude (scikit-image), or one vote for
        every pixel with a non-zero gradient.
    visualize : bool, default=False
        Also return scikit-image's HOG drawing of every image.

    Returns
    -------
    features : ndarray of shape (N, F), dtype float64
        One row per image, in scikit-image's order.
    hog_images : ndarray of shape (N, H, W), dtype float64
        Only when ``visualize=True``: for each cell and bin, a line through the
        cell centre, perpendicular to the bin's mid-orientation, of intensity the
        cell's histogram value.

    Raises
    ------
    ValueError
        Invalid parameters (the message names the parameter), images smaller
        than one block (``pixels_per_cell * cells_per_block``), negative pixels
        with ``transform_sqrt=True``, or any input the image contract rejects.

    Notes
    -----
    The steps are scikit-image's: central differences (zero on the image
    border); for colour, per pixel the channel of largest gradient magnitude;
    cells tiling the image from the top-left corner (the ragged bottom/right
    edge is dropped); one vote per pixel into the bin ``i`` with ``(180 / n) *
    i <= angle < (180 / n) * (i + 1)``, no interpolation; the cell's votes
    averaged over its pixels; blocks sliding by one cell, normalised with
    ``eps = 1e-5``.

    The options scikit-image lacks come from the course material this project
    grew from, where HOG is taught as gradients, orientations, binning and
    histograms:

    - ``gradient='sobel'``: less sensitive to noise than central differences;
    - ``signed=True``: tells a dark-to-light edge from a light-to-dark one;
    - ``block_norm=None``: the plain descriptor, cell histograms only;
    - ``weighting='count'``: histograms of orientations alone, insensitive to
      contrast.

    scikit-image sums each cell in single precision, skvision in double, hence
    differences of about 1e-7 relative (up to about 8e-7 for 32x32-pixel cells).

    Examples
    --------
    >>> import numpy as np
    >>> from skvision.descriptors import hog
    >>> images = np.random.default_rng(0).integers(0, 256, (4, 32, 32), dtype=np.uint8)
    >>> hog(images, orientations=9, pixels_per_cell=8, cells_per_block=2).shape
    (4, 324)
    >>> features, drawings = hog(images, visualize=True)
    >>> drawings.shape
    (4, 32, 32)
    """
    spec = _HOGSpec(
        orientations,
        pixels_per_cell,
        cells_per_block,
        block_norm,
        transform_sqrt,
        gradient,
        signed,
        weighting,
    )
    if channel_axis is not None and channel_axis not in (-1, 3):
        raise ValueError(
            f"channel_axis must be None or -1 (images (N, H, W, C), channels last); got {channel_axis!r}."
        )
    batch = check_images(images, name="images", allowed_channels=None)
    if batch.ndim == 4 and channel_axis is None:
        raise ValueError(
            f"images has shape {batch.shape}: {batch.shape[3]}-channel images need channel_axis=-1 "
            "(per pixel, the gradient of the channel where it is largest); for grey-level HOG, "
            "pass grey images (N, H, W)."
        )
    check_image_shape(batch, min_size=spec.min_size(), reason=spec.min_size_reason(), name="images")
    _check_sqrt_input(batch, spec, "hog", "images")
    return _hog_batch(batch, spec, visualize=visualize)


# ----------------------------------------------------------------- torch path
def _hog_torch(images, spec):
    """The numpy computation, in torch, on a ``(n, H, W[, C])`` float64 or float32 tensor.

    Gradients are computed in the tensor's dtype (scikit-image's float32 for float32
    images, as the numpy path), angles and magnitudes in float64.
    """
    import torch

    n_images, height, width = images.shape[:3]
    n_cell_rows, n_cell_cols = spec.n_cells(height, width)
    rows, cols = n_cell_rows * spec.cell[0], n_cell_cols * spec.cell[1]
    work = images[:, : rows + 1, : cols + 1]
    if spec.transform_sqrt:
        # torch's float32 sqrt on the CPU is not always numpy's (correctly rounded) one; a float64
        # square root rounded to float32 is.
        work = torch.sqrt(work.double()).to(work.dtype)
    if spec.gradient == "sobel":
        kernel = torch.tensor([1.0, 2.0, 1.0], dtype=work.dtype, device=work.device) / 4
        smooth_cols = _torch_smooth(work, kernel, dim=2)
        smooth_rows = _torch_smooth(work, kernel, dim=1)
        g_row = _torch_difference(smooth_cols, rows, cols, dim=1)
        g_col = _torch_difference(smooth_rows, rows, cols, dim=2)
    else:
        g_row = _torch_difference(work, rows, cols, dim=1)
        g_col = _torch_difference(work, rows, cols, dim=2)
    if g_row.ndim == 4:
        best = _torch_best_channel(g_row, g_col)
        g_row = torch.take_along_dim(g_row, best, dim=-1)[..., 0]
        g_col = torch.take_along_dim(g_col, best, dim=-1)[..., 0]
    g_row, g_col = g_row.double(), g_col.double()

    bins = _torch_bins(g_row, g_col, spec)
    magnitude = torch.hypot(g_row, g_col)
    if spec.weighting == "count":
        bins = torch.where(magnitude == 0, spec.orientations, bins)
        magnitude = torch.ones_like(magnitude)

    # One masked sum per orientation over (cell row, cell column) views: unlike a scatter-add, whose
    # atomic float additions on a GPU land in any order, the same input gives the same bits every time.
    shape = (n_images, n_cell_rows, spec.cell[0], n_cell_cols, spec.cell[1])
    bins, magnitude = bins.reshape(shape), magnitude.reshape(shape)
    histograms = torch.stack(
        [torch.where(bins == b, magnitude, 0.0).sum(dim=(2, 4)) for b in range(spec.orientations)], dim=-1
    )
    histograms = histograms / (spec.cell[0] * spec.cell[1])

    if spec.block_norm is None:
        return histograms.reshape(n_images, -1)
    block_rows, block_cols = spec.block
    blocks = histograms.unfold(1, block_rows, 1).unfold(2, block_cols, 1)
    block_size = block_rows * block_cols * spec.orientations
    blocks = blocks.permute(0, 1, 2, 4, 5, 3).reshape(n_images, -1, block_size)
    if spec.block_norm in ("L1", "L1-sqrt"):
        blocks = blocks / (blocks.abs().sum(dim=-1, keepdim=True) + _EPS)
        if spec.block_norm == "L1-sqrt":
            blocks = torch.sqrt(blocks)
    else:
        blocks = blocks / torch.sqrt(blocks.square().sum(dim=-1, keepdim=True) + _EPS**2)
        if spec.block_norm == "L2-Hys":
            blocks = torch.clamp(blocks, max=_HYS_CLIP)
            blocks = blocks / torch.sqrt(blocks.square().sum(dim=-1, keepdim=True) + _EPS**2)
    return blocks.reshape(n_images, -1)


def _torch_bins(g_row, g_col, spec):
    """Orientation bin of each gradient in the torch path, as the numpy path decides it.

    ``torch.atan2`` (on the CPU and on CUDA) may differ from numpy's ``arctan2`` in
    the last bit, which decides the bin of a gradient on an edge: gradients of
    8-bit images with ``|g_row| == |g_col|`` sit exactly on the 45-degree edge of
    4 or 12 orientations, and those of their ``X / 255`` copies within an ulp of
    it. The few gradients within 1e-9 degrees of an edge are binned again by the
    numpy path's own code. Axis-aligned gradients need no second look: ``atan2``
    of a zero component is exact everywhere.
    """
    import torch

    angle = torch.atan2(g_row, g_col) * (180 / np.pi)  # numpy's rad2deg, bit for bit
    angle = angle + spec.period * (angle < 0)
    if not spec.signed:
        angle = angle - spec.period * (angle >= spec.period)
    edges = torch.as_tensor(np.append(spec.bin_edges(), spec.period), device=angle.device)
    tolerance = 1e-9
    bins = torch.bucketize(angle, edges[:-1], right=True) - 1
    near = (angle - edges[bins]).abs().le(tolerance) | (edges[bins + 1] - angle).abs().le(tolerance)
    near &= (g_row != 0) & (g_col != 0)
    if bool(near.any()):
        rows, cols = g_row[near].cpu().numpy(), g_col[near].cpu().numpy()
        folded = _fold_degrees(np.arctan2(rows, cols) * (180 / np.pi), spec.period)
        bins[near] = torch.as_tensor(_exact_bins(folded, spec), device=bins.device)
    return bins


def _torch_best_channel(g_row, g_col):
    """Per pixel, the channel the numpy path picks (``channels='max'``), as a ``(..., 1)`` index.

    scikit-image takes the channel of largest ``np.hypot`` (the first of equal
    ones). Integer gradients in [-255, 255] (8-bit images, or float copies of
    them) look up numpy's ``hypot`` values. Other gradients rank by
    ``torch.hypot``, which may differ from numpy's in the last bits: pixels whose
    runner-up channel comes within rounding of the best one (1e-12 relative; 1e-5
    for float32 gradients, which numpy ranks by float32 ``hypot``) are decided by
    ``np.hypot`` itself, in the gradients' own dtype. They are few: equal
    magnitudes of unequal gradients, such as (1, 1) and (0, sqrt(2)).
    """
    import torch

    rows, cols = g_row.abs(), g_col.abs()
    integral = (rows <= LUT_RADIUS) & (cols <= LUT_RADIUS) & (rows == rows.round()) & (cols == cols.round())
    if bool(integral.all()):
        table = torch.as_tensor(uint8_magnitude_quarter(), device=g_row.device)
        return table[rows.long(), cols.long()].argmax(dim=-1, keepdim=True)
    magnitude = torch.hypot(g_row.double(), g_col.double())
    best = magnitude.argmax(dim=-1, keepdim=True)
    top = magnitude.gather(-1, best)
    tolerance = 1e-5 if g_row.dtype == torch.float32 else 1e-12
    close = (top - magnitude <= tolerance * top).sum(dim=-1) > 1
    if bool(close.any()):
        exact = np.hypot(g_row[close].cpu().numpy(), g_col[close].cpu().numpy())
        best[close] = torch.as_tensor(exact.argmax(axis=-1)[:, None], device=best.device)
    return best


def _torch_smooth(images, kernel, dim):
    """``[1, 2, 1] / 4`` along ``dim``, edge pixels repeated (as ``_smooth_121``)."""
    import torch

    first = images.narrow(dim, 0, 1)
    last = images.narrow(dim, images.shape[dim] - 1, 1)
    padded = torch.cat([first, images, last], dim=dim)
    size = images.shape[dim]
    return (
        kernel[0] * padded.narrow(dim, 0, size)
        + kernel[1] * padded.narrow(dim, 1, size)
        + kernel[2] * padded.narrow(dim, 2, size)
    )


def _torch_difference(images, rows, cols, dim):
    """Central difference along ``dim`` over the top-left ``rows x cols``, zero at the image border."""
    import torch

    shape = (images.shape[0], rows, cols, *images.shape[3:])
    out = torch.zeros(shape, dtype=images.dtype, device=images.device)
    extent = images.shape[dim]
    stop = min(rows if dim == 1 else cols, extent - 1)
    if stop > 1:
        if dim == 1:
            out[:, 1:stop] = images[:, 2 : stop + 1, :cols] - images[:, : stop - 1, :cols]
        else:
            out[:, :, 1:stop] = images[:, :rows, 2 : stop + 1] - images[:, :rows, : stop - 1]
    return out


# --------------------------------------------------------------- transformer
class HOG(BaseDescriptor):
    """Histogram of oriented gradients (HOG) transformer.

    Describes each image by scikit-image's HOG vector (see
    :func:`skvision.descriptors.hog` for the computation and the options that
    scikit-image lacks).

    Parameters
    ----------
    orientations : int, default=9
        Number of orientation bins.
    pixels_per_cell : int or (int, int), default=(8, 8)
        Cell size in pixels (rows, columns).
    cells_per_block : int or (int, int), default=(3, 3)
        Block size in cells.
    block_norm : {'L1', 'L1-sqrt', 'L2', 'L2-Hys'} or None, default='L2-Hys'
        Block normalisation; ``None`` concatenates the cell histograms. With
        normalisation the features do not depend on the value scale (up to
        ``eps``); without, intensities are read on the 8-bit scale by the
        value-scale rule of :mod:`skvision._images`.
    transform_sqrt : bool, default=False
        Square root of the images first (pixels must be >= 0).
    gradient : {'central', 'sobel'}, default='central'
        Gradient operator.
    signed : bool, default=False
        Orientations over 0-360 degrees instead of 0-180.
    weighting : {'magnitude', 'count'}, default='magnitude'
        Vote of a pixel: its gradient magnitude, or one.
    channels : {'gray', 'each', 'max'}, default='gray'
        ``'gray'``: luminance of colour images; ``'each'``: one HOG per channel,
        concatenated; ``'max'``: one HOG from, at each pixel, the gradient of the
        channel where it is largest (scikit-image's ``channel_axis=-1`` rule, over
        all channels, alpha included). A float copy of 8-bit images (``X / 255``)
        gives the features of the 8-bit images, as everywhere in skvision, where
        scikit-image's choice of channel on the float copy can differ at ties.
    n_jobs : int or None, default=None
        Threads over chunks of images in ``transform`` (``None``: 1 unless inside
        ``joblib.parallel_config``); work too small to gain from a second core
        runs in one thread, and ``joblib.parallel_config(backend=...)`` sends the
        chunks to that backend. The output is identical whatever ``n_jobs``.
    batch_size : int or None, default=None
        Images per chunk (bounds memory); ``None`` picks a size.
    device : str, default='cpu'
        Where the work runs ("GPUs" in docs/scaling.md): ``'cpu'`` runs the
        numpy path (compiled with numba when installed); ``'cuda'`` and
        ``'cuda:N'`` run the same computation in torch on that GPU; ``'auto'``
        (or None) takes a CUDA GPU when torch sees one, else the CPU. The
        outputs agree within 1e-12 (the same bins; see the module notes).
    verbose : int, default=0
        Show a progress bar over chunks.

    Attributes
    ----------
    input_scale_ : ImageScale
        Value scale of the images seen in ``fit`` (see :mod:`skvision._images`).
    image_shape_ : tuple of int
        Shape of one image seen in ``fit``.
    n_channels_ : int
        Channels of the images seen in ``fit``.
    n_features_out_ : int
        Length of the feature vector.

    See Also
    --------
    skvision.descriptors.hog : The batched function.
    skimage.feature.hog : The single-image reference.

    Examples
    --------
    >>> import numpy as np
    >>> from skvision import HOG
    >>> images = np.random.default_rng(0).integers(0, 256, (6, 32, 32), dtype=np.uint8)
    >>> hog = HOG(orientations=8, pixels_per_cell=8, cells_per_block=2).fit(images)
    >>> hog.transform(images).shape
    (6, 288)
    >>> str(hog.get_feature_names_out()[3])
    'hog_block0_0_cell0_0_o3'
    >>> hog.visualize(images).shape
    (6, 32, 32)
    """

    _parameter_constraints: dict = {
        **BaseDescriptor._parameter_constraints,
        **_HOG_PARAMETER_CONSTRAINTS,
        "device": DEVICE_CONSTRAINT,
        "channels": [StrOptions({"gray", "each", "max"})],
    }
    # X / 255 as X: its gradients sit an ulp off the 45-degree edge (module notes).
    _reads_copies_as_levels = True
    # The numpy path takes the images in their own dtype: 8-bit images use the
    # lookup table, and float32 images keep scikit-image's float32 gradients.
    _describe_dtype = None
    _feature_prefix = "hog"
    _PIXEL_COST_NS = 4.0
    _parallel_prefer = "threads"

    def _working_white(self):
        # Block normalisation divides out the value scale (up to eps); unnormalised histograms
        # are on the 8-bit scale whatever the dtype (skvision._images), so uint8 keeps its lookup table.
        return 255.0 if self.block_norm is None else None

    def __init__(
        self,
        orientations=9,
        pixels_per_cell=(8, 8),
        cells_per_block=(3, 3),
        block_norm="L2-Hys",
        transform_sqrt=False,
        gradient="central",
        signed=False,
        weighting="magnitude",
        *,
        channels="gray",
        n_jobs=None,
        batch_size=None,
        device="cpu",
        verbose=0,
    ):
        self.orientations = orientations
        self.pixels_per_cell = pixels_per_cell
        self.cells_per_block = cells_per_block
        self.block_norm = block_norm
        self.transform_sqrt = transform_sqrt
        self.gradient = gradient
        self.signed = signed
        self.weighting = weighting
        self.channels = channels
        self.n_jobs = n_jobs
        self.batch_size = batch_size
        self.device = device
        self.verbose = verbose

    def _spec(self):
        params = (
            self.orientations,
            self.pixels_per_cell,
            self.cells_per_block,
            self.block_norm,
            self.transform_sqrt,
            self.gradient,
            self.signed,
            self.weighting,
        )
        # Validating the parameters (abstract-class checks) would otherwise be paid per
        # chunk, a visible share of a transform of small images. Rebuilt whenever a
        # parameter changes.
        key = repr(params)
        cached = self.__dict__.get("_spec_cache")
        if cached is None or cached[0] != key:
            cached = (key, _HOGSpec(*params))
            self.__dict__["_spec_cache"] = cached
        return cached[1]

    # ------------------------------------------------------- base-class hooks
    def _check_params(self):
        self._spec()  # raises ValueError naming pixels_per_cell / cells_per_block

    def _min_image_size(self):
        return self._spec().min_size()

    def _min_image_size_reason(self):
        return self._spec().min_size_reason()

    def _planes(self, images):
        if self.channels == "max":
            # All channels together: the max-gradient rule needs every channel at once.
            yield "", self._on_working_scale(images, images.dtype)
        else:
            yield from super()._planes(images)

    def _resolved_batch_size(self, n_images, pixels_per_image):
        size = super()._resolved_batch_size(n_images, pixels_per_image)
        if self.batch_size is None and resolve_descriptor_device(self) is None:
            size = min(size, max(1, _TRANSFORM_CHUNK_PIXELS // pixels_per_image))
        return size

    def _describe(self, images):
        return _hog_by_route(images, self._spec())

    def _describe_into(self, images, out):
        spec = self._spec()
        self._check_width(spec.n_features(*images.shape[1:3]), out.shape[1])
        _hog_by_route(images, spec, out=out)

    def _torch_plane(self, plane):
        # float32 images keep scikit-image's float32 gradients on the torch path too (_hog_torch).
        return plane.astype(_working_dtype(plane.dtype), copy=False)

    def _describe_torch(self, images):
        return _hog_torch(images, self._spec())

    def _plane_feature_names(self):
        return self._spec().feature_names(*self.image_shape_[:2])

    def _validate_images(self, X, *, reset):
        images = super()._validate_images(X, reset=reset)
        _check_sqrt_input(images, self._spec())
        return images

    # ------------------------------------------------------------ public API
    def visualize(self, X):
        """scikit-image's HOG drawing of each image.

        Parameters
        ----------
        X : array-like of shape (N, H, W) or (N, H, W, C), or list of arrays
            Images of the size seen in ``fit``.

        Returns
        -------
        hog_images : ndarray of shape (N, H, W), or (N, H, W, C) with ``channels='each'``
            For each cell and orientation bin, a line through the cell centre,
            perpendicular to the bin's mid-orientation, of intensity the cell's
            (unnormalised) histogram value.
        """
        from sklearn.utils.validation import check_is_fitted

        check_is_fitted(self, "image_shape_")
        images = self._validate_images(X, reset=False)
        spec = self._spec()
        drawings = [_hog_batch(plane, spec, visualize=True)[1] for _, plane in self._planes(images)]
        return drawings[0] if len(drawings) == 1 else np.stack(drawings, axis=-1)
