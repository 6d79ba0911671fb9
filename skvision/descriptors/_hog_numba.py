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
    """One pixel's vote into its cell's sums (``first_slot``: the cell's first slot)."""
    slot = bins_table[g_row * _SIDE + g_col + _RADIUS * _SIDE + _RADIUS]
    if count:
        sums[first_slot + slot] += 1.0
    else:
        sums[first_slot + slot] += magnitudes[abs(g_row) * 256 + abs(g_col)]


cast = compile_kernel(_cast, numba, inline=True)


def _compile_vote_row(colour):
    """Votes of one row ``r`` of pixels of one image into the sums of its row of cells.

    ``colour`` is a constant of the closure, so numba drops the other branch
    before typing: one loop written once, compiled into two kernels as fast as
    hand-written ones. (A shared loop calling a gradient function, or looping over
    the single channel of a grey image, compiles to slower code.)
    """

    def gradient(up, row, down, c, inner_col):
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
                if squared > best:
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
        first one on ties like scikit-image's argmax (squared integer magnitudes rank as ``hypot``
        does); the orientation slot from ``bins_table`` (flat 511 x 511, keyed by the signed
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
        g_row, g_col = gradient(up, row, down, 0, False)
        cast(sums, cell_of[0], g_row, g_col, bins_table, magnitudes, count)
        for c in range(1, inner):
            g_row, g_col = gradient(up, row, down, c, True)
            cast(sums, cell_of[c], g_row, g_col, bins_table, magnitudes, count)
        for c in range(inner, cols):
            g_row, g_col = gradient(up, row, down, c, c < width - 1)
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
                        if squared > best:
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


def _pairwise_leaf(values):
    """numpy's pairwise summation of up to 128 values: plain below 8, else eight accumulators."""
    n = len(values)
    if n < 8:
        total = 0.0
        for i in range(n):
            total += values[i]
        return total
    r0, r1, r2, r3 = values[0], values[1], values[2], values[3]
    r4, r5, r6, r7 = values[4], values[5], values[6], values[7]
    i = 8
    while i < n - n % 8:
        p = i
        r0 += values[p]
        r1 += values[p + 1]
        r2 += values[p + 2]
        r3 += values[p + 3]
        r4 += values[p + 4]
        r5 += values[p + 5]
        r6 += values[p + 6]
        r7 += values[p + 7]
        i += 8
    total = ((r0 + r1) + (r2 + r3)) + ((r4 + r5) + (r6 + r7))
    while i < n:
        total += values[i]
        i += 1
    return total


pairwise_leaf = compile_kernel(_pairwise_leaf, numba)


def _pairwise_sum(values):
    """numpy's pairwise summation of ``values`` (``ndarray.sum`` of float64, contiguous):
    up to 128 values in a leaf, longer runs split in halves (multiples of 8) whose sums are
    added. The halving is numpy's recursion, walked with an explicit stack (numba cannot cache
    recursive functions)."""
    n = len(values)
    if n <= 128:
        return pairwise_leaf(values)
    starts = np.empty(64, dtype=np.int64)
    lengths = np.empty(64, dtype=np.int64)
    stages = np.zeros(64, dtype=np.int64)  # 0: new; 1: left half summed; 2: both summed
    partial = np.empty(64)
    top = 0
    starts[0], lengths[0] = 0, n
    result = 0.0
    while top >= 0:
        m = lengths[top]
        if m <= 128:
            result = pairwise_leaf(values[starts[top] : starts[top] + m])
            top -= 1
            continue
        half = m // 2
        half -= half % 8
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


def _sum_of_squares(values):
    """numpy's ``einsum('ijk,ijk->ij')`` of contiguous ``values`` with itself: two lanes
    (even and odd elements), eight values per step added last-pair-first, then a lane per
    remaining pair, then the two lanes."""
    n = len(values)
    lane0 = 0.0
    lane1 = 0.0
    i = 0
    while n - i >= 8:
        p = i
        lane0 = (
            ((lane0 + values[p + 6] * values[p + 6]) + values[p + 4] * values[p + 4])
            + values[p + 2] * values[p + 2]
        ) + values[p] * values[p]
        lane1 = (
            ((lane1 + values[p + 7] * values[p + 7]) + values[p + 5] * values[p + 5])
            + values[p + 3] * values[p + 3]
        ) + values[p + 1] * values[p + 1]
        i += 8
    while i < n:
        p = i
        lane0 = lane0 + values[p] * values[p]
        if i + 1 < n:
            lane1 = lane1 + values[p + 1] * values[p + 1]
        i += 2
    return lane0 + lane1


sum_of_squares = compile_kernel(_sum_of_squares, numba)


def _sums_of_squares_4(a, b, c, d):
    """``sum_of_squares`` of four blocks of one length at once: eight independent chains of
    additions instead of two, each block's own order unchanged."""
    n = len(a)
    a0 = a1 = b0 = b1 = c0 = c1 = d0 = d1 = 0.0
    i = 0
    while n - i >= 8:
        a0 = (((a0 + a[i + 6] * a[i + 6]) + a[i + 4] * a[i + 4]) + a[i + 2] * a[i + 2]) + a[i] * a[i]
        a1 = (((a1 + a[i + 7] * a[i + 7]) + a[i + 5] * a[i + 5]) + a[i + 3] * a[i + 3]) + a[i + 1] * a[i + 1]
        b0 = (((b0 + b[i + 6] * b[i + 6]) + b[i + 4] * b[i + 4]) + b[i + 2] * b[i + 2]) + b[i] * b[i]
        b1 = (((b1 + b[i + 7] * b[i + 7]) + b[i + 5] * b[i + 5]) + b[i + 3] * b[i + 3]) + b[i + 1] * b[i + 1]
        c0 = (((c0 + c[i + 6] * c[i + 6]) + c[i + 4] * c[i + 4]) + c[i + 2] * c[i + 2]) + c[i] * c[i]
        c1 = (((c1 + c[i + 7] * c[i + 7]) + c[i + 5] * c[i + 5]) + c[i + 3] * c[i + 3]) + c[i + 1] * c[i + 1]
        d0 = (((d0 + d[i + 6] * d[i + 6]) + d[i + 4] * d[i + 4]) + d[i + 2] * d[i + 2]) + d[i] * d[i]
        d1 = (((d1 + d[i + 7] * d[i + 7]) + d[i + 5] * d[i + 5]) + d[i + 3] * d[i + 3]) + d[i + 1] * d[i + 1]
        i += 8
    while i < n:
        a0 = a0 + a[i] * a[i]
        b0 = b0 + b[i] * b[i]
        c0 = c0 + c[i] * c[i]
        d0 = d0 + d[i] * d[i]
        if i + 1 < n:
            a1 = a1 + a[i + 1] * a[i + 1]
            b1 = b1 + b[i + 1] * b[i + 1]
            c1 = c1 + c[i + 1] * c[i + 1]
            d1 = d1 + d[i + 1] * d[i + 1]
        i += 2
    return a0 + a1, b0 + b1, c0 + c1, d0 + d1


sums_of_squares_4 = compile_kernel(_sums_of_squares_4, numba)


def _l2_norms(blocks, norms, eps2):
    """``sqrt(sum_of_squares + eps2)`` of each row of ``blocks`` (2-D, C-ordered) into ``norms``."""
    n_blocks = blocks.shape[0]
    k = 0
    while k + 4 <= n_blocks:
        s0, s1, s2, s3 = sums_of_squares_4(blocks[k], blocks[k + 1], blocks[k + 2], blocks[k + 3])
        norms[k] = math.sqrt(s0 + eps2)
        norms[k + 1] = math.sqrt(s1 + eps2)
        norms[k + 2] = math.sqrt(s2 + eps2)
        norms[k + 3] = math.sqrt(s3 + eps2)
        k += 4
    while k < n_blocks:
        norms[k] = math.sqrt(sum_of_squares(blocks[k]) + eps2)
        k += 1


l2_norms = compile_kernel(_l2_norms, numba)


def _normalize_blocks(blocks, norm, eps, eps2, clip, norms):
    """The numpy path's ``_normalize_blocks`` of each row of ``blocks`` (2-D, C-ordered), in place.

    ``norms`` is scratch space, one value per row. Each block is divided by its norm
    (a division, as numpy does, not a multiplication by the reciprocal).
    """
    n_blocks = blocks.shape[0]
    if norm == NORM_L1 or norm == NORM_L1_SQRT:
        for k in range(n_blocks):
            block = blocks[k]
            total = pairwise_sum(block) + eps
            for j in range(len(block)):
                block[j] /= total
            if norm == NORM_L1_SQRT:
                for j in range(len(block)):
                    block[j] = math.sqrt(block[j])
        return
    l2_norms(blocks, norms, eps2)
    for k in range(n_blocks):
        block = blocks[k]
        total = norms[k]
        for j in range(len(block)):
            block[j] /= total
        if norm == NORM_L2_HYS:
            for j in range(len(block)):
                block[j] = min(block[j], clip)
    if norm == NORM_L2_HYS:
        l2_norms(blocks, norms, eps2)
        for k in range(n_blocks):
            block = blocks[k]
            total = norms[k]
            for j in range(len(block)):
                block[j] /= total


normalize_blocks = compile_kernel(_normalize_blocks, numba)


def _block_norms(blocks, norm, eps, eps2, clip):
    """``normalize_blocks`` of a C-ordered 2-D array, in place (the self-check's entry)."""
    normalize_blocks(blocks, norm, eps, eps2, clip, np.empty(blocks.shape[0]))


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
        column, orientation), each normalised by ``normalize_block``; or, for ``NORM_NONE``,
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
        block_size = block_rows * block_cols * n_bins
        run = block_cols * n_bins  # a block's cells in one row of cells: contiguous in ``cells``
        n_block_rows = max(0, n_cell_rows - block_rows + 1)
        n_block_cols = max(0, n_cell_cols - block_cols + 1)
        norms = np.empty(n_block_cols)
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
                first = cell_row * n_cell_cols * n_bins
                for cell_col in range(n_cell_cols):
                    for b in range(n_bins):
                        histograms[first + cell_col * n_bins + b] = sums[cell_col * slots + b] / area
            if norm == NORM_NONE:
                continue
            # One row of blocks at a time: laid out, then normalised in the cache.
            blocks = out[i].reshape(n_block_rows, n_block_cols, block_size)
            for block_row in range(n_block_rows):
                row_of_blocks = blocks[block_row]
                flat = row_of_blocks.ravel()
                f = 0
                for block_col in range(n_block_cols):
                    for rr in range(block_rows):
                        source = cells[((block_row + rr) * n_cell_cols + block_col) * n_bins :]
                        target = flat[f:]
                        for j in range(run):
                            target[j] = source[j]
                        f += run
                normalize_blocks(row_of_blocks, norm, eps, eps2, clip, norms)

    return compile_kernel(features, numba)


features_gray = _compile_features(colour=False)
features_colour = _compile_features(colour=True)
