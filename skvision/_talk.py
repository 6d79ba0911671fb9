"""What progress lines share: how a duration is said, and who says how a long fit goes.

Imports nothing beyond the standard library (the lean install has no torch).
"""

from __future__ import annotations

import contextlib
import threading

__all__ = ["format_duration", "long_fit_lines_off", "long_fit_lines_wanted"]

_lines = threading.local()


def format_duration(seconds):
    """``seconds`` as a progress line says it.

    Examples
    --------
    >>> format_duration(4.25), format_duration(42.0), format_duration(130), format_duration(7260)
    ('4.2 s', '42 s', '2 min 10 s', '2 h 01 min')
    """
    if seconds < 60:
        return f"{seconds:.1f} s" if seconds < 10 else f"{seconds:.0f} s"
    minutes, seconds = divmod(round(seconds), 60)
    if minutes < 60:
        return f"{minutes} min {seconds:02d} s"
    hours, minutes = divmod(minutes, 60)
    return f"{hours} h {minutes:02d} min"


@contextlib.contextmanager
def long_fit_lines_off():
    """No lines from long neural fits at ``verbose=0`` in this thread, in the block.

    For callers that say how their work goes themselves (``compare`` has a line per
    split and its own heartbeat).

    Examples
    --------
    >>> with long_fit_lines_off():
    ...     long_fit_lines_wanted()
    False
    >>> long_fit_lines_wanted()
    True
    """
    previous = getattr(_lines, "off", False)
    _lines.off = True
    try:
        yield
    finally:
        _lines.off = previous


def long_fit_lines_wanted():
    """Whether a long fit at ``verbose=0`` in this thread says how it goes (:func:`long_fit_lines_off`)."""
    return not getattr(_lines, "off", False)
