"""The worker processes of ``compare``: one loky pool per process, which the command can start early.

Every :class:`~skvision.compare._scheduler.SplitScheduler` of a process (the
comparison's, the report's) and the file reader
(:mod:`skvision.preprocessing._file_map`) take their workers from
:func:`worker_pool`. loky
keeps a pool alive from one call to the next only while the arguments stay the
same, so the initializer takes none: what a worker imports comes as its first
task instead. This module imports nothing heavy (joblib, on first use), so that
the ``skvision`` command can spawn the workers before it imports scikit-learn
and reads the images (:func:`spawn_early`).
"""

from __future__ import annotations

import contextlib
import os
import pickle
import sys
import warnings
from numbers import Integral

__all__ = [
    "check_n_jobs",
    "configured_backend",
    "import_modules",
    "in_worker",
    "pool_running",
    "caller_state",
    "run_as_caller",
    "warn_as_caller",
    "spawn_early",
    "stop_workers",
    "threads_each",
    "worker_pool",
]

#: The executor whose workers this process started last (see :func:`stop_workers`).
_pool = None
#: Set in the workers (by :func:`start_worker`): work they run shares no further.
_in_worker = False


def check_n_jobs(n_jobs):
    """``n_jobs`` as joblib takes it (None, or a nonzero int), or a clear error.

    Examples
    --------
    >>> check_n_jobs(-1), check_n_jobs(None)
    (-1, None)
    """
    if n_jobs is None:
        return None
    if not isinstance(n_jobs, Integral) or isinstance(n_jobs, bool):
        raise TypeError(f"n_jobs must be None or an int (-1: every core); got {n_jobs!r}.")
    if n_jobs == 0:
        raise ValueError("n_jobs must be None, a positive int or a negative one (-1: every core); got 0.")
    return int(n_jobs)


def start_worker():
    """A worker's start (loky's initializer): the same for every pool, without arguments."""
    global _in_worker
    _in_worker = True
    # loky restarts a worker whose memory grew by 300 MB since its first task, taken for a leak: a
    # network trained in a split and torch's allocator caches grow that much, and a restart costs
    # the imports and every pipeline's warm-up again. (A private setting: left as it is if renamed.)
    with contextlib.suppress(ImportError, AttributeError):
        from joblib.externals.loky import process_executor

        process_executor._MAX_MEMORY_LEAK_SIZE = max(process_executor._MAX_MEMORY_LEAK_SIZE, 2**31)


def import_modules(names):
    """A worker's first task: import ``names`` (ones that cannot be imported are left to the tasks)."""
    import importlib

    for name in names:
        with contextlib.suppress(ImportError):
            importlib.import_module(name)


def family_modules(features):
    """The modules a comparison of ``features`` (``--features`` text; None: every family) runs in a worker.

    Examples
    --------
    >>> family_modules("hog,hog+cnn")
    ['skvision.compare._workflow', 'skvision.descriptors', 'skvision.neural']
    """
    from .compare import FEATURE_FAMILIES

    names = (features or ",".join(FEATURE_FAMILIES)).split(",")
    parts = {part.strip() for name in names for part in name.split("+")}
    estimators = {
        FEATURE_FAMILIES[part].estimator.split(":")[0] for part in parts if part in FEATURE_FAMILIES
    }
    return ["skvision.compare._workflow", *sorted(estimators)]


def import_family_modules(features):
    """A worker's first task when spawned early: :func:`family_modules` of ``features``."""
    import_modules(family_modules(features))


def processes(n_jobs):
    """Processes in all for ``n_jobs`` (joblib's convention; None: one)."""
    from joblib import effective_n_jobs

    return 1 if n_jobs is None else effective_n_jobs(n_jobs)


def threads_each(processes):
    """Threads per process for its BLAS/OpenMP/torch pools when ``processes`` share the cores.

    One rule for every user of :func:`worker_pool`: loky keeps a pool only while
    its arguments (these threads among them) stay the same.

    Examples
    --------
    >>> threads_each(1) >= threads_each(2) >= 1
    True
    """
    from joblib import cpu_count

    return max(1, cpu_count() // processes)


def configured_backend():
    """The joblib backend a caller chose with ``joblib.parallel_config(backend=...)``, else None.

    joblib builds its default backend afresh at every call, and returns a configured one
    as is. The backends joblib itself sets for calls nested in its workers
    (``nesting_level > 0``) are not a caller's choice and count as none.

    Examples
    --------
    >>> from joblib import parallel_config
    >>> configured_backend() is None
    True
    >>> with parallel_config(backend="threading"):
    ...     type(configured_backend()).__name__
    'ThreadingBackend'
    """
    from joblib.parallel import get_active_backend

    backend, _ = get_active_backend()
    if get_active_backend()[0] is not backend or (getattr(backend, "nesting_level", 0) or 0) > 0:
        return None
    return backend


def results_as_they_come():
    """``Parallel``'s ``return_as``: ``"generator"`` where the active backend supports it, else ``"list"``.

    A generator lets a caller update its progress as chunks finish; joblib's
    ``multiprocessing`` backend (``parallel_config(backend="multiprocessing")``)
    has none and raised "does not support return_as=generator".

    Examples
    --------
    >>> from joblib import parallel_config
    >>> results_as_they_come()
    'generator'
    >>> with parallel_config(backend="multiprocessing"):
    ...     results_as_they_come()
    'list'
    """
    from joblib.parallel import get_active_backend

    backend, _ = get_active_backend()
    return "generator" if getattr(backend, "supports_return_generator", False) else "list"


def worker_pool(n_workers, threads):
    """The process's pool of ``n_workers`` loky workers of ``threads`` threads each (spawned as needed).

    Each process gets its share of the cores for its own thread pools (BLAS,
    OpenMP, torch, numba), as joblib's loky backend does: k processes of all the
    cores each would fight.
    """
    global _pool
    from joblib.executor import get_memmapping_executor

    _pool = get_memmapping_executor(n_workers, env=_thread_env(threads), initializer=start_worker)
    return _pool


def caller_state(rc_params=False):
    """What a worker task takes from the caller's process, which the workers outlive (:func:`run_as_caller`).

    The working folder (a relative path named another file after a notebook's
    ``%cd``), scikit-learn's configuration (``set_config``), Pillow's limits
    (``Image.MAX_IMAGE_PIXELS``, ``ImageFile.LOAD_TRUNCATED_IMAGES``: with
    them set, worker chunks dropped or kept other files than this process did)
    and, with ``rc_params``, matplotlib's settings the caller changed (a
    report's figures drawn in workers took the default style).

    Examples
    --------
    >>> import os
    >>> caller_state()["folder"] == os.getcwd()
    True
    """
    state = {}
    with contextlib.suppress(OSError):  # a folder deleted under the process: the workers stay where they are
        state["folder"] = os.getcwd()
    sklearn = sys.modules.get("sklearn")
    if sklearn is not None:
        state["sklearn"] = sklearn.get_config()
    image, image_file = sys.modules.get("PIL.Image"), sys.modules.get("PIL.ImageFile")
    if image is not None:
        state["pil"] = {"MAX_IMAGE_PIXELS": image.MAX_IMAGE_PIXELS}
        if image_file is not None:
            state["pil"]["LOAD_TRUNCATED_IMAGES"] = image_file.LOAD_TRUNCATED_IMAGES
    matplotlib = sys.modules.get("matplotlib")
    if rc_params and matplotlib is not None:
        defaults = matplotlib.rcParamsDefault
        state["rc"] = {
            key: value
            for key, value in matplotlib.rcParams.items()
            if key != "backend" and key in defaults and value != defaults[key]
        }
    return state


@contextlib.contextmanager
def _pil_settings(settings):
    from PIL import Image, ImageFile

    modules = {"MAX_IMAGE_PIXELS": Image, "LOAD_TRUNCATED_IMAGES": ImageFile}
    previous = {name: getattr(modules[name], name) for name in settings}
    for name, value in settings.items():
        setattr(modules[name], name, value)
    try:
        yield
    finally:
        for name, value in previous.items():
            setattr(modules[name], name, value)


@contextlib.contextmanager
def _in_folder(folder):
    try:
        previous = os.getcwd()
    except OSError:  # the worker's own folder deleted since it started: it stays in the caller's
        previous = None
    try:
        os.chdir(folder)
    except OSError:  # not here (a worker on another machine): where it is
        yield
        return
    try:
        yield
    finally:
        if previous is not None:
            with contextlib.suppress(OSError):
                os.chdir(previous)


def _portable(caught):
    """``(message, category, filename, lineno, module)`` of a recorded warning, fit to travel back.

    The warning itself where it pickles; else its text as a UserWarning (a class
    defined inside a function, arguments a pickle cannot rebuild).
    """
    message, category = caught.message, caught.category
    try:
        pickle.loads(pickle.dumps(message))
    except Exception:  # noqa: BLE001 - any failure to travel: the text still comes back
        message, category = f"{category.__name__}: {message}", UserWarning
    return message, category, caught.filename, caught.lineno, _module_of(caught.filename)


def _module_of(filename):
    """The name of the imported module whose file is ``filename``, or None.

    ``warnings.filterwarnings(module="sklearn")`` matches a module's name, which a
    recorded warning lacks (Python derives it from the frame that warned).
    """
    target = os.path.abspath(filename)
    for name, module in list(sys.modules.items()):
        path = getattr(module, "__file__", None)
        if path and os.path.abspath(path) == target:
            return name
    return None


def run_as_caller(state, function, args, kwargs):
    """``(function(*args, **kwargs), warnings)`` run in the caller's ``state`` (a worker's task).

    ``state`` is what :func:`caller_state` took in the caller; the worker's own
    comes back after the task. The warnings the task raised are recorded, not
    printed (they went to the worker's stderr, past the caller's filters and
    ``catch_warnings``), for :func:`warn_as_caller` to raise in the caller: each
    warning once per place and text, as the default filter shows them.

    Examples
    --------
    >>> import os, tempfile, warnings
    >>> def where():
    ...     warnings.warn("here", UserWarning)
    ...     return os.getcwd()
    >>> state = dict(caller_state(), folder=tempfile.gettempdir())
    >>> folder, caught = run_as_caller(state, where, (), {})
    >>> folder == os.path.realpath(tempfile.gettempdir()), [str(message) for message, *_ in caught]
    (True, ['here'])
    """
    with contextlib.ExitStack() as stack:
        if "folder" in state:
            stack.enter_context(_in_folder(state["folder"]))
        if "sklearn" in state:
            import sklearn

            stack.enter_context(sklearn.config_context(**state["sklearn"]))
        if state.get("pil"):
            stack.enter_context(_pil_settings(state["pil"]))
        if state.get("rc"):
            import matplotlib

            stack.enter_context(matplotlib.rc_context(state["rc"]))
        caught = stack.enter_context(warnings.catch_warnings(record=True))
        warnings.simplefilter("always")  # every one: the caller's filters decide
        result = function(*args, **kwargs)
    # One record per warning and place (a warning per image of a chunk came back thousands of times):
    # what the default filter shows; a filter of "always" in the caller sees each once.
    unique = {(w.category, str(w.message), w.filename, w.lineno): w for w in caught}
    return result, [_portable(w) for w in unique.values()]


#: ``warn_as_caller``'s registries, one per source file: "default" shows a warning once per place.
_WARNED = {}


def warn_as_caller(records):
    """Raise in this process the warnings a worker's task recorded (:func:`run_as_caller`).

    They meet this process's filters and ``catch_warnings`` as those of a task run
    here do (a warning shown once per place under the default filter).
    """
    from ._warnings import is_skvision_file, user_stacklevel

    for message, category, filename, lineno, module in records:
        if is_skvision_file(filename):
            # skvision's own warning: it names the caller's line, as when the task runs here.
            warnings.warn(message, category, stacklevel=user_stacklevel())
            continue
        # (module=None given explicitly, CPython's warn_explicit shows nothing.)
        where = {"module": module} if module is not None else {}
        warnings.warn_explicit(
            message, category, filename, lineno, registry=_WARNED.setdefault(filename, {}), **where
        )


def in_worker():
    """Whether this process is one of :func:`worker_pool`'s workers.

    Examples
    --------
    >>> in_worker()
    False
    """
    return _in_worker


def pool_running(n_workers, threads):
    """Whether :func:`worker_pool` ``(n_workers, threads)`` would hand back workers already running.

    loky replaces its pool when the arguments change and lets idle workers exit
    after 300 s; a pool that is neither spawns its workers again (seconds each).
    Read from loky's private state: False when it cannot be read.

    Examples
    --------
    >>> pool_running(1, 1)  # nothing started in this process yet
    False
    """
    try:
        from joblib.externals.loky import reusable_executor

        pool = reusable_executor._executor
        return (
            pool is not None
            and pool is _pool
            and not pool._flags.broken
            and not pool._flags.shutdown
            and pool._max_workers == n_workers
            and pool._env == _thread_env(threads)
            and len(pool._processes) >= n_workers
        )
    except Exception:  # noqa: BLE001 - loky's private names changed: taken as not running
        return False


def _thread_env(threads):
    """The workers' environment: ``threads`` threads for each of their thread pools."""
    return {
        name: str(threads)
        for name in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "NUMBA_NUM_THREADS")
    }


def spawn_early(n_jobs, features=None):
    """Spawn the workers of a comparison of ``features`` on ``n_jobs`` processes now; they import its modules.

    The ``skvision`` command spends its first seconds in one process (its
    imports, reading the images, building the pipelines) while the other cores
    idle; workers spawned first import scikit-learn, skvision and torch there,
    and the comparison's scheduler finds them ready (the same loky pool). With
    one process nothing happens.

    Examples
    --------
    >>> spawn_early(None)  # one process: nothing to start
    """
    total = processes(n_jobs)
    if total <= 1:
        return
    pool = worker_pool(total - 1, threads=threads_each(total))
    for _ in range(total - 1):  # loky spawns a worker on its first task
        pool.submit(import_family_modules, features)


def stop_workers():
    """Kill the workers of the pool this process started last, if any (they are idle or unwanted)."""
    global _pool
    pool, _pool = _pool, None
    if pool is not None:
        with contextlib.suppress(Exception):
            pool.terminate(kill_workers=True)
