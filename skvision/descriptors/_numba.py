"""The switch of skvision's compiled kernels (numba, the optional ``fast`` extra), and how they compile.

A descriptor with a compiled kernel runs it when :func:`numba_available` says so:
numba importable and not turned off by the environment variable
``SKVISION_NUMBA=0`` (read at every call, so tests and benchmarks can compare the
two routes in one process). This module does not import numba itself; the kernel
modules (``_hog_numba``, ``_lbp_numba``, ``_lpq_numba``) do, and are imported only on first use.
"""

from __future__ import annotations

import functools
import os

__all__ = ["compile_kernel", "numba_available"]


def numba_available():
    """Whether the compiled kernels run: numba importable and not disabled by ``SKVISION_NUMBA=0``."""
    return os.environ.get("SKVISION_NUMBA", "1") != "0" and _numba_importable()


@functools.cache
def _numba_importable():
    try:
        import numba  # noqa: F401
    except ImportError:
        return False
    return True


def compile_kernel(function, numba, inline=False):
    """``numba.njit(cache=True, nogil=True)`` of ``function``, compiled in memory where no cache is writable.

    ``cache=True`` keeps the machine code on disk (next to the module, or in numba's
    user cache where that is read-only), so later processes skip the compile;
    numba raises "cannot cache function" where no cache directory is writable at
    all, and the kernel then compiles in memory instead. ``nogil`` lets threads of
    one process run kernels side by side (``n_jobs``). ``inline=True`` marks a
    small helper that numba pastes into its callers (a call per pixel otherwise
    costs more than the pixel's work). ``numba`` is passed in by the caller (the
    module that imports it), so that tests can patch it there.
    """
    options = {"nogil": True, "inline": "always"} if inline else {"nogil": True}
    try:
        return numba.njit(cache=True, **options)(function)
    except RuntimeError:  # "cannot cache function": no writable cache directory at all
        return numba.njit(**options)(function)
