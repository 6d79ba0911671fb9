"""Local phase quantisation (LPQ), Ojansivu & Heikkilä (2008).

The short-term Fourier transform (STFT) of the image over a ``w x w`` window is
taken at four low frequencies, ``u1 = (a, 0)``, ``u2 = (0, a)``, ``u3 = (a, a)``,
``u4 = (-a, a)`` in ``(x, y)`` with ``a = 1/w`` (the paper's ``(a, -a)`` is the
same frequency with the imaginary part's sign flipped; the reference code takes
``(-a, a)``). The signs of the real and imaginary parts of
those four coefficients give eight bits, an 8-bit code per pixel, and an image
is described by the 256-bin histograms of its codes over a grid of cells.

The phase of these low frequencies is unchanged by a centrally symmetric blur
(the blur's transfer function is real and, for a mild blur, positive there), so
LPQ codes are largely blur invariant, which LBP codes are not.

The eight coefficients of neighbouring pixels are correlated; with
``decorrelate=True`` they are whitened first under the model of the paper: pixel
values within the window correlate as ``rho ** distance``. The whitening matrix
is the right singular vectors of the resulting 8x8 covariance (scaled by an
almost-identity diagonal so that repeated eigenvalues cannot make it ambiguous,
as in the authors' reference code). Singular vectors are defined up to sign;
skvision fixes each sign so that its largest entry is positive, which makes the
codes the same on every platform (a sign flip only permutes histogram bins).

Conventions follow the authors' MATLAB ``lpq.m``: the STFT is a true
convolution over the 'valid' part of the image (the code map is
``(H - w + 1) x (W - w + 1)``), and bit ``j`` of the code is the sign of
coefficient ``j`` in the order Re F1, Im F1, Re F2, Im F2, Re F3, Im F3, Re F4,
Im F4 (F1 along the columns ``x``, F2 along the rows ``y``).

Where numba is installed (the ``fast`` extra) and not turned off with
``SKVISION_NUMBA=0``, a compiled kernel (:mod:`._lpq_numba`) makes the codes of
each image in one pass, counting them per cell as it goes; it repeats this
module's float64 sums in their order (the 8x8 mixing included, which is why
:func:`_mix` is an ordered sum and not a BLAS product), so both routes give the
same codes bit for bit, about 3-4x faster and splitting over ``n_jobs`` threads.
"""

from __future__ import annotations

from numbers import Integral, Real

import numpy as np

from .._compat import Interval, StrOptions, validate_params
from .._images import check_images, to_grayscale
from ._base import BaseDescriptor
from ._code_histograms import (
    _RELATIVE_SIGN_TOLERANCE,
    CodeHistogramDescriptor,
    normalized_histograms,
    sign_tolerance,
)
from ._common import cell_index, check_grid, check_odd_size
from ._numba import numba_available

__all__ = ["LPQ", "local_phase_quantization"]

_N_COEFFICIENTS = 8
# The authors' tie-breaking diagonal: distinct, almost-one scales of the 8 coefficients.
_TIE_BREAK = np.array([1.000007, 1.000006, 1.000005, 1.000004, 1.000003, 1.000002, 1.000001, 1.0])


def _window_vectors(window_size, window):
    """1-D filters ``w0`` (DC) and ``w1 = c - i s`` (frequency 1/w) of the separable STFT."""
    radius = (window_size - 1) // 2
    x = np.arange(-radius, radius + 1, dtype=np.float64)
    phase = 2.0 * np.pi * x / window_size
    if window == "uniform":
        w0 = np.ones_like(x)
        w1 = np.exp(-1j * phase)
    else:
        # Gaussian window of the reference code: sigma = (w - 1) / 4, and the
        # windowed complex exponential made zero-mean so it ignores the local mean.
        sigma = (window_size - 1) / 4.0
        w0 = np.exp(-0.5 * (x / sigma) ** 2) / (np.sqrt(2.0 * np.pi) * sigma)
        w1 = w0 * np.exp(-1j * phase)
        w1 = w1 - w1.mean()
    return w0, w1.real, -w1.imag


def _coefficient_kernels(w0, c, s):
    """The eight real 2-D convolution kernels ``[y, x]`` of Re/Im F1..F4."""
    outer = np.multiply.outer
    return np.stack(
        [
            outer(w0, c),
            -outer(w0, s),
            outer(c, w0),
            -outer(s, w0),
            outer(c, c) - outer(s, s),
            -(outer(c, s) + outer(s, c)),
            outer(c, c) + outer(s, s),
            outer(c, s) - outer(s, c),
        ]
    )


def _whitening(kernels, rho):
    """8x8 matrix that decorrelates the coefficients under the ``rho ** distance`` model."""
    size = kernels.shape[1]
    yy, xx = np.mgrid[:size, :size]
    positions = np.column_stack([yy.ravel(), xx.ravel()]).astype(np.float64)
    distances = np.sqrt(((positions[:, None, :] - positions[None, :, :]) ** 2).sum(-1))
    pixel_correlation = rho**distances
    flat = kernels.reshape(_N_COEFFICIENTS, -1)
    covariance = flat @ pixel_correlation @ flat.T
    scaled = _TIE_BREAK[:, None] * covariance * _TIE_BREAK[None, :]
    _, _, vt = np.linalg.svd(scaled)
    # Fix the sign of each singular vector: largest-magnitude entry positive.
    signs = np.sign(vt[np.arange(_N_COEFFICIENTS), np.abs(vt).argmax(axis=1)])
    return vt * signs[:, None]


def _lpq_model(window_size, window, decorrelate, rho):
    """Separable 1-D filters, the 8x8 mixing applied to the raw coefficients, and
    the equivalent 2-D kernels (mixing folded in)."""
    w0, c, s = _window_vectors(window_size, window)
    kernels = _coefficient_kernels(w0, c, s)
    mixing = _whitening(kernels, rho) if decorrelate else np.eye(_N_COEFFICIENTS)
    mixed_kernels = np.tensordot(mixing, kernels, axes=1)
    return (w0, c, s), mixing, mixed_kernels


def _convolve_valid(images, kernel, axis):
    """True 1-D convolution along ``axis`` (1 rows, 2 columns), 'valid' part only."""
    length = kernel.shape[0]
    n_out = images.shape[axis] - length + 1
    out = term = None
    for k in range(length):
        part = images[:, k : k + n_out] if axis == 1 else images[:, :, k : k + n_out]
        if out is None:
            out = kernel[length - 1 - k] * part
            term = np.empty_like(out)
        else:
            # In place, the same sums in the same order as out = out + term: two arrays
            # stay in cache instead of two new ones per tap.
            np.multiply(kernel[length - 1 - k], part, out=term)
            out += term
    return out


def _mix(mixing, raw):
    """``mixing @ raw`` over the first axis, each row summed left to right.

    Not a BLAS ``tensordot``: its summation order (and use of fused multiply-adds)
    depends on the BLAS build and the CPU, and the compiled kernel
    (:mod:`._lpq_numba`) reproduces this order exactly.
    """
    out = np.empty_like(raw)
    term = np.empty_like(raw[0])
    for row in range(_N_COEFFICIENTS):
        np.multiply(mixing[row, 0], raw[0], out=out[row])
        for col in range(1, _N_COEFFICIENTS):
            np.multiply(mixing[row, col], raw[col], out=term)
            out[row] += term
    return out


def _codes_from_coefficients(coefficients, tolerance):
    """Pack ``coefficients[j] > tolerance`` into bit ``j`` of a uint8 code."""
    codes = np.zeros(coefficients.shape[1:], dtype=np.uint8)
    for j in range(_N_COEFFICIENTS):
        codes |= (coefficients[j] > tolerance).astype(np.uint8) << j
    return codes


def _lpq_codes(images, window_size, window, decorrelate, rho):
    """LPQ codes of a float64 ``(n, H, W)`` stack (parameters already validated)."""
    (w0, c, s), mixing, mixed_kernels = _lpq_model(window_size, window, decorrelate, rho)
    l1_norm = np.abs(mixed_kernels).sum(axis=(1, 2)).max()
    if numba_available():
        from ._lpq_numba import lpq_codes_into

        n, height, width = images.shape
        codes = np.empty((n, height - window_size + 1, width - window_size + 1), dtype=np.uint8)
        lpq_codes_into(images, w0, c, s, mixing, _tolerance_factor(l1_norm), codes)
        return codes
    by_row = {name: _convolve_valid(images, v, axis=1) for name, v in (("0", w0), ("c", c), ("s", s))}

    def separable(row, col):
        return _convolve_valid(by_row[row], col, axis=2)

    y0xc, y0xs = separable("0", c), separable("0", s)
    ycx0, ysx0 = separable("c", w0), separable("s", w0)
    ycxc, ysxs = separable("c", c), separable("s", s)
    ycxs, ysxc = separable("c", s), separable("s", c)
    raw = np.stack([y0xc, -y0xs, ycx0, -ysx0, ycxc - ysxs, -(ycxs + ysxc), ycxc + ysxs, ycxs - ysxc])
    coefficients = _mix(mixing, raw)
    return _codes_from_coefficients(coefficients, sign_tolerance(images, l1_norm))


def _tolerance_factor(l1_norm):
    """What ``sign_tolerance`` multiplies an image's largest ``|pixel|`` by (the same float product)."""
    return l1_norm * _RELATIVE_SIGN_TOLERANCE


def _lpq_counts(images, window_size, window, decorrelate, rho, grid):
    """Per-cell code counts ``(n, n_cells, 256)`` of a float64 stack, by the compiled kernel."""
    from ._lpq_numba import lpq_counts_into

    (w0, c, s), mixing, mixed_kernels = _lpq_model(window_size, window, decorrelate, rho)
    l1_norm = np.abs(mixed_kernels).sum(axis=(1, 2)).max()
    n, height, width = images.shape
    cell_of = cell_index((height - window_size + 1, width - window_size + 1), grid)
    counts = np.zeros((n, grid[0] * grid[1], 2**_N_COEFFICIENTS))
    lpq_counts_into(images, w0, c, s, mixing, _tolerance_factor(l1_norm), cell_of, counts)
    return counts


def _lpq_codes_torch(images, window_size, window, decorrelate, rho):
    import torch
    import torch.nn.functional as F

    _, _, mixed_kernels = _lpq_model(window_size, window, decorrelate, rho)
    # conv2d correlates; flipping the kernels makes it the convolution of the STFT.
    weight = torch.as_tensor(
        np.ascontiguousarray(mixed_kernels[:, None, ::-1, ::-1]), dtype=images.dtype, device=images.device
    )
    coefficients = F.conv2d(images[:, None], weight)
    l1_norm = float(np.abs(mixed_kernels).sum(axis=(1, 2)).max())
    bits = coefficients > sign_tolerance(images, l1_norm)[:, None]
    powers = (2 ** torch.arange(_N_COEFFICIENTS, device=images.device)).view(1, -1, 1, 1)
    return (bits.long() * powers).sum(dim=1)


_LPQ_CONSTRAINTS = {
    "window_size": [Interval(Integral, 3, None, closed="left")],
    "window": [StrOptions({"uniform", "gaussian"})],
    "decorrelate": ["boolean"],
    "rho": [Interval(Real, 0, 1, closed="neither")],
}


@validate_params({"images": ["array-like"], **_LPQ_CONSTRAINTS}, prefer_skip_nested_validation=True)
def local_phase_quantization(images, window_size=7, window="uniform", decorrelate=True, rho=0.9):
    """LPQ code maps of a batch of images.

    Parameters
    ----------
    images : array-like of shape (N, H, W) or (N, H, W, C), or list of arrays
        Colour images are converted to grey levels (luminance).
    window_size : odd int >= 3, default=7
        Side ``w`` of the STFT window.
    window : {'uniform', 'gaussian'}, default='uniform'
        STFT window: flat, or Gaussian with ``sigma = (w - 1) / 4``.
    decorrelate : bool, default=True
        Whiten the eight coefficients before taking their signs.
    rho : float in (0, 1), default=0.9
        Correlation of neighbouring pixels in the whitening model.

    Returns
    -------
    codes : ndarray of shape (N, H - w + 1, W - w + 1), dtype uint8

    Raises
    ------
    ValueError
        Invalid parameters (named in the message); images smaller than ``w x w``.

    Examples
    --------
    >>> import numpy as np
    >>> from skvision.descriptors import local_phase_quantization
    >>> images = np.random.default_rng(0).integers(0, 256, (2, 16, 16), dtype=np.uint8)
    >>> local_phase_quantization(images, window_size=5).shape
    (2, 12, 12)
    """
    check_odd_size(window_size, "window_size")
    checked = check_images(
        images, min_size=(window_size, window_size), min_size_reason=f"window_size={window_size}"
    )
    gray = to_grayscale(checked).astype(np.float64, copy=False)
    return _lpq_codes(gray, window_size, window, decorrelate, rho)


class LPQ(CodeHistogramDescriptor):
    """Local phase quantisation: histograms of blur-insensitive 8-bit phase codes.

    Each pixel gets the 8-bit code of the signs of the real and imaginary parts
    of its STFT at four low frequencies (see :func:`local_phase_quantization`);
    each cell of a ``grid`` over the code map gets a 256-bin histogram. Following
    Ojansivu & Heikkilä (2008).

    Parameters
    ----------
    window_size : odd int >= 3, default=7
        Side ``w`` of the STFT window; the code map is ``(H - w + 1) x (W - w + 1)``.
    window : {'uniform', 'gaussian'}, default='uniform'
        STFT window: flat, or Gaussian with ``sigma = (w - 1) / 4``.
    decorrelate : bool, default=True
        Whiten the eight STFT coefficients (model ``rho ** distance``) before
        quantising them.
    rho : float in (0, 1), default=0.9
        Correlation of neighbouring pixels in the whitening model.
    grid : int or (int, int), default=(1, 1)
        Cells along the rows and columns of the code map.
    normalize : {'l1', 'l2', 'none'} or None, default='l1'
        Per-cell histogram normalisation.
    channels : {'gray', 'each'}, default='gray'
        Describe the luminance, or each channel separately (concatenated).
    n_jobs : int or None, default=None
        Threads over chunks of images in ``transform`` (``None``: 1 unless inside
        ``joblib.parallel_config``); work too small to gain from a second core
        runs in one thread, as do images under 128x128 without numba (the numpy
        path's two threads lose there), and ``joblib.parallel_config(backend=...)`` sends the
        chunks to that backend. The output is identical whatever ``n_jobs``.
    batch_size : int or None, default=None
        Images per chunk (bounds memory); None picks a size from the image area.
    device : str, default='cpu'
        Where the work runs ("GPUs" in docs/scaling.md): ``'cpu'`` runs the
        numpy path (compiled with numba when installed, the same codes);
        ``'cuda'`` and ``'cuda:N'`` run torch (one float64 ``conv2d`` with the
        eight whitened kernels) on that GPU; ``'auto'``
        (or None) takes a CUDA GPU when torch sees one, else the CPU.
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
    n_features_out_ : int
        ``256 * rows * cols`` per described channel.

    See Also
    --------
    local_phase_quantization : the code maps themselves.
    LBP : sign codes of grey-level differences (not blur invariant).

    References
    ----------
    V. Ojansivu and J. Heikkilä, "Blur insensitive texture classification using
    local phase quantization", ICISP 2008.

    Examples
    --------
    >>> import numpy as np
    >>> from skvision import LPQ
    >>> images = np.random.default_rng(0).integers(0, 256, (4, 20, 20), dtype=np.uint8)
    >>> LPQ(window_size=5, grid=2).fit_transform(images).shape
    (4, 1024)
    """

    _parameter_constraints: dict = {
        **CodeHistogramDescriptor._parameter_constraints,
        **_LPQ_CONSTRAINTS,
    }
    _feature_prefix = "lpq"

    def __init__(
        self,
        window_size=7,
        window="uniform",
        decorrelate=True,
        rho=0.9,
        grid=(1, 1),
        normalize="l1",
        channels="gray",
        n_jobs=None,
        batch_size=None,
        device="cpu",
        verbose=0,
    ):
        self.window_size = window_size
        self.window = window
        self.decorrelate = decorrelate
        self.rho = rho
        self.grid = grid
        self.normalize = normalize
        self.channels = channels
        self.n_jobs = n_jobs
        self.batch_size = batch_size
        self.device = device
        self.verbose = verbose

    def _check_params(self):
        super()._check_params()
        check_odd_size(self.window_size, "window_size")

    def _n_codes(self):
        return 2**_N_COEFFICIENTS

    def _code_border(self):
        return (self.window_size - 1) // 2

    def _own_size_reason(self):
        return f"window_size={self.window_size}"

    # The numpy path makes about 40 float64 temporaries of the chunk's size per chunk: on chunks of
    # 2**16 pixels they stay in the caches, 4-5x faster than on 2**23 (100,000 28x28 images: 4.3 s
    # instead of 21 s, benchmarks/bench_parallel.py). Two threads then share the caches and the GIL
    # and lose on small images (0.8x at 28x28) but gain on large ones (1.44x at 512x512). The
    # compiled kernel keeps one output row's sums in small buffers and releases the GIL: it takes
    # the default chunks and splits any work worth a thread.
    _PIXEL_COST_NS = 150.0
    # Float copies of 8-bit images (X / 255 in float32) are read as the levels they copy: float32's
    # rounding moved responses near 0 across the sign test (LPQ: 448 of 2.56 M values of 10,000 64x64
    # crops differed from the uint8 images' features).
    _reads_copies_as_levels = True
    _COMPILED_PIXEL_COST_NS = 40.0

    @property
    def _chunk_pixels(self):
        return BaseDescriptor._chunk_pixels if numba_available() else 2**16

    @property
    def _min_thread_image_pixels(self):
        return 0 if numba_available() else 128 * 128

    def _pixel_cost_ns(self):
        return self._COMPILED_PIXEL_COST_NS if numba_available() else self._PIXEL_COST_NS

    def _describe(self, images):
        if not numba_available():
            return super()._describe(images)
        # The compiled kernel counts the codes per cell as it makes them (the same codes).
        grid = check_grid(self.grid)
        counts = _lpq_counts(images, self.window_size, self.window, self.decorrelate, self.rho, grid)
        return normalized_histograms(counts, self.normalize)

    def _code_maps(self, images):
        return _lpq_codes(images, self.window_size, self.window, self.decorrelate, self.rho)

    def _code_maps_torch(self, images):
        return _lpq_codes_torch(images, self.window_size, self.window, self.decorrelate, self.rho)
