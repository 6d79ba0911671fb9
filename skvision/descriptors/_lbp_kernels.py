"""Compiled LBP (numba, the optional ``fast`` extra): the switch, and the plans the kernels read.

The numpy path (:mod:`skvision.descriptors._lbp`) makes a dozen passes over
memory per neighbour (interpolations, comparison, bit arithmetic) and then a
lookup and a scatter-add per pixel; the compiled kernels
(:mod:`skvision.descriptors._lbp_numba`, imported on first use) make one pass
from the pixels to the cell histograms or the label maps, with every
intermediate in registers. A sample is computed with the numpy path's float64
operations in its order: neighbour ``i`` of pixel ``(r, c)``, at offsets
``(dr, dc)`` with floors ``(r0, c0)``, is

* ``x[r + r0, c + c0]`` when both offsets are integers;
* ``h(r + r0)`` when only ``dc`` is fractional, where
  ``h(y) = wc0[c] * x[y, c + c0] + wc1[c] * x[y, c + c0 + 1]``;
* ``wr0[r] * x[r + r0, c + c0] + wr1[r] * x[r + r0 + 1, c + c0]`` when only ``dr`` is;
* ``wr0[r] * h(r + r0) + wr1[r] * h(r + r0 + 1)`` when both are;

with ``x`` the image read as float64 and 0 outside it, and the weights
``(1 - d, d)`` of :func:`skvision.descriptors._lbp._axis_weights` (computed from
the absolute coordinates, as scikit-image does). The codes, the labels (the
same lookup tables, or the same bit arithmetic beyond them), the 'var' sums
and the normalisation of the histograms follow the numpy path too, so the two
routes give bit-identical outputs (tests/descriptors/test_lbp.py runs the tests
of the code maps and of the transformer through both). Without numba, or with
``SKVISION_NUMBA=0``, the numpy path runs.
"""

from __future__ import annotations

import functools
import math

import numpy as np

from ._common import cell_bounds
from ._numba import numba_available

__all__ = ["histograms", "label_maps", "numba_available"]

# Mirrors of _lbp_numba's constants (that module imports numba).
_TABLE, _CODE, _UNIFORM, _NRI_UNIFORM, _ROR, _VAR = range(6)
_NORMALIZE = {None: 0, "l1": 1, "l2": 2}
#: Images narrower than this run in the lanes layout (a row is too short a loop to vectorise).
_LANES_BELOW_WIDTH = 64
#: Padded pixels x images of one block of the lanes layout (float64): 2**18 is 2 MB, 280 images of
#: 28x28; larger blocks gain nothing, smaller ones lose (bench_lbp.py).
_LANES_BLOCK = 2**18
_NO_TABLE = np.zeros(1, dtype=np.uint8)
_NO_EDGES = np.zeros(0)


@functools.lru_cache(maxsize=32)
def _plan(rows, cols, shape):
    """``(q, floors_r, floors_c, kinds, col_w0, col_w1, row_w0, row_w1)`` of ``(H, W)`` images.

    ``rows`` and ``cols`` are tuples of the neighbours' offsets in bit order; ``q`` is the
    padding; ``kinds[i]`` is 0 (integer offsets), 1 (fractional column offset), 2
    (fractional row offset) or 3 (both), with the weights of the fractional ones.
    """
    from ._lbp import _axis_weights, _border

    height, width = shape
    P = len(rows)
    floors_r = np.array([math.floor(r) for r in rows], dtype=np.int64)
    floors_c = np.array([math.floor(c) for c in cols], dtype=np.int64)
    kinds = np.zeros(P, dtype=np.int64)
    col_w0, col_w1 = np.zeros((P, width)), np.zeros((P, width))
    row_w0, row_w1 = np.zeros((P, height)), np.zeros((P, height))
    for i, (r_off, c_off) in enumerate(zip(rows, cols)):
        if c_off != floors_c[i]:
            kinds[i] += 1
            col_w0[i], col_w1[i] = _axis_weights(width, c_off)
        if r_off != floors_r[i]:
            kinds[i] += 2
            row_w0[i], row_w1[i] = _axis_weights(height, r_off)
    arrays = (floors_r, floors_c, kinds, col_w0, col_w1, row_w0, row_w1)
    for array in arrays:
        array.flags.writeable = False
    return (_border(np.asarray(rows), np.asarray(cols)), *arrays)


def _labelling(P, method, compact):
    """``(method code, table)`` of the kernels for an LBP method other than 'var'."""
    from ._lbp import _MAX_LUT_P, _label_table

    if method == "default":
        return _CODE, _NO_TABLE
    if P <= _MAX_LUT_P or (method == "ror" and compact):
        # The transformer's compact 'ror' labels (P <= 20 there) come from the table.
        return _TABLE, _label_table(P, method, compact)
    return {"uniform": _UNIFORM, "nri_uniform": _NRI_UNIFORM, "ror": _ROR}[method], _NO_TABLE


def _run(kind, images, rows, cols, method, compact, edges, grid, n_labels, normalize, out):
    from . import _lbp_numba

    # uint8 and float64 images are read as they are (one compiled variant each); others as the
    # float64 values the numpy path's buffer holds.
    images = np.ascontiguousarray(images)
    if images.dtype not in (np.uint8, np.float64):
        images = images.astype(np.float64)
    height, width = images.shape[1:]
    plan = _plan(tuple(rows), tuple(cols), (height, width))
    if method == "var":
        code, table = _VAR, _NO_TABLE
        edges = _NO_EDGES if edges is None else np.ascontiguousarray(edges, dtype=np.float64)
    else:
        (code, table), edges = _labelling(len(rows), method, compact), _NO_EDGES
    cell_rows = np.repeat(np.arange(grid[0]) * grid[1], [b - a for a, b in cell_bounds(height, grid[0])])
    cell_cols = np.repeat(np.arange(grid[1]), [b - a for a, b in cell_bounds(width, grid[1])])
    args = (*plan, code, table, len(rows), edges, cell_rows, cell_cols, grid[0] * grid[1], n_labels)
    name = f"{'var' if method == 'var' else 'code'}_{kind}"
    q = plan[0]
    padded_pixels = (height + 2 * q) * (width + 2 * q)
    if width < _LANES_BELOW_WIDTH and padded_pixels <= _LANES_BLOCK // 8:
        lanes = max(8, min(len(images), _LANES_BLOCK // padded_pixels))
        getattr(_lbp_numba, f"{name}_lanes")(images, *args, _NORMALIZE[normalize], out, lanes)
    else:
        getattr(_lbp_numba, f"{name}_rows")(images, *args, _NORMALIZE[normalize], out)


def histograms(images, rows, cols, method, edges, grid, normalize, n_labels):
    """Cell histograms of the LBP labels of ``(n, H, W)`` images: ``(n, cells * n_labels)`` float64.

    ``rows``, ``cols``: the neighbours' offsets; ``method`` as in
    :class:`~skvision.descriptors.LBP` (compact 'ror' labels); ``edges``: the
    'var' bin edges; ``grid``: ``(rows, cols)`` of cells; ``normalize``: None,
    'l1' or 'l2'.
    """
    out = np.empty((len(images), grid[0] * grid[1] * n_labels))
    _run("histograms", images, rows, cols, method, True, edges, grid, n_labels, normalize, out)
    return out


def label_maps(images, rows, cols, method):
    """scikit-image's label maps (float64) of ``(n, H, W)`` images; for 'var' the variances, NaN where 0."""
    out = np.empty(images.shape, dtype=np.float64)
    _run("maps", images, rows, cols, method, False, None, (1, 1), 1, None, out)
    return out
