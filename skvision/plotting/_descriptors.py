"""Pictures of what the handcrafted descriptors see: the HOG drawing, the LBP code map."""

from __future__ import annotations

import numpy as np

from ._base import as_display_image, axes_list_or_new

__all__ = ["HOGDisplay", "LBPDisplay"]


def _one_image(image, caller):
    """A single (H, W) or (H, W, 3|4) image; a batch of one is accepted too."""
    image = np.asarray(image)
    if image.ndim == 4 and image.shape[0] == 1:
        image = image[0]
    if image.ndim == 3 and image.shape[0] == 1 and image.shape[2] not in (3, 4):
        image = image[0]
    if image.ndim == 2 or (image.ndim == 3 and image.shape[2] in (3, 4)):
        return image
    raise ValueError(
        f"{caller} takes one image of shape (H, W) or (H, W, 3|4); got shape {image.shape}. "
        "Pass images[k] for the k-th image of a batch."
    )


def _show_image(ax, image, title):
    image = as_display_image(image)
    ax.imshow(image, cmap="gray" if image.ndim == 2 else None, interpolation="nearest")
    ax.set_title(title)
    ax.set_axis_off()


class HOGDisplay:
    """An image beside its HOG drawing (scikit-image's visualisation).

    Each cell shows one line per orientation bin, perpendicular to the bin's
    gradient direction (so along the edges), as bright as the cell's
    histogram value.

    Parameters
    ----------
    image : ndarray of shape (H, W) or (H, W, C)
    hog_image : ndarray of shape (H, W)
    title : str or None

    Attributes
    ----------
    axes_ : list of two matplotlib Axes
    figure_ : matplotlib Figure

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> from skimage.data import camera
    >>> from skvision import HOG
    >>> from skvision.plotting import HOGDisplay
    >>> image = camera()[::4, ::4]
    >>> hog = HOG(pixels_per_cell=8, cells_per_block=2).fit(image[None])
    >>> HOGDisplay.from_estimator(hog, image).hog_image.shape
    (128, 128)
    """

    def __init__(self, *, image, hog_image, title=None):
        self.image = image
        self.hog_image = hog_image
        self.title = title

    @classmethod
    def from_estimator(cls, hog, image, *, title=None, ax=None):
        """Draw the HOG of ``image`` as computed by a fitted :class:`skvision.HOG`.

        Parameters
        ----------
        hog : fitted skvision.HOG
        image : ndarray of shape (H, W) or (H, W, C)
            Of the size ``hog`` was fitted on.
        title : str or None
        ax : sequence of two matplotlib Axes or None

        Returns
        -------
        display : HOGDisplay
        """
        image = _one_image(image, "HOGDisplay.from_estimator")
        drawing = hog.visualize(image[np.newaxis])[0]
        if drawing.ndim == 3:  # channels='each': one drawing per channel; show their sum
            drawing = drawing.sum(axis=-1)
        if title is None:
            title = f"HOG, {hog.orientations} orientations, {hog.pixels_per_cell} px cells"
        return cls(image=image, hog_image=drawing, title=title).plot(ax=ax)

    @classmethod
    def from_image(cls, image, *, title=None, ax=None, **hog_params):
        """Fit :class:`skvision.HOG` with ``hog_params`` on ``image`` and draw it."""
        from ..descriptors import HOG

        image = _one_image(image, "HOGDisplay.from_image")
        hog = HOG(**hog_params).fit(image[np.newaxis])
        return cls.from_estimator(hog, image, title=title, ax=ax)

    def plot(self, ax=None):
        """Draw the image and its HOG side by side.

        Parameters
        ----------
        ax : sequence of two matplotlib Axes or None

        Returns
        -------
        self : HOGDisplay
        """
        figure, axes = axes_list_or_new(ax, 2, "HOGDisplay.plot", figsize=(8, 4))
        _show_image(axes[0], self.image, "image")
        # A few strong cells would leave the rest black: saturate the top 1%.
        drawn = self.hog_image[self.hog_image > 0]
        vmax = float(np.percentile(drawn, 99)) if drawn.size else 1.0
        axes[1].imshow(self.hog_image, cmap="magma", vmin=0, vmax=vmax, interpolation="nearest")
        axes[1].set_title(self.title or "HOG")
        axes[1].set_axis_off()
        self.axes_, self.figure_ = axes, figure
        return self


class LBPDisplay:
    """An image, its local binary pattern code map, and the histogram of its codes.

    The histogram is over the whole image; an :class:`skvision.LBP` transform
    concatenates one such histogram per cell of its grid.

    Parameters
    ----------
    image : ndarray of shape (H, W) or (H, W, C)
    codes : ndarray of shape (H, W)
        LBP label of each pixel (the local variance for ``method='var'``).
    bin_edges : ndarray
        Edges of the histogram bins.
    counts : ndarray
        Pixels per bin.
    title : str or None

    Attributes
    ----------
    axes_ : list of three matplotlib Axes
    figure_ : matplotlib Figure

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> from skimage.data import brick
    >>> from skvision.plotting import LBPDisplay
    >>> display = LBPDisplay.from_image(brick()[:64, :64], P=8, R=1, method="uniform")
    >>> len(display.counts), int(display.counts.sum())  # P + 2 uniform labels, every pixel
    (10, 4096)
    """

    def __init__(self, *, image, codes, bin_edges, counts, title=None):
        self.image = image
        self.codes = codes
        self.bin_edges = np.asarray(bin_edges)
        self.counts = np.asarray(counts)
        self.title = title

    @classmethod
    def from_image(cls, image, *, P=8, R=1, method="uniform", sampling="circular", n_bins=16, title=None,
                   ax=None):
        """Compute the code map with :func:`skvision.descriptors.local_binary_pattern` and draw it.

        Parameters
        ----------
        image : ndarray of shape (H, W) or (H, W, C)
        P, R, method, sampling
            As for :func:`~skvision.descriptors.local_binary_pattern`.
        n_bins : int, default=16
            Histogram bins for ``method='var'`` (the codes of other methods are
            counted label by label).
        title : str or None
        ax : sequence of three matplotlib Axes or None

        Returns
        -------
        display : LBPDisplay
        """
        from ..descriptors import local_binary_pattern

        image = _one_image(image, "LBPDisplay.from_image")
        codes = local_binary_pattern(image[np.newaxis], P, R, method=method, sampling=sampling)[0]
        if method == "var":
            finite = codes[np.isfinite(codes)]
            counts, edges = np.histogram(finite, bins=n_bins)
        else:
            n_labels = {"uniform": P + 2, "nri_uniform": P * (P - 1) + 3}.get(method, 2**P)
            counts = np.bincount(codes.astype(np.int64).ravel(), minlength=n_labels)
            edges = np.arange(len(counts) + 1) - 0.5
        title = title or f"LBP P={P}, R={R:g}, {method}"
        return cls(image=image, codes=codes, bin_edges=edges, counts=counts, title=title).plot(ax=ax)

    @classmethod
    def from_estimator(cls, lbp, image, *, title=None, ax=None):
        """Draw the code map of a :class:`skvision.LBP`'s parameters (its first scale)."""
        P = lbp.P if np.ndim(lbp.P) == 0 else np.ravel(lbp.P)[0]
        R = lbp.R if np.ndim(lbp.R) == 0 else np.ravel(lbp.R)[0]
        return cls.from_image(image, P=int(P), R=float(R), method=lbp.method, sampling=lbp.sampling,
                              n_bins=lbp.n_bins, title=title, ax=ax)

    def plot(self, ax=None):
        """Draw the image, the code map and the histogram.

        Parameters
        ----------
        ax : sequence of three matplotlib Axes or None

        Returns
        -------
        self : LBPDisplay
        """
        figure, axes = axes_list_or_new(ax, 3, "LBPDisplay.plot", figsize=(12, 4))
        _show_image(axes[0], self.image, "image")
        shown = axes[1].imshow(self.codes, cmap="nipy_spectral", interpolation="nearest")
        axes[1].set_title(self.title or "LBP codes")
        axes[1].set_axis_off()
        figure.colorbar(shown, ax=axes[1], fraction=0.046, pad=0.04, label="code")
        centres = (self.bin_edges[:-1] + self.bin_edges[1:]) / 2
        widths = np.diff(self.bin_edges)
        axes[2].bar(centres, self.counts / max(1, self.counts.sum()), width=widths * 0.9)
        axes[2].set_xlabel("LBP code")
        axes[2].set_ylabel("fraction of pixels")
        axes[2].set_title("code histogram")
        self.axes_, self.figure_ = axes, figure
        return self
