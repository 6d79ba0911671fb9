"""Weber local descriptor (WLD), Chen et al. (2010).

Weber's law says that a change of stimulus is noticed in proportion to the
stimulus itself. WLD describes each pixel ``x_c`` of its 3x3 neighbourhood
``x_0 .. x_7`` by two numbers:

* the **differential excitation**, the Weber ratio of the summed differences to
  the centre, ``xi = arctan(alpha * sum_i (x_i - x_c) / (x_c + beta))``, in
  ``(-pi/2, pi/2)``. ``alpha`` magnifies the ratio; ``beta`` keeps it finite on
  black pixels (the constants of Li, Gong & Yuan (2013), ``alpha=3, beta=5``, on
  the 0-255 grey-level scale);
* the **gradient orientation** ``theta = atan2(x_up - x_down, x_right - x_left)``
  in ``[0, 2 pi)`` (counter-clockwise from the +x axis, y pointing up), quantised
  to the nearest of ``T`` dominant orientations ``2 pi t / T``.

The excitation range is cut into ``M`` equal segments, each split into ``S``
sub-bins, and the 2-D (excitation x orientation) histogram is laid out as in the
paper: for each segment ``m``, for each orientation ``t``, ``S`` sub-bins, so a
cell has ``M * T * S`` bins. The paper's per-segment weights are left out: the
classifier downstream learns its own.
"""

from __future__ import annotations

from numbers import Integral, Real

import numpy as np

from .._compat import Interval, validate_params
from .._images import check_images, to_grayscale
from ._code_histograms import CodeHistogramDescriptor
from ._common import bin_part, check_non_negative, orientation_part

__all__ = ["WLD", "weber_local_descriptor"]


def _check_non_negative(images, owner="WLD", name="X"):
    check_non_negative(
        images, owner, why="its excitation is a ratio to the centre pixel, Weber's law", name=name
    )


def _neighbour_sums(images):
    """Sum of the 8 neighbours, the centre, and the two central differences (valid part)."""
    centre = images[:, 1:-1, 1:-1]
    block_sum = 0.0
    for dy in range(3):
        for dx in range(3):
            block_sum = block_sum + images[:, dy : dy + centre.shape[1], dx : dx + centre.shape[2]]
    neighbours_minus_centre = block_sum - 9.0 * centre
    up_minus_down = images[:, :-2, 1:-1] - images[:, 2:, 1:-1]
    right_minus_left = images[:, 1:-1, 2:] - images[:, 1:-1, :-2]
    return centre, neighbours_minus_centre, up_minus_down, right_minus_left


def _wld_maps(images, alpha, beta, xp):
    centre, differences, up_minus_down, right_minus_left = _neighbour_sums(images)
    excitation = xp.arctan(alpha * differences / (centre + beta))
    orientation = xp.arctan2(up_minus_down, right_minus_left) % (2 * np.pi)
    return excitation, orientation


def _wld_codes(excitation, orientation, segments, orientations, segment_bins, xp):
    """Joint code ``(segment * T + orientation) * S + sub_bin``, as floats holding integers."""
    n_excitation_bins = segments * segment_bins
    excitation_bin = xp.floor((excitation / np.pi + 0.5) * n_excitation_bins)
    excitation_bin = xp.clip(excitation_bin, 0, n_excitation_bins - 1)
    dominant = xp.floor(orientation * (orientations / (2 * np.pi)) + 0.5) % orientations
    segment, sub_bin = excitation_bin // segment_bins, excitation_bin % segment_bins
    return (segment * orientations + dominant) * segment_bins + sub_bin


@validate_params(
    {
        "images": ["array-like"],
        "alpha": [Interval(Real, 0, None, closed="neither")],
        "beta": [Interval(Real, 0, None, closed="neither")],
    },
    prefer_skip_nested_validation=True,
)
def weber_local_descriptor(images, alpha=3.0, beta=5.0):
    """Differential excitation and gradient orientation maps of a batch of images.

    Parameters
    ----------
    images : array-like of shape (N, H, W) or (N, H, W, C), or list of arrays
        Non-negative intensities; colour images are converted to grey levels.
    alpha : float > 0, default=3.0
        Magnifier of the Weber ratio.
    beta : float > 0, default=5.0
        Added to the centre pixel, in the units of the images (grey levels
        0-255 for uint8; scale it down for images on [0, 1]).

    Returns
    -------
    excitation : ndarray of shape (N, H - 2, W - 2)
        ``arctan(alpha * sum_i (x_i - x_c) / (x_c + beta))``, in ``(-pi/2, pi/2)``.
    orientation : ndarray of shape (N, H - 2, W - 2)
        ``atan2(x_up - x_down, x_right - x_left)`` in ``[0, 2 pi)``.

    Raises
    ------
    ValueError
        Invalid parameters (named in the message), negative intensities, images
        smaller than 3x3.

    Examples
    --------
    >>> import numpy as np
    >>> from skvision.descriptors import weber_local_descriptor
    >>> spot = np.full((1, 3, 3), 10.0); spot[0, 1, 1] = 30.0
    >>> excitation, orientation = weber_local_descriptor(spot, alpha=1.0, beta=5.0)
    >>> round(float(excitation[0, 0, 0]), 4)  # arctan(8 * (10 - 30) / 35)
    -1.3554
    """
    checked = check_images(images, min_size=(3, 3), min_size_reason="the 3x3 neighbourhood")
    gray = to_grayscale(checked).astype(np.float64, copy=False)
    _check_non_negative(gray, "weber_local_descriptor", "images")
    return _wld_maps(gray, alpha, beta, np)


class WLD(CodeHistogramDescriptor):
    """Weber local descriptor: excitation x orientation histograms per cell.

    Each pixel's 3x3 neighbourhood gives a differential excitation (a Weber
    ratio, see :func:`weber_local_descriptor`) and a gradient orientation; the
    excitation is quantised into ``segments x segment_bins`` bins and the
    orientation into ``orientations`` dominant directions, and each cell of a
    ``grid`` gets the joint histogram, ``segments * orientations * segment_bins``
    bins laid out segment by segment as in Chen et al. (2010).

    Parameters
    ----------
    segments : int, default=6
        ``M``, the equal segments of the excitation range ``(-pi/2, pi/2)``
        (6 in the paper: from strongly darker to strongly brighter than the
        surround).
    orientations : int, default=8
        ``T``, the dominant orientations (8 in the paper).
    segment_bins : int, default=4
        ``S``, sub-bins per segment. The paper uses 20 on 128x128 Brodatz
        textures; 4 keeps the ``M * T * S = 192`` bins of a cell populated on
        small patches.
    alpha : float > 0, default=3.0
        Magnifier of the Weber ratio.
    beta : float > 0, default=5.0
        Added to the centre pixel, on the 8-bit grey-level scale 0-255 whatever
        the dtype: images are read by the value-scale rule of
        :mod:`skvision._images` (uint8 ``X`` and float ``X / 255`` give the same
        codes). Intensities must be non-negative.
    grid : int or (int, int), default=(1, 1)
        Cells along the rows and columns of the ``(H - 2) x (W - 2)`` code map.
    normalize : {'l1', 'l2', 'none'} or None, default='l1'
        Per-cell histogram normalisation.
    channels : {'gray', 'each'}, default='gray'
        Describe the luminance, or each channel separately (concatenated).
    n_jobs : int or None, default=None
        Threads over chunks of images in ``transform`` (``None``: 1 unless inside
        ``joblib.parallel_config``); work too small to gain from a second core
        runs in one thread, and ``joblib.parallel_config(backend=...)`` sends the
        chunks to that backend. The output is identical whatever ``n_jobs``.
    batch_size : int or None, default=None
        Images per chunk (bounds memory); None picks a size from the image area.
    device : str, default='cpu'
        Where the work runs ("GPUs" in docs/scaling.md): ``'cpu'`` runs the
        numpy path; ``'cuda'`` and ``'cuda:N'`` run torch on that GPU;
        ``'auto'`` (or None) takes a CUDA GPU when torch sees one, else the
        CPU.
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
        ``segments * orientations * segment_bins * rows * cols`` per described channel.

    References
    ----------
    J. Chen, S. Shan, C. He, G. Zhao, M. Pietikäinen, X. Chen and W. Gao, "WLD: A
    robust local image descriptor", IEEE TPAMI 32(9), 2010.

    Examples
    --------
    >>> import numpy as np
    >>> from skvision import WLD
    >>> images = np.random.default_rng(0).integers(0, 256, (4, 16, 16), dtype=np.uint8)
    >>> WLD(segments=6, orientations=8, segment_bins=2).fit_transform(images).shape
    (4, 96)
    """

    _parameter_constraints: dict = {
        **CodeHistogramDescriptor._parameter_constraints,
        "segments": [Interval(Integral, 1, None, closed="left")],
        "orientations": [Interval(Integral, 1, None, closed="left")],
        "segment_bins": [Interval(Integral, 1, None, closed="left")],
        "alpha": [Interval(Real, 0, None, closed="neither")],
        "beta": [Interval(Real, 0, None, closed="neither")],
    }
    _feature_prefix = "wld"
    _PIXEL_COST_NS = 70.0
    # Chunks of 2**18 pixels: the arrays of a chunk stay in the cache and below malloc's
    # threshold for handing memory back (above it every new array is memory the kernel
    # zeroes first); against the default 2**23, 1.3x on both, same output.
    _chunk_pixels = 2**18

    def _working_white(self):
        # beta is on the 8-bit grey-level scale (Li, Gong & Yuan): every dtype is read on 0-255.
        return 255.0

    def __init__(
        self,
        segments=6,
        orientations=8,
        segment_bins=4,
        alpha=3.0,
        beta=5.0,
        grid=(1, 1),
        normalize="l1",
        channels="gray",
        n_jobs=None,
        batch_size=None,
        device="cpu",
        verbose=0,
    ):
        self.segments = segments
        self.orientations = orientations
        self.segment_bins = segment_bins
        self.alpha = alpha
        self.beta = beta
        self.grid = grid
        self.normalize = normalize
        self.channels = channels
        self.n_jobs = n_jobs
        self.batch_size = batch_size
        self.device = device
        self.verbose = verbose

    def _n_codes(self):
        return self.segments * self.orientations * self.segment_bins

    def _code_border(self):
        return 1

    def _own_size_reason(self):
        return "the 3x3 neighbourhood"

    def _code_names(self):
        return [
            f"seg{m}_{orientation_part(t)}_{bin_part(s)}"
            for m in range(self.segments)
            for t in range(self.orientations)
            for s in range(self.segment_bins)
        ]

    def _code_maps(self, images):
        _check_non_negative(images)
        excitation, orientation = _wld_maps(images, self.alpha, self.beta, np)
        codes = _wld_codes(excitation, orientation, self.segments, self.orientations, self.segment_bins, np)
        return codes.astype(np.int64)

    def _code_maps_torch(self, images):
        import torch

        _check_non_negative(images)
        excitation, orientation = _wld_maps(images, self.alpha, self.beta, torch)
        quantised = (self.segments, self.orientations, self.segment_bins)
        codes = _wld_codes(excitation, orientation, *quantised, torch)
        return codes.long()
