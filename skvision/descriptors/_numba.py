"""The switch of skvision's compiled kernels (numba, the optional ``fast`` extra), and how they compile.

A descriptor with a compiled kernel runs it when :func:`numba_available` says so:
numba importable and not turned off by the environment variable
``SKVISION_NUMBA=0`` (read at every call, so tests and benchmarks can compare the
two routes in one process). This module does not import numba itself; the kernel
modules (``_hog_numba``, ``_lbp_numba``, ``_lpq_numba``) do, and are imported only on first use.
"""

from __future__ import annotations

import contextlib
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
        kernel = numba.njit(cache=True, **options)(function)
    except RuntimeError:  # "cannot cache function": no writable cache directory at all
        return numba.njit(**options)(function)
    _name_kernel(kernel, function)
    _name_cache_files_by_key(kernel)
    _key_cache_by_name(kernel, function)
    return kernel


def _key_cache_by_name(kernel, function):
    """Key ``kernel``'s cache entries by its bytecode and its name instead of its cells pickled.

    numba keys a closure's entries by a hash of its cells pickled, and the
    pickle of the kernels they hold (their functions by value) is not the same
    bytes in every process: it differed between a process that compiled the
    modules from source and one that read them from ``.pyc`` files, so the next
    process missed the cache. The name given by :func:`_name_kernel` holds what
    the cells decide (which variant), and numba's check of the source file's
    time stamp still drops every entry when the module changes.
    """
    uuid = getattr(kernel, "_skvision_uuid", None)
    if uuid is None or function.__closure__ is None:
        return
    import hashlib

    code_hash = hashlib.sha256(function.__code__.co_code).hexdigest()
    name_hash = hashlib.sha256(uuid.encode()).hexdigest()

    def index_key(sig, codegen):
        return (sig, codegen.magic_tuple(), (code_hash, name_hash))

    with contextlib.suppress(Exception):
        kernel._cache._index_key = index_key


@functools.cache
def _key_named_cache_file_class():
    """numba's cache file class, saving each compiled signature in a file named by its key."""
    import hashlib

    from numba.core.caching import IndexDataCacheFile

    class KeyNamedCacheFile(IndexDataCacheFile):
        """Data files named by a hash of the entry's key instead of numba's next free number.

        numba picks a data file for a new entry as the first number its index
        does not hold yet. Two processes compiling two new signatures of one
        kernel at once (two pytest-xdist workers, compare's workers) both read
        the same index and pick the same number: one index entry then points
        at the other signature's machine code, and every later process that
        loads it computes with the wrong kernel. Named by the key, a file only
        ever holds that key's code; a race can only drop an index entry (the
        next process compiles that signature again).
        """

        def save(self, key, data):
            digest = hashlib.sha256(repr(key).encode()).hexdigest()[:24]
            data_name = self._data_name_pattern.replace("{number:d}", digest)
            self._save_data(data_name, data)  # first: an index entry never points at no file
            overloads = self._load_index()
            if overloads.get(key) != data_name:
                overloads[key] = data_name
                self._save_index(overloads)

    return KeyNamedCacheFile


def _name_cache_files_by_key(kernel):
    """Make ``kernel``'s on-disk cache name its data files by key (numba's private API; else as is)."""
    with contextlib.suppress(Exception):
        from numba.core.caching import IndexDataCacheFile

        cache_file = kernel._cache._cache_file
        if type(cache_file) is IndexDataCacheFile and "{number:d}" in cache_file._data_name_pattern:
            cache_file.__class__ = _key_named_cache_file_class()


def _closure_key(function):
    """What a closure kernel's cells hold, the same in every process; None if a cell cannot say."""
    parts = []
    for cell in function.__closure__ or ():
        value = cell.cell_contents
        if value is None or isinstance(value, (bool, int, float, str)):
            parts.append(repr(value))
        elif getattr(value, "_skvision_uuid", None) is not None:  # a kernel named here
            parts.append(value._skvision_uuid)
        else:
            return None
    return ",".join(parts)


def _name_kernel(kernel, function):
    """Give a kernel a uuid that is the same in every process.

    numba's on-disk cache keys a closure (a kernel made by a factory, like
    HOG's gray and colour variants) by its cells pickled; a cell holding
    another kernel pickles that kernel, its uuid and the kernels its code
    calls, each uuid drawn at random in each process by numba. Every process
    then missed the cache, compiled the kernel again (HOG's: 3-5 s) and added
    one more file to the cache (25 after 25 runs). Named here from the
    module, qualified name and cells, the key is the same in every process and
    the cache is hit. (``_set_uuid`` is numba's private API; where it is
    missing a kernel keeps numba's random uuid, as before.)
    """
    key = _closure_key(function)
    if key is None:
        return
    uuid = f"skvision:{function.__module__}.{function.__qualname__}({key})"
    with contextlib.suppress(AttributeError, AssertionError):
        kernel._set_uuid(uuid)
        kernel._skvision_uuid = uuid
