"""The numba kernels of :mod:`skvision.descriptors._lbp_kernels`; imported only where numba is.

Each kernel makes one pass from the pixels to the cell histograms (or to the
label maps), with the numpy path's float64 operations in its order (see
:mod:`skvision.descriptors._lbp_kernels` for the formulas), in one of two
layouts, whichever gives the compiler long loops without branches to vectorise:

* *rows* (wide images): an image is copied into a zero-padded float64 buffer,
  and each neighbour's samples of a row of pixels are one loop over the row's
  columns (the column weights are arrays, the row weights scalars);
* *lanes* (narrow images, where a row is too short to vectorise): a block of
  images is copied into a zero-padded ``(H, W, images)`` buffer, and each
  neighbour's samples of one pixel position are one loop over the block's
  images (every weight is then a scalar).

A pixel's code gathers bit ``i`` (``sample_i >= centre``) for each neighbour in
turn; labels come from the numpy path's lookup tables or its bit arithmetic.
"""

from __future__ import annotations

import math

import numba
import numpy as np

from ._numba import compile_kernel

# How a code becomes a label (``method`` of the kernels).
TABLE = 0  # label = table[code]
CODE = 1  # label = code ('default')
UNIFORM = 2  # computed: P > 16
NRI_UNIFORM = 3  # computed: P > 16
ROR = 4  # computed: P > 20 (label maps only)
VAR = 5  # the variance: binned by ``edges`` (histograms) or written as it is (maps)

# Normalisation of the cell histograms.
NORMALIZE_NONE = 0
NORMALIZE_L1 = 1
NORMALIZE_L2 = 2


def _popcount(x):
    """1 bits of a non-negative int64."""
    count = 0
    while x:
        x &= x - 1
        count += 1
    return count


popcount = compile_kernel(_popcount, numba)


def _computed_label(code, P, method):
    """scikit-image's label of a code by bit arithmetic, as the numpy path's ``_method_values``."""
    if method == CODE:
        return code
    if method == ROR:
        best = code
        rotated = code
        for _ in range(P - 1):
            rotated = (rotated >> 1) | ((rotated & 1) << (P - 1))
            if rotated < best:
                best = rotated
        return best
    n_ones = popcount(code)
    changes = popcount((code ^ (code >> 1)) & ((np.int64(1) << (P - 1)) - 1))
    if method == UNIFORM:
        return n_ones if changes <= 2 else P + 1
    # NRI_UNIFORM
    if changes > 2:
        return P * (P - 1) + 2
    if n_ones == 0:
        return 0
    if n_ones == P:
        return P * (P - 1) + 1
    first_one = popcount((code & -code) - 1)
    zeros = ~code & ((np.int64(1) << P) - 1)
    first_zero = popcount((zeros & -zeros) - 1)
    rotation = n_ones - first_zero if first_one == 0 else P - first_one
    return 1 + (n_ones - 1) * P + rotation


computed_label = compile_kernel(_computed_label, numba)


def _variance(total, square, P):
    """The numpy path's population variance: ``(sq - s * s / P) / P``, in that order."""
    return (square - total * total / P) / P


variance = compile_kernel(_variance, numba)


def _var_label(value, edges):
    """``searchsorted(edges, value, 'right')``, a zero variance (NaN in the maps) reading 0."""
    if value == 0.0:
        value = 0.0
    label = 0
    while label < len(edges) and edges[label] <= value:
        label += 1
    return label


var_label = compile_kernel(_var_label, numba)


def _normalize_into(counts, n_cells, n_labels, normalize, out):
    """``out[:] = counts`` normalised per cell as the numpy path's ``_normalized``: the sums are
    of integer-valued floats, exact in any order."""
    for cell in range(n_cells):
        first = cell * n_labels
        if normalize == NORMALIZE_NONE:
            for b in range(first, first + n_labels):
                out[b] = np.float64(counts[b])
            continue
        norm = 0.0
        if normalize == NORMALIZE_L1:
            for b in range(first, first + n_labels):
                norm += np.float64(counts[b])
        else:
            for b in range(first, first + n_labels):
                norm += np.float64(counts[b]) * np.float64(counts[b])
            norm = math.sqrt(norm)
        for b in range(first, first + n_labels):
            out[b] = np.float64(counts[b]) / norm


normalize_into = compile_kernel(_normalize_into, numba)


def _compile(var, maps):
    """The two layouts' kernels for codes or 'var' (``var``), histograms or label maps (``maps``).

    Both flags are constants of the closures, so numba drops the other branches before
    typing (as HOG's kernel does); one source, four specialised pairs of kernels.
    """

    def rows_kernel(
        images,
        q,
        rows,
        cols,
        kinds,
        col_w0,
        col_w1,
        row_w0,
        row_w1,
        method,
        table,
        P,
        edges,
        cell_rows,
        cell_cols,
        n_cells,
        n_labels,
        normalize,
        out,
    ):
        """Histograms into ``out`` ``(n, n_cells * n_labels)``, or label maps into ``out`` ``(n, H, W)``.

        ``cell_rows[r]`` is the first cell of row ``r`` (cell row times cells per row),
        ``cell_cols[c]`` the cell column of column ``c``.
        """
        n_images, height, width = images.shape
        pw = width + 2 * q
        padded = np.zeros((height + 2 * q) * pw)
        codes = np.zeros(width, dtype=np.int64)
        total = np.zeros(width)
        square = np.zeros(width)
        counts = np.zeros(n_cells * n_labels, dtype=np.int64)
        for k in range(n_images):
            image = images[k]
            for r in range(height):
                line = padded[(q + r) * pw + q : (q + r) * pw + q + width]
                for c in range(width):
                    line[c] = image[r, c]
            counts[:] = 0
            for r in range(height):
                centre = padded[(q + r) * pw + q : (q + r) * pw + q + width]
                if not var:
                    codes[:] = 0
                for i in range(P):
                    start = (q + r + rows[i]) * pw + q + cols[i]
                    top = padded[start : start + width + 1]
                    kind = kinds[i]
                    bit = np.int64(1) << i
                    # One loop per kind, without branches (slices, not offsets: no negative-index
                    # checks), so that they vectorise.
                    if kind == 0:
                        for c in range(width):
                            value = top[c]
                            if var:
                                if i == 0:
                                    total[c] = value
                                    square[c] = value * value
                                else:
                                    total[c] += value
                                    square[c] += value * value
                            else:
                                codes[c] |= np.int64(value >= centre[c]) * bit
                    elif kind == 1:
                        w0 = col_w0[i]
                        w1 = col_w1[i]
                        for c in range(width):
                            value = w0[c] * top[c] + w1[c] * top[c + 1]
                            if var:
                                if i == 0:
                                    total[c] = value
                                    square[c] = value * value
                                else:
                                    total[c] += value
                                    square[c] += value * value
                            else:
                                codes[c] |= np.int64(value >= centre[c]) * bit
                    elif kind == 2:
                        bottom = padded[start + pw : start + pw + width + 1]
                        a = row_w0[i, r]
                        b = row_w1[i, r]
                        for c in range(width):
                            value = a * top[c] + b * bottom[c]
                            if var:
                                if i == 0:
                                    total[c] = value
                                    square[c] = value * value
                                else:
                                    total[c] += value
                                    square[c] += value * value
                            else:
                                codes[c] |= np.int64(value >= centre[c]) * bit
                    else:
                        bottom = padded[start + pw : start + pw + width + 1]
                        w0 = col_w0[i]
                        w1 = col_w1[i]
                        a = row_w0[i, r]
                        b = row_w1[i, r]
                        for c in range(width):
                            upper = w0[c] * top[c] + w1[c] * top[c + 1]
                            lower = w0[c] * bottom[c] + w1[c] * bottom[c + 1]
                            value = a * upper + b * lower
                            if var:
                                if i == 0:
                                    total[c] = value
                                    square[c] = value * value
                                else:
                                    total[c] += value
                                    square[c] += value * value
                            else:
                                codes[c] |= np.int64(value >= centre[c]) * bit
                if maps:
                    line = out[k, r]
                    for c in range(width):
                        if var:
                            value = variance(total[c], square[c], P)
                            line[c] = np.nan if value == 0.0 else value
                        elif method == TABLE:
                            line[c] = table[codes[c]]
                        elif method == CODE:
                            line[c] = codes[c]
                        else:
                            line[c] = computed_label(codes[c], P, method)
                else:
                    base = cell_rows[r]
                    for c in range(width):
                        if var:
                            label = var_label(variance(total[c], square[c], P), edges)
                        elif method == TABLE:
                            label = table[codes[c]]
                        elif method == CODE:
                            label = codes[c]
                        else:
                            label = computed_label(codes[c], P, method)
                        counts[(base + cell_cols[c]) * n_labels + label] += 1
            if not maps:
                normalize_into(counts, n_cells, n_labels, normalize, out[k])

    def lanes_kernel(
        images,
        q,
        rows,
        cols,
        kinds,
        col_w0,
        col_w1,
        row_w0,
        row_w1,
        method,
        table,
        P,
        edges,
        cell_rows,
        cell_cols,
        n_cells,
        n_labels,
        normalize,
        out,
        lanes,
    ):
        """As ``rows_kernel``, with blocks of ``lanes`` images as the vectorised loop."""
        n_images, height, width = images.shape
        padded = np.zeros((height + 2 * q, width + 2 * q, lanes))
        codes = np.zeros(lanes, dtype=np.int64)
        total = np.zeros(lanes)
        square = np.zeros(lanes)
        counts = np.zeros((lanes, n_cells * n_labels), dtype=np.int64)
        for first in range(0, n_images, lanes):
            m = min(lanes, n_images - first)
            for r in range(height):
                for c in range(width):
                    pixel = padded[q + r, q + c]
                    for k in range(m):
                        pixel[k] = images[first + k, r, c]
            counts[:m] = 0
            for r in range(height):
                for c in range(width):
                    centre = padded[q + r, q + c]
                    if not var:
                        codes[:m] = 0
                    for i in range(P):
                        y = q + r + rows[i]
                        x = q + c + cols[i]
                        kind = kinds[i]
                        bit = np.int64(1) << i
                        if kind == 0:
                            s00 = padded[y, x]
                            for k in range(m):
                                value = s00[k]
                                if var:
                                    if i == 0:
                                        total[k] = value
                                        square[k] = value * value
                                    else:
                                        total[k] += value
                                        square[k] += value * value
                                else:
                                    codes[k] |= np.int64(value >= centre[k]) * bit
                        elif kind == 1:
                            s00 = padded[y, x]
                            s01 = padded[y, x + 1]
                            w0 = col_w0[i, c]
                            w1 = col_w1[i, c]
                            for k in range(m):
                                value = w0 * s00[k] + w1 * s01[k]
                                if var:
                                    if i == 0:
                                        total[k] = value
                                        square[k] = value * value
                                    else:
                                        total[k] += value
                                        square[k] += value * value
                                else:
                                    codes[k] |= np.int64(value >= centre[k]) * bit
                        elif kind == 2:
                            s00 = padded[y, x]
                            s10 = padded[y + 1, x]
                            a = row_w0[i, r]
                            b = row_w1[i, r]
                            for k in range(m):
                                value = a * s00[k] + b * s10[k]
                                if var:
                                    if i == 0:
                                        total[k] = value
                                        square[k] = value * value
                                    else:
                                        total[k] += value
                                        square[k] += value * value
                                else:
                                    codes[k] |= np.int64(value >= centre[k]) * bit
                        else:
                            s00 = padded[y, x]
                            s01 = padded[y, x + 1]
                            s10 = padded[y + 1, x]
                            s11 = padded[y + 1, x + 1]
                            w0 = col_w0[i, c]
                            w1 = col_w1[i, c]
                            a = row_w0[i, r]
                            b = row_w1[i, r]
                            for k in range(m):
                                upper = w0 * s00[k] + w1 * s01[k]
                                lower = w0 * s10[k] + w1 * s11[k]
                                value = a * upper + b * lower
                                if var:
                                    if i == 0:
                                        total[k] = value
                                        square[k] = value * value
                                    else:
                                        total[k] += value
                                        square[k] += value * value
                                else:
                                    codes[k] |= np.int64(value >= centre[k]) * bit
                    if maps:
                        for k in range(m):
                            if var:
                                value = variance(total[k], square[k], P)
                                out[first + k, r, c] = np.nan if value == 0.0 else value
                            elif method == TABLE:
                                out[first + k, r, c] = table[codes[k]]
                            elif method == CODE:
                                out[first + k, r, c] = codes[k]
                            else:
                                out[first + k, r, c] = computed_label(codes[k], P, method)
                    else:
                        bin0 = (cell_rows[r] + cell_cols[c]) * n_labels
                        for k in range(m):
                            if var:
                                label = var_label(variance(total[k], square[k], P), edges)
                            elif method == TABLE:
                                label = table[codes[k]]
                            elif method == CODE:
                                label = codes[k]
                            else:
                                label = computed_label(codes[k], P, method)
                            counts[k, bin0 + label] += 1
            if not maps:
                for k in range(m):
                    normalize_into(counts[k], n_cells, n_labels, normalize, out[first + k])

    return compile_kernel(rows_kernel, numba), compile_kernel(lanes_kernel, numba)


code_histograms_rows, code_histograms_lanes = _compile(var=False, maps=False)
var_histograms_rows, var_histograms_lanes = _compile(var=True, maps=False)
code_maps_rows, code_maps_lanes = _compile(var=False, maps=True)
var_maps_rows, var_maps_lanes = _compile(var=True, maps=True)
