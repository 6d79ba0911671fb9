"""The numba kernels of :mod:`skvision.descriptors._hog_kernels`; imported only where numba is.

They compile with :func:`skvision.descriptors._numba.compile_kernel` (machine code
cached on disk, ``nogil``). The tables the kernels read come from the leaf module
:mod:`skvision.descriptors._hog_tables`.
"""

from __future__ import annotations

import numba
import numpy as np

# Gradients lie in [-_RADIUS, _RADIUS]; the flat bin table has _SIDE x _SIDE entries.
from ._hog_tables import LUT_RADIUS as _RADIUS
from ._hog_tables import LUT_SIDE as _SIDE
from ._numba import compile_kernel


def _compile_vote_cells(colour):
    """The cell-voting kernel for grey ``(n, H, W)`` or colour ``(n, H, W, C)`` images.

    ``colour`` is a constant of the closure, so numba drops the other branch
    before typing: one loop written once, compiled into two kernels as fast as
    hand-written ones. (A shared loop calling a gradient function, or looping
    over the single channel of a grey image, compiles to slower code.)
    """

    def vote_cells(images, cell_rows, cell_cols, bins_table, magnitude_quarter, count, out):
        """Cell histograms of integer images into ``out`` ``(n, cells_r, cells_c, bins)``.

        Per pixel: central differences (zero on the first/last row and column);
        for colour, those of the channel of largest magnitude, the first one on
        ties like scikit-image's argmax (squared integer magnitudes rank as
        ``hypot`` does); the orientation bin from ``bins_table`` (flat 511 x 511,
        keyed by the signed gradient) and the vote: 1 when ``count``, else
        ``magnitude_quarter[|g_row|, |g_col|]``. Slot ``bins`` of a cell's
        histogram collects the pixels in no bin (zero gradients under count
        weighting). Each cell sum is divided by the cell area.
        """
        n_images, height, width = images.shape[:3]
        n_cell_rows, n_cell_cols, n_bins = out.shape[1], out.shape[2], out.shape[3]
        histogram = np.zeros(n_bins + 1)
        centre = _RADIUS * _SIDE + _RADIUS
        area = cell_rows * cell_cols
        for i in range(n_images):
            image = images[i]
            for cell_row in range(n_cell_rows):
                for cell_col in range(n_cell_cols):
                    histogram[:] = 0.0
                    for r in range(cell_row * cell_rows, (cell_row + 1) * cell_rows):
                        inner_row = 0 < r < height - 1
                        for c in range(cell_col * cell_cols, (cell_col + 1) * cell_cols):
                            inner_col = 0 < c < width - 1
                            g_row = 0
                            g_col = 0
                            if colour:
                                best = -1
                                for k in range(images.shape[3]):
                                    d_row = 0
                                    if inner_row:
                                        d_row = np.int32(image[r + 1, c, k]) - np.int32(image[r - 1, c, k])
                                    d_col = 0
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
                            slot = bins_table[g_row * _SIDE + g_col + centre]
                            if count:
                                histogram[slot] += 1.0
                            else:
                                histogram[slot] += magnitude_quarter[abs(g_row), abs(g_col)]
                    for b in range(n_bins):
                        out[i, cell_row, cell_col, b] = histogram[b] / area

    return compile_kernel(vote_cells, numba)


vote_cells_gray = _compile_vote_cells(colour=False)
vote_cells_colour = _compile_vote_cells(colour=True)
