"""The GPU paths on a real CUDA device.

CI has no GPU: every test here is skipped where torch sees no CUDA device. On a machine with one, run
``pytest tests/test_gpu.py``. The CPU suite checks the same torch code through ``torch_path_on_cpu``; these
tests check what only a GPU shows: device placement, CUDA's own kernels (atan2, FFTs, cuDNN convolutions) and
CUDA in worker processes.
"""

import pickle

import numpy as np
import pytest
import skimage.data
from sklearn.base import clone
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import cross_validate
from sklearn.pipeline import make_pipeline

import skvision
from skvision.datasets import load_digits

torch = pytest.importorskip("torch")
pytestmark = pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")


@pytest.fixture(scope="module")
def textures():
    """Real photographs (camera, brick, grass) as users pass them: uint8, float copies on the [0, 1] and
    0-255 scales, in float64 and float32, and a float image that is no copy of 8-bit levels."""
    crops = np.stack(
        [
            skimage.data.camera()[100:196, 100:196],
            skimage.data.brick()[:96, :96],
            skimage.data.grass()[:96, :96],
        ]
    )
    return {
        "uint8": crops,
        "float01": crops / 255.0,
        "float255": crops.astype(np.float64),
        "float32_01": (crops / 255.0).astype(np.float32),
        "noise": np.random.default_rng(0).random(crops.shape),
    }


@pytest.fixture(scope="module")
def digits():
    X, y = load_digits(return_X_y=True)
    return X, y


# Each torch-capable descriptor, with parameters that reach its torch path's branches.
DESCRIPTORS = [
    ("LBP", dict(P=8, R=1, method="uniform")),
    ("LBP", dict(P=16, R=2, method="ror", grid=(2, 2))),
    ("LBP", dict(P=8, R=1.5, method="nri_uniform", sampling="circular")),
    ("LBP", dict(P=8, R=1, method="var", n_bins=16)),
    ("HOG", dict()),
    ("HOG", dict(orientations=12, pixels_per_cell=(6, 6), cells_per_block=(2, 2), block_norm="L1-sqrt")),
    ("HOG", dict(gradient="sobel", signed=True, transform_sqrt=True)),
    ("GaborBank", dict(frequencies=[0.05, 0.25], orientations=3, grid=2)),
    ("LPQ", dict(window_size=7, window="gaussian", grid=2)),
    ("WLD", dict(grid=2)),
    ("BSIF", dict(n_filters=8, filter_size=7, n_patches=2000, random_state=0, grid=2)),
]


def _tolerance(name):
    # HOG: the same bins, cell sums in another order (tests/descriptors/test_hog.py); Gabor goes
    # through FFTs, whose CUDA and pocketfft roundings differ in the last bits.
    return {"HOG": 1e-12, "GaborBank": 1e-9}.get(name, 0.0)


@pytest.mark.parametrize(
    ("name", "params"), DESCRIPTORS, ids=[f"{n}-{i}" for i, (n, _) in enumerate(DESCRIPTORS)]
)
@pytest.mark.parametrize("kind", ["uint8", "float01", "float255", "float32_01", "noise"])
def test_descriptor_on_cuda_equals_its_numpy_path(textures, name, params, kind):
    images = textures[kind]
    cls = getattr(skvision, name)
    expected = cls(**params).fit(images).transform(images)
    on_gpu = cls(**params, device="cuda").fit(images)
    got = on_gpu.transform(images)
    assert got.dtype == expected.dtype and got.shape == expected.shape
    np.testing.assert_array_equal(on_gpu.transform(images), got)  # the same bits every time
    rtol = _tolerance(name)
    if rtol == 0.0:
        np.testing.assert_array_equal(got, expected)
    else:
        np.testing.assert_allclose(got, expected, rtol=rtol, atol=1e-12)


def test_auto_puts_a_descriptor_on_the_gpu_and_a_pickle_keeps_working(textures, monkeypatch):
    images = textures["uint8"]
    calls = []
    original = skvision.HOG._describe_torch

    def recording(self, tensor):
        calls.append(tensor.device.type)
        return original(self, tensor)

    monkeypatch.setattr(skvision.HOG, "_describe_torch", recording)
    hog = skvision.HOG(device="auto").fit(images)
    features = hog.transform(images)
    assert calls and set(calls) == {"cuda"}
    np.testing.assert_array_equal(pickle.loads(pickle.dumps(hog)).transform(images), features)


def test_descriptor_on_cuda_in_parallel_chunks_equals_one_process(textures):
    # n_jobs=2 splits the batch into chunks that share the one device; the chunks must agree with one call.
    images = np.concatenate([textures["uint8"]] * 4)
    lbp = skvision.LBP(P=8, R=1, device="cuda").fit(images)
    expected = lbp.transform(images)
    parallel = clone(lbp).set_params(n_jobs=2, batch_size=3).fit(images)
    np.testing.assert_array_equal(parallel.transform(images), expected)


def test_cnn_classifier_trains_on_the_gpu(digits):
    from skvision.neural import CNNClassifier

    X, y = digits
    model = CNNClassifier(device="auto", random_state=0).fit(X[:1200], y[:1200])
    assert model.device_.startswith("cuda")
    assert next(model.net_.module_.parameters()).device.type == "cuda"
    accuracy = model.score(X[1200:], y[1200:])
    assert accuracy >= 0.95, accuracy
    restored = pickle.loads(pickle.dumps(model))
    np.testing.assert_array_equal(restored.predict(X[1200:]), model.predict(X[1200:]))


def test_a_seeded_fit_on_the_gpu_gives_the_same_model_twice(digits):
    from skvision.neural import CNNClassifier

    X, y = digits
    # The default augmentation and mixup draw on the GPU's generator; cuDNN's fastest convolution
    # algorithms add in any order unless the fit asks for deterministic ones.
    params = dict(device="cuda", max_epochs=3, mixup=0.2, random_state=0)
    first = CNNClassifier(**params).fit(X[:600], y[:600]).predict_proba(X[600:900])
    second = CNNClassifier(**params).fit(X[:600], y[:600]).predict_proba(X[600:900])
    np.testing.assert_array_equal(first, second)
    assert not torch.backends.cudnn.deterministic  # the global setting is left as it was


def test_cnn_in_cross_validate_with_two_worker_processes_on_one_gpu(digits):
    from skvision.neural import CNNClassifier

    X, y = digits
    cnn = CNNClassifier(device="cuda", random_state=0)
    scores = cross_validate(cnn, X[:900], y[:900], cv=3, n_jobs=2)["test_score"]
    assert scores.min() >= 0.9, scores


def test_pretrained_features_on_the_gpu_match_the_cpu():
    from skvision.neural import PretrainedFeatures

    images = np.random.default_rng(0).integers(0, 256, size=(6, 40, 40, 3), dtype=np.uint8)
    params = dict(backbone="resnet10t", weights=None, input_size=64, random_state=0)
    on_cpu = PretrainedFeatures(**params, device="cpu").fit(images).transform(images)
    on_gpu = PretrainedFeatures(**params, device="cuda").fit(images).transform(images)
    # cuDNN may use TF32 for float32 convolutions: agreement to about 1e-3 relative, not bit for bit.
    np.testing.assert_allclose(on_gpu, on_cpu, rtol=2e-2, atol=2e-2 * np.abs(on_cpu).max())
    assert np.corrcoef(on_gpu.ravel(), on_cpu.ravel())[0, 1] > 0.999


def test_autoencoder_features_on_the_gpu_feed_a_pipeline(digits):
    from skvision.neural import AutoencoderFeatures

    X, y = digits
    pipeline = make_pipeline(
        AutoencoderFeatures(device="cuda", random_state=0), LogisticRegression(max_iter=2000)
    )
    pipeline.fit(X[:1200], y[:1200])
    assert pipeline[0].device_.startswith("cuda")
    assert pipeline.score(X[1200:], y[1200:]) >= 0.85


def test_compare_command_on_the_gpu(tmp_path, capsys):
    from skvision.cli import main

    code = main(
        [
            "compare",
            "--dataset",
            "digits",
            "--features",
            "hog,lbp,cnn",
            "--fast",
            "--device",
            "cuda",
            "--out",
            str(tmp_path / "report"),
        ]
    )
    assert code == 0
    table = capsys.readouterr().out
    for family in ("hog", "lbp", "cnn"):
        assert family in table.lower()
    assert (tmp_path / "report").exists()
