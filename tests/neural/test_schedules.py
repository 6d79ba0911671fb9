"""The training tools do what their parameters say, checked against torch's own schedulers and seeds.

Each test is a case a practitioner's check found wrong: a resumed step schedule divided the rate once
more, one-cycle was laid out over batches that never ran, one-cycle overrode a momentum the user set,
``partial_fit`` replayed the same random draws on every call, and a ``RandomState`` seed left the
early-stopping split unseeded.
"""

import warnings

import numpy as np
import pytest
import torch
from skorch.callbacks import Callback
from skorch.dataset import Dataset

from skvision.datasets import load_digits
from skvision.neural import CNNClassifier
from skvision.neural._estimator import _last_interrupt
from skvision.neural._iterator import TensorBatchIterator, n_training_batches

TINY = dict(module__filters=4, module__fc_units=(8,), augment="none", device="cpu", random_state=0)


@pytest.fixture(scope="module")
def digits():
    X, y = load_digits(return_X_y=True)
    return X[:321], y[:321]


class RecordRates(Callback):
    """The first parameter group's rate and momentum (Adam's beta1) at each training batch."""

    def initialize(self):
        self.rates, self.momenta = [], []
        return self

    def on_batch_begin(self, net, training=False, **kwargs):
        if training:
            group = net.optimizer_.param_groups[0]
            self.rates.append(group["lr"])
            self.momenta.append(group["betas"][0] if "betas" in group else group["momentum"])


class InterruptAfter(Callback):
    def __init__(self, epoch):
        self.epoch = epoch

    def on_epoch_end(self, net, **kwargs):
        if len(net.history) == self.epoch:
            raise KeyboardInterrupt


@pytest.mark.parametrize("epoch", [2, 3])
def test_a_resumed_step_schedule_continues_at_the_uninterrupted_rates(digits, tmp_path, epoch):
    # Resumed at a milestone (epoch 2 of 6), the rate was divided once more: 1e-4, 1e-4, 1e-5, 1e-5.
    X, y = digits
    params = dict(TINY, max_epochs=6, lr=0.01, lr_schedule="step", batch_size=64)
    record = RecordRates()
    reference = CNNClassifier(**params, callbacks=[("rates", record)]).fit(X, y)
    per_epoch = record.rates[:: n_training_batches(len(X), 64)]
    assert per_epoch == pytest.approx([1e-2, 1e-2, 1e-3, 1e-3, 1e-4, 1e-4], rel=1e-12)
    _last_interrupt[0] = None
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        CNNClassifier(**params, checkpoint=tmp_path, callbacks=[("stop", InterruptAfter(epoch))]).fit(X, y)
    resumed_record = RecordRates()
    resumed = CNNClassifier(**params, checkpoint=tmp_path, callbacks=[("rates", resumed_record)]).fit(X, y)
    resumed_per_epoch = resumed_record.rates[:: n_training_batches(len(X), 64)]
    assert resumed_per_epoch == per_epoch[len(per_epoch) - len(resumed_per_epoch) :]
    for name, tensor in reference.net_.module_.state_dict().items():
        torch.testing.assert_close(resumed.net_.module_.state_dict()[name], tensor, rtol=0, atol=0)


@pytest.mark.parametrize("n_images", [320, 321, 65])
def test_one_cycle_is_laid_out_over_the_batches_that_run(digits, n_images):
    # A final single-image batch joins the one before: sized by ceil(n / batch_size), 321 images ran
    # 30 of 36 steps and ended at 13 % of the peak; 65 images ended at 81 % of it.
    X, y = load_digits(return_X_y=True)
    record = RecordRates()
    CNNClassifier(**TINY, max_epochs=6, lr=0.01, batch_size=64, callbacks=[("rates", record)]).fit(
        X[:n_images], y[:n_images]
    )
    iterator = TensorBatchIterator(
        Dataset(torch.zeros(n_images, 1), torch.zeros(n_images)), batch_size=64, shuffle=True
    )
    steps = n_training_batches(n_images, 64)
    assert len(iterator) == steps and len(record.rates) == 6 * steps
    optimizer = torch.optim.Adam([torch.zeros(1, requires_grad=True)], lr=0.01)
    schedule = torch.optim.lr_scheduler.OneCycleLR(optimizer, max_lr=0.01, total_steps=6 * steps)
    expected = []
    for _ in range(6 * steps):
        expected.append(optimizer.param_groups[0]["lr"])
        optimizer.step()
        schedule.step()
    np.testing.assert_allclose(record.rates, expected, rtol=1e-12)
    assert record.rates[-1] < 1e-6


@pytest.mark.parametrize(
    "optimizer, routed, expected",
    [("sgd", {"optimizer__momentum": 0.0}, 0.0), ("adamw", {"optimizer__betas": (0.5, 0.999)}, 0.5)],
)
def test_one_cycle_keeps_a_momentum_the_user_set(digits, optimizer, routed, expected):
    # torch's OneCycleLR cycles momentum (beta1) between 0.85 and 0.95 by default: optimizer='sgd',
    # optimizer__momentum=0 trained with heavy momentum, silently.
    X, y = digits
    record = RecordRates()
    model = CNNClassifier(**TINY, max_epochs=2, optimizer=optimizer, **routed, callbacks=[("rates", record)])
    model.fit(X, y)
    assert set(record.momenta) == {expected}
    record = RecordRates()
    CNNClassifier(**TINY, max_epochs=2, optimizer="adamw", callbacks=[("rates", record)]).fit(X, y)
    assert min(record.momenta) == pytest.approx(0.85, abs=1e-3) and max(record.momenta) == pytest.approx(0.95)


class RecordFirstBatch(Callback):
    """The first labels of each epoch's first batch (into a list of its own: each partial_fit call
    initialises the callbacks again)."""

    def __init__(self, first):
        self.first = first

    def on_batch_begin(self, net, batch=None, training=False, **kwargs):
        if training and len(net.history[-1]["batches"]) == 1:  # skorch records the batch before this
            self.first.append(batch[1][:8].tolist())


def test_partial_fit_calls_continue_the_random_stream_reproducibly(digits):
    # Each call reseeded torch with random_state: the same shuffle (and mixup weights, augmentations)
    # every call, so a loop of partial_fit calls saw each image distorted one fixed way.
    X, y = digits

    def three_calls():
        first = []
        model = CNNClassifier(**TINY, mixup=0.2, callbacks=[("first", RecordFirstBatch(first))])
        for _ in range(3):
            model.partial_fit(X, y, classes=np.arange(10))
        return first, model

    first_batches, model = three_calls()
    assert len(first_batches) == 3 and first_batches[0] != first_batches[1] != first_batches[2]
    again, other = three_calls()
    assert again == first_batches  # a fresh estimator with the same seed draws the same
    np.testing.assert_array_equal(other.predict_proba(X[:20]), model.predict_proba(X[:20]))


def test_a_random_state_instance_seeds_the_early_stopping_split(digits):
    # Only integer seeds reached the validation split: two fits with fresh RandomState(0) differed.
    X, y = digits
    params = dict(TINY, max_epochs=3, early_stopping=True)
    fits = [CNNClassifier(**{**params, "random_state": np.random.RandomState(0)}).fit(X, y) for _ in range(2)]
    assert fits[0].net_.history[:, "valid_loss"] == fits[1].net_.history[:, "valid_loss"]
    np.testing.assert_array_equal(fits[0].predict_proba(X), fits[1].predict_proba(X))


@pytest.mark.parametrize("optimizer, default", [("adam", 0.9), ("sgd", 0.0)])
def test_partial_fit_after_one_cycle_trains_at_the_optimizers_own_momentum(digits, optimizer, default):
    # The rate went back to lr, the momentum stayed where one-cycle left it (0.95).
    X, y = digits
    record = RecordRates()
    model = CNNClassifier(**TINY, max_epochs=2, optimizer=optimizer, callbacks=[("rates", record)]).fit(X, y)
    assert max(record.momenta) == pytest.approx(0.95)
    model.partial_fit(X, y)  # initialises the callbacks again: the record holds this epoch only
    assert record.momenta and set(record.momenta) == {default}
