"""Offline datasets bundled with scikit-learn and scikit-image, as uint8 image batches."""

from __future__ import annotations

import numpy as np
from sklearn.utils import Bunch, check_random_state

__all__ = ["load_digits", "load_faces", "load_textures", "load_dataset", "DATASETS"]


def _finish(images, target, target_names, descr, return_X_y):
    if return_X_y:
        return images, target
    return Bunch(images=images, target=target, target_names=np.asarray(target_names), DESCR=descr)


def load_digits(*, return_X_y=False):
    """The 1,797 8x8 handwritten digits of :func:`sklearn.datasets.load_digits`, as uint8.

    sklearn stores grey levels 0-16; they are rescaled to 0-255 (``round(v * 255 / 16)``)
    so that digits share the uint8 scale of every other skvision dataset.

    Parameters
    ----------
    return_X_y : bool, default=False
        Return ``(images, target)`` instead of a Bunch.

    Returns
    -------
    data : Bunch with ``images`` (1797, 8, 8) uint8, ``target`` (1797,) int,
        ``target_names`` and ``DESCR``; or ``(images, target)``.

    Examples
    --------
    >>> from skvision.datasets import load_digits
    >>> X, y = load_digits(return_X_y=True)
    >>> X.shape, X.dtype, int(X.max()), len(set(y))
    ((1797, 8, 8), dtype('uint8'), 255, 10)
    """
    from sklearn.datasets import load_digits as sk_load_digits

    digits = sk_load_digits()
    images = np.rint(digits.images * (255.0 / 16.0)).astype(np.uint8)
    descr = "sklearn digits: 1,797 8x8 images of handwritten digits 0-9, grey levels rescaled to 0-255."
    return _finish(images, digits.target.astype(np.int64), [str(d) for d in range(10)], descr, return_X_y)


def load_faces(*, return_X_y=False):
    """Faces vs non-faces: :func:`skimage.data.lfw_subset` as uint8 (200, 25, 25).

    The first 100 patches are faces (label 1), the last 100 are not (label 0).

    Parameters
    ----------
    return_X_y : bool, default=False
        Return ``(images, target)`` instead of a Bunch.

    Returns
    -------
    data : Bunch with ``images`` (200, 25, 25) uint8, ``target`` (200,) int,
        ``target_names`` ``['non-face', 'face']`` and ``DESCR``; or ``(images, target)``.

    Examples
    --------
    >>> from skvision.datasets import load_faces
    >>> X, y = load_faces(return_X_y=True)
    >>> X.shape, int(y[:100].min()), int(y[100:].max())
    ((200, 25, 25), 1, 0)
    """
    from skimage.data import lfw_subset

    images = np.rint(lfw_subset() * 255.0).astype(np.uint8)
    target = np.r_[np.ones(100, dtype=np.int64), np.zeros(100, dtype=np.int64)]
    descr = "skimage lfw_subset: 100 face and 100 non-face 25x25 patches, grey levels 0-255."
    return _finish(images, target, ["non-face", "face"], descr, return_X_y)


TEXTURE_SOURCES = ("brick", "grass", "gravel")


def load_textures(*, patch_size=32, n_per_class=100, rotations=False, random_state=0, return_X_y=False):
    """Texture patches cut from :func:`skimage.data.brick`, ``grass`` and ``gravel``.

    From each 512x512 source image, ``n_per_class`` square patches of side
    ``patch_size`` are cut at positions drawn uniformly with ``random_state``.
    With ``rotations=True`` every patch is also added rotated by 90, 180 and 270
    degrees (4x the patches, same labels): a test of rotation invariance.

    Parameters
    ----------
    patch_size : int, default=32
        Side of the square patches, 8 to 512.
    n_per_class : int, default=100
        Patches cut from each source image.
    rotations : bool, default=False
        Add the three right-angle rotations of every patch.
    random_state : int, RandomState or None, default=0
        Seed of the patch positions.
    return_X_y : bool, default=False
        Return ``(images, target)`` instead of a Bunch.

    Returns
    -------
    data : Bunch with ``images`` (n, patch_size, patch_size) uint8, ``target`` (n,) int
        (0 brick, 1 grass, 2 gravel), ``target_names`` and ``DESCR``; or ``(images, target)``.

    Examples
    --------
    >>> from skvision.datasets import load_textures
    >>> X, y = load_textures(patch_size=16, n_per_class=5, return_X_y=True)
    >>> X.shape, sorted(set(y.tolist()))
    ((15, 16, 16), [0, 1, 2])
    """
    import skimage.data

    def whole(value):  # True is an int to Python, not a count
        return isinstance(value, (int, np.integer)) and not isinstance(value, (bool, np.bool_))

    if not (whole(patch_size) and 8 <= patch_size <= 512):
        raise ValueError(f"patch_size must be an integer in [8, 512]; got {patch_size!r}.")
    if not (whole(n_per_class) and n_per_class >= 1):
        raise ValueError(f"n_per_class must be a positive integer; got {n_per_class!r}.")
    if not isinstance(rotations, (bool, np.bool_)):  # "no" is truthy: it added the rotations
        raise TypeError(f"rotations must be True or False; got {rotations!r}.")
    rng = check_random_state(random_state)
    images, target = [], []
    for label, source_name in enumerate(TEXTURE_SOURCES):
        source = getattr(skimage.data, source_name)()
        limit = source.shape[0] - patch_size + 1
        rows = rng.randint(0, limit, size=n_per_class)
        cols = rng.randint(0, source.shape[1] - patch_size + 1, size=n_per_class)
        # A position drawn twice gave two identical patches (2 of 450 at 64 px), which the folder
        # reader warns about; drawn again until every position differs (the default set had none, and
        # keeps its patches).
        if limit * (source.shape[1] - patch_size + 1) < n_per_class:
            raise ValueError(
                f"n_per_class={n_per_class} patches of {patch_size}x{patch_size} do not fit in "
                f"{source_name}'s {source.shape[0]}x{source.shape[1]} pixels without repeating a position."
            )
        while True:
            _, first = np.unique(np.stack([rows, cols]), axis=1, return_index=True)
            again = np.setdiff1d(np.arange(n_per_class), first)
            if not len(again):
                break
            rows[again] = rng.randint(0, limit, size=len(again))
            cols[again] = rng.randint(0, source.shape[1] - patch_size + 1, size=len(again))
        for r, c in zip(rows, cols):
            images.append(source[r : r + patch_size, c : c + patch_size])
            target.append(label)
    images = np.stack(images).astype(np.uint8)
    target = np.asarray(target, dtype=np.int64)
    if rotations:
        images = np.concatenate([np.rot90(images, k, axes=(1, 2)) for k in range(4)])
        target = np.tile(target, 4)
    descr = (
        f"Texture patches {patch_size}x{patch_size} cut from skimage brick / grass / gravel "
        f"({n_per_class} per class, positions seeded by random_state={random_state!r}"
        f"{', plus 90/180/270 degree rotations' if rotations else ''})."
    )
    return _finish(np.ascontiguousarray(images), target, list(TEXTURE_SOURCES), descr, return_X_y)


#: Named datasets, for ``skvision compare --dataset NAME``.
DATASETS = {"digits": load_digits, "faces": load_faces, "textures": load_textures}


def load_dataset(name, **kwargs):
    """Load a named dataset (``'digits'``, ``'faces'``, ``'textures'``).

    Examples
    --------
    >>> load_dataset("faces").images.shape
    (200, 25, 25)
    """
    try:
        loader = DATASETS[name]
    except KeyError:
        raise ValueError(f"Unknown dataset {name!r}; expected one of {sorted(DATASETS)}.") from None
    return loader(**kwargs)
