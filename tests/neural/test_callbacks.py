"""skvision's skorch callbacks against skorch's own: the atomic checkpoint writes what skorch's writes."""

import json
import pickle
import warnings

import numpy as np
import pytest
import torch
from skorch import NeuralNetClassifier
from skorch.callbacks import Checkpoint
from torch import nn

from skvision.neural._callbacks import _AtomicCheckpoint


def train(checkpoint):
    """A tiny skorch net trained 2 epochs with ``checkpoint`` (written at each new best train loss)."""
    torch.manual_seed(0)
    X = np.random.default_rng(0).normal(size=(16, 4)).astype(np.float32)
    y = np.arange(16) % 3
    model = NeuralNetClassifier(
        nn.Sequential(nn.Linear(4, 3)),
        criterion=nn.CrossEntropyLoss,
        optimizer=torch.optim.Adam,
        max_epochs=2,
        batch_size=8,
        train_split=None,
        callbacks=[("checkpoint", checkpoint)],
        verbose=0,
    )
    return model.fit(X, y)


def without_durations(history_rows):
    """History rows without their timings (the only entries two identical runs differ in)."""
    return [{key: value for key, value in row.items() if key != "dur"} for row in history_rows]


def test_atomic_checkpoint_writes_the_files_of_skorchs_checkpoint(tmp_path):
    train(Checkpoint(monitor="train_loss_best", dirname=tmp_path / "skorch"))
    train(_AtomicCheckpoint(monitor="train_loss_best", dirname=tmp_path / "ours"))
    skorch_files = sorted(p.name for p in (tmp_path / "skorch").iterdir())
    our_files = sorted(p.name for p in (tmp_path / "ours").iterdir())
    assert skorch_files == ["criterion.pt", "history.json", "optimizer.pt", "params.pt"]
    assert our_files == sorted(skorch_files + ["rng.pt"])  # and no .partial left behind
    for name in ("params.pt", "criterion.pt"):
        theirs = torch.load(tmp_path / "skorch" / name, weights_only=True)
        ours = torch.load(tmp_path / "ours" / name, weights_only=True)
        assert theirs.keys() == ours.keys() and all(torch.equal(theirs[k], ours[k]) for k in theirs)
    theirs = torch.load(tmp_path / "skorch" / "optimizer.pt", weights_only=True)
    ours = torch.load(tmp_path / "ours" / "optimizer.pt", weights_only=True)
    assert theirs["param_groups"] == ours["param_groups"]
    assert all(
        torch.equal(theirs["state"][i][key], ours["state"][i][key])
        for i in theirs["state"]
        for key in theirs["state"][i]
    )
    history = json.loads((tmp_path / "ours" / "history.json").read_text())
    skorch_history = json.loads((tmp_path / "skorch" / "history.json").read_text())
    assert without_durations(history) == without_durations(skorch_history) and len(history) == 2
    assert set(torch.load(tmp_path / "ours" / "rng.pt", weights_only=True)) == {"cpu"}


def test_atomic_checkpoint_pickles_the_net_when_asked(tmp_path):
    net = train(_AtomicCheckpoint(monitor="train_loss_best", dirname=tmp_path, f_pickle="net.pkl"))
    with open(tmp_path / "net.pkl", "rb") as f:
        loaded = pickle.load(f)
    X = np.ones((2, 4), dtype=np.float32)
    np.testing.assert_array_equal(loaded.predict_proba(X), net.predict_proba(X))


def _params_writes_fail(net, monkeypatch):
    """Make the net's params.pt writes fail as on a full disk (its other files are written)."""
    real_save_params = type(net).save_params

    def failing_save_params(self, f_params=None, **kwargs):
        if f_params is not None:
            raise OSError("disk full")
        return real_save_params(self, **kwargs)

    monkeypatch.setattr(type(net), "save_params", failing_save_params)


def test_a_failed_checkpoint_write_warns_and_keeps_the_previous_file(tmp_path, monkeypatch):
    checkpoint = _AtomicCheckpoint(monitor="train_loss_best", dirname=tmp_path)
    net = train(checkpoint)
    before = (tmp_path / "params.pt").read_bytes()
    _params_writes_fail(net, monkeypatch)
    with torch.no_grad():
        net.module_[0].weight.add_(1.0)  # different weights: a written file would differ
    with pytest.warns(RuntimeWarning) as caught:
        checkpoint.save_model(net)
    # One warning, for the one file that failed; the previous params.pt is whole.
    assert [str(w.message) for w in caught] == [
        f"Checkpoint could not save the f_params to {str(tmp_path / 'params.pt')!r}: OSError: disk full; "
        "none of this save's files were written, the previous checkpoint is kept as it was."
    ]
    assert (tmp_path / "params.pt").read_bytes() == before
    assert not list(tmp_path.glob("*.partial"))
    monkeypatch.undo()
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # the disk recovered: the next save writes params.pt, silently
        checkpoint.save_model(net)
    assert (tmp_path / "params.pt").read_bytes() != before


def test_a_failed_write_commits_nothing_of_its_save(tmp_path, monkeypatch):
    """history.json is the commit marker: a save whose params.pt failed writes no history, nor any file."""
    checkpoint = _AtomicCheckpoint(monitor="train_loss_best", dirname=tmp_path)
    net = train(checkpoint)
    before = {p.name: p.read_bytes() for p in tmp_path.iterdir()}
    _params_writes_fail(net, monkeypatch)
    net.partial_fit(np.zeros((4, 4), np.float32), np.arange(4) % 3, epochs=1)  # one more epoch in the history
    with pytest.warns(RuntimeWarning, match="previous checkpoint is kept"):
        checkpoint.save_model(net)
    # Before, history.json (and rng.pt, optimizer.pt) of epoch 3 were written beside the params.pt of epoch 2.
    assert {p.name: p.read_bytes() for p in tmp_path.iterdir()} == before


# ------------------------------------------------------------------ a long fit at verbose=0 talks
def _line_fields(line):
    """``'CNNClassifier: epoch 2/3, 1.2 s so far (about 0.4 s left)'`` -> ('CNNClassifier', 2, 3, 'about')."""
    import re

    match = re.fullmatch(r"(\w+): epoch (\d+)/(\d+), [\d.]+ s so far \((about|at most) [\d.]+ s left\)", line)
    assert match, line
    name, epoch, epochs, bound = match.groups()
    return name, int(epoch), int(epochs), bound


def test_a_quiet_fit_that_runs_long_says_how_it_goes(monkeypatch, capsys):
    from skvision.datasets import load_digits
    from skvision.neural import CNNClassifier, _callbacks

    X, y = load_digits(return_X_y=True)
    params = dict(module__filters=4, module__fc_units=(8,), batch_size=32, random_state=0, device="cpu")
    CNNClassifier(**params, max_epochs=2).fit(X[:128], y[:128])
    assert capsys.readouterr().err == ""  # a short fit stays silent (its 10 s never come)

    # The first line after LONG_FIT_FIRST_SECONDS, then one every LONG_FIT_SECONDS: a single line here.
    monkeypatch.setattr(_callbacks, "LONG_FIT_FIRST_SECONDS", 0.0)
    CNNClassifier(**params, max_epochs=3).fit(X[:128], y[:128])
    assert len(capsys.readouterr().err.splitlines()) == 1
    monkeypatch.setattr(_callbacks, "LONG_FIT_SECONDS", 0.0)  # every batch is "long" from here on
    CNNClassifier(**params, max_epochs=3).fit(X[:128], y[:128])
    lines = capsys.readouterr().err.splitlines()
    fields = [_line_fields(line) for line in lines]
    assert len(fields) == 3 * 4  # 3 epochs of 4 training batches
    assert [epoch for _, epoch, _, _ in fields] == [1] * 4 + [2] * 4 + [3] * 4
    assert {(name, epochs, bound) for name, _, epochs, bound in fields} == {("CNNClassifier", 3, "about")}
    assert lines[-1].endswith("(about 0.0 s left)")

    CNNClassifier(**params, max_epochs=2, early_stopping=True, validation_fraction=0.25).fit(X[:128], y[:128])
    assert {bound for *_, bound in map(_line_fields, capsys.readouterr().err.splitlines())} == {"at most"}

    CNNClassifier(**params, max_epochs=2, verbose=1).fit(X[:128], y[:128])
    assert "so far" not in capsys.readouterr().err  # verbose=1 has skorch's own table and bar instead

    from skvision.neural import GANFeatures

    GANFeatures(latent_dim=8, filters=4, max_epochs=2, batch_size=32, device="cpu", random_state=0).fit(
        X[:64]
    )
    fields = [_line_fields(line) for line in capsys.readouterr().err.splitlines()]
    assert [(name, epoch, epochs) for name, epoch, epochs, _ in fields] == [("GANFeatures", 1, 2)] * 2 + [
        ("GANFeatures", 2, 2)
    ] * 2


def test_the_first_line_of_a_long_fit_of_large_images_says_what_shortens_it(monkeypatch, capsys):
    from skvision.neural import AutoencoderFeatures, CNNClassifier, _callbacks

    monkeypatch.setattr(_callbacks, "LONG_FIT_SECONDS", 0.0)
    monkeypatch.setattr(_callbacks, "LONG_FIT_FIRST_SECONDS", 0.0)
    monkeypatch.setattr(_callbacks, "LONG_FIT_HINT_SECONDS", 0.0)  # every forecast is "long"
    rng = np.random.default_rng(0)
    params = dict(max_epochs=2, batch_size=16, device="cpu", random_state=0)
    large = rng.integers(0, 256, (32, 224, 160, 3), dtype=np.uint8)
    CNNClassifier(**params, module__filters=4).fit(large, np.arange(32) % 2)
    lines = capsys.readouterr().err.splitlines()
    assert len(lines) == 2 * 2
    hint = (
        "; its 224x160 images have 12x the pixels of 64x46 ones: skvision.preprocessing.Resize((64, 46)) "
        "before it, or a lower max_epochs, shortens the fit"
    )
    assert lines[0].endswith(hint) and _line_fields(lines[0].removesuffix(hint))[:3] == (
        "CNNClassifier",
        1,
        2,
    )
    assert all(_line_fields(line) for line in lines[1:])  # the hint once, on the first line
    AutoencoderFeatures(**params, filters=4).fit(large[:16, :80, :72])
    first = capsys.readouterr().err.splitlines()[0]
    assert first.endswith(
        "; its 80x72 images have 1.6x the pixels of 64x58 ones: "
        "skvision.preprocessing.Resize((64, 58)) before it, or a lower max_epochs, shortens the fit"
    )
    # Small images, or a short forecast: no hint.
    CNNClassifier(**params, module__filters=4).fit(large[:, :64, :64], np.arange(32) % 2)
    assert all(_line_fields(line) for line in capsys.readouterr().err.splitlines())
    monkeypatch.setattr(_callbacks, "LONG_FIT_HINT_SECONDS", 3600.0)
    CNNClassifier(**params, module__filters=4).fit(large, np.arange(32) % 2)
    assert all(_line_fields(line) for line in capsys.readouterr().err.splitlines())


def _flat(images):
    return images.reshape(len(images), -1)


def test_compare_silences_the_long_fit_lines_of_its_networks(monkeypatch, capsys):
    from sklearn.preprocessing import FunctionTransformer

    from skvision import CNNFeatures
    from skvision._talk import long_fit_lines_off, long_fit_lines_wanted
    from skvision.compare import compare_features
    from skvision.datasets import load_digits
    from skvision.neural import _callbacks

    monkeypatch.setattr(_callbacks, "LONG_FIT_SECONDS", 0.0)
    monkeypatch.setattr(_callbacks, "LONG_FIT_FIRST_SECONDS", 0.0)
    X, y = load_digits(return_X_y=True)
    cnn = CNNFeatures(
        max_epochs=2, module__filters=4, module__fc_units=(8,), batch_size=32, random_state=0, device="cpu"
    )
    compare_features(X[:90], y[:90], {"cnn": cnn, "pixels": FunctionTransformer(_flat)}, cv=2)
    assert "so far" not in capsys.readouterr().err  # compare's split lines and heartbeat say it
    assert long_fit_lines_wanted()  # ...and only inside its splits
    with long_fit_lines_off():
        cnn.fit(X[:64], y[:64])
    assert capsys.readouterr().err == ""


def test_a_long_quiet_prediction_says_how_it_goes(monkeypatch, capsys):
    # predict on 20,000 64x64 images ran 11 s without a word at verbose=0.
    from skvision import _talk
    from skvision.datasets import load_digits
    from skvision.neural import CNNClassifier

    X, y = load_digits(return_X_y=True)
    params = dict(module__filters=4, module__fc_units=(8,), batch_size=32, random_state=0, device="cpu")
    clf = CNNClassifier(**params, max_epochs=1).fit(X[:128], y[:128])
    capsys.readouterr()
    expected = clf.predict_proba(X[:100])
    assert capsys.readouterr().err == ""  # short: nothing
    monkeypatch.setattr(_talk, "LONG_CALL_FIRST_SECONDS", 0.0)
    monkeypatch.setattr(_talk, "LONG_CALL_SECONDS", 0.0)
    np.testing.assert_array_equal(clf.predict_proba(X[:100]), expected)
    lines = capsys.readouterr().err.splitlines()
    said = [line.split(",")[0] for line in lines]
    assert said == [f"CNNClassifier: {n} of 100 images" for n in (32, 64, 96)]


def test_the_epoch_table_has_colour_codes_only_on_a_terminal(monkeypatch, capsys):
    # skorch's PrintLog coloured each new best value whatever its sink: `fit > log` wrote
    # "\x1b[36m2.2143\x1b[0m" into the log file.
    import sys

    from skvision.datasets import load_digits
    from skvision.neural import CNNClassifier

    X, y = load_digits(return_X_y=True)
    params = dict(module__filters=4, module__fc_units=(8,), batch_size=32, random_state=0, device="cpu")
    CNNClassifier(**params, max_epochs=2, verbose=1).fit(X[:128], y[:128])
    piped = capsys.readouterr().out
    assert "train_loss" in piped and "\x1b[" not in piped
    rows = [line.split() for line in piped.splitlines() if line.strip()[:1].isdigit()]
    assert [row[0] for row in rows] == ["1", "2"]

    monkeypatch.setattr(sys.stdout, "isatty", lambda: True, raising=False)
    CNNClassifier(**params, max_epochs=2, verbose=1).fit(X[:128], y[:128])
    on_terminal = capsys.readouterr().out
    assert "\x1b[" in on_terminal  # the first epoch's losses are each a new best
    assert [line.split()[0] for line in on_terminal.splitlines() if line.strip()[:1].isdigit()] == ["1", "2"]


def test_the_checkpoint_line_names_the_epoch_it_saved(tmp_path, capsys):
    # skorch's line said "A checkpoint was triggered in epoch 2." right after epoch 1's row.
    from skvision.datasets import load_digits
    from skvision.neural import CNNClassifier, GANFeatures

    X, y = load_digits(return_X_y=True)
    params = dict(module__filters=4, module__fc_units=(8,), batch_size=32, random_state=0, device="cpu")
    CNNClassifier(**params, max_epochs=3, verbose=1, checkpoint=tmp_path / "cnn").fit(X[:128], y[:128])
    GANFeatures(
        latent_dim=8,
        filters=4,
        max_epochs=2,
        batch_size=32,
        device="cpu",
        random_state=0,
        verbose=1,
        checkpoint=tmp_path / "gan",
    ).fit(X[:64])
    # The checkpoint callback runs before the table's: each line comes just before its epoch's row.
    pairs, announced = [], None
    for line in capsys.readouterr().out.splitlines():
        words = line.split()
        if line.startswith("A checkpoint was triggered in epoch"):
            announced = int(words[-1].rstrip("."))
        elif words and words[0].isdigit():
            pairs.append((announced, int(words[0])))
            announced = None
    assert pairs == [(1, 1), (2, 2), (3, 3), (1, 1), (2, 2)]  # every CNN epoch a new best; the GAN saves all


def test_early_stopping_counts_no_misses_during_the_one_cycle_warm_up():
    # The rising rate of one-cycle's first 30 % makes the validation loss jump: with n_iter_no_change=2
    # a 30-epoch fit stopped at epoch 3 and restored epoch 1's weights (0.34 accuracy on 3 classes).
    import types

    from skorch.history import History

    from skvision.neural._callbacks import _ResumableEarlyStopping, build_callbacks

    def run(stopper, losses):
        net = types.SimpleNamespace(history=History(), module_=nn.Linear(1, 1), verbose=0)
        stopper.on_train_begin(net)
        for epoch, loss in enumerate(losses, start=1):
            net.history.new_epoch()
            net.history.record("epoch", epoch)
            net.history.record("valid_loss", loss)
            try:
                stopper.on_epoch_end(net)
            except KeyboardInterrupt:
                return epoch, stopper.best_epoch_
        return None, stopper.best_epoch_

    losses = [1.0, 2.0, 3.0, 0.5, 0.6, 0.7]
    assert run(_ResumableEarlyStopping(patience=2, load_best=True), losses) == (3, 1)  # skorch's rule
    assert run(_ResumableEarlyStopping(patience=2, load_best=True, warmup_epochs=3), losses) == (6, 4)
    (stopper,) = [
        c
        for n, c in build_callbacks(
            lr=0.1,
            max_epochs=30,
            steps_per_epoch=3,
            validation=True,
            early_stopping=True,
            lr_schedule="onecycle",
        )
        if n == "early_stopping"
    ]
    assert stopper.warmup_epochs == 9  # one-cycle rises over 30 % of the steps
    (plain,) = [
        c
        for n, c in build_callbacks(
            lr=0.1,
            max_epochs=30,
            steps_per_epoch=3,
            validation=True,
            early_stopping=True,
            lr_schedule="cosine",
        )
        if n == "early_stopping"
    ]
    assert plain.warmup_epochs == 0
    assert stopper.get_params()["warmup_epochs"] == 9  # a callback's parameters stay sklearn-style
