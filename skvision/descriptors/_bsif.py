"""Binarised statistical image features (BSIF), Kannala & Rahtu (2012).

Where LBP and LPQ binarise hand-designed filters, BSIF learns its filters from
images: ``n_patches`` patches of ``filter_size x filter_size`` pixels are cut
from the training images, each patch's mean is removed, the patches are
whitened and reduced to ``n_filters`` dimensions by PCA, and independent
component analysis (:class:`sklearn.decomposition.FastICA`) finds ``n_filters``
statistically independent filters. Each pixel's code has bit ``i`` set when its
response to filter ``i`` is positive; an image is described by the
``2 ** n_filters``-bin histograms of its codes over a grid of cells.

As in the authors' ``bsif.m``, the image is extended by circular wrapping before
filtering, so the code map has the image's size; the filtering is a
correlation, computed here by FFT for a whole chunk at once.
"""

from __future__ import annotations

from numbers import Integral

import numpy as np
import scipy.fft
from sklearn.decomposition import FastICA
from sklearn.utils import check_random_state

from .._compat import Interval
from ._base import working_scale_of_copies
from ._code_histograms import CodeHistogramDescriptor, sign_tolerance
from ._common import check_odd_size

__all__ = ["BSIF"]

# Relative singular-value floor under which a direction of the patch space counts as empty.
_RANK_TOLERANCE = 1e-8


def _patch_positions(n_planes, height, width, filter_size, n_patches, random_state):
    """Plane index, top row and left column of ``n_patches`` patches drawn uniformly over every
    position of ``n_planes`` planes of ``height x width`` pixels."""
    rng = check_random_state(random_state)
    positions_per_plane = (height - filter_size + 1) * (width - filter_size + 1)
    picks = rng.randint(0, n_planes * positions_per_plane, size=n_patches)
    plane, position = np.divmod(picks, positions_per_plane)
    top, left = np.divmod(position, width - filter_size + 1)
    return plane, top, left


def _cut_patches(planes, plane, top, left, filter_size):
    """The flattened ``filter_size x filter_size`` patches of ``planes`` at the given corners."""
    offsets = np.arange(filter_size)
    rows = (top[:, None] + offsets)[:, :, None]
    cols = (left[:, None] + offsets)[:, None, :]
    return planes[plane[:, None, None], rows, cols].reshape(len(plane), -1)


def _sample_patches(planes, filter_size, n_patches, random_state):
    """``n_patches`` flattened patches drawn uniformly over every position of every plane."""
    n_planes, height, width = planes.shape
    corners = _patch_positions(n_planes, height, width, filter_size, n_patches, random_state)
    return _cut_patches(planes, *corners, filter_size)


#: Pixels of the training images converted to float64 at a time when ``fit`` cuts its patches.
_FIT_CHUNK_PIXELS = 2**20

#: Pixels of the images whose responses one step of ``_code_maps`` computes (all filters at
#: once: ``n_filters`` float64 arrays of that many pixels). 2**16 keeps them in the cache and
#: under malloc's threshold for handing memory back, above which every new array is memory
#: the kernel zeroes first; a whole 2**23-pixel chunk took 537 MB per step and ran 1.8x slower.
_BLOCK_PIXELS = 2**16


def _filter_spectra(filters, height, width):
    """The conjugate spectra ``(k, H, W // 2 + 1)`` of ``filters``, centred on the (H, W) torus's origin."""
    radius = filters.shape[1] // 2
    wrapped = np.zeros((filters.shape[0], height, width))
    wrapped[:, : filters.shape[1], : filters.shape[2]] = filters
    wrapped = np.roll(wrapped, (-radius, -radius), axis=(1, 2))
    return np.conj(scipy.fft.rfft2(wrapped))


def _circular_correlation(images, filter_spectra):
    """Responses ``(k, n, H, W)``: ``sum_uv f[u, v] * image[(y + u - r) % H, (x + v - r) % W]``,
    ``f`` the filters whose spectra :func:`_filter_spectra` gives."""
    _, height, width = images.shape
    image_spectrum = scipy.fft.rfft2(images)
    return scipy.fft.irfft2(image_spectrum[None] * filter_spectra[:, None], s=(height, width))


class BSIF(CodeHistogramDescriptor):
    """Binarised statistical image features: codes from ICA filters learned in ``fit``.

    ``fit`` learns ``n_filters`` filters of ``filter_size x filter_size`` pixels by
    FastICA on ``n_patches`` whitened, mean-removed patches of the training
    images (of every described plane, pooled). ``transform`` filters each image
    (circular borders), sets bit ``i`` of each pixel's code where the response to
    filter ``i`` is positive, and histograms the ``2 ** n_filters`` codes over a
    ``grid`` of cells. The filters sum to zero, so the codes ignore the local mean
    intensity (and any positive scaling of the image).

    Parameters
    ----------
    n_filters : int, default=8
        Filters, hence bits per code; at most ``filter_size ** 2 - 1`` (a patch
        without its mean has that many dimensions) and at most 16.
    filter_size : odd int >= 3, default=7
        Side of the square filters.
    n_patches : int, default=10000
        Patches sampled (uniformly, with replacement) from the training images.
    random_state : int, RandomState instance or None, default=None
        Seeds the patch sampling and FastICA; an int makes ``fit`` repeatable.
    grid : int or (int, int), default=(1, 1)
        Cells along the rows and columns of the code map (the image's size).
    normalize : {'l1', 'l2', 'none'} or None, default='l1'
        Per-cell histogram normalisation.
    channels : {'gray', 'each'}, default='gray'
        Describe the luminance, or each channel separately (one filter set
        learned from all channels, histograms concatenated).
    n_jobs : int or None, default=None
        Threads over chunks of images in ``transform`` (``None``: 1 unless inside
        ``joblib.parallel_config``); work too small to gain from a second core
        runs in one thread, and ``joblib.parallel_config(backend=...)`` sends the
        chunks to that backend. The output is identical whatever ``n_jobs``.
    batch_size : int or None, default=None
        Images per chunk (bounds memory); None picks a size from the image area.
    device : str, default='cpu'
        Where the work runs ("GPUs" in docs/scaling.md): ``'cpu'`` runs the
        numpy path (FFT); ``'cuda'`` and ``'cuda:N'`` run torch (one float64
        ``conv2d`` with circular padding) on that GPU; ``'auto'`` (or None)
        takes a CUDA GPU when torch sees one, else the CPU.
    verbose : int, default=0
        Show a progress bar over chunks.

    Attributes
    ----------
    filters_ : ndarray of shape (n_filters, filter_size, filter_size)
        The learned filters; ``filters_[i]`` sets bit ``i``.
    ica_ : FastICA
        The fitted ICA model (its ``components_`` are the flattened filters).
    input_scale_ : ImageScale
        Value scale of the images seen in ``fit`` (see :mod:`skvision._images`).
    image_shape_ : tuple
        Shape of one image seen in ``fit``.
    n_channels_ : int
        Channels of the images seen in ``fit``.
    n_features_out_ : int
        ``2 ** n_filters * rows * cols`` per described channel.

    References
    ----------
    J. Kannala and E. Rahtu, "BSIF: Binarized statistical image features",
    ICPR 2012.

    Examples
    --------
    >>> import numpy as np
    >>> from skvision import BSIF
    >>> images = np.random.default_rng(0).integers(0, 256, (6, 16, 16), dtype=np.uint8)
    >>> bsif = BSIF(n_filters=4, filter_size=5, n_patches=500, random_state=0).fit(images)
    >>> bsif.filters_.shape, bsif.transform(images).shape
    ((4, 5, 5), (6, 16))
    """

    _parameter_constraints: dict = {
        **CodeHistogramDescriptor._parameter_constraints,
        "n_filters": [Interval(Integral, 1, 16, closed="both")],
        "filter_size": [Interval(Integral, 3, None, closed="left")],
        "n_patches": [Interval(Integral, 1, None, closed="left")],
        "random_state": ["random_state"],
    }
    _feature_prefix = "bsif"
    _PIXEL_COST_NS = 50.0
    # Float copies of 8-bit images (X / 255 in float32) are read as the levels they copy: float32's
    # rounding of X / 255 moved filter responses near zero across the sign tolerance (66 of 2.56 M
    # values of 1,000 camera crops). The fit reads them as those levels too (working_scale_of_copies).
    _reads_copies_as_levels = True

    def __init__(
        self,
        n_filters=8,
        filter_size=7,
        n_patches=10000,
        random_state=None,
        grid=(1, 1),
        normalize="l1",
        channels="gray",
        n_jobs=None,
        batch_size=None,
        device="cpu",
        verbose=0,
    ):
        self.n_filters = n_filters
        self.filter_size = filter_size
        self.n_patches = n_patches
        self.random_state = random_state
        self.grid = grid
        self.normalize = normalize
        self.channels = channels
        self.n_jobs = n_jobs
        self.batch_size = batch_size
        self.device = device
        self.verbose = verbose

    def _check_params(self):
        super()._check_params()
        check_odd_size(self.filter_size, "filter_size")
        if self.n_filters > self.filter_size**2 - 1:
            raise ValueError(
                f"n_filters={self.n_filters} is too many for filter_size={self.filter_size}: "
                f"mean-free {self.filter_size}x{self.filter_size} patches have only "
                f"{self.filter_size**2 - 1} dimensions."
            )
        if self.n_patches < self.n_filters:
            raise ValueError(
                f"n_patches={self.n_patches} must be at least n_filters={self.n_filters} "
                "for ICA to estimate the filters."
            )

    def _fit_images(self, images):
        # Learned on intensities in [0, 1] (the value-scale rule of skvision._images), so that a fit on
        # uint8 X and one on X / 255 (float32 too: read as the levels it copies) learn the same filters;
        # the codes themselves ignore the scale. Floats outside [0, 1] are taken as given.
        patches = self._training_patches(images)
        patches -= patches.mean(axis=1, keepdims=True)
        centred = patches - patches.mean(axis=0)
        singular_values = np.linalg.svd(centred, compute_uv=False)
        rank = int(np.sum(singular_values > _RANK_TOLERANCE * max(singular_values[0], np.finfo(float).tiny)))
        if rank < self.n_filters:
            raise ValueError(
                f"BSIF cannot learn n_filters={self.n_filters} filters: the {self.n_patches} "
                f"mean-removed training patches span only {rank} dimension(s) (images too flat "
                "or too few). Use fewer filters, more patches or images with more texture."
            )
        # Whitening by PCA to n_filters dimensions, then ICA in that space.
        self.ica_ = FastICA(
            n_components=self.n_filters,
            whiten="unit-variance",
            max_iter=1000,
            random_state=self.random_state,
        ).fit(patches)
        filters = self.ica_.components_.reshape(self.n_filters, self.filter_size, self.filter_size)
        # Learned on mean-free patches the filters already sum to zero, up to rounding;
        # make it exact so that the codes ignore the local mean intensity.
        self.filters_ = filters - filters.mean(axis=(1, 2), keepdims=True)

    def _training_patches(self, images):
        """The ``n_patches`` patches ICA learns from: those ``_sample_patches`` draws from the
        float64 planes of the whole batch on the [0, 1] scale (each channel's after another's
        for ``channels='each'``), converted ``_FIT_CHUNK_PIXELS`` at a time. The whole batch as
        float64 planes took 10x the memory of uint8 RGB images (15.6x with ``channels='each'``)
        for a fit that reads 10,000 patches."""
        n_images, height, width = images.shape[:3]
        n_channels = images.shape[3] if self.channels == "each" and images.ndim == 4 else 1
        corners = _patch_positions(
            n_channels * n_images, height, width, self.filter_size, self.n_patches, self.random_state
        )
        channel, image = np.divmod(corners[0], n_images)
        patches = np.empty((self.n_patches, self.filter_size**2))
        # Every step of the conversion (grey levels, the scale of float copies) is image by image:
        # chunks change no value.
        step = max(1, _FIT_CHUNK_PIXELS // (height * width))
        for start in range(0, n_images, step):
            in_chunk = (image >= start) & (image < start + step)
            if not in_chunk.any():
                continue
            for c, (_, plane) in enumerate(self._unscaled_planes(images[start : start + step])):
                picked = np.flatnonzero(in_chunk & (channel == c))
                scaled = np.asarray(self._fit_scale(plane, images.dtype), dtype=np.float64)
                patches[picked] = _cut_patches(
                    scaled, image[picked] - start, corners[1][picked], corners[2][picked], self.filter_size
                )
        return patches

    def _fit_scale(self, plane, dtype):
        if self._floats_taken_as_given(dtype):
            return plane
        return working_scale_of_copies(plane, dtype, 1.0)

    def _n_codes(self):
        return 2**self.n_filters

    def _own_min_size(self):
        return (self.filter_size, self.filter_size)

    def _own_size_reason(self):
        return f"filter_size={self.filter_size}"

    def _tolerance(self, images):
        return sign_tolerance(images, float(np.abs(self.filters_).sum(axis=(1, 2)).max()))

    def _code_maps(self, images):
        n_images, height, width = images.shape
        spectra = _filter_spectra(self.filters_, height, width)
        tolerance = self._tolerance(images)
        codes = np.zeros(images.shape, dtype=np.int64)
        step = max(1, _BLOCK_PIXELS // (height * width))
        for start in range(0, n_images, step):
            block = slice(start, start + step)
            bits = _circular_correlation(images[block], spectra) > tolerance[None, block]
            for i in range(self.n_filters):
                codes[block] |= bits[i].astype(np.int64) << i
        return codes

    def _code_maps_torch(self, images):
        import torch
        import torch.nn.functional as F

        radius = self.filter_size // 2
        padded = F.pad(images[:, None], (radius, radius, radius, radius), mode="circular")
        weight = torch.as_tensor(self.filters_[:, None], dtype=images.dtype, device=images.device)
        responses = F.conv2d(padded, weight)
        bits = responses > self._tolerance(images)[:, None]
        powers = (2 ** torch.arange(self.n_filters, device=images.device)).view(1, -1, 1, 1)
        return (bits.long() * powers).sum(dim=1)
