"""The one device rule (skvision._device): each value means one thing for every estimator and the CLI.

No GPU here: CUDA is simulated by patching torch's own answers (is_available,
device_count, current_device), which is all the resolver asks; MPS by patching
the resolver's one question about it (patching torch.backends.mps upsets torch's compiler).
"""

import sys

import numpy as np
import pytest

from skvision import _device
from skvision._device import parse_device, resolve_device

torch = pytest.importorskip("torch")


@pytest.fixture
def no_gpu(monkeypatch):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    monkeypatch.setattr(_device, "_mps_available", lambda torch: False)


@pytest.fixture
def two_gpus(monkeypatch):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    monkeypatch.setattr(torch.cuda, "device_count", lambda: 2)
    monkeypatch.setattr(torch.cuda, "current_device", lambda: 1)


@pytest.mark.parametrize(
    "value, expected",
    [
        (None, "auto"),
        ("auto", "auto"),
        ("cpu", "cpu"),
        ("cuda", "cuda"),
        ("cuda:12", "cuda:12"),
        ("mps", "mps"),
    ],
)
def test_spellings(value, expected):
    assert parse_device(value) == expected


def test_torch_devices_are_accepted_as_their_string():
    assert parse_device(torch.device("cuda", 1)) == "cuda:1"
    assert resolve_device(torch.device("cpu")) == "cpu"


@pytest.mark.parametrize("value", ["gpu", "CPU", "cpu:0", "mps:0", "auto:1", "cuda:", "cuda:-1", "", "numpy"])
def test_other_strings_are_not_devices(value):
    with pytest.raises(
        ValueError, match="is not a valid device; expected 'auto', 'cpu', 'cuda', 'cuda:N', 'mps'"
    ):
        parse_device(value)


def test_other_types_are_not_devices():
    with pytest.raises(ValueError, match="expected a str, a torch.device or None.*got int"):
        parse_device(0)


def test_without_a_gpu(no_gpu):
    for value in ("cpu", "auto", None):
        assert resolve_device(value) == "cpu"
    with pytest.raises(ValueError) as error:
        resolve_device("cuda", owner="CNNClassifier")
    # What was asked, what is possible, what to do.
    assert str(error.value) == (
        "CNNClassifier: device='cuda' was requested but torch sees no CUDA device. Use device='cpu' or "
        "device='auto' (device='auto' takes a GPU only when torch sees one)."
    )
    with pytest.raises(ValueError, match=r"device='mps' asks for Apple's GPU, which torch does not see"):
        resolve_device("mps")


def test_with_gpus(two_gpus):
    assert resolve_device("auto") == resolve_device(None) == resolve_device("cuda") == "cuda:1"
    assert resolve_device("cuda:0") == "cuda:0"
    assert resolve_device("cpu") == "cpu"
    assert resolve_device("auto", devices=("cpu",)) == "cpu"  # no torch path: 'auto' is the CPU
    with pytest.raises(ValueError) as error:
        resolve_device("cuda:2", owner="HOG", devices=("cpu", "cuda"))
    assert str(error.value) == (
        "HOG: device='cuda:2' names GPU 2, but torch sees 2 CUDA devices (cuda:0 to cuda:1). Use "
        "device='cpu', device='auto', device='cuda', device='cuda:0' or device='cuda:1'."
    )


def test_mps_where_torch_has_it(monkeypatch):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    monkeypatch.setattr(_device, "_mps_available", lambda torch: True)
    assert resolve_device("mps") == "mps"
    assert resolve_device("auto") == "cpu", "'auto' never picks Apple's GPU"
    with pytest.raises(ValueError, match="HOG runs on the CPU or CUDA GPUs only"):
        resolve_device("mps", owner="HOG", devices=("cpu", "cuda"))


def test_an_estimator_without_a_torch_path_refuses_a_gpu(two_gpus):
    with pytest.raises(ValueError) as error:
        resolve_device("cuda", owner="GLCM", devices=("cpu",))
    assert str(error.value) == (
        "GLCM: device='cuda' cannot be honoured: GLCM runs on the CPU only. Use device='cpu'."
    )


def test_command_line_words(no_gpu):
    with pytest.raises(ValueError) as error:
        resolve_device("cuda", option="--device")
    assert str(error.value).startswith(
        "--device cuda was requested but torch sees no CUDA device. Use --device cpu"
    )
    with pytest.raises(
        ValueError, match="--device gpu is not a valid device; expected auto, cpu, cuda, cuda:N, mps"
    ):
        parse_device("gpu", option="--device")


def test_without_torch_cpu_and_auto_still_work(monkeypatch):
    monkeypatch.setitem(sys.modules, "torch", None)  # import torch now raises ImportError
    assert resolve_device("cpu") == resolve_device("auto") == "cpu"
    with pytest.raises(
        ValueError, match=r"device='cuda' needs torch, which is not installed.*skvision\[neural\]"
    ):
        resolve_device("cuda")


def test_neural_estimators_refuse_by_name_in_fit(no_gpu):
    from skvision import CNNClassifier, PretrainedFeatures

    X = np.zeros((4, 16, 16), dtype=np.uint8)
    with pytest.raises(ValueError, match=r"^CNNClassifier: device='mps' asks for Apple's GPU"):
        CNNClassifier(device="mps", max_epochs=1).fit(X, [0, 1, 0, 1])
    with pytest.raises(ValueError, match=r"^PretrainedFeatures: device='cuda:0' was requested"):
        PretrainedFeatures("resnet10t", weights=None, device="cuda:0").fit(X)
    assert CNNClassifier(device=None, max_epochs=1, batch_size=4).fit(X, [0, 1, 0, 1]).device_ == "cpu"


def test_the_neural_resolver_gives_a_torch_device(two_gpus):
    from skvision.neural._torch_utils import resolve_device as neural_resolve_device

    assert neural_resolve_device("auto") == torch.device("cuda", 1)
    assert neural_resolve_device("cpu") == torch.device("cpu")
