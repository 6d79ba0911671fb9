"""Neural transforms and predictions run in bounded batches; out-of-memory batches are halved and retried.

There is no GPU here: the device running out of memory is simulated by a module
that raises ``torch.OutOfMemoryError`` (what CUDA raises) on batches larger
than a limit. The outputs must equal those of an unconstrained run.
"""

from __future__ import annotations

import subprocess
import sys
import warnings

import numpy as np
import pytest
import torch

import skvision
from skvision.neural._torch_utils import is_out_of_memory, map_batches
from tests._estimators import fast_net_params

RNG = np.random.default_rng(0)
X = RNG.integers(0, 256, size=(21, 16, 16), dtype=np.uint8)
Y = np.tile([0, 1, 2], 7)


# ------------------------------------------------------------------ map_batches
def test_map_batches_halves_the_batch_on_out_of_memory_and_keeps_order():
    seen = []

    def double(chunk):
        seen.append(len(chunk))
        if len(chunk) > 3:
            raise torch.OutOfMemoryError("CUDA out of memory. Tried to allocate 1.00 GiB")
        return chunk * 2

    with pytest.warns(ResourceWarning, match="retrying with batches of"):
        out = map_batches(double, np.arange(20), batch_size=16, what="the test batch")
    np.testing.assert_array_equal(out, np.arange(20) * 2)
    # 16 fails, 8 fails, 4 fails, then batches of 2 (kept for the rest).
    assert seen[:3] == [16, 8, 4] and set(seen[3:]) == {2}
    assert sum(seen[3:]) == 20


def test_map_batches_gives_up_at_batches_of_one():
    def always_oom(chunk):
        raise torch.OutOfMemoryError("CUDA out of memory")

    with (
        pytest.warns(ResourceWarning),
        pytest.raises(torch.OutOfMemoryError, match="even with batches of one"),
    ):
        map_batches(always_oom, np.arange(4), batch_size=4, what="the test batch")


def test_map_batches_lets_other_errors_through():
    def broken(chunk):
        raise RuntimeError("mat1 and mat2 shapes cannot be multiplied")

    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no retry warning either
        with pytest.raises(RuntimeError, match="shapes cannot be multiplied"):
            map_batches(broken, np.arange(4), batch_size=2)


def test_map_batches_checks_rows_and_emptiness():
    with pytest.raises(ValueError, match="one row per item"):
        map_batches(lambda chunk: chunk[:1], np.arange(4), batch_size=2)
    with pytest.raises(ValueError, match="empty"):
        map_batches(lambda chunk: chunk, np.arange(0), batch_size=2)


def test_is_out_of_memory_recognises_plain_runtime_errors_of_other_backends():
    assert is_out_of_memory(RuntimeError("MPS backend out of memory (MPS allocated: 1 GB)"))
    assert not is_out_of_memory(ValueError("out of memory"))


# ------------------------------------------------------------------ estimators
class _SmallDevice:
    """Patches ``module.<method>`` to fail on batches larger than ``limit`` and records batch sizes."""

    def __init__(self, target, limit):
        (self.module, self.method), self.limit, self.sizes = target, limit, []
        self.original = getattr(self.module, self.method)

    def __enter__(self):
        def forward(x, *args, **kwargs):
            self.sizes.append(len(x))
            if self.limit is not None and len(x) > self.limit:
                raise torch.OutOfMemoryError("CUDA out of memory. Tried to allocate 20.00 GiB")
            return self.original(x, *args, **kwargs)

        setattr(self.module, self.method, forward)
        return self

    def __exit__(self, *exc):
        setattr(self.module, self.method, self.original)


def _cases():
    yield (
        "CNNClassifier",
        lambda: skvision.CNNClassifier(**fast_net_params()).fit(X, Y),
        "predict_proba",
        lambda est: (est.net_.module_, "forward"),
    )
    yield (
        "CNNRegressor",
        lambda: skvision.CNNRegressor(**fast_net_params()).fit(X, Y / 2.0),
        "predict",
        lambda est: (est.net_.module_, "forward"),
    )
    yield (
        "CNNFeatures",
        lambda: skvision.CNNFeatures(**fast_net_params()).fit(X, Y),
        "transform",
        lambda est: (est.estimator_.net_.module_, "forward_embedding"),
    )
    yield (
        "AutoencoderFeatures",
        lambda: skvision.AutoencoderFeatures(**fast_net_params()).fit(X),
        "transform",
        lambda est: (est.net_.module_, "encode"),
    )
    yield (
        "GANFeatures",
        lambda: skvision.GANFeatures(**fast_net_params(filters=8)).fit(X),
        "transform",
        lambda est: (est.net_.module_, "feature_maps"),
    )
    yield (
        "PretrainedFeatures",
        lambda: skvision.PretrainedFeatures(
            backbone="resnet10t", weights=None, input_size=32, device="cpu", batch_size=8, random_state=0
        ).fit(X),
        "transform",
        lambda est: (est.module_, "forward_features"),
    )


CASES = list(_cases())


@pytest.mark.parametrize("name, make, method, module_of", CASES, ids=[c[0] for c in CASES])
def test_inference_is_batched_and_survives_out_of_memory(name, make, method, module_of):
    estimator = make()
    target = module_of(estimator)
    with _SmallDevice(target, limit=None) as unconstrained:
        expected = getattr(estimator, method)(X)
    batch_size = estimator.batch_size
    # Bounded: no forward pass ever sees more than batch_size images.
    assert unconstrained.sizes and max(unconstrained.sizes) <= batch_size
    with _SmallDevice(target, limit=3) as small:
        with pytest.warns(ResourceWarning, match="Out of device memory"):
            result = getattr(estimator, method)(X)
    assert min(small.sizes) <= 3 < max(small.sizes)  # it did fail, then fit
    np.testing.assert_allclose(result, expected, rtol=1e-5, atol=1e-6)
    assert result.dtype == expected.dtype and result.shape == expected.shape


def test_autoencoder_score_is_the_same_in_any_batch_size():
    estimator = skvision.AutoencoderFeatures(**fast_net_params()).fit(X)
    whole = estimator.set_params(batch_size=len(X)).score(X)
    batched = estimator.set_params(batch_size=4).score(X)
    assert whole < 0
    assert batched == pytest.approx(whole, rel=1e-6)


def test_neural_transform_reads_a_memmap_lazily(tmp_path):
    path = tmp_path / "images.npy"
    np.save(path, X)
    images = np.load(path, mmap_mode="r")
    estimator = skvision.CNNFeatures(**fast_net_params()).fit(X, Y)
    np.testing.assert_array_equal(estimator.transform(images), estimator.transform(X))


CONVERSION_PEAK = r"""
import sys
import numpy as np
from skvision.neural._torch_utils import images_to_tensor

def status(key):
    with open("/proc/self/status") as f:
        return next(int(line.split()[1]) * 1024 for line in f if line.startswith(key))

images = np.memmap(sys.argv[1], dtype=np.uint8, mode="r", shape=(4000, 64, 64, 3))
with open("/proc/self/clear_refs", "w") as f:
    f.write("5")  # the peak (VmHWM) starts again from the resident memory now
before = status("VmRSS:")
tensor = images_to_tensor(images)
print((status("VmHWM:") - before) / (tensor.numel() * 4))
"""


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads the peak from /proc/self")
def test_a_training_sets_conversion_holds_one_float_copy(tmp_path):
    # fit converts its whole training set: the division and the channels-first copy each made another
    # float32 copy (2.2x the set's float32 size, plus a uint8 copy of a read-only memmap).
    path = tmp_path / "images.u8"
    images = np.memmap(path, dtype=np.uint8, mode="w+", shape=(4000, 64, 64, 3))
    images[:] = np.random.default_rng(0).integers(0, 256, (64, 64, 3), dtype=np.uint8)
    images.flush()
    command = [sys.executable, "-c", CONVERSION_PEAK, str(path)]
    out = subprocess.run(command, capture_output=True, text=True, check=True, timeout=120)
    ratio = float(out.stdout.split()[-1])
    # The float32 tensor, the uint8 copy (a quarter) and the memmap's pages read (a quarter).
    assert ratio < 1.7, ratio
