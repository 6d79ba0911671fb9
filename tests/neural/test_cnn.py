"""CNNClassifier / CNNRegressor / CNNFeatures: architectures, data path, training tools, bad input."""

import pickle
import sys
import warnings

import numpy as np
import pytest
import torch
from sklearn.metrics import log_loss
from skorch.callbacks import Callback
from skorch.dataset import Dataset
from torch import nn

from skvision._testing import fit_checkpoint
from skvision.datasets import load_digits
from skvision.neural import CNNClassifier, CNNFeatures, CNNRegressor
from skvision.neural._augment import build_augmentation
from skvision.neural._callbacks import build_callbacks
from skvision.neural._introspection import embedding_function, module_data_params, resolve_module
from skvision.neural._iterator import TensorBatchIterator
from skvision.neural.modules import MODULES, ConvNet, LeNet5

# On the CPU: several tests compare with plain CPU forward passes of the fitted module.
TINY = dict(
    module__filters=4, module__fc_units=(8,), max_epochs=2, batch_size=32, random_state=0, device="cpu"
)


@pytest.fixture(scope="module")
def digits():
    X, y = load_digits(return_X_y=True)
    return X[:240], y[:240]


# ----------------------------------------------------------------------------- architectures
def test_lenet5_matches_the_course_layer_table():
    # 32x32 input, valid convolutions: 28x28x6 -> 14 -> 10x10x16 -> 5 -> 400 -> 120 -> 84 -> 10,
    # 61,706 weights.
    net = LeNet5(in_channels=1, n_outputs=10, input_size=(32, 32), padding=0)
    assert sum(p.numel() for p in net.parameters()) == 61706
    shapes = []
    x = torch.zeros(1, 1, 32, 32)
    for layer in net.features:
        x = layer(x)
        shapes.append(tuple(x.shape[1:]))
    assert shapes[:6] == [(6, 28, 28), (6, 28, 28), (6, 14, 14), (16, 10, 10), (16, 10, 10), (16, 5, 5)]
    assert [m.out_features for m in net.modules() if isinstance(m, nn.Linear)] == [120, 84, 10]


@pytest.mark.parametrize("padding", [0, 1, 2])
def test_lenet5_min_input_size_is_exact(padding):
    side = LeNet5.min_input_size(padding=padding)[0]
    assert LeNet5(input_size=(side, side), padding=padding)(torch.zeros(2, 1, side, side)).shape == (2, 10)
    with pytest.raises(ValueError, match=f"at least {side}x{side}"):
        LeNet5(input_size=(side - 1, side), padding=padding)


def test_convnet_pattern_filters_and_min_size():
    net = ConvNet(in_channels=3, n_outputs=4, input_size=(8, 8), n_blocks=3, convs_per_block=2, filters=4)
    convs = [m for m in net.modules() if isinstance(m, nn.Conv2d)]
    assert [c.out_channels for c in convs] == [4, 4, 8, 8, 16, 16]
    assert sum(isinstance(m, nn.MaxPool2d) for m in net.modules()) == 3
    assert net(torch.zeros(2, 3, 8, 8)).shape == (2, 4)
    flat = ConvNet(input_size=(12, 16), n_blocks=2, filters=(3, 5), global_pool=None, fc_units=())
    assert flat.embedding_dim == 5 * 3 * 4
    with pytest.raises(ValueError, match="at least 8x8"):
        ConvNet(input_size=(7, 8), n_blocks=3)


def test_module_resolution_and_injection():
    assert resolve_module("convnet") is ConvNet and set(MODULES) >= {"convnet", "lenet5"}
    with pytest.raises(ValueError, match="not a known architecture"):
        resolve_module("resnet9000")
    with pytest.raises(TypeError, match="module must be"):
        resolve_module(3)
    instance = nn.Linear(2, 2)
    assert resolve_module(instance) is instance
    assert module_data_params(instance, user_params={}, n_outputs=3) == {}

    def factory(n_outputs, hidden=4):
        return nn.Sequential(nn.Flatten(), nn.Linear(64, hidden), nn.ReLU(), nn.Linear(hidden, n_outputs))

    assert module_data_params(factory, user_params={}, in_channels=1, n_outputs=3) == {"n_outputs": 3}
    injected = module_data_params(ConvNet, user_params={"in_channels": 2}, in_channels=1, n_outputs=3)
    assert injected == {"n_outputs": 3}


def test_embedding_function_of_a_plain_module_is_the_input_of_its_last_linear():
    torch.manual_seed(0)
    mlp = nn.Sequential(nn.Flatten(), nn.Linear(4, 3), nn.ReLU(), nn.Linear(3, 2))
    x = torch.randn(5, 1, 2, 2)
    expected = torch.relu(mlp[1](x.flatten(1)))
    torch.testing.assert_close(embedding_function(mlp)(x), expected)


# ----------------------------------------------------------------------------- data path
def test_tensor_batches_equal_dataloader_batches():
    X, y = torch.arange(50.0).reshape(10, 5), torch.arange(10)
    ours = list(TensorBatchIterator(Dataset(X, y), batch_size=4))
    reference = list(torch.utils.data.DataLoader(Dataset(X, y), batch_size=4))
    assert len(ours) == len(reference) == 3
    for (xa, ya), (xb, yb) in zip(ours, reference):
        torch.testing.assert_close(xa, xb)
        torch.testing.assert_close(ya, yb)


def test_tensor_batches_shuffle_subset_and_lone_sample():
    X, y = torch.arange(9.0)[:, None], torch.arange(9)
    subset = torch.utils.data.Subset(Dataset(X, y), [8, 1, 2, 3, 4, 5, 6, 7, 0])
    torch.manual_seed(0)
    batches = list(TensorBatchIterator(subset, batch_size=4, shuffle=True))
    # 9 = 4 + 5: the lone last sample joins the previous batch (batch norm cannot train on one sample).
    assert [len(xb) for xb, _ in batches] == [4, 5]
    seen = torch.cat([yb for _, yb in batches])
    assert sorted(seen.tolist()) == list(range(9))
    assert all(torch.equal(xb[:, 0].long(), yb) for xb, yb in batches)
    with pytest.raises(TypeError, match="skorch Dataset of torch tensors"):
        TensorBatchIterator(Dataset(np.zeros((3, 2)), None))


# ----------------------------------------------------------------------------- estimators
def test_classifier_string_labels_proba_and_score(digits):
    X, y = digits
    labels = np.array(["zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine"])[y]
    clf = CNNClassifier(**{**TINY, "max_epochs": 4}).fit(X, labels)
    assert clf.classes_.tolist() == sorted(set(labels))
    proba = clf.predict_proba(X)
    assert proba.shape == (len(X), 10) and proba.dtype == np.float64
    # To float64's precision: a float32 softmax cast (1.5e-7 off) made log_loss warn on every call.
    np.testing.assert_allclose(proba.sum(axis=1), 1.0, rtol=0, atol=4 * np.finfo(np.float64).eps)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert log_loss(labels, proba, labels=clf.classes_) > 0
    pred = clf.predict(X)
    assert set(pred) <= set(labels)
    np.testing.assert_array_equal(pred, clf.classes_[proba.argmax(1)])
    assert clf.score(X, labels) == pytest.approx(np.mean(pred == labels))
    assert clf.n_epochs_ == 4 and clf.image_shape_ == (8, 8) and clf.n_channels_ == 1


def test_a_column_y_warns_once_and_fits_as_the_1d_y(digits):
    from sklearn.exceptions import DataConversionWarning

    X, y = digits
    with pytest.warns(DataConversionWarning) as caught:
        column = CNNClassifier(**TINY).fit(X, y[:, None])
    assert sum(issubclass(w.category, DataConversionWarning) for w in caught) == 1  # it came twice
    np.testing.assert_array_equal(column.predict_proba(X), CNNClassifier(**TINY).fit(X, y).predict_proba(X))


def test_cnn_features_messages_name_cnn_features(digits):
    # They named the CNNClassifier inside, which the user never made.
    X, y = digits
    features = CNNFeatures(**TINY).fit(X, y)
    with pytest.raises(ValueError, match=r"but CNNFeatures was fitted on images of shape \(8, 8\)"):
        features.transform(np.zeros((2, 9, 9), dtype=np.uint8))
    with pytest.raises(ValueError, match="CNNFeatures was fitted on uint8 images"):
        features.transform(X[:3].astype(float))
    with pytest.raises(ValueError, match="CNNFeatures needs samples of at least 2 classes"):
        CNNFeatures(**TINY, task="classification").fit(X[:10], np.zeros(10, dtype=int))
    with pytest.raises(ValueError, match="CNNClassifier needs samples of at least 2 classes"):
        CNNClassifier(**TINY).fit(X[:10], np.zeros(10, dtype=int))


def test_classifier_learns_digits(digits):
    X, y = load_digits(return_X_y=True)
    # The default width (16 filters): with 8, 10 epochs land at 0.89-0.90 depending on the thread count.
    clf = CNNClassifier(max_epochs=10, random_state=0).fit(X[:600], y[:600])
    assert clf.score(X[600:900], y[600:900]) >= 0.9


def test_uint8_is_scaled_like_float_images(digits):
    X, y = digits
    a = CNNClassifier(**TINY).fit(X, y).predict_proba(X)
    b = CNNClassifier(**TINY).fit(X / 255.0, y).predict_proba(X / 255.0)
    np.testing.assert_allclose(a, b, atol=1e-5)


def test_colour_images_channels_last():
    rng = np.random.default_rng(0)
    X = rng.integers(0, 256, size=(40, 8, 8, 3), dtype=np.uint8)
    y = (X[..., 0].mean(axis=(1, 2)) > X[..., 2].mean(axis=(1, 2))).astype(int)
    clf = CNNClassifier(**TINY).fit(X, y)
    assert clf.net_.module_.features[0].in_channels == 3
    assert clf.predict(X).shape == (40,)
    # A test folder saved as grey PNGs: the message said the shapes and nothing else.
    with pytest.raises(
        ValueError,
        match=r"fitted on images of shape \(8, 8, 3\): grey \(no channel axis\) "
        r"images where the training images were 3-channel; read them as colour .*color_mode='rgb'",
    ):
        clf.predict(X[..., 0])
    rgba = np.concatenate([X, np.full((40, 8, 8, 1), 255, np.uint8)], axis=-1)
    with pytest.raises(
        ValueError, match=r"4-channel images where .* 3-channel; drop the alpha channel: X\[\.\.\., :3\]"
    ):
        clf.predict(rgba)
    with pytest.raises(ValueError, match=r"resize them first: skvision.preprocessing.Resize\(\(8, 8\)\)"):
        clf.predict(np.zeros((2, 9, 9, 3), np.uint8))
    grey = CNNClassifier(**TINY).fit(X[..., 0], y)
    with pytest.raises(ValueError, match=r"3-channel images where .* grey .*Grayscale\(\)"):
        grey.predict(X)


def test_regressor_1d_and_2d_targets_standardised():
    rng = np.random.default_rng(0)
    X = rng.random((80, 8, 8)).astype(np.float32)
    y2 = np.c_[X.mean(axis=(1, 2)) * 1000 + 500, X[:, :4].mean(axis=(1, 2))]
    reg = CNNRegressor(**TINY).fit(X, y2)
    assert reg.predict(X).shape == (80, 2) and reg.n_outputs_ == 2
    np.testing.assert_allclose(reg.y_mean_, y2.mean(axis=0))
    reg1 = CNNRegressor(**TINY).fit(X, y2[:, 0])
    pred = reg1.predict(X)
    assert pred.shape == (80,)
    # Predictions live on the target's scale (mean ~1000), not on the standardised one.
    assert abs(pred.mean() - y2[:, 0].mean()) < 3 * y2[:, 0].std()


def test_features_embedding_is_the_penultimate_layer(digits):
    X, y = digits
    feats = CNNFeatures(**TINY).fit(X, y)
    assert feats.estimator_.__class__ is CNNClassifier
    Z = feats.transform(X)
    assert Z.shape == (len(X), 8) and Z.dtype == np.float64 and feats.embedding_dim_ == 8
    module = feats.estimator_.net_.module_.eval()
    with torch.no_grad():
        x = torch.as_tensor(X[:5, None] / 255.0, dtype=torch.float32)
        expected = module.embedding(module.features(x))
    np.testing.assert_allclose(Z[:5], expected.numpy(), rtol=1e-5, atol=1e-6)
    assert feats.get_feature_names_out().tolist() == [f"cnnfeatures{i}" for i in range(8)]

    lenet = CNNFeatures(module="lenet5", max_epochs=1, random_state=0).fit(X, y.astype(float) / 9)
    assert lenet.estimator_.__class__ is CNNRegressor and lenet.transform(X[:3]).shape == (3, 84)
    # Whole-number floats (counts, ages) are regression targets too, as documented; not 10 classes.
    counts = CNNFeatures(**{**TINY, "max_epochs": 1}).fit(X, y.astype(float))
    assert counts.estimator_.__class__ is CNNRegressor
    with pytest.raises(ValueError, match="supervised"):
        CNNFeatures().fit(X, None)


def test_instance_module_is_copied_and_output_count_checked(digits):
    X, y = digits
    torch.manual_seed(0)
    module = nn.Sequential(nn.Flatten(), nn.Linear(64, 16), nn.ReLU(), nn.Linear(16, 10))
    before = [p.detach().clone() for p in module.parameters()]
    clf = CNNClassifier(module=module, max_epochs=1, random_state=0).fit(X, y)
    assert all(torch.equal(a, b) for a, b in zip(before, module.parameters()))
    assert clf.net_.module_ is not module
    wrong = nn.Sequential(nn.Flatten(), nn.Linear(64, 3))
    with pytest.raises(ValueError, match=r"needs \(batch, 10\)"):
        CNNClassifier(module=wrong, max_epochs=1).fit(X, y)


def test_factory_module_gets_data_params(digits):
    X, y = digits

    def small_mlp(in_channels, input_size, n_outputs, hidden=12):
        n_in = in_channels * input_size[0] * input_size[1]
        return nn.Sequential(nn.Flatten(), nn.Linear(n_in, hidden), nn.ReLU(), nn.Linear(hidden, n_outputs))

    clf = CNNClassifier(module=small_mlp, module__hidden=7, max_epochs=1, random_state=0).fit(X, y)
    assert [m.out_features for m in clf.net_.module_.modules() if isinstance(m, nn.Linear)] == [7, 10]


# ----------------------------------------------------------------------------- bad input
def _never_trains():
    class Fail(Callback):
        def on_train_begin(self, net, **kwargs):
            raise AssertionError("training started")

    return [("fail", Fail())]


@pytest.mark.parametrize(
    "make_X, y_len, kwargs, match",
    [
        (lambda X: X[0], 240, {}, "batch of images"),
        (lambda X: np.where(X == 0, np.nan, X / 255.0), 240, {}, "NaN"),
        (lambda X: X, 239, {}, "inconsistent numbers of samples"),
        (lambda X: X[:, :7, :7], 240, {}, r"at least 8x8 for module='convnet'"),
        (lambda X: X, 240, {"module__n_blocks": 4}, r"at least 16x16 for module='convnet' with n_blocks=4"),
        (lambda X: X, 240, {"module": "lenet5", "module__padding": 0}, "at least 16x16"),
        (lambda X: X, 240, {"augment": "heavy"}, "augment"),
        (lambda X: X, 240, {"module": "resnet9000"}, "not a known architecture"),
        (lambda X: X, 240, {"lr_schedule": "linear"}, "lr_schedule"),
        (lambda X: X, 240, {"precision": "8"}, "precision"),
        (lambda X: X, 240, {"modul__filters": 3}, "unexpected parameter"),
        (lambda X: X.transpose(0, 2, 1)[:, None].repeat(3, axis=1), 240, {}, "channels"),
    ],
)
def test_bad_input_fails_before_training(digits, make_X, y_len, kwargs, match):
    X, y = digits
    with pytest.raises(ValueError, match=match):
        CNNClassifier(callbacks=_never_trains(), **kwargs).fit(make_X(X), y[:y_len])


def test_single_class_and_continuous_labels_rejected(digits):
    X, y = digits
    with pytest.raises(ValueError, match=r"at least 2 classes; y holds only the class 0\.0\.$"):
        CNNClassifier(callbacks=_never_trains()).fit(X, np.zeros(len(X)))
    with pytest.raises(ValueError, match=r"y holds only the class 'cat'\.$"):
        CNNClassifier(callbacks=_never_trains()).fit(X, np.full(len(X), "cat"))
    with pytest.raises(ValueError, match="Unknown label type"):
        CNNClassifier(callbacks=_never_trains()).fit(X, np.linspace(0, 1, len(X)))
    with pytest.raises(ValueError, match="NaN"):
        CNNRegressor(callbacks=_never_trains()).fit(X, np.full(len(X), np.nan))


def test_unknown_device_and_missing_cuda(digits):
    X, y = digits
    with pytest.raises(ValueError, match="not a valid device"):
        CNNClassifier(device="tpu9").fit(X, y)
    if not torch.cuda.is_available():
        with pytest.raises(ValueError, match="no CUDA device"):
            CNNClassifier(device="cuda").fit(X, y)
        assert CNNClassifier(**{**TINY, "max_epochs": 1, "device": "auto"}).fit(X, y).device_ == "cpu"


# ----------------------------------------------------------------------------- training tools
class _Snapshots(Callback):
    """Keeps the module weights at the end of every epoch; optionally interrupts."""

    def __init__(self, interrupt_at=None):
        self.interrupt_at = interrupt_at

    def initialize(self):
        self.states_ = []
        return self

    def on_epoch_end(self, net, **kwargs):
        self.states_.append({k: v.detach().clone() for k, v in net.module_.state_dict().items()})
        if self.interrupt_at is not None and len(net.history) == self.interrupt_at:
            raise KeyboardInterrupt


def _same_state(a, b):
    return all(torch.equal(a[k], b[k]) for k in a)


def test_keyboard_interrupt_leaves_a_usable_model_with_its_weights(digits):
    X, y = digits
    snapshots = _Snapshots(interrupt_at=3)
    with pytest.warns(UserWarning, match="after epoch 3 of 10"):
        clf = CNNClassifier(**{**TINY, "max_epochs": 10}, callbacks=[("snap", snapshots)]).fit(X, y)
    assert clf.n_epochs_ == 3
    assert _same_state(clf.net_.module_.state_dict(), snapshots.states_[-1])
    assert clf.predict(X).shape == (len(X),)


def test_early_stopping_restores_best_weights(digits):
    X, y = digits
    snapshots = _Snapshots()
    clf = CNNClassifier(
        **{**TINY, "max_epochs": 30},
        lr=0.05,
        lr_schedule=None,
        early_stopping=True,
        n_iter_no_change=2,
        callbacks=[("snap", snapshots)],
    ).fit(X, y)
    valid = clf.net_.history[:, "valid_loss"]
    assert clf.n_epochs_ < 30  # it stopped
    best = int(np.argmin(valid))
    assert best < len(valid) - 1
    assert _same_state(clf.net_.module_.state_dict(), snapshots.states_[best])


@pytest.mark.parametrize("schedule", ["onecycle", "cosine", "step"])
def test_lr_schedules(digits, schedule):
    X, y = digits
    clf = CNNClassifier(**{**TINY, "max_epochs": 6}, lr=0.01, lr_schedule=schedule).fit(X, y)
    history = clf.net_.history
    if schedule == "onecycle":
        rates = [r for epoch in history[:, "batches"] for r in (b["event_lr"] for b in epoch)]
        assert max(rates) == pytest.approx(0.01, rel=0.02) and rates[0] < 0.001 and rates[-1] < 1e-4
        assert len(rates) == 6 * int(np.ceil(240 / 32))
    else:
        rates = history[:, "event_lr"]
        if schedule == "cosine":
            assert rates[0] == pytest.approx(0.01) and all(np.diff(rates) < 0)
        else:
            np.testing.assert_allclose(rates, [0.01, 0.01, 0.001, 0.001, 1e-4, 1e-4])


@pytest.mark.parametrize(
    "epochs, factors",
    [(4, [1, 0.1, 0.1, 0.01]), (5, [1, 1, 0.1, 0.01, 0.01]), (10, [1] * 3 + [0.1] * 4 + [0.01] * 3)],
)
def test_the_step_schedule_divides_twice(digits, epochs, factors):
    # "divided by 10 at 1/3 and 2/3 of the epochs": StepLR(step_size=epochs // 3) divided 3-4 times
    # (5 epochs: 1, 0.1, 0.01, 0.001, 0.0001).
    X, y = digits
    clf = CNNClassifier(**{**TINY, "max_epochs": epochs}, lr=0.01, lr_schedule="step").fit(X[:64], y[:64])
    np.testing.assert_allclose(clf.net_.history[:, "event_lr"], 0.01 * np.array(factors))


def test_checkpoint_then_resume(tmp_path, digits):
    X, y = digits
    params = {**TINY, "lr_schedule": "onecycle", "checkpoint": tmp_path}
    stop = [("stop", _Snapshots(interrupt_at=2))]
    with pytest.warns(UserWarning, match="interrupted"):
        first = CNNClassifier(**{**params, "max_epochs": 6}, callbacks=stop).fit(X, y)
    folder = fit_checkpoint(tmp_path)
    assert (folder / "params.pt").exists() and (folder / "optimizer.pt").exists()
    saved_losses = first.net_.history[:, "train_loss"]
    resumed = CNNClassifier(**{**params, "max_epochs": 6}).fit(X, y)
    history = resumed.net_.history
    assert len(history) == 6
    np.testing.assert_allclose(history[:2, "train_loss"], saved_losses)
    # The one-cycle schedule continues where it stopped (as in an uninterrupted run), not from its warm-up.
    uninterrupted = CNNClassifier(**{**params, "checkpoint": None, "max_epochs": 6}).fit(X, y).net_.history
    np.testing.assert_allclose(
        [b["event_lr"] for b in history[2, "batches"]], [b["event_lr"] for b in uninterrupted[2, "batches"]]
    )


def test_augmentation_only_in_training(digits):
    X, y = digits

    class Count(nn.Module):
        calls = 0

        def forward(self, x):
            Count.calls += 1
            return x

    clf = CNNClassifier(**TINY, augment=[Count()]).fit(X, y)
    n_training_batches = 2 * int(np.ceil(240 / 32))
    assert Count.calls == n_training_batches
    clf.predict(X)
    assert Count.calls == n_training_batches
    # The 'light' preset changes training but not prediction, which stays deterministic.
    light = CNNClassifier(**TINY, augment="light").fit(X, y)
    np.testing.assert_array_equal(light.predict_proba(X), light.predict_proba(X))
    plain = CNNClassifier(**TINY, augment="none").fit(X, y)
    assert not np.allclose(light.predict_proba(X), plain.predict_proba(X))


def test_augment_presets_keep_shape_and_vary_per_sample():
    torch.manual_seed(0)
    x = torch.rand(1, 3, 16, 16).repeat(6, 1, 1, 1)
    for preset in ("light", "standard"):
        out = build_augmentation(preset)(x)
        assert out.shape == x.shape
        assert not torch.allclose(out[0], out[1])  # random per sample, not per batch
    with pytest.raises(TypeError, match=r"augment\[1\]"):
        build_augmentation([nn.Identity(), "flip"])


def _untrained_with_mixup(estimator_class, n_outputs, X, y):
    """A linear network on ``X`` with mixup 0.4, initialised and untrained (max_epochs=0)."""
    with pytest.warns(UserWarning, match=rf"{estimator_class.__name__}\(max_epochs=0\) trains nothing"):
        return estimator_class(
            module=nn.Sequential(nn.Flatten(), nn.Linear(4, n_outputs)),
            mixup=0.4,
            augment="none",
            max_epochs=0,
            random_state=0,
            device="cpu",
        ).fit(X, y)


def test_mixup_loss_matches_hand_computation():
    X = np.random.default_rng(0).random((6, 2, 2)).astype(np.float32)
    y = np.array([0, 1, 2, 0, 1, 2])
    net = _untrained_with_mixup(CNNClassifier, 3, X, y).net_
    xb, yb = torch.as_tensor(X[:, None]), torch.as_tensor(y)
    torch.manual_seed(7)
    step = net.train_step_single((xb, yb))
    torch.manual_seed(7)
    weight = float(torch.distributions.Beta(0.4, 0.4).sample())
    partner = torch.randperm(6)
    mixed = weight * xb + (1 - weight) * xb[partner]
    logits = net.module_(mixed)

    def ce(logits, targets):
        return nn.functional.cross_entropy(logits, targets, label_smoothing=0.1)  # the classifier's default

    expected = weight * ce(logits, yb) + (1 - weight) * ce(logits, yb[partner])
    torch.testing.assert_close(step["loss"], expected)


def test_regression_mixup_mixes_the_targets():
    # Mixing two squared errors logged w(1-w)(y-y')^2 on top of the error: train_loss never reached 0.
    X = np.random.default_rng(0).random((6, 2, 2)).astype(np.float32)
    y = np.arange(6, dtype=np.float64) * 10
    est = _untrained_with_mixup(CNNRegressor, 1, X, y)
    net = est.net_
    xb = torch.as_tensor(X[:, None])
    yb = torch.as_tensor(((y - est.y_mean_) / est.y_scale_).astype(np.float32)[:, None])
    torch.manual_seed(7)
    net.optimizer_.zero_grad()
    step = net.train_step_single((xb, yb))
    grads = [p.grad.clone() for p in net.module_.parameters()]
    torch.manual_seed(7)
    weight = float(torch.distributions.Beta(0.4, 0.4).sample())
    partner = torch.randperm(6)
    net.optimizer_.zero_grad()
    pred = net.module_(weight * xb + (1 - weight) * xb[partner])
    mse = nn.functional.mse_loss
    torch.testing.assert_close(step["loss"], mse(pred, weight * yb + (1 - weight) * yb[partner]))
    mixed_losses = weight * mse(pred, yb) + (1 - weight) * mse(pred, yb[partner])
    assert mixed_losses > step["loss"] + 1e-3  # the constant term the old loss carried
    mixed_losses.backward()  # the same gradient as before
    for got, expected in zip(grads, net.module_.parameters()):
        torch.testing.assert_close(got, expected.grad)


def test_a_float64_default_dtype_is_named_not_read_as_a_shape(digits):
    X, y = digits
    previous = torch.get_default_dtype()
    torch.set_default_dtype(torch.float64)
    try:
        with pytest.raises(
            TypeError, match=r"default dtype is torch.float64 .*set_default_dtype\(torch.float32\)"
        ):
            CNNClassifier(**TINY).fit(X[:40], y[:40])
    finally:
        torch.set_default_dtype(previous)
    assert CNNClassifier(**{**TINY, "max_epochs": 1}).fit(X[:40], y[:40]).predict(X[:2]).shape == (2,)


def test_label_smoothing_and_balanced_class_weight(digits):
    X, y = digits
    keep = (y != 3) | (np.arange(len(y)) % 4 == 0)
    Xs, ys = X[keep], y[keep]
    clf = CNNClassifier(**{**TINY, "max_epochs": 1}, label_smoothing=0.1, class_weight="balanced").fit(Xs, ys)
    criterion = clf.net_.criterion_
    assert criterion.label_smoothing == 0.1
    counts = np.bincount(ys)
    np.testing.assert_allclose(criterion.weight.numpy(), len(ys) / (10 * counts), rtol=1e-6)
    weights = {3: 5.0}
    clf = CNNClassifier(**{**TINY, "max_epochs": 1}, class_weight=weights).fit(Xs, ys)
    assert clf.net_.criterion_.weight.tolist() == [1, 1, 1, 5, 1, 1, 1, 1, 1, 1]
    # A str key for int labels reads as one; a negative weight trained every image towards class 0.
    with pytest.raises(
        ValueError, match=r"class_weight has labels '3' that are not in y; y's labels are 0, 1,"
    ):
        CNNClassifier(**TINY, class_weight={"3": 5.0}).fit(Xs, ys)
    for bad in ({0: -5.0}, {0: float("nan")}, dict.fromkeys(range(10), 0.0)):
        with pytest.raises(ValueError, match="class_weight must give every class a finite weight >= 0"):
            CNNClassifier(**TINY, class_weight=bad).fit(Xs, ys)


def test_tta_averages_probabilities_of_augmented_copies(digits):
    import kornia.augmentation as K

    X, y = digits
    flip = K.RandomHorizontalFlip(p=1.0)
    clf = CNNClassifier(**TINY, augment=[flip]).fit(X, y)
    plain = clf.predict_proba(X[:20])
    flipped = clf.predict_proba(X[:20, :, ::-1])
    clf.set_params(tta=3)
    averaged = clf.predict_proba(X[:20])
    np.testing.assert_allclose(averaged, (plain + 3 * flipped) / 4, rtol=1e-4, atol=1e-6)

    reg = CNNRegressor(**TINY, augment=[flip], tta=1).fit(X, y.astype(float))
    reg_plain = reg.set_params(tta=0).predict(X[:20])
    reg_flip = reg.predict(X[:20, :, ::-1])
    np.testing.assert_allclose(reg.set_params(tta=1).predict(X[:20]), (reg_plain + reg_flip) / 2, rtol=1e-4)


class _RandomShift(torch.nn.Module):
    """Not a kornia module: draws from torch's global generator when called."""

    def forward(self, batch):
        return batch + 0.1 * torch.randn(len(batch), 1, 1, 1, device=batch.device)


@pytest.mark.parametrize("augment", ["standard", [_RandomShift()]], ids=["kornia", "custom-module"])
def test_tta_prediction_of_an_image_does_not_depend_on_the_rest_of_the_call(digits, augment):
    """Augmented copies drew from one stream per batch: an image's TTA prediction changed with the
    other images of the call, their order and the batch size (2 labels of 200 changed)."""
    X, y = digits
    clf = CNNClassifier(**TINY, augment=augment, tta=4).fit(X, y)
    proba = clf.predict_proba(X[:120])
    assert not np.allclose(proba, clf.set_params(tta=0).predict_proba(X[:120]))
    clf.set_params(tta=4)
    np.testing.assert_allclose(clf.predict_proba(X[40:80]), proba[40:80], rtol=1e-5, atol=1e-7)
    np.testing.assert_allclose(clf.predict_proba(X[:120][::-1]), proba[::-1], rtol=1e-5, atol=1e-7)
    rebatched = clf.set_params(batch_size=7).predict_proba(X[:120])
    np.testing.assert_allclose(rebatched, proba, rtol=1e-5, atol=1e-7)
    # Another seed draws other copies; the caller's random stream is untouched.
    torch.manual_seed(5)
    expected_next = torch.rand(1)
    torch.manual_seed(5)
    other = clf.set_params(random_state=1).predict_proba(X[:120])
    assert torch.equal(torch.rand(1), expected_next)
    assert not np.allclose(other, proba)


def test_regressor_tta_without_training_augmentation_warns(digits):
    # The regressor trains without augmentation (targets may follow the geometry); tta then averaged
    # over 'light' shifts and rotations it never saw: a disk's centre came out 3x further off, silently.
    X, y = digits
    regressor = CNNRegressor(**TINY).fit(X, y.astype(float))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        regressor.predict(X[:4])  # tta=0: nothing to say
    with pytest.warns(
        UserWarning, match=r"CNNRegressor\(tta=2\) averages predictions over 'light'.*augment='none'"
    ):
        regressor.set_params(tta=2).predict(X[:4])
    trained = CNNRegressor(**TINY, augment="light", tta=2).fit(X, y.astype(float))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        trained.predict(X[:4])  # the transforms it was trained with


def test_cnn_features_tta_averages_the_embeddings_of_augmented_copies(digits):
    """CNNFeatures took tta and documented it, but transform ignored it."""
    import kornia.augmentation as K

    X, y = digits
    features = CNNFeatures(**TINY, augment=[K.RandomHorizontalFlip(p=1.0)]).fit(X, y)
    plain = features.transform(X[:20])
    flipped = features.transform(X[:20, :, ::-1])
    averaged = features.set_params(tta=3).transform(X[:20])
    np.testing.assert_allclose(averaged, (plain + 3 * flipped) / 4, rtol=1e-5, atol=1e-6)
    assert not np.allclose(averaged, plain)
    np.testing.assert_array_equal(features.set_params(tta=0).transform(X[:20]), plain)


def test_random_state_reproducible_and_global_rng_untouched(digits):
    X, y = digits
    torch.manual_seed(123)
    expected_next = torch.rand(1)
    torch.manual_seed(123)
    a = CNNClassifier(**TINY, augment="standard", mixup=0.2).fit(X, y).predict_proba(X)
    assert torch.equal(torch.rand(1), expected_next)
    b = CNNClassifier(**TINY, augment="standard", mixup=0.2).fit(X, y).predict_proba(X)
    np.testing.assert_array_equal(a, b)
    c = CNNClassifier(**{**TINY, "random_state": 1}, augment="standard", mixup=0.2).fit(X, y).predict_proba(X)
    assert not np.allclose(a, c)


def test_verbose(capsys, digits, monkeypatch):
    X, y = digits
    CNNClassifier(**TINY, verbose=0).fit(X, y)
    captured = capsys.readouterr()
    assert captured.out == "" and captured.err == ""
    # stderr in a log file: the epoch table, and no bar (each epoch left a frozen "0%|" fragment there).
    CNNClassifier(**TINY, verbose=1).fit(X, y)
    captured = capsys.readouterr()
    assert "train_loss" in captured.out and captured.err == ""
    # On a terminal, skorch's bar over each epoch's batches.
    monkeypatch.setattr(sys.stderr, "isatty", lambda: True, raising=False)
    CNNClassifier(**TINY, verbose=1).fit(X, y)
    captured = capsys.readouterr()
    assert "train_loss" in captured.out and "it/s" in captured.err


def test_verbose_in_a_notebook_without_ipywidgets(capsys, digits, monkeypatch):
    # tqdm's notebook bar needs ipywidgets: skorch's raised "IProgress not found" from the first epoch.
    from skvision.neural._callbacks import TerminalProgressBar

    X, y = digits
    monkeypatch.setattr(TerminalProgressBar, "_use_notebook", lambda self: True)
    monkeypatch.setitem(sys.modules, "ipywidgets", None)  # not installed
    clf = CNNClassifier(**TINY, verbose=1).fit(X, y)
    captured = capsys.readouterr()
    assert "train_loss" in captured.out and captured.err == "" and clf.n_epochs_ == TINY["max_epochs"]


def test_bf16_precision_on_cpu(digits):
    X, y = digits
    clf = CNNClassifier(**TINY, precision="bf16").fit(X, y)
    proba = clf.predict_proba(X)
    assert np.isfinite(proba).all() and proba.dtype == np.float64
    # float16 runs as bfloat16 on the CPU: the same bits, and a warning that says so (it said nothing).
    with pytest.warns(UserWarning, match="precision='16-mixed' .* runs as bfloat16 autocast on the CPU"):
        mixed = CNNFeatures(**TINY, precision="16-mixed").fit(X, y).transform(X)
    bf16 = CNNFeatures(**TINY, precision="bf16").fit(X, y).transform(X)
    np.testing.assert_array_equal(mixed, bf16)


def test_pickle_round_trip_and_gpu_trained_model_loads_on_cpu(digits):
    X, y = digits
    clf = CNNClassifier(**TINY).fit(X, y)
    expected = clf.predict_proba(X)
    np.testing.assert_array_equal(pickle.loads(pickle.dumps(clf)).predict_proba(X), expected)
    if torch.cuda.is_available():
        pytest.skip("the CPU fallback is only observable without CUDA")
    # A model pickled on a CUDA machine records device 'cuda'; skorch maps its tensors to the CPU here.
    clf.net_.device = "cuda"
    payload = pickle.dumps(clf)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        loaded = pickle.loads(payload)
    assert any("no CUDA devices" in str(w.message) for w in caught)
    assert str(loaded.net_.device) == "cpu"
    np.testing.assert_allclose(loaded.predict_proba(X), expected, rtol=1e-6)


def test_partial_fit(digits):
    X, y = digits
    clf = CNNClassifier(**TINY)
    with pytest.raises(ValueError, match="classes must be passed"):
        clf.partial_fit(X[:100], y[:100])
    clf.partial_fit(X[:100], y[:100], classes=np.arange(10))
    clf.partial_fit(X[100:], y[100:])
    assert clf.n_epochs_ == 2 and clf.classes_.tolist() == list(range(10))
    with pytest.raises(ValueError, match="not in classes"):
        clf.partial_fit(X[:5], np.array([0, 1, 2, 3, 42]))
    # After a scheduled fit, partial_fit continues with one epoch at the base rate.
    fitted = CNNClassifier(**TINY, lr=0.01, lr_schedule="cosine").fit(X, y)
    fitted.partial_fit(X, y)
    assert fitted.n_epochs_ == 3
    assert all(b.get("event_lr") is None for b in fitted.net_.history[-1, "batches"])
    assert fitted.net_.optimizer_.param_groups[0]["lr"] == 0.01  # not 0, where the cosine schedule ended

    reg = CNNRegressor(**TINY).partial_fit(X, y.astype(float))
    reg.partial_fit(X, y.astype(float))
    assert reg.n_epochs_ == 2


def test_unknown_fit_keywords_name_the_public_class_and_what_to_use(digits):
    """sample_weight (sklearn's routing passes it) named the private _SupervisedCNN, or a private helper."""
    X, y = digits
    weights = np.ones(len(y))
    with pytest.raises(TypeError, match=r"CNNClassifier\.fit\(\).*'sample_weight'.*class_weight='balanced'"):
        CNNClassifier(**TINY).fit(X, y, sample_weight=weights)
    with pytest.raises(TypeError, match=r"CNNRegressor\.fit\(\).*'sample_weight'") as caught:
        CNNRegressor(**TINY).fit(X, y.astype(float), sample_weight=weights)
    assert "class_weight" not in str(caught.value)  # the regressor has none
    with pytest.raises(TypeError, match=r"CNNRegressor\.partial_fit\(\).*'classes'"):
        CNNRegressor(**TINY).partial_fit(X, y.astype(float), classes=np.arange(10))
    with pytest.raises(TypeError, match=r"CNNClassifier\.partial_fit\(\).*'sample_weight'"):
        CNNClassifier(**TINY).partial_fit(X, y, classes=np.arange(10), sample_weight=weights)


def test_partial_fit_after_fit_with_other_classes_names_what_built_the_model(digits):
    """It said "the classes of the first partial_fit call" where there had been none, only fit."""
    X, y = digits
    clf = CNNClassifier(**TINY).fit(X, y)
    with pytest.raises(
        ValueError, match=r"differs from the classes the model was built for.*by fit or the first"
    ):
        clf.partial_fit(X, y, classes=np.arange(12))


def test_build_callbacks_order_and_validation():
    callbacks = build_callbacks(
        lr=0.1,
        max_epochs=3,
        steps_per_epoch=2,
        validation=True,
        early_stopping=True,
        lr_schedule="onecycle",
        checkpoint="cp",
        verbose=1,
    )
    names = [name for name, _ in callbacks]
    # A NaN loss stops the fit before the checkpoint saves its weights.
    assert names == ["resume", "lr_schedule", "early_stopping", "non_finite_loss", "checkpoint", "progress"]
    with pytest.raises(ValueError, match="validation split"):
        build_callbacks(lr=0.1, max_epochs=3, steps_per_epoch=2, validation=False, early_stopping=True)


# ----------------------------------------------------------------------------- max_epochs='auto'
def test_auto_epochs_scale_with_the_data_and_are_recorded(digits):
    from skvision.neural._estimator import auto_max_epochs

    # ~30,000 images shown, 5 to 20 epochs: the digits get 20, 60,000 images get 5.
    assert [auto_max_epochs(n, 30_000, 5, 20) for n in (100, 1_500, 1_501, 4_000, 6_000, 60_000)] == [
        20,
        20,
        20,
        8,
        5,
        5,
    ]
    X, y = digits
    params = {**TINY, "batch_size": 120}
    params.pop("max_epochs")
    clf = CNNClassifier(**params, max_epochs="auto").fit(X, y)
    assert clf.max_epochs_ == 20 and clf.n_epochs_ == 20 and len(clf.net_.history) == 20
    assert CNNClassifier(**params, max_epochs=3).fit(X, y).max_epochs_ == 3
    with pytest.raises(ValueError, match="max_epochs"):
        CNNClassifier(max_epochs="many").fit(X, y)


def test_a_checkpoint_folder_keeps_each_fit_apart(tmp_path, digits):
    """CV folds share the estimator's checkpoint parameter: each resumes only its own fit."""
    from sklearn.model_selection import KFold, cross_validate

    X, y = digits
    params = {**TINY, "max_epochs": 2, "checkpoint": tmp_path}
    folds = KFold(3, shuffle=True, random_state=0)
    shared = cross_validate(CNNClassifier(**params), X, y, cv=folds, return_estimator=True)
    alone = cross_validate(CNNClassifier(**{**params, "checkpoint": None}), X, y, cv=folds)
    # Each fold trained on its own images (before, folds 2 and 3 loaded fold 1's finished model).
    np.testing.assert_array_equal(shared["test_score"], alone["test_score"])
    assert len(list(tmp_path.glob("fit-*"))) == 3
    assert all(estimator.n_epochs_ == 2 for estimator in shared["estimator"])
    # Other targets, or another network, start their own training instead of loading another's weights
    # (another network used to fail with torch's "size mismatch" in loading).
    relabelled = CNNClassifier(**params).fit(X, (y + 1) % 10)
    assert relabelled.net_.history[0, "epoch"] == 1 and len(list(tmp_path.glob("fit-*"))) == 4
    wider = CNNClassifier(**{**params, "module__filters": 8}).fit(X, y)
    assert wider.n_epochs_ == 2 and len(list(tmp_path.glob("fit-*"))) == 5
    # With a schedule (the default one-cycle, laid out over max_epochs) another max_epochs is another
    # training, in its own folder: an 8-epoch grid-search candidate resumed the finished 4-epoch one.
    longer = CNNClassifier(**{**params, "max_epochs": 3}).fit(X, (y + 1) % 10)
    assert longer.net_.history[0, "epoch"] == 1 and len(list(tmp_path.glob("fit-*"))) == 6
    fresh = CNNClassifier(**{**params, "max_epochs": 3, "checkpoint": None}).fit(X, (y + 1) % 10)
    np.testing.assert_allclose(longer.net_.history[:, "train_loss"], fresh.net_.history[:, "train_loss"])
    # Without a schedule the same fit with more epochs resumes its checkpoint and trains the rest.
    plain = {**params, "lr_schedule": None}
    first = CNNClassifier(**plain).fit(X, y)
    again = CNNClassifier(**{**plain, "max_epochs": 3}).fit(X, y)
    assert len(again.net_.history) == 3 and len(list(tmp_path.glob("fit-*"))) == 7
    np.testing.assert_allclose(again.net_.history[:2, "train_loss"], first.net_.history[:, "train_loss"])


def test_a_grid_search_over_max_epochs_scores_the_same_with_a_checkpoint_folder(tmp_path, digits):
    # max_epochs was left out of the key: the 3-epoch candidates resumed the finished 2-epoch ones under
    # a one-cycle schedule laid out for 3 (0.762 against 0.818 without the folder in the report).
    from sklearn.model_selection import GridSearchCV

    X, y = digits
    grid = {"max_epochs": [2, 3]}
    with_folder = GridSearchCV(CNNClassifier(**TINY, checkpoint=tmp_path), grid, cv=2).fit(X, y)
    without = GridSearchCV(CNNClassifier(**TINY), grid, cv=2).fit(X, y)
    np.testing.assert_array_equal(
        with_folder.cv_results_["mean_test_score"], without.cv_results_["mean_test_score"]
    )
    assert len(list(tmp_path.glob("fit-*"))) == 2 * 2 + 1  # each candidate on each fold, and the refit


@pytest.mark.parametrize("schedule", ["onecycle", "cosine"])
def test_partial_fit_after_fit_trains_at_lr_not_where_the_schedule_ended(digits, schedule):
    X, y = digits
    model = CNNClassifier(**{**TINY, "lr": 0.01, "lr_schedule": schedule}).fit(X, y)
    assert model.net_.optimizer_.param_groups[0]["lr"] < 1e-3  # where the schedule ended (0 for cosine)
    before = [p.detach().clone() for p in model.net_.module_.parameters()]
    model.partial_fit(X, y)
    assert model.net_.optimizer_.param_groups[0]["lr"] == pytest.approx(0.01)
    moved = max(float((p.detach() - b).abs().max()) for p, b in zip(model.net_.module_.parameters(), before))
    assert moved > 1e-3, "the epoch trained"


def test_partial_fit_trains_at_the_lr_and_batch_size_set_since(digits):
    """set_params(lr=..., batch_size=...) between partial_fit calls: the next epoch ran at the first ones."""
    X, y = digits
    model = CNNClassifier(**{**TINY, "lr": 0.01, "batch_size": 64})
    model.partial_fit(X, y, classes=np.arange(10))
    model.set_params(lr=0.002, batch_size=20).partial_fit(X, y)
    assert [group["lr"] for group in model.net_.optimizer_.param_groups] == [0.002]
    assert len(model.net_.history[-1, "batches"]) == int(np.ceil(len(X) / 20))
    fitted = CNNClassifier(**{**TINY, "lr": 0.01}).fit(X, y)
    fitted.set_params(lr=0.004).partial_fit(X, y)  # after fit too (the schedule's peak was 0.01)
    assert fitted.net_.optimizer_.param_groups[0]["lr"] == pytest.approx(0.004)


def test_a_checkpoint_is_resumed_only_by_a_fit_with_the_same_training_settings(tmp_path, digits):
    """A grid search over lr (or another seed, batch size, ...) with checkpoint= trains every candidate.

    Before, the key held only the layers and the data: the second fit loaded the first one's finished
    checkpoint, trained 0 epochs and returned the first model.
    """
    X, y = digits
    params = {**TINY, "checkpoint": tmp_path}
    first = CNNClassifier(**params, lr=1e-2).fit(X, y)
    for change in ({"lr": 1e-4}, {"random_state": 1}, {"batch_size": 64}):
        other = CNNClassifier(**{**params, **change}).fit(X, y)
        alone = CNNClassifier(**{**params, **change, "checkpoint": None}).fit(X, y)
        np.testing.assert_allclose(other.net_.history[:, "train_loss"], alone.net_.history[:, "train_loss"])
        assert not np.allclose(other.predict_proba(X[:20]), first.predict_proba(X[:20]))
    assert len(list(tmp_path.glob("fit-*"))) == 4
    # Settings that do not change the training share the checkpoint: verbose, tta, the user's callbacks.
    same = CNNClassifier(**params, lr=1e-2, tta=2, callbacks=[("snap", _Snapshots())]).fit(X, y)
    assert len(list(tmp_path.glob("fit-*"))) == 4
    np.testing.assert_array_equal(same.net_.history[:, "train_loss"], first.net_.history[:, "train_loss"])


def test_a_checkpoint_with_more_epochs_than_max_epochs_is_not_resumed(tmp_path, digits):
    X, y = digits
    params = {**TINY, "checkpoint": tmp_path, "lr_schedule": None}  # with a schedule: another key
    CNNClassifier(**{**params, "max_epochs": 3}).fit(X, y)
    with pytest.warns(UserWarning, match=r"holds 3 epochs, more than max_epochs=2.*starts afresh"):
        shorter = CNNClassifier(**params).fit(X, y)
    alone = CNNClassifier(**{**params, "checkpoint": None}).fit(X, y)
    assert shorter.n_epochs_ == 2
    np.testing.assert_allclose(shorter.net_.history[:, "train_loss"], alone.net_.history[:, "train_loss"])


def test_fit_settings_key_is_stable_for_objects_and_functions():
    from sklearn.base import clone

    from skvision.neural._callbacks import stable_repr

    est = CNNClassifier(**TINY, module=ConvNet, optimizer=torch.optim.SGD, augment=[nn.Identity()])
    key = stable_repr(est._fit_settings())
    assert " at 0x" not in key and stable_repr(clone(est)._fit_settings()) == key
    assert stable_repr(est.set_params(optimizer__momentum=0.9)._fit_settings()) != key


def test_the_checkpoint_key_follows_the_contents_of_a_weights_file(tmp_path):
    # module__weights="<dir>/backbone.pth" was keyed by its path: new weights saved to the same file,
    # and the next fit resumed the finished fit of the old ones (1 s, the old model's predictions).
    from skvision.neural._callbacks import stable_repr

    weights = tmp_path / "backbone.pth"
    torch.save({"w": torch.zeros(3)}, weights)
    model = CNNClassifier(**TINY, module__weights=str(weights), checkpoint=tmp_path / "cp")
    first = stable_repr(model._fit_settings())
    assert stable_repr(model._fit_settings()) == first  # the same file: the same fit
    torch.save({"w": torch.ones(3)}, weights)
    assert stable_repr(model._fit_settings()) != first
    as_path = model.set_params(module__weights=weights)._fit_settings()["module__weights"]
    assert as_path[0] == str(weights) and len(as_path[1]) == 16
    # Values that are not files stay as they are.
    assert model.set_params(module__weights="imagenet")._fit_settings()["module__weights"] == "imagenet"
