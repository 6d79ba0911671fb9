"""HOG's lookup tables for 8-bit images: a leaf module read by the numpy path and the compiled kernel.

The gradients of 8-bit images are integers in ``[-LUT_RADIUS, LUT_RADIUS]``, so the
orientation bin and the magnitude of every possible gradient are computed once,
with scikit-image's formulas, and looked up afterwards. :mod:`skvision.descriptors._hog`
(numpy) and :mod:`skvision.descriptors._hog_numba` (numba) both import from here;
this module imports neither.
"""

from __future__ import annotations

import functools

import numpy as np

__all__ = [
    "LUT_RADIUS",
    "LUT_SIDE",
    "bin_edges",
    "uint8_lookup",
    "uint8_magnitude_quarter",
    "uint8_magnitudes",
]

#: Gradients of 8-bit images lie in [-LUT_RADIUS, LUT_RADIUS].
LUT_RADIUS = 255
#: Side of the tables: one row (column) per possible row (column) gradient.
LUT_SIDE = 2 * LUT_RADIUS + 1


def bin_edges(orientations, signed):
    """Orientation bin edges in degrees, exactly as scikit-image computes them: ``(180 / n) * i``.

    ``signed`` spreads the bins over 360 degrees instead of 180.
    """
    period = 360.0 if signed else 180.0
    return (period / orientations) * np.arange(orientations + 1, dtype=np.float64)


@functools.lru_cache(maxsize=1)
def uint8_magnitudes():
    """``(511, 511)`` read-only table: the magnitude ``hypot(g_col, g_row)`` of every
    integer gradient in [-255, 255]^2, indexed ``[g_row + 255, g_col + 255]``."""
    values = np.arange(-LUT_RADIUS, LUT_RADIUS + 1, dtype=np.float64)
    magnitude = np.hypot(values[np.newaxis, :], values[:, np.newaxis])
    magnitude.flags.writeable = False
    return magnitude


@functools.lru_cache(maxsize=1)
def uint8_magnitude_quarter():
    """The ``g_row, g_col >= 0`` quarter of :func:`uint8_magnitudes`, ``(256, 256)``, contiguous.

    ``hypot`` ignores signs, so it serves every gradient as ``[|g_row|, |g_col|]``
    (the compiled kernel's table: a quarter of the cache).
    """
    return np.ascontiguousarray(uint8_magnitudes()[LUT_RADIUS:, LUT_RADIUS:])


@functools.lru_cache(maxsize=16)
def uint8_lookup(orientations, signed, weighting):
    """Bin and magnitude of every integer gradient in [-255, 255]^2, as scikit-image computes them.

    Returns the flat ``(511 * 511,)`` bins (``orientations`` for a zero gradient under
    ``weighting='count'``: in no bin) and magnitudes, keyed by
    ``511 * (g_row + 255) + (g_col + 255)``. The bins are built in bands of rows so
    that their temporaries stay small next to the table.
    """
    period = 360.0 if signed else 180.0
    edges = bin_edges(orientations, signed)
    values = np.arange(-LUT_RADIUS, LUT_RADIUS + 1, dtype=np.float64)
    side = values.size
    bins = np.empty((side, side), dtype=np.uint8 if orientations < 255 else np.intp)
    band = 64
    for start in range(0, side, band):
        g_row, g_col = values[start : start + band, np.newaxis], values[np.newaxis, :]
        angle = np.rad2deg(np.arctan2(g_row, g_col)) % period
        bins[start : start + band] = np.searchsorted(edges, angle, side="right") - 1
    magnitude = uint8_magnitudes()
    if weighting == "count":
        bins[magnitude == 0] = orientations
    return bins.ravel(), magnitude.ravel()
