"""Determinism: descriptors whatever n_jobs, batch_size and joblib backend; seeded neural estimators.

* Every handcrafted descriptor of ``tests/_estimators.py`` gives bit-identical
  features for ``n_jobs`` in (1, 2), ``batch_size`` in (1, 5, None) and the joblib
  backends 'loky', 'threading' and 'dask' (a two-process ``LocalCluster`` on
  loopback, started once for the module). Chunks are described independently and
  written into their rows, so nothing (no reduction across chunks) may depend on
  how the batch was cut or where a chunk ran.
* Every neural estimator fitted twice with the same integer ``random_state``
  gives bit-identical outputs on the CPU, whatever torch's global random state is
  in between; a different ``random_state`` gives different outputs (so these
  tests can fail). Identity holds for one process and one thread setting: torch
  promises bit-for-bit CPU results only for the same build, machine and thread
  count, and none across GPUs (see docs/scaling.md for the GPU side).
"""

import copy
import itertools

import numpy as np
import pytest
import torch
from joblib import parallel_config
from sklearn.base import clone

from skvision import descriptors
from skvision.descriptors import BaseDescriptor
from tests._estimators import ESTIMATORS, good_X, good_y

DESCRIPTORS = [
    (name, estimator, kind)
    for name, estimator, kind in ESTIMATORS
    if kind in ("unsupervised", "colour") and isinstance(estimator, BaseDescriptor)
]
NEURAL = [entry for entry in ESTIMATORS if type(entry[1]).__module__.startswith("skvision.neural")]

# The scheduler's HTTP endpoint (loopback only) moves to a free port when another
# cluster holds 8787, and says so; that is not what these tests are about.
pytestmark = pytest.mark.filterwarnings("ignore:Port .* is already in use:UserWarning")

BACKENDS = ["loky", "threading", "dask"]
N_JOBS = [1, 2]
BATCH_SIZES = [1, 5, None]
# With the table's 8 filters of 7x7, FastICA does not converge on its noise images and
# runs all its 1000 iterations (seconds per fit); 4 filters of 5x5 converge in a few.
QUICKER = {"BSIF": dict(n_filters=4, filter_size=5, n_patches=1000)}


def _seeded(name, estimator, seed):
    """A clone, with ``random_state=seed`` where the estimator has one (BSIF, BoVW learn with it)."""
    estimator = clone(estimator).set_params(**QUICKER.get(name, {}))
    if "random_state" in estimator.get_params():
        estimator.set_params(random_state=seed)
    return estimator


def _inputs(kind):
    """The table's uint8 batch and a float version of it. Float pixels make sums round,
    so that any dependence on the order of summation shows in the last bits (integer
    sums of uint8 pixels are often exact and hide it)."""
    X = good_X(kind)
    return {"uint8": X, "float": X / 255.0}


@pytest.fixture(scope="module")
def fitted_descriptors():
    """Each descriptor fitted once per input, sequentially, with its reference features."""
    fitted = {}
    for name, estimator, kind in DESCRIPTORS:
        for dtype, X in _inputs(kind).items():
            descriptor = _seeded(name, estimator, 0).set_params(n_jobs=1, batch_size=None).fit(X)
            fitted[name, dtype] = (descriptor, X, descriptor.transform(X))
    return fitted


# ================================================================================= descriptors
@pytest.mark.parametrize("name", [name for name, _, _ in DESCRIPTORS])
def test_descriptor_output_does_not_depend_on_the_batch_size(name, fitted_descriptors):
    for dtype, batch_size in itertools.product(["uint8", "float"], BATCH_SIZES):
        descriptor, X, expected = fitted_descriptors[name, dtype]
        got = copy.deepcopy(descriptor).set_params(n_jobs=1, batch_size=batch_size).transform(X)
        assert got.dtype == expected.dtype and got.shape == expected.shape
        assert np.array_equal(got, expected, equal_nan=True), (
            f"{name} on {dtype} images: batch_size={batch_size} changed "
            f"{np.count_nonzero(got != expected)} of {got.size} features"
        )


@pytest.mark.parametrize("backend", BACKENDS)
def test_descriptor_output_does_not_depend_on_n_jobs_or_the_backend(
    backend, fitted_descriptors, request, backends_take_any_work
):
    # One test per backend, looping over the descriptors: under pytest-xdist only one
    # worker then starts the dask cluster (or a loky pool) instead of both.
    dtypes = ["uint8", "float"]
    if backend == "dask":
        distributed = pytest.importorskip("distributed")
        client = request.getfixturevalue("dask_client")
        # The chunks are cut as under loky; only where they run changes. uint8 suffices
        # there (the float images, for summation order, go through loky and threading).
        dtypes = ["uint8"]
    changed = []
    for (name, dtype), (descriptor, X, expected) in fitted_descriptors.items():
        if dtype not in dtypes:
            continue
        for n_jobs, batch_size in itertools.product(N_JOBS[1:], BATCH_SIZES):
            descriptor = copy.deepcopy(descriptor).set_params(n_jobs=n_jobs, batch_size=batch_size)
            if backend == "dask":
                with distributed.get_task_stream(client) as stream, parallel_config(backend="dask"):
                    got = descriptor.transform(X)
                # The chunks really ran as tasks on the cluster (12 images: at least 2 chunks).
                assert len(stream.data) >= 2, (name, dtype, batch_size)
            else:
                with parallel_config(backend=backend):
                    got = descriptor.transform(X)
            assert got.dtype == expected.dtype and got.shape == expected.shape
            if not np.array_equal(got, expected, equal_nan=True):
                changed.append(
                    f"{name} on {dtype} images, n_jobs={n_jobs}, batch_size={batch_size}: "
                    f"{np.count_nonzero(got != expected)} of {got.size} features"
                )
    # The one descriptor whose fit runs in parallel (keypoints detected per chunk of images):
    # the codebook must not depend on it either.
    reference, X, _ = fitted_descriptors["BagOfVisualWords", "uint8"]
    with parallel_config(backend=backend):
        refitted = clone(reference).set_params(n_jobs=2).fit(X)
    if not np.array_equal(refitted.codebook_, reference.codebook_):
        changed.append("the BagOfVisualWords codebook learned with n_jobs=2")
    assert not changed, f"backend={backend!r} changed " + "; ".join(changed)


def test_descriptor_output_does_not_depend_on_the_thread_pool(fitted_descriptors, monkeypatch):
    # Without a configured backend, n_jobs runs chunks on this process's threads once the
    # work is large enough (the tests' batches are not: the threshold is lowered to 0), each
    # chunk writing into its rows of the output; no chunk may see another's.
    from skvision.descriptors import _base

    monkeypatch.setattr(_base, "_MIN_PARALLEL_SECONDS", {"threads": 0.0, "processes": 0.0})
    monkeypatch.setattr(_base, "_MIN_TASK_SECONDS", {"threads": 0.0, "processes": 0.0})
    # LPQ keeps small images to one thread (two lose there): lifted, so its threads are checked too.
    monkeypatch.setattr(descriptors.LPQ, "_min_thread_image_pixels", 0)
    changed = []
    for (name, dtype), (descriptor, X, expected) in fitted_descriptors.items():
        for batch_size in BATCH_SIZES:
            descriptor = copy.deepcopy(descriptor).set_params(n_jobs=2, batch_size=batch_size)
            assert descriptor._parallel_plan(X, None) == ("threads", 2)
            got = descriptor.transform(X)
            assert got.dtype == expected.dtype and got.shape == expected.shape
            if not np.array_equal(got, expected, equal_nan=True):
                changed.append(f"{name} on {dtype} images, batch_size={batch_size}")
    assert not changed, "threads changed " + "; ".join(changed)


def test_n_jobs_none_takes_the_configured_backends_workers(fitted_descriptors, backends_take_any_work):
    # n_jobs=None inside parallel_config(backend=..., n_jobs=2): two workers of that backend.
    descriptor, X, expected = fitted_descriptors["LBP", "float"]
    descriptor = copy.deepcopy(descriptor).set_params(n_jobs=None)
    with parallel_config(backend="threading", n_jobs=2):
        assert descriptor._parallel_plan(X, None) == ("joblib", None)
        np.testing.assert_array_equal(descriptor.transform(X), expected)


def test_small_work_runs_serially_whatever_n_jobs(fitted_descriptors):
    # The tests' batches are far below the thresholds: n_jobs=2 must not start anything, and
    # the batch stays in the chunks n_jobs=1 cuts (split in two, LPQ ran 10 small images 1.6x
    # slower than with n_jobs=1).
    for (name, _), (descriptor, X, _) in fitted_descriptors.items():
        parallel = copy.deepcopy(descriptor).set_params(n_jobs=2)
        assert parallel._parallel_plan(X, None) == ("serial", 1), name
        one = copy.deepcopy(descriptor).set_params(n_jobs=1)
        chunks = parallel._chunk_starts(X, "serial", 1)
        assert chunks == one._chunk_starts(X, "serial", 1) and len(chunks[0]) == 1, name


def test_small_chunks_run_in_one_thread_and_go_to_workers_several_per_task(monkeypatch):
    """batch_size=1 cut WLD's 3,000 28x28 images into 3,000 chunks of mostly Python: two threads took
    774 ms where one took 377; under a configured backend each chunk was a task of its own, and
    tiny work went to that backend at all (LBP's 12 ms took 113 ms under loky)."""
    from joblib import parallel_config

    from skvision.descriptors import _base

    X = np.random.default_rng(0).integers(0, 256, (300, 28, 28), dtype=np.uint8)
    wld = descriptors.WLD().fit(X)
    expected = wld.transform(X)
    tasks = []

    def recording(function):  # joblib's delayed, noting each task's images and batch here
        def task(images, batch):
            tasks.append((len(images), batch))
            return real(function)(images, batch)

        return task

    real = _base.delayed
    monkeypatch.setattr(_base, "delayed", recording)
    tiny = wld.set_params(n_jobs=2, batch_size=1)
    monkeypatch.setattr(_base, "_MIN_PARALLEL_SECONDS", {"threads": 0.0, "processes": 0.0})
    assert tiny._parallel_plan(X, None) == ("threads", 2)  # the work would be split...
    with monkeypatch.context() as patched:  # ...but each chunk is far under a millisecond
        patched.setattr(_base._ThreadPool, "get", lambda n: pytest.fail("a pool for chunks of ~20 us"))
        np.testing.assert_array_equal(tiny.transform(X), expected)
    with parallel_config(backend="loky"):
        np.testing.assert_array_equal(tiny.transform(X), expected)
    # 300 chunks of one image went out in two tasks (each ~50 ms of work at most, one per worker here),
    # each described one image at a time.
    assert len(tasks) == 2 and all(batch == 1 for _, batch in tasks) and sum(n for n, _ in tasks) == 300
    tasks.clear()
    monkeypatch.setattr(_base, "_MIN_PARALLEL_SECONDS", {"threads": 0.01, "processes": 1.5})
    with parallel_config(backend="loky"):  # 300 28x28 images are milliseconds: not worth shipping
        assert tiny._parallel_plan(X, None) == ("serial", 1)
        np.testing.assert_array_equal(tiny.transform(X), expected)
    with parallel_config(backend="threading"):  # threads are cheap: the threads' threshold
        assert tiny._parallel_plan(X, None) == ("joblib", 2)
    assert tasks == []


def test_a_thread_pool_in_use_survives_a_larger_one(monkeypatch):
    # Two descriptors with different n_jobs transformed at once (a FeatureUnion on threads):
    # the second grows the shared pool while the first holds the smaller one between
    # _ThreadPool.get and its map(), which then raised "cannot schedule new futures after
    # shutdown".
    from skvision.descriptors._base import _ThreadPool

    monkeypatch.setattr(_ThreadPool, "_executor", None)
    monkeypatch.setattr(_ThreadPool, "_size", 0)
    held = _ThreadPool.get(2)
    grown = _ThreadPool.get(4)
    assert grown is not held and _ThreadPool.get(3) is grown
    assert list(held.map(abs, [-1, -2, -3])) == [1, 2, 3]


# The functions behind the transformers: an image's result may not depend on the other
# images of the batch. Odd sizes and float pixels, so that a BLAS product over the whole
# batch (whose summation order follows the matrix shape) would show in the last bits.
FUNCTIONS = {
    "local_binary_pattern": lambda X: descriptors.local_binary_pattern(X, 8, 1.5, "uniform"),
    "local_binary_pattern-var": lambda X: descriptors.local_binary_pattern(X, 12, 2, "var"),
    "hog": lambda X: descriptors.hog(X, pixels_per_cell=5, cells_per_block=2),
    "graycomatrix": lambda X: descriptors.graycomatrix((X * 8).astype(np.uint8), [1, 2], [0, np.pi / 2], 8),
    "gabor": lambda X: descriptors.gabor(X, 0.2, theta=0.3),
    "hu_moments": lambda X: descriptors.hu_moments(X),
    "zernike_moments": lambda X: descriptors.zernike_moments(X, order=6),
    "local_phase_quantization": lambda X: descriptors.local_phase_quantization(X, window_size=5),
    "weber_local_descriptor": lambda X: descriptors.weber_local_descriptor(X),
}


@pytest.mark.parametrize("name", list(FUNCTIONS))
def test_descriptor_functions_give_each_image_the_same_result_in_any_batch(name):
    X = np.random.default_rng(0).random((7, 23, 19))
    function = FUNCTIONS[name]
    full = function(X)
    full = full if isinstance(full, tuple) else (full,)
    for part in [slice(k, k + 1) for k in range(len(X))] + [slice(2, 5), slice(1, 7)]:
        got = function(X[part])
        got = got if isinstance(got, tuple) else (got,)
        for g, f in zip(got, full):
            assert np.array_equal(g, f[part], equal_nan=True), f"{name}: images {part} differ alone"


@pytest.mark.parametrize("name", [name for name, est, _ in DESCRIPTORS if "random_state" in est.get_params()])
def test_learned_descriptors_follow_their_random_state(name, fitted_descriptors):
    # Same seed: the same learned state; another seed: another one (the check can fail).
    _, estimator, _ = next(entry for entry in DESCRIPTORS if entry[0] == name)
    _, X, expected = fitted_descriptors[name, "uint8"]
    np.testing.assert_array_equal(_seeded(name, estimator, 0).fit(X).transform(X), expected)
    assert not np.array_equal(_seeded(name, estimator, 1).fit(X).transform(X), expected)


# ====================================================================================== neural
def _outputs(estimator, X):
    """Every output an estimator gives: predictions and probabilities, or embeddings."""
    outputs = {}
    for method in ("predict", "predict_proba", "transform"):
        if hasattr(estimator, method):
            outputs[method] = np.asarray(getattr(estimator, method)(X))
    return outputs


@pytest.mark.parametrize("name", [name for name, _, _ in NEURAL])
def test_neural_estimators_with_the_same_random_state_give_identical_outputs(name):
    _, estimator, kind = next(entry for entry in NEURAL if entry[0] == name)
    X, y = good_X(kind), good_y(kind)
    if "weights" in estimator.get_params():
        assert estimator.get_params()["weights"] is None  # a random initialisation to seed

    torch.manual_seed(123)
    first = _outputs(_seeded(name, estimator, 0).fit(X, y), X)
    # Another global random state in between: a seeded fit must not read it.
    torch.manual_seed(456)
    torch.rand(1000)
    np.random.seed(789)  # noqa: NPY002 - the legacy global state is what a seeded fit must ignore
    state_before = torch.random.get_rng_state()
    second_estimator = _seeded(name, estimator, 0).fit(X, y)
    # ...nor advance it (the seeded fit works on a fork of torch's generator).
    assert torch.equal(torch.random.get_rng_state(), state_before)
    second = _outputs(second_estimator, X)
    third = _outputs(_seeded(name, estimator, 1).fit(X, y), X)

    assert first.keys() == second.keys() and first
    for method in first:
        assert first[method].dtype == second[method].dtype
        assert np.array_equal(first[method], second[method]), f"{name}.{method} differs between two fits"
    # A different seed must change the continuous outputs (labels alone may coincide).
    continuous = [m for m in first if m != "predict" or kind == "regressor"]
    assert any(not np.array_equal(first[m], third[m]) for m in continuous), (
        f"{name}: random_state=0 and random_state=1 gave identical outputs; the seed is not used"
    )


@pytest.mark.parametrize("name", [name for name, _, _ in NEURAL])
def test_refitting_one_seeded_estimator_repeats_itself(name):
    # fit twice on the same object (what GridSearchCV's refit and warm restarts do not
    # rely on, but users do): the second fit starts from the same seeded initialisation.
    _, estimator, kind = next(entry for entry in NEURAL if entry[0] == name)
    X, y = good_X(kind), good_y(kind)
    model = _seeded(name, estimator, 3)
    first = _outputs(model.fit(X, y), X)
    second = _outputs(model.fit(X, y), X)
    for method in first:
        assert np.array_equal(first[method], second[method]), f"{name}.{method} differs after a refit"


@pytest.mark.parametrize("compiled", [False, True])
def test_lpq_plan_follows_its_route(compiled, monkeypatch):
    # LPQ's numpy path is bound by memory traffic: on 28x28 images two threads lost (0.8x), on
    # 512x512 they gain (benchmarks/bench_parallel.py); its chunks are cache-sized. The compiled
    # kernel keeps its sums in small buffers and releases the GIL: threads at any size.
    from skvision.descriptors import _base, _numba

    if compiled and not _numba.numba_available():
        pytest.skip("numba is not installed (the 'fast' extra)")
    monkeypatch.setenv("SKVISION_NUMBA", "1" if compiled else "0")
    monkeypatch.setattr(_base, "_MIN_PARALLEL_SECONDS", {"threads": 0.0, "processes": 0.0})
    small = np.zeros((4000, 28, 28), dtype=np.uint8)
    large = np.zeros((4, 128, 128), dtype=np.uint8)
    lpq = descriptors.LPQ(n_jobs=2).fit(small[:1])
    assert lpq._parallel_plan(small, None) == (("threads", 2) if compiled else ("serial", 1))
    assert lpq._parallel_plan(large, None) == ("threads", 2)
    chunk = (_base._AUTO_CHUNK_PIXELS if compiled else 2**16) // (28 * 28)
    assert lpq._chunk_starts(small, "serial", 1)[1] == chunk  # one process: its own chunks
    assert lpq._chunk_starts(small, "threads", 2)[1] == min(chunk, len(small) // 2)  # a chunk per worker
    assert lpq._pixel_cost_ns() == (40.0 if compiled else 150.0)
    assert descriptors.LBP(n_jobs=2).fit(small[:1])._parallel_plan(small, None) == ("threads", 2)
