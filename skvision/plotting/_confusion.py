"""Confusion matrices whose labels stay readable, whatever the number and length of the class names."""

from __future__ import annotations

import textwrap

__all__ = ["confusion_figsize", "readable_confusion_matrix"]

#: Class names longer than this wrap onto a second line.
_WRAP = 14


def _wrapped(name):
    return "\n".join(textwrap.wrap(str(name), _WRAP, break_long_words=True, max_lines=2, placeholder="…"))


def confusion_figsize(display_labels):
    """A square figure size (inches) for a confusion matrix of these class names.

    About 0.45 inch per class plus room for the longest (wrapped) name, at
    least 4.5 inches.

    Examples
    --------
    >>> confusion_figsize([str(d) for d in range(10)])
    (5.57, 5.57)
    >>> confusion_figsize(["a long class name"] * 30)[0] > 13
    True
    """
    labels = [str(name) for name in display_labels]
    longest = max((max(len(line) for line in _wrapped(name).split("\n")) for name in labels), default=1)
    side = max(4.5, 1.0 + 0.45 * len(labels) + 0.07 * longest)
    return (round(side, 2), round(side, 2))


def readable_confusion_matrix(display, *, rotate=None):
    """Make the labels of a drawn :class:`sklearn.metrics.ConfusionMatrixDisplay` readable.

    Long class names wrap onto two lines, the x labels turn 45 degrees (90
    beyond 20 classes) when they would not fit their column, and the fonts of the labels and
    of the counts shrink as classes are added (the counts disappear beyond 30
    classes, where the colours carry them).

    Parameters
    ----------
    display : ConfusionMatrixDisplay
        Already plotted (``display.ax_`` set).
    rotate : float, None or False
        Angle of the x labels; ``None`` chooses from the count and lengths;
        ``False`` keeps the angle they were drawn with.

    Returns
    -------
    display : ConfusionMatrixDisplay
    """
    ax = display.ax_
    x_labels = [tick.get_text() for tick in ax.get_xticklabels()]
    y_labels = [tick.get_text() for tick in ax.get_yticklabels()]
    n = len(x_labels)
    font = 10 if n <= 10 else (8 if n <= 20 else 6)
    wrapped_x = [_wrapped(name) for name in x_labels]
    if rotate is None:
        # Horizontal while the longest line fits in its column (about 0.6 em per character).
        longest = max((len(line) for name in wrapped_x for line in name.split("\n")), default=1)
        column = ax.get_position().width * ax.figure.get_size_inches()[0] / max(n, 1)
        fits = 0.6 * font / 72 * longest <= 0.85 * column
        rotate = 0 if fits else (45 if n <= 20 else 90)
    if rotate is False:
        rotations = [tick.get_rotation() for tick in ax.get_xticklabels()]
    ax.set_xticks(ax.get_xticks(), wrapped_x, fontsize=font)
    ax.set_yticks(ax.get_yticks(), [_wrapped(name) for name in y_labels], fontsize=font)
    if rotate is False:
        for tick, angle in zip(ax.get_xticklabels(), rotations):
            tick.set_rotation(angle)
    elif rotate:
        ax.tick_params(axis="x", labelrotation=rotate)
        for tick in ax.get_xticklabels():
            tick.set_horizontalalignment("right" if rotate < 90 else "center")
            tick.set_rotation_mode("anchor" if rotate < 90 else "default")
    text = getattr(display, "text_", None)
    if text is not None:
        for cell in text.ravel():
            if cell is None:
                continue
            if n > 30:
                cell.set_visible(False)
            else:
                cell.set_fontsize(9 if n <= 10 else (7 if n <= 20 else 5))
    ax.xaxis.label.set_fontsize(font + 1)
    ax.yaxis.label.set_fontsize(font + 1)
    return display
