"""The one image-input contract every skvision estimator goes through.

Accepted input
--------------
* a numpy array of shape ``(N, H, W)`` (grey) or ``(N, H, W, C)`` (channels last),
* or a list / tuple of equally sized ``(H, W)`` or ``(H, W, C)`` arrays,
* of any boolean, integer or floating dtype.

Everything else raises a :class:`ValueError` or :class:`TypeError` whose message
says what was expected and what came.

Value scales
------------
One rule says what a pixel value means, for every estimator. It is read from
the dtype, so that telling scales apart costs nothing for 8- and 16-bit images:

==========================================  ==================  ===============
dtype                                       black .. white      intensity
==========================================  ==================  ===============
``uint8``                                   0 .. 255            ``x / 255``
``uint16``                                  0 .. 65535          ``x / 65535``
``bool``                                    False .. True       0 or 1
other integers (``int8`` .. ``int64``,      0 .. 255 (8-bit     ``x / 255``
``uint32``, ``uint64``)                     grey levels)
floats                                      0.0 .. 1.0          ``x``
==========================================  ==================  ===============

``check_images`` turns booleans into ``uint8`` 0 / 255 (``True`` is white).
Floats outside [0, 1] follow no scale: an estimator whose output depends on the
intensities takes them as given (its features are then in those units), and
insists that later data comes in the same units. Telling the scales apart
needs each float batch's minimum and maximum, which :func:`check_images`
computes anyway (they are its NaN / infinity check); integer dtypes other than
8- and 16-bit are scanned once per call too (their values must be 0-255).

Every estimator records the scale its training images had in ``fit``, as
``input_scale_`` (an :class:`ImageScale`). An estimator whose output depends
on the intensities then checks every later batch against it
(:func:`check_scale`):

* the same intensities in another dtype are read alike: ``X / 255`` (float in
  [0, 1]) and ``X`` (uint8) give the same features and predictions, to float
  tolerance. Descriptors that bin values (``WLD``, ``ColorHistogram``,
  ``LBP(method='var')``, ``GLCM``) give the very same features for float64
  ``X / 255``; a float32 copy is rounded, so a value on a bin edge (or within
  float32 rounding of one) may change bins;
* a batch that breaks the rule, or is on another scale than ``fit`` saw, raises
  :class:`ImageScaleError` (a ValueError) saying what to do: float images with
  values in [0, 255] after a uint8 ``fit``, integers after a ``fit`` on floats
  outside [0, 1], ``int64`` images with values above 255;
* integers in a container of another depth than their values are refused
  too, where only their values can tell: uint16 images that all stay at or
  below 255 after a fit on another dtype (an 8-bit copy cast to uint16, read
  as near black), uint8 images of 0 and 1 after a fit on booleans (a 0 / 1
  copy of masks). Only a batch in another dtype than fit's is scanned, once;
* a batch that merely looks odd gets an :class:`ImageScaleWarning`: floats a
  little outside [0, 1] (between -0.25 and 1.25; clip them), floats whose
  largest magnitude is more than 50 times off the one ``fit`` saw, or uint16
  training images that all stay below 4096 (12-bit data in a 16-bit array,
  read as near black: stretch it, or pass floats).

What each estimator does with the scale
~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~

* **invariant to it**, never checked, same features for any scale but for
  rounding: ``LBP`` (codes: every method but ``'var'``), ``HOG`` with block
  normalisation (to its ``eps = 1e-5``), ``LPQ`` and ``BSIF`` (signs of filter
  responses), ``BagOfVisualWords`` (each image stretched to [0, 1]), ``GLCM``
  with ``value_range='image'``. LBP codes are scikit-image's on each input;
  across scales, an interpolated neighbour equal to the centre on one can
  come out a rounding below it on another (uint8 ``camera()`` and its
  ``X / 255`` differ on 1.3 % of the codes for ``P=8, R=1``, in scikit-image
  too);
* **intensities on [0, 1]**: ``GaborBank``, ``ZernikeMoments``,
  ``HuMoments``, and the neural estimators (``CNNClassifier``,
  ``CNNRegressor``, ``CNNFeatures``, ``AutoencoderFeatures``, ``GANFeatures``);
  ``PretrainedFeatures`` further refuses floats outside [0, 1], in ``fit`` as in
  ``transform``, since its backbone's normalisation starts from [0, 1];
* **intensities on the 8-bit scale 0-255** (the scale of their constants):
  ``WLD`` (``beta``), ``LBP(method='var')`` (its variances), ``HOG`` with
  ``block_norm=None`` (unnormalised histograms), ``GLCM`` and
  ``ColorHistogram`` with ``value_range=None`` (quantisation);
* **the caller's scale**: ``GLCM`` and ``ColorHistogram`` with an explicit
  ``value_range=(black, white)`` on the training images' scale, which refuse
  values outside it; later images in another dtype are read on it by the rule
  and checked against ``fit``'s scale (but after a fit on integers beyond
  0-255, which only the range describes);
* **passed through**: ``Grayscale`` and ``Resize`` keep the dtype and the
  values' scale (they record ``input_scale_`` and check nothing).

The functional forms (:func:`skvision.descriptors.gabor`,
:func:`~skvision.descriptors.hu_moments`, ...) follow scikit-image and use
the values as given.
"""

from __future__ import annotations

import math
import numbers
import warnings
from dataclasses import dataclass

import numpy as np

from ._warnings import user_stacklevel

__all__ = [
    "check_images",
    "check_image_shape",
    "check_scale",
    "image_scale",
    "intensity_white",
    "merge_scales",
    "to_grayscale",
    "to_working_scale",
    "LUMINANCE_WEIGHTS",
    "ImageScale",
    "ImageScaleError",
    "ImageScaleWarning",
    "ImageShapeError",
]

#: Weights of ``skimage.color.rgb2gray`` (ITU-R BT.709 luma), used for every
#: colour-to-grey conversion in skvision so that all descriptors agree.
LUMINANCE_WEIGHTS = np.array([0.2125, 0.7154, 0.0721])

_CHANNEL_COUNTS = (1, 3, 4)


class ImageShapeError(ValueError):
    """Raised when images have a shape an estimator cannot use.

    A subclass of :class:`ValueError`, so ``except ValueError`` catches it.
    """


class ImageScaleError(ValueError):
    """Raised when images break the value-scale rule, or come on another scale than ``fit`` saw.

    A subclass of :class:`ValueError`; the message says what the estimator
    expected, what came, and how to convert the images (see :mod:`skvision._images`).
    """


class ImageScaleWarning(UserWarning):
    """Warned when images look like they are on another value scale than the rule or ``fit`` says.

    Raised for the doubtful cases, where the images may still be right: floats a
    little outside [0, 1], or values far larger or smaller than those seen in ``fit``.
    Turn it into an error with ``warnings.simplefilter("error", ImageScaleWarning)``.
    """


#: Floats this far outside [0, 1] are still [0, 1] intensities gone astray (rounding,
#: interpolation overshoot, a brightness jitter): a warning, not another scale. At 0.5 centred
#: images (X / 255 - 0.5) passed with that warning, and a CNN fitted on uint8 scored 0.36, not 0.87.
_UNIT_SLACK = 0.25
#: Floats whose largest magnitude is below this are no float copy of 8-bit data (X / 127.5 is not).
_SMALL_PEAK = 16.0
#: Rounding that does not count as leaving [0, 1].
_UNIT_TOLERANCE = 1e-6
#: Largest magnitudes further apart than this, between fit and a later batch, look like two scales.
_PEAK_RATIO = 50.0


@dataclass(frozen=True)
class ImageScale:
    """The value scale of a batch of images, as the rule reads it (see :mod:`skvision._images`).

    Estimators keep the one of their training images as ``input_scale_``.

    Attributes
    ----------
    dtype : str
        The batch's dtype after :func:`check_images` (booleans are uint8).
    low, high : float or None
        Smallest and largest value, for floats and for integer dtypes other than
        uint8 / uint16; ``None`` where the dtype alone sets the scale (no scan).
    boolean : bool
        Whether the batch came as booleans (then uint8 0 / 255).

    Examples
    --------
    >>> import numpy as np
    >>> image_scale(np.zeros((1, 4, 4), dtype=np.uint8))
    ImageScale(dtype='uint8', low=None, high=None, boolean=False)
    >>> str(image_scale(np.full((1, 4, 4), 200.0, dtype=np.float32)))
    'float32 images with values in [200, 200]'
    >>> image_scale(np.ones((1, 4, 4))).kind, image_scale(np.ones((1, 4, 4))).white
    ('unit', 1.0)
    """

    dtype: str
    low: float | None = None
    high: float | None = None
    #: The batch came as booleans (``check_images`` made them uint8 0 / 255).
    boolean: bool = False

    @property
    def kind(self) -> str:
        """``'uint8'``, ``'uint16'``, ``'int'`` (other integers, 8-bit values), ``'unit'``
        (floats in [0, 1]) or ``'float'`` (floats outside [0, 1], taken as given)."""
        dtype = np.dtype(self.dtype)
        if dtype.kind in "ui":
            return dtype.name if dtype.name in ("uint8", "uint16") else "int"
        if -_UNIT_TOLERANCE <= self.low and self.high <= 1 + _UNIT_TOLERANCE:
            return "unit"
        return "float"

    @property
    def white(self) -> float:
        """The value read as white: 255 (8-bit and other integers), 65535 (uint16), 1.0 (floats)."""
        return intensity_white(self.dtype)

    @property
    def follows_rule(self) -> bool:
        """Whether the values are intensities by the rule: integers, or floats near [0, 1]."""
        if self.kind == "float":
            return -_UNIT_SLACK <= self.low and self.high <= 1 + _UNIT_SLACK
        return True

    def _range(self):
        return f"[{self.low:g}, {self.high:g}]"

    def __str__(self):
        kind = self.kind
        if self.boolean:
            return "boolean images (False / True: black / white)"
        if kind == "uint8":
            return "uint8 images (0-255)"
        if kind == "uint16":
            return "uint16 images (0-65535)"
        return f"{self.dtype} images with values in {self._range()}"


def intensity_white(dtype) -> float:
    """The value the rule reads as white for ``dtype`` (after :func:`check_images`).

    Examples
    --------
    >>> import numpy as np
    >>> [intensity_white(dtype) for dtype in (np.uint8, np.uint16, np.int64, np.float32)]
    [255.0, 65535.0, 255.0, 1.0]
    """
    dtype = np.dtype(dtype)
    if dtype.kind == "u" and dtype.itemsize == 2:  # either byte order
        return 65535.0
    if dtype.kind in "uib":
        return 255.0
    return 1.0


def image_scale(images, *, _low=None, _high=None, _boolean=False) -> ImageScale:
    """The :class:`ImageScale` of a validated batch (from :func:`check_images`).

    uint8 and uint16 batches are not scanned; floats and other integers are (their
    minimum and maximum, one pass each). Prefer ``check_images(X, return_scale=True)``,
    which reuses the range of its NaN check for floats.

    Examples
    --------
    >>> import numpy as np
    >>> str(image_scale(np.arange(4, dtype=np.int64).reshape(1, 2, 2)))
    'int64 images with values in [0, 3]'
    """
    dtype = images.dtype
    if dtype.name in ("uint8", "uint16"):
        return ImageScale(dtype.name, boolean=_boolean)
    if _low is None:
        _low, _high = images.min(), images.max()
    return ImageScale(dtype.name, float(_low), float(_high))


def merge_scales(scales) -> ImageScale:
    """The :class:`ImageScale` of several batches (the images of a ragged list) taken together.

    Examples
    --------
    >>> import numpy as np
    >>> str(merge_scales([image_scale(np.zeros((1, 2, 2))), image_scale(np.full((1, 3, 3), 0.5))]))
    'float64 images with values in [0, 0.5]'
    """
    scales = list(scales)
    dtype = np.result_type(*[np.dtype(scale.dtype) for scale in scales]).name
    lows = [scale.low for scale in scales if scale.low is not None]
    highs = [scale.high for scale in scales if scale.high is not None]
    if dtype in ("uint8", "uint16") or not lows:
        return ImageScale(dtype)
    if len(lows) < len(scales):  # some 8- or 16-bit images were not scanned: their nominal range
        nominal = max(intensity_white(scale.dtype) for scale in scales if scale.low is None)
        lows, highs = [*lows, 0.0], [*highs, nominal]
    return ImageScale(dtype, float(min(lows)), float(max(highs)))


def to_working_scale(images, dtype, working_white):
    """``images`` (values of ``dtype``) read by the rule, in units where white is ``working_white``.

    Returns ``images`` itself when nothing changes (``working_white`` None, or equal
    to the dtype's white), else a float64 array: ``images / (white / working_white)``
    (so that uint8 images on a [0, 1] working scale are exactly ``X / 255``).

    Examples
    --------
    >>> import numpy as np
    >>> to_working_scale(np.array([0, 51, 255], dtype=np.uint8), np.uint8, 1.0).tolist()
    [0.0, 0.2, 1.0]
    >>> to_working_scale(np.array([0.0, 0.2, 1.0]), float, 255.0).tolist()
    [0.0, 51.0, 255.0]
    """
    if working_white is None:
        return images
    divisor = intensity_white(dtype) / float(working_white)
    if divisor == 1.0:
        return images
    return np.asarray(images, dtype=np.float64) / divisor


def _fix_for(scale: ImageScale, target: ImageScale | None) -> str:
    """How to bring images on ``scale`` to ``target`` (or to the rule's [0, 1] floats)."""
    high = max(abs(scale.low), abs(scale.high))
    if scale.low < -_UNIT_SLACK or high < _SMALL_PEAK:
        # Centred, standardised or stretched floats: no cast or / 255 brings them back.
        return "scale X the way the training images were (floats are read as intensities in [0, 1])"
    divisor = "255" if high <= 255 else ("65535" if high <= 65535 else "its white level")
    if target is None or target.kind == "unit" or target.kind == "float":
        return f"pass X / {divisor} (floats are read as intensities in [0, 1])"
    return f"pass X.astype(np.{target.dtype}) or X / {divisor}"


def check_scale(
    scale: ImageScale, *, owner: str, fitted: ImageScale | None = None, unit_only=False, images=None
):
    """Check a batch's value scale against the rule and, when given, the scale ``fit`` saw.

    For estimators whose output depends on the intensities (see :mod:`skvision._images`).

    Parameters
    ----------
    scale : ImageScale
        The batch's scale (``check_images(X, return_scale=True)``).
    owner : str
        The estimator's name, for the messages.
    fitted : ImageScale or None
        The training images' scale (``input_scale_``); ``None`` in ``fit``.
    unit_only : bool, default=False
        Refuse floats outside [0, 1] (estimators defined on [0, 1] intensities only).
    images : ndarray or None
        The validated batch. Given, its largest value is read where the dtype alone
        cannot tell a wrong container from real data (only then: 8- and 16-bit
        batches are otherwise never scanned): 16-bit training images, a uint16
        batch after a fit on another dtype, a uint8 batch after a fit on booleans.

    Raises
    ------
    ImageScaleError
        Integers other than 8- and 16-bit outside 0-255; floats far outside [0, 1]
        after a fit on intensities (or with ``unit_only``); integers after a fit on
        floats outside [0, 1]; uint16 images all at most 255 after a fit on another
        dtype (an 8-bit copy, read as near black); uint8 images all 0 or 1 after a
        fit on booleans (a 0 / 1 copy, read as near black).

    Warns
    -----
    ImageScaleWarning
        Floats a little outside [0, 1], or values whose magnitude is far from fit's;
        16-bit training images that all stay below 4096 (12-bit or narrower data in
        a 16-bit array, read as near black).

    Examples
    --------
    >>> import numpy as np
    >>> fitted = image_scale(np.zeros((1, 4, 4), dtype=np.uint8))
    >>> check_scale(image_scale(np.ones((1, 4, 4)) / 2), owner="GaborBank", fitted=fitted)
    >>> check_scale(image_scale(np.full((1, 4, 4), 200.0)), owner="GaborBank", fitted=fitted)
    Traceback (most recent call last):
    ...
    skvision._images.ImageScaleError: GaborBank was fitted on uint8 images (0-255) but X is ... X / 255.
    """
    kind = scale.kind
    if kind == "int" and (scale.low < 0 or scale.high > 255):
        raise ImageScaleError(
            f"{owner} reads {scale.dtype} images as 8-bit grey levels (0-255), but X has values in "
            f"{scale._range()}: cast 16-bit data to np.uint16 (read as 0-65535), or pass floats in [0, 1]."
        )
    if kind in ("uint8", "uint16", "int", "unit"):
        if kind != "unit" and fitted is not None and not fitted.follows_rule:
            raise ImageScaleError(
                f"{owner} was fitted on {fitted}, outside the [0, 1] of float images and so taken as "
                f"given, but X is {scale}, read as intensities in [0, 1]: pass X in fit's units "
                f"(X.astype(np.{fitted.dtype}) if X holds the same values), or fit on images in [0, 1]."
            )
        if fitted is not None and kind == "unit" and fitted.kind == "float":
            _warn_if_peaks_differ(scale, fitted, owner)
        if images is not None:
            _check_integer_container(scale, fitted, owner, images)
        return
    # Floats outside [0, 1].
    if not scale.follows_rule:
        if unit_only:
            raise ImageScaleError(
                f"{owner} reads float images as intensities in [0, 1], but X is {scale}: "
                f"{_fix_for(scale, None)}."
            )
        if fitted is not None and fitted.follows_rule:
            raise ImageScaleError(
                f"{owner} was fitted on {fitted} but X is {scale}: {_fix_for(scale, fitted)}."
            )
        if fitted is not None:
            _warn_if_peaks_differ(scale, fitted, owner)
        return
    # A little outside [0, 1].
    if fitted is None and not unit_only:
        return
    if fitted is not None and fitted.kind == "float":
        if not fitted.follows_rule:
            _warn_if_peaks_differ(scale, fitted, owner)
        return
    warnings.warn(
        f"X is {scale}, a little outside the [0, 1] of float images, which {owner} reads as intensities"
        + (f" (fit saw {fitted})" if fitted is not None else "")
        + ": clip them (np.clip(X, 0, 1)) or check how they were scaled.",
        ImageScaleWarning,
        stacklevel=user_stacklevel(),
    )


#: 16-bit training images whose largest value is below this hold 12-bit (or narrower) data.
_NARROW_16_BIT = 4096


def _check_integer_container(scale, fitted, owner, images):
    """Catch integer images whose dtype says another scale than their values have.

    The dtype alone sets the scale of 8- and 16-bit images, so the same values in
    a wider container (an 8-bit copy cast to uint16, a 0 / 1 copy of boolean masks)
    are silently read as near black. Only the cases the dtype cannot settle scan
    the batch, once.
    """
    kind = scale.kind
    if fitted is None:
        if kind != "uint16":
            return
        high = int(images.max())
        if 0 < high < _NARROW_16_BIT:
            bits = max(1, high.bit_length())
            warnings.warn(
                f"{owner} reads uint16 images on 0-65535, but these all stay at or below {high}: "
                f"{bits}-bit data in a 16-bit array, read as near black (every "
                f"value in the darkest 1/{65536 >> bits} of the scale). Stretch it to 16 bits "
                f"(X * {65535 // ((1 << bits) - 1)}) or pass floats X / {(1 << bits) - 1}.",
                ImageScaleWarning,
                stacklevel=user_stacklevel(),
            )
        return
    if kind == "uint16" and fitted.kind != "uint16":
        high = int(images.max())
        if high <= 255:
            raise ImageScaleError(
                f"{owner} was fitted on {fitted} but X is uint16 images whose values all stay at or "
                f"below {high}: an 8-bit copy in a 16-bit array, read as 0-65535 (near black). Pass "
                "X.astype(np.uint8), or stretch 16-bit data to its full range."
            )
    elif kind == "uint8" and fitted.boolean and not scale.boolean:
        high = int(images.max())
        if high <= 1:
            raise ImageScaleError(
                f"{owner} was fitted on {fitted} but X is uint8 images of 0 and 1, read as 0-255 (near "
                "black): pass X.astype(bool), as in fit."
            )


def _warn_if_peaks_differ(scale, fitted, owner):
    peak = max(abs(scale.low), abs(scale.high))
    fitted_peak = max(abs(fitted.low), abs(fitted.high)) if fitted.low is not None else fitted.white
    if peak == 0 or fitted_peak == 0:
        return
    ratio = max(peak / fitted_peak, fitted_peak / peak)
    if ratio > _PEAK_RATIO:
        warnings.warn(
            f"X is {scale} but {owner} was fitted on {fitted}: values {ratio:.0f} times "
            f"{'larger' if peak > fitted_peak else 'smaller'} look like another scale. Bring X to "
            "fit's units (the same dtype and range).",
            ImageScaleWarning,
            stacklevel=user_stacklevel(),
        )


def _describe(X, container=None) -> str:
    """``'ndarray of shape (2, 3) and dtype uint8'``; ``container``: the type the caller passed, when
    ``X`` is its conversion (a DataFrame of flattened images read "got ndarray")."""
    shape = getattr(X, "shape", None)
    dtype = getattr(X, "dtype", None)
    name = container or type(X).__name__
    if shape is not None:
        return f"{name} of shape {tuple(shape)} and dtype {dtype}"
    return name


def _stack_list(X, name):
    if len(X) == 0:
        raise ValueError(
            f"{name} is an empty batch: expected at least one image, got an empty {type(X).__name__}."
        )
    arrays = []
    for i, image in enumerate(X):
        if isinstance(image, (str, bytes)):
            raise TypeError(
                f"{name}[{i}] is a {type(image).__name__}; expected an image array. "
                "To read images from files, use skvision.preprocessing.ImageLoader "
                "or skvision.datasets.load_image_folder."
            )
        image = np.asarray(image)
        if image.ndim not in (2, 3):
            raise ValueError(
                f"{name}[{i}] has shape {image.shape}; each image in a list must be (H, W) or (H, W, C)."
            )
        arrays.append(image)
    first = arrays[0].shape
    for i, image in enumerate(arrays[1:], start=1):
        if image.shape != first:
            raise ValueError(
                f"Images in {name} must all have the same size: image 0 has shape {first} "
                f"but image {i} has shape {image.shape}. Resize them first "
                "(skvision.preprocessing.Resize), or read them at one size: "
                "ImageLoader(image_size=(height, width)) (without it, files of different sizes come "
                "as such a list)."
            )
    return np.stack(arrays)


#: A 3-D batch (N, H, 3) or (N, H, 4) with N and H at least this is taken for one colour image.
_ONE_COLOUR_IMAGE_MIN_SIDE = 8


def _flattened_hint(width, array="X"):
    """A reshape to suggest for rows of ``width`` values that may be flattened images, or ''.

    A DataFrame of pixels, or scikit-learn's ``load_digits().data``, comes as one
    row per image.

    Examples
    --------
    >>> _flattened_hint(1024)
    ' If each row is a flattened 32x32 image, pass X.reshape(-1, 32, 32).'
    >>> _flattened_hint(3072)
    ' If each row is a flattened 32x32 RGB image, pass X.reshape(-1, 32, 32, 3).'
    >>> _flattened_hint(10)
    ''
    """
    for channels, suffix, words in ((1, "", ""), (3, ", 3", " RGB")):
        side = math.isqrt(width // channels) if width % channels == 0 else 0
        if side >= 4 and side * side * channels == width:
            shape = f"-1, {side}, {side}{suffix}"
            return f" If each row is a flattened {side}x{side}{words} image, pass {array}.reshape({shape})."
    return ""


def check_images(
    X,
    *,
    name: str = "X",
    allowed_channels=_CHANNEL_COUNTS,
    min_size=None,
    min_size_reason: str | None = None,
    copy: bool = False,
    return_scale: bool = False,
    fitted_shape=None,
):
    """Validate a batch of images and return it as a numpy array.

    Parameters
    ----------
    X : array-like of shape (N, H, W) or (N, H, W, C), or list of arrays
        The batch. A list must hold arrays of one shape, ``(H, W)`` or ``(H, W, C)``.
    name : str, default="X"
        Name used in error messages.
    allowed_channels : tuple of int or None, default=(1, 3, 4)
        Channel counts accepted for 4-D input. ``None`` accepts any count.
    min_size : tuple of (int, int) or None
        Smallest ``(H, W)`` the caller can describe.
    min_size_reason : str or None
        What sets ``min_size`` (for example ``"P=8, R=3"``); quoted in the error.
    copy : bool, default=False
        Force a copy of the data.
    return_scale : bool, default=False
        Also return the batch's :class:`ImageScale` (the range of a float batch
        comes from the NaN check, so no second pass).
    fitted_shape : tuple or None
        The ``(H, W[, C])`` of the images ``fit`` saw: a ``(N, H, 3)`` batch of
        grey images 3 pixels wide is then not taken for one colour image, as
        fit took it, whatever ``N``.

    Returns
    -------
    images : ndarray of shape (N, H, W) or (N, H, W, C)
        Same dtype as the input, except booleans which become ``uint8`` 0 / 255
        (``True`` is white). A ``(N, H, W, 1)`` batch is returned as ``(N, H, W)``.
    scale : ImageScale
        Only with ``return_scale=True``.

    Raises
    ------
    TypeError
        Input that is not numeric (object, string, complex dtype), ``None``,
        or a list holding strings.
    ValueError
        Wrong number of dimensions, an empty batch, empty images, NaN or
        infinite values, an unsupported channel count, images of different
        sizes, or images smaller than ``min_size``.

    Examples
    --------
    >>> import numpy as np
    >>> from skvision._images import check_images
    >>> check_images(np.zeros((2, 8, 8), dtype=np.uint8)).shape
    (2, 8, 8)
    >>> check_images([np.zeros((8, 8, 3)), np.ones((8, 8, 3))]).shape
    (2, 8, 8, 3)
    >>> check_images(np.zeros((8, 8)))
    Traceback (most recent call last):
    ...
    ValueError: X must be a batch of images of shape (N, H, W) or (N, H, W, C); got ... image[np.newaxis].
    """
    if X is None:
        raise TypeError(f"{name} is None; expected a batch of images of shape (N, H, W) or (N, H, W, C).")
    if isinstance(X, (str, bytes)):
        raise TypeError(
            f"{name} is a {type(X).__name__}; expected an image array. To read images from "
            "files, use skvision.preprocessing.ImageLoader or skvision.datasets.load_image_folder."
        )
    if hasattr(X, "tocsr") or type(X).__module__.startswith("scipy.sparse"):
        raise TypeError(
            f"Sparse input is not supported: {name} is a {type(X).__name__}; "
            "images must be a dense array (call .toarray())."
        )
    container = None
    if isinstance(X, (list, tuple)):
        X = _stack_list(X, name)
    elif not isinstance(X, np.ndarray):
        # Array-likes (memmaps are ndarrays already; torch tensors, dask chunks, ...).
        if hasattr(X, "__array__") or hasattr(X, "__len__"):
            container = type(X).__name__
            X = np.asarray(X)
        else:
            raise TypeError(f"{name} must be a numpy array or a list of arrays; got {type(X).__name__}.")

    kind = X.dtype.kind
    low = high = None
    if kind == "c":
        raise ValueError(
            f"Complex data not supported: {name} has dtype {X.dtype}; images must be real-valued."
        )
    if kind == "b":
        X = X.astype(np.uint8) * np.uint8(255)
    elif kind not in "uif":
        raise TypeError(
            f"{name} must have a boolean, integer or floating dtype; got dtype {X.dtype}. "
            + (
                "Object arrays usually mean images of different sizes or non-numeric data."
                if kind == "O"
                else ""
            )
        )

    if not X.dtype.isnative:
        # Big-endian data (a Pillow 'I;16B' TIFF, FITS, np.frombuffer(b, '>u2')): the same numbers in the
        # machine's byte order, or dtype comparisons (== np.uint16) would read 16-bit images as 8-bit.
        X = X.astype(X.dtype.newbyteorder("="))

    if kind == "f" and X.size:
        # The range is the NaN check (NaN and infinities reach the minimum or maximum) and the
        # value scale at once: two reductions, no temporary array.
        low, high = X.min(), X.max()
        if not (np.isfinite(low) and np.isfinite(high)):
            n_bad = int(np.size(X) - np.count_nonzero(np.isfinite(X)))
            what = "NaN" if np.isnan(X).any() else "infinite"
            raise ValueError(
                f"{name} contains {what} values ({n_bad} non-finite pixels); images must be finite."
            )

    if X.ndim not in (3, 4):
        hint = ""
        if X.ndim == 2:
            if container is None:
                hint = " For a single image, pass image[np.newaxis]." if X.shape[0] != 0 else ""
            # A DataFrame has no reshape.
            hint += _flattened_hint(X.shape[1], "X" if container is None else "np.asarray(X)")
        raise ValueError(
            f"{name} must be a batch of images of shape (N, H, W) or (N, H, W, C); "
            f"got {_describe(X, container)} (ndim={X.ndim}).{hint}"
        )
    if X.shape[0] == 0:
        raise ValueError(f"{name} is an empty batch: expected at least one image, got shape {X.shape}.")
    if X.shape[1] == 0 or X.shape[2] == 0:
        raise ValueError(f"Images in {name} are empty: got shape {X.shape} (H and W must be >= 1).")
    if (
        X.ndim == 3
        and X.shape[2] in (3, 4)
        and min(X.shape[:2]) >= _ONE_COLOUR_IMAGE_MIN_SIDE
        and tuple(X.shape[1:]) != fitted_shape  # grey images 3 or 4 wide, as fit saw them
    ):
        # (H, W, 3) would be read as H grey images of W x 3 pixels: a silent
        # wrong answer where any size is accepted (a pretrained backbone), a puzzling one elsewhere.
        raise ValueError(
            f"{name} of shape {X.shape} reads as {X.shape[0]} grey images of {X.shape[1]}x{X.shape[2]} "
            f"pixels: is it one {'RGB' if X.shape[2] == 3 else 'RGBA'} image? For a single image, pass "
            f"image[np.newaxis]. Grey images {X.shape[2]} pixels wide pass as shape "
            f"({X.shape[0]}, {X.shape[1]}, {X.shape[2]}, 1)."
        )

    if X.ndim == 4:
        n_channels = X.shape[3]
        if n_channels == 1:
            X = X[..., 0]
        elif allowed_channels is not None and n_channels not in allowed_channels:
            raise ValueError(
                f"{name} has {n_channels} channels (shape {X.shape}); expected "
                f"{' or '.join(map(str, allowed_channels))} channels in the last axis "
                "(channels-last, (N, H, W, C)). Channels-first input must be transposed: "
                "X.transpose(0, 2, 3, 1)."
            )

    if min_size is not None:
        check_image_shape(X, min_size=min_size, reason=min_size_reason, name=name)

    if copy:
        X = np.array(X, copy=True)
    if return_scale:
        return X, image_scale(X, _low=low, _high=high, _boolean=kind == "b")
    return X


def check_image_shape(X, *, min_size, reason=None, name="X"):
    """Raise a ValueError when the images of ``X`` are smaller than ``min_size``.

    Parameters
    ----------
    X : ndarray of shape (N, H, W[, C])
    min_size : tuple of (int, int)
    reason : str or None
        What sets the minimum, quoted in the message.
    name : str

    Examples
    --------
    >>> import numpy as np
    >>> check_image_shape(np.zeros((1, 4, 4)), min_size=(3, 3))
    >>> check_image_shape(np.zeros((1, 4, 4)), min_size=(8, 6), reason="pixels_per_cell=(8, 6)")
    Traceback (most recent call last):
    ...
    skvision._images.ImageShapeError: Images in X are 4x4 (HxW) but must be at least 8x6 for ...
    """
    min_h, min_w = int(min_size[0]), int(min_size[1])
    h, w = X.shape[1], X.shape[2]
    if h < min_h or w < min_w:
        why = f" for {reason}" if reason else ""
        raise ImageShapeError(
            f"Images in {name} are {h}x{w} (HxW) but must be at least {min_h}x{min_w}{why}."
        )


def to_grayscale(images: np.ndarray) -> np.ndarray:
    """Convert a validated batch to grey levels, keeping the input's value scale.

    Colour batches ``(N, H, W, 3|4)`` are reduced with the luminance weights of
    :func:`skimage.color.rgb2gray` (the alpha channel of RGBA is ignored). Unlike
    ``rgb2gray``, values are *not* rescaled to [0, 1]: a uint8 batch gives grey
    levels in 0-255 (as float64), so that grey and colour inputs of one dataset
    land on the same scale. A pixel whose three channels are equal keeps that
    value exactly (the weighted sum is off by an ulp or two), so a grey image
    stored as RGB gives the grey image itself. Grey batches ``(N, H, W)`` are
    returned unchanged.

    Parameters
    ----------
    images : ndarray of shape (N, H, W) or (N, H, W, C)

    Returns
    -------
    gray : ndarray of shape (N, H, W)

    Examples
    --------
    >>> import numpy as np
    >>> rgb = np.zeros((1, 2, 2, 3), dtype=np.uint8); rgb[..., 1] = 100
    >>> float(to_grayscale(rgb)[0, 0, 0])
    71.54
    """
    if images.ndim == 3:
        return images
    n_channels = images.shape[-1]
    if n_channels in (3, 4):
        gray = images[..., :3] @ LUMINANCE_WEIGHTS
        # A grey pixel stored as colour (R == G == B: a grey image saved as RGB, or a folder read as
        # RGB because one file is) is its own grey level exactly. The weighted sum lands an ulp or
        # two off, which flips LBP's >= ties and moves WLD values across bin edges.
        red, green, blue = images[..., 0], images[..., 1], images[..., 2]
        equal = (red == green) & (green == blue)
        np.copyto(gray, red, where=equal)
        return gray
    raise ValueError(
        f"Cannot convert {n_channels}-channel images to grey levels; "
        "expected 1, 3 (RGB) or 4 (RGBA) channels."
    )


def is_integer_like(value) -> bool:
    """True for Python and numpy integers, False for bool."""
    return isinstance(value, numbers.Integral) and not isinstance(value, bool)
