import os
import sys

import pytest

# Tests never reach a network: make every hub client fail fast instead of hanging.
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TIMM_OFFLINE", "1")
# Two cores on CI, two xdist workers: one BLAS/torch thread each avoids oversubscription.
os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("MKL_NUM_THREADS", "1")
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")


@pytest.fixture(autouse=True)
def one_torch_thread():
    """One torch thread per test where torch is loaded: two xdist workers share two cores,
    and CPU kernels stay on one code path within a test. Tests that never import torch
    leave it unloaded (importing skvision's descriptors must not load it)."""
    torch = sys.modules.get("torch")
    if torch is None:
        yield
        return
    previous = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(previous)


@pytest.fixture(autouse=True)
def no_recent_ctrl_c():
    """Each test starts as if no fit had been interrupted: a second Ctrl-C within a minute of the first
    propagates (skvision.neural._estimator), and tests that interrupt fits must not see each other's."""
    estimator = sys.modules.get("skvision.neural._estimator")
    if estimator is not None:
        estimator._last_interrupt[0] = None
    yield


@pytest.fixture
def backends_take_any_work(monkeypatch):
    """A configured joblib backend takes the chunks of any workload, however small, one task each.

    Descriptors keep work under ``_MIN_PARALLEL_SECONDS`` in their own process even
    under ``parallel_config(backend=...)``, and put small chunks together in one task
    (``_MIN_TASK_SECONDS``): shipping them costs more. Tests of what a backend
    receives use small data and need every chunk shipped.
    """
    from skvision.descriptors import _base

    monkeypatch.setattr(_base, "_MIN_PARALLEL_SECONDS", {"threads": 0.0, "processes": 0.0})
    monkeypatch.setattr(_base, "_MIN_TASK_SECONDS", {"threads": 0.0, "processes": 0.0})


@pytest.fixture(scope="module")
def dask_client():
    """A dask.distributed client of two worker processes on loopback only, closed with the module."""
    distributed = pytest.importorskip("distributed")
    cluster = distributed.LocalCluster(
        n_workers=2, threads_per_worker=1, processes=True, host="127.0.0.1", dashboard_address=None
    )
    client = distributed.Client(cluster)
    yield client
    client.close()
    cluster.close()


def _one_line_repr(excinfo):
    return excinfo.exconly()


def pytest_collection_modifyitems(config, items):
    """Expected failures get a one-line report instead of pytest's traceback.

    Most are the sklearn estimator checks that cannot apply to images (each listed with its reason).
    pytest formats every failure's traceback, even an expected one, and for a check it re-parses
    sklearn's long ``estimator_checks.py`` once per frame: about 0.6 s per xfail, some 400 s of CPU
    over the suite's 629, where the checks themselves take a few. The line keeps the error and its
    message (``pytest -rx`` shows it); a test that passes against expectation is reported as usual.
    """
    for item in items:
        if item.get_closest_marker("xfail") is not None:
            item.repr_failure = _one_line_repr
