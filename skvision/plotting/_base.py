"""What every Display shares: the optional matplotlib import and axes handling."""

from __future__ import annotations

import numpy as np

__all__ = ["check_matplotlib", "axes_or_new", "as_display_image"]


def check_matplotlib(caller):
    """Raise an ImportError naming ``caller`` and the fix when matplotlib is missing.

    Examples
    --------
    >>> check_matplotlib("EmbeddingDisplay.plot")
    """
    try:
        import matplotlib  # noqa: F401
    except ImportError as exc:
        raise ImportError(
            f"{caller} draws with matplotlib, which is not installed. Install it with "
            "`pip install 'skvision[plot]'` (or `pip install matplotlib`)."
        ) from exc


def axes_or_new(ax, caller, figsize=None):
    """``(figure, ax)``: the given axes, or new ones from pyplot."""
    check_matplotlib(caller)
    if ax is None:
        import matplotlib.pyplot as plt

        _, ax = plt.subplots(figsize=figsize, layout="constrained")
    return ax.figure, ax


def axes_list_or_new(ax, n, caller, figsize=None):
    """``(figure, [ax, ...])`` with ``n`` axes: the ones given, or a new row of them."""
    check_matplotlib(caller)
    if ax is None:
        import matplotlib.pyplot as plt

        _, axes = plt.subplots(1, n, figsize=figsize, layout="constrained")
        return axes[0].figure, list(np.ravel(axes))
    axes = list(np.ravel(ax))
    if len(axes) != n:
        raise ValueError(f"{caller} draws on {n} axes; got {len(axes)}.")
    return axes[0].figure, axes


def as_display_image(image):
    """An image ready for ``imshow``: uint8 kept, other dtypes scaled to [0, 1] per image."""
    image = np.asarray(image)
    if image.ndim == 3 and image.shape[2] == 1:
        image = image[..., 0]
    if image.ndim == 3 and image.shape[2] == 4:
        image = image[..., :3]
    if image.dtype == np.uint8:
        return image
    image = image.astype(np.float64)
    low, high = float(image.min()), float(image.max())
    return (image - low) / (high - low) if high > low else np.zeros_like(image)


def check_target_names(target_names, labels, *, name=None):
    """Raise a ValueError unless ``target_names[label]`` names every label in ``labels``.

    Labels 1..3 with three names drew the first class as the second's name, the
    second as the third's and the third by its number, without a word.
    ``name``: what the labels are called in the message (``'y'``), if anything.

    Examples
    --------
    >>> check_target_names(["cat", "dog"], [0, 1, 1])
    >>> check_target_names(["cat", "dog"], [1, 2])  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    ValueError: target_names name the classes by their label, ...; the labels are 1, 2.
    """
    labels = np.unique(np.asarray(labels))
    n_names = len(target_names)
    holding = f"{name} holds" if name else "the labels are"
    if np.issubdtype(labels.dtype, np.floating):
        cast = f"{name}.astype(int)" if name else "them as integers (.astype(int))"
        raise ValueError(
            f"target_names name the classes by their integer label, target_names[label]; {holding} "
            f"{labels.dtype} labels ({', '.join(map(str, labels[:3]))}, ...): pass {cast}."
        )
    if not np.issubdtype(labels.dtype, np.integer) or labels.min() < 0 or labels.max() >= n_names:
        shown = ", ".join(map(str, labels[:6])) + (", ..." if len(labels) > 6 else "")
        raise ValueError(
            f"target_names name the classes by their label, target_names[label]: labels 0 to {n_names - 1} "
            f"for these {n_names} names; {f'{name} holds the labels' if name else 'the labels are'} {shown}."
        )
