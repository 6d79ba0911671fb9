"""Image-to-image pipeline steps: Grayscale and Resize.

Both keep the value scale and the integer dtype of their input, so that a uint8
batch stays a uint8 batch in 0-255: the neural estimators scale integer images by
their dtype's maximum, and would misread 0-255 floats.
"""

from __future__ import annotations

from numbers import Integral

import numpy as np
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.utils.validation import check_is_fitted

from .._compat import StrOptions, fit_context
from .._images import check_images, is_integer_like, to_grayscale

__all__ = ["Grayscale", "Resize", "resize_image"]

#: Interpolation names -> spline order of :func:`skimage.transform.resize`.
INTERPOLATION_ORDERS = {"nearest": 0, "bilinear": 1, "bicubic": 3}


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


def resize_image(image, size, *, interpolation="bilinear", anti_aliasing=None):
    """Resize one image with :func:`skimage.transform.resize`.

    Parameters
    ----------
    image : ndarray of shape (H, W) or (H, W, C)
        One image; integer dtypes keep their dtype (values rounded and clipped).
    size : tuple of (int, int)
        Output ``(height, width)``.
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
    """
    from skimage.transform import resize

    output_shape = (int(size[0]), int(size[1]), *image.shape[2:])
    if output_shape == image.shape:
        return image.copy()
    resized = resize(
        image.astype(np.float64, copy=False),
        output_shape,
        order=INTERPOLATION_ORDERS[interpolation],
        anti_aliasing=_resolve_anti_aliasing(anti_aliasing, interpolation),
        preserve_range=True,
    )
    return _cast_like(resized, image.dtype)


def _resolve_anti_aliasing(anti_aliasing, interpolation):
    # One rule for every dtype (skimage's own default depends on the input dtype,
    # and images are resized as float64 here).
    return interpolation != "nearest" if anti_aliasing is None else bool(anti_aliasing)


def _check_size(size):
    if is_integer_like(size):
        size = (size, size)
    if (
        not isinstance(size, (tuple, list))
        or len(size) != 2
        or not all(is_integer_like(s) and s >= 1 for s in size)
    ):
        raise ValueError(
            f"The 'size' parameter of Resize must be a positive int or a (height, width) pair "
            f"of positive ints; got {size!r}."
        )
    return (int(size[0]), int(size[1]))


class Resize(TransformerMixin, BaseEstimator):
    """Resize every image to one size, with :func:`skimage.transform.resize`.

    Takes a batch ``(N, H, W[, C])`` or a list of images of *different* sizes
    (the usual state of images read from disk) and returns one batch of
    ``size``. Integer images keep their dtype (values rounded and clipped);
    float images keep theirs.

    Parameters
    ----------
    size : int or tuple of (int, int)
        Output ``(height, width)``; an int gives square images.
    interpolation : {'nearest', 'bilinear', 'bicubic'}, default='bilinear'
        Spline order 0, 1 or 3 of :func:`skimage.transform.resize`.
    anti_aliasing : bool or None, default=None
        Gaussian smoothing before downscaling, to avoid aliasing; ``None`` means
        on, except for 'nearest'.

    Attributes
    ----------
    output_size_ : tuple of (int, int)
        The validated ``size``.

    Examples
    --------
    >>> import numpy as np
    >>> from skvision.preprocessing import Resize
    >>> images = [np.zeros((10, 12), dtype=np.uint8), np.full((6, 6), 255, dtype=np.uint8)]
    >>> out = Resize(8).fit_transform(images)
    >>> out.shape, out.dtype, int(out[1].min())
    ((2, 8, 8), dtype('uint8'), 255)
    """

    _parameter_constraints: dict = {
        "size": [Integral, tuple, list],
        "interpolation": [StrOptions(set(INTERPOLATION_ORDERS))],
        "anti_aliasing": ["boolean", None],
    }

    def __init__(self, size=(32, 32), *, interpolation="bilinear", anti_aliasing=None):
        self.size = size
        self.interpolation = interpolation
        self.anti_aliasing = anti_aliasing

    def __sklearn_tags__(self):
        tags = _image_tags(super().__sklearn_tags__())
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
        self._images(X)
        return self

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
        if isinstance(images, np.ndarray):
            # One call over the whole batch: the batch axis keeps its length, so
            # skimage's interpolation along it lands on the original images exactly.
            height, width = self.output_size_
            if images.shape[1:3] == (height, width):
                return images.copy()
            from skimage.transform import resize

            resized = resize(
                images.astype(np.float64, copy=False),
                (images.shape[0], height, width, *images.shape[3:]),
                order=INTERPOLATION_ORDERS[self.interpolation],
                anti_aliasing=_resolve_anti_aliasing(self.anti_aliasing, self.interpolation),
                anti_aliasing_sigma=self._batch_sigma(images),
                preserve_range=True,
                clip=False,
            )
            # skimage clips an image to its own value range (bicubic overshoots):
            # per image here, not to the range of the whole batch.
            axes = tuple(range(1, images.ndim))
            low = images.min(axis=axes, keepdims=True)
            high = images.max(axis=axes, keepdims=True)
            return _cast_like(np.clip(resized, low, high), images.dtype)
        resized = [
            resize_image(
                image,
                self.output_size_,
                interpolation=self.interpolation,
                anti_aliasing=self.anti_aliasing,
            )
            for image in images
        ]
        return check_images(resized)

    def _batch_sigma(self, images):
        # skimage's default sigma, (factor - 1) / 2 per axis, with no smoothing
        # across the batch axis or the channel axis.
        in_hw = np.asarray(images.shape[1:3], dtype=float)
        factors = in_hw / np.asarray(self.output_size_, dtype=float)
        sigma = np.maximum(0.0, (factors - 1) / 2)
        return (0.0, *sigma.tolist(), *([0.0] * (images.ndim - 3)))

    def _images(self, X):
        """A validated batch, or a list of validated images when their sizes differ."""
        if isinstance(X, (list, tuple)) and len(X) > 0:
            shapes = {np.shape(image) for image in X}
            if len(shapes) > 1:
                return [check_images([image], name=f"X[{i}]")[0] for i, image in enumerate(X)]
        return check_images(X)

    def get_feature_names_out(self, input_features=None):
        """One name per output pixel, ``pixel_<row>_<col>``; ``input_features`` is ignored."""
        check_is_fitted(self, "output_size_")
        return _pixel_names(self.output_size_)


class Grayscale(TransformerMixin, BaseEstimator):
    """Convert colour images to grey levels (luminance weights of scikit-image).

    RGB and RGBA batches ``(N, H, W, 3|4)`` become ``(N, H, W)`` with
    :func:`skvision._images.to_grayscale` (alpha ignored); grey batches pass
    unchanged. Integer images keep their dtype (grey levels rounded), so uint8
    stays uint8 in 0-255.

    Attributes
    ----------
    n_channels_in_ : int
        Channels of the images seen in ``fit`` (1 for grey).

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
        tags = _image_tags(super().__sklearn_tags__())
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
        images = check_images(X)
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
