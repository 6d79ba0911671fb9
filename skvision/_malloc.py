"""glibc's malloc told to keep freed memory: what a process running networks on the CPU wants.

glibc hands large freed buffers back to the kernel (``munmap``, or trimming the top of
the heap) and takes fresh ones at the next allocation, whose pages the kernel zeroes on
first touch. A network's activations are such buffers, allocated and freed batch after
batch: ``PretrainedFeatures`` on 192 224x224 images spent 3.0 s of system time beside
4.1 s of user time (1.7 million page faults) and took 3.6 s; with both thresholds raised,
0.1 s of system time and 1.7 s. ``skvision compare`` of three families on 800 128x128
photos: 105 s -> 80 s. The price: the process keeps its peak memory until it ends
(maxrss +11 % in that run), which suits a command, not a library call inside someone
else's program, so only the ``skvision`` command does this for itself
(docs/scaling.md shows the environment variables for other programs).
"""

from __future__ import annotations

import ctypes
import os
import sys

__all__ = ["keep_freed_memory", "MALLOC_VARIABLES"]

#: mallopt's parameters (malloc.h), and the environment variables glibc reads them from.
_M_TRIM_THRESHOLD, _M_MMAP_THRESHOLD = -1, -3
MALLOC_VARIABLES = ("MALLOC_TRIM_THRESHOLD_", "MALLOC_MMAP_THRESHOLD_")

#: Both thresholds: buffers under 1 GiB come from the heap and stay there when freed.
_THRESHOLD = 2**30


def keep_freed_memory(environ=None):
    """Raise glibc's trim and mmap thresholds in this process and its future children.

    Both are needed: a high mmap threshold alone still trims the heap's top after each
    batch, and a trim threshold alone fixes the mmap threshold at its 128 kB default
    (the slowdown dask's nanny causes, docs/scaling.md). Child processes (joblib's loky
    workers) read the environment variables when they start.

    Parameters
    ----------
    environ : mapping or None
        The environment to update (``os.environ`` by default).

    Returns
    -------
    applied : bool
        False off Linux, without glibc, or where the user already set either variable
        (their choice wins).
    """
    environ = os.environ if environ is None else environ
    if not sys.platform.startswith("linux") or any(name in environ for name in MALLOC_VARIABLES):
        return False
    try:
        libc = ctypes.CDLL("libc.so.6")
        mallopt = libc.mallopt
    except (OSError, AttributeError):  # musl and others: no glibc
        return False
    if mallopt(_M_MMAP_THRESHOLD, _THRESHOLD) != 1 or mallopt(_M_TRIM_THRESHOLD, _THRESHOLD) != 1:
        return False
    for name in MALLOC_VARIABLES:
        environ[name] = str(_THRESHOLD)
    return True
