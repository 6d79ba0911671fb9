"""Image-to-image pipeline steps: Grayscale and Resize.

Both keep the value scale and the integer dtype of their input, so that a uint8
batch stays a uint8 batch in 0-255: the value-scale rule of :mod:`skvision._images`
reads integer images by their dtype, and would refuse 0-255 floats after a uint8
fit. Both record the scale they saw as ``input_scale_``.

Both return images whatever ``set_output`` asks for: a table (pandas, polars) has
no place for an image batch, so these steps opt out of scikit-learn's output
wrapping and pass images through unchanged; the step that turns images into
features (a descriptor) returns the DataFrame.
"""

from __future__ import annotations

import dataclasses
import math
from numbers import Integral, Real

import numpy as np
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.utils.validation import check_is_fitted

from .._compat import StrOptions, fit_context
from .._images import check_images, image_scale, is_integer_like, merge_scales, to_grayscale
from .._tags import SkvisionTags

__all__ = ["Grayscale", "Resize", "resize_image", "RESIZE_MODES"]

#: Interpolation names -> spline order of :func:`skimage.transform.resize`.
INTERPOLATION_ORDERS = {"nearest": 0, "bilinear": 1, "bicubic": 3}
#: How an image of another aspect ratio reaches the output size.
RESIZE_MODES = ("stretch", "crop", "pad")
_SET_OUTPUT_OPTIONS = (None, "default", "pandas", "polars")


class _ImagesOut:
    """Image-to-image steps: ``set_output`` is accepted and leaves the output as images.

    scikit-learn wraps ``transform`` of a transformer that has ``get_feature_names_out``
    into a DataFrame when ``set_output(transform="pandas")`` (or the global
    ``transform_output``) asks for one; a 3-D or 4-D image batch cannot be one. The
    classes using this mixin are declared with ``auto_wrap_output_keys=None``, so
    scikit-learn does not wrap their ``transform``, and this ``set_output`` lets
    ``Pipeline.set_output`` configure a whole pipeline: the images pass through
    unchanged and the feature step after them returns the table.
    """

    def set_output(self, *, transform=None):
        """Accept an output configuration; images are returned as they are whatever it says.

        Parameters
        ----------
        transform : {'default', 'pandas', 'polars'} or None, default=None
            Checked, then ignored: images are not tables.

        Returns
        -------
        self : estimator
        """
        if transform not in _SET_OUTPUT_OPTIONS:
            raise ValueError(
                f"transform must be one of 'default', 'pandas', 'polars' or None; got {transform!r}."
            )
        if transform is not None:
            # Kept where scikit-learn keeps it (clone copies it): ImageLoader reads it to refuse a table
            # index its images cannot carry.
            self._sklearn_output_config = {
                **getattr(self, "_sklearn_output_config", {}),
                "transform": transform,
            }
        return self


def _cast_like(values, dtype):
    """Float results back to ``dtype``: integers are rounded and clipped to the dtype's range."""
    dtype = np.dtype(dtype)
    if dtype.kind in "ui":
        info = np.iinfo(dtype)
        return np.clip(np.rint(values), info.min, info.max).astype(dtype)
    return values.astype(dtype, copy=False)


def _image_tags(tags):
    tags.input_tags.three_d_array = True
    tags.input_tags.allow_nan = False
    return tags


def _pixel_names(image_shape):
    """``pixel_<row>_<col>`` (with ``_c<k>`` per channel): one name per output value."""
    rows, cols = np.indices(image_shape[:2]).reshape(2, -1)
    names = [f"pixel_{r}_{c}" for r, c in zip(rows, cols)]
    if len(image_shape) == 3:
        names = [f"{name}_c{k}" for name in names for k in range(image_shape[2])]
    return np.asarray(names, dtype=object)


def _half_up(value):
    return int(math.floor(value + 0.5))


def crop_box(height, width, size):
    """The largest centred ``(top, bottom, left, right)`` box of ``size``'s aspect ratio.

    Examples
    --------
    >>> crop_box(4, 8, (2, 2))  # a 4x8 image, square output: the middle 4x4
    (0, 4, 2, 6)
    """
    out_h, out_w = size
    if width * out_h > height * out_w:  # wider than the target: cut left and right
        new_w = min(width, max(1, _half_up(height * out_w / out_h)))
        left = (width - new_w) // 2
        return 0, height, left, left + new_w
    new_h = min(height, max(1, _half_up(width * out_h / out_w)))
    top = (height - new_h) // 2
    return top, top + new_h, 0, width


def pad_box(height, width, size):
    """Where an image scaled to fit inside ``size`` (aspect ratio kept) lands: ``(top, bottom, left, right)``.

    Examples
    --------
    >>> pad_box(4, 8, (4, 4))  # a 4x8 image in a 4x4 square: scaled to 2x4, rows 1-2
    (1, 3, 0, 4)
    """
    out_h, out_w = size
    scale = min(out_h / height, out_w / width)
    inner_h = min(out_h, max(1, _half_up(height * scale)))
    inner_w = min(out_w, max(1, _half_up(width * scale)))
    top, left = (out_h - inner_h) // 2, (out_w - inner_w) // 2
    return top, top + inner_h, left, left + inner_w


def _mirror(index, n):
    """scipy.ndimage's 'mirror' boundary (skimage's 'reflect'): ``-1 -> 1``, ``n -> n - 2``."""
    if n == 1:
        return np.zeros_like(index)
    period = 2 * (n - 1)
    index = np.abs(index) % period
    return np.where(index >= n, period - index, index)


def _axis_operator(n_in, n_out, anti_aliasing):
    """The ``(n_out, n_in)`` matrix of skimage's bilinear resize along one axis.

    ``skimage.transform.resize(order=1)`` smooths with ``ndi.gaussian_filter``
    (sigma ``(n_in / n_out - 1) / 2`` when shrinking, mode 'mirror'), then reads
    each output pixel's centre by ``ndi.zoom(order=1, grid_mode=True,
    mode='mirror')``: both are linear along each axis, so one matrix per axis
    holds them (scipy's kernel: radius ``int(4 * sigma + 0.5)``, normalised).
    """
    coords = (np.arange(n_out) + 0.5) * (n_in / n_out) - 0.5
    low = np.floor(coords).astype(np.intp)
    fraction = coords - low
    sigma = max(0.0, (n_in / n_out - 1) / 2) if anti_aliasing else 0.0
    if sigma > 1e-15:
        radius = int(4.0 * sigma + 0.5)
        taps = np.arange(-radius, radius + 1)
        kernel = np.exp(-0.5 / (sigma * sigma) * taps**2)
        kernel /= kernel.sum()
    else:
        taps, kernel = np.zeros(1, dtype=np.intp), np.ones(1)
    operator = np.zeros((n_out, n_in))
    outputs = np.arange(n_out)[:, None]
    for source, weight in ((low, 1.0 - fraction), (low + 1, fraction)):
        # The sample reads smoothed pixel `source`: the kernel around it, mirrored at the edges.
        read = _mirror(source, n_in)[:, None] + taps[None, :]
        np.add.at(operator, (outputs, _mirror(read, n_in)), weight[:, None] * kernel[None, :])
    return operator


def _shrink_bilinear(image, output_shape, anti_aliasing):
    """``skimage.transform.resize(image, output_shape, order=1, preserve_range=True,
    anti_aliasing=anti_aliasing)``, to rounding (~1e-13), of an integer image shrunk a lot,
    channel axis kept.

    scikit-image smooths every pixel before it reads four per output pixel: a
    2000x1500 photo to 64x64 takes a second, 90 Gaussian taps per axis and
    pixel. The two axes' operators (:func:`_axis_operator`) applied as matrix
    products give the same values in tens of milliseconds. Integer images only:
    the result is rounded back to integers, which hides the different order of
    summation (float images keep scikit-image's own computation, bit for bit).
    """
    height, width = image.shape[:2]
    rows = _axis_operator(height, output_shape[0], anti_aliasing)
    cols = _axis_operator(width, output_shape[1], anti_aliasing)
    # (out_h, H) @ (H, W * C), then each channel's (out_h, W) @ (W, out_w).
    tall = _rows_product(rows, image.reshape(height, -1)).reshape(output_shape[0], width, -1)
    resized = np.einsum("hwc,ow->hoc", tall, cols, optimize=True)
    # skimage clips to the input's range (a linear blend overshoots it only by rounding here).
    resized = np.clip(resized, image.min(), image.max())
    return resized.reshape(output_shape)


#: Input rows :func:`_rows_product` converts to float64 at a time, by their values (~4 MB).
_ROW_BLOCK_VALUES = 2**19


def _rows_product(operator, image):
    """``operator @ image`` in float64, ``image`` an integer ``(H, M)`` array, a block of rows at a time.

    Each output row reads a band of input rows (the Gaussian's support, mirrored
    at the edges): a block of input rows is converted to float64 and multiplied
    by the few operator rows whose band meets it. A 4000x3000 photo to 64x64
    spent 95 ms in one dense product and 288 MB in its float64 copy.
    """
    n_out, height = operator.shape
    reads = operator != 0
    first = reads.argmax(axis=1)
    stop = height - reads[:, ::-1].argmax(axis=1)
    out = np.zeros((n_out, image.shape[1]))
    block = max(1, _ROW_BLOCK_VALUES // max(1, image.shape[1]))
    for start in range(0, height, block):
        end = min(height, start + block)
        meeting = np.flatnonzero((first < end) & (stop > start))
        if meeting.size:
            out[meeting] += operator[meeting, start:end] @ image[start:end].astype(np.float64)
    return out


#: Shrinking an integer image, smoothed, by at least this factor on an axis takes
#: :func:`_shrink_bilinear` (below it the smoothing is cheap, and skimage's own way is kept).
_SHRINK_FACTOR = 2


def _stretch(image, size, interpolation, anti_aliasing):
    from skimage.transform import resize

    output_shape = (int(size[0]), int(size[1]), *image.shape[2:])
    if output_shape == image.shape:
        return image.copy()
    shrink = max(image.shape[0] / output_shape[0], image.shape[1] / output_shape[1])
    smooth = _resolve_anti_aliasing(anti_aliasing, interpolation)
    if interpolation == "bilinear" and smooth and image.dtype.kind in "ui" and shrink >= _SHRINK_FACTOR:
        # (Without smoothing skimage reads four pixels per output pixel: already quick.)
        return _cast_like(_shrink_bilinear(image, output_shape, True), image.dtype)
    resized = resize(
        image.astype(np.float64, copy=False),
        output_shape,
        order=INTERPOLATION_ORDERS[interpolation],
        anti_aliasing=_resolve_anti_aliasing(anti_aliasing, interpolation),
        preserve_range=True,
    )
    return _cast_like(resized, image.dtype)


def check_pad_fill(fill_value, scale):
    """``fill_value`` for the border of images of ``scale`` (:class:`ImageScale`), or a ValueError.

    The border is cast to the images' dtype and read on their scale, so a
    value outside it came in other units: 255 on float images in [0, 1] made a
    border 255 times brighter than white, 300 on uint8 images became 255.

    Examples
    --------
    >>> import numpy as np
    >>> from skvision._images import image_scale
    >>> check_pad_fill(1.0, image_scale(np.zeros((1, 2, 2))))
    1.0
    >>> check_pad_fill(255, image_scale(np.zeros((1, 2, 2))))
    Traceback (most recent call last):
    ...
    ValueError: fill_value=255 is outside the scale of float64 images with values in [0, 0], 0 to 1 ...
    """
    if isinstance(fill_value, (bool, np.bool_)):
        raise TypeError(
            f"fill_value={fill_value!r} is a bool: give the border's grey level in the images' units "
            "(boolean masks are read as uint8, 0 for False and 255 for True)."
        )
    if not math.isfinite(fill_value):
        raise ValueError(f"fill_value must be a finite number for mode='pad'; got {fill_value!r}.")
    if scale.boolean and fill_value not in (0, 255):
        # 1 meant True to the user and became a border of grey level 1, nearly black.
        raise ValueError(
            f"fill_value={fill_value!r} on boolean masks: they are read as uint8, 0 (False) and 255 (True); "
            "pass 0 or 255."
        )
    kind = scale.kind
    if kind == "float":  # floats outside [0, 1] are taken as given: any border in their units
        return float(fill_value)
    if kind == "unit":
        low, high = 0.0, 1.0
    elif kind == "int":  # int16, int64, ...: 8-bit grey levels by the rule, whatever the dtype holds
        low, high = 0.0, 255.0
    else:
        low, high = 0.0, scale.white
    if not low <= fill_value <= high:
        ends = "0 black, 1 white" if kind == "unit" else f"{scale.white:g} white"
        raise ValueError(
            f"fill_value={fill_value!r} is outside the scale of {scale}, {low:g} to {high:g} ({ends}): the "
            "border is cast to the images' dtype and read on their scale, so give it in their units."
        )
    return float(fill_value)


def _padded(inner, size, box, fill_value, leading=0):
    """Place ``inner`` (its image axes start at axis ``leading``) at ``box`` in a canvas of ``size``."""
    shape = (*inner.shape[:leading], *size, *inner.shape[leading + 2 :])
    canvas = np.full(shape, _cast_like(np.asarray(fill_value, dtype=np.float64), inner.dtype), inner.dtype)
    top, bottom, left, right = box
    index = (slice(None),) * leading + (slice(top, bottom), slice(left, right))
    canvas[index] = inner
    return canvas


def resize_image(image, size, *, mode="stretch", fill_value=0, interpolation="bilinear", anti_aliasing=None):
    """Resize one image with :func:`skimage.transform.resize`.

    Integer images shrunk at least twice on an axis, bilinear and anti-aliased
    (the default), take a faster route with the same arithmetic: the same
    values to 1e-13 before rounding (a value within that of a half may round
    the other way: 1 pixel in 4,000 at exactly half the size), a 2000x1500
    photo to 64x64 in ~50 ms instead of ~1 s.

    Parameters
    ----------
    image : ndarray of shape (H, W) or (H, W, C)
        One image; integer dtypes keep their dtype (values rounded and clipped).
    size : tuple of (int, int)
        Output ``(height, width)``.
    mode : {'stretch', 'crop', 'pad'}, default='stretch'
        'stretch' resizes to ``size`` whatever the aspect ratio; 'crop' first cuts
        the largest centred box of the output's aspect ratio (:func:`crop_box`);
        'pad' scales the image to fit inside ``size`` keeping its aspect ratio
        and fills the rest with ``fill_value`` (letterbox, :func:`pad_box`).
    fill_value : float, default=0
        Value of the padding ('pad' only), cast to the image's dtype.
    interpolation : {'nearest', 'bilinear', 'bicubic'}, default='bilinear'
    anti_aliasing : bool or None, default=None
        Gaussian smoothing before downscaling; ``None`` means on, except for
        'nearest'.

    Returns
    -------
    resized : ndarray of shape (size[0], size[1]) or (size[0], size[1], C)

    Examples
    --------
    >>> import numpy as np
    >>> resize_image(np.full((4, 6), 200, dtype=np.uint8), (2, 3)).tolist()
    [[200, 200, 200], [200, 200, 200]]
    >>> wide = np.array([[1, 2, 3, 4], [5, 6, 7, 8]], dtype=np.uint8)
    >>> resize_image(wide, (2, 2), mode="crop").tolist()
    [[2, 3], [6, 7]]
    >>> resize_image(wide, (4, 4), mode="pad", fill_value=9).tolist()
    [[9, 9, 9, 9], [1, 2, 3, 4], [5, 6, 7, 8], [9, 9, 9, 9]]
    """
    size = (int(size[0]), int(size[1]))
    height, width = image.shape[:2]
    if mode == "crop":
        top, bottom, left, right = crop_box(height, width, size)
        return _stretch(image[top:bottom, left:right], size, interpolation, anti_aliasing)
    if mode == "pad":
        box = pad_box(height, width, size)
        inner = _stretch(image, (box[1] - box[0], box[3] - box[2]), interpolation, anti_aliasing)
        return _padded(inner, size, box, fill_value)
    if mode != "stretch":
        raise ValueError(f"mode must be one of {RESIZE_MODES}; got {mode!r}.")
    return _stretch(image, size, interpolation, anti_aliasing)


def _resolve_anti_aliasing(anti_aliasing, interpolation):
    # One rule for every dtype (skimage's own default depends on the input dtype,
    # and images are resized as float64 here).
    return interpolation != "nearest" if anti_aliasing is None else bool(anti_aliasing)


def _check_size(size, owner="The 'size' parameter of Resize"):
    if is_integer_like(size):
        size = (size, size)
    if (
        not isinstance(size, (tuple, list))
        or len(size) != 2
        or not all(is_integer_like(s) and s >= 1 for s in size)
    ):
        raise ValueError(
            f"{owner} must be a positive int or a (height, width) pair of positive ints; got {size!r}."
        )
    return (int(size[0]), int(size[1]))


class Resize(_ImagesOut, TransformerMixin, BaseEstimator, auto_wrap_output_keys=None):
    """Resize every image to one size, with :func:`skimage.transform.resize`.

    Takes a batch ``(N, H, W[, C])``, or a list (or 1-D object array) of images
    of *different* sizes, the usual state of images read from disk
    (``ImageLoader()`` without ``image_size`` returns one), and returns one batch
    of ``size``. Integer images keep their dtype (values rounded and clipped);
    float images keep theirs.

    Parameters
    ----------
    size : int or tuple of (int, int)
        Output ``(height, width)``; an int gives square images.
    mode : {'stretch', 'crop', 'pad'}, default='stretch'
        What happens to an image of another aspect ratio than ``size``:

        - 'stretch': resized to ``size``, the aspect ratio changes;
        - 'crop': the largest centred box of ``size``'s aspect ratio is cut out,
          then resized (what is outside the box is lost);
        - 'pad': resized to fit inside ``size`` with its aspect ratio kept
          (rounded to whole pixels), centred, and the border filled with
          ``fill_value`` (letterbox).
    fill_value : float, default=0
        The border's value with ``mode='pad'``, in the images' own units and
        cast to their dtype (0 is black for uint8 and for floats in [0, 1]). A
        value outside their scale (255 for floats in [0, 1], 300 for uint8, NaN)
        raises a ValueError in ``fit`` and ``transform``.
    interpolation : {'nearest', 'bilinear', 'bicubic'}, default='bilinear'
        Spline order 0, 1 or 3 of :func:`skimage.transform.resize`.
    anti_aliasing : bool or None, default=None
        Gaussian smoothing before downscaling, to avoid aliasing; ``None`` means
        on, except for 'nearest'.

    Attributes
    ----------
    output_size_ : tuple of (int, int)
        The validated ``size``.
    n_channels_ : int or None
        Channels of the images seen in ``fit`` (None: grey, or a mix), for the
        feature names.
    input_scale_ : ImageScale
        Value scale of the images seen in ``fit`` (see :mod:`skvision._images`);
        the output keeps it.

    Notes
    -----
    ``set_output`` is accepted and ignored: the output is images, never a
    DataFrame, so that a pipeline set to pandas output hands images to its
    feature step.

    Examples
    --------
    >>> import numpy as np
    >>> from skvision.preprocessing import Resize
    >>> images = [np.zeros((10, 12), dtype=np.uint8), np.full((6, 6), 255, dtype=np.uint8)]
    >>> out = Resize(8).fit_transform(images)
    >>> out.shape, out.dtype, int(out[1].min())
    ((2, 8, 8), dtype('uint8'), 255)
    >>> wide = np.array([[[10, 20, 30, 40], [50, 60, 70, 80]]], dtype=np.uint8)
    >>> Resize((2, 2), mode="crop").fit_transform(wide)[0].tolist()
    [[20, 30], [60, 70]]
    >>> Resize((4, 4), mode="pad").fit_transform(wide)[0].tolist()
    [[0, 0, 0, 0], [10, 20, 30, 40], [50, 60, 70, 80], [0, 0, 0, 0]]
    """

    _parameter_constraints: dict = {
        "size": [Integral, tuple, list],
        "mode": [StrOptions(set(RESIZE_MODES))],
        "fill_value": [Real],
        "interpolation": [StrOptions(set(INTERPOLATION_ORDERS))],
        "anti_aliasing": ["boolean", None],
    }

    def __init__(
        self, size=(32, 32), *, mode="stretch", fill_value=0, interpolation="bilinear", anti_aliasing=None
    ):
        self.size = size
        self.mode = mode
        self.fill_value = fill_value
        self.interpolation = interpolation
        self.anti_aliasing = anti_aliasing

    def __sklearn_tags__(self):
        # stateless: fit learns nothing from the images (compare may precompute a set behind it).
        tags = SkvisionTags.from_tags(_image_tags(super().__sklearn_tags__()), stateless=True)
        tags.transformer_tags.preserves_dtype = ["float64", "float32"]
        return tags

    @fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y=None):
        """Validate the parameters and the images.

        Parameters
        ----------
        X : array-like of shape (N, H, W[, C]), or list of images of any sizes
        y : ignored

        Returns
        -------
        self : Resize
        """
        self.output_size_ = _check_size(self.size)
        images = self._images(X)
        channels = (
            {image.shape[2] if image.ndim == 3 else None for image in images}
            if isinstance(images, list)
            else {images.shape[3] if images.ndim == 4 else None}
        )
        # The channels of the output (None: grey), for its feature names; None too for a mix.
        self.n_channels_ = channels.pop() if len(channels) == 1 else None
        self.input_scale_ = self._scale(images, X)
        if self.mode == "pad":
            check_pad_fill(self.fill_value, self.input_scale_)
        return self

    @staticmethod
    def _scale(images, X):
        """The :class:`ImageScale` of a batch, or of a list of images taken together; ``X`` as given."""
        if isinstance(images, list):
            scale = merge_scales([image_scale(image[np.newaxis]) for image in images])
        else:
            scale = image_scale(images)
        given = X if isinstance(X, (list, tuple)) else [X]
        if all(np.asarray(image).dtype == bool for image in given):  # masks, now uint8 0 / 255
            scale = dataclasses.replace(scale, boolean=True)
        return scale

    def transform(self, X):
        """Resize the images.

        Parameters
        ----------
        X : array-like of shape (N, H, W[, C]), or list of images of any sizes

        Returns
        -------
        images : ndarray of shape (N, height, width[, C])
        """
        check_is_fitted(self, "output_size_")
        images = self._images(X)
        if self.mode == "pad":
            # This batch's own scale: a float copy of the uint8 images fit saw reads 255 otherwise.
            check_pad_fill(self.fill_value, self._scale(images, X))
        if isinstance(images, np.ndarray):
            # Every image of a batch has one size, so one box serves them all.
            height, width = images.shape[1:3]
            if self.mode == "crop":
                top, bottom, left, right = crop_box(height, width, self.output_size_)
                return self._resize_batch(images[:, top:bottom, left:right], self.output_size_)
            if self.mode == "pad":
                box = pad_box(height, width, self.output_size_)
                inner = self._resize_batch(images, (box[1] - box[0], box[3] - box[2]))
                return _padded(inner, self.output_size_, box, self.fill_value, leading=1)
            return self._resize_batch(images, self.output_size_)
        resized = [
            resize_image(
                image,
                self.output_size_,
                mode=self.mode,
                fill_value=self.fill_value,
                interpolation=self.interpolation,
                anti_aliasing=self.anti_aliasing,
            )
            for image in images
        ]
        return check_images(resized)

    def _resize_batch(self, images, size):
        # One call over the whole batch: the batch axis keeps its length, so
        # skimage's interpolation along it lands on the original images exactly.
        height, width = size
        if images.shape[1:3] == (height, width):
            return images.copy()
        from skimage.transform import resize

        resized = resize(
            images.astype(np.float64, copy=False),
            (images.shape[0], height, width, *images.shape[3:]),
            order=INTERPOLATION_ORDERS[self.interpolation],
            anti_aliasing=_resolve_anti_aliasing(self.anti_aliasing, self.interpolation),
            anti_aliasing_sigma=self._batch_sigma(images, size),
            preserve_range=True,
            clip=False,
        )
        # skimage clips an image to its own value range (bicubic overshoots):
        # per image here, not to the range of the whole batch.
        axes = tuple(range(1, images.ndim))
        low = images.min(axis=axes, keepdims=True)
        high = images.max(axis=axes, keepdims=True)
        return _cast_like(np.clip(resized, low, high), images.dtype)

    def _batch_sigma(self, images, size):
        # skimage's default sigma, (factor - 1) / 2 per axis, with no smoothing
        # across the batch axis or the channel axis.
        in_hw = np.asarray(images.shape[1:3], dtype=float)
        factors = in_hw / np.asarray(size, dtype=float)
        sigma = np.maximum(0.0, (factors - 1) / 2)
        return (0.0, *sigma.tolist(), *([0.0] * (images.ndim - 3)))

    def _images(self, X):
        """A validated batch, or a list of validated images when their sizes differ."""
        if isinstance(X, np.ndarray) and X.dtype == object and X.ndim == 1:
            X = list(X)  # a 1-D object array of images, as np.asarray(list_of_images, dtype=object)
        if isinstance(X, (list, tuple)) and len(X) > 0:
            shapes = {np.shape(image) for image in X}
            if len(shapes) > 1:
                return [check_images([image], name=f"X[{i}]")[0] for i, image in enumerate(X)]
        return check_images(X)

    def get_feature_names_out(self, input_features=None):
        """One name per output value, ``pixel_<row>_<col>[_c<k>]``; ``input_features`` is ignored."""
        check_is_fitted(self, "output_size_")
        channels = getattr(self, "n_channels_", None)
        return _pixel_names(self.output_size_ if channels is None else (*self.output_size_, channels))


class Grayscale(_ImagesOut, TransformerMixin, BaseEstimator, auto_wrap_output_keys=None):
    """Convert colour images to grey levels (luminance weights of scikit-image).

    RGB and RGBA batches ``(N, H, W, 3|4)`` become ``(N, H, W)`` with
    :func:`skvision._images.to_grayscale` (alpha ignored); grey batches pass
    unchanged. Integer images keep their dtype (grey levels rounded), so uint8
    stays uint8 in 0-255. ``set_output`` is accepted and ignored: the output is
    images, never a DataFrame.

    Attributes
    ----------
    n_channels_in_ : int
        Channels of the images seen in ``fit`` (1 for grey).
    input_scale_ : ImageScale
        Value scale of the images seen in ``fit`` (see :mod:`skvision._images`);
        the output keeps it.

    Examples
    --------
    >>> import numpy as np
    >>> from skvision.preprocessing import Grayscale
    >>> rgb = np.zeros((1, 2, 2, 3), dtype=np.uint8); rgb[..., 0] = 200
    >>> out = Grayscale().fit_transform(rgb)
    >>> out.shape, out.dtype, int(out[0, 0, 0])
    ((1, 2, 2), dtype('uint8'), 42)
    """

    _parameter_constraints: dict = {}

    def __sklearn_tags__(self):
        # stateless: fit learns nothing from the images (compare may precompute a set behind it).
        tags = SkvisionTags.from_tags(_image_tags(super().__sklearn_tags__()), stateless=True)
        tags.transformer_tags.preserves_dtype = ["float64", "float32"]
        return tags

    @fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y=None):
        """Validate the images.

        Parameters
        ----------
        X : array-like of shape (N, H, W[, C])
        y : ignored

        Returns
        -------
        self : Grayscale
        """
        images, self.input_scale_ = check_images(X, return_scale=True)
        self.n_channels_in_ = 1 if images.ndim == 3 else images.shape[3]
        self.image_shape_ = images.shape[1:3]
        return self

    def transform(self, X):
        """Convert to grey levels.

        Parameters
        ----------
        X : array-like of shape (N, H, W[, C])

        Returns
        -------
        images : ndarray of shape (N, H, W)
        """
        check_is_fitted(self, "n_channels_in_")
        images = check_images(X)
        if images.ndim == 3:
            return images
        return _cast_like(to_grayscale(images), images.dtype)

    def get_feature_names_out(self, input_features=None):
        """One name per output pixel, ``pixel_<row>_<col>``; ``input_features`` is ignored."""
        check_is_fitted(self, "n_channels_in_")
        return _pixel_names(self.image_shape_)
