"""Reading image files into uint8 arrays: ImageLoader, and the code load_image_folder shares.

Files are decoded with Pillow (a dependency of matplotlib and torchvision). Every
format Pillow reads is accepted (PNG, JPEG, TIFF, BMP, WebP, GIF, ...), identified
by the file's content, not its name, except EPS, which Pillow renders by running
Ghostscript, an external program. Animated and multi-page files (GIF, WebP, TIFF)
give their first frame or page. An EXIF or TIFF orientation is applied, so that
every image comes upright, and the size read from a header is the upright one.
Data files that Pillow identifies but cannot decode (HDF5, BUFR, ...) are bad
files. The pixel count is read from the header and checked
before any pixel is decoded, so a decompression bomb is refused without being
inflated, and every pixel is then decoded, so a truncated file is found when it is
read, not later.

A file that cannot be read is a *bad file*: not an image (a ``.txt``, an empty
file), truncated or corrupt data, a format that cannot be decoded, an unreadable
or missing file. ``on_error`` decides what happens to bad files, always after
every file was tried, so that one error lists them all.

Bit depth: 8-bit files are read as they are. Unsigned 16-bit grey files are
scaled by one rule, ``round(value / 257)`` (0-65535 to 0-255), whatever range
each one uses, so that the images of a data set stay comparable; 16-bit files
whose values all stay within 0-4095 (12-bit data, or less, in a 16-bit file)
keep at most 17 grey levels that way, and one warning per read lists them.
Pillow itself reduces 16-bit colour files to their high byte (``value >> 8``), and
the same warning names those whose high bytes stay within 0-15. Files of 32-bit
integers, signed integers or floats (Pillow modes 'I' and 'F', e.g. a 32-bit
TIFF) have no range that says which value is white: they are bad files. 16-bit
grey TIFFs that store white as 0 (PhotometricInterpretation MinIsWhite, from
scanners) are inverted first, as Pillow does for 1-bit and 8-bit ones.
"""

from __future__ import annotations

import contextlib
import functools
import os
import stat
import struct
import sys
import warnings
from collections.abc import Iterator
from numbers import Integral, Real

import numpy as np
from sklearn import get_config
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.utils.validation import check_is_fitted

from .._compat import Interval, StrOptions, fit_context
from .._images import check_images, to_grayscale
from .._warnings import user_stacklevel
from ._file_map import map_files
from ._transforms import RESIZE_MODES, _cast_like, _check_size, _ImagesOut, _pixel_names, resize_image

__all__ = [
    "ImageLoader",
    "ImageReadError",
    "read_image",
    "read_images",
    "DEFAULT_MAX_PIXELS",
    "ON_ERROR",
]

#: Pillow's own default limit (``PIL.Image.MAX_IMAGE_PIXELS``): about 89 million pixels.
DEFAULT_MAX_PIXELS = 89_478_485
COLOR_MODES = ("auto", "gray", "rgb")
#: What happens to bad files: an error listing them all, a warning listing them, or nothing.
ON_ERROR = ("raise", "warn", "skip")
#: Pillow formats never opened: Pillow renders EPS with Ghostscript, an external program.
_REFUSED_FORMATS = frozenset({"EPS"})
_COMMON_FORMATS = ("PNG", "JPEG", "TIFF", "BMP", "WEBP", "GIF")
#: Bad files listed by name in one message; the rest are counted.
_LISTED_PROBLEMS = 20
#: The EXIF orientation tag, and its values that swap height and width.
_EXIF_ORIENTATION = 0x0112
_EXIF_TRANSPOSED = {5, 6, 7, 8}
#: EXIF orientations that move pixels (1: as stored).
_EXIF_MOVES = {2, 3, 4, 5, 6, 7, 8}
_GRAY_MODES = {"1", "L", "LA", "La", "I", "I;16", "I;16L", "I;16B", "I;16N"}
#: Pillow's modes of unsigned 16-bit grey pixels.
_SIXTEEN_BIT_MODES = {"I;16", "I;16L", "I;16B", "I;16N"}
#: Formats whose grey files in Pillow's 32-bit integer mode 'I' hold unsigned 16-bit values all the
#: same: PNG (16 bits at most; Pillow before 10.3 opens 16-bit grey PNGs as 'I', later ones as 'I;16')
#: and PGM (Pillow opens a maxval above 255 as 'I', stretched to 0-65535). Mode 'I' from any other
#: format (32-bit or signed 16-bit TIFF, IM, McIdas, FITS) may hold any integer: refused.
_SIXTEEN_BIT_AS_I = frozenset({"PNG", "PPM"})
#: A 16-bit file whose largest value is at most this keeps at most round(4095 / 257) + 1 = 17 grey
#: levels once scaled by /257: 12-bit data (the common depth of camera and medical sensors stored in
#: 16-bit files) or less, 8-bit values in a 16-bit file included, which come out nearly black. 14-bit
#: data (up to 16383) keeps 65 levels, a smaller loss accepted as the price of one rule for all files.
_LOW_RANGE_MAX = 4095
#: Files named in the warning about 16-bit files of a small range; the rest are counted.
_LISTED_LOW_RANGE = 5


class ImageReadError(ValueError):
    """Files could not be read as images; the message names each with its reason.

    Attributes
    ----------
    problems : dict of str -> str
        Every bad file (path) with the reason it could not be read.
    """

    def __init__(self, message, problems=None):
        super().__init__(message)
        self.problems = dict(problems or {})


class _BadFile(Exception):
    """One file's reason for not being read (internal: becomes an ImageReadError)."""


@functools.cache
def _pil_formats():
    from PIL import Image

    Image.init()
    # Pillow tries the formats in this order: the common ones first cost the others nothing.
    formats = [*_COMMON_FORMATS, *Image.OPEN]
    return tuple(dict.fromkeys(f for f in formats if f in Image.OPEN and f not in _REFUSED_FORMATS))


def describe_problems(problems, limit=_LISTED_PROBLEMS):
    """``path: reason`` lines for at most ``limit`` bad files, then a count of the others."""
    lines = [f"  {path}: {reason}" for path, reason in list(problems.items())[:limit]]
    if len(problems) > limit:
        lines.append(f"  ... and {len(problems) - limit} more")
    return "\n".join(lines)


def bad_files_error(problems, n_files, *, from_paths=False):
    """The one :class:`ImageReadError` that lists every bad file of a read.

    ``from_paths``: the files are a caller's list of paths (``ImageLoader``), whose
    output rows must line up with it: leaving files out is then advice with a cost,
    and operating-system files among them (``.DS_Store``) are named.
    """
    count = "1 file" if len(problems) == 1 else f"{len(problems)} files"
    advice = "Pass on_error='warn' (or 'skip', silent) to leave them out."
    if from_paths:
        from ..datasets._folder import is_debris  # that module imports this one

        debris = [path for path in problems if is_debris(os.path.basename(path))]
        system = (
            f" ({len(debris)} of them operating-system files such as {os.path.basename(debris[0])!r}: "
            "keep them out, e.g. [p for p in paths if not Path(p).name.startswith('.')])"
            if debris
            else ""
        )
        advice = (
            f"Leave them out of the paths{system}, or pass on_error='warn' (or 'skip', silent): "
            f"{_SHORTER_OUTPUT}"
        )
    return ImageReadError(
        f"{count} of {n_files} could not be read as images:\n{describe_problems(problems)}\n{advice}",
        problems,
    )


# What leaving files out of a caller's paths does to the rows that come back.
_SHORTER_OUTPUT = (
    "transform then returns fewer images than paths (skipped_files_ names those left out), so its rows, "
    "and a pipeline's predictions, no longer line up with the paths."
)


def report_bad_files(problems, n_files, on_error, from_paths=False):
    """Raise, warn about or accept the bad files of a read, as ``on_error`` says (``bad_files_error``)."""
    if not problems:
        return
    if on_error == "raise":
        raise bad_files_error(problems, n_files, from_paths=from_paths)
    if on_error == "warn":
        count = "1 file" if len(problems) == 1 else f"{len(problems)} files"
        shorter = (
            f"\n{n_files - len(problems)} images come back for {n_files} paths: their rows, and a pipeline's "
            "predictions, no longer line up with the paths (skipped_files_ names those left out)."
            if from_paths
            else ""
        )
        warnings.warn(
            f"Skipped {count} of {n_files} that could not be read as images:\n{describe_problems(problems)}"
            f"{shorter}",
            UserWarning,
            stacklevel=user_stacklevel(),
        )


def check_fill_value(fill_value, owner="fill_value"):
    """``fill_value`` as a float: one real grey level within 0-255, the range of the uint8 images read.

    Out of range it was clipped, and NaN became 0 with a RuntimeWarning from numpy's cast.
    """
    if isinstance(fill_value, bool) or not isinstance(fill_value, Real):
        raise TypeError(
            f"{owner} must be a real number, the grey level (0-255) of the border with resize_mode='pad'; "
            f"got {type(fill_value).__name__} {fill_value!r}."
        )
    if not 0 <= fill_value <= 255:  # False for NaN too
        raise ValueError(
            f"{owner} must be a grey level within 0-255 (images are read as uint8); got {fill_value!r}."
        )
    return float(fill_value)


def _check_pixel_type(image):
    """Refuse, from the header, files with no pixels, and pixels with no fixed range to scale to 0-255."""
    from PIL import ImageFile

    if isinstance(image, ImageFile.StubImageFile):
        # HDF5, BUFR, GRIB...: Pillow identifies them and says 'F' (or another mode) from the header,
        # but has no decoder; they were reported as floating-point images.
        raise _BadFile(
            f"a data file ({image.format}), not an image (Pillow identifies the format but decodes no pixels "
            "from it); convert its arrays to image files first"
        )
    if image.mode == "F":
        raise _BadFile(
            "32-bit floating-point pixels (Pillow mode 'F') are not supported: they have no fixed range "
            "to scale to 0-255; save the image as 8-bit, or unsigned 16-bit (scaled by /257), with the "
            "scaling its data needs"
        )
    if image.mode == "I" and image.format not in _SIXTEEN_BIT_AS_I:
        raise _BadFile(
            f"32-bit or signed integer pixels (Pillow mode 'I', from a {image.format} file) are not "
            "supported: they have no fixed range to scale to 0-255; save the image as 8-bit, or unsigned "
            "16-bit (scaled by /257), with the scaling its data needs"
        )


def _min_is_white(image):
    """Whether ``image`` (opened, not decoded) is a 16-bit grey TIFF that stores white as 0.

    TIFF's PhotometricInterpretation MinIsWhite (tag 262 = 0), written by scanners and fax
    software: Pillow inverts such 1-bit and 8-bit files itself, but opens 16-bit ones as plain
    'I;16', which came out inverted.
    """
    return image.format == "TIFF" and image.mode in _SIXTEEN_BIT_MODES and image.tag_v2.get(262) == 0


def _native_array(image, min_is_white=False):
    """Decode a Pillow image as uint8: ``(H, W)`` for grey modes, ``(H, W, 3)`` otherwise.

    Returns the array and, for a 16-bit file, its largest value before scaling
    (None for other files). ``min_is_white``: a 16-bit file whose 0 is white
    (see :func:`_min_is_white`), inverted first.
    """
    mode = image.mode
    # Mode 'I' reaches here only from the formats in _SIXTEEN_BIT_AS_I (_check_pixel_type).
    if mode in _SIXTEEN_BIT_MODES or mode == "I":
        # One rule for every 16-bit file, 0-65535 to 0-255, so that a data set's images stay comparable.
        values = np.asarray(image, dtype=np.float64)
        if min_is_white:
            values = 65535.0 - values
        array = np.clip(np.rint(values / 257.0), 0, 255).astype(np.uint8)
        return array, int(values.max(initial=0))
    # (convert() to the image's own mode copies it: 8 ms of a 12-megapixel photo.)
    if mode in _GRAY_MODES:
        return np.asarray(image if mode == "L" else image.convert("L"), dtype=np.uint8), None
    # RGB, RGBA (alpha dropped), palette, CMYK, YCbCr, LAB, ...
    return np.asarray(image if mode == "RGB" else image.convert("RGB"), dtype=np.uint8), None


def _decoded_to_high_bytes(image):
    """Whether Pillow decodes ``image`` (not yet loaded) from 16-bit samples to 8-bit: colour, grey+alpha.

    Pillow keeps 16 bits only for single-channel grey; for 'RGB;16B' (PNG),
    ('RGB;16L', ...) (TIFF) and the like it keeps each sample's high byte.
    """
    if image.mode in _SIXTEEN_BIT_MODES or image.mode == "I":
        return False
    for tile in image.tile:
        rawmode = tile.args if isinstance(tile.args, str) else (tile.args or ("",))[0]
        if isinstance(rawmode, str) and ";16" in rawmode:
            return True
    return False


def _warn_low_range(deep_max):
    """One warning naming the 16-bit files of a read whose values stay within 0-4095.

    ``deep_max`` maps each 16-bit file read to its largest value.
    """
    low = {path: f"values up to {top}" for path, top in deep_max.items() if top <= _LOW_RANGE_MAX}
    if not low:
        return
    if len(deep_max) == 1:
        count = "The 16-bit file holds"
    elif len(low) == len(deep_max):
        count = f"All {len(low)} 16-bit files read hold"
    else:
        count = f"{len(low)} of the {len(deep_max)} 16-bit files read hold"
    warnings.warn(
        f"{count} values only up to {_LOW_RANGE_MAX} (12-bit data, or less, in a 16-bit file?): every "
        "16-bit file is scaled by /257 (0-65535 to 0-255), so they keep at most 17 grey levels:\n"
        f"{describe_problems(low, limit=_LISTED_LOW_RANGE)}\n"
        "If the files hold fewer than 16 bits, save them as 8-bit files with one scaling for all of them, "
        "e.g. x >> 4 for 12-bit data (0-4095), np.rint(x * 255 / full_scale) for another depth, or "
        "x.astype(np.uint8) for 8-bit values (0-255); 8-bit files are read unchanged.",
        UserWarning,
        stacklevel=user_stacklevel(),
    )


def _warn_few_colour_files(colour, n_files):
    """Warn when a few colour files make a mostly grey read colour (``color_mode='auto'``).

    One RGB file among 29 grey ones made every image (N, H, W, 3); a grey model
    then refused them all, naming no file. A few grey files among colour ones
    are the usual mix and read as colour without a word.
    """
    if len(colour) * 2 < n_files:
        _warn_mode_files(
            colour,
            n_files,
            "colour",
            " among grey ones, so every image is read as colour (the grey ones in three equal channels)",
            "Pass color_mode='gray' to read them all grey (a model fitted on grey images refuses colour "
            "ones), or color_mode='rgb' where colour is meant.",
        )


def _warn_grey_into_colour(grey, n_files):
    """Warn that ``grey`` files were read as colour (``ImageLoader`` fitted on colour files)."""
    _warn_mode_files(
        grey,
        n_files,
        "grey",
        ", read as colour (the grey level in all three channels) for a model fitted on colour files, "
        "whose colour features they lack",
        "Pass the colour originals, or fit on grey images (ImageLoader(color_mode='gray')).",
    )


def _warn_mode_files(files, n_files, mode, what, advice):
    """One warning: ``files`` (of ``n_files``) are ``mode`` + ``what``, each listed, then ``advice``.

    Called through the two functions above from ``read_images``, which ``ImageLoader.transform`` or
    ``load_image_folder`` calls: the warning names the user's line (``user_stacklevel``).
    """
    if not files:
        return
    count, verb = ("1 file", "is") if len(files) == 1 else (f"{len(files)} files", "are")
    listed = describe_problems(dict.fromkeys(files, mode))
    warnings.warn(
        f"{count} of {n_files} {verb} {mode}{what}:\n{listed}\n{advice}",
        UserWarning,
        stacklevel=user_stacklevel(),
    )


def _convert(array, color_mode):
    if color_mode == "gray" and array.ndim == 3:
        return _cast_like(to_grayscale(array[np.newaxis])[0], np.uint8)
    if color_mode == "rgb" and array.ndim == 2:
        return np.repeat(array[..., np.newaxis], 3, axis=2)
    return array


@contextlib.contextmanager
def _bomb_warnings_off():
    """Pillow's DecompressionBombWarning ignored in the block: the explicit ``max_pixels`` check replaces it.

    Around a whole read, not each file: every ``catch_warnings`` block resets Python's record of the
    warnings shown, and one per file showed Pillow's palette-transparency warning once per file (800
    lines for 800 files) where the default filter shows it once.
    """
    from PIL import Image

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", Image.DecompressionBombWarning)
        yield


@contextlib.contextmanager
def _opened(path, max_pixels):
    """Open ``path`` with Pillow (header only) after the pixel-count and pixel-type checks.

    Every failure inside the ``with`` block, decoding included, becomes a
    :class:`_BadFile` holding the reason.
    """
    from PIL import Image

    try:
        info = os.stat(path)
    except FileNotFoundError as exc:
        raise _BadFile("no such file (or a broken symbolic link)") from exc
    except OSError as exc:  # permission, a link to itself, ...
        raise _BadFile(f"cannot be read ({exc.strerror or exc})") from exc
    if stat.S_ISDIR(info.st_mode):
        raise _BadFile("a folder, not a file")
    if not stat.S_ISREG(info.st_mode):
        raise _BadFile("not a regular file (a pipe, socket or device)")
    if info.st_size == 0:
        raise _BadFile("empty file (0 bytes)")
    try:
        # (Pillow's DecompressionBombWarning is off around the whole read: _bomb_warnings_off.)
        # Pillow gets a file object, not the path: from a path it memory-maps an uncompressed file,
        # and a grey TIFF rotated by its Orientation tag (5-8) was then mapped in the upright shape
        # and rotated again, its pixels scrambled (Pillow 13). The file is closed on leaving, too.
        with open(path, "rb") as file, Image.open(file, formats=_pil_formats()) as image:
            width, height = image.size
            if max_pixels is not None and width * height > max_pixels:
                raise _BadFile(
                    f"image of {width}x{height} = {width * height:,} pixels exceeds "
                    f"max_pixels={max_pixels:,}; refused as a possible decompression bomb "
                    "(raise max_pixels if the file is trusted)"
                )
            _check_pixel_type(image)
            yield image
    except _BadFile:
        raise
    except Image.DecompressionBombError as exc:
        raise _BadFile(f"refused as a possible decompression bomb ({exc})") from exc
    except FileNotFoundError as exc:
        raise _BadFile("no such file (or a broken symbolic link)") from exc
    except PermissionError as exc:
        raise _BadFile("permission denied") from exc
    except Image.UnidentifiedImageError as exc:
        raise _BadFile("not an image, or a corrupt one (Pillow cannot identify its format)") from exc
    except (OSError, SyntaxError, ValueError, EOFError) as exc:
        raise _BadFile(f"truncated or corrupt image data ({exc})") from exc


def _decode(path, color_mode, image_size, resize_mode, fill_value, max_pixels):
    """The file's uint8 array, its largest value before scaling when it is a 16-bit file (else None),
    and whether the file itself is grey."""
    from PIL import ImageOps

    with _opened(path, max_pixels) as image:
        high_bytes = _decoded_to_high_bytes(image)
        min_is_white = _min_is_white(image)  # from the tags, which the transposed copy below lacks
        image.load()  # decode every pixel now: a truncated file fails here
        # Camera JPEGs store their orientation in EXIF; apply it. (exif_transpose copies an image it
        # leaves as it is: 15 ms of a 12-megapixel photo.)
        if image.getexif().get(_EXIF_ORIENTATION, 1) in _EXIF_MOVES:
            image = ImageOps.exif_transpose(image)
        array, deep_max = _native_array(image, min_is_white)
    if high_bytes:
        # Only the high bytes are left: the largest value the file can have held, for the same
        # warning as a 16-bit grey file whose values stay within 12 bits.
        deep_max = int(array.max(initial=0)) * 256 + 255
    grey = array.ndim == 2
    array = _convert(array, color_mode)
    if image_size is not None:
        array = resize_image(array, image_size, mode=resize_mode, fill_value=fill_value)
    return array, deep_max, grey


def read_image(
    path,
    *,
    color_mode="auto",
    image_size=None,
    resize_mode="stretch",
    fill_value=0,
    max_pixels=DEFAULT_MAX_PIXELS,
):
    """Read one image file as a uint8 array.

    Parameters
    ----------
    path : str or path-like
    color_mode : {'auto', 'gray', 'rgb'}, default='auto'
        'auto' keeps the file's own mode: ``(H, W)`` for grey files, ``(H, W, 3)``
        for colour ones (alpha dropped, palettes expanded). 'gray' uses
        skvision's luminance weights.
    image_size : tuple of (int, int) or None
        Resize to ``(height, width)`` (bilinear, anti-aliased).
    resize_mode : {'stretch', 'crop', 'pad'}, default='stretch'
        How another aspect ratio reaches ``image_size`` (see
        :class:`~skvision.preprocessing.Resize`'s ``mode``).
    fill_value : float, default=0
        The border with ``resize_mode='pad'``.
    max_pixels : int or None
        Largest ``height * width`` accepted, checked before decoding; ``None``
        leaves only Pillow's own limit.

    Returns
    -------
    image : ndarray of uint8, shape (H, W) or (H, W, 3)
        16-bit files scaled by /257 (see the module's notes on bit depth).

    Raises
    ------
    ImageReadError
        Missing, empty, corrupt, truncated, unsupported (32-bit, signed or
        floating-point pixels) or too large file; the message names it and says why.

    Warns
    -----
    UserWarning
        A 16-bit file whose values stay within 0-4095: it keeps at most 17 grey levels.
    """
    name = os.fspath(path)
    fill_value = check_fill_value(fill_value)
    try:
        with _bomb_warnings_off():
            array, deep_max, _ = _decode(path, color_mode, image_size, resize_mode, fill_value, max_pixels)
    except _BadFile as exc:
        raise ImageReadError(f"{name}: {exc}", {name: str(exc)}) from exc.__cause__
    if deep_max is not None:
        _warn_low_range({name: deep_max})
    return array


def _read_or_report(path, options):
    """``(array, problem, largest 16-bit value, grey file)``: warnings are given once by the caller, not
    per worker."""
    try:
        array, deep_max, grey = _decode(path, **options)
        return array, None, deep_max, grey
    except _BadFile as exc:
        return None, str(exc), None, False


#: Seconds before the bar of a read shows: a quick read prints nothing.
_BAR_DELAY_SECONDS = 1.0


@contextlib.contextmanager
def _file_progress(verbose, total, description):
    """A tqdm bar over ``total`` files that shows up once they have taken a second (None if quiet)."""
    if not isinstance(verbose, (Integral, bool)):
        raise TypeError(f"verbose must be an int or a bool; got {type(verbose).__name__} {verbose!r}.")
    if not verbose:
        yield None
        return
    from tqdm.auto import tqdm

    with tqdm(total=total, desc=description, unit="file", delay=_BAR_DELAY_SECONDS, leave=False) as bar:
        yield bar


def different_sizes_error(arrays, paths):
    """The ValueError for images of different sizes: the sizes found, most common first, with a file each."""
    sizes = {}
    for array, path in zip(arrays, paths):
        sizes.setdefault(array.shape[:2], []).append(path)
    common = sorted(sizes.items(), key=lambda item: -len(item[1]))
    shown = ", ".join(f"{h}x{w} ({len(p)} files, e.g. {p[0]})" for (h, w), p in common[:4])
    more = f", and {len(common) - 4} other sizes" if len(common) > 4 else ""
    return ValueError(
        f"Images have different sizes, {len(common)} sizes (HxW): {shown}{more}; "
        "pass image_size=(height, width) to resize them on reading."
    )


def read_images(
    paths,
    *,
    color_mode="auto",
    image_size=None,
    resize_mode="stretch",
    fill_value=0,
    max_pixels=DEFAULT_MAX_PIXELS,
    on_error="raise",
    n_jobs=None,
    same_size=True,
    verbose=0,
    warn_grey=False,
):
    """Read files, in parallel where that is faster; every file is tried before bad ones are reported.

    Parameters
    ----------
    paths : sequence of str or path-like
    color_mode : {'auto', 'gray', 'rgb'}, default='auto'
        'auto': grey ``(N, H, W)`` when every file is grey, else ``(N, H, W, 3)``
        with grey files repeated over the three channels.
    image_size : tuple of (int, int) or None
        Resize every image.
    resize_mode : {'stretch', 'crop', 'pad'}, default='stretch'
    fill_value : float, default=0
    max_pixels : int or None
        Per-file pixel limit (see :func:`read_image`).
    on_error : {'raise', 'warn', 'skip'}, default='raise'
        Bad files: one :class:`ImageReadError` listing every one with its reason;
        or left out, with one warning listing them ('warn') or silently ('skip').
        16-bit files whose values stay within 0-4095 get one warning too,
        whatever ``on_error`` says: they are read, with at most 17 grey levels.
    n_jobs : int or None
        Processes reading, this one included (joblib's convention). The first
        files are read here and timed; workers join only when the rest is
        estimated to take long enough to repay them (see
        :mod:`skvision.preprocessing._file_map`), so ``n_jobs`` never makes a
        read much slower than one process.
    same_size : bool, default=True
        Without ``image_size``, images of different sizes raise a ValueError
        (True) or come back as a list (False).
    verbose : int, default=0
        A tqdm bar over the files (on stderr) when the read lasts over a second.
    warn_grey : bool, default=False
        Warn about grey files read as colour (``ImageLoader`` after a fit on
        colour files: their colour features are gone).

    Returns
    -------
    images : ndarray of uint8, shape (n, H, W) or (n, H, W, 3), or list of arrays
        A list only when ``same_size=False`` and the sizes differ.
    kept : ndarray of int
        Indices into ``paths`` of the files read (all of them unless left out).
    problems : dict of str -> str
        The bad files left out, with their reasons.
    """
    paths = [os.fspath(p) for p in paths]
    options = dict(
        color_mode=color_mode,
        image_size=None if image_size is None else _check_size(image_size, owner="image_size"),
        resize_mode=resize_mode,
        fill_value=check_fill_value(fill_value),
        max_pixels=max_pixels,
    )
    with _file_progress(verbose, len(paths), "reading") as progress:
        with _bomb_warnings_off():
            results = map_files(_read_or_report, paths, options, n_jobs=n_jobs, progress=progress)
    problems = {path: problem for path, (_, problem, _, _) in zip(paths, results) if problem is not None}
    if len(problems) == len(paths):
        raise ImageReadError(
            f"None of the {len(paths)} files could be read as an image:\n{describe_problems(problems)}",
            problems,
        )
    # load_image_folder reads with on_error='skip' and reports itself (its filenames stay aligned).
    report_bad_files(problems, len(paths), on_error, from_paths=True)
    _warn_low_range({path: top for path, (_, _, top, _) in zip(paths, results) if top is not None})
    if warn_grey:
        _warn_grey_into_colour(
            [path for path, (_, problem, _, grey) in zip(paths, results) if grey], len(paths)
        )
    kept = [index for index, (_, problem, _, _) in enumerate(results) if problem is None]
    arrays = [results[index][0] for index in kept]
    if color_mode == "auto" and any(a.ndim == 3 for a in arrays) and any(a.ndim == 2 for a in arrays):
        _warn_few_colour_files([paths[i] for i, a in zip(kept, arrays) if a.ndim == 3], len(arrays))
        arrays = [_convert(a, "rgb") for a in arrays]
    kept = np.asarray(kept, dtype=np.intp)
    if len({a.shape for a in arrays}) > 1:
        if not same_size:
            return arrays, kept, problems
        raise different_sizes_error(arrays, [paths[i] for i in kept])
    return np.stack(arrays), kept, problems


def _check_paths(X):
    if isinstance(X, (str, bytes, os.PathLike)):
        raise TypeError(f"X is a single path ({X!r}); expected a sequence of image file paths, e.g. [path].")
    if isinstance(X, Iterator):  # read once, and numpy sees a generator as one object: "shape ()"
        raise TypeError(
            f"X is an iterator ({type(X).__name__}); expected a sequence of image file paths: pass list(X) "
            "(a pipeline reads X more than once)."
        )
    if np.ndim(X) == 2 and np.shape(X)[1] == 1:
        # One column of paths: what ColumnTransformer passes for a column given as a list, ["path"].
        X = X.iloc[:, 0] if hasattr(X, "iloc") else np.asarray(X)[:, 0]
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


def _refuse_an_index_images_cannot_carry(X, loader):
    """A ``ValueError`` for paths in a pandas table with an index other than ``0..n-1`` under pandas output.

    Images carry no row index, so the DataFrame of the feature step after the
    loader is numbered ``0..n-1``; ``ColumnTransformer`` then lines it up with
    the other columns' blocks by index label: the rows of a sorted or shuffled
    table got other images' features, without a word (a subset of rows, from
    ``train_test_split``, gave scikit-learn's "inconsistent number of samples").
    """
    pd = sys.modules.get("pandas")
    if pd is None or not isinstance(X, (pd.DataFrame, pd.Series)):
        return
    configured = getattr(loader, "_sklearn_output_config", {}).get("transform")
    output = configured or get_config()["transform_output"]
    if output != "pandas" or X.index.equals(pd.RangeIndex(len(X))):
        return
    first = ", ".join(map(repr, X.index[:3].tolist())) + (", ..." if len(X) > 3 else "")
    raise ValueError(
        f"ImageLoader got its paths in a pandas {type(X).__name__} indexed {first}, not 0..{len(X) - 1}, "
        "with pandas output set: images carry no index, so the features of the steps after it would be "
        f"numbered 0..{len(X) - 1}, and ColumnTransformer (or a join on the index) would give each row "
        "another row's image features. Pass the table with X.reset_index(drop=True) (keep the old index "
        "to put back on the result), or set_output(transform='default')."
    )


class ImageLoader(_ImagesOut, TransformerMixin, BaseEstimator, auto_wrap_output_keys=None):
    """Read image files into a uint8 batch: the first step of a pipeline over paths.

    ``transform`` takes a sequence of image file paths, or one column of them
    (shape ``(N, 1)``, as ``ColumnTransformer`` passes it) (any format Pillow reads:
    PNG, JPEG, TIFF, BMP, WebP, GIF, ...) and returns ``(N, H, W)`` or
    ``(N, H, W, 3)`` uint8 images, read in parallel with joblib. Keeping the paths
    as ``X`` lets :func:`~sklearn.model_selection.cross_validate` and
    ``GridSearchCV`` split a data set too large to hold in memory at once.

    Parameters
    ----------
    image_size : int, tuple of (int, int) or None, default=None
        Resize every image to ``(height, width)`` on reading (bilinear,
        anti-aliased). Without it, files of one size give one batch and files of
        different sizes give a *list* of arrays, which
        :class:`~skvision.preprocessing.Resize` takes as the next step.
    resize_mode : {'stretch', 'crop', 'pad'}, default='stretch'
        How an image of another aspect ratio reaches ``image_size``: the
        ``mode`` of :class:`~skvision.preprocessing.Resize`.
    fill_value : float, default=0
        The border's grey level (0-255) with ``resize_mode='pad'``; ``fit``
        raises a ValueError for another value.
    color_mode : {'auto', 'gray', 'rgb'}, default='auto'
        'auto' decides in ``fit`` from the training files' headers: grey when
        every one is grey, else RGB; the same mode is then used on any file.
        'gray' converts colour with skvision's luminance weights. Unsigned
        16-bit grey files are scaled by /257 (0-65535 to 0-255), the same rule
        for every file; ``transform`` warns about those whose values stay within
        0-4095 (12-bit data or less), which keep at most 17 grey levels. Files
        of 32-bit integers, signed integers or floats (a 32-bit TIFF) are bad
        files: they have no range that says which value is white.
    max_pixels : int or None, default=89_478_485
        Files with more pixels than this are refused before decoding
        (decompression bombs). ``None`` leaves only Pillow's own limit.
    on_error : {'raise', 'warn', 'skip'}, default='raise'
        Bad files (not an image, empty, truncated, unreadable, too large, 32-bit
        or floating-point pixels): every file is tried, then 'raise' raises one
        :class:`ImageReadError` (a ValueError) that lists every bad file with
        its reason; 'warn' leaves them
        out with one warning listing them; 'skip' leaves them out silently. Both
        record them in ``skipped_files_``. Leaving files out makes ``transform``
        return fewer images than paths, so use 'warn' or 'skip' to explore, not
        inside cross-validation.
    n_jobs : int or None, default=None
        Processes reading, this one included (joblib's convention); workers
        join only when the files are estimated to take long enough to repay
        them (see :func:`read_images`).
    verbose : int, default=0
        A tqdm bar over the files (on stderr) when reading lasts over a second.

    Attributes
    ----------
    color_mode_ : {'gray', 'rgb'}
        Mode used by ``transform``.
    image_size_ : tuple of (int, int) or None
        The validated ``image_size``.
    image_shape_ : tuple of (int, int) or None
        ``(height, width)`` of the output: ``image_size_``, or the size every
        file seen in ``fit`` shares (from the headers); None when they differ.
    skipped_files_ : dict of str -> str
        The bad files the latest ``fit`` or ``transform`` left out, with their
        reasons (empty with ``on_error='raise'``).

    Notes
    -----
    ``set_output`` is accepted and ignored: the output is images, never a
    DataFrame, so that a pipeline set to pandas output hands images to its
    feature step. Images carry no row index, so the feature step's DataFrame is
    numbered ``0..n-1``: under pandas output, paths in a pandas table indexed
    otherwise (sorted, shuffled, a ``train_test_split`` subset) are refused
    with a ValueError: ``ColumnTransformer`` would line the features up with
    the other columns by index label, other rows' images. Pass
    ``X.reset_index(drop=True)``.

    ``Pipeline(memory=...)`` caches a fit by the paths, not the files'
    contents: after the files change, clear the cache folder, or a refit takes
    the images read before.

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
    >>> import shutil; shutil.rmtree(folder)
    """

    _parameter_constraints: dict = {
        "image_size": [Integral, tuple, list, None],
        "resize_mode": [StrOptions(set(RESIZE_MODES))],
        "fill_value": [Real],
        "color_mode": [StrOptions(set(COLOR_MODES))],
        "max_pixels": [Interval(Integral, 1, None, closed="left"), None],
        "on_error": [StrOptions(set(ON_ERROR))],
        # joblib's convention: k processes or threads, -1 all cores, -2 all but one; 0 means nothing.
        "n_jobs": [
            Interval(Integral, None, -1, closed="right"),
            Interval(Integral, 1, None, closed="left"),
            None,
        ],
        "verbose": ["verbose"],
    }

    def __init__(
        self,
        *,
        image_size=None,
        resize_mode="stretch",
        fill_value=0,
        color_mode="auto",
        max_pixels=DEFAULT_MAX_PIXELS,
        on_error="raise",
        n_jobs=None,
        verbose=0,
    ):
        self.image_size = image_size
        self.resize_mode = resize_mode
        self.fill_value = fill_value
        self.color_mode = color_mode
        self.max_pixels = max_pixels
        self.on_error = on_error
        self.n_jobs = n_jobs
        self.verbose = verbose

    @fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y=None):
        """Check the files' headers; fix the colour mode and, when the files agree, the size.

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
        owner = "The 'image_size' parameter of ImageLoader"
        self.image_size_ = None if self.image_size is None else _check_size(self.image_size, owner=owner)
        check_fill_value(self.fill_value, owner="The 'fill_value' parameter of ImageLoader")
        with _file_progress(self.verbose, len(paths), "reading headers") as progress:
            with _bomb_warnings_off():
                headers = map_files(_header, paths, self.max_pixels, n_jobs=self.n_jobs, progress=progress)
        problems = {os.fspath(p): h for p, h in zip(paths, headers) if isinstance(h, str)}
        # Files that fail here are reported again by transform (with the decoding problems).
        if len(problems) == len(paths) or (problems and self.on_error == "raise"):
            raise bad_files_error(problems, len(paths), from_paths=True)
        self.skipped_files_ = problems
        headers = [h for h in headers if not isinstance(h, str)]
        if self.color_mode == "auto":
            self.color_mode_ = "rgb" if any(is_colour for is_colour, _ in headers) else "gray"
        else:
            self.color_mode_ = self.color_mode
        sizes = {size for _, size in headers}
        self.image_shape_ = self.image_size_ or (sizes.pop() if len(sizes) == 1 else None)
        return self

    def transform(self, X):
        """Read the files.

        Parameters
        ----------
        X : sequence of str or path-like
            Image file paths.

        Returns
        -------
        images : ndarray of uint8, shape (N, H, W) or (N, H, W, 3), or list of arrays
            A list of ``(H, W[, 3])`` arrays when ``image_size`` is None and the
            files have different sizes.

        Warns
        -----
        UserWarning
            Bad files with ``on_error='warn'``; 16-bit files whose values stay
            within 0-4095 (one warning listing them: scaled by /257 they keep at
            most 17 grey levels).
        """
        check_is_fitted(self, "color_mode_")
        _refuse_an_index_images_cannot_carry(X, self)
        images, _, self.skipped_files_ = read_images(
            _check_paths(X),
            color_mode=self.color_mode_,
            image_size=self.image_size_,
            resize_mode=self.resize_mode,
            fill_value=self.fill_value,
            max_pixels=self.max_pixels,
            on_error=self.on_error,
            n_jobs=self.n_jobs,
            same_size=False,
            verbose=self.verbose,
            # Colour chosen by 'auto' (fit saw colour files): grey files after it lack what the model uses.
            warn_grey=self.color_mode == "auto" and self.color_mode_ == "rgb",
        )
        return images if isinstance(images, list) else check_images(images)

    def get_feature_names_out(self, input_features=None):
        """One name per output pixel, ``pixel_<row>_<col>[_c<k>]``; ``input_features`` is ignored.

        Defined when the output has one size: ``image_size`` is set, or every
        file seen in ``fit`` has one size.
        """
        check_is_fitted(self, "color_mode_")
        if self.image_shape_ is None:
            raise ValueError(
                "ImageLoader(image_size=None) read files of different sizes in fit, so its output has no "
                "fixed size and no feature names; set image_size, or take the names from the step that "
                "makes features (pipeline[i].get_feature_names_out())."
            )
        channels = (3,) if self.color_mode_ == "rgb" else ()
        return _pixel_names((*self.image_shape_, *channels))


def _png_exif_chunk(file):
    """The eXIf chunk of a PNG file (as Pillow stores it in ``info['exif']``), or None; no pixel decoded.

    Walks the chunk headers from the start, seeking past the data of each.
    """
    file.seek(8)  # the PNG signature
    while True:
        head = file.read(8)
        if len(head) < 8:
            return None
        length, kind = struct.unpack(">I4s", head)
        if kind == b"eXIf":
            return b"Exif\x00\x00" + file.read(length)
        if kind == b"IEND":
            return None
        file.seek(length + 4, os.SEEK_CUR)  # the data and its CRC


def _orientation(image):
    """The EXIF orientation of an opened image, or None: for a header only (a PNG's file is moved)."""
    from PIL import Image

    if image.format == "PNG" and "exif" not in image.info:
        # Pillow's PNG getexif() decodes every pixel to reach an eXIf chunk stored after them (fit read
        # every PNG whole); the chunks are walked instead, the chunk set in ``info`` as Pillow sets it
        # on decoding, and the generic getexif() reads it (or the text chunks' EXIF, or XMP) as for
        # every format.
        exif = _png_exif_chunk(image.fp)
        if exif is not None:
            image.info["exif"] = exif
        return Image.Image.getexif(image).get(_EXIF_ORIENTATION)
    return image.getexif().get(_EXIF_ORIENTATION)


def _upright_size(image):
    """``(height, width)`` of an opened image once its orientation is applied, as read_image gives it."""
    width, height = image.size
    # Pillow reports a TIFF's size with its Orientation tag already applied (and applies it when
    # decoding); any other format's size is the stored one. Swapped twice, a rotated TIFF's size came
    # out transposed.
    stored = (image.tag_v2.get(256), image.tag_v2.get(257)) if image.format == "TIFF" else image.size
    if (width, height) == stored and _orientation(image) in _EXIF_TRANSPOSED:
        width, height = height, width
    return height, width


def _header(path, max_pixels):
    """``(is_colour, (height, width))`` from a file's header, or the reason it is a bad file."""
    try:
        with _opened(path, max_pixels) as image:
            return image.mode not in _GRAY_MODES, _upright_size(image)
    except _BadFile as exc:
        return str(exc)
