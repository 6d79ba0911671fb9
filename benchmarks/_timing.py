"""The benchmarks' one stopwatch: wall seconds of repeated calls (``time.perf_counter``).

Each script is run as ``python benchmarks/<name>.py``, which puts this folder first on
``sys.path``, so ``from _timing import median_seconds`` finds this module.
"""

from __future__ import annotations

import statistics
import time


def seconds_of_each(function, repeats):
    """Wall seconds of each of ``repeats`` calls of ``function()``."""
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        function()
        times.append(time.perf_counter() - start)
    return times


def median_seconds(function, repeats):
    """Median wall seconds of ``repeats`` calls of ``function()``."""
    return statistics.median(seconds_of_each(function, repeats))


def best_seconds(function, repeats):
    """Fewest wall seconds of ``repeats`` calls of ``function()``."""
    return min(seconds_of_each(function, repeats))
