"""The one image-input contract every skvision estimator goes through.

Accepted input
--------------
* a numpy array of shape ``(N, H, W)`` (grey) or ``(N, H, W, C)`` (channels last),
* or a list / tuple of equally sized ``(H, W)`` or ``(H, W, C)`` arrays,
* of any boolean, integer or floating dtype.

Value ranges are taken as given: ``uint8`` images are 0-255, floats are whatever
the caller passes (no rescaling happens here). Estimators that need a fixed range
(the neural ones) document and apply their own scaling.

Everything else raises a :class:`ValueError` or :class:`TypeError` whose message
says what was expected and what came.
"""

from __future__ import annotations

import numbers

import numpy as np

__all__ = [
    "check_images",
    "check_image_shape",
    "to_grayscale",
    "LUMINANCE_WEIGHTS",
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


def _describe(X) -> str:
    shape = getattr(X, "shape", None)
    dtype = getattr(X, "dtype", None)
    if shape is not None:
        return f"{type(X).__name__} of shape {tuple(shape)} and dtype {dtype}"
    return f"{type(X).__name__}"


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
                "(skvision.preprocessing.Resize)."
            )
    return np.stack(arrays)


def check_images(
    X,
    *,
    name: str = "X",
    allowed_channels=_CHANNEL_COUNTS,
    min_size=None,
    min_size_reason: str | None = None,
    copy: bool = False,
) -> np.ndarray:
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

    Returns
    -------
    images : ndarray of shape (N, H, W) or (N, H, W, C)
        Same dtype as the input, except booleans which become ``uint8``.
        A ``(N, H, W, 1)`` batch is returned as ``(N, H, W)``.

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
    if isinstance(X, (list, tuple)):
        X = _stack_list(X, name)
    elif not isinstance(X, np.ndarray):
        # Array-likes (memmaps are ndarrays already; torch tensors, dask chunks, ...).
        if hasattr(X, "__array__") or hasattr(X, "__len__"):
            X = np.asarray(X)
        else:
            raise TypeError(f"{name} must be a numpy array or a list of arrays; got {type(X).__name__}.")

    kind = X.dtype.kind
    if kind == "c":
        raise ValueError(
            f"Complex data not supported: {name} has dtype {X.dtype}; images must be real-valued."
        )
    if kind == "b":
        X = X.astype(np.uint8)
    elif kind not in "uif":
        raise TypeError(
            f"{name} must have a boolean, integer or floating dtype; got dtype {X.dtype}. "
            + (
                "Object arrays usually mean images of different sizes or non-numeric data."
                if kind == "O"
                else ""
            )
        )

    if kind == "f" and not np.isfinite(X).all():
        n_bad = int(np.size(X) - np.count_nonzero(np.isfinite(X)))
        what = "NaN" if np.isnan(X).any() else "infinite"
        raise ValueError(f"{name} contains {what} values ({n_bad} non-finite pixels); images must be finite.")

    if X.ndim not in (3, 4):
        hint = ""
        if X.ndim == 2:
            hint = " For a single image, pass image[np.newaxis]." if X.shape[0] != 0 else ""
        raise ValueError(
            f"{name} must be a batch of images of shape (N, H, W) or (N, H, W, C); "
            f"got {_describe(X)} (ndim={X.ndim}).{hint}"
        )
    if X.shape[0] == 0:
        raise ValueError(f"{name} is an empty batch: expected at least one image, got shape {X.shape}.")
    if X.shape[1] == 0 or X.shape[2] == 0:
        raise ValueError(f"Images in {name} are empty: got shape {X.shape} (H and W must be >= 1).")

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
    land on the same scale. Grey batches ``(N, H, W)`` are returned unchanged.

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
        return images[..., :3] @ LUMINANCE_WEIGHTS
    raise ValueError(
        f"Cannot convert {n_channels}-channel images to grey levels; "
        "expected 1, 3 (RGB) or 4 (RGBA) channels."
    )


def is_integer_like(value) -> bool:
    """True for Python and numpy integers, False for bool."""
    return isinstance(value, numbers.Integral) and not isinstance(value, bool)
