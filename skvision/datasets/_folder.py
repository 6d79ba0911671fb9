"""Read a labelled image folder: one sub-folder per class."""

from __future__ import annotations

import os
import warnings
from pathlib import Path

import numpy as np
from sklearn.utils import Bunch

from ..preprocessing._loader import (
    COLOR_MODES,
    DEFAULT_MAX_PIXELS,
    IMAGE_EXTENSIONS,
    ImageReadError,
    read_images,
)
from ..preprocessing._transforms import _check_size

__all__ = ["load_image_folder"]


def _inside(path: Path, root: Path) -> bool:
    return path.resolve().is_relative_to(root)


def _entries(folder: Path, root: Path, follow_symlinks: bool):
    """Sorted, visible entries of ``folder``, leaving out links that lead out of ``root``."""
    for entry in sorted(folder.iterdir()):
        if entry.name.startswith("."):
            continue
        if entry.is_symlink() and not follow_symlinks and not _inside(entry, root):
            warnings.warn(
                f"Not following {entry}: it is a symbolic link that leads out of {root} "
                f"(to {entry.resolve()}); pass follow_symlinks=True to read it.",
                UserWarning,
                stacklevel=4,
            )
            continue
        yield entry


def load_image_folder(
    path,
    *,
    image_size=None,
    color_mode="auto",
    extensions=IMAGE_EXTENSIONS,
    on_error="raise",
    follow_symlinks=False,
    max_pixels=DEFAULT_MAX_PIXELS,
    n_jobs=None,
    return_X_y=False,
):
    """Load a folder of images with one sub-folder per class.

    ``path/<class name>/<image file>``: every visible sub-folder of ``path`` is a
    class (in sorted order, labels 0, 1, ...), and every PNG, JPEG or TIFF file
    directly inside it is one sample. Files at the top level and deeper
    sub-folders are ignored. Files are decoded in parallel with joblib.

    Parameters
    ----------
    path : str or path-like
        The root folder.
    image_size : int, tuple of (int, int) or None, default=None
        Resize every image to ``(height, width)`` (bilinear, anti-aliased). Without
        it all images must have one size.
    color_mode : {'auto', 'gray', 'rgb'}, default='auto'
        'auto': grey ``(N, H, W)`` when every file is grey, else ``(N, H, W, 3)``.
        'gray' converts colour with skvision's luminance weights; 'rgb' repeats grey.
    extensions : tuple of str, default=('.png', '.jpg', '.jpeg', '.tif', '.tiff')
        File name endings (case-insensitive) of the images. A file with another
        ending is *unsupported*: an error, or skipped with ``on_error='skip'``.
        Whatever the name, the content must be PNG, JPEG or TIFF.
    on_error : {'raise', 'skip'}, default='raise'
        A corrupt, truncated, unsupported or too large file raises a
        :class:`ValueError` naming it; 'skip' leaves it out with a warning.
    follow_symlinks : bool, default=False
        Read symbolic links (files or class folders) that lead outside ``path``.
        By default they are left out with a warning; links that stay inside
        ``path`` are always read.
    max_pixels : int or None, default=89_478_485
        Files with more pixels are refused before decoding (decompression bombs).
    n_jobs : int or None, default=None
        joblib workers reading files.
    return_X_y : bool, default=False
        Return ``(images, target)`` instead of a Bunch.

    Returns
    -------
    data : Bunch
        ``images`` uint8 (N, H, W) or (N, H, W, 3); ``target`` int64 (N,);
        ``target_names`` (the sub-folder names); ``filenames`` (N,) str; ``DESCR``.
        Or ``(images, target)`` with ``return_X_y=True``.

    Raises
    ------
    FileNotFoundError
        ``path`` does not exist or is not a folder.
    ValueError
        No class folder or no image; an unreadable file (the message names it);
        images of different sizes without ``image_size``.

    Examples
    --------
    >>> import tempfile, pathlib, numpy as np
    >>> from PIL import Image
    >>> from skvision.datasets import load_image_folder
    >>> root = pathlib.Path(tempfile.mkdtemp())
    >>> for label in ("cats", "dogs"):
    ...     (root / label).mkdir()
    ...     for i in range(3):
    ...         Image.fromarray(np.full((10, 12, 3), 40 * i, dtype=np.uint8)).save(root / label / f"{i}.png")
    >>> data = load_image_folder(root, image_size=(8, 8))
    >>> data.images.shape, data.target.tolist(), data.target_names.tolist()
    ((6, 8, 8, 3), [0, 0, 0, 1, 1, 1], ['cats', 'dogs'])
    """
    if color_mode not in COLOR_MODES:
        raise ValueError(f"color_mode must be one of {COLOR_MODES}; got {color_mode!r}.")
    if on_error not in ("raise", "skip"):
        raise ValueError(f"on_error must be 'raise' or 'skip'; got {on_error!r}.")
    size = None if image_size is None else _check_size(image_size)
    given = Path(os.fspath(path))
    if not given.is_dir():
        raise FileNotFoundError(f"Image folder {str(given)!r} does not exist or is not a folder.")
    root = given.resolve()
    endings = tuple(e.lower() for e in extensions)

    class_names, files, labels = [], [], []
    for class_dir in _entries(given, root, follow_symlinks):
        if not class_dir.is_dir():
            continue
        label = len(class_names)
        class_names.append(class_dir.name)
        for entry in _entries(class_dir, root, follow_symlinks):
            if entry.is_dir():
                continue
            if not entry.name.lower().endswith(endings):
                message = (
                    f"{entry}: unsupported file type {entry.suffix or '(no extension)'!r}; "
                    f"expected one of {', '.join(endings)}."
                )
                if on_error == "raise":
                    raise ImageReadError(message)
                warnings.warn(f"Skipped {message}", UserWarning, stacklevel=2)
                continue
            files.append(entry)
            labels.append(label)
    if not class_names:
        raise ValueError(
            f"No class folders in {str(given)!r}: expected one sub-folder per class, each "
            "holding that class's images."
        )
    if not files:
        raise ValueError(f"No image files ({', '.join(endings)}) in the class folders of {str(given)!r}.")

    images, kept = read_images(
        files,
        color_mode=color_mode,
        image_size=size,
        max_pixels=max_pixels,
        on_error=on_error,
        n_jobs=n_jobs,
    )
    target = np.asarray(labels, dtype=np.int64)[kept]
    if return_X_y:
        return images, target
    shape = "x".join(map(str, images.shape[1:]))
    descr = (
        f"Image folder {str(given)!r}: {len(images)} images of {shape}, "
        f"{len(class_names)} classes ({', '.join(class_names)})."
    )
    return Bunch(
        images=images,
        target=target,
        target_names=np.asarray(class_names),
        filenames=np.asarray([str(files[i]) for i in kept]),
        DESCR=descr,
    )
