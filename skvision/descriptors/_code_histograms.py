"""Per-cell histograms of integer code maps, shared by LBP, LPQ, WLD and BSIF.

These descriptors turn each pixel into one of ``n_codes`` integer codes (the signs
of a few filter responses, or a quantised pair of measurements) and describe an
image by the histograms of its codes over a grid of cells. Only the code map
differs between them; :class:`CodeHistogramDescriptor` does the rest once:
the ``grid`` and ``normalize`` parameters, the smallest image the grid allows,
the histograms (numpy and torch), and the feature names.
"""

from __future__ import annotations

from numbers import Integral

import numpy as np

from .._compat import Interval, StrOptions
from ._base import DEVICE_CONSTRAINT, BaseDescriptor
from ._common import bin_part, cell_index, check_grid, grid_parts, join_names

__all__ = ["CodeHistogramDescriptor", "cell_histograms", "normalized_histograms", "sign_tolerance"]

#: Filter responses within this fraction of (largest |pixel| x filter L1 norm) of
#: zero count as zero. Flat regions then get the same code on every platform and
#: on the numpy and torch paths, instead of codes drawn from rounding noise.
_RELATIVE_SIGN_TOLERANCE = 1e-9


def cell_histograms(codes, n_codes, grid=(1, 1), normalize="l1"):
    """Histograms of integer codes over a grid of cells, for a batch of code maps.

    Cells are cut by :func:`skvision.descriptors._common.cell_bounds`: boundaries
    ``floor(i * h / rows)`` (and likewise for columns), so every pixel belongs to
    exactly one cell and cell sizes differ by at most one pixel.

    Parameters
    ----------
    codes : ndarray of int, shape (N, h, w), or a torch tensor
        Code maps with values in ``[0, n_codes)``.
    n_codes : int
        Number of histogram bins per cell.
    grid : (int, int)
        Cells along the rows and the columns.
    normalize : {'l1', 'l2'} or None
        Per-cell normalisation: unit sum, unit Euclidean norm, or raw counts.

    Returns
    -------
    histograms : ndarray of shape (N, rows * cols * n_codes), float64
        Cells in row-major order, each cell's ``n_codes`` bins contiguous.
        A torch tensor (float64, same device) for torch input.

    Examples
    --------
    >>> import numpy as np
    >>> codes = np.array([[[0, 1, 1, 2]]])
    >>> cell_histograms(codes, 3, grid=(1, 2), normalize=None)
    array([[1., 1., 0., 0., 1., 1.]])
    """
    n, h, w = codes.shape
    rows, cols = grid
    n_cells = rows * cols
    cell_of = cell_index((h, w), grid)
    if isinstance(codes, np.ndarray):
        flat = (np.arange(n)[:, None, None] * n_cells + cell_of) * n_codes + codes
        counts = np.bincount(flat.ravel(), minlength=n * n_cells * n_codes)
        hist = counts.reshape(n, n_cells, n_codes).astype(np.float64)
    else:
        import torch

        cell_of = torch.as_tensor(cell_of, device=codes.device)
        image_of = torch.arange(n, device=codes.device)[:, None, None]
        flat = (image_of * n_cells + cell_of) * n_codes + codes.long()
        counts = torch.bincount(flat.reshape(-1), minlength=n * n_cells * n_codes)
        hist = counts.reshape(n, n_cells, n_codes).double()
    return normalized_histograms(hist, normalize)


def normalized_histograms(counts, normalize):
    """Flattened per-cell histograms from float64 counts ``(N, n_cells, n_codes)`` (numpy or torch).

    Examples
    --------
    >>> import numpy as np
    >>> normalized_histograms(np.array([[[1.0, 3.0], [2.0, 0.0]]]), "l1")
    array([[0.25, 0.75, 1.  , 0.  ]])
    """
    if isinstance(counts, np.ndarray):
        xp_sqrt, xp_sum = np.sqrt, np.sum
    else:
        import torch

        xp_sqrt, xp_sum = torch.sqrt, torch.sum
    if normalize == "l1":
        counts = counts / xp_sum(counts, -1, keepdims=True)
    elif normalize == "l2":
        counts = counts / xp_sqrt(xp_sum(counts * counts, -1, keepdims=True))
    return counts.reshape(counts.shape[0], -1)


def sign_tolerance(images, kernel_l1_norm):
    """Per-image threshold under which a linear filter response counts as zero.

    Parameters
    ----------
    images : ndarray (N, H, W) or torch tensor
    kernel_l1_norm : float
        Largest L1 norm among the filters applied.

    Returns
    -------
    tolerance : array or tensor of shape (N, 1, 1)
    """
    if isinstance(images, np.ndarray):
        peak = np.abs(images).max(axis=(1, 2), keepdims=True)
    else:
        peak = images.abs().amax(dim=(1, 2), keepdim=True)
    return peak * (kernel_l1_norm * _RELATIVE_SIGN_TOLERANCE)


class CodeHistogramDescriptor(BaseDescriptor):
    """Base of the descriptors that histogram a per-pixel code map over a grid of cells.

    Subclass hooks
    --------------
    ``_n_codes()``
        Number of distinct codes (histogram bins per cell).
    ``_code_border()``
        Pixels the code map loses on each side of the image (a 'valid' filter).
    ``_own_min_size()`` and ``_own_size_reason()``
        Smallest image the subclass's own parameters allow, and which they are.
    ``_code_maps(images)``
        float64 ``(n, H, W)`` numpy stack -> int ``(n, H - 2b, W - 2b)`` codes.
    ``_code_maps_torch(images)``
        The same on a torch tensor (the torch path, ``device``).
    ``_code_names()``
        Names of the codes, one histogram bin each (default ``bin0``, ``bin1``, ...).
    """

    # The histograms' normalisation only rescales the counts: it may change after fit.
    _FREE_AFTER_FIT = frozenset({"normalize"})

    _parameter_constraints: dict = {
        **BaseDescriptor._parameter_constraints,
        "device": DEVICE_CONSTRAINT,
        "grid": [Interval(Integral, 1, None, closed="left"), tuple, list],
        "normalize": [StrOptions({"l1", "l2", "none"}), None],  # "none" as None, as LBP takes it
    }

    # ------------------------------------------------------------------ hooks
    def _n_codes(self):  # pragma: no cover - abstract
        raise NotImplementedError

    def _code_border(self):
        return 0

    def _own_min_size(self):
        return (1, 1)

    def _own_size_reason(self):  # pragma: no cover - abstract
        raise NotImplementedError

    def _code_maps(self, images):  # pragma: no cover - abstract
        raise NotImplementedError

    def _code_maps_torch(self, images):  # pragma: no cover - abstract
        raise NotImplementedError

    def _code_names(self):
        return [bin_part(k) for k in range(self._n_codes())]

    # ------------------------------------------------------- BaseDescriptor hooks
    def _check_params(self):
        check_grid(self.grid)

    def _min_image_size(self):
        rows, cols = check_grid(self.grid)
        border = 2 * self._code_border()
        own_h, own_w = self._own_min_size()
        return (max(own_h, border + rows), max(own_w, border + cols))

    def _min_image_size_reason(self):
        return f"{self._own_size_reason()} and grid={self.grid!r}"

    def _describe(self, images):
        codes = self._code_maps(images)
        return cell_histograms(codes, self._n_codes(), check_grid(self.grid), self.normalize)

    def _describe_torch(self, images):
        codes = self._code_maps_torch(images)
        return cell_histograms(codes, self._n_codes(), check_grid(self.grid), self.normalize)

    def _plane_feature_names(self):
        return join_names(grid_parts("cell", *check_grid(self.grid)), self._code_names())
