"""A grid of images with their true and predicted labels."""

from __future__ import annotations

import numpy as np

from ._base import as_display_image, axes_or_new, check_target_names

__all__ = ["ImageGridDisplay"]


def _label_name(label, target_names):
    if target_names is not None and np.issubdtype(type(label), np.integer) and 0 <= label < len(target_names):
        return str(target_names[label])
    if isinstance(label, (float, np.floating)):
        return f"{label:.3g}"
    return str(label)


class ImageGridDisplay:
    """Images in a grid, each captioned (``true -> predicted`` for predictions).

    Captions of correct predictions are green, of errors red. The whole grid is
    one mosaic on one Axes, so it takes ``plot(ax=...)`` like every Display.

    Parameters
    ----------
    images : list of ndarray
        ``(H, W)`` or ``(H, W, C)`` images of one size.
    captions : list of str
    correct : list of bool or None, or None
        Caption colours: green for True, red for False, black for None (all
        black when ``correct`` itself is None).
    title : str or None

    Attributes
    ----------
    ax_ : matplotlib Axes
    figure_ : matplotlib Figure
    mosaic_ : ndarray of shape (rows * h, cols * w, 3)
        The picture drawn.

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> from sklearn.linear_model import LogisticRegression
    >>> from sklearn.pipeline import make_pipeline
    >>> from sklearn.preprocessing import FunctionTransformer
    >>> from skvision.datasets import load_digits
    >>> from skvision.plotting import ImageGridDisplay
    >>> X, y = load_digits(return_X_y=True)
    >>> model = make_pipeline(FunctionTransformer(lambda a: a.reshape(len(a), -1) / 255),
    ...                       LogisticRegression(max_iter=300)).fit(X[:100], y[:100])
    >>> display = ImageGridDisplay.from_estimator(
    ...     model, X[100:300], y[100:300], only_errors=True, max_images=8)
    >>> len(display.images) <= 8 and all("->" in c for c in display.captions)
    True
    """

    def __init__(self, *, images, captions, correct=None, title=None):
        self.images = list(images)
        self.captions = list(captions)
        self.correct = None if correct is None else list(correct)
        self.title = title

    @classmethod
    def from_predictions(
        cls,
        X,
        y_true,
        y_pred,
        *,
        indices=None,
        only_errors=False,
        max_images=24,
        target_names=None,
        title=None,
        random_state=0,
        ax=None,
    ):
        """Grid of images captioned ``true -> predicted``.

        Parameters
        ----------
        X : ndarray of shape (N, H, W[, C]) or list of images
        y_true, y_pred : array-like of shape (n,)
        indices : array-like of shape (n,) or None
            Index in ``X`` of each prediction (out-of-fold predictions come in
            fold order); ``None`` means ``0..n-1``.
        only_errors : bool, default=False
            Show the misclassified images only (class labels).
        max_images : int, default=24
            A random subset (``random_state``) when there are more.
        target_names : sequence of str or None
        title : str or None
        random_state : int or None, default=0
        ax : matplotlib Axes or None

        Returns
        -------
        display : ImageGridDisplay
        """
        y_true, y_pred = np.asarray(y_true), np.asarray(y_pred)
        if len(y_true) != len(y_pred):
            raise ValueError(f"y_true has {len(y_true)} entries but y_pred has {len(y_pred)}.")
        if target_names is not None:
            check_target_names(target_names, np.concatenate([y_true.ravel(), y_pred.ravel()]))
        indices = np.arange(len(y_true)) if indices is None else np.asarray(indices)
        correct = y_true == y_pred
        chosen = np.arange(len(y_true))
        if only_errors:
            if y_true.dtype.kind == "f" and not np.all(np.mod(y_true, 1) == 0):
                raise ValueError("only_errors needs class labels; y_true is a continuous target.")
            chosen = chosen[~correct]
        if len(chosen) > max_images:
            chosen = np.sort(np.random.default_rng(random_state).choice(chosen, max_images, replace=False))
        images = [_image_at(X, indices[i]) for i in chosen]
        captions = [
            f"{_label_name(y_true[i], target_names)} -> {_label_name(y_pred[i], target_names)}"
            for i in chosen
        ]
        display = cls(images=images, captions=captions, correct=correct[chosen].tolist(), title=title)
        return display.plot(ax=ax)

    @classmethod
    def from_estimator(cls, estimator, X, y, **kwargs):
        """Predict ``X`` with a fitted estimator, then as :meth:`from_predictions`."""
        return cls.from_predictions(X, y, estimator.predict(X), **kwargs)

    def plot(self, ax=None, *, n_cols=None):
        """Draw the grid.

        Parameters
        ----------
        ax : matplotlib Axes or None
        n_cols : int or None
            Columns; about square by default.

        Returns
        -------
        self : ImageGridDisplay
        """
        n = len(self.images)
        n_cols = n_cols or max(1, min(8, n))
        n_rows = max(1, int(np.ceil(n / n_cols)))
        # Wide enough for the title too: one or no image (a model with one error, or none) cut it.
        width = max(1.3 * n_cols + 0.4, 0.1 * len(self.title or "") + 0.6)
        figure, ax = axes_or_new(ax, "ImageGridDisplay.plot", figsize=(width, 1.45 * n_rows + 0.5))
        ax.set_axis_off()
        if self.title:
            ax.set_title(self.title)
        if n == 0:
            self.mosaic_ = np.ones((1, 1, 3))
            ax.text(0.5, 0.5, "no images to show", ha="center", va="center", transform=ax.transAxes)
            self.ax_, self.figure_ = ax, figure
            return self

        tiles = [_rgb01(image) for image in self.images]
        height, width = tiles[0].shape[:2]
        gap, caption = max(1, width // 8), max(2, height // 3)
        cell_h, cell_w = height + caption, width + gap
        mosaic = np.ones((n_rows * cell_h, n_cols * cell_w - gap, 3))
        for k, tile in enumerate(tiles):
            if tile.shape[:2] != (height, width):
                raise ValueError(
                    f"Images must have one size; image 0 is {height}x{width}, image {k} is "
                    f"{tile.shape[0]}x{tile.shape[1]}."
                )
            row, col = divmod(k, n_cols)
            top, left = row * cell_h + caption, col * cell_w
            mosaic[top : top + height, left : left + width] = tile
        ax.imshow(mosaic, interpolation="nearest")
        for k, text in enumerate(self.captions):
            row, col = divmod(k, n_cols)
            verdict = None if self.correct is None else self.correct[k]
            colour = "black" if verdict is None else ("tab:green" if verdict else "tab:red")
            ax.text(
                col * cell_w + width / 2,
                row * cell_h + caption * 0.8,
                text,
                ha="center",
                va="bottom",
                fontsize=8,
                color=colour,
            )
        self.mosaic_ = mosaic
        self.ax_, self.figure_ = ax, figure
        return self


def _image_at(X, index):
    image = X[index]
    if isinstance(image, (str, bytes)) or hasattr(image, "__fspath__"):
        raise TypeError(
            "ImageGridDisplay needs image arrays; X holds file paths. Read them first "
            "(skvision.preprocessing.ImageLoader)."
        )
    return np.asarray(image)


def _rgb01(image):
    image = as_display_image(image)
    image = image / 255.0 if image.dtype == np.uint8 else image
    return np.repeat(image[..., None], 3, axis=2) if image.ndim == 2 else image
