"""Demšar's critical-difference diagram: average ranks over data sets, and who cannot be told apart."""

from __future__ import annotations

import numpy as np

from ._base import axes_or_new

__all__ = ["CriticalDifferenceDisplay", "nemenyi_groups"]


def nemenyi_groups(average_ranks, critical_difference):
    """Maximal groups of methods whose average ranks all lie less than the CD apart.

    Parameters
    ----------
    average_ranks : array-like of shape (k,)
    critical_difference : float

    Returns
    -------
    groups : list of list of int
        Indices into ``average_ranks``, best rank first; only groups of two or
        more, none inside another.

    Examples
    --------
    >>> nemenyi_groups([1.0, 1.5, 2.4, 3.9], 1.0)
    [[0, 1], [1, 2]]
    """
    ranks = np.asarray(average_ranks, dtype=float)
    order = np.argsort(ranks, kind="stable")
    sorted_ranks = ranks[order]
    groups, reach = [], -1
    for i in range(len(order)):
        j = i
        while j + 1 < len(order) and sorted_ranks[j + 1] - sorted_ranks[i] < critical_difference:
            j += 1
        if j > i and j > reach:
            groups.append([int(k) for k in order[i : j + 1]])
            reach = j
    return groups


class CriticalDifferenceDisplay:
    """Critical-difference diagram (Demšar 2006): average ranks on an axis, groups joined by bars.

    Each method hangs from its average rank over the data sets (rank 1 is the
    best). A thick bar joins methods whose ranks differ by less than Nemenyi's
    critical difference (CD, drawn above the axis): the test cannot tell them
    apart at the level ``alpha``. Usually made by
    :meth:`skvision.compare.FriedmanResult.plot_critical_difference`.

    Parameters
    ----------
    names : list of str
    average_ranks : array-like of shape (k,)
    critical_difference : float
    alpha : float or None
        Level of the CD (shown in the title).
    n_datasets : int or None
        Number of data sets ranked (shown in the title).

    Attributes
    ----------
    ax_ : matplotlib Axes
    figure_ : matplotlib Figure
    groups_ : list of list of str
        The methods joined by each bar.

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> from skvision.plotting import CriticalDifferenceDisplay
    >>> display = CriticalDifferenceDisplay(
    ...     names=["C4.5", "C4.5+m", "C4.5+cf", "C4.5+m+cf"],
    ...     average_ranks=[3.143, 2.000, 2.893, 1.964], critical_difference=1.25).plot()
    >>> display.groups_
    [['C4.5+m+cf', 'C4.5+m', 'C4.5+cf', 'C4.5']]
    """

    def __init__(self, *, names, average_ranks, critical_difference, alpha=None, n_datasets=None):
        self.names = [str(name) for name in names]
        self.average_ranks = np.asarray(average_ranks, dtype=float)
        self.critical_difference = float(critical_difference)
        self.alpha = alpha
        self.n_datasets = n_datasets

    def plot(self, ax=None, *, best_on_right=False):
        """Draw the diagram.

        Parameters
        ----------
        ax : matplotlib Axes or None
        best_on_right : bool, default=False
            Put rank 1 at the right end of the axis, as in Demšar's figures.

        Returns
        -------
        self : CriticalDifferenceDisplay
        """
        k = len(self.names)
        if k < 2 or len(self.average_ranks) != k:
            raise ValueError(
                f"Need at least 2 methods with one average rank each; got {k} names and "
                f"{len(self.average_ranks)} ranks."
            )
        groups = nemenyi_groups(self.average_ranks, self.critical_difference)
        order = list(np.argsort(self.average_ranks, kind="stable"))
        half = (k + 1) // 2
        near, far = order[:half], order[half:][::-1]  # the best half hangs on the best side
        rows = max(len(near), len(far))
        figure, ax = axes_or_new(
            ax, "CriticalDifferenceDisplay.plot", figsize=(7, 1.4 + 0.3 * (rows + len(groups)))
        )
        sign = -1.0 if best_on_right else 1.0

        def x(rank):
            return sign * rank

        span = k - 1
        ends = (x(1) - sign * (0.1 * span + 0.15), x(k) + sign * (0.1 * span + 0.15))
        line = {"color": "black", "linewidth": 1.0}
        ax.plot([x(1), x(k)], [0, 0], **line)
        for tick in range(1, k + 1):
            ax.plot([x(tick), x(tick)], [0, -0.08], **line)
            ax.text(x(tick), -0.12, str(tick), ha="center", va="bottom", fontsize=9)
        for half_tick in np.arange(1.5, k, 1.0):
            ax.plot([x(half_tick), x(half_tick)], [0, -0.04], **line)
        # The CD above the axis, from rank 1.
        cd_end = min(1 + self.critical_difference, k + 0.5)
        ax.plot([x(1), x(cd_end)], [-0.45, -0.45], color="black", linewidth=1.5)
        for end in (1, cd_end):
            ax.plot([x(end), x(end)], [-0.5, -0.4], color="black", linewidth=1.0)
        ax.text(
            (x(1) + x(cd_end)) / 2,
            -0.52,
            f"CD = {self.critical_difference:.2f}",
            ha="center",
            va="bottom",
            fontsize=9,
        )
        bar_top = 0.2
        for j, group in enumerate(groups):
            ranks = self.average_ranks[group]
            y = bar_top + 0.12 * j
            ax.plot(
                [x(ranks.min()) - sign * 0.03, x(ranks.max()) + sign * 0.03],
                [y, y],
                color="black",
                linewidth=3.5,
                solid_capstyle="round",
            )
        first_row = bar_top + 0.12 * max(len(groups) - 1, 0) + 0.35
        for members, end, align in ((near, ends[0], "right"), (far, ends[1], "left")):
            if best_on_right:
                align = "left" if align == "right" else "right"
            for row, index in enumerate(members):
                y = first_row + 0.3 * row
                rank = self.average_ranks[index]
                ax.plot([x(rank), x(rank), end], [0, y, y], **line)
                gap = -0.05 if align == "right" else 0.05
                ax.text(end + gap, y, f"{self.names[index]} ({rank:.2f})", ha=align, va="center", fontsize=9)
        ax.set_xlim(min(ends), max(ends))
        ax.set_ylim(first_row + 0.3 * (rows - 1) + 0.25, -0.75)
        ax.set_axis_off()
        title = "Average rank (1 = best); bars join methods Nemenyi's test cannot tell apart"
        details = []
        if self.alpha is not None:
            details.append(f"alpha = {self.alpha:g}")
        if self.n_datasets is not None:
            details.append(f"{self.n_datasets} data sets")
        if details:
            title += f"\n({', '.join(details)})"
        ax.set_title(title, fontsize=9)
        self.groups_ = [[self.names[i] for i in group] for group in groups]
        self.ax_, self.figure_ = ax, figure
        return self
