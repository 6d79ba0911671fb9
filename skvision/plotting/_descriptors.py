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
    """An image beside its HOG drawing.

    Each cell shows one line per orientation bin, perpendicular to the bin's
    gradient direction (so along the edges), as bright as the cell's
    histogram value. With cells of 8 pixels or more the drawing is
    scikit-image's raster (``hog_image``); smaller cells would give lines of two
    or three pixels, so they are drawn as vector lines over the cell grid instead.

    Parameters
    ----------
    image : ndarray of shape (H, W) or (H, W, C)
    hog_image : ndarray of shape (H, W)
        scikit-image's drawing (:meth:`skvision.HOG.visualize`).
    cell_histograms : ndarray of shape (n_cell_rows, n_cell_cols, orientations) or None
        The unnormalised cell histograms, for the vector drawing.
    pixels_per_cell : tuple of (int, int)
    signed : bool, default=False
        Orientations over 360 degrees instead of 180.
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
    >>> display = HOGDisplay.from_estimator(hog, image)
    >>> display.hog_image.shape, display.cell_histograms.shape
    ((128, 128), (16, 16, 9))
    """

    def __init__(
        self, *, image, hog_image, cell_histograms=None, pixels_per_cell=(8, 8), signed=False, title=None
    ):
        self.image = image
        self.hog_image = hog_image
        self.cell_histograms = cell_histograms
        self.pixels_per_cell = tuple(pixels_per_cell)
        self.signed = signed
        self.title = title

    @classmethod
    def from_estimator(cls, hog, image, *, title=None, ax=None):
        """Draw the HOG of ``image`` as computed by a :class:`skvision.HOG`.

        Parameters
        ----------
        hog : skvision.HOG
            Fitted, or not: an unfitted one (whose fit learns nothing but the
            images' shape) is fitted on a copy, on ``image``, as
            :meth:`LBPDisplay.from_estimator` takes an unfitted LBP.
        image : ndarray of shape (H, W) or (H, W, C)
            Of the size ``hog`` was fitted on.
        title : str or None
        ax : sequence of two matplotlib Axes or None

        Returns
        -------
        display : HOGDisplay
        """
        from .._images import to_grayscale
        from ..descriptors import hog as hog_function

        image = _one_image(image, "HOGDisplay.from_estimator")
        if not hasattr(hog, "n_features_in_"):
            from sklearn.base import clone

            hog = clone(hog).fit(image[np.newaxis])
        drawing = hog.visualize(image[np.newaxis])[0]
        if drawing.ndim == 3:  # channels='each': one drawing per channel; show their sum
            drawing = drawing.sum(axis=-1)
        cell = (hog.pixels_per_cell,) * 2 if np.ndim(hog.pixels_per_cell) == 0 else tuple(hog.pixels_per_cell)
        colour_max = hog.channels == "max" and image.ndim == 3
        plane = image[np.newaxis] if colour_max or image.ndim == 2 else to_grayscale(image[np.newaxis])
        histograms = hog_function(
            plane,
            orientations=hog.orientations,
            pixels_per_cell=cell,
            cells_per_block=1,
            block_norm=None,
            transform_sqrt=hog.transform_sqrt,
            channel_axis=-1 if colour_max else None,
            gradient=hog.gradient,
            signed=hog.signed,
            weighting=hog.weighting,
        )[0].reshape(image.shape[0] // cell[0], image.shape[1] // cell[1], hog.orientations)
        if title is None:
            title = f"HOG, {hog.orientations} orientations, {cell[0]}x{cell[1]} px cells"
        return cls(
            image=image,
            hog_image=drawing,
            cell_histograms=histograms,
            pixels_per_cell=cell,
            signed=hog.signed,
            title=title,
        ).plot(ax=ax)

    @classmethod
    def from_image(cls, image, *, title=None, ax=None, **hog_params):
        """Fit :class:`skvision.HOG` with ``hog_params`` on ``image`` and draw it."""
        from ..descriptors import HOG

        image = _one_image(image, "HOGDisplay.from_image")
        hog = HOG(**hog_params).fit(image[np.newaxis])
        return cls.from_estimator(hog, image, title=title, ax=ax)

    def plot(self, ax=None, *, style="auto"):
        """Draw the image and its HOG side by side.

        Parameters
        ----------
        ax : sequence of two matplotlib Axes or None
        style : {'auto', 'raster', 'lines'}, default='auto'
            scikit-image's raster drawing, or vector lines over the cell grid;
            'auto' takes the lines for cells under 8 pixels.

        Returns
        -------
        self : HOGDisplay
        """
        figure, axes = axes_list_or_new(ax, 2, "HOGDisplay.plot", figsize=(8, 4))
        _show_image(axes[0], self.image, "image")
        if style == "auto":
            style = (
                "lines" if min(self.pixels_per_cell) < 8 and self.cell_histograms is not None else "raster"
            )
        if style == "lines":
            self._draw_lines(axes[1])
        else:
            # A few strong cells would leave the rest black: saturate the top 1%.
            drawn = self.hog_image[self.hog_image > 0]
            vmax = float(np.percentile(drawn, 99)) if drawn.size else 1.0
            axes[1].imshow(self.hog_image, cmap="magma", vmin=0, vmax=vmax, interpolation="nearest")
        axes[1].set_title(self.title or "HOG")
        axes[1].set_axis_off()
        self.axes_, self.figure_ = axes, figure
        return self

    def _draw_lines(self, ax):
        from matplotlib.collections import LineCollection

        histograms = self.cell_histograms
        n_rows, n_cols, n_bins = histograms.shape
        cell_h, cell_w = self.pixels_per_cell
        span = 360.0 if self.signed else 180.0
        theta = np.deg2rad((np.arange(n_bins) + 0.5) * span / n_bins)  # gradient direction of each bin
        radius = 0.45 * min(cell_h, cell_w)
        # scikit-image's line for a bin: through the cell centre, perpendicular to the gradient.
        d_row, d_col = radius * np.sin(theta), radius * np.cos(theta)
        rows = (np.arange(n_rows) + 0.5) * cell_h - 0.5
        cols = (np.arange(n_cols) + 0.5) * cell_w - 0.5
        r0, c0 = (a[:, :, None] for a in np.meshgrid(rows, cols, indexing="ij"))
        starts = np.stack([c0 + d_row, r0 - d_col], axis=-1)  # (x, y) = (column, row)
        ends = np.stack([c0 - d_row, r0 + d_col], axis=-1)
        segments = np.stack([starts, ends], axis=-2).reshape(-1, 2, 2)
        strength = histograms.reshape(-1)
        top = float(np.percentile(strength[strength > 0], 99)) if (strength > 0).any() else 1.0
        ax.set_facecolor("black")
        ax.add_collection(
            LineCollection(
                segments, array=np.clip(strength / top, 0, 1), cmap="magma", linewidths=2.0, clim=(0, 1)
            )
        )
        ax.set_xlim(-0.5, self.image.shape[1] - 0.5)
        ax.set_ylim(self.image.shape[0] - 0.5, -0.5)
        ax.set_aspect("equal")
        ax.imshow(np.zeros(self.image.shape[:2]), cmap="gray", vmin=0, vmax=1, zorder=0)


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
    def from_image(
        cls, image, *, P=8, R=1, method="uniform", sampling="circular", n_bins=16, title=None, ax=None
    ):
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
            from ..descriptors._lbp import _n_labels, _ror_classes

            labels = codes.astype(np.int64)
            if method == "ror":  # the transform's bins: one per rotation class (36 for P=8), not 2**P codes
                labels = np.searchsorted(_ror_classes(P), labels)
            counts = np.bincount(labels.ravel(), minlength=_n_labels(P, method, n_bins))
            edges = np.arange(len(counts) + 1) - 0.5
        title = title or f"LBP P={P}, R={R:g}, {method}"
        return cls(image=image, codes=codes, bin_edges=edges, counts=counts, title=title).plot(ax=ax)

    @classmethod
    def from_estimator(cls, lbp, image, *, title=None, ax=None):
        """Draw the code map of a :class:`skvision.LBP`'s parameters (its first scale)."""
        P = lbp.P if np.ndim(lbp.P) == 0 else np.ravel(lbp.P)[0]
        R = lbp.R if np.ndim(lbp.R) == 0 else np.ravel(lbp.R)[0]
        return cls.from_image(
            image,
            P=int(P),
            R=float(R),
            method=lbp.method,
            sampling=lbp.sampling,
            n_bins=lbp.n_bins,
            title=title,
            ax=ax,
        )

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
