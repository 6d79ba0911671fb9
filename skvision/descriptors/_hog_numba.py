"""The numba kernels of :mod:`skvision.descriptors._hog_kernels`; imported only where numba is.

They compile with :func:`skvision.descriptors._numba.compile_kernel` (machine code
cached on disk, ``nogil``). The tables the kernels read come from the leaf module
:mod:`skvision.descriptors._hog_tables`.

Votes are cast row by row of pixels across a whole row of cells (one loop over
the row, the column-border pixels peeled off, no branch inside), into each cell's
sums in the order the numpy path adds them (a cell's pixels row by row, left to
right), so the histograms are bit for bit the numpy path's. ``features`` then
lays out and normalises the blocks of each image in the kernel, reproducing the
numpy path's reductions operation for operation: numpy's pairwise summation for
the L1 norms (``ndarray.sum``) and its einsum's two-lane sum of products for the
L2 norms; :func:`skvision.descriptors._hog_kernels.normalization_matches_numpy`
checks that against the installed numpy before the kernel is trusted with it.
The normalisation reads and writes flat arrays at unsigned offsets: no array view
per block and no negative-index test per value, which on 512x512 images (1.2
features per pixel) cost as much as the arithmetic.
"""

from __future__ import annotations

import math

import numba
import numpy as np

# Gradients lie in [-_RADIUS, _RADIUS]; the flat bin table has _SIDE x _SIDE entries.
from ._hog_tables import LUT_RADIUS as _RADIUS
from ._hog_tables import LUT_SIDE as _SIDE
from ._numba import compile_kernel


def _cast(sums, first_slot, g_row, g_col, bins_table, magnitudes, count):
    """One pixel's vote into its cell's sums (``first_slot``: the cell's first slot).

    The three indices are never negative (gradients lie in [-255, 255]) and are
    cast to unsigned: numba reads a negative signed index from the end, a test
    and a select per access that cost 8-12 % of the kernel's time.
    """
    slot = bins_table[np.uint64(g_row * _SIDE + g_col + _RADIUS * _SIDE + _RADIUS)]
    if count:
        sums[np.uint64(first_slot + slot)] += 1.0
    else:
        sums[np.uint64(first_slot + slot)] += magnitudes[np.uint64(abs(g_row) * 256 + abs(g_col))]


cast = compile_kernel(_cast, numba, inline=True)


def _hypot_greater_impl(d_row, d_col, g_row, g_col, magnitudes):
    """Whether ``hypot(d_row, d_col) > hypot(g_row, g_col)``, from the table of ``hypot``'s values.

    Asked only when the squared magnitudes are equal: ``hypot`` rounds some of
    those ties one ulp apart (47, 28 against 17, 52), and scikit-image picks the
    channel by ``hypot``'s values.
    """
    return magnitudes[abs(d_row) * 256 + abs(d_col)] > magnitudes[abs(g_row) * 256 + abs(g_col)]


_hypot_greater = compile_kernel(_hypot_greater_impl, numba, inline=True)


def _compile_vote_row(colour):
    """Votes of one row ``r`` of pixels of one image into the sums of its row of cells.

    ``colour`` is a constant of the closure, so numba drops the other branch
    before typing: one loop written once, compiled into two kernels as fast as
    hand-written ones. (A shared loop calling a gradient function, or looping over
    the single channel of a grey image, compiles to slower code.)
    """

    def gradient(up, row, down, c, inner_col, magnitudes):
        """The gradient of column ``c`` (no column difference unless ``inner_col``)."""
        g_row = np.int32(0)
        g_col = np.int32(0)
        if colour:
            best = -1
            for k in range(row.shape[1]):
                d_row = np.int32(down[c, k]) - np.int32(up[c, k])
                d_col = np.int32(0)
                if inner_col:
                    d_col = np.int32(row[c + 1, k]) - np.int32(row[c - 1, k])
                squared = d_row * d_row + d_col * d_col
                if squared > best or (
                    squared == best and _hypot_greater(d_row, d_col, g_row, g_col, magnitudes)
                ):
                    best, g_row, g_col = squared, d_row, d_col
        else:
            g_row = np.int32(down[c]) - np.int32(up[c])
            if inner_col:
                g_col = np.int32(row[c + 1]) - np.int32(row[c - 1])
        return g_row, g_col

    gradient = compile_kernel(gradient, numba, inline=True)

    def vote_row(image, r, cols, cell_of, bins_table, magnitudes, count, sums):
        """Per pixel of the first ``cols`` columns of row ``r``: central differences (zero on the
        first/last row and column); for colour, those of the channel of largest magnitude, the
        first one on ties like scikit-image's argmax of ``hypot`` (squared integer magnitudes rank
        as ``hypot`` does, except that ``hypot`` rounds some equal ones apart: those ties look its
        values up); the orientation slot from ``bins_table`` (flat 511 x 511, keyed by the signed
        gradient) and the vote: 1 when ``count``, else ``magnitudes[256 * |g_row| + |g_col|]``,
        added to ``sums[cell_of[c] + slot]``, left to right. Slot ``bins`` of a cell collects the
        pixels in no bin (zero gradients under count weighting).
        """
        height, width = image.shape[0], image.shape[1]
        row = image[r]
        # The first and last rows have no row gradient: their neighbours are themselves.
        inner_row = 0 < r < height - 1
        up = image[r - 1] if inner_row else row
        down = image[r + 1] if inner_row else row
        # Columns 1 .. inner - 1 have both neighbours: one loop without a branch per pixel. Column
        # 0, and the image's last column when it lies in a cell, have no column difference.
        inner = max(1, min(cols, width - 1))
        g_row, g_col = gradient(up, row, down, 0, False, magnitudes)
        cast(sums, cell_of[0], g_row, g_col, bins_table, magnitudes, count)
        for c in range(1, inner):
            g_row, g_col = gradient(up, row, down, c, True, magnitudes)
            cast(sums, cell_of[c], g_row, g_col, bins_table, magnitudes, count)
        for c in range(inner, cols):
            g_row, g_col = gradient(up, row, down, c, c < width - 1, magnitudes)
            cast(sums, cell_of[c], g_row, g_col, bins_table, magnitudes, count)

    vote_row = compile_kernel(vote_row, numba)

    def vote_cell(
        image, cell_row, cell_col, cell_rows, cell_cols, first_slot, bins_table, magnitudes, count, sums
    ):
        """The votes of one cell, pixel by pixel (two short loops, indexing the image directly:
        faster than whole rows when the rows of cells are short)."""
        height, width = image.shape[0], image.shape[1]
        for r in range(cell_row * cell_rows, (cell_row + 1) * cell_rows):
            inner_row = 0 < r < height - 1
            for c in range(cell_col * cell_cols, (cell_col + 1) * cell_cols):
                inner_col = 0 < c < width - 1
                g_row = np.int32(0)
                g_col = np.int32(0)
                if colour:
                    best = -1
                    for k in range(image.shape[2]):
                        d_row = np.int32(0)
                        if inner_row:
                            d_row = np.int32(image[r + 1, c, k]) - np.int32(image[r - 1, c, k])
                        d_col = np.int32(0)
                        if inner_col:
                            d_col = np.int32(image[r, c + 1, k]) - np.int32(image[r, c - 1, k])
                        squared = d_row * d_row + d_col * d_col
                        if squared > best or (
                            squared == best and _hypot_greater(d_row, d_col, g_row, g_col, magnitudes)
                        ):
                            best, g_row, g_col = squared, d_row, d_col
                else:
                    if inner_row:
                        g_row = np.int32(image[r + 1, c]) - np.int32(image[r - 1, c])
                    if inner_col:
                        g_col = np.int32(image[r, c + 1]) - np.int32(image[r, c - 1])
                cast(sums, first_slot, g_row, g_col, bins_table, magnitudes, count)

    vote_cell = compile_kernel(vote_cell, numba, inline=True)

    def vote_cell_row(
        image,
        cell_row,
        cell_rows,
        cell_cols,
        n_cell_cols,
        cell_of,
        slots,
        bins_table,
        magnitudes,
        count,
        sums,
    ):
        """The votes of the pixels of one row of cells into ``sums`` (``slots`` per cell): row by row
        across the cells when the rows are long (64 pixels or more), else cell by cell. Either way
        each cell's pixels are added in the same order (rows top to bottom, left to right)."""
        cols = n_cell_cols * cell_cols
        if cols >= 64:
            for r in range(cell_row * cell_rows, (cell_row + 1) * cell_rows):
                vote_row(image, r, cols, cell_of, bins_table, magnitudes, count, sums)
        else:
            for cell_col in range(n_cell_cols):
                vote_cell(
                    image,
                    cell_row,
                    cell_col,
                    cell_rows,
                    cell_cols,
                    cell_col * slots,
                    bins_table,
                    magnitudes,
                    count,
                    sums,
                )

    return compile_kernel(vote_cell_row, numba)


def _compile_vote_cells(colour):
    """The cell-voting kernel for grey ``(n, H, W)`` or colour ``(n, H, W, C)`` images."""
    vote_cell_row = _compile_vote_row(colour)

    def vote_cells(images, cell_rows, cell_cols, bins_table, magnitude_quarter, count, out):
        """Cell histograms of integer images into ``out`` ``(n, cells_r, cells_c, bins)``.

        The votes of :func:`vote_row`; each cell sum is divided by the cell area.
        """
        n_cell_rows, n_cell_cols, n_bins = out.shape[1], out.shape[2], out.shape[3]
        slots = n_bins + 1
        cols = n_cell_cols * cell_cols
        cell_of = (np.arange(cols) // cell_cols) * slots
        magnitudes = magnitude_quarter.ravel()
        sums = np.zeros(n_cell_cols * slots)
        area = cell_rows * cell_cols
        for i in range(images.shape[0]):
            image = images[i]
            for cell_row in range(n_cell_rows):
                sums[:] = 0.0
                vote_cell_row(
                    image,
                    cell_row,
                    cell_rows,
                    cell_cols,
                    n_cell_cols,
                    cell_of,
                    slots,
                    bins_table,
                    magnitudes,
                    count,
                    sums,
                )
                for cell_col in range(n_cell_cols):
                    for b in range(n_bins):
                        out[i, cell_row, cell_col, b] = sums[cell_col * slots + b] / area

    return compile_kernel(vote_cells, numba), vote_cell_row


vote_cells_gray, _vote_cell_row_gray = _compile_vote_cells(colour=False)
vote_cells_colour, _vote_cell_row_colour = _compile_vote_cells(colour=True)


# ------------------------------------------------------------------ normalisation
# Block normalisations (``norm`` of the kernels).
NORM_NONE = 0
NORM_L1 = 1
NORM_L1_SQRT = 2
NORM_L2 = 3
NORM_L2_HYS = 4

# The normalisation works on flat arrays at offsets, in unsigned integers (``_U*``: the
# constants it adds to them). numba reads a negative signed index from the end, a test
# and a select on every access that also stops the loops from vectorising; an unsigned
# index has no such case. And offsets instead of a view per block: each view costs a
# reference count, more than a block of 81 values takes to normalise.
_U0, _U1, _U2, _U3, _U4, _U5, _U6, _U7, _U8 = (np.uint64(k) for k in range(9))
_U128 = np.uint64(128)


def _pairwise_leaf(values, start, n):
    """numpy's pairwise summation of ``values[start : start + n]``, ``n <= 128`` (unsigned):
    plain below 8, else eight accumulators."""
    if n < _U8:
        total = 0.0
        for i in range(n):
            total += values[start + i]
        return total
    p = start
    r0, r1, r2, r3 = values[p], values[p + _U1], values[p + _U2], values[p + _U3]
    r4, r5, r6, r7 = values[p + _U4], values[p + _U5], values[p + _U6], values[p + _U7]
    i = _U8
    while i < n - n % _U8:
        p = start + i
        r0 += values[p]
        r1 += values[p + _U1]
        r2 += values[p + _U2]
        r3 += values[p + _U3]
        r4 += values[p + _U4]
        r5 += values[p + _U5]
        r6 += values[p + _U6]
        r7 += values[p + _U7]
        i += _U8
    total = ((r0 + r1) + (r2 + r3)) + ((r4 + r5) + (r6 + r7))
    while i < n:
        total += values[start + i]
        i += _U1
    return total


pairwise_leaf = compile_kernel(_pairwise_leaf, numba)


def _pairwise_sum(values, start, n):
    """numpy's pairwise summation of ``values[start : start + n]`` (``ndarray.sum`` of
    float64, contiguous; unsigned ``start`` and ``n``): up to 128 values in a leaf, longer
    runs split in halves (multiples of 8) whose sums are added. The halving is numpy's
    recursion, walked with an explicit stack (numba cannot cache recursive functions)."""
    if n <= _U128:
        return pairwise_leaf(values, start, n)
    starts = np.empty(64, dtype=np.uint64)
    lengths = np.empty(64, dtype=np.uint64)
    stages = np.zeros(64, dtype=np.int64)  # 0: new; 1: left half summed; 2: both summed
    partial = np.empty(64)
    top = 0
    starts[0], lengths[0] = start, n
    result = 0.0
    while top >= 0:
        m = lengths[top]
        if m <= _U128:
            result = pairwise_leaf(values, starts[top], m)
            top -= 1
            continue
        half = m // _U2
        half -= half % _U8
        if stages[top] == 0:
            stages[top] = 1
            top += 1
            starts[top], lengths[top], stages[top] = starts[top - 1], half, 0
        elif stages[top] == 1:
            partial[top] = result
            stages[top] = 2
            top += 1
            starts[top], lengths[top], stages[top] = starts[top - 1] + half, m - half, 0
        else:
            result = partial[top] + result
            top -= 1
    return result


pairwise_sum = compile_kernel(_pairwise_sum, numba)


def _square_step(lane, a, p, first):
    """One step of a lane of ``sum_of_squares``: the squares of ``a[p + first + 6]``,
    ``+ 4``, ``+ 2``, ``+ 0`` added in that order."""
    q = p + first
    v6, v4, v2, v0 = a[q + _U6], a[q + _U4], a[q + _U2], a[q]
    return (((lane + v6 * v6) + v4 * v4) + v2 * v2) + v0 * v0


square_step = compile_kernel(_square_step, numba, inline=True)


def _sum_of_squares(a, o, n):
    """numpy's ``einsum('ijk,ijk->ij')`` of ``a[o : o + n]`` with itself (unsigned ``o``,
    ``n``): two lanes (even and odd elements), eight values per step added last-pair-first,
    then a lane per remaining pair, then the two lanes."""
    lane0 = 0.0
    lane1 = 0.0
    i = _U0
    while n - i >= _U8:
        lane0 = square_step(lane0, a, o + i, _U0)
        lane1 = square_step(lane1, a, o + i, _U1)
        i += _U8
    while i < n:
        p = o + i
        lane0 = lane0 + a[p] * a[p]
        if i + _U1 < n:
            lane1 = lane1 + a[p + _U1] * a[p + _U1]
        i += _U2
    return lane0 + lane1


sum_of_squares = compile_kernel(_sum_of_squares, numba, inline=True)


def _sums_of_squares_4(a, o, n):
    """``sum_of_squares`` of the four blocks of ``n`` values from ``a[o]`` at once: eight
    independent chains of additions instead of two, each block's own order unchanged."""
    ob, oc, od = o + n, o + _U2 * n, o + _U3 * n
    a0 = a1 = b0 = b1 = c0 = c1 = d0 = d1 = 0.0
    i = _U0
    while n - i >= _U8:
        a0 = square_step(a0, a, o + i, _U0)
        a1 = square_step(a1, a, o + i, _U1)
        b0 = square_step(b0, a, ob + i, _U0)
        b1 = square_step(b1, a, ob + i, _U1)
        c0 = square_step(c0, a, oc + i, _U0)
        c1 = square_step(c1, a, oc + i, _U1)
        d0 = square_step(d0, a, od + i, _U0)
        d1 = square_step(d1, a, od + i, _U1)
        i += _U8
    while i < n:
        a0 = a0 + a[o + i] * a[o + i]
        b0 = b0 + a[ob + i] * a[ob + i]
        c0 = c0 + a[oc + i] * a[oc + i]
        d0 = d0 + a[od + i] * a[od + i]
        if i + _U1 < n:
            j = i + _U1
            a1 = a1 + a[o + j] * a[o + j]
            b1 = b1 + a[ob + j] * a[ob + j]
            c1 = c1 + a[oc + j] * a[oc + j]
            d1 = d1 + a[od + j] * a[od + j]
        i += _U2
    return a0 + a1, b0 + b1, c0 + c1, d0 + d1


sums_of_squares_4 = compile_kernel(_sums_of_squares_4, numba, inline=True)


def _l2_norms(a, start, n_blocks, size, norms, eps2):
    """``sqrt(sum_of_squares + eps2)`` of each of the ``n_blocks`` blocks of ``size`` values
    from ``a[start]`` into ``norms`` (all unsigned)."""
    k = _U0
    while k + _U4 <= n_blocks:
        s0, s1, s2, s3 = sums_of_squares_4(a, start + k * size, size)
        norms[k] = math.sqrt(s0 + eps2)
        norms[k + _U1] = math.sqrt(s1 + eps2)
        norms[k + _U2] = math.sqrt(s2 + eps2)
        norms[k + _U3] = math.sqrt(s3 + eps2)
        k += _U4
    while k < n_blocks:
        norms[k] = math.sqrt(sum_of_squares(a, start + k * size, size) + eps2)
        k += _U1


l2_norms = compile_kernel(_l2_norms, numba)


def _normalize_blocks(a, start, n_blocks, size, norm, eps, eps2, clip, norms):
    """The numpy path's ``_normalize_blocks`` of the ``n_blocks`` blocks of ``size`` values
    from ``a[start]`` (a flat array; unsigned offsets), in place.

    ``norms`` is scratch space, one value per block. Each block is multiplied by
    the reciprocal of its norm, as the numpy path does (``1.0 / norm``, then one
    multiplication per value).
    """
    if norm == NORM_L1 or norm == NORM_L1_SQRT:
        for k in range(n_blocks):
            o = start + k * size
            scale = 1.0 / (pairwise_sum(a, o, size) + eps)
            for j in range(size):
                a[o + j] *= scale
            if norm == NORM_L1_SQRT:
                for j in range(size):
                    a[o + j] = math.sqrt(a[o + j])
        return
    l2_norms(a, start, n_blocks, size, norms, eps2)
    for k in range(n_blocks):
        o = start + k * size
        scale = 1.0 / norms[k]
        if norm == NORM_L2_HYS:
            for j in range(size):
                a[o + j] = min(a[o + j] * scale, clip)
        else:
            for j in range(size):
                a[o + j] *= scale
    if norm == NORM_L2_HYS:
        l2_norms(a, start, n_blocks, size, norms, eps2)
        for k in range(n_blocks):
            o = start + k * size
            scale = 1.0 / norms[k]
            for j in range(size):
                a[o + j] *= scale


normalize_blocks = compile_kernel(_normalize_blocks, numba)


def _block_norms(blocks, norm, eps, eps2, clip):
    """``normalize_blocks`` of the rows of a C-ordered 2-D array, in place (the self-check's entry)."""
    n_blocks, size = np.uint64(blocks.shape[0]), np.uint64(blocks.shape[1])
    normalize_blocks(blocks.ravel(), _U0, n_blocks, size, norm, eps, eps2, clip, np.empty(blocks.shape[0]))


block_norms = compile_kernel(_block_norms, numba)


def _compile_features(colour):
    vote_cell_row = _vote_cell_row_colour if colour else _vote_cell_row_gray

    def features(
        images,
        cell_rows,
        cell_cols,
        bins_table,
        magnitude_quarter,
        count,
        n_bins,
        block_rows,
        block_cols,
        norm,
        eps,
        eps2,
        clip,
        out,
    ):
        """HOG features of integer images into ``out`` ``(n, F)``: the cell histograms of
        ``vote_cells``, then scikit-image's blocks (block row, block column, cell row, cell
        column, orientation), each normalised by ``normalize_blocks``; or, for ``NORM_NONE``,
        the cell histograms (cell row, cell column, orientation)."""
        height, width = images.shape[1], images.shape[2]
        n_cell_rows, n_cell_cols = height // cell_rows, width // cell_cols
        slots = n_bins + 1
        cols = n_cell_cols * cell_cols
        cell_of = (np.arange(cols) // cell_cols) * slots
        magnitudes = magnitude_quarter.ravel()
        sums = np.zeros(n_cell_cols * slots)
        area = cell_rows * cell_cols
        cells = np.empty(n_cell_rows * n_cell_cols * n_bins)
        # The block layout in unsigned integers, like normalize_blocks' offsets.
        block_size = np.uint64(block_rows * block_cols * n_bins)
        run = np.uint64(block_cols * n_bins)  # a block's cells in one row of cells: contiguous in ``cells``
        n_block_rows = np.uint64(max(0, n_cell_rows - block_rows + 1))
        n_block_cols = np.uint64(max(0, n_cell_cols - block_cols + 1))
        u_block_rows, u_cell_cols, u_bins = np.uint64(block_rows), np.uint64(n_cell_cols), np.uint64(n_bins)
        u_slots = np.uint64(slots)
        norms = np.empty(max(0, n_cell_cols - block_cols + 1))
        for i in range(images.shape[0]):
            image = images[i]
            histograms = cells if norm != NORM_NONE else out[i]
            for cell_row in range(n_cell_rows):
                sums[:] = 0.0
                vote_cell_row(
                    image,
                    cell_row,
                    cell_rows,
                    cell_cols,
                    n_cell_cols,
                    cell_of,
                    slots,
                    bins_table,
                    magnitudes,
                    count,
                    sums,
                )
                first = np.uint64(cell_row) * u_cell_cols * u_bins
                for cell_col in range(u_cell_cols):
                    for b in range(u_bins):
                        histograms[first + cell_col * u_bins + b] = sums[cell_col * u_slots + b] / area
            if norm == NORM_NONE:
                continue
            # One row of blocks at a time: laid out in ``out``, then normalised there while
            # it is in the cache.
            target = out[i]
            for block_row in range(n_block_rows):
                row_start = block_row * n_block_cols * block_size
                f = row_start
                for block_col in range(n_block_cols):
                    for rr in range(u_block_rows):
                        source = ((block_row + rr) * u_cell_cols + block_col) * u_bins
                        for j in range(run):
                            target[f + j] = cells[source + j]
                        f += run
                normalize_blocks(target, row_start, n_block_cols, block_size, norm, eps, eps2, clip, norms)

    return compile_kernel(features, numba)


features_gray = _compile_features(colour=False)
features_colour = _compile_features(colour=True)
