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

__all__ = ["is_skvision_file", "user_stacklevel"]

_SKVISION = os.path.dirname(os.path.abspath(__file__)) + os.sep
#: The command line is the library's user: its warnings point there (and it prints them as lines).
_COMMAND = os.path.join(_SKVISION, "cli.py")
#: Libraries whose frames sit between the user and skvision's code: scikit-learn's fit wrappers,
#: Pipeline, cross_val_score; joblib's sequential backend; skorch's training loop.
_PASSED_THROUGH = ("sklearn", "joblib", "skorch")


#: Where a thread starts: a walk that reaches it found no user line in that thread.
_THREAD_STARTS = (
    os.path.join(os.path.dirname(os.path.abspath(os.__file__)), "threading.py"),
    os.path.join(os.path.dirname(os.path.abspath(os.__file__)), "concurrent") + os.sep,
)


def is_skvision_file(filename):
    """Whether ``filename`` is a module of skvision's but its command line.

    Examples
    --------
    >>> is_skvision_file(__file__), is_skvision_file(os.__file__)
    (True, False)
    """
    filename = os.path.abspath(filename)
    return filename.startswith(_SKVISION) and filename != _COMMAND


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
    A function outside the library names its own line; one of skvision's, called
    from here, would name this line:

    >>> def not_skvision():
    ...     return user_stacklevel()
    >>> not_skvision()
    1
    """
    from ._workers import in_worker

    if not in_worker():
        folders = _library_folders()
        frame, level = sys._getframe(1), 1  # the function that warns: stacklevel 1
        while frame is not None:
            filename = os.path.abspath(frame.f_code.co_filename)
            if filename.startswith(_THREAD_STARTS):
                break  # a thread of skvision's or a pool's: no user line in it
            if not filename.startswith(folders) or filename == _COMMAND:
                return level
            frame = frame.f_back
            level += 1
    # A worker's task (the caller raises it again, naming its own line: _workers.warn_as_caller), or a
    # thread: the outermost line of skvision but the worker's wrapper, which the command prints as one
    # of its own warnings.
    frame, level, outermost = sys._getframe(1), 1, 1
    wrapper = os.path.join(_SKVISION, "_workers.py")
    while frame is not None:
        filename = os.path.abspath(frame.f_code.co_filename)
        if filename.startswith(_SKVISION) and filename != wrapper:
            outermost = level
        frame = frame.f_back
        level += 1
    return outermost
