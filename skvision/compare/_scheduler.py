"""Where the splits of a comparison run: the main process, and worker processes when ``n_jobs > 1``.

The splits of every feature set go into one queue. The main process runs the
first split of each feature set itself (timed on a warm process: that gives
the estimate of the others), then queues the others; with ``n_jobs = k``,
``k - 1`` worker processes take queued splits while the main process goes on
to the next feature set, and once every feature set has started the main
process takes queued splits too. So ``k`` processes stay busy from the first
feature set to the last, instead of one feature set at a time waiting for its
slowest split, and the workers are started once per comparison (joblib's
reusable loky executor: imports and each pipeline's warm-up are paid once per
worker).

Workers are started only when the queued work is worth it: starting one
(spawning, importing skvision and torch, sending the data) costs seconds,
so the queue must hold at least ``start_cost`` seconds of estimated work
first; a comparison of quick feature sets runs in one process. Splits on a GPU
run in the main process only.
"""

from __future__ import annotations

import contextlib
import queue
import sys
import threading
import time
import uuid
import warnings
from dataclasses import dataclass

from joblib import effective_n_jobs

from .. import _workers
from .._warnings import user_stacklevel
from .._workers import check_n_jobs

__all__ = ["SplitScheduler", "SplitTask", "check_n_jobs"]


@dataclass
class SplitTask:
    """One split of one feature set, ready to run anywhere (see ``_workflow._run_split``)."""

    family: str
    index: int
    args: tuple
    kwargs: dict
    estimate: float
    main_only: bool = False


class SplitScheduler:
    """A queue of :class:`SplitTask` shared by the main process and ``n_jobs - 1`` workers.

    Parameters
    ----------
    n_jobs : int or None
        Processes in all, the main one included (joblib's convention: -1 is
        every core); ``None`` or 1 runs everything in the main process.
    worker_function : callable
        Module-level function a worker runs as ``worker_function(*task.args,
        **task.kwargs)``.
    start_cost : float
        Seconds of queued work (by the tasks' estimates) below which no worker
        is started.
    modules : sequence of str or None, default=()
        Modules each worker imports first (those of the pipelines), as soon as
        the workers start. ``None``: those of the last scheduler of this
        process. Every scheduler starts its workers with the same loky
        initializer and arguments, so that loky keeps a pool alive from one
        scheduler to the next (it starts new workers when they change, seconds
        per worker): those of :meth:`spawn_early`, the comparison's, the
        report's.
    rc_params : bool, default=False
        Whether the tasks draw with the caller's matplotlib settings (the
        report's figures); every task runs in the caller's folder, with its
        scikit-learn configuration and Pillow limits, and its warnings are
        raised here (see :func:`skvision._workers.run_as_caller`).

    Examples
    --------
    >>> scheduler = SplitScheduler(None, worker_function=print, start_cost=5.0)
    >>> scheduler.add(SplitTask("pixels", 1, ("split", 1), {}, estimate=0.1))
    >>> scheduler.n_workers, scheduler.take_for_main().index, scheduler.busy()
    (0, 1, False)
    """

    #: The modules of the last scheduler's workers (see ``modules=None``).
    _last_modules = ()
    #: The executor whose workers the last scheduler started (see :meth:`stop_workers`).
    _last_executor = None

    def __init__(self, n_jobs, *, worker_function, start_cost, modules=(), rc_params=False):
        n_jobs = check_n_jobs(n_jobs)
        processes = 1 if n_jobs is None else effective_n_jobs(n_jobs)
        self.n_workers = max(0, processes - 1)
        self.processes = processes
        self.worker_function = worker_function
        self.start_cost = start_cost
        self.modules = SplitScheduler._last_modules if modules is None else tuple(modules)
        self.started = False
        self._executor = None
        self._memmap_context = None
        self._pending = []
        self._in_flight = {}
        self._outcomes = queue.SimpleQueue()
        self._arrived = threading.Event()  # set as each worker task finishes
        self._dropped = set()
        # Re-entrant: a future that is already done runs its callback at once, inside _feed.
        self._lock = threading.RLock()
        self._threads = None
        # Taken here, in the caller's thread (scikit-learn's configuration is per thread; tasks are
        # handed over from the threads that collect results too).
        self._caller = _workers.caller_state(rc_params=rc_params)

    # ------------------------------------------------------------------ queue
    def add(self, task):
        """Queue ``task``; idle workers take it at once (starting them if the queue is worth it)."""
        with self._lock:
            self._pending.append(task)
            self._feed()

    def take_for_main(self):
        """The queued task with the longest estimate (the main process runs it), or None."""
        with self._lock:
            if not self._pending:
                return None
            task = max(self._pending, key=lambda t: t.estimate)
            self._pending.remove(task)
            return task

    def work_left(self):
        """``{family: [seconds, ...]}``: the estimated time of each queued or running split.

        A running split counts what its estimate leaves after the time it has run.
        """
        now = time.perf_counter()
        with self._lock:
            left = {}
            for task in self._pending:
                left.setdefault(task.family, []).append(task.estimate)
            for task, submitted in self._in_flight.values():
                left.setdefault(task.family, []).append(max(0.0, task.estimate - (now - submitted)))
            return {family: seconds for family, seconds in left.items() if family not in self._dropped}

    def running(self):
        """``[(task, seconds it has run), ...]``: the tasks in the workers, longest-running first."""
        now = time.perf_counter()
        with self._lock:
            tasks = [(task, now - submitted) for task, submitted in self._in_flight.values()]
        return sorted(tasks, key=lambda item: -item[1])

    def busy(self):
        """Whether tasks are queued, running in a worker, or finished but not collected."""
        with self._lock:
            return bool(self._pending or self._in_flight or not self._outcomes.empty())

    def outcomes(self, block=False):
        """Finished worker tasks as ``(task, result, error)``; ``block``: wait for one at least."""
        finished = []
        while block and not finished:
            # In short waits: a Ctrl-C reaches the main thread between them.
            with contextlib.suppress(queue.Empty):
                finished.append(self._outcomes.get(timeout=0.2))
        while True:
            try:
                finished.append(self._outcomes.get_nowait())
            except queue.Empty:
                break
        kept = []
        for task, result, error, caught in finished:
            if task.family not in self._dropped:
                try:
                    _workers.warn_as_caller(caught)  # the task's warnings, as if it had run here
                except Exception as exc:  # noqa: BLE001 - filterwarnings("error"): the task failed, as here
                    result, error = None, error or exc
                kept.append((task, result, error))
        return kept

    def wait_for_outcomes(self, timeout):
        """Wait up to ``timeout`` seconds for a worker task to finish; whether one did.

        Takes nothing: :meth:`outcomes` does. A task that finished since the last
        wait returns at once.
        """
        arrived = self._arrived.wait(timeout)
        # Cleared before the caller collects: a task finishing after this sets it again.
        self._arrived.clear()
        return arrived

    def drop(self, family):
        """Forget ``family``: its queued tasks are removed and its running ones' results ignored."""
        with self._lock:
            self._dropped.add(family)
            self._pending = [t for t in self._pending if t.family != family]
            # The splits workers hold run to their end: cancelling a future loky holds makes it
            # fail later, when it sets the future's result.

    # ---------------------------------------------------------------- workers
    def _feed(self):
        """Hand queued tasks to idle workers, longest first (called with the lock held)."""
        if not self.n_workers:
            return
        if not self.started:
            if sum(t.estimate for t in self._pending if not t.main_only) < self.start_cost:
                return
            self._start()
        while len(self._in_flight) < self.n_workers:
            movable = [t for t in self._pending if not t.main_only]
            if not movable:
                return
            task = max(movable, key=lambda t: t.estimate)
            try:
                future = self._executor.submit(
                    _workers.run_as_caller, self._caller, self.worker_function, task.args, task.kwargs
                )
            except Exception as exc:  # noqa: BLE001 - a broken pool (a worker killed, say): go on here
                warnings.warn(
                    f"worker processes unavailable ({type(exc).__name__}: {exc}); the remaining "
                    "splits run in the main process",
                    RuntimeWarning,
                    stacklevel=user_stacklevel(),
                )
                self.n_workers = 0
                return
            self._pending.remove(task)
            self._in_flight[future] = (task, time.perf_counter())
            future.add_done_callback(self._finished)

    def _threads_each(self):
        return _workers.threads_each(self.processes)

    def prestart(self):
        """Spawn the workers now, in the background, without giving them work yet.

        A worker spends its first seconds importing skvision, the pipelines'
        modules and torch; spawned while the main process runs the first
        feature sets, it is ready when the queue first repays it, on a core
        the main process leaves idle meanwhile. Nothing else changes until a
        task is handed over (the main process keeps all its threads).
        """
        if not self.n_workers or self._executor is not None:
            return
        self._executor = _workers.worker_pool(self.n_workers, self._threads_each())
        SplitScheduler._last_modules = self.modules
        SplitScheduler._last_executor = self._executor
        # This scheduler's own folder for the arrays it sends (cleaned by close()); joblib's
        # Parallel does the same per call.
        with contextlib.suppress(Exception):
            context = uuid.uuid4().hex
            self._executor._temp_folder_manager.set_current_context(context)
            self._memmap_context = context
        for _ in range(self.n_workers):  # loky spawns a worker on its first task
            self._executor.submit(_workers.import_modules, self.modules)

    @classmethod
    def stop_workers(cls):
        """Kill the worker processes the schedulers of this process left alive for reuse.

        Workers outlive their scheduler so that the next comparison, or the
        report's figures, start without paying the imports again. A process
        that has nothing left for them (the ``skvision`` command, at its end)
        kills them: the shutdown at exit would otherwise wait for each to
        finish its own exit, seconds with torch loaded.

        Examples
        --------
        >>> SplitScheduler.stop_workers()  # no workers: nothing to do
        >>> SplitScheduler._last_executor is None
        True
        """
        executor, cls._last_executor = cls._last_executor, None
        if executor is not None:
            with contextlib.suppress(Exception):
                executor.terminate(kill_workers=True)
        _workers.stop_workers()  # and those spawned early, if no scheduler took them

    def _start(self):
        self.prestart()
        self.started = True
        self._limit_main_threads(self._threads_each())

    def _limit_main_threads(self, threads):
        """The main process's share of the cores while workers run (restored by :meth:`close`)."""
        from threadpoolctl import threadpool_limits

        self._threads = [threadpool_limits(limits=threads)]
        torch = sys.modules.get("torch")
        if torch is not None:
            previous = torch.get_num_threads()
            torch.set_num_threads(threads)
            self._threads.append(lambda: torch.set_num_threads(previous))

    def _finished(self, future):
        with self._lock:
            entry = self._in_flight.pop(future, None)
            if entry is None:
                return
            task = entry[0]
            error = future.exception()
            result, caught = (None, ()) if error else future.result()
            self._outcomes.put((task, result, error, caught))
            self._arrived.set()
            self._feed()

    def close(self, abort=False):
        """Restore the main process's threads; ``abort``: cancel queued work and stop the workers."""
        if abort and self._executor is not None:
            with self._lock:
                self._pending.clear()
            # An interrupted comparison should not leave workers training splits nobody will read.
            with contextlib.suppress(Exception):
                self._executor.terminate(kill_workers=True)
            self._executor, self.started = None, False
        for restore in reversed(self._threads or []):
            if callable(restore):
                restore()
            else:
                restore.restore_original_limits()
        self._threads = None
        if self._executor is not None and self._memmap_context is not None and not self.busy():
            # The large arrays sent to the workers were dumped to memory-mapped files in this
            # scheduler's folder; the workers stay alive for the next scheduler, so nothing would
            # delete these before the process exits, when loky warns of "leaked file objects".
            # joblib's Parallel cleans its own folder after each call the same way. (A private
            # joblib API: where it changed, the files are left to the exit as before.)
            with contextlib.suppress(Exception):
                manager = self._executor._temp_folder_manager
                manager._clean_temporary_resources(context_id=self._memmap_context, force=False)
                manager.set_current_context(uuid.uuid4().hex)  # a folder for whoever dumps next
            self._memmap_context = None
