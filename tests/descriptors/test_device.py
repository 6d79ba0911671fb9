"""The descriptors' side of the device rule: which ones take a device, where each value runs them."""

import inspect
from unittest import mock

import numpy as np
import pytest
from sklearn.utils import get_tags as sklearn_get_tags

import skvision
import skvision.descriptors
from skvision import get_tags
from skvision.descriptors._base import BaseDescriptor, torch_path_on_cpu

WITH_TORCH = ["LBP", "HOG", "GaborBank", "LPQ", "WLD", "BSIF"]
WITHOUT_TORCH = ["GLCM", "HuMoments", "ZernikeMoments", "ColorHistogram", "BagOfVisualWords"]
IMAGES = np.random.default_rng(0).integers(0, 256, size=(3, 40, 40), dtype=np.uint8)


def test_the_two_lists_are_every_descriptor():
    descriptors = {
        name
        for name in skvision.descriptors.__all__
        if name != "BaseDescriptor"
        and isinstance(getattr(skvision.descriptors, name), type)
        and issubclass(getattr(skvision.descriptors, name), BaseDescriptor)
    }
    assert descriptors == set(WITH_TORCH) | set(WITHOUT_TORCH)


@pytest.mark.parametrize("name", WITH_TORCH)
def test_a_descriptor_with_a_torch_path_defaults_to_the_cpu_and_says_so_in_its_tags(name):
    cls = getattr(skvision, name)
    assert inspect.signature(cls).parameters["device"].default == "cpu"
    assert "device" in cls._parameter_constraints
    assert get_tags(cls()).devices == ("cpu", "cuda") and get_tags(cls()).torch_support
    assert sklearn_get_tags(cls()).devices == ("cpu", "cuda")  # scikit-learn's accessor sees them too


@pytest.mark.parametrize("name", WITHOUT_TORCH)
def test_a_descriptor_without_a_torch_path_takes_no_device(name):
    cls = getattr(skvision, name)
    assert "device" not in inspect.signature(cls).parameters
    assert "device" not in cls._parameter_constraints
    assert get_tags(cls()).devices == ("cpu",) and not get_tags(cls()).torch_support
    with pytest.raises(TypeError, match="device"):
        cls(device="cpu")


def _recording_torch_calls(monkeypatch, cls):
    calls = []
    original = cls._describe_torch

    def recording(self, images):
        calls.append(images.device.type)
        return original(self, images)

    monkeypatch.setattr(cls, "_describe_torch", recording)
    return calls


@pytest.mark.parametrize("device", ["cpu", "auto", None])
def test_cpu_and_auto_without_a_gpu_run_the_numpy_path(monkeypatch, device):
    torch = pytest.importorskip("torch")
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    calls = _recording_torch_calls(monkeypatch, skvision.HOG)
    skvision.HOG(pixels_per_cell=8, device=device).fit(IMAGES).transform(IMAGES)
    assert calls == []


def test_the_torch_path_on_the_cpu_is_reached_only_through_the_test_hook(monkeypatch):
    pytest.importorskip("torch")
    calls = _recording_torch_calls(monkeypatch, skvision.LPQ)
    lpq = skvision.LPQ(window_size=3).fit(IMAGES)
    expected = lpq.transform(IMAGES)
    assert calls == []
    with torch_path_on_cpu():
        np.testing.assert_array_equal(lpq.transform(IMAGES), expected)
    assert calls == ["cpu"]
    lpq.transform(IMAGES)
    assert calls == ["cpu"], "the hook ends with its block"


def test_auto_takes_the_gpu_torch_sees(monkeypatch):
    """'auto' hands the descriptor's torch path the current CUDA device (simulated: no GPU here)."""
    torch = pytest.importorskip("torch")
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    monkeypatch.setattr(torch.cuda, "device_count", lambda: 1)
    monkeypatch.setattr(torch.cuda, "current_device", lambda: 0)
    seen = []

    def fake_chunk(self, images, device):
        seen.append(device)
        return np.zeros((len(images), self.n_features_out_))

    def fake_chunk_into(self, images, out):  # the CPU path writes into the output instead
        seen.append(None)
        out[...] = 0

    with (
        mock.patch.object(BaseDescriptor, "_transform_chunk", fake_chunk),
        mock.patch.object(BaseDescriptor, "_transform_chunk_into", fake_chunk_into),
    ):
        skvision.WLD(device="auto").fit(IMAGES).transform(IMAGES)
        skvision.WLD(device="cpu").fit(IMAGES).transform(IMAGES)
    assert seen == [torch.device("cuda:0"), None]


@pytest.mark.parametrize(
    "device, match",
    [
        ("mps", r"LBP: device='mps' cannot be honoured: LBP runs on the CPU or CUDA GPUs only \(.*float64"),
        ("numpy", r"device='numpy' is not a valid device.*names a library.*device='cpu'"),
        ("gpu", r"LBP: device='gpu' is not a valid device; expected 'auto', 'cpu', 'cuda', 'cuda:N', 'mps'"),
    ],
)
def test_a_device_the_descriptor_cannot_honour_is_refused_in_fit(device, match):
    with pytest.raises(ValueError, match=match):
        skvision.LBP(device=device).fit(IMAGES)


def test_a_gpu_torch_does_not_see_is_refused_in_fit(monkeypatch):
    torch = pytest.importorskip("torch")
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    with pytest.raises(ValueError, match=r"HOG: device='cuda:1' was requested but torch sees no CUDA device"):
        skvision.HOG(device="cuda:1").fit(IMAGES)
