"""Batch augmentation presets: what 'light' and 'standard' do, value ranges, seeding."""

import numpy as np
import pytest
import torch

from skvision.datasets import load_digits
from skvision.neural import CNNClassifier
from skvision.neural._augment import build_augmentation
from skvision.neural._torch_utils import _deterministic_cudnn, seeded_torch_rng


def _square_batch(n=64, side=28, half=5):
    """n copies of a centred bright square on black, in [0, 1]."""
    x = torch.zeros(n, 1, side, side)
    c = side // 2
    x[:, :, c - half : c + half, c - half : c + half] = 1.0
    return x


def _centroids(batch):
    weights = batch[:, 0]
    side = batch.shape[-1]
    grid = torch.arange(side, dtype=torch.float32)
    mass = weights.sum(dim=(1, 2))
    rows = (weights.sum(dim=2) * grid).sum(dim=1) / mass
    cols = (weights.sum(dim=1) * grid).sum(dim=1) / mass
    return rows, cols, mass


def test_light_moves_turns_and_zooms_slightly_within_the_unit_range():
    x = _square_batch()
    with seeded_torch_rng(0):
        out = build_augmentation("light")(x)
    assert out.shape == x.shape
    # Bilinear resampling with zero padding: convex combinations of [0, 1] values stay in [0, 1].
    assert float(out.min()) >= 0.0 and float(out.max()) <= 1.0 + 1e-6
    rows, cols, mass = _centroids(out)
    c0_rows, c0_cols, mass0 = _centroids(x)
    # Shifts of at most 10 % of the side (2.8 px) per axis; rotation about the centre
    # and zoom keep the centroid of a centred square in place.
    assert float((rows - c0_rows).abs().max()) <= 0.1 * 28 + 0.5
    assert float((cols - c0_cols).abs().max()) <= 0.1 * 28 + 0.5
    # Zoom 0.9-1.1 scales the area by 0.81-1.21 (rotation keeps it).
    ratio = mass / mass0
    assert float(ratio.min()) >= 0.81 - 0.05 and float(ratio.max()) <= 1.21 + 0.05
    # Every image is transformed, each differently.
    assert not torch.allclose(out, x)
    assert len({tuple(np.round(r.numpy(), 3)) for r in out[:, 0, 14]}) == len(out)


def test_light_never_mirrors_an_asymmetric_image():
    # An 'L' shape: its mirror has the foot on the other side, which light must never produce.
    x = torch.zeros(64, 1, 28, 28)
    x[:, :, 6:22, 8:11] = 1.0  # the stem, on the left
    x[:, :, 19:22, 8:20] = 1.0  # the foot, pointing right
    with seeded_torch_rng(0):
        out = build_augmentation("light")(x)
    left, right = out[..., :14].sum(dim=(1, 2, 3)), out[..., 14:].sum(dim=(1, 2, 3))
    assert bool((left > right).all())


def test_standard_flips_some_images_and_may_leave_the_unit_range():
    x = torch.zeros(200, 1, 28, 28)
    x[:, :, 6:22, 4:8] = 1.0  # a bar near the left edge
    with seeded_torch_rng(0):
        out = build_augmentation("standard")(x)
    assert out.shape == x.shape
    flipped = out[..., 14:].sum(dim=(1, 2, 3)) > out[..., :14].sum(dim=(1, 2, 3))
    # Horizontal flips with p=0.5: about half of 200 (binomial, 4 sigma ~ 28).
    assert 60 <= int(flipped.sum()) <= 140
    # Brightness, contrast and noise are not clipped: float images need not lie in [0, 1].
    assert float(out.max()) > 1.0 or float(out.min()) < 0.0


@pytest.mark.parametrize("preset", ["light", "standard"])
def test_presets_are_seeded_by_the_torch_generator(preset):
    x = _square_batch(8)
    with seeded_torch_rng(3):
        a = build_augmentation(preset)(x)
    with seeded_torch_rng(3):
        b = build_augmentation(preset)(x)
    with seeded_torch_rng(4):
        c = build_augmentation(preset)(x)
    torch.testing.assert_close(a, b, rtol=0, atol=0)
    assert not torch.allclose(a, c)


def test_augmented_fit_is_reproducible_with_random_state_and_leaves_the_global_rng_alone():
    X, y = load_digits(return_X_y=True)
    X, y = X[:160], y[:160]
    params = dict(module__filters=4, module__fc_units=(8,), max_epochs=2, batch_size=32, augment="light")
    torch.manual_seed(123)
    before = torch.rand(1)
    torch.manual_seed(123)
    a = CNNClassifier(**params, random_state=0).fit(X, y).predict_proba(X)
    after = torch.rand(1)
    b = CNNClassifier(**params, random_state=0).fit(X, y).predict_proba(X)
    c = CNNClassifier(**params, random_state=1).fit(X, y).predict_proba(X)
    np.testing.assert_array_equal(a, b)
    assert not np.allclose(a, c)
    assert bool(before == after)


def test_a_seeded_block_on_a_gpu_asks_cudnn_for_deterministic_algorithms_and_restores_the_settings():
    # tests/test_gpu.py checks the effect on a GPU (two seeded fits, the same model); here the switch.
    cudnn = torch.backends.cudnn
    before = cudnn.deterministic, cudnn.benchmark
    cudnn.benchmark = True
    try:
        with _deterministic_cudnn(True):
            assert cudnn.deterministic and not cudnn.benchmark
        assert (cudnn.deterministic, cudnn.benchmark) == (before[0], True)
        with pytest.raises(KeyboardInterrupt), _deterministic_cudnn(True):
            raise KeyboardInterrupt
        assert (cudnn.deterministic, cudnn.benchmark) == (before[0], True)
        with _deterministic_cudnn(False):  # the CPU: nothing to ask
            assert (cudnn.deterministic, cudnn.benchmark) == (before[0], True)
    finally:
        cudnn.deterministic, cudnn.benchmark = before
