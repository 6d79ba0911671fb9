"""Reading image files into uint8 arrays: ImageLoader, and the code load_image_folder shares.

Files are decoded with Pillow (a dependency of matplotlib and torchvision).
Only PNG, JPEG and TIFF are accepted, identified by their content, not their
name. The pixel count is read from the header and checked before any pixel is
decoded, so a decompression bomb is refused without being inflated.
"""

from __future__ import annotations

import contextlib
import os
import warnings
from numbers import Integral

import numpy as np
from joblib import Parallel, delayed
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.utils.validation import check_is_fitted

from .._compat import Interval, StrOptions, fit_context
from .._images import check_images, to_grayscale
from ._transforms import _cast_like, _check_size, _pixel_names, resize_image

__all__ = ["ImageLoader", "ImageReadError", "read_images", "DEFAULT_MAX_PIXELS", "IMAGE_EXTENSIONS"]

#: File name endings looked for in image folders.
IMAGE_EXTENSIONS = (".png", ".jpg", ".jpeg", ".tif", ".tiff")
#: Pillow formats accepted.
_PIL_FORMATS = ("PNG", "JPEG", "TIFF")
#: Pillow's own default limit (``PIL.Image.MAX_IMAGE_PIXELS``): about 89 million pixels.
DEFAULT_MAX_PIXELS = 89_478_485
COLOR_MODES = ("auto", "gray", "rgb")
_GRAY_MODES = {"1", "L", "LA", "La", "I", "I;16", "I;16L", "I;16B", "I;16N"}
_SIXTEEN_BIT_MODES = {"I", "I;16", "I;16L", "I;16B", "I;16N"}


class ImageReadError(ValueError):
    """A file could not be read as an image; the message names the file."""


def _native_array(image):
    """Decode a Pillow image as uint8: ``(H, W)`` for grey modes, ``(H, W, 3)`` otherwise."""
    mode = image.mode
    if mode in _SIXTEEN_BIT_MODES:
        # 16-bit grey (Pillow reads 16-bit PNGs as 'I'): 0-65535 scaled to 0-255.
        values = np.asarray(image, dtype=np.float64)
        return np.clip(np.rint(values / 257.0), 0, 255).astype(np.uint8)
    if mode in _GRAY_MODES:
        return np.asarray(image.convert("L"), dtype=np.uint8)
    if mode == "F":
        raise ValueError("32-bit floating-point pixels are not supported")
    # RGB, RGBA (alpha dropped), palette, CMYK, YCbCr, LAB, ...
    return np.asarray(image.convert("RGB"), dtype=np.uint8)


def _convert(array, color_mode):
    if color_mode == "gray" and array.ndim == 3:
        return _cast_like(to_grayscale(array[np.newaxis])[0], np.uint8)
    if color_mode == "rgb" and array.ndim == 2:
        return np.repeat(array[..., np.newaxis], 3, axis=2)
    return array


@contextlib.contextmanager
def _opened(path, max_pixels):
    """Open ``path`` with Pillow (header only) after the pixel-count check.

    Every failure inside the ``with`` block, decoding included, becomes an
    :class:`ImageReadError` that names the file.
    """
    from PIL import Image

    name = os.fspath(path)
    try:
        with warnings.catch_warnings():
            # The explicit max_pixels check below replaces Pillow's warning.
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            with Image.open(path, formats=_PIL_FORMATS) as image:
                width, height = image.size
                if max_pixels is not None and width * height > max_pixels:
                    raise ImageReadError(
                        f"{name}: image of {width}x{height} = {width * height:,} pixels exceeds "
                        f"max_pixels={max_pixels:,}; refused as a possible decompression bomb "
                        "(raise max_pixels if the file is trusted)."
                    )
                yield image
    except ImageReadError:
        raise
    except Image.DecompressionBombError as exc:
        raise ImageReadError(f"{name}: refused as a possible decompression bomb ({exc}).") from exc
    except FileNotFoundError as exc:
        raise ImageReadError(f"{name}: no such file.") from exc
    except Image.UnidentifiedImageError as exc:
        raise ImageReadError(
            f"{name}: not a PNG, JPEG or TIFF image (unsupported format or corrupt file)."
        ) from exc
    except (OSError, SyntaxError, ValueError) as exc:
        raise ImageReadError(f"{name}: corrupt or unsupported image file ({exc}).") from exc


def read_image(path, *, color_mode="auto", image_size=None, max_pixels=DEFAULT_MAX_PIXELS):
    """Read one PNG, JPEG or TIFF file as a uint8 array.

    Parameters
    ----------
    path : str or path-like
    color_mode : {'auto', 'gray', 'rgb'}, default='auto'
        'auto' keeps the file's own mode: ``(H, W)`` for grey files, ``(H, W, 3)``
        for colour ones. 'gray' uses skvision's luminance weights.
    image_size : tuple of (int, int) or None
        Resize to ``(height, width)`` (bilinear, anti-aliased).
    max_pixels : int or None
        Largest ``height * width`` accepted, checked before decoding; ``None``
        leaves only Pillow's own limit.

    Returns
    -------
    image : ndarray of uint8, shape (H, W) or (H, W, 3)

    Raises
    ------
    ImageReadError
        Missing, corrupt, truncated, unsupported or too large file; the message
        names it.
    """
    from PIL import ImageOps

    with _opened(path, max_pixels) as image:
        # Camera JPEGs store their orientation in EXIF; apply it.
        array = _native_array(ImageOps.exif_transpose(image))
    array = _convert(array, color_mode)
    if image_size is not None:
        array = resize_image(array, image_size)
    return array


def _read_or_report(path, skip, **options):
    try:
        return read_image(path, **options), None
    except ImageReadError as exc:
        if not skip:
            raise
        return None, str(exc)


def read_images(
    paths, *, color_mode="auto", image_size=None, max_pixels=DEFAULT_MAX_PIXELS, on_error="raise", n_jobs=None
):
    """Read files in parallel (joblib) into one uint8 batch.

    Parameters
    ----------
    paths : sequence of str or path-like
    color_mode : {'auto', 'gray', 'rgb'}, default='auto'
        'auto': grey ``(N, H, W)`` when every file is grey, else ``(N, H, W, 3)``
        with grey files repeated over the three channels.
    image_size : tuple of (int, int) or None
        Resize every image; without it all files must have one size.
    max_pixels : int or None
        Per-file pixel limit (see :func:`read_image`).
    on_error : {'raise', 'skip'}, default='raise'
        'skip' leaves unreadable files out with a warning naming each.
    n_jobs : int or None
        joblib workers.

    Returns
    -------
    images : ndarray of uint8, shape (n, H, W) or (n, H, W, 3)
    kept : ndarray of int
        Indices into ``paths`` of the files read (all of them unless skipped).
    """
    paths = [os.fspath(p) for p in paths]
    options = dict(color_mode=color_mode, image_size=image_size, max_pixels=max_pixels)
    results = Parallel(n_jobs=n_jobs)(
        delayed(_read_or_report)(path, on_error == "skip", **options) for path in paths
    )
    arrays, kept = [], []
    for index, (array, problem) in enumerate(results):
        if problem is not None:
            warnings.warn(f"Skipped {problem}", UserWarning, stacklevel=3)
            continue
        arrays.append(array)
        kept.append(index)
    if not arrays:
        raise ValueError(f"None of the {len(paths)} files could be read as an image.")
    if color_mode == "auto" and any(a.ndim == 3 for a in arrays) and any(a.ndim == 2 for a in arrays):
        arrays = [_convert(a, "rgb") for a in arrays]
    first = arrays[0].shape[:2]
    for array, index in zip(arrays, kept):
        if array.shape[:2] != first:
            raise ValueError(
                f"Images have different sizes: {paths[kept[0]]} is {first[0]}x{first[1]} but "
                f"{paths[index]} is {array.shape[0]}x{array.shape[1]} (HxW); pass "
                "image_size=(height, width) to resize them on reading."
            )
    return np.stack(arrays), np.asarray(kept, dtype=np.intp)


def _check_paths(X):
    if isinstance(X, (str, bytes, os.PathLike)):
        raise TypeError(f"X is a single path ({X!r}); expected a sequence of image file paths, e.g. [path].")
    if np.ndim(X) != 1:
        raise ValueError(
            f"X must be a 1-D sequence of image file paths; got {type(X).__name__} of shape {np.shape(X)}."
        )
    paths = list(X)
    if not paths:
        raise ValueError("X is empty: expected at least one image file path.")
    for i, path in enumerate(paths):
        if not isinstance(path, (str, os.PathLike)):
            raise TypeError(
                f"X[{i}] is a {type(path).__name__}; ImageLoader expects file paths (str or "
                "path-like). Arrays of pixels go straight to the next pipeline step."
            )
    return paths


class ImageLoader(TransformerMixin, BaseEstimator):
    """Read image files into a uint8 batch: the first step of a pipeline over paths.

    ``transform`` takes a sequence of PNG, JPEG or TIFF file paths and returns
    ``(N, H, W)`` or ``(N, H, W, 3)`` uint8 images, read in parallel with joblib.
    Keeping the paths as ``X`` lets :func:`~sklearn.model_selection.cross_validate`
    and ``GridSearchCV`` split a data set too large to hold in memory at once.

    Parameters
    ----------
    image_size : int, tuple of (int, int) or None, default=None
        Resize every image to ``(height, width)`` on reading (bilinear,
        anti-aliased). Without it, all files must have one size.
    color_mode : {'auto', 'gray', 'rgb'}, default='auto'
        'auto' decides in ``fit`` from the training files' headers: grey when
        every one is grey, else RGB; the same mode is then used on any file.
        'gray' converts colour with skvision's luminance weights.
    max_pixels : int or None, default=89_478_485
        Files with more pixels than this are refused before decoding
        (decompression bombs). ``None`` leaves only Pillow's own limit.
    on_error : {'raise', 'skip'}, default='raise'
        An unreadable file raises :class:`ImageReadError` naming it, or with
        'skip' is left out with a warning (``transform`` then returns fewer
        images than paths, so use 'skip' for exploration, not inside CV).
    n_jobs : int or None, default=None
        joblib workers for reading.

    Attributes
    ----------
    color_mode_ : {'gray', 'rgb'}
        Mode used by ``transform``.
    image_size_ : tuple of (int, int) or None
        The validated ``image_size``.

    Examples
    --------
    >>> import tempfile, pathlib, numpy as np
    >>> from PIL import Image
    >>> from skvision.preprocessing import ImageLoader
    >>> folder = pathlib.Path(tempfile.mkdtemp())
    >>> for i in range(2):
    ...     Image.fromarray(np.full((6, 9), 60 * i, dtype=np.uint8)).save(folder / f"{i}.png")
    >>> loader = ImageLoader(image_size=(4, 4)).fit(sorted(folder.glob("*.png")))
    >>> images = loader.transform(sorted(folder.glob("*.png")))
    >>> loader.color_mode_, images.shape, images.dtype, int(images[1, 0, 0])
    ('gray', (2, 4, 4), dtype('uint8'), 60)
    """

    _parameter_constraints: dict = {
        "image_size": [Integral, tuple, list, None],
        "color_mode": [StrOptions(set(COLOR_MODES))],
        "max_pixels": [Interval(Integral, 1, None, closed="left"), None],
        "on_error": [StrOptions({"raise", "skip"})],
        "n_jobs": [Integral, None],
    }

    def __init__(
        self,
        *,
        image_size=None,
        color_mode="auto",
        max_pixels=DEFAULT_MAX_PIXELS,
        on_error="raise",
        n_jobs=None,
    ):
        self.image_size = image_size
        self.color_mode = color_mode
        self.max_pixels = max_pixels
        self.on_error = on_error
        self.n_jobs = n_jobs

    @fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y=None):
        """Check the files' headers and fix the colour mode.

        Parameters
        ----------
        X : sequence of str or path-like
            Image file paths.
        y : ignored

        Returns
        -------
        self : ImageLoader
        """
        paths = _check_paths(X)
        self.image_size_ = None if self.image_size is None else _check_size(self.image_size)
        if self.color_mode == "auto":
            self.color_mode_ = "rgb" if any(self._header_is_color(p) for p in paths) else "gray"
        else:
            self.color_mode_ = self.color_mode
        return self

    def _header_is_color(self, path):
        try:
            with _opened(path, self.max_pixels) as image:
                return image.mode not in _GRAY_MODES
        except ImageReadError:
            if self.on_error == "skip":
                return False  # transform leaves it out, with its warning
            raise

    def transform(self, X):
        """Read the files.

        Parameters
        ----------
        X : sequence of str or path-like
            Image file paths.

        Returns
        -------
        images : ndarray of uint8, shape (N, H, W) or (N, H, W, 3)
        """
        check_is_fitted(self, "color_mode_")
        images, _ = read_images(
            _check_paths(X),
            color_mode=self.color_mode_,
            image_size=self.image_size_,
            max_pixels=self.max_pixels,
            on_error=self.on_error,
            n_jobs=self.n_jobs,
        )
        return check_images(images)

    def get_feature_names_out(self, input_features=None):
        """One name per output pixel when ``image_size`` is set; ``input_features`` is ignored."""
        check_is_fitted(self, "color_mode_")
        if self.image_size_ is None:
            raise ValueError(
                "ImageLoader(image_size=None) has no fixed output size, so no feature names; set image_size."
            )
        channels = (3,) if self.color_mode_ == "rgb" else ()
        return _pixel_names((*self.image_size_, *channels))
