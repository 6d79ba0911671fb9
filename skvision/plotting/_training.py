"""Training curves from a fitted network's skorch history."""

from __future__ import annotations

import numbers

import numpy as np

from ._base import axes_or_new

__all__ = ["TrainingCurveDisplay", "find_history"]

#: Per-epoch entries of a skorch History that are not curves (nor are ``event_*``
#: callback records and ``*_batch_count`` counters).
_NOT_CURVES = {"epoch", "dur", "batches"}


def find_history(estimator):
    """The skorch ``History`` of a fitted network, searched through pipelines and wrappers.

    Looks at ``estimator.history``, then at the network a wrapper keeps in a
    fitted attribute (``net_``, ``model_``, ...), then at the steps of a
    :class:`~sklearn.pipeline.Pipeline` from the last one.

    Raises
    ------
    ValueError
        Nothing fitted with a history was found.
    """
    seen = set()

    def search(obj):
        if obj is None or id(obj) in seen:
            return None
        seen.add(id(obj))
        history = getattr(obj, "history", None)
        if history is not None and len(history) > 0 and isinstance(history[0], dict):
            return history
        steps = getattr(obj, "steps", None)
        if isinstance(steps, list):
            for _, step in reversed(steps):
                found = search(step)
                if found is not None:
                    return found
        for name in ("net_", "model_", "estimator_", "best_estimator_", "network_"):
            found = search(getattr(obj, name, None))
            if found is not None:
                return found
        return None

    history = search(estimator)
    if history is None:
        raise ValueError(
            f"No training history found in {type(estimator).__name__}: expected a fitted skorch "
            "network (or a pipeline holding one)."
        )
    return history


def _curves(history, keys):
    if keys is None:
        keys = []
        for row in history:
            for key, value in row.items():
                if (
                    key not in _NOT_CURVES
                    and key not in keys
                    and not key.startswith("event_")
                    and not key.endswith("_batch_count")
                    and isinstance(value, numbers.Real)
                    and not isinstance(value, bool)
                ):
                    keys.append(key)
    recorded = {key for row in history for key in row}
    missing = [key for key in keys if key not in recorded]
    if missing:  # an all-NaN line was drawn for a misspelt key, silently
        known = sorted(key for key in recorded if key not in _NOT_CURVES and not key.startswith("event_"))
        raise ValueError(f"keys {missing} are not in the history; it records {known}.")
    curves = {}
    for key in keys:
        curves[key] = np.array([row.get(key, np.nan) for row in history], dtype=float)
    return curves


class TrainingCurveDisplay:
    """Per-epoch training curves (losses, validation scores) of a network.

    Losses are drawn on the left axis, other values (accuracy, R^2) on a
    second axis on the right.

    Parameters
    ----------
    epochs : ndarray of int
    curves : dict of str -> ndarray
        Name -> one value per epoch (NaN where missing).
    title : str or None

    Attributes
    ----------
    ax_ : matplotlib Axes
        The loss axis.
    score_ax_ : matplotlib Axes or None
        The right-hand axis, when there are non-loss curves.
    figure_ : matplotlib Figure
    lines_ : dict of str -> Line2D

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> from skvision.plotting import TrainingCurveDisplay
    >>> history = [{"epoch": 1, "train_loss": 1.0, "valid_loss": 1.1, "valid_acc": 0.5, "dur": 0.1},
    ...            {"epoch": 2, "train_loss": 0.5, "valid_loss": 0.7, "valid_acc": 0.8, "dur": 0.1}]
    >>> display = TrainingCurveDisplay.from_history(history)
    >>> sorted(display.lines_)
    ['train_loss', 'valid_acc', 'valid_loss']
    """

    def __init__(self, *, epochs, curves, title=None):
        self.epochs = np.asarray(epochs)
        self.curves = dict(curves)
        self.title = title

    @classmethod
    def from_history(cls, history, *, keys=None, title=None, ax=None):
        """Curves from a skorch ``History`` (or a list of per-epoch dicts).

        Parameters
        ----------
        history : skorch History or list of dict
        keys : list of str or None
            Entries to draw; ``None`` draws every numeric one but the epoch
            number and durations.
        title : str or None
        ax : matplotlib Axes or None

        Returns
        -------
        display : TrainingCurveDisplay
        """
        history = list(history)
        if not history:
            raise ValueError("The history is empty: the network has not been trained.")
        epochs = np.array([row.get("epoch", i + 1) for i, row in enumerate(history)])
        return cls(epochs=epochs, curves=_curves(history, keys), title=title).plot(ax=ax)

    @classmethod
    def from_estimator(cls, estimator, *, keys=None, title=None, ax=None):
        """Curves of a fitted skorch network, or of a pipeline or estimator that holds one."""
        return cls.from_history(find_history(estimator), keys=keys, title=title, ax=ax)

    def plot(self, ax=None):
        """Draw the curves.

        Parameters
        ----------
        ax : matplotlib Axes or None

        Returns
        -------
        self : TrainingCurveDisplay
        """
        figure, ax = axes_or_new(ax, "TrainingCurveDisplay.plot", figsize=(6, 4))
        losses = {k: v for k, v in self.curves.items() if "loss" in k}
        scores = {k: v for k, v in self.curves.items() if "loss" not in k}
        self.lines_ = {}
        for key, values in losses.items():
            (self.lines_[key],) = ax.plot(self.epochs, values, marker=".", label=key)
        ax.set_xlabel("epoch")
        ax.set_ylabel("loss")
        self.score_ax_ = None
        handles = list(self.lines_.values())
        if scores:
            self.score_ax_ = ax.twinx() if losses else ax
            for key, values in scores.items():
                (self.lines_[key],) = self.score_ax_.plot(
                    self.epochs, values, marker=".", linestyle="--", label=key
                )
                handles.append(self.lines_[key])
            self.score_ax_.set_ylabel("score")
        ax.legend(handles, [h.get_label() for h in handles], fontsize=8, loc="center right")
        ax.grid(alpha=0.3)
        if self.title:
            ax.set_title(self.title)
        self.ax_, self.figure_ = ax, figure
        return self
