"""Interrupted training: a process killed mid-fit resumes from its checkpoint and ends where an
uninterrupted run ends; a KeyboardInterrupt keeps the model reached so far; a kill while a checkpoint
is being written leaves the previous checkpoint loadable.

How resuming works (``build_callbacks`` in ``skvision/neural/_callbacks.py``): the checkpoint is written at
each new best of the monitored loss (``valid_loss`` with early stopping, else ``train_loss``), with
the optimizer, the history and torch's random state. A fit with the same directory loads it and trains
the epochs from there up to ``max_epochs``: epochs run after the last best one before the kill are run
again, and since the random state is restored they are run exactly as the first time (on the CPU).
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
import torch
from sklearn.base import clone
from skorch.callbacks import Callback

import skvision
from skvision._testing import fit_checkpoint
from skvision.datasets import load_digits
from skvision.neural import TrainingInterruptedWarning
from skvision.neural._estimator import SECOND_INTERRUPT_SECONDS, _last_interrupt
from tests._estimators import ESTIMATORS, fit, good_X

ROOT = Path(__file__).resolve().parents[1]
MAX_EPOCHS = 12
#: The child hangs in the middle of the epoch after this one, for the test to kill it.
KILL_AFTER_EPOCH = 6
#: Tolerance on test accuracy between the resumed and the uninterrupted run. Over 4 seeds and both
#: early-stopping settings this recipe (600 digits, 12 epochs, 16 filters) scores 0.972-0.989 on the
#: 1,197 held-out digits: a resume that is a correct but different run of the same recipe lands within
#: about 0.02. 0.03 leaves margin above that spread and still catches a resume that loses its training
#: (an older checkpoint, a restarted schedule, fresh weights). On the CPU the two runs are expected to
#: agree exactly; that is checked on the loss histories, with a float tolerance only because the first
#: epochs ran in another process.
ACCURACY_TOLERANCE = 0.03


def digits_split():
    X, y = load_digits(return_X_y=True)
    order = np.random.default_rng(0).permutation(len(X))
    train, test = order[:600], order[600:]
    return X[train], y[train], X[test], y[test]


def classifier_params(early_stopping):
    # 16 filters instead of 32: half the time, same accuracy within the tolerance's spread.
    params = dict(
        max_epochs=MAX_EPOCHS, module__filters=16, random_state=0, device="cpu", early_stopping=early_stopping
    )
    if early_stopping:
        params["n_iter_no_change"] = 4
    return params


# The training process the test kills. It fits exactly what the test fits, with one more callback that
# records the finished epochs and then blocks in the middle of the next epoch, so that SIGKILL always
# lands mid-fit (after at least one checkpoint, before the end) whatever the machine's speed.
CHILD = r"""
import json, os, sys, time
import torch
from skorch.callbacks import Callback
import skvision
from tests.test_resume import digits_split

torch.set_num_threads(1)
checkpoint, marker, params, hang_after = sys.argv[1], sys.argv[2], json.loads(sys.argv[3]), int(sys.argv[4])


class HangMidEpoch(Callback):
    def on_batch_end(self, net, training=False, **kwargs):
        if training and len(net.history) == hang_after + 1 and len(net.history[-1]["batches"]) == 2:
            finished = [{k: row[k] for k in ("epoch", "train_loss", "valid_loss") if k in row}
                        for row in net.history[:-1]]
            with open(marker + ".tmp", "w") as f:
                json.dump(finished, f)
            os.replace(marker + ".tmp", marker)
            time.sleep(600)


X_train, y_train, _, _ = digits_split()
model = skvision.CNNClassifier(**params, checkpoint=checkpoint, callbacks=[("hang", HangMidEpoch())])
model.fit(X_train, y_train)
sys.exit("the training was not interrupted")
"""


def run_and_kill(checkpoint, marker, params):
    """Start the training in a child process, wait until it is in epoch KILL_AFTER_EPOCH + 1, SIGKILL it.

    Returns the losses of the epochs the child finished.
    """
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")])}
    arguments = [str(checkpoint), str(marker), json.dumps(params), str(KILL_AFTER_EPOCH)]
    log = marker.with_suffix(".log")
    with open(log, "w") as stderr:  # a file, not a pipe: a full pipe would block the child
        child = subprocess.Popen(
            [sys.executable, "-c", CHILD, *arguments],
            cwd=ROOT,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=stderr,
        )
    try:
        deadline = time.monotonic() + 300
        while not marker.exists():
            if child.poll() is not None:
                pytest.fail(
                    f"the training process ended by itself ({child.returncode}):\n{log.read_text()[-3000:]}"
                )
            if time.monotonic() > deadline:
                pytest.fail("the training process did not reach the kill point in 300 s")
            time.sleep(0.05)
        # A checkpoint exists: parameters, optimizer, and a history of at least one epoch.
        folder = fit_checkpoint(checkpoint)
        assert (folder / "params.pt").exists() and (folder / "optimizer.pt").exists()
        assert len(json.loads((folder / "history.json").read_text())) >= 1
    finally:
        child.kill()
        child.wait(timeout=60)
    if os.name == "posix":
        assert child.returncode == -signal.SIGKILL
    return json.loads(marker.read_text())


@pytest.mark.parametrize("early_stopping", [True, False], ids=["early_stopping", "no_early_stopping"])
def test_killed_training_resumes_from_its_checkpoint_and_ends_like_an_uninterrupted_run(
    early_stopping, tmp_path
):
    previous_threads = torch.get_num_threads()
    torch.set_num_threads(1)  # as in the child: same kernels, same float results
    try:
        X_train, y_train, X_test, y_test = digits_split()
        params = classifier_params(early_stopping)
        checkpoint = tmp_path / "checkpoint"
        killed = run_and_kill(checkpoint, tmp_path / "killed.json", params)
        assert len(killed) == KILL_AFTER_EPOCH
        saved = json.loads((fit_checkpoint(checkpoint) / "history.json").read_text())
        # The checkpoint is the last best epoch before the kill: with early stopping possibly an earlier one.
        n_saved = len(saved)
        assert 1 <= n_saved <= KILL_AFTER_EPOCH

        resumed = skvision.CNNClassifier(**params, checkpoint=checkpoint).fit(X_train, y_train)
        uninterrupted = skvision.CNNClassifier(**params).fit(X_train, y_train)
    finally:
        torch.set_num_threads(previous_threads)

    history = resumed.net_.history
    reference = uninterrupted.net_.history
    assert len(reference) == MAX_EPOCHS, "early stopping ended the reference run: the test needs new settings"
    assert len(history) == MAX_EPOCHS == resumed.n_epochs_
    keys = ["train_loss", "valid_loss"] if early_stopping else ["train_loss"]
    for key in keys:
        # The epochs loaded from the checkpoint are the killed run's own, unchanged ...
        assert history[:n_saved, key] == [row[key] for row in killed[:n_saved]]
        # ... the epochs after the checkpoint that the kill lost are run again the same way ...
        if n_saved < KILL_AFTER_EPOCH:
            np.testing.assert_allclose(
                history[n_saved:KILL_AFTER_EPOCH, key], [row[key] for row in killed[n_saved:]], rtol=1e-5
            )
        # ... and the whole training is the uninterrupted one.
        np.testing.assert_allclose(history[:, key], reference[:, key], rtol=1e-5)
    if early_stopping:
        # Best-epoch flags continue from the loaded history (a resumed epoch is not a new best by default).
        assert history[:, "valid_loss_best"] == reference[:, "valid_loss_best"]

    resumed_accuracy = resumed.score(X_test, y_test)
    uninterrupted_accuracy = uninterrupted.score(X_test, y_test)
    assert uninterrupted_accuracy > 0.95
    assert abs(resumed_accuracy - uninterrupted_accuracy) <= ACCURACY_TOLERANCE


# -------------------------------------------------------------------------- a kill during a save
def test_kill_while_writing_a_checkpoint_leaves_the_previous_one_loadable(tmp_path, monkeypatch):
    X, y = good_X("classifier")[:12], np.tile([0, 1, 2], 4)
    params = dict(
        max_epochs=5,
        batch_size=4,
        random_state=0,
        device="cpu",
        lr_schedule=None,
        augment="none",
        module__filters=4,
        module__fc_units=(8,),
        checkpoint=tmp_path,
    )
    real_save = torch.save
    params_saves = []

    def save_killed_midway(obj, f, *args, **kwargs):
        if "params.pt" in os.fspath(f):
            params_saves.append(f)
            if len(params_saves) == 3:
                # What a SIGKILL in the middle of the write leaves: a truncated file, then nothing.
                with open(f, "wb") as out:
                    out.write(b"PK\x03\x04 truncated")
                raise KeyboardInterrupt
        return real_save(obj, f, *args, **kwargs)

    monkeypatch.setattr(torch, "save", save_killed_midway)
    with pytest.warns(UserWarning, match="interrupted"):  # skorch ends the fit on KeyboardInterrupt
        interrupted = skvision.CNNClassifier(**params).fit(X, y)
    monkeypatch.setattr(torch, "save", real_save)
    assert len(params_saves) == 3 and interrupted.n_epochs_ == 3
    saved = json.loads((fit_checkpoint(tmp_path) / "history.json").read_text())
    assert len(saved) == 2  # the checkpoint of epoch 2, whole

    resumed = skvision.CNNClassifier(**params).fit(X, y)
    assert resumed.n_epochs_ == 5
    assert resumed.net_.history[:2, "train_loss"] == [row["train_loss"] for row in saved]


# ---------------------------------------------------------------------- KeyboardInterrupt in fit
class InterruptAt(Callback):
    """Raise KeyboardInterrupt (as Ctrl-C does) at the end of epoch ``epoch``, after copying the weights."""

    def __init__(self, epoch):
        self.epoch = epoch

    def on_epoch_end(self, net, **kwargs):
        if len(net.history) == self.epoch:
            self.weights_ = {k: v.detach().clone() for k, v in net.module_.state_dict().items()}
            raise KeyboardInterrupt


SKORCH_BASED = [(name, est, kind) for name, est, kind in ESTIMATORS if hasattr(est, "max_epochs")]


@pytest.mark.parametrize(("name", "estimator", "kind"), SKORCH_BASED, ids=[n for n, _, _ in SKORCH_BASED])
def test_keyboard_interrupt_leaves_a_usable_model_with_the_weights_it_had(name, estimator, kind):
    stop = InterruptAt(2)
    # No early stopping: it would restore the best epoch's weights rather than the last ones.
    params = dict(max_epochs=5, callbacks=[("stop", stop)])
    if "early_stopping" in estimator.get_params():  # GANFeatures has none
        params["early_stopping"] = False
    # The fit returns with the weights it had (no work lost) but says so: inside a cross-validation or a
    # search it is scored like any other (before, silently).
    with pytest.warns(UserWarning, match=r"interrupted \(KeyboardInterrupt\) after epoch 2 of 5") as caught:
        model = fit(clone(estimator).set_params(**params), kind)
    assert "partly trained" in str(caught[0].message)
    inner = model.estimator_ if hasattr(model, "estimator_") else model
    assert inner.n_epochs_ == 2 and inner.interrupted_ is True
    state = inner.net_.module_.state_dict()
    assert all(torch.equal(state[k], stop.weights_[k]) for k in stop.weights_)
    X = good_X(kind)
    method = "transform" if hasattr(model, "transform") else "predict"
    out = getattr(model, method)(X)
    assert len(out) == len(X) and np.isfinite(np.asarray(out, dtype=float)).all()


def test_an_interrupted_fold_of_a_cross_validation_warns_and_an_early_stop_does_not(recwarn):
    from sklearn.model_selection import cross_val_score

    X, y = load_digits(return_X_y=True)
    params = dict(max_epochs=3, module__filters=4, module__fc_units=(8,), device="cpu", random_state=0)
    # Ctrl-C in every fold: the first fold's fit returns its network (scored, with a warning) and the
    # cross-validation goes on; the second Ctrl-C, a moment later, stops the cross-validation.
    with pytest.warns(TrainingInterruptedWarning, match="scores of this fit .* partly trained") as caught:
        with pytest.raises(KeyboardInterrupt, match="second Ctrl-C within 60 s"):
            cross_val_score(
                skvision.CNNClassifier(**params, callbacks=[("stop", InterruptAt(2))]), X[:300], y[:300], cv=3
            )
    assert len(caught) == 1 and "A second Ctrl-C within 60 s stops the run" in str(caught[0].message)
    # Early stopping ends skorch's training with a KeyboardInterrupt too: that is no interruption.
    recwarn.clear()
    stopped = skvision.CNNClassifier(
        **{**params, "max_epochs": 6}, early_stopping=True, n_iter_no_change=1, lr=0.5, lr_schedule=None
    ).fit(X[:300], y[:300])
    assert stopped.n_epochs_ < 6 and stopped.interrupted_ is False
    assert not [w for w in recwarn if "interrupted" in str(w.message)]


def test_a_second_ctrl_c_keeps_the_network_and_one_long_after_the_first_is_a_first_again():
    X, y = load_digits(return_X_y=True)
    params = dict(max_epochs=4, module__filters=4, module__fc_units=(8,), device="cpu", random_state=0)
    with pytest.warns(TrainingInterruptedWarning):
        skvision.CNNClassifier(**params, callbacks=[("stop", InterruptAt(1))]).fit(X[:200], y[:200])
    stop = InterruptAt(2)
    second = skvision.CNNClassifier(**params, callbacks=[("stop", stop)])
    with pytest.raises(KeyboardInterrupt, match="keeps the network it had"):
        second.fit(X[:200], y[:200])
    # Stopped, but no work lost: the estimator holds the weights of its second epoch, and predicts.
    assert second.interrupted_ is True and second.n_epochs_ == 2
    state = second.net_.module_.state_dict()
    assert all(torch.equal(state[k], stop.weights_[k]) for k in stop.weights_)
    assert second.predict(X[200:210]).shape == (10,)
    # A Ctrl-C more than SECOND_INTERRUPT_SECONDS after the last one is a first one again.
    _last_interrupt[0] -= SECOND_INTERRUPT_SECONDS + 1
    with pytest.warns(TrainingInterruptedWarning, match="after epoch 1 of 4"):
        third = skvision.CNNClassifier(**params, callbacks=[("stop", InterruptAt(1))]).fit(X[:200], y[:200])
    assert third.interrupted_ is True


# ------------------------------------------------------------------ incomplete or damaged checkpoints
def _tiny(tmp_path, **changes):
    params = dict(
        max_epochs=2,
        module__filters=4,
        module__fc_units=(8,),
        device="cpu",
        random_state=0,
        checkpoint=tmp_path,
    )
    return skvision.CNNClassifier(**{**params, **changes})


def test_a_checkpoint_missing_a_file_is_not_resumed(tmp_path):
    """A history without its params.pt gave an untrained network claiming a full history, silently."""
    X, y = load_digits(return_X_y=True)
    X, y = X[:200], y[:200]
    _tiny(tmp_path).fit(X, y)
    (fit_checkpoint(tmp_path) / "params.pt").unlink()
    with pytest.warns(UserWarning, match=r"lacks params\.pt.*starts afresh"):
        again = _tiny(tmp_path).fit(X, y)
    alone = _tiny(None).fit(X, y)
    np.testing.assert_allclose(again.net_.history[:, "train_loss"], alone.net_.history[:, "train_loss"])
    assert again.score(X, y) == alone.score(X, y)
    # The training afresh saved a whole checkpoint again.
    assert (fit_checkpoint(tmp_path) / "params.pt").exists()


@pytest.mark.parametrize(("victim", "junk"), [("params.pt", b"garbage"), ("history.json", b"[{")])
def test_a_damaged_checkpoint_file_is_named_with_the_remedy(tmp_path, victim, junk):
    X, y = load_digits(return_X_y=True)
    X, y = X[:100], y[:100]
    _tiny(tmp_path, max_epochs=1).fit(X, y)
    folder = fit_checkpoint(tmp_path)
    (folder / victim).write_bytes(junk)
    with pytest.raises(ValueError, match="delete the folder to train afresh") as info:
        _tiny(tmp_path, max_epochs=1).fit(X, y)
    message = str(info.value)
    assert repr(victim) in message and str(folder) in message and "weights_only" not in message
    assert info.value.__cause__ is not None
