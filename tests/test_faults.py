"""Faults: dead workers give a clear error (never a hang); no unsafe torch.load on user files."""

from __future__ import annotations

import ast
import os
import pathlib

import numpy as np
import pytest

import skvision
from skvision import LBP

SKVISION_ROOT = pathlib.Path(skvision.__file__).parent


def _worker_killing_descriptor():
    # Defined inside a function so that cloudpickle ships the class by value to the workers.
    class KillsItsWorker(LBP):
        """An LBP whose chunks kill the worker process they run in (never the parent).

        With ``once_marker_`` set to a file path, only the first chunk to get
        there kills its worker (the OS killing one worker); otherwise every
        attempt does (a task that crashes whatever runs it).
        """

        def _describe(self, images):
            if os.getpid() != self.parent_pid_:
                marker = getattr(self, "once_marker_", None)
                if marker is None:
                    os._exit(1)
                try:
                    os.close(os.open(marker, os.O_CREAT | os.O_EXCL))  # atomic: the first worker only
                    os._exit(1)
                except FileExistsError:
                    pass
            return super()._describe(images)

    return KillsItsWorker


def _killing_descriptor(X, **attributes):
    descriptor = _worker_killing_descriptor()(batch_size=10, n_jobs=2).fit(X)
    descriptor.parent_pid_ = os.getpid()
    for name, value in attributes.items():
        setattr(descriptor, name, value)
    return descriptor


def test_killed_loky_worker_raises_a_clear_error(backends_take_any_work):
    from joblib import parallel_config
    from joblib.externals.loky.process_executor import TerminatedWorkerError

    X = np.random.default_rng(0).integers(0, 256, (40, 16, 16), dtype=np.uint8)
    descriptor = _killing_descriptor(X)
    # Worker processes: n_jobs alone runs threads (or, for this little work, one thread).
    with (
        pytest.raises(TerminatedWorkerError, match="unexpectedly terminated"),
        parallel_config(backend="loky"),
    ):
        descriptor.transform(X)
    # The estimator is still usable in-process afterwards.
    assert descriptor.set_params(n_jobs=1).transform(X).shape == (40, 10)


@pytest.fixture
def dask_cluster():
    distributed = pytest.importorskip("distributed")
    from dask import config

    # After one lost worker the scheduler gives up on a task instead of retrying it
    # (the default, 3, retries on other workers; tests below show both).
    with config.set({"distributed.scheduler.allowed-failures": 1}):
        cluster = distributed.LocalCluster(
            n_workers=2, threads_per_worker=1, processes=True, host="127.0.0.1", dashboard_address=None
        )
        with cluster, distributed.Client(cluster) as client:
            yield client


@pytest.mark.timeout(180)  # a hang fails the test instead of stalling the run
def test_lost_dask_worker_under_joblib_is_an_error_or_a_retry(dask_cluster, tmp_path, backends_take_any_work):
    from distributed import KilledWorker
    from distributed.client import FutureCancelledError
    from joblib import parallel_config

    X = np.random.default_rng(0).integers(0, 256, (40, 16, 16), dtype=np.uint8)
    expected = LBP(batch_size=10).fit(X).transform(X)
    descriptor = _killing_descriptor(X, once_marker_=str(tmp_path / "killed-once"))
    try:
        with parallel_config(backend="dask"):
            result = descriptor.transform(X)
    except (FutureCancelledError, KilledWorker) as error:
        # joblib scatters the chunks; one that lived on the lost worker is gone with it.
        assert "cancelled" in str(error) or "died" in str(error)
    else:
        np.testing.assert_array_equal(result, expected)  # retried on the surviving worker
    assert (tmp_path / "killed-once").exists(), "no worker was killed: the test tested nothing"
    # The client survives: the next computation on the cluster works.
    with parallel_config(backend="dask"):
        np.testing.assert_array_equal(LBP(batch_size=10, n_jobs=2).fit(X).transform(X), expected)


@pytest.mark.timeout(180)
def test_dask_worker_lost_for_good_raises_killed_worker(dask_cluster):
    # A task that kills every worker it runs on: transform_dask (dask's own scheduling)
    # raises KilledWorker once allowed-failures is spent. Under joblib's dask backend the
    # same situation hangs in joblib 1.6 (its result collector drops errored futures
    # without waking Parallel), so retrying is the only safe outcome there.
    import dask.array as da
    from distributed import KilledWorker

    from skvision.distributed import transform_dask

    X = np.random.default_rng(0).integers(0, 256, (20, 16, 16), dtype=np.uint8)
    descriptor = _killing_descriptor(X)
    lazy = transform_dask(descriptor, da.from_array(X, chunks=(10, 16, 16)))
    with pytest.raises(KilledWorker, match="workers died"):
        lazy.compute(timeout=120)


# torch.load calls allowed without weights_only=True, each with the reason it is safe.
UNPICKLING_ALLOWED = {
    "neural/_pretrained.py": "restores the module from bytes inside skvision's own pickle; "
    "unpickling an estimator already trusts that pickle",
}


def _torch_load_calls():
    for path in SKVISION_ROOT.rglob("*.py"):
        tree = ast.parse(path.read_text(), filename=str(path))
        for node in ast.walk(tree):
            if (
                isinstance(node, ast.Call)
                and isinstance(node.func, ast.Attribute)
                and node.func.attr == "load"
                and isinstance(node.func.value, ast.Name)
                and node.func.value.id == "torch"
            ):
                yield path.relative_to(SKVISION_ROOT).as_posix(), node


def test_every_torch_load_uses_weights_only():
    calls = list(_torch_load_calls())
    assert calls, "expected skvision to load weights somewhere (backbones.py)"
    unsafe = []
    for relpath, node in calls:
        keywords = {kw.arg: kw.value for kw in node.keywords}
        safe = (
            isinstance(keywords.get("weights_only"), ast.Constant) and keywords["weights_only"].value is True
        )
        if not safe and relpath not in UNPICKLING_ALLOWED:
            unsafe.append(f"{relpath}:{node.lineno}")
    assert not unsafe, f"torch.load without weights_only=True on a path a user may point at: {unsafe}"
