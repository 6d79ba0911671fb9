"""Helpers shared by the descriptors: parameter checks, the grid of cells, intensity scales, feature names.

Every descriptor module takes these from here, so that a rule is written once:

* :func:`check_positive_ints`: "a positive int, or a pair (triple) of them" (``grid``,
  ``pixels_per_cell``, ``cells_per_block``, ``bins``), and :func:`check_grid`;
* :func:`check_odd_size`: an odd window or filter size;
* :func:`check_non_negative`: inputs whose values must not be negative;
* :func:`cell_bounds`, :func:`cell_index`, :func:`iter_cells`: one rule that cuts an
  image into a grid of cells;
* :func:`infer_value_range`, :func:`check_value_range`, :func:`check_values_in_range`:
  the intensity scale of descriptors that quantise intensities;
* the feature-name parts (:func:`grid_parts`, :func:`join_names` and the spellings
  :func:`angle_part`, :func:`orientation_part`, :func:`bin_part`, ...) of the scheme
  documented in :mod:`skvision.descriptors`.
"""

from __future__ import annotations

import math

import numpy as np

from .._images import intensity_white, is_integer_like, to_working_scale

__all__ = [
    "angle_part",
    "bin_part",
    "cell_bounds",
    "cell_index",
    "check_grid",
    "check_non_negative",
    "check_odd_size",
    "check_positive_ints",
    "check_value_range",
    "check_values_in_range",
    "check_later_batch_in_range",
    "explicit_range_white",
    "distance_part",
    "format_value",
    "frequency_part",
    "grid_parts",
    "infer_value_range",
    "iter_cells",
    "join_names",
    "orientation_part",
]

_COUNT_WORDS = {2: "a pair of", 3: "three"}


# --------------------------------------------------------------------------- parameters
def check_positive_ints(value, name, count=2, meaning="(rows, cols)"):
    """Return ``value`` as a tuple of ``count`` positive ints, or raise a ValueError naming ``name``.

    A single int stands for ``count`` equal values; a tuple, list or 1-D array must
    hold exactly ``count`` of them.

    Examples
    --------
    >>> check_positive_ints(2, "grid"), check_positive_ints([8, 6], "pixels_per_cell")
    ((2, 2), (8, 6))
    >>> check_positive_ints((4, 4, 2), "bins", count=3, meaning="(one per channel)")
    (4, 4, 2)
    """
    values = (value,) * count if is_integer_like(value) else value
    if (
        not isinstance(values, (tuple, list, np.ndarray))
        or np.ndim(values) != 1
        or len(values) != count
        or not all(is_integer_like(v) and v >= 1 for v in values)
    ):
        raise ValueError(
            f"{name} must be a positive int or {_COUNT_WORDS.get(count, count)} positive ints "
            f"{meaning}; got {value!r}."
        )
    return tuple(int(v) for v in values)


def check_grid(grid, name="grid"):
    """Return ``grid`` as a ``(rows, cols)`` pair of positive ints, or raise ValueError.

    Examples
    --------
    >>> check_grid(2), check_grid((2, 3))
    ((2, 2), (2, 3))
    """
    return check_positive_ints(grid, name)


def check_odd_size(value, name):
    """Raise a ValueError unless ``value`` (an int >= 1, already checked) is odd and at least 3."""
    if value % 2 == 0 or value < 3:
        raise ValueError(f"{name} must be an odd integer >= 3; got {value!r}.")


def check_non_negative(values, owner, *, why, what="intensities", name="X", hint=""):
    """Raise a ValueError when ``values`` (a numpy array or torch tensor) holds a negative value.

    The message says who needs non-negative ``what``, ``why``, and the minimum
    found in ``name``. Unsigned and boolean arrays are not scanned.

    Examples
    --------
    >>> check_non_negative(np.array([-0.5, 2.0]), "HuMoments", why="a mass distribution")
    Traceback (most recent call last):
    ...
    ValueError: HuMoments needs non-negative intensities (a mass distribution); X has a minimum of -0.5.
    """
    if getattr(getattr(values, "dtype", None), "kind", None) in ("u", "b"):
        return
    minimum = float(values.min())
    if minimum < 0:
        message = f"{owner} needs non-negative {what} ({why}); {name} has a minimum of {minimum:g}."
        raise ValueError(f"{message} {hint}" if hint else message)


# ------------------------------------------------------------------------------ 8-bit levels
def eight_bit_level_images(images):
    """Which images of a batch are 8-bit levels on another scale (``X / 255``, ``X * 257``), and their levels.

    Returns ``(levels, is_levels)``: ``is_levels`` a boolean per image, ``levels``
    the uint8 levels of those images, ``(is_levels.sum(), *images.shape[1:])``.
    A float image counts when ``rint(x * 255) / 255 == x`` for every pixel, in
    the images' own float type (``X / 255`` in float32 is levels in float32); a
    uint16 image when every pixel is a multiple of 257.

    Examples
    --------
    >>> import numpy as np
    >>> images = np.stack([np.arange(4.0).reshape(2, 2) / 255, np.full((2, 2), 0.3)])
    >>> levels, is_levels = eight_bit_level_images(images)
    >>> is_levels.tolist(), levels.tolist()
    ([True, False], [[[0, 1], [2, 3]]])
    """
    is_levels = np.zeros(len(images), dtype=bool)
    if images.dtype == np.uint16 and len(images):
        # 16-bit copies of 8-bit images, X * 257 (the same images by the rule of skvision._images).
        flat = images.reshape(len(images), -1)
        is_levels = np.logical_not((flat % 257).any(axis=1))
        levels = (flat[is_levels] // 257).astype(np.uint8)
        return levels.reshape(-1, *images.shape[1:]), is_levels
    if images.dtype.kind != "f" or not len(images):
        return np.empty((0, *images.shape[1:]), dtype=np.uint8), is_levels
    flat = images.reshape(len(images), -1)
    white = images.dtype.type(255)
    # A glance at a few pixels of each image first: a smooth float image is out at once.
    glance = flat[:, :: max(1, flat.shape[1] // 16)]
    candidates = np.flatnonzero(((np.rint(glance * white) / white) == glance).all(axis=1))
    levels = np.empty((len(candidates), flat.shape[1]), dtype=np.uint8)
    exact = np.zeros(len(candidates), dtype=bool)
    # Blocks of ~1 MB: the five passes of the check stay in the cache.
    step = max(1, 2**17 // flat.shape[1])
    for start in range(0, len(candidates), step):
        block = flat[candidates[start : start + step]]
        scaled = np.rint(block * white)
        ok = (scaled / white == block).all(axis=1) & (scaled.min(axis=1) >= 0) & (scaled.max(axis=1) <= 255)
        exact[start : start + step] = ok
        levels[start : start + step][ok] = scaled[ok]
    is_levels[candidates[exact]] = True
    return levels[exact].reshape(-1, *images.shape[1:]), is_levels


def as_8bit_levels(images):
    """Images that are 8-bit levels on another scale (``X / 255``, ``X * 257``), as the levels 0-255.

    Image by image (:func:`eight_bit_level_images`); other images come back as
    they are, in the batch's own float type (levels are exact in float32). A
    batch of levels only comes back as uint8.

    Examples
    --------
    >>> import numpy as np
    >>> as_8bit_levels(np.array([[[0.0, 1 / 255, 1.0]]])).tolist()
    [[[0, 1, 255]]]
    """
    levels, is_levels = eight_bit_level_images(images)
    if not is_levels.any():
        return images
    if is_levels.all():
        return levels  # the uint8 images themselves
    out = images.copy()
    out[is_levels] = levels
    return out


# --------------------------------------------------------------------------- grid of cells
def cell_bounds(length, n_cells):
    """Integer boundaries that split ``length`` pixels into ``n_cells`` near-equal cells.

    Cell ``k`` spans ``[k * length // n_cells, (k + 1) * length // n_cells)``; every
    pixel belongs to exactly one cell and cell sizes differ by at most one.

    Examples
    --------
    >>> cell_bounds(10, 3)
    [(0, 3), (3, 6), (6, 10)]
    """
    return [(k * length // n_cells, (k + 1) * length // n_cells) for k in range(n_cells)]


def cell_index(shape, grid):
    """``(h, w)`` int map of each pixel's cell number (row-major), cells cut by :func:`cell_bounds`.

    Examples
    --------
    >>> cell_index((3, 4), (2, 2)).tolist()
    [[0, 0, 1, 1], [2, 2, 3, 3], [2, 2, 3, 3]]
    """
    (h, w), (rows, cols) = shape, grid
    row_sizes = [stop - start for start, stop in cell_bounds(h, rows)]
    col_sizes = [stop - start for start, stop in cell_bounds(w, cols)]
    row_of = np.repeat(np.arange(rows), row_sizes)
    col_of = np.repeat(np.arange(cols), col_sizes)
    return row_of[:, None] * cols + col_of[None, :]


def iter_cells(images, grid):
    """Yield the ``(n, h, w[, C])`` cell stacks of an ``(n, H, W[, C])`` batch, row-major.

    Cells are cut by :func:`cell_bounds`; numpy arrays and torch tensors alike.
    """
    rows, cols = grid
    for r0, r1 in cell_bounds(images.shape[1], rows):
        for c0, c1 in cell_bounds(images.shape[2], cols):
            yield images[:, r0:r1, c0:c1]


# --------------------------------------------------------------------------- intensity scale
def infer_value_range(images):
    """Default intensity scale ``(black, white)`` of a validated batch, from its dtype.

    The value-scale rule of :mod:`skvision._images`: uint8 (and bool, which arrives as
    uint8 0 / 255) and other integer dtypes are read on the 8-bit scale ``(0, 255)``,
    uint16 on ``(0, 65535)``, floats on scikit-image's ``(0, 1)``. Values outside the
    scale are rejected by :func:`check_values_in_range` rather than clipped, so that a
    wrong guess is never silent.
    """
    return (0.0, intensity_white(images.dtype))


def check_value_range(value_range, name="value_range"):
    """Validate a ``(black, white)`` pair of finite numbers with ``black < white``."""
    try:
        low, high = value_range
        low, high = float(low), float(high)
    except (TypeError, ValueError):
        low = high = math.nan
    if not (math.isfinite(low) and math.isfinite(high) and low < high):
        raise ValueError(
            f"{name} must be None or a pair (black, white) of finite numbers with black < white; "
            f"got {value_range!r}."
        )
    return (low, high)


def check_values_in_range(images, value_range, owner, name="value_range"):
    """Raise a ValueError when ``images`` hold values outside ``value_range``."""
    low, high = value_range
    vmin, vmax = float(images.min()), float(images.max())
    if vmin < low or vmax > high:
        raise ValueError(
            f"X has values in [{vmin:g}, {vmax:g}] but {owner} reads intensities on the scale "
            f"{name}=({low:g}, {high:g}) (black, white). Pass value_range=(black, white) "
            "matching your images, e.g. (0, 255) for 8-bit values stored as floats."
        )


#: Relative rounding of a batch's extremes carried to fit's scale (see ``check_later_batch_in_range``).
_CONVERSION_TOLERANCE = 1e-9


def explicit_range_white(estimator):
    """``_working_white`` of a descriptor given an explicit ``value_range`` (GLCM, ColorHistogram).

    The range is on the scale of the training images' dtype: later batches are read by the
    value-scale rule on that scale (``X / 255`` after a uint8 ``fit`` is ``X``) and checked
    against ``fit``'s scale like every intensity reader (:mod:`skvision._images`). ``None``
    (values taken as given, nothing checked) while fitting, when that scale is not known yet,
    and after a fit on integers beyond the 8-bit levels, which only the given range describes.
    """
    scale = estimator.__dict__.get("input_scale_")
    if scale is None or (scale.kind == "int" and not (0 <= scale.low and scale.high <= 255)):
        return None
    return scale.white


def check_later_batch_in_range(estimator, images):
    """Refuse a later batch with values outside a fitted ``value_range_`` (GLCM, ColorHistogram).

    With ``value_range=None`` the batch is read on its own dtype's scale (then brought to
    ``value_range_``'s). With an explicit range, a batch in another dtype than ``fit`` saw is
    compared once read on fit's scale: its extremes are converted as its planes will be
    (:func:`~skvision._images.to_working_scale`).
    """
    owner = type(estimator).__name__
    if estimator.value_range is None:
        check_values_in_range(images, infer_value_range(images), owner)
        return
    white = estimator._working_white()
    if white is None or intensity_white(images.dtype) == white:
        check_values_in_range(images, estimator.value_range_, owner)
        return
    low, high = estimator.value_range_
    vmin, vmax = float(images.min()), float(images.max())
    on_min, on_max = to_working_scale(np.array([vmin, vmax]), images.dtype, white).tolist()
    # The conversion rounds (a few ulps): an end of the range reached through it is still inside.
    slack = _CONVERSION_TOLERANCE * (abs(low) + abs(high))
    if on_min >= low - slack and on_max <= high + slack:
        return
    divisor = intensity_white(images.dtype) / white
    raise ValueError(
        f"X has values in [{vmin:g}, {vmax:g}] but {owner} reads intensities on the scale "
        f"value_range=({low:g}, {high:g}) of its training images ({estimator.input_scale_}), that is "
        f"({low * divisor:g}, {high * divisor:g}) for {images.dtype} images: pass values inside it, "
        "or fit with a value_range=(black, white) matching your images."
    )


# --------------------------------------------------------------------------- feature names
# The scheme is documented in the docstring of skvision.descriptors (and so in docs/api.md).
def format_value(value):
    """A parameter value as it appears in a feature name (Python's ``:g`` format).

    Examples
    --------
    >>> format_value(1.0), format_value(0.1), format_value(np.degrees(1.0)), format_value(-45)
    ('1', '0.1', '57.2958', '-45')
    """
    return format(value, "g")


def angle_part(radians):
    """Name part of an angle: ``a{degrees}``."""
    return f"a{format_value(np.degrees(radians))}"


def distance_part(pixels):
    """Name part of a distance in pixels: ``d{pixels}``."""
    return f"d{format_value(pixels)}"


def frequency_part(cycles_per_pixel):
    """Name part of a spatial frequency: ``f{cycles per pixel}``."""
    return f"f{format_value(cycles_per_pixel)}"


def orientation_part(k):
    """Name part of orientation bin ``k`` of a histogram: ``o{k}``."""
    return f"o{k}"


def bin_part(*indices):
    """Name part of a histogram bin: ``bin{k}``, or ``bin{i}_{j}_{k}`` for a joint histogram."""
    return "bin" + "_".join(str(int(i)) for i in indices)


def grid_parts(word, rows, cols):
    """Name parts ``{word}{r}_{c}`` of a ``rows x cols`` grid, row-major; ``['']`` for a single cell.

    Examples
    --------
    >>> grid_parts("cell", 1, 1), grid_parts("cell", 1, 2)
    ([''], ['cell0_0', 'cell0_1'])
    """
    if rows * cols == 1:
        return [""]
    return [f"{word}{r}_{c}" for r in range(rows) for c in range(cols)]


def join_names(*parts):
    """Every combination of one part from each list, joined by ``_``, the first list varying slowest.

    Empty parts (a single cell, say) are left out with their separator.

    Examples
    --------
    >>> join_names([""], ["f0.1"], ["mean", "var"])
    ['f0.1_mean', 'f0.1_var']
    >>> join_names(["cell0_0", "cell0_1"], ["bin0"])
    ['cell0_0_bin0', 'cell0_1_bin0']
    """
    names = [""]
    for options in parts:
        if names == [""]:
            names = list(options)
        else:
            # Suffixes built once: a HOG of a large image has over a million names.
            suffixes = ["_" + b if b else "" for b in options]
            names = [a + b for a in names for b in suffixes]
    return names
