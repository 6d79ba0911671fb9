"""Local binary patterns (LBP): a batched, scikit-image-exact function and a transformer.

Circular sampling follows :func:`skimage.feature.local_binary_pattern` to the
bit: neighbour ``i`` of ``P`` lies at row offset ``round(-R sin(2 pi i / P), 5)``
and column offset ``round(R cos(2 pi i / P), 5)`` (``i = 0`` to the right, then
counter-clockwise), its value is bilinearly interpolated with scikit-image's
weights (computed from the absolute sample coordinates, in the same float64
operations and order), samples outside the image read 0, and bit ``i`` of the
code (weight ``2**i``) is ``sample_i - centre >= 0``. The methods map codes
exactly as scikit-image does:

* ``'default'``: the code;
* ``'ror'``: the smallest of the ``P`` cyclic rotations of the code;
* ``'uniform'``: the number of 1 bits when the code has at most two 0/1
  transitions, else ``P + 1``;
* ``'nri_uniform'``: a distinct label in ``[0, P (P - 1) + 1]`` for each uniform
  code (scikit-image's numbering), ``P (P - 1) + 2`` for all others;
* ``'var'``: the population variance of the ``P`` sampled values (NaN where it is 0).

``sampling='square'`` is the original 3x3 operator of Ojala et al. (1994): the
8 pixels around the centre, no interpolation, bits read clockwise from the
top-left neighbour with the first bit most significant. Bit ``i`` of a square
code (weight ``2**i``) is thus the neighbour on the left, bottom-left, bottom,
bottom-right, right, top-right, top, top-left for ``i = 0 .. 7``, and the
methods act on those bits as above. Neighbours outside the image read 0, as in
circular sampling.

Implementation: the batch is cut into blocks (several small images, or bands
of rows of a large one) whose working arrays stay in cache; each block is
zero-padded once and laid out flat, so that a neighbour of every pixel of the
block is one shifted contiguous slice. The only Python loops run over blocks
and over the ``P`` neighbours. Interpolations that share a column offset share
their horizontal pass, and the per-row and per-column weights are precomputed.
Code-to-label maps are lookup tables for ``P <= 16`` and vectorised bit
arithmetic beyond; per-cell histograms are one ``bincount`` per block.
"""

from __future__ import annotations

import math
from functools import cache
from numbers import Integral, Real

import numpy as np

from .._compat import Interval, StrOptions, validate_params
from .._images import check_images, is_integer_like, to_grayscale
from . import _lbp_kernels
from ._base import DEVICE_CONSTRAINT, BaseDescriptor
from ._code_histograms import cell_histograms
from ._common import bin_part, cell_index, check_grid, format_value, grid_parts, join_names

__all__ = ["LBP", "local_binary_pattern"]

METHODS = ("default", "ror", "uniform", "nri_uniform", "var")
SAMPLINGS = ("circular", "square")

# Codes are held in unsigned integers of up to 32 bits.
_MAX_P = 32
# Above this P a code -> label table (2**P entries) costs more than the bit arithmetic.
_MAX_LUT_P = 16
# A histogram wider than this per cell is a memory accident, not a descriptor.
_MAX_BINS_PER_CELL = 2**16
# Padded pixels per block: 256 KB per float64 working array, so that the
# arrays one neighbour touches stay in a core's L2 cache.
_BLOCK_PIXELS = 2**15
# 'var' bin edges are quantiles of at most this many training values.
_VAR_FIT_SAMPLES = 2**20

# The square neighbours, least significant bit first (the course reads them
# clockwise from the top-left, most significant bit first).
_SQUARE_OFFSETS = ((0, -1), (1, -1), (1, 0), (1, 1), (0, 1), (-1, 1), (-1, 0), (-1, -1))

_LBP_CONSTRAINTS = {
    "method": [StrOptions(set(METHODS))],
    "sampling": [StrOptions(set(SAMPLINGS))],
}


# --------------------------------------------------------------------- geometry
def _check_scale(P, R, sampling):
    """Validate one (P, R) pair; return it as (int, float)."""
    if not is_integer_like(P) or not 1 <= P <= _MAX_P:
        raise ValueError(f"P must be an integer in [1, {_MAX_P}] (number of neighbours); got {P!r}.")
    if isinstance(R, bool) or not isinstance(R, Real) or not (math.isfinite(R) and R > 0):
        raise ValueError(f"R must be a positive finite number (radius in pixels); got {R!r}.")
    if sampling == "square" and (P != 8 or R != 1):
        got = f"P={P!r}" if P != 8 else f"R={R!r}"
        raise ValueError(
            f"sampling='square' is the 3x3 operator of Ojala et al. (1994): it needs P=8 and R=1; got {got}."
        )
    return int(P), float(R)


def _neighbour_offsets(P, R, sampling):
    """Row and column offsets of the neighbours, in bit order (least significant first)."""
    if sampling == "square":
        rows, cols = np.array(_SQUARE_OFFSETS, dtype=np.float64).T
        return rows, cols
    # scikit-image's expression, operation for operation (the rounding matters).
    angles = 2 * np.pi * np.arange(P, dtype=np.double) / P
    return np.round(-R * np.sin(angles), 5), np.round(R * np.cos(angles), 5)


def _border(rows, cols):
    """Pixels the sampled neighbourhood reaches beyond the centre."""
    return int(max(np.ceil(np.abs(rows)).max(), np.ceil(np.abs(cols)).max()))


def _axis_weights(length, offset):
    """Bilinear weights ``(1 - d, d)`` of samples at ``arange(length) + offset``.

    ``d`` is computed from the absolute coordinate as scikit-image does, so its
    last bits vary with the position and are reproduced exactly.
    """
    position = np.arange(length, dtype=np.float64) + offset
    fraction = position - np.floor(position)
    return 1.0 - fraction, fraction


def _code_dtype(P):
    return np.uint8 if P <= 8 else np.uint16 if P <= 16 else np.uint32


class _NeighbourSampler:
    """Exact neighbour samples of every pixel of blocks of images.

    A block is several whole images, or a band of rows of one large image, so
    that its working arrays stay small. It is copied once into a zero-padded
    float64 buffer, frame after frame, each frame ``band + 2q`` rows of
    ``Wp = W + 2q`` values, all in one 1-D array. The pixel at row ``r`` (of the
    band) and column ``c`` of frame ``k`` sits at ``k * frame + start + r * Wp + c``,
    so a neighbour at integer offset ``(dr, dc)`` of *every* pixel of the block
    is one contiguous slice shifted by ``dr * Wp + dc``: each operation is a
    single 1-D numpy call. Positions between rows and between frames are
    padding, computed and never read. Interpolation weights depend on the
    image column or row only; they are tiled over the buffer (rows again for
    each band, as the weights' last bits depend on the absolute row).
    """

    def __init__(self, rows, cols, shape, max_images, band):
        height, width = shape
        q = _border(rows, cols)
        self.shape, self.q, self.band = shape, q, band
        self.padded_width = pw = width + 2 * q
        self.frame = frame = (band + 2 * q) * pw
        self.start = q * pw + q
        size = max_images * frame
        self.padded = np.zeros(size)
        col_of = np.clip(np.arange(size) % pw - q, 0, width - 1)
        self._row_in_band = np.arange(size) % frame // pw
        self._h_weights, self._h_buffers, self._plan = {}, {}, []
        self._row_fractions, self._row_weights, self._weights_band_start = {}, {}, None
        for r_off, c_off in zip(rows, cols):
            r0, c0 = math.floor(r_off), math.floor(c_off)
            if c_off != c0:
                if c_off not in self._h_weights:
                    w0, w1 = _axis_weights(width, c_off)
                    self._h_weights[c_off] = (w0[col_of], w1[col_of], c0)
                    self._h_buffers[c_off] = np.zeros(size)
                source, shift = c_off, self.start + r0 * pw
            else:
                source, shift = None, self.start + r0 * pw + c0
            if r_off != r0:
                self._row_fractions[r_off] = _axis_weights(height, r_off)
            self._plan.append((source, shift, r_off if r_off != r0 else None))
        self._value = np.empty(size)
        self._scratch = np.empty(size)
        self.length = 0

    def load(self, block, row_start):
        """Copy rows ``row_start:row_start + band`` of a block of images in (with
        the rows around them the neighbours reach) and run the horizontal passes."""
        n = block.shape[0]
        height, width = self.shape
        q, pw, band = self.q, self.padded_width, self.band
        frames = self.padded[: n * self.frame].reshape(n, band + 2 * q, pw)
        first, last = max(0, row_start - q), min(height, row_start + band + q)
        top, bottom = first - (row_start - q), last - (row_start - q)
        frames[:, :top] = 0
        frames[:, top:bottom, q : q + width] = block[:, first:last]
        frames[:, bottom:] = 0
        rows_here = min(band, height - row_start)
        self.length = (n - 1) * self.frame + (rows_here - 1) * pw + width
        if row_start != self._weights_band_start:
            rows_of = np.minimum(row_start + self._row_in_band, height - 1)
            self._row_weights = {r: (w0[rows_of], w1[rows_of]) for r, (w0, w1) in self._row_fractions.items()}
            self._weights_band_start = row_start
        # Horizontal passes at every position a vertical pass may read.
        end = n * self.frame - q
        scratch = self._scratch[: end - q]
        for c_off, (w0, w1, c0) in self._h_weights.items():
            out = self._h_buffers[c_off][q:end]
            np.multiply(w0[q:end], self.padded[q + c0 : end + c0], out=out)
            np.multiply(w1[q:end], self.padded[q + c0 + 1 : end + c0 + 1], out=scratch)
            out += scratch

    def centre(self):
        return self.padded[self.start : self.start + self.length]

    def sample(self, i):
        """Values of neighbour ``i`` at the loaded block's positions (1-D, ``length``).

        May return an internal buffer that the next call overwrites.
        """
        length, pw = self.length, self.padded_width
        source, shift, r_off = self._plan[i]
        flat = self.padded if source is None else self._h_buffers[source]
        if r_off is None:
            return flat[shift : shift + length]
        w0, w1 = self._row_weights[r_off]
        value, scratch = self._value[:length], self._scratch[:length]
        np.multiply(w0[:length], flat[shift : shift + length], out=value)
        np.multiply(w1[:length], flat[shift + pw : shift + pw + length], out=scratch)
        value += scratch
        return value


def _iter_maps(images, rows, cols, kind):
    """Yield ``(start, stop, row_start, row_stop, maps)`` over blocks of ``images``.

    ``maps`` is a ``(stop - start, row_stop - row_start, W)`` view of the codes
    (``kind='codes'``) or of the 'var' values (``kind='var'``) of
    ``images[start:stop, row_start:row_stop]``; it lives in a buffer that the
    next block overwrites. Blocks are whole images unless an image alone
    exceeds the block size; then they are bands of rows of one image.
    """
    n_images, height, width = images.shape
    q = _border(rows, cols)
    pw = width + 2 * q
    if (height + 2 * q) * pw <= _BLOCK_PIXELS:
        band = height
        per_block = max(1, min(n_images, _BLOCK_PIXELS // ((height + 2 * q) * pw)))
    else:
        band = max(1, min(height, _BLOCK_PIXELS // pw - 2 * q))
        per_block = 1
    sampler = _NeighbourSampler(rows, cols, (height, width), per_block, band)
    P, frame = len(rows), sampler.frame
    if kind == "codes":
        result = np.zeros(per_block * frame, dtype=_code_dtype(P))
        bits = np.empty(per_block * frame, dtype=bool)
    else:
        result = np.zeros(per_block * frame)
        total = np.empty(per_block * frame)
        square = np.empty(per_block * frame)
    for start in range(0, n_images, per_block):
        stop = min(start + per_block, n_images)
        n = stop - start
        for row_start in range(0, height, band):
            row_stop = min(row_start + band, height)
            sampler.load(images[start:stop], row_start)
            length = sampler.length
            acc = result[:length]
            if kind == "codes":
                centre, hit = sampler.centre(), bits[:length]
                # Horner's scheme, most significant bit first: code = 2 * code | bit.
                acc.fill(0)
                for i in range(P - 1, -1, -1):
                    np.greater_equal(sampler.sample(i), centre, out=hit)
                    np.add(acc, acc, out=acc)
                    np.bitwise_or(acc, hit.view(np.uint8), out=acc)
            else:
                # scikit-image's sums, in its order: sum(t), sum(t * t), then the variance.
                s, sq, sq_i = total[:length], acc, square[:length]
                for i in range(P):
                    value = sampler.sample(i)
                    if i == 0:
                        np.copyto(s, value)
                        np.multiply(value, value, out=sq)
                    else:
                        s += value
                        np.multiply(value, value, out=sq_i)
                        sq += sq_i
                np.multiply(s, s, out=s)
                s /= P
                sq -= s
                sq /= P
                sq[sq == 0] = np.nan
            frames = result[: n * frame].reshape(n, band + 2 * q, pw)
            yield start, stop, row_start, row_stop, frames[:, : row_stop - row_start, :width]


# ----------------------------------------------------------- code -> label maps
def _popcount(x):
    """Number of 1 bits of non-negative integers below 2**32 (numpy or torch int64)."""
    x = x - ((x >> 1) & 0x55555555)
    x = (x & 0x33333333) + ((x >> 2) & 0x33333333)
    x = (x + (x >> 4)) & 0x0F0F0F0F
    return ((x * 0x01010101) & 0xFFFFFFFF) >> 24


def _method_values(codes, P, method, where):
    """scikit-image's label of each ``'default'`` code, by bit arithmetic.

    ``codes`` is an int64 numpy array or torch tensor; ``where`` is the matching
    ``np.where`` or ``torch.where``.
    """
    if method == "default":
        return codes
    if method == "ror":
        best, rotated = codes, codes
        for _ in range(P - 1):
            rotated = (rotated >> 1) | ((rotated & 1) << (P - 1))
            best = where(rotated < best, rotated, best)
        return best
    n_ones = _popcount(codes)
    # scikit-image counts transitions between bits i and i + 1 only (not P-1 -> 0);
    # transitions around a circle are even, so "at most 2" means the same.
    changes = _popcount((codes ^ (codes >> 1)) & ((1 << (P - 1)) - 1))
    if method == "uniform":
        return where(changes <= 2, n_ones, P + 1)
    # 'nri_uniform': uniform codes with 0 < n_ones < P are numbered by n_ones and
    # by how far the run of ones is rotated from the lowest bits.
    first_one = _popcount((codes & -codes) - 1)
    zeros = ~codes & ((1 << P) - 1)
    first_zero = _popcount((zeros & -zeros) - 1)
    rotation = where(first_one == 0, n_ones - first_zero, P - first_one)
    label = 1 + (n_ones - 1) * P + rotation
    label = where(n_ones == 0, 0, where(n_ones == P, P * (P - 1) + 1, label))
    return where(changes <= 2, label, P * (P - 1) + 2)


@cache
def _ror_classes(P):
    """Sorted smallest rotations: one per rotation class of P-bit codes."""
    return np.unique(_method_values(np.arange(2**P, dtype=np.int64), P, "ror", np.where))


@cache
def _label_table(P, method, compact):
    """Read-only lookup table code -> label (``compact``: ror classes numbered 0, 1, ...)."""
    labels = _method_values(np.arange(2**P, dtype=np.int64), P, method, np.where)
    if compact and method == "ror":
        labels = np.searchsorted(_ror_classes(P), labels)
    table = labels.astype(np.min_scalar_type(int(labels.max())))
    table.flags.writeable = False
    return table


def _labels(codes, P, method, compact):
    """Labels of a (non-'var') method for a numpy array of codes."""
    if method == "default":
        return codes
    if P <= _MAX_LUT_P:
        return np.take(_label_table(P, method, compact), codes)
    labels = _method_values(codes.astype(np.int64), P, method, np.where)
    if compact and method == "ror":
        labels = np.searchsorted(_ror_classes(P), labels)
    return labels


def _n_labels(P, method, n_bins):
    """Histogram bins per cell of a method."""
    if method == "default":
        return 2**P
    if method == "ror":
        return len(_ror_classes(P))
    if method == "uniform":
        return P + 2
    if method == "nri_uniform":
        return P * (P - 1) + 3
    return n_bins


def _normalized(counts, normalize):
    """``(n, cells, bins)`` counts -> ``(n, cells * bins)`` float64 histograms, normalised per cell."""
    hist = counts.astype(np.float64)
    if normalize == "l1":
        hist /= hist.sum(axis=-1, keepdims=True)
    elif normalize == "l2":
        hist /= np.sqrt((hist * hist).sum(axis=-1, keepdims=True))
    return hist.reshape(len(hist), -1)


# ------------------------------------------------------------------ torch path
def _torch_samples(images, rows, cols):
    """Yield neighbour samples in bit order, with the numpy path's float64 operations."""
    import torch

    n, height, width = images.shape
    q = _border(rows, cols)
    padded = torch.nn.functional.pad(images, (q, q, q, q))

    def as_tensor(array):
        return torch.as_tensor(array, dtype=images.dtype, device=images.device)

    def window(r, c):
        return padded[:, q + r : q + r + height, q + c : q + c + width]

    for r_off, c_off in zip(rows, cols):
        r0, c0 = math.floor(r_off), math.floor(c_off)
        rows_needed = (0, 1) if r_off != r0 else (0,)
        if c_off != c0:
            w0, w1 = (as_tensor(w) for w in _axis_weights(width, c_off))
            lines = [w0 * window(r0 + k, c0) + w1 * window(r0 + k, c0 + 1) for k in rows_needed]
        else:
            lines = [window(r0 + k, c0) for k in rows_needed]
        if r_off != r0:
            w0, w1 = (as_tensor(w)[:, None] for w in _axis_weights(height, r_off))
            yield w0 * lines[0] + w1 * lines[1]
        else:
            yield lines[0]


def _torch_labels(images, rows, cols, method, bin_edges=None):
    """Histogram labels of ``images`` (a float64 tensor) for one scale, on its device."""
    import torch

    P = len(rows)
    if method == "var":
        total = square = None
        for value in _torch_samples(images, rows, cols):
            total = value.clone() if total is None else total + value
            square = value * value if square is None else square + value * value
        var = (square - total * total / P) / P
        # A zero variance (NaN in the numpy code maps) counts as 0 on every path; bin k holds
        # edges[k - 1] < var <= edges[k] (see LBP._describe).
        return torch.bucketize(var, torch.as_tensor(bin_edges, device=images.device), right=False)
    codes = torch.zeros(images.shape, dtype=torch.int64, device=images.device)
    for i, value in enumerate(_torch_samples(images, rows, cols)):
        codes |= (value >= images).long() << i
    if method == "default":
        return codes
    if P <= _MAX_LUT_P:
        table = torch.as_tensor(_label_table(P, method, True).astype(np.int64), device=images.device)
        return table[codes]
    labels = _method_values(codes, P, method, torch.where)
    if method == "ror":
        classes = torch.as_tensor(_ror_classes(P), device=images.device)
        labels = torch.searchsorted(classes, labels)
    return labels


# ---------------------------------------------------------------- functional API
@validate_params(
    {
        "images": ["array-like"],
        "P": [Interval(Integral, 1, _MAX_P, closed="both")],
        "R": [Interval(Real, 0, None, closed="neither")],
        **_LBP_CONSTRAINTS,
    },
    prefer_skip_nested_validation=True,
)
def local_binary_pattern(images, P, R, method="default", sampling="circular"):
    """LBP code maps of a batch of images, equal per image to scikit-image's.

    ``local_binary_pattern(images, P, R, method)[k]`` equals
    ``skimage.feature.local_binary_pattern(images[k], P, R, method)`` for every
    method: integer codes identically, 'var' values to float rounding (the same
    operations in the same order; NaN where the variance is 0). Two exceptions:
    boolean images are read as 0 / 255 (skvision's rule for every descriptor),
    so their 'var' values are 255**2 times scikit-image's on 0 / 1; and at
    ``P=32`` scikit-image's int32 codes overflow (negative 'default' codes, wrong
    'ror' ones) where these are the codes of the definition, up to 2**32 - 1.

    Parameters
    ----------
    images : array-like of shape (N, H, W) or (N, H, W, C), or list of arrays
        Colour images are converted to grey levels (luminance).
    P : int in [1, 32]
        Number of neighbours. Must be 8 for ``sampling='square'``.
    R : float > 0
        Radius of the circle of neighbours, in pixels. Must be 1 for
        ``sampling='square'``.
    method : {'default', 'ror', 'uniform', 'nri_uniform', 'var'}, default='default'
        Code-to-label mapping; see the module notes.
    sampling : {'circular', 'square'}, default='circular'
        scikit-image's interpolated circle, or the 3x3 square of Ojala et al.
        (1994) read clockwise from the top-left neighbour, first bit most
        significant.

    Returns
    -------
    lbp : ndarray of shape (N, H, W), float64
        Integer-valued labels, or the local variance for ``method='var'``
        (float64 like scikit-image's output).

    Raises
    ------
    ValueError
        Invalid parameters (named in the message); images smaller than the
        neighbourhood (``2 * ceil(R) + 1`` pixels a side).

    Examples
    --------
    >>> import numpy as np
    >>> from skvision.descriptors import local_binary_pattern
    >>> patch = np.array([[[35, 47, 33], [8, 12, 10], [17, 21, 5]]], dtype=np.uint8)
    >>> int(local_binary_pattern(patch, 8, 1, sampling="square")[0, 1, 1])  # 0b11100110
    230
    >>> local_binary_pattern(np.zeros((2, 16, 16)), 16, 2, method="uniform").shape
    (2, 16, 16)
    """
    P, R = _check_scale(P, R, sampling)
    rows, cols = _neighbour_offsets(P, R, sampling)
    side = 2 * _border(rows, cols) + 1
    images = check_images(images, min_size=(side, side), min_size_reason=f"P={P}, R={R:g}")
    images = to_grayscale(images)
    if _lbp_kernels.numba_available():
        return _lbp_kernels.label_maps(images, rows, cols, method)
    out = np.empty(images.shape, dtype=np.float64)
    kind = "var" if method == "var" else "codes"
    for start, stop, row_start, row_stop, maps in _iter_maps(images, rows, cols, kind):
        labels = maps if kind == "var" else _labels(maps, P, method, compact=False)
        out[start:stop, row_start:row_stop] = labels
    return out


# ------------------------------------------------------------------ transformer
class LBP(BaseDescriptor):
    """Local binary pattern histograms over a grid of cells, at one or more scales.

    Each image is turned into LBP labels (see :func:`local_binary_pattern`) and
    described by the histogram of its labels in each cell of a ``grid``, for
    each ``(P, R)`` scale; the histograms are concatenated. Every pixel counts,
    the border ones included (their outside neighbours read 0, as in
    scikit-image).

    Parameters
    ----------
    P : int or sequence of int, default=8
        Number of neighbours, 1 to 32. A sequence gives several scales.
    R : float or sequence of float, default=1
        Radius of each scale, > 0. ``P`` and ``R`` pair up element by element
        (``P=[8, 16], R=[1, 2]`` is two scales); a single value is repeated to
        the length of the other.
    method : {'default', 'ror', 'uniform', 'nri_uniform', 'var'}, default='uniform'
        Labels, and the bins of each cell histogram: ``2**P`` for 'default'
        (P <= 16), one per rotation class for 'ror' (36 for P=8; P <= 20),
        ``P + 2`` for 'uniform', ``P (P - 1) + 3`` for 'nri_uniform', ``n_bins``
        for 'var'.
    sampling : {'circular', 'square'}, default='circular'
        See :func:`local_binary_pattern`; 'square' needs ``P=8, R=1``.
    grid : int or (int, int), default=(1, 1)
        Cells along the rows and the columns; the cells split the image as
        evenly as integers allow (sizes differ by at most one pixel).
    normalize : {'l1', 'l2', 'none'} or None, default='l1'
        Per-cell normalisation: unit sum, unit Euclidean norm, or raw counts.
    n_bins : int >= 2, default=16
        Bins of the 'var' histograms; their edges are quantiles of the training
        variances learned in ``fit``, and bin ``k`` holds the variances ``v``
        with ``edges[k - 1] < v <= edges[k]``: a zero variance (NaN in the code
        map) counts in the lowest bin. Where many training variances are equal
        (flat areas give many zeros), edges coincide and the bins between them
        stay empty. Variances are of intensities on the 8-bit scale, read by
        the value-scale rule of :mod:`skvision._images`, so that uint8 ``X`` and
        float ``X / 255`` agree. With ``channels='each'`` one set of edges is
        learned from the variances of every channel together, so that a bin
        means the same variance in each channel's histogram.
    channels : {'gray', 'each'}, default='gray'
        Describe the luminance, or each channel separately and concatenate.
        'var' bin edges are shared by the channels.
    n_jobs : int or None, default=None
        Threads over chunks of images in ``transform`` (``None``: 1 unless inside
        ``joblib.parallel_config``); work too small to gain from a second core
        runs in one thread, and ``joblib.parallel_config(backend=...)`` sends the
        chunks to that backend. The output is identical whatever ``n_jobs``.
    batch_size : int or None, default=None
        Images per chunk (bounds memory); ``None`` picks one from the image size.
    device : str, default='cpu'
        Where the work runs ("GPUs" in docs/scaling.md): ``'cpu'`` runs the
        numpy/numba code; ``'cuda'`` and ``'cuda:N'`` run the torch
        implementation on that GPU; ``'auto'`` (or None) takes a CUDA GPU when
        torch sees one, else the CPU. The outputs are identical ('var'
        within float rounding).
    verbose : int, default=0
        Show a progress bar over chunks.

    Attributes
    ----------
    input_scale_ : ImageScale
        Value scale of the images seen in ``fit`` (see :mod:`skvision._images`).
    image_shape_ : tuple
        Shape of one image seen in ``fit``.
    n_channels_ : int
        Channels of the images seen in ``fit``.
    var_bin_edges_ : list of ndarray or None
        For ``method='var'``: the ``n_bins - 1`` inner bin edges of each scale.
    n_features_out_ : int
        Length of the feature vector.

    See Also
    --------
    local_binary_pattern : The code maps.

    Notes
    -----
    Features are ordered by scale, then cell (row-major), then label, and
    named ``lbp_cell{row}_{col}_P{P}_R{R}_bin{label}`` after the scheme of
    :mod:`skvision.descriptors` (a ``c{channel}_`` after ``lbp_`` for
    ``channels='each'``; no cell part for a single cell). The smallest image is
    ``2 * ceil(R) + 1`` pixels a side for the largest ``R`` (one pixel whose
    neighbours all lie inside), and at least one pixel per cell.

    Float images whose values are all 8-bit levels on the [0, 1] scale
    (``X / 255``, what ``skimage.img_as_float`` makes of uint8 ``X``) are
    described on the levels, image by image: they get exactly the histograms
    of uint8 ``X``. On the [0, 1] scale the interpolated neighbours of equal
    pixels land an ulp off the centre and some comparisons flip: scikit-image's
    ``local_binary_pattern`` flips them (and warns of float images), and so
    does :func:`local_binary_pattern`, which follows it image for image. Other
    float images are described as they are.

    Examples
    --------
    >>> from skvision import LBP
    >>> from skvision.datasets import load_textures
    >>> X, y = load_textures(patch_size=32, n_per_class=4, return_X_y=True)
    >>> lbp = LBP(P=8, R=1, method="uniform", grid=(2, 2)).fit(X)
    >>> lbp.transform(X).shape
    (12, 40)
    >>> lbp.get_feature_names_out()[:2].tolist()
    ['lbp_cell0_0_P8_R1_bin0', 'lbp_cell0_0_P8_R1_bin1']
    """

    _parameter_constraints: dict = {
        **BaseDescriptor._parameter_constraints,
        "device": DEVICE_CONSTRAINT,
        "P": [Interval(Integral, 1, _MAX_P, closed="both"), "array-like"],
        "R": [Interval(Real, 0, None, closed="neither"), "array-like"],
        **_LBP_CONSTRAINTS,
        "grid": [Interval(Integral, 1, None, closed="left"), tuple, list],
        "normalize": [StrOptions({"l1", "l2", "none"}), None],
        "n_bins": [Interval(Integral, 2, None, closed="left")],
    }

    _feature_prefix = "lbp"
    # The histograms' normalisation only rescales the counts: it may change after fit.
    _FREE_AFTER_FIT = frozenset({"normalize"})
    # Compiled kernel, P=8, one scale; scaled by the sum of P over the scales.
    _PIXEL_COST_NS = 4.0
    # X / 255 as X: equal pixels interpolate an ulp off the centre on [0, 1], and codes flip.
    _reads_copies_as_levels = True
    # Planes arrive in their own dtype; the sampler converts block by block.
    _describe_dtype = None

    def _working_white(self):
        # Codes compare a pixel with its neighbours, which no value scale changes (but for rounding
        # ties of interpolated neighbours: X / 255 is read as the uint8 X, _reads_copies_as_levels):
        # nothing to convert or check. The variances of 'var' are on the 8-bit scale, whatever the
        # dtype (skvision._images).
        return 255.0 if self.method == "var" else None

    def __init__(
        self,
        P=8,
        R=1,
        *,
        method="uniform",
        sampling="circular",
        grid=(1, 1),
        normalize="l1",
        n_bins=16,
        channels="gray",
        n_jobs=None,
        batch_size=None,
        device="cpu",
        verbose=0,
    ):
        self.P = P
        self.R = R
        self.method = method
        self.sampling = sampling
        self.grid = grid
        self.normalize = normalize
        self.n_bins = n_bins
        self.channels = channels
        self.n_jobs = n_jobs
        self.batch_size = batch_size
        self.device = device
        self.verbose = verbose

    # ------------------------------------------------------------- parameters
    def _scales(self):
        """The validated ``[(P, R), ...]`` pairs."""
        Ps = [self.P] if np.ndim(self.P) == 0 else list(np.asarray(self.P).tolist())
        Rs = [self.R] if np.ndim(self.R) == 0 else list(np.asarray(self.R).tolist())
        if not Ps or not Rs:
            raise ValueError(f"P and R must not be empty; got P={self.P!r}, R={self.R!r}.")
        if len(Ps) == 1:
            Ps = Ps * len(Rs)
        if len(Rs) == 1:
            Rs = Rs * len(Ps)
        if len(Ps) != len(Rs):
            raise ValueError(
                f"P and R must have the same length (one (P, R) pair per scale); "
                f"got {len(Ps)} values of P and {len(Rs)} of R."
            )
        scales = [_check_scale(p, r, self.sampling) for p, r in zip(Ps, Rs)]
        if len(set(scales)) != len(scales):
            raise ValueError(f"The (P, R) scales must be distinct; got P={self.P!r}, R={self.R!r}.")
        for P, _ in scales:
            limit = {"default": 16, "ror": 20}.get(self.method)
            if limit is not None and P > limit:
                raise ValueError(
                    f"method={self.method!r} with P={P} would give more than "
                    f"{_MAX_BINS_PER_CELL:,} histogram bins per cell; use P <= {limit} "
                    "or method='uniform', 'nri_uniform' or 'var'."
                )
        return scales

    def _check_params(self):
        self._scales()
        check_grid(self.grid)

    def _neighbourhood_side(self):
        return max(2 * _border(*_neighbour_offsets(P, R, self.sampling)) + 1 for P, R in self._scales())

    def _min_image_size(self):
        side = self._neighbourhood_side()
        rows, cols = check_grid(self.grid)
        return (max(side, rows), max(side, cols))

    def _pixel_cost_ns(self):
        return self._PIXEL_COST_NS * sum(P for P, _ in self._scales()) / 8

    def _min_image_size_reason(self):
        side = self._neighbourhood_side()
        return f"P={self.P!r}, R={self.R!r} (a {side}x{side} neighbourhood) and grid={self.grid!r}"

    def _normalization(self):
        return None if self.normalize == "none" else self.normalize

    # ---------------------------------------------------------------- fitting
    def _fit_images(self, images):
        self.var_bin_edges_ = None
        if self.method != "var":
            return
        planes = [plane for _, plane in self._planes(images)]
        total = sum(plane.size for plane in planes)
        keep = min(1.0, _VAR_FIT_SAMPLES / total)
        quantiles = np.arange(1, self.n_bins) / self.n_bins
        edges = []
        for P, R in self._scales():
            rows, cols = _neighbour_offsets(P, R, self.sampling)
            rng = np.random.default_rng(0)
            values = []
            for plane in planes:
                for *_, var in _iter_maps(plane, rows, cols, "var"):
                    var = var.flatten()  # a copy: the next block reuses the buffer
                    values.append(var if keep == 1.0 else var[rng.random(var.size) < keep])
            values = np.nan_to_num(np.concatenate(values), nan=0.0)
            edges.append(np.quantile(values, quantiles))
        self.var_bin_edges_ = edges

    # ---------------------------------------------------------------- describe
    def _describe(self, images):
        if _lbp_kernels.numba_available():
            return self._describe_compiled(images)
        n, height, width = images.shape
        grid = check_grid(self.grid)
        n_cells = grid[0] * grid[1]
        cell_of = cell_index((height, width), grid)
        parts = []
        for k, (P, R) in enumerate(self._scales()):
            rows, cols = _neighbour_offsets(P, R, self.sampling)
            n_labels = _n_labels(P, self.method, self.n_bins)
            kind = "var" if self.method == "var" else "codes"
            counts = np.zeros((n, n_cells * n_labels), dtype=np.int64)
            bin_of, bin_rows = None, None
            for start, stop, row_start, row_stop, maps in _iter_maps(images, rows, cols, kind):
                if kind == "var":
                    maps = np.nan_to_num(maps, nan=0.0)
                    # Bin k holds edges[k - 1] < var <= edges[k]: the edges are training quantiles, and
                    # where many training variances tie (flat areas: zeros) several edges equal the tied
                    # value; searching from the left puts it in the lowest of the bins those edges close
                    # (zero variance in bin 0), where the right would skip the bins between them.
                    labels = np.searchsorted(self.var_bin_edges_[k], maps, side="left")
                else:
                    labels = _labels(maps, P, self.method, compact=True)
                m = stop - start
                if bin_rows != (row_start, row_stop) or bin_of.shape[0] < m:
                    # First bin of each pixel's cell, per image of the block: one
                    # bincount then counts every (image, cell, label) at once.
                    first_bin = cell_of[row_start:row_stop] * n_labels
                    bin_of = np.arange(m)[:, None, None] * (n_cells * n_labels) + first_bin
                    bin_rows = (row_start, row_stop)
                flat = (bin_of[:m] + labels).ravel()
                counts[start:stop] += np.bincount(flat, minlength=m * n_cells * n_labels).reshape(m, -1)
            parts.append(_normalized(counts.reshape(n, n_cells, n_labels), self._normalization()))
        return parts[0] if len(parts) == 1 else np.concatenate(parts, axis=1)

    def _describe_compiled(self, images):
        grid = check_grid(self.grid)
        parts = []
        for k, (P, R) in enumerate(self._scales()):
            rows, cols = _neighbour_offsets(P, R, self.sampling)
            edges = None
            if self.method == "var":
                # The kernel counts the edges <= var (searchsorted's 'right'); each edge moved to the
                # next float up makes that the count of edges < var, the binning of _describe.
                edges = np.nextafter(self.var_bin_edges_[k], np.inf)
            n_labels = _n_labels(P, self.method, self.n_bins)
            if edges is not None and len(edges) >= n_labels:
                # The kernel writes bin len(edges) unchecked: never past the histogram.
                raise ValueError(
                    f"LBP was fitted with {len(edges) + 1} variance bins but n_bins is now {self.n_bins}; "
                    "fit it again."
                )
            parts.append(
                _lbp_kernels.histograms(
                    images, rows, cols, self.method, edges, grid, self._normalization(), n_labels
                )
            )
        return parts[0] if len(parts) == 1 else np.concatenate(parts, axis=1)

    def _describe_torch(self, images):
        import torch

        grid = check_grid(self.grid)
        parts = []
        for k, (P, R) in enumerate(self._scales()):
            rows, cols = _neighbour_offsets(P, R, self.sampling)
            edges = self.var_bin_edges_[k] if self.method == "var" else None
            labels = _torch_labels(images, rows, cols, self.method, edges)
            n_labels = _n_labels(P, self.method, self.n_bins)
            parts.append(cell_histograms(labels, n_labels, grid, self._normalization()))
        return torch.cat(parts, dim=1)

    def _plane_feature_names(self):
        # Columns run over the scales, then the cells, then the labels.
        cells = grid_parts("cell", *check_grid(self.grid))
        names = []
        for P, R in self._scales():
            labels = [bin_part(b) for b in range(_n_labels(P, self.method, self.n_bins))]
            names += join_names(cells, [f"P{P}_R{format_value(R)}"], labels)
        return names
