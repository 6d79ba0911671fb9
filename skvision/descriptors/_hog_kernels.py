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

import functools

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


#: ``block_norm`` -> the kernels' code (``_hog_numba.NORM_*``, mirrored: that module imports numba).
_NORM_CODES = {None: 0, "L1": 1, "L1-sqrt": 2, "L2": 3, "L2-Hys": 4}


@functools.cache
def normalization_matches_numpy():
    """Whether the compiled block normalisation is bit for bit the numpy path's on this machine.

    The numpy path's norms come from ``ndarray.sum`` (pairwise summation, plain C)
    and ``einsum`` (a sum of products whose lanes follow numpy's build: two, without
    fused multiply-adds, on x86-64 wheels); the kernel reproduces both. This checks
    the reproduction against the installed numpy, on blocks of every length up to
    300 and both kinds of norm, once per process; where it fails (another numpy
    build), the compiled route votes the cells and numpy normalises the blocks.
    """
    from . import _hog_numba
    from ._hog import _EPS, _HYS_CLIP, _HOGSpec, _normalize_blocks

    rng = np.random.default_rng(0)
    for length in range(1, 301):
        # Three images of one cell of ``length`` orientations, one block each.
        histograms = rng.random((3, 1, 1, length)) * 10.0 ** rng.uniform(-4, 2, (3, 1, 1, 1))
        for block_norm in ("L1", "L1-sqrt", "L2", "L2-Hys"):
            spec = _HOGSpec(length, 1, 1, block_norm, False, "central", False, "magnitude")
            expected = np.empty((3, length))
            _normalize_blocks(histograms, spec, expected)
            got = histograms.reshape(3, -1).copy()
            _hog_numba.block_norms(got, _NORM_CODES[block_norm], _EPS, _EPS**2, _HYS_CLIP)
            if not np.array_equal(got, expected):
                return False
    return True


def features(images, cell, block, orientations, block_norm, bins_table, magnitude_quarter, count, out):
    """HOG features of ``(n, H, W)`` or ``(n, H, W, C)`` 8-bit images into ``out`` ``(n, F)`` (C-ordered)."""
    from . import _hog_numba
    from ._hog import _EPS, _HYS_CLIP

    images = np.ascontiguousarray(images)
    kernel = _hog_numba.features_gray if images.ndim == 3 else _hog_numba.features_colour
    kernel(
        images,
        cell[0],
        cell[1],
        bins_table,
        magnitude_quarter,
        bool(count),
        orientations,
        block[0],
        block[1],
        _NORM_CODES[block_norm],
        _EPS,
        _EPS**2,
        _HYS_CLIP,
        out,
    )
