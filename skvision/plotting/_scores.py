"""Bar chart of a comparison's scores."""

from __future__ import annotations

import numpy as np

from ._base import axes_or_new

__all__ = ["ScoresDisplay"]

_KIND_COLOURS = {"handcrafted": "tab:blue", "learned": "tab:orange", "baseline": "tab:gray"}


class ScoresDisplay:
    """Mean cross-validation score of each feature set, with the fold std as error bar.

    Usually made by :meth:`skvision.compare.ComparisonResult.plot_scores`.

    Parameters
    ----------
    names : list of str
    means, stds : list of float
    scoring : str
        Axis label ('accuracy', 'r2', ...).
    kinds : list of str or None
        'handcrafted', 'learned' or 'baseline' per bar: sets its colour.

    Attributes
    ----------
    ax_ : matplotlib Axes
    figure_ : matplotlib Figure
    bars_ : BarContainer

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> from skvision.plotting import ScoresDisplay
    >>> display = ScoresDisplay(names=["lbp", "cnn"], means=[0.9, 0.98], stds=[0.01, 0.005],
    ...                         scoring="accuracy", kinds=["handcrafted", "learned"]).plot()
    >>> [round(float(bar.get_width()), 2) for bar in display.bars_]
    [0.9, 0.98]
    """

    def __init__(self, *, names, means, stds, scoring, kinds=None):
        self.names = list(names)
        self.means = np.asarray(means, dtype=float)
        self.stds = np.asarray(stds, dtype=float)
        self.scoring = scoring
        self.kinds = list(kinds) if kinds is not None else [""] * len(self.names)

    def plot(self, ax=None):
        """Draw horizontal bars, best at the top.

        Parameters
        ----------
        ax : matplotlib Axes or None
            New axes when ``None``.

        Returns
        -------
        self : ScoresDisplay
        """
        figure, ax = axes_or_new(ax, "ScoresDisplay.plot", figsize=(7, 1.5 + 0.4 * len(self.names)))
        positions = np.arange(len(self.names))[::-1]
        colours = [_KIND_COLOURS.get(kind, "tab:green") for kind in self.kinds]
        # A negated error (scikit-learn's neg_* scorers) is drawn as the error: bars toward -3.2 on an axis
        # running to +1 made the longest bar the worst set.
        error = str(self.scoring).startswith("neg_")
        values = -self.means if error else self.means
        self.bars_ = ax.barh(positions, values, xerr=self.stds, color=colours, capsize=3, height=0.6)
        ax.set_yticks(positions, self.names)
        for position, value, std in zip(positions, values, self.stds):
            ax.text(value + std, position, f" {value:.3f}", va="center", fontsize=8)
        low = min(0.0, float(np.min(values - self.stds))) if len(values) else 0.0
        high = float(np.max(values + self.stds)) if len(values) else 1.0
        # Scores of at most 1 (accuracy, R^2) on an axis to 1 at least; errors on their own scale.
        ax.set_xlim(low, (high if error else max(1.0, high)) * 1.08)
        ax.set_xlabel(
            f"{str(self.scoring)[4:].replace('_', ' ')} (mean ± std over folds; lower is better)"
            if error
            else f"{self.scoring} (mean ± std over folds)"
        )
        present = [kind for kind in _KIND_COLOURS if kind in self.kinds]
        if present:
            from matplotlib.patches import Patch

            ax.legend(
                [Patch(color=_KIND_COLOURS[kind]) for kind in present],
                present,
                loc="lower center",
                bbox_to_anchor=(0.5, 1.0),
                ncol=len(present),
                fontsize=8,
                frameon=False,
            )
        ax.grid(axis="x", alpha=0.3)
        self.ax_, self.figure_ = ax, figure
        return self
