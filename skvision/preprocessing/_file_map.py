"""One function over many files, in this process and, where it pays, in worker processes too.

Reading image files is the first wait of a user with a real folder, and where
``n_jobs`` most easily makes things slower: a worker process costs seconds to
start (spawn, imports), every decoded image travels back pickled, and threads
gain nothing (Pillow's Python-level work holds the GIL). Measured on 2 cores,
10,000 64x64 PNGs took 2.0 s in one process and 3.9-6.7 s through
``Parallel(n_jobs=2)``, one task per file. So :func:`map_files`:

* reads the first files in this process and times them (``_PROBE_SECONDS``);
* keeps to one process when the rest is estimated below
  ``_MIN_PARALLEL_SECONDS`` (more when the workers are not started yet);
* else shares the rest in chunks between this process and ``n_jobs - 1``
  workers of :func:`skvision._workers.worker_pool` (the pool the ``skvision``
  command spawns early and its comparison reuses): this process takes chunks
  from the front, the workers from the back, each worker holding at most two;
* when the front meets the back, this process reads the chunks the workers
  still hold itself and keeps whichever copy is ready first. A worker that is
  still starting, or slow, never makes the read wait longer than reading
  those chunks here would;
* a worker writes the arrays of its chunk into one file of a temporary
  folder (in memory, ``/dev/shm``, where it has room) and returns the rest of
  its results with their places in it: loky pickles each returned array twice
  and sends it through a pipe, ~0.3 s per 45 MB against ~0.03 s for the file.

A joblib backend chosen with ``joblib.parallel_config(backend=...)`` (a dask
cluster) gets the chunks through ``Parallel``, as the descriptors do. Inside a
worker (joblib's or skvision's) the files are read in that worker alone.
"""

from __future__ import annotations

import contextlib
import math
import os
import shutil
import tempfile
import time
from typing import NamedTuple

import numpy as np
from joblib import Parallel, delayed, effective_n_jobs
from joblib.parallel import get_active_backend

from .. import _workers
from .._workers import check_n_jobs, results_as_they_come

__all__ = ["map_files"]

#: Seconds of files read in this process before the rest is estimated.
_PROBE_SECONDS = 0.2
#: Estimated seconds of the rest (in one process) below which no worker is used: with the
#: workers running, handing chunks over and unpickling their images costs ~0.1 s; workers not
#: started yet take ~1-3 s each to spawn and import (measured on 2 cores), so they pay only
#: on longer reads. The main process reads meanwhile, so a wrong guess costs little either way.
_MIN_PARALLEL_SECONDS = {"warm": 0.5, "cold": 6.0, "threads": 0.05}
#: A chunk's estimated seconds: enough files that handing it over is cheap, few enough that
#: the chunks the workers hold at the end (read again here if not ready) are short.
_CHUNK_SECONDS = (0.05, 1.0)
#: Chunks per process for the rest: a share small enough that the last ones balance the load.
_CHUNKS_PER_PROCESS = 10
#: Chunks a worker holds at once: the one it reads and the next, so it never waits for this
#: process to notice that it finished.
_HELD_PER_WORKER = 2
#: Free bytes ``/dev/shm`` needs to hold the workers' files (joblib's rule for its memmaps).
_SHARED_MEMORY_MIN_BYTES = 2 * 2**30
#: Offsets of the arrays in a worker's file are multiples of this (aligned views).
_ALIGN = 64


class _Stored(NamedTuple):
    """Where a worker put an array of its results: bytes ``offset`` of its chunk's file."""

    offset: int
    shape: tuple
    dtype: str


def map_files(function, paths, options, *, n_jobs=None, progress=None):
    """``[function(path, options) for path in paths]``, shared with workers where that is faster.

    Parameters
    ----------
    function : callable
        Module-level ``function(path, options)`` (it runs in worker processes
        too); it must not raise for a bad file, but return its reason.
    paths : list of str
    options : object
        Passed to every call (a dict of keyword options, say).
    n_jobs : int or None
        Processes in all, this one included (joblib's convention; ``None``
        follows ``joblib.parallel_config``, else 1).
    progress : tqdm-like or None
        Its ``update(k)`` is called as files are done.

    Returns
    -------
    results : list
        One per path, in order, whichever process computed it.

    Examples
    --------
    >>> map_files(lambda path, options: path.upper(), ["a.png", "b.png"], {}, n_jobs=2)
    ['A.PNG', 'B.PNG']
    """
    n_jobs = check_n_jobs(n_jobs)
    results = []
    started = time.perf_counter()
    first_done = None
    while len(results) < len(paths) and (not results or time.perf_counter() - started < _PROBE_SECONDS):
        results.append(function(paths[len(results)], options))
        _update(progress, 1)
        if first_done is None:
            first_done = time.perf_counter()
    rest = paths[len(results) :]
    if not rest:
        return results
    # The first file pays lazy imports (Pillow's format plug-ins): timed apart when others were read.
    if len(results) > 1:
        per_file = (time.perf_counter() - first_done) / (len(results) - 1)
    else:
        per_file = time.perf_counter() - started
    how, processes = _plan(n_jobs, per_file * len(rest))
    if how == "serial":
        for path in rest:
            results.append(function(path, options))
            _update(progress, 1)
        return results
    chunk = _chunk_length(per_file, len(rest), processes)
    chunks = [rest[start : start + chunk] for start in range(0, len(rest), chunk)]
    if how == "joblib":
        if getattr(_workers.configured_backend(), "uses_threads", False):  # this process: its own state
            done = Parallel(n_jobs=n_jobs, return_as=results_as_they_come())(
                delayed(_map_chunk)(function, part, options) for part in chunks
            )
            done = ((part, ()) for part in done)
        else:
            caller = _workers.caller_state()
            done = Parallel(n_jobs=n_jobs, return_as=results_as_they_come())(
                delayed(_workers.run_as_caller)(caller, _map_chunk, (function, part, options), {})
                for part in chunks
            )
        for part, caught in done:
            _workers.warn_as_caller(caught)
            results.extend(part)
            _update(progress, len(part))
        return results
    return results + _share(function, chunks, options, processes, progress)


def _update(progress, count):
    if progress is not None:
        progress.update(count)


def _map_chunk(function, paths, options):
    """A chunk's results (a worker's task)."""
    return [function(path, options) for path in paths]


def _map_chunk_to_file(function, paths, options, file):
    """A chunk's results with their arrays written to ``file`` (a worker's task; see :func:`_unpack`)."""
    results = _map_chunk(function, paths, options)
    packed, offset = [], 0
    with open(file, "wb") as out:
        for result in results:
            if isinstance(result, tuple) and any(isinstance(item, np.ndarray) for item in result):
                items = []
                for item in result:
                    if isinstance(item, np.ndarray):
                        item = np.ascontiguousarray(item)
                        out.seek(offset)
                        out.write(item.tobytes())
                        items.append(_Stored(offset, item.shape, item.dtype.str))
                        offset += -(-item.nbytes // _ALIGN) * _ALIGN
                    else:
                        items.append(item)
                result = tuple(items)
            packed.append(result)
    return packed


def _unpack(packed, file):
    """The results :func:`_map_chunk_to_file` wrote: arrays as views of the file's bytes, read once."""
    buffer = None
    results = []
    for result in packed:
        if isinstance(result, tuple) and any(isinstance(item, _Stored) for item in result):
            if buffer is None:
                buffer = np.fromfile(file, dtype=np.uint8)
            result = tuple(
                buffer[item.offset : item.offset + math.prod(item.shape) * np.dtype(item.dtype).itemsize]
                .view(item.dtype)
                .reshape(item.shape)
                if isinstance(item, _Stored)
                else item
                for item in result
            )
        results.append(result)
    with contextlib.suppress(OSError):
        os.remove(file)
    return results


def _temporary_folder():
    """A new folder for the workers' files: in memory (``/dev/shm``) where it has room."""
    shared = "/dev/shm"
    with contextlib.suppress(OSError):
        info = os.statvfs(shared)
        if info.f_bavail * info.f_frsize >= _SHARED_MEMORY_MIN_BYTES:
            return tempfile.mkdtemp(prefix="skvision-read-", dir=shared)
    return tempfile.mkdtemp(prefix="skvision-read-")


def _plan(n_jobs, rest_seconds):
    """``(how, processes)``: ``'serial'``, ``'joblib'`` (a configured backend) or ``'share'``."""
    processes = effective_n_jobs(n_jobs)
    if processes <= 1 or _workers.in_worker():
        return "serial", 1
    backend = _workers.configured_backend()
    if backend is not None:
        # A backend the caller chose takes the files once there is more to read than shipping costs
        # (a few files on a dask cluster took longer to send than to read here).
        threads = getattr(backend, "uses_threads", False)
        if rest_seconds < _MIN_PARALLEL_SECONDS["threads" if threads else "warm"]:
            return "serial", 1
        return "joblib", processes
    if (getattr(get_active_backend()[0], "nesting_level", 0) or 0) > 0:
        return "serial", 1  # inside one of joblib's workers: its cores are taken
    state = "warm" if _workers.pool_running(processes - 1, _workers.threads_each(processes)) else "cold"
    if rest_seconds < _MIN_PARALLEL_SECONDS[state]:
        return "serial", 1
    return "share", processes


def _chunk_length(per_file, n_rest, processes):
    low, high = _CHUNK_SECONDS
    seconds = min(high, max(low, per_file * n_rest / (processes * _CHUNKS_PER_PROCESS)))
    return max(1, min(n_rest, math.ceil(seconds / max(per_file, 1e-9))))


def _share(function, chunks, options, processes, progress):
    """Every chunk's results: this process reads from the front, the workers from the back."""
    from threadpoolctl import threadpool_limits

    n_workers = processes - 1
    threads = _workers.threads_each(processes)
    try:
        pool = _workers.worker_pool(n_workers, threads)
    except Exception:  # noqa: BLE001 - no worker processes here (a sandbox, a broken pool): read here
        pool = None
    folder = _temporary_folder()
    caller = _workers.caller_state()
    done = [None] * len(chunks)
    held = {}  # chunk index -> future
    front, back = 0, len(chunks)

    def file_of(index):
        return os.path.join(folder, f"chunk-{index}.bin")

    def collect():
        for index, future in list(held.items()):
            if not future.done():
                continue
            del held[index]
            if done[index] is None and not future.cancelled() and future.exception() is None:
                packed, caught = future.result()
                with contextlib.suppress(OSError):  # the file gone: the chunk is read here
                    done[index] = _unpack(packed, file_of(index))
                    _update(progress, len(done[index]))
                    _workers.warn_as_caller(caught)  # as if read here (not those of a chunk read again)

    def hand_over():
        nonlocal back, pool
        while pool is not None and len(held) < n_workers * _HELD_PER_WORKER and back > front:
            back -= 1
            try:
                held[back] = pool.submit(
                    # As this process would read it: in its folder (a relative path named another file
                    # after a notebook's %cd), with its Pillow limits; warnings come back.
                    _workers.run_as_caller,
                    caller,
                    _map_chunk_to_file,
                    (function, chunks[back], options, file_of(back)),
                    {},
                )
            except Exception:  # noqa: BLE001 - the pool broke: this process reads the rest
                back += 1
                pool = None

    def read_here(index):
        done[index] = _map_chunk(function, chunks[index], options)
        _update(progress, len(done[index]))

    try:
        # This process's BLAS share while the workers run (restored after), as the comparison does.
        with threadpool_limits(limits=threads):
            hand_over()
            while front < back:
                read_here(front)
                front += 1
                collect()
                hand_over()
            # The front met the back: what the workers still hold is read here too, latest
            # handed over first (the least advanced); the first copy ready is kept.
            for index in sorted(held):
                collect()
                if done[index] is None:
                    held[index].cancel()
                    read_here(index)
    finally:
        for future in held.values():
            future.cancel()
            # A worker still reading writes its file after the folder is gone, or just before:
            # the folder goes again when its task ends.
            future.add_done_callback(lambda _: shutil.rmtree(folder, ignore_errors=True))
        shutil.rmtree(folder, ignore_errors=True)
    return [result for part in done for result in part]
