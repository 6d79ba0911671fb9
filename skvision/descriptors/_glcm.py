"""Grey-level co-occurrence matrices and Haralick texture properties, batched.

``graycomatrix`` and ``graycoprops`` follow :func:`skimage.feature.graycomatrix`
and :func:`skimage.feature.graycoprops` exactly, on a whole batch at once: the
co-occurrences of every image of a chunk are counted by a single
:func:`numpy.bincount` per offset over ``(image, i, j)`` codes, instead of one
Cython loop per image.
"""

from __future__ import annotations

from numbers import Integral

import numpy as np

from .._compat import Interval, StrOptions
from .._images import check_images, is_integer_like
from ._base import BaseDescriptor
from ._common import (
    angle_part,
    check_grid,
    check_later_batch_in_range,
    check_non_negative,
    check_value_range,
    check_values_in_range,
    distance_part,
    explicit_range_white,
    grid_parts,
    infer_value_range,
    iter_cells,
    join_names,
)

__all__ = ["GLCM", "graycomatrix", "graycoprops", "GLCM_PROPERTIES"]

#: Properties of :func:`graycoprops` (those of scikit-image, which include entropy).
GLCM_PROPERTIES = (
    "contrast",
    "dissimilarity",
    "homogeneity",
    "energy",
    "correlation",
    "ASM",
    "entropy",
    "mean",
    "variance",
    "std",
)
_DEFAULT_PROPERTIES = ("contrast", "dissimilarity", "homogeneity", "energy", "correlation", "ASM", "entropy")
#: Pseudo-property of the GLCM transformer: the co-occurrence matrix itself, flattened.
_MATRIX = "matrix"

# Co-occurrence counts held at once, in int64 cells (8 bytes each): 2**24 is 128 MB.
_MAX_COUNT_CELLS = 2**24

#: Quotients ``(v - black) * levels / span`` this far below an integer count as on it (see ``_quantise``).
_LEVEL_TOLERANCE = 1e-6


# --------------------------------------------------------------------------- functional API
def _check_offsets_params(distances, angles):
    given_distances, given_angles = distances, angles
    distances = np.asarray(distances, dtype=np.float64) if _is_real_sequence(distances) else None
    if (
        distances is None
        or distances.ndim != 1
        or distances.size == 0
        or not np.all(np.isfinite(distances))
        or np.any(distances <= 0)
    ):
        raise ValueError(
            "distances must be a non-empty 1-D sequence of positive numbers (pixels); "
            f"got {given_distances!r}."
        )
    angles = np.asarray(angles, dtype=np.float64) if _is_real_sequence(angles) else None
    if angles is None or angles.ndim != 1 or angles.size == 0 or not np.all(np.isfinite(angles)):
        raise ValueError(
            f"angles must be a non-empty 1-D sequence of finite angles in radians; got {given_angles!r}."
        )
    return distances, angles


def _is_real_sequence(values):
    try:
        array = np.asarray(values)
    except (TypeError, ValueError):
        return False
    return array.dtype.kind in "uif"


def _round_half_away(values):
    # skimage rounds offsets in C as (int)(x + 0.5) for x > 0 and (int)(x - 0.5)
    # otherwise; the same float arithmetic here gives the same offsets.
    return np.where(values > 0, np.trunc(values + 0.5), np.trunc(values - 0.5)).astype(np.intp)


def pixel_offsets(distances, angles):
    """Integer ``(row, col)`` offsets of skimage's GLCM, shape ``(len(distances), len(angles), 2)``.

    An angle of 0 points to the right-hand neighbour; the row offset is
    ``round(sin(angle) * distance)``, the column offset ``round(cos(angle) * distance)``
    (so pi/2 points one row *down* in array coordinates, as in scikit-image's code).

    Examples
    --------
    >>> pixel_offsets([1], [0, np.pi / 4, np.pi / 2, 3 * np.pi / 4])[0].tolist()
    [[0, 1], [1, 1], [1, 0], [1, -1]]
    """
    distances = np.asarray(distances, dtype=np.float64)[:, None]
    angles = np.asarray(angles, dtype=np.float64)[None, :]
    rows = _round_half_away(np.sin(angles) * distances)
    cols = _round_half_away(np.cos(angles) * distances)
    return np.stack([rows, cols], axis=-1)


def _cooccurrence_counts(levels_img, offsets, n_levels):
    """Counts ``(n, L, L, K)`` int64 of the ``K`` offsets over a stack of level images."""
    n, height, width = levels_img.shape
    cells = n_levels * n_levels
    counts = np.empty((n, n_levels, n_levels, len(offsets)), dtype=np.int64)
    # Bound the bincount output (n_sub * L * L cells) by splitting the stack.
    step = max(1, _MAX_COUNT_CELLS // cells)
    for start in range(0, n, step):
        block = levels_img[start : start + step].astype(np.int64, copy=False)
        n_block = block.shape[0]
        # Code of a pair (image k, first level i, second level j): (k * L + i) * L + j.
        first_code = (np.arange(n_block, dtype=np.int64)[:, None, None] * n_levels + block) * n_levels
        for k, (dr, dc) in enumerate(offsets):
            r0, r1 = max(0, -dr), min(height, height - dr)
            c0, c1 = max(0, -dc), min(width, width - dc)
            if r1 <= r0 or c1 <= c0:
                counts[start : start + n_block, ..., k] = 0
                continue
            codes = first_code[:, r0:r1, c0:c1] + block[:, r0 + dr : r1 + dr, c0 + dc : c1 + dc]
            hist = np.bincount(codes.ravel(), minlength=n_block * cells)
            counts[start : start + n_block, ..., k] = hist.reshape(n_block, n_levels, n_levels)
    return counts


def _cooccurrence(levels_img, distances, angles, n_levels, symmetric):
    """``(n, L, L, D, A)`` int64 co-occurrence counts of a stack of level images."""
    offsets = pixel_offsets(distances, angles).reshape(-1, 2)
    counts = _cooccurrence_counts(levels_img, offsets, n_levels)
    counts = counts.reshape(counts.shape[:3] + (len(distances), len(angles)))
    if symmetric:
        counts = counts + counts.transpose(0, 2, 1, 3, 4)
    return counts


def _normalise(P):
    P = P.astype(np.float64)
    sums = P.sum(axis=(1, 2), keepdims=True)
    sums[sums == 0] = 1
    P /= sums
    return P


def _properties(P, properties):
    """Haralick properties of normalised matrices ``P`` (n, L, L, D, A) -> dict of (n, D, A)."""
    n_levels = P.shape[1]
    levels = np.arange(n_levels, dtype=np.float64)
    diff = levels[:, None] - levels[None, :]
    out = {}
    needs_marginals = {"correlation", "mean", "variance", "std"} & set(properties)
    if needs_marginals:
        p_i = P.sum(axis=2)  # (n, L, D, A): marginal of the first level
        mean_i = np.einsum("l,nlda->nda", levels, p_i)
        dev_i = levels[None, :, None, None] - mean_i[:, None]
        var_i = np.einsum("nlda,nlda->nda", p_i, dev_i**2)
    for prop in properties:
        if prop == "contrast":
            out[prop] = np.einsum("ij,nijda->nda", diff**2, P)
        elif prop == "dissimilarity":
            out[prop] = np.einsum("ij,nijda->nda", np.abs(diff), P)
        elif prop == "homogeneity":
            out[prop] = np.einsum("ij,nijda->nda", 1.0 / (1.0 + diff**2), P)
        elif prop in ("ASM", "energy"):
            asm = np.einsum("nijda,nijda->nda", P, P)
            out[prop] = asm if prop == "ASM" else np.sqrt(asm)
        elif prop == "entropy":
            log_p = np.log(P, where=P > 0, out=np.zeros_like(P))
            out[prop] = -np.einsum("nijda,nijda->nda", P, log_p)
        elif prop == "mean":
            out[prop] = mean_i
        elif prop == "variance":
            out[prop] = var_i
        elif prop == "std":
            out[prop] = np.sqrt(var_i)
        elif prop == "correlation":
            p_j = P.sum(axis=1)
            mean_j = np.einsum("l,nlda->nda", levels, p_j)
            dev_j = levels[None, :, None, None] - mean_j[:, None]
            var_j = np.einsum("nlda,nlda->nda", p_j, dev_j**2)
            cov = np.einsum("nida,njda,nijda->nda", dev_i, dev_j, P)
            std_i, std_j = np.sqrt(var_i), np.sqrt(var_j)
            # scikit-image's convention: a constant marginal gives correlation 1.
            degenerate = (std_i < 1e-15) | (std_j < 1e-15)
            denom = np.where(degenerate, 1.0, std_i * std_j)
            out[prop] = np.where(degenerate, 1.0, cov / denom)
    return out


def graycomatrix(images, distances, angles, levels=None, symmetric=False, normed=False):
    """Grey-level co-occurrence matrices of a batch, as :func:`skimage.feature.graycomatrix`.

    Parameters
    ----------
    images : array-like of shape (N, H, W), integer dtype
        Grey-level images with values in ``[0, levels - 1]`` (see
        :class:`GLCM` to quantise arbitrary images).
    distances : sequence of float
        Pixel pair distances (positive).
    angles : sequence of float
        Pixel pair angles in radians; 0 is the right-hand neighbour. Offsets
        are ``(round(sin(a) * d), round(cos(a) * d))`` in (row, col), as in
        scikit-image.
    levels : int, optional
        Number of grey levels; required for dtypes other than uint8 / int8
        (which default to 256).
    symmetric : bool, default=False
        Count each pair in both orders.
    normed : bool, default=False
        Divide each matrix by its total so that it sums to 1.

    Returns
    -------
    P : ndarray of shape (N, levels, levels, len(distances), len(angles))
        ``P[n, i, j, d, a]`` counts level ``j`` at offset ``(d, a)`` from level
        ``i`` in image ``n``; uint32 counts, or float64 when ``normed``.
        ``P[n]`` equals ``skimage.feature.graycomatrix(images[n], ...)``.

    Examples
    --------
    >>> import numpy as np
    >>> from skvision.descriptors import graycomatrix
    >>> image = np.array([[0, 0, 1, 1], [0, 0, 1, 1], [0, 2, 2, 2], [2, 2, 3, 3]], dtype=np.uint8)
    >>> graycomatrix(image[None], [1], [0], levels=4)[0, :, :, 0, 0]
    array([[2, 2, 1, 0],
           [0, 2, 0, 0],
           [0, 0, 3, 1],
           [0, 0, 0, 1]], dtype=uint32)
    """
    images = check_images(images, name="images", allowed_channels=None)
    if images.ndim != 3:
        raise ValueError(
            f"graycomatrix takes grey-level images of shape (N, H, W); got shape {images.shape}. "
            "Quantise colour images with skvision.GLCM (channels='gray' or 'each')."
        )
    if images.dtype.kind == "f":
        raise ValueError(
            f"graycomatrix needs integer images with values in [0, levels - 1]; got dtype {images.dtype}. "
            "Quantise them first (skvision.GLCM does so with its levels and value_range)."
        )
    distances, angles = _check_offsets_params(distances, angles)
    if levels is None:
        if images.dtype not in (np.uint8, np.int8):
            raise ValueError(
                f"levels is required for images of dtype {images.dtype} (only uint8 / int8 default to 256)."
            )
        levels = 256
    if not (is_integer_like(levels) and levels >= 1):
        raise ValueError(f"levels must be a positive int; got {levels!r}.")
    check_non_negative(
        images,
        "graycomatrix",
        what="grey levels",
        why="they index the matrix rows and columns",
        name="images",
    )
    if images.max() >= levels:
        raise ValueError(
            f"images has grey level {images.max()} but levels={levels}: values must lie in [0, levels - 1]."
        )
    counts = _cooccurrence(images, distances, angles, int(levels), symmetric)
    if normed:
        return _normalise(counts)
    return counts.astype(np.uint32)


def graycoprops(P, prop="contrast"):
    """Texture properties of a batch of GLCMs, as :func:`skimage.feature.graycoprops`.

    Parameters
    ----------
    P : array-like of shape (N, L, L, D, A)
        Co-occurrence matrices from :func:`graycomatrix` (normalised or not:
        each is normalised to sum 1 first, as in scikit-image).
    prop : {'contrast', 'dissimilarity', 'homogeneity', 'energy', 'correlation', \
'ASM', 'entropy', 'mean', 'variance', 'std'}, default='contrast'
        The property. Entropy uses the natural logarithm.

    Returns
    -------
    values : ndarray of shape (N, D, A)
        ``values[n]`` equals ``skimage.feature.graycoprops(P[n], prop)``.

    Examples
    --------
    >>> import numpy as np
    >>> from skvision.descriptors import graycomatrix, graycoprops
    >>> image = np.array([[0, 0, 1, 1], [0, 0, 1, 1], [0, 2, 2, 2], [2, 2, 3, 3]], dtype=np.uint8)
    >>> P = graycomatrix(image[None], [1, 2], [0, np.pi / 2], levels=4, symmetric=True, normed=True)
    >>> graycoprops(P, "contrast")[0]
    array([[0.58333333, 1.        ],
           [1.25      , 2.75      ]])
    """
    P = np.asarray(P)
    if P.ndim != 5 or P.shape[1] != P.shape[2] or 0 in P.shape:
        raise ValueError(
            f"P must be a non-empty batch of square GLCMs of shape (N, L, L, D, A); got shape {P.shape}."
        )
    if prop not in GLCM_PROPERTIES:
        raise ValueError(f"prop must be one of {list(GLCM_PROPERTIES)}; got {prop!r}.")
    return _properties(_normalise(P), [prop])[prop]


# --------------------------------------------------------------------------- transformer
def _whole_numbers(cells, low, span, levels):
    """Whether ``cells``, ``low`` and ``span`` are whole numbers small enough for exact int64 levels."""
    bound = 2.0**52 / max(levels, 1)
    low, span = np.asarray(low), np.asarray(span)
    return bool(
        np.all(np.abs(low) < bound)
        and np.all(span < bound)
        and np.all(low == np.floor(low))
        and np.all(span == np.floor(span))
        and cells.min(initial=0.0) > -bound
        and cells.max(initial=0.0) < bound
        and bool(np.all(np.floor(cells) == cells))
    )


class GLCM(BaseDescriptor):
    """Haralick texture features from grey-level co-occurrence matrices.

    Each image (or each cell of a ``grid``) is quantised to ``levels`` grey
    levels, its co-occurrence matrix is counted for every distance and angle,
    and the chosen Haralick properties of each matrix are the features. The
    matrices and properties equal :func:`skimage.feature.graycomatrix` and
    :func:`skimage.feature.graycoprops` on the quantised image.

    Quantisation rule: with intensities read on the scale ``value_range =
    (black, white)``, a value ``v`` gets level
    ``floor((v - black) * levels / (white - black))``, and ``white`` itself the
    top level ``levels - 1``. For uint8 images (scale ``(0, 255)``) and
    ``levels`` dividing 256 this is integer division, ``v // (256 // levels)``;
    with ``levels=256`` it is the identity. A quotient within 1e-6 below an
    integer counts as on it: float copies such as ``X / 255`` reach a level
    boundary to rounding only, and quantise as ``X`` does (integer images are
    never that close to a boundary they do not hit).

    Parameters
    ----------
    distances : sequence of float, default=(1,)
        Pixel pair distances.
    angles : sequence of float, default=(0, pi/4, pi/2, 3pi/4)
        Pixel pair angles in radians (offsets rounded as in scikit-image).
    levels : int, default=8
        Number of grey levels after quantisation (2 to 256 is typical; the
        matrices have ``levels**2`` cells).
    value_range : (float, float), 'image' or None, default=None
        Intensity scale ``(black, white)`` of the input. ``None`` takes it from
        the training images' dtype in ``fit``: (0, 255) for uint8, bool and other
        integers, (0, 65535) for uint16, (0, 1) for floats. An explicit range is
        on the scale of the training images: later images in another dtype are
        read on it by the value-scale rule (``X / 255`` after a ``fit`` on uint8
        ``X`` gives the features of ``X``) and checked against ``fit``'s scale
        (:mod:`skvision._images`); after a ``fit`` on integers beyond 0-255
        (int16, int32, ...) the range alone says what values mean. Values
        outside the scale raise a ValueError (never silently clipped).
        ``'image'`` stretches each image (each cell) from its own minimum to its
        maximum, which makes the features independent of the value scale.
    symmetric : bool, default=True
        Count each pair in both orders (Haralick's definition).
    normed : bool, default=True
        Normalise each matrix to sum 1. Only changes the ``'matrix'`` output:
        the properties are always computed on normalised matrices, as in
        scikit-image.
    properties : sequence of str, default=('contrast', 'dissimilarity', \
'homogeneity', 'energy', 'correlation', 'ASM', 'entropy')
        Any of ``graycoprops``'s properties ('contrast', 'dissimilarity',
        'homogeneity', 'energy', 'correlation', 'ASM', 'entropy', 'mean',
        'variance', 'std'), plus ``'matrix'``: the flattened matrices themselves.
    rotation_average : bool, default=False
        Average each property (and matrix) over the angles, so that features
        no longer depend on the texture's orientation (per distance only).
    grid : int or (int, int), default=(1, 1)
        Cells (rows, cols) to describe separately; features are concatenated
        cell by cell. Each cell must hold the largest pixel offset.
    channels : {'gray', 'each'}, default='gray'
        Describe luminance, or each channel of colour images separately.
    n_jobs : int or None, default=None
        Threads over chunks of images in ``transform`` (``None``: 1 unless inside
        ``joblib.parallel_config``); work too small to gain from a second core
        runs in one thread, and ``joblib.parallel_config(backend=...)`` sends the
        chunks to that backend. The output is identical whatever ``n_jobs``.
    batch_size : int or None, default=None
        Images per chunk; ``None`` sizes chunks by pixel count.
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
    value_range_ : (float, float) or 'image'
        The intensity scale used to quantise.
    n_features_out_ : int
        Length of the feature vector.

    See Also
    --------
    graycomatrix, graycoprops : The batched functional forms.

    Examples
    --------
    >>> from skvision.datasets import load_textures
    >>> from skvision.descriptors import GLCM
    >>> X, y = load_textures(patch_size=16, n_per_class=4, return_X_y=True)
    >>> glcm = GLCM(distances=[1, 2], properties=["contrast", "energy"], rotation_average=True)
    >>> glcm.fit_transform(X).shape
    (12, 4)
    >>> glcm.get_feature_names_out()[:2].tolist()
    ['glcm_contrast_d1', 'glcm_contrast_d2']
    """

    _parameter_constraints: dict = {
        **BaseDescriptor._parameter_constraints,
        "distances": ["array-like"],
        "angles": ["array-like"],
        "levels": [Interval(Integral, 2, None, closed="left")],
        "value_range": [tuple, list, StrOptions({"image"}), None],
        "symmetric": ["boolean"],
        "normed": ["boolean"],
        "properties": [list, tuple],
        "rotation_average": ["boolean"],
        "grid": [Interval(Integral, 1, None, closed="left"), tuple, list],
    }
    _feature_prefix = "glcm"
    _PIXEL_COST_NS = 12.0
    # Chunks of 2**18 pixels: the arrays of a chunk stay in the cache and below malloc's
    # threshold for handing memory back (above it every new array is memory the kernel
    # zeroes first); against the default 2**23, 1.6x on 5,000 28x28, 1.5x on 20 512x512, same output.
    _chunk_pixels = 2**18

    def __init__(
        self,
        distances=(1,),
        angles=(0.0, np.pi / 4, np.pi / 2, 3 * np.pi / 4),
        levels=8,
        value_range=None,
        symmetric=True,
        normed=True,
        properties=_DEFAULT_PROPERTIES,
        rotation_average=False,
        grid=(1, 1),
        channels="gray",
        n_jobs=None,
        batch_size=None,
        verbose=0,
    ):
        self.distances = distances
        self.angles = angles
        self.levels = levels
        self.value_range = value_range
        self.symmetric = symmetric
        self.normed = normed
        self.properties = properties
        self.rotation_average = rotation_average
        self.grid = grid
        self.channels = channels
        self.n_jobs = n_jobs
        self.batch_size = batch_size
        self.verbose = verbose

    # ------------------------------------------------------------------ hooks
    def _check_params(self):
        distances, angles = _check_offsets_params(self.distances, self.angles)
        beyond = angles[np.abs(angles) > 2 * np.pi + 1e-9]
        if beyond.size:
            # No angle needs more than a turn: these are degrees, read as radians (45 rad is 2578 degrees).
            raise ValueError(
                f"angles are in radians, within [-2 pi, 2 pi]; got {self.angles!r} ({beyond[0]:g} radians "
                f"is more than a turn): for angles in degrees pass np.deg2rad(angles)."
            )
        turns = np.round(np.mod(angles, 2 * np.pi), 9) % np.round(2 * np.pi, 9)  # 0 and 2 pi: one angle
        for name, values in (("distances", distances), ("angles", turns)):
            given = getattr(self, name)
            if len(np.unique(values)) < len(values):
                # Repeats give repeated columns and feature names that say nothing new (graycomatrix,
                # like scikit-image's, takes them).
                modulo = " (modulo 2 pi)" if name == "angles" else ""
                raise ValueError(f"{name} must be distinct{modulo}; got {given!r}.")
        check_grid(self.grid)
        if self.value_range is not None and self.value_range != "image":
            check_value_range(self.value_range)
        allowed = (*GLCM_PROPERTIES, _MATRIX)
        unknown = [p for p in self.properties if p not in allowed]
        if not self.properties or unknown:
            raise ValueError(
                f"properties must be a non-empty list of {list(allowed)}; got {list(self.properties)!r}."
            )
        if len(set(self.properties)) != len(self.properties):
            raise ValueError(f"properties has duplicates: {list(self.properties)!r}.")

    def _max_offset(self):
        offsets = np.abs(pixel_offsets(*_check_offsets_params(self.distances, self.angles)))
        return int(offsets[..., 0].max()), int(offsets[..., 1].max())

    def _min_image_size(self):
        rows, cols = check_grid(self.grid)
        dr, dc = self._max_offset()
        return (rows * (dr + 1), cols * (dc + 1))

    def _min_image_size_reason(self):
        return (
            f"grid={self.grid!r} with cells holding the largest pixel offset {self._max_offset()} (row, col)"
        )

    def _fit_images(self, images):
        if self.value_range is None:
            self.value_range_ = infer_value_range(images)
        elif self.value_range == "image":
            self.value_range_ = "image"
        else:
            self.value_range_ = check_value_range(self.value_range)
        if self.value_range_ != "image":
            check_values_in_range(images, self.value_range_, type(self).__name__)

    def _validate_images(self, X, *, reset):
        if reset:
            # An explicit value_range's working scale is the one fit is about to record, not a past fit's.
            self.__dict__.pop("input_scale_", None)
        images = super()._validate_images(X, reset=reset)
        if not reset and self.value_range_ != "image":
            check_later_batch_in_range(self, images)
        return images

    def _working_white(self):
        # Values read by the rule (skvision._images) on the scale of the training images, so that
        # X / 255 after a uint8 fit quantises like X, and checked against fit's scale: value_range=None
        # takes that scale from value_range_, an explicit value_range is on it (explicit_range_white).
        # 'image' stretches each image from its own extremes: nothing to convert or check.
        if self.value_range == "image":
            return None
        if self.value_range is not None:
            return explicit_range_white(self)
        fitted = self.__dict__.get("value_range_")
        return fitted[1] if isinstance(fitted, tuple) else 1.0

    def _quantise(self, cells):
        levels = self.levels
        if self.value_range_ == "image":
            low = cells.min(axis=(1, 2), keepdims=True)
            span = cells.max(axis=(1, 2), keepdims=True) - low
            span[span == 0] = 1.0  # a constant cell is all level 0
        else:
            low, high = self.value_range_
            span = high - low
        # A level boundary is where (v - black) * levels / span is an integer k. Computed from
        # another representation of the same intensities (X / 255 instead of X: 0.6 * 8 / 0.8 is
        # 5.999999999999999 where 153 * 8 / 204 is 6), the quotient lands a few ulps either side of
        # k, and a plain floor would put such pixels one level apart. So quotients within
        # _LEVEL_TOLERANCE below an integer count as on it: float64 rounding of [0, 1] copies of 8-
        # and 16-bit images stays below 1e-9 levels (up to 4096 levels), while a value of such an
        # image that is not on a boundary lies at least 1 / span >= 1 / 65535 levels below the
        # next, so integer images quantise exactly as integer arithmetic (and scikit-image) do.
        if _whole_numbers(cells, low, span, levels):
            # Integer images quantise by integer arithmetic. The tolerance below would bump a value
            # within 1e-6 levels under a boundary, which an integer is once the span passes ~1e6
            # (int32 data in value_range=(0, 10**7): 1428571 * 7 / 10**7 = 0.9999997 took level 1).
            offset = cells.astype(np.int64) - np.asarray(low).astype(np.int64)
            quantised = offset * levels // np.asarray(span).astype(np.int64)
        else:
            quantised = np.floor((cells - low) * levels / span + _LEVEL_TOLERANCE)
        np.clip(quantised, 0, levels - 1, out=quantised)
        return quantised.astype(np.intp)

    def _describe(self, images):
        distances, angles = _check_offsets_params(self.distances, self.angles)
        parts = []
        for cells in iter_cells(images, check_grid(self.grid)):
            counts = _cooccurrence(self._quantise(cells), distances, angles, self.levels, self.symmetric)
            P = _normalise(counts)
            n = P.shape[0]
            props = [p for p in self.properties if p != _MATRIX]
            values = _properties(P, props)
            for prop in self.properties:
                if prop == _MATRIX:
                    matrix = P if self.normed else counts.astype(np.float64)
                    if self.rotation_average:
                        matrix = matrix.mean(axis=4)
                    # (n, L, L, D[, A]) -> names run over distance, angle, then i, j.
                    matrix = np.moveaxis(matrix.reshape(n, self.levels**2, -1), 1, 2)
                    parts.append(matrix.reshape(n, -1))
                else:
                    value = values[prop]
                    parts.append(value.mean(axis=2) if self.rotation_average else value.reshape(n, -1))
        return np.concatenate(parts, axis=1)

    def _plane_feature_names(self):
        distances, angles = _check_offsets_params(self.distances, self.angles)
        offsets = [distance_part(d) for d in distances]
        if not self.rotation_average:
            offsets = join_names(offsets, [angle_part(a) for a in angles])
        levels = range(self.levels)
        quantities = []
        for prop in self.properties:
            if prop == _MATRIX:
                # Columns run over the offsets, then the matrix entries (i, j).
                quantities += [f"matrix{i}_{j}_{o}" for o in offsets for i in levels for j in levels]
            else:
                quantities += join_names([prop], offsets)
        return join_names(grid_parts("cell", *check_grid(self.grid)), quantities)
