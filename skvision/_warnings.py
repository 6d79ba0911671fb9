"""Where skvision's warnings point: the user's line, not a line of the library that raised them.

Python shows a warning once per place (its "default" filter, and a notebook's):
a warning that names a line inside skvision, or inside scikit-learn's wrapper
around a ``fit``, is shown for the first call and hidden for every later call
from anywhere. A hard-coded ``stacklevel`` misses as soon as a decorator or a
helper sits between (``TrainingInterruptedWarning`` pointed at
``skvision/_fit_state.py``). :func:`user_stacklevel` walks out of the library
instead.

Imports nothing beyond the standard library (the lean install has no torch).
"""

from __future__ import annotations

import os
import sys

__all__ = ["user_stacklevel"]

_SKVISION = os.path.dirname(os.path.abspath(__file__)) + os.sep
#: The command line is the library's user: its warnings point there (and it prints them as lines).
_COMMAND = os.path.join(_SKVISION, "cli.py")
#: Libraries whose frames sit between the user and skvision's code: scikit-learn's fit wrappers,
#: Pipeline, cross_val_score; joblib's sequential backend; skorch's training loop.
_PASSED_THROUGH = ("sklearn", "joblib", "skorch")


def _library_folders():
    folders = [_SKVISION]
    for name in _PASSED_THROUGH:
        module = sys.modules.get(name)
        path = getattr(module, "__file__", None)
        if path:
            folders.append(os.path.dirname(os.path.abspath(path)) + os.sep)
    return tuple(folders)


def user_stacklevel():
    """The ``stacklevel`` for ``warnings.warn`` that names the first line outside the library.

    Called by the function that calls ``warnings.warn``; frames of skvision (but
    its command line), scikit-learn, joblib and skorch are passed through.

    Examples
    --------
    >>> import warnings
    >>> def inside():  # stands for a function of skvision
    ...     warnings.warn("checked", UserWarning, stacklevel=user_stacklevel())
    >>> with warnings.catch_warnings(record=True) as caught:
    ...     warnings.simplefilter("always")
    ...     inside()
    >>> caught[0].filename.endswith("_warnings.py")  # a doctest's own lines are not skvision's
    False
    """
    frame = sys._getframe(1)  # the function that warns: stacklevel 1
    from ._workers import in_worker

    if in_worker():
        # A worker's task: no user line here (the caller raises it again, see _workers.run_as_caller);
        # the outermost line of skvision, which the command prints as one of its own warnings.
        outermost, level = 1, 1
        while frame is not None:
            if os.path.abspath(frame.f_code.co_filename).startswith(_SKVISION):
                outermost = level
            frame = frame.f_back
            level += 1
        return outermost
    folders = _library_folders()
    level = 1
    while frame is not None:
        filename = os.path.abspath(frame.f_code.co_filename)
        if not filename.startswith(folders) or filename == _COMMAND:
            return level
        frame = frame.f_back
        level += 1
    return level - 1  # all library: the outermost frame
