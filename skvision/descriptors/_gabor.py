"""Gabor filter banks: responses equal to :func:`skimage.filters.gabor`, computed by FFT for a batch.

scikit-image convolves one image with the real and the imaginary kernel in the
spatial domain (``scipy.ndimage.convolve``), which costs ``O(k^2)`` per pixel for
a ``k x k`` kernel, and low frequencies have large kernels (``k`` = 69 at
frequency 0.05). Here the images of a chunk are padded once, the way
``ndimage`` extends borders in the requested ``mode``, transformed once, and
multiplied by each kernel's transform; the 'valid' part of the circular
convolution is exactly ``ndimage``'s result (to float rounding).
"""

from __future__ import annotations

import math
from numbers import Integral, Real

import numpy as np
import scipy.fft
from skimage.filters import gabor_kernel

from .._compat import Interval, StrOptions
from .._images import check_images, is_integer_like
from ._base import DEVICE_CONSTRAINT, BaseDescriptor
from ._common import angle_part, check_grid, frequency_part, grid_parts, iter_cells, join_names

__all__ = ["GaborBank", "gabor"]

# Complex cells of one block's image spectra (16 bytes each; the products and the two
# responses per kernel take twice as much again). 2**15 keeps a block's working set
# near 1.5 MB: in the cache, and under malloc's threshold for handing memory back to
# the system, above which every array is new memory the kernel zeroes page by page.
# 2**21 (~100 MB per block) made 2,000 28x28 images 2.3x slower (4.0 s -> 1.7 s) and
# 40 256x256 ones 1.7x; the output is the same to the bit.
_BLOCK_SPECTRUM_CELLS = 2**15

#: ``scipy.ndimage`` boundary modes -> the ``numpy.pad`` mode that extends the same way.
_PAD_MODES = {
    "reflect": "symmetric",
    "mirror": "reflect",
    "nearest": "edge",
    "wrap": "wrap",
    "constant": "constant",
}


def _check_kernel_params(frequency, bandwidth, n_stds, mode, cval, name="frequency"):
    if not (isinstance(frequency, Real) and math.isfinite(frequency) and frequency > 0):
        raise ValueError(f"{name} must be a positive number (cycles per pixel); got {frequency!r}.")
    if not (isinstance(bandwidth, Real) and math.isfinite(bandwidth) and bandwidth > 0):
        raise ValueError(f"bandwidth must be a positive number (octaves); got {bandwidth!r}.")
    if not (isinstance(n_stds, Real) and math.isfinite(n_stds) and n_stds > 0):
        raise ValueError(f"n_stds must be a positive number; got {n_stds!r}.")
    if mode not in _PAD_MODES:
        raise ValueError(f"mode must be one of {sorted(_PAD_MODES)}; got {mode!r}.")
    if not (isinstance(cval, Real) and math.isfinite(cval)):
        raise ValueError(f"cval must be a finite number; got {cval!r}.")


def _pad_indices(length, pad, mode):
    """Source index of each padded position along one axis (-1 for ``mode='constant'``)."""
    if mode == "constant":
        return np.concatenate([np.full(pad, -1), np.arange(length), np.full(pad, -1)])
    return np.pad(np.arange(length), pad, mode=_PAD_MODES[mode])


class _FFTBank:
    """Complex kernels prepared for FFT convolution of ``(H, W)`` images.

    ``responses(images)`` yields, per kernel, the complex response
    ``conv(image, real(g)) + 1j * conv(image, imag(g))`` with ``ndimage`` borders.
    """

    def __init__(self, kernels, image_shape, mode, cval):
        self.height, self.width = image_shape
        self.mode, self.cval = mode, cval
        self.halves = [(k.shape[0] // 2, k.shape[1] // 2) for k in kernels]
        self.pad_h = max(h for h, _ in self.halves)
        self.pad_w = max(w for _, w in self.halves)
        self.row_index = _pad_indices(self.height, self.pad_h, mode)
        self.col_index = _pad_indices(self.width, self.pad_w, mode)
        self.fft_shape = (
            scipy.fft.next_fast_len(self.height + 2 * self.pad_h, real=True),
            scipy.fft.next_fast_len(self.width + 2 * self.pad_w, real=True),
        )
        self.kernels = kernels
        self._spectra = None

    def _padded(self, images):
        padded = images[:, self.row_index[:, None], self.col_index[None, :]]
        if self.mode == "constant":
            outside = (self.row_index[:, None] < 0) | (self.col_index[None, :] < 0)
            padded[:, outside] = self.cval
        return padded

    def _crop(self, k):
        # Output pixel r sits at padded index r + pad; a kernel of half-size h
        # centred there reaches circular-convolution index r + pad + h.
        half_h, half_w = self.halves[k]
        r0, c0 = self.pad_h + half_h, self.pad_w + half_w
        return slice(r0, r0 + self.height), slice(c0, c0 + self.width)

    def block_size(self):
        """Images per block so that one block's spectrum stays near ``_BLOCK_SPECTRUM_CELLS``."""
        cells = self.fft_shape[0] * (self.fft_shape[1] // 2 + 1)
        return max(1, _BLOCK_SPECTRUM_CELLS // cells)

    def _kernel_spectra(self):
        if self._spectra is None:
            self._spectra = [
                scipy.fft.rfft2(np.stack([kernel.real, kernel.imag]), s=self.fft_shape)
                for kernel in self.kernels
            ]
        return self._spectra

    def responses(self, images):
        spectrum = scipy.fft.rfft2(self._padded(images), s=self.fft_shape)[:, None]
        for k, kernel_spectrum in enumerate(self._kernel_spectra()):
            rows, cols = self._crop(k)
            both = scipy.fft.irfft2(spectrum * kernel_spectrum, s=self.fft_shape)
            yield both[:, 0, rows, cols], both[:, 1, rows, cols]

    def responses_torch(self, images):
        import torch

        device = images.device
        rows_index = torch.as_tensor(self.row_index, device=device)
        cols_index = torch.as_tensor(self.col_index, device=device)
        padded = images[:, rows_index.clamp(min=0)[:, None], cols_index.clamp(min=0)[None, :]]
        if self.mode == "constant":
            outside = (rows_index[:, None] < 0) | (cols_index[None, :] < 0)
            padded = padded.masked_fill(outside, self.cval)
        spectrum = torch.fft.rfft2(padded, s=self.fft_shape)[:, None]
        for k, kernel in enumerate(self.kernels):
            rows, cols = self._crop(k)
            parts = torch.as_tensor(np.stack([kernel.real, kernel.imag]), dtype=images.dtype, device=device)
            both = torch.fft.irfft2(spectrum * torch.fft.rfft2(parts, s=self.fft_shape), s=self.fft_shape)
            yield both[:, 0, rows, cols], both[:, 1, rows, cols]


def gabor(
    images,
    frequency,
    theta=0,
    bandwidth=1,
    sigma_x=None,
    sigma_y=None,
    n_stds=3,
    offset=0,
    mode="reflect",
    cval=0,
):
    """Real and imaginary Gabor responses of a batch, as :func:`skimage.filters.gabor`.

    Parameters
    ----------
    images : array-like of shape (N, H, W)
        Grey-level images (converted to float64).
    frequency, theta, bandwidth, sigma_x, sigma_y, n_stds, offset
        The kernel, as :func:`skimage.filters.gabor_kernel`.
    mode : {'reflect', 'mirror', 'nearest', 'wrap', 'constant'}, default='reflect'
        Border handling, as :func:`scipy.ndimage.convolve`. 'reflect' repeats
        the reflection as ``np.pad(mode='symmetric')`` does however far the
        kernel reaches; scipy's own (which scikit-image's ``gabor`` calls)
        goes wrong once the kernel's half-size is 4 or more times a side of
        the image (8x8 images at frequency 0.05: responses 2 % to 100 % off,
        at times values of 1e240), so there the two differ and this one is
        right.
    cval : float, default=0
        Fill value for ``mode='constant'``.

    Returns
    -------
    real, imag : ndarray of shape (N, H, W), float64
        ``real[n], imag[n]`` equal ``skimage.filters.gabor(images[n].astype(float), ...)``
        to float rounding (the convolution is done by FFT). Note that
        scikit-image, given an integer image, returns responses truncated to the
        image's integer dtype; here responses are always float64.

    Examples
    --------
    >>> import numpy as np
    >>> from skvision.descriptors import gabor
    >>> stripes = np.tile(np.sin(2 * np.pi * 0.25 * np.arange(32)), (1, 32, 1))
    >>> real, imag = gabor(stripes, frequency=0.25)
    >>> real.shape, bool(np.hypot(real, imag).mean() > 0.4)
    ((1, 32, 32), True)
    """
    images = check_images(images, name="images", allowed_channels=None)
    if images.ndim != 3:
        raise ValueError(f"gabor takes grey-level images of shape (N, H, W); got shape {images.shape}.")
    _check_kernel_params(frequency, bandwidth, n_stds, mode, cval)
    kernel = gabor_kernel(frequency, theta, bandwidth, sigma_x, sigma_y, n_stds, offset)
    bank = _FFTBank([kernel], images.shape[1:], mode, cval)
    real = np.empty(images.shape, dtype=np.float64)
    imag = np.empty(images.shape, dtype=np.float64)
    step = bank.block_size()
    for start in range(0, len(images), step):
        block = images[start : start + step].astype(np.float64, copy=False)
        real[start : start + step], imag[start : start + step] = next(bank.responses(block))
    return real, imag


class GaborBank(BaseDescriptor):
    """Mean and variance of Gabor response magnitudes, per filter and per cell.

    A bank of ``len(frequencies) x orientations`` complex Gabor filters
    (:func:`skimage.filters.gabor_kernel`) is applied to each image; the
    magnitude ``sqrt(real**2 + imag**2)`` of each response is summarised, in
    each cell of a ``grid``, by its mean and its (population) variance. The
    responses equal :func:`skimage.filters.gabor` with the same ``mode`` and
    ``cval`` on the image's intensities in [0, 1], read by the value-scale
    rule of :mod:`skvision._images` (uint8 ``X`` and float ``X / 255`` give the
    same features; float 0-255 after a uint8 ``fit`` raises
    :class:`~skvision._images.ImageScaleError`).

    Parameters
    ----------
    frequencies : sequence of float, default=(0.05, 0.1, 0.2, 0.4)
        Spatial frequencies in cycles per pixel (0.5 is the Nyquist limit).
    orientations : int or sequence of float, default=4
        Number of orientations spread evenly over [0, pi) (``k * pi / n``), or
        the angles themselves in radians. Angles ``t`` and ``t + pi`` give the
        same magnitudes.
    bandwidth : float, default=1
        Bandwidth in octaves; sets the Gaussian envelope with the frequency.
    n_stds : float, default=3
        Half-size of the kernels in standard deviations of the envelope.
    mode : {'reflect', 'mirror', 'nearest', 'wrap', 'constant'}, default='reflect'
        Border handling, as in :func:`scipy.ndimage.convolve` (see :func:`gabor`:
        on images of under a quarter of a kernel's half-size, scikit-image's
        'reflect' goes wrong and this one does not).
    cval : float, default=0
        Fill value for ``mode='constant'``, an intensity on [0, 1].
    grid : int or (int, int), default=(1, 1)
        Cells (rows, cols) in which the statistics are taken.
    channels : {'gray', 'each'}, default='gray'
        Describe luminance, or each channel of colour images separately.
    n_jobs : int or None, default=None
        Threads over chunks of images in ``transform`` (``None``: 1 unless inside
        ``joblib.parallel_config``); work too small to gain from a second core
        runs in one thread, and ``joblib.parallel_config(backend=...)`` sends the
        chunks to that backend. The output is identical whatever ``n_jobs``.
    batch_size : int or None, default=None
        Images per chunk; ``None`` sizes chunks by pixel count.
    device : str, default='cpu'
        Where the work runs ("GPUs" in docs/scaling.md): ``'cpu'`` runs the
        scipy FFTs; ``'cuda'`` and ``'cuda:N'`` run torch FFTs (float64) on
        that GPU; ``'auto'`` (or None) takes a CUDA GPU when torch sees one,
        else the CPU. The outputs agree to float tolerance; the GPU pays for
        large batches.
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
        ``cells x frequencies x orientations x 2`` per described plane.

    See Also
    --------
    gabor : Batched responses of one filter.

    Examples
    --------
    >>> from skvision.datasets import load_textures
    >>> from skvision.descriptors import GaborBank
    >>> X, y = load_textures(patch_size=16, n_per_class=4, return_X_y=True)
    >>> bank = GaborBank(frequencies=[0.1, 0.3], orientations=2).fit(X)
    >>> bank.transform(X).shape
    (12, 8)
    >>> bank.get_feature_names_out()[:2].tolist()
    ['gabor_f0.1_a0_mean', 'gabor_f0.1_a0_var']
    """

    _parameter_constraints: dict = {
        **BaseDescriptor._parameter_constraints,
        "device": DEVICE_CONSTRAINT,
        "frequencies": ["array-like"],
        "orientations": [Interval(Integral, 1, None, closed="left"), "array-like"],
        "bandwidth": [Interval(Real, 0, None, closed="neither")],
        "n_stds": [Interval(Real, 0, None, closed="neither")],
        "mode": [StrOptions(set(_PAD_MODES))],
        "cval": [Real],
        "grid": [Interval(Integral, 1, None, closed="left"), tuple, list],
    }
    _feature_prefix = "gabor"
    # Per filter of the bank (the default bank has 16); FFTs of small images cost more per pixel
    # (measured: 74 per filter on 28x28, 36 on 512x512; BENCHMARKS.md, "Parallel").
    _PIXEL_COST_NS = 35.0

    def _working_white(self):
        # Intensities on [0, 1] (the value-scale rule of skvision._images): uint8 is read as X / 255.
        return 1.0

    def __init__(
        self,
        frequencies=(0.05, 0.1, 0.2, 0.4),
        orientations=4,
        bandwidth=1.0,
        n_stds=3,
        mode="reflect",
        cval=0.0,
        grid=(1, 1),
        channels="gray",
        n_jobs=None,
        batch_size=None,
        device="cpu",
        verbose=0,
    ):
        self.frequencies = frequencies
        self.orientations = orientations
        self.bandwidth = bandwidth
        self.n_stds = n_stds
        self.mode = mode
        self.cval = cval
        self.grid = grid
        self.channels = channels
        self.n_jobs = n_jobs
        self.batch_size = batch_size
        self.device = device
        self.verbose = verbose

    # ------------------------------------------------------------------ hooks
    def _frequencies(self):
        try:
            frequencies = [float(f) for f in np.asarray(self.frequencies, dtype=np.float64).ravel()]
        except (TypeError, ValueError):
            frequencies = []
        if np.ndim(self.frequencies) != 1 or not frequencies:
            raise ValueError(
                f"frequencies must be a non-empty 1-D sequence of positive numbers; got {self.frequencies!r}."
            )
        return frequencies

    def _angles(self):
        if is_integer_like(self.orientations):
            if self.orientations < 1:
                raise ValueError(
                    f"orientations must be a positive int or a sequence of angles; got {self.orientations!r}."
                )
            return [k * np.pi / self.orientations for k in range(self.orientations)]
        try:
            angles = np.asarray(self.orientations, dtype=np.float64)
        except (TypeError, ValueError):
            angles = np.array([np.nan])
        if angles.ndim != 1 or angles.size == 0 or not np.all(np.isfinite(angles)):
            raise ValueError(
                "orientations must be a positive int or a non-empty 1-D sequence of finite angles "
                f"in radians; "
                f"got {self.orientations!r}."
            )
        return [float(a) for a in angles]

    def _check_params(self):
        for frequency in self._frequencies():
            _check_kernel_params(
                frequency, self.bandwidth, self.n_stds, self.mode, self.cval, name="frequencies"
            )
        frequencies = self._frequencies()
        if len(set(frequencies)) < len(frequencies):
            # Repeats give repeated columns under repeated feature names.
            raise ValueError(f"frequencies must be distinct; got {self.frequencies!r}.")
        above = [f for f in frequencies if f > 0.5]
        if above:
            # Sampled at one value per pixel, such a filter is the filter of a lower frequency (aliasing):
            # its features repeat another's under a misleading name. gabor(), like scikit-image's, takes it.
            raise ValueError(
                f"frequencies must be at most 0.5 cycles per pixel (the Nyquist limit; higher ones alias to "
                f"lower ones); got {above}. For a period of p pixels, pass 1 / p."
            )
        angles = self._angles()
        if len(set(angles)) < len(angles):
            raise ValueError(f"orientations must be distinct; got {self.orientations!r}.")
        check_grid(self.grid)

    def _min_image_size(self):
        return check_grid(self.grid)

    def _pixel_cost_ns(self):
        return self._PIXEL_COST_NS * len(self._frequencies()) * len(self._angles())

    def _min_image_size_reason(self):
        return f"grid={self.grid!r} (at least one pixel per cell)"

    def _banks(self, image_shape):
        # One bank per frequency: kernel sizes scale with 1 / frequency, and padding
        # every image for the largest kernel would make the high-frequency filters
        # pay for FFTs several times larger than they need.
        return [
            _FFTBank(
                [gabor_kernel(f, theta, self.bandwidth, n_stds=self.n_stds) for theta in self._angles()],
                image_shape,
                self.mode,
                float(self.cval),
            )
            for f in self._frequencies()
        ]

    def _describe(self, images):
        per_bank = []
        for bank in self._banks(images.shape[1:]):
            step = bank.block_size()
            blocks = [self._describe_block(bank, images[s : s + step]) for s in range(0, len(images), step)]
            per_bank.append(np.concatenate(blocks))
        features = np.concatenate(per_bank, axis=1)
        # Computed filter by filter (cells inside); reported cell by cell (filters inside).
        n_cells = np.prod(check_grid(self.grid))
        return features.reshape(len(images), -1, n_cells, 2).transpose(0, 2, 1, 3).reshape(len(images), -1)

    def _describe_block(self, bank, images):
        grid = check_grid(self.grid)
        parts = []
        for real, imag in bank.responses(images):
            magnitude = np.hypot(real, imag)
            for cell in iter_cells(magnitude, grid):
                parts.append(cell.mean(axis=(1, 2)))
                parts.append(cell.var(axis=(1, 2)))
        return np.stack(parts, axis=1)

    def _describe_torch(self, images):
        import torch

        per_bank = []
        for bank in self._banks(tuple(images.shape[1:])):
            step = bank.block_size()
            blocks = [
                self._describe_block_torch(bank, images[s : s + step]) for s in range(0, len(images), step)
            ]
            per_bank.append(torch.cat(blocks))
        features = torch.cat(per_bank, dim=1)
        n_cells = int(np.prod(check_grid(self.grid)))
        return features.reshape(len(images), -1, n_cells, 2).permute(0, 2, 1, 3).reshape(len(images), -1)

    def _describe_block_torch(self, bank, images):
        import torch

        grid = check_grid(self.grid)
        parts = []
        for real, imag in bank.responses_torch(images):
            magnitude = torch.hypot(real, imag)
            for cell in iter_cells(magnitude, grid):
                parts.append(cell.mean(dim=(1, 2)))
                parts.append(cell.var(dim=(1, 2), unbiased=False))
        return torch.stack(parts, dim=1)

    def _plane_feature_names(self):
        filters = join_names(
            [frequency_part(f) for f in self._frequencies()], [angle_part(t) for t in self._angles()]
        )
        return join_names(grid_parts("cell", *check_grid(self.grid)), filters, ["mean", "var"])
