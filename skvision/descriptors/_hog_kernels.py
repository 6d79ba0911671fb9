"""Compiled cell voting for HOG on 8-bit images (numba, the optional ``fast`` extra): the switch.

numpy's fastest route from 8-bit pixels to cell histograms makes six passes over
memory per pixel (gradient key, two table lookups, cell offset, scatter-add,
scale); a compiled loop makes one, with every intermediate in registers. It
reads the same lookup tables as the numpy path and adds each cell's votes in
the same order (pixel rows top to bottom, left to right within a row), so the
two paths give bit-identical histograms. Without numba (or with the environment
variable ``SKVISION_NUMBA=0``) the numpy path runs instead. The kernel itself is
in :mod:`skvision.descriptors._hog_numba`, imported on first use.
"""

from __future__ import annotations

import numpy as np

from ._numba import numba_available

__all__ = ["numba_available", "vote_cells"]


def vote_cells(images, cell, bins_table, magnitude_quarter, count, out):
    """Run the compiled kernel on ``(n, H, W)`` or ``(n, H, W, C)`` 8-bit images."""
    from . import _hog_numba

    # A plain C-ordered array (a memmap or a strided view becomes one): one compiled
    # variant per dtype.
    images = np.ascontiguousarray(images)
    kernel = _hog_numba.vote_cells_gray if images.ndim == 3 else _hog_numba.vote_cells_colour
    kernel(images, cell[0], cell[1], bins_table, magnitude_quarter, bool(count), out)
