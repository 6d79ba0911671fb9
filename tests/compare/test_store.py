"""Resumable comparisons: each finished split is stored; a rerun with resume=True computes only the rest."""

import os
import pickle
import re
import signal
import subprocess
import sys
import time
import warnings
from pathlib import Path

import numpy as np
import pytest
from sklearn.preprocessing import FunctionTransformer

from skvision import compare_features

from ._helpers import CountingFlatten, flatten, register_hanging_family

ROOT = Path(__file__).resolve().parents[2]


def run(X, y, store, resume, **kwargs):
    features = kwargs.pop("features", None) or {
        "counting": CountingFlatten(),
        "pixels": FunctionTransformer(flatten),
    }
    return compare_features(
        X, y, features, estimator="logreg", cv=3, repeats=2, store=store, resume=resume, **kwargs
    )


def timed_fits():
    return [n for method, n, _ in CountingFlatten.log if method == "fit" and n > 64]


def test_a_resumed_run_computes_only_the_missing_splits_and_scores_the_same(digits, tmp_path):
    X, y = digits
    CountingFlatten.log.clear()
    full = run(X, y, tmp_path, resume=False)
    assert len(timed_fits()) == 6
    stored = sorted(p.relative_to(tmp_path).as_posix() for p in tmp_path.rglob("*.pkl"))
    assert stored == [
        f"{name}/r{r}-f{f}.pkl" for name in ("counting", "pixels") for r in (0, 1) for f in (0, 1, 2)
    ]
    assert not list(tmp_path.rglob("*.tmp")), "atomic writes leave no temporary file"
    # Lose two splits, as a run killed before them would.
    (tmp_path / "counting" / "r1-f0.pkl").unlink()
    (tmp_path / "counting" / "r1-f2.pkl").unlink()
    CountingFlatten.log.clear()
    resumed = run(X, y, tmp_path, resume=True)
    assert len(timed_fits()) == 2, "only the two missing splits are computed"
    for name in ("counting", "pixels"):
        a, b = full.results[name], resumed.results[name]
        np.testing.assert_array_equal(a.scores, b.scores)
        for p, q in zip(a.fold_predictions, b.fold_predictions):
            np.testing.assert_array_equal(p, q)
        np.testing.assert_array_equal(a.embedding, b.embedding)
        assert a.transform_seconds == b.transform_seconds or name == "counting"
    assert resumed.results["pixels"].n_resumed == 6 and resumed.results["counting"].n_resumed == 4
    assert resumed.results["pixels"].estimators == [None] * 6
    assert str(resumed).splitlines()[2:] and "counting" in str(resumed)
    # Without resume, the store starts afresh.
    CountingFlatten.log.clear()
    run(X, y, tmp_path, resume=False)
    assert len(timed_fits()) == 6


def test_the_same_images_in_another_memory_layout_resume(digits, tmp_path):
    # A memmap of the saved images (or a Fortran-ordered copy) hashed differently: every stored split
    # was set aside as "changed: the images or targets" and computed again.
    X, y = digits
    run(X, y, tmp_path / "store", resume=False)
    np.save(tmp_path / "X.npy", X)
    for same in (np.load(tmp_path / "X.npy", mmap_mode="r"), np.asfortranarray(X)):
        CountingFlatten.log.clear()
        resumed = run(same, y, tmp_path / "store", resume=True)
        assert not timed_fits() and resumed.results["pixels"].n_resumed == 6
    CountingFlatten.log.clear()
    run(X[:, ::-1], y, tmp_path / "store", resume=True)  # other images: computed again
    assert len(timed_fits()) == 6


def test_changed_settings_invalidate_the_store_with_a_message(digits, tmp_path, capsys):
    X, y = digits
    run(X, y, tmp_path, resume=False)
    capsys.readouterr()
    run(X, y, tmp_path, resume=True, verbose=1)
    err = capsys.readouterr().err
    assert err.count("stored by an earlier run") == 12 and "starting afresh" not in err
    run(X, y, tmp_path, resume=True, verbose=1, random_state=1)
    err = capsys.readouterr().err
    assert "changed: the cross-validation folds (--cv, --repeats, --seed), the seed" in err
    assert "starting afresh" in err and "stored by an earlier run" not in err
    X2 = X.copy()
    X2[0, 0, 0] += 1
    run(X2, y, tmp_path, resume=True, verbose=1, random_state=1)
    assert "changed: the images or targets" in capsys.readouterr().err
    # An image fewer: new folds too, but they follow the images; no option is named as changed.
    run(X2[:-1], y[:-1], tmp_path, resume=True, verbose=1, random_state=1)
    assert "(changed: the images or targets); starting afresh" in capsys.readouterr().err
    run(X2, y, tmp_path, resume=False, random_state=1)
    # One feature set's parameters changed: only its splits are computed again.
    features = {"counting": CountingFlatten(scale=2.0), "pixels": FunctionTransformer(flatten)}
    run(X2, y, tmp_path, resume=True, verbose=1, random_state=1, features=features)
    err = capsys.readouterr().err
    assert "counting changed since its splits were stored" in err
    assert err.count("stored by an earlier run") == 6 and all(
        line.startswith("pixels") for line in err.splitlines() if "stored by an earlier run" in line
    )
    with pytest.raises(ValueError, match="resume=True reads the splits stored in store"):
        compare_features(X, y, {"p": FunctionTransformer(flatten)}, resume=True)


def test_splits_a_run_does_not_take_are_set_aside_and_taken_back(digits, tmp_path, capsys):
    """A wrong option with resume=True, or a run without it, deleted the stored splits at its start
    (before computing anything): an hours-long run's folds were lost to one mistake."""
    X, y = digits
    first = run(X, y, tmp_path, resume=False)
    capsys.readouterr()
    # Another seed with resume: the first run's splits are set aside, not deleted.
    run(X, y, tmp_path, resume=True, verbose=1, random_state=1)
    err = capsys.readouterr().err
    assert "starting afresh (they are set aside in" in err and ".previous" in err
    # The first run's settings again: its splits come back, and nothing is computed.
    CountingFlatten.log.clear()
    again = run(X, y, tmp_path, resume=True, verbose=1)
    assert "match this run's settings; taking them back" in capsys.readouterr().err
    assert timed_fits() == [] and again.results["counting"].n_resumed == 6
    np.testing.assert_array_equal(again.results["counting"].scores, first.results["counting"].scores)
    # ... and the seed-1 run's went aside in their turn: one generation back each way.
    CountingFlatten.log.clear()
    run(X, y, tmp_path, resume=True, random_state=1)
    assert timed_fits() == []
    # A run without resume sets the stored splits aside too; a later resume takes them back.
    capsys.readouterr()
    run(X, y, tmp_path, resume=False, verbose=1, features={"pixels": FunctionTransformer(flatten)})
    assert "the splits an earlier run stored in" in capsys.readouterr().err
    CountingFlatten.log.clear()
    assert run(X, y, tmp_path, resume=True, random_state=1).results["counting"].n_resumed == 6
    assert timed_fits() == []


def test_a_damaged_split_file_is_computed_again(digits, tmp_path):
    X, y = digits
    full = run(X, y, tmp_path, resume=False)
    (tmp_path / "pixels" / "r0-f1.pkl").write_bytes(b"not a pickle")
    resumed = run(X, y, tmp_path, resume=True)
    assert resumed.results["pixels"].n_resumed == 5
    np.testing.assert_array_equal(full.results["pixels"].scores, resumed.results["pixels"].scores)


# The command the test kills: a comparison whose 'hanging' family blocks in its 4th fit (the warm-up's,
# then three folds: two stored), once the other families' folds are all stored.
CHILD = r"""
import sys
from tests.compare._helpers import register_hanging_family
from skvision.cli import main

register_hanging_family()
sys.exit(main(sys.argv[1:]))
"""


def arguments(out, *extra):
    return [
        "compare",
        "--dataset",
        "faces",
        "--features",
        "pixels,hog,hanging",
        "--cv",
        "3",
        "--repeats",
        "2",
        "--embedding",
        "none",
        "--out",
        str(out),
        *extra,
    ]


def stored_records(folder):
    return {
        path.relative_to(folder).as_posix(): pickle.loads(path.read_bytes())
        for path in sorted(folder.rglob("*.pkl"))
    }


def table(stdout):
    """The table's rows without the two timing columns (those of stored folds come from the killed run)."""
    lines = stdout[stdout.index("feature set") :].split("\n\nReport:")[0].splitlines()
    header = re.split(r"\s{2,}", lines[0].strip())
    timing = [header.index("fit s / fold"), header.index("transform images/s")]
    assert header[-1] == "vs best"  # the significance marks, which must agree too
    rows = [re.split(r"\s{2,}", line.strip()) for line in lines[2:]]
    assert all(len(row) == len(header) for row in rows), rows
    return [[cell for i, cell in enumerate(row) if i not in timing] for row in [header, *rows]]


@pytest.fixture
def hanging_family():
    from skvision.compare import FEATURE_FAMILIES

    register_hanging_family()
    yield
    del FEATURE_FAMILIES["hanging"]


def test_a_killed_command_resumes_to_the_table_of_an_uninterrupted_run(tmp_path, hanging_family, capsys):
    from skvision.cli import main

    marker = tmp_path / "hanging"
    killed = subprocess.Popen(
        [sys.executable, "-c", CHILD, *arguments(tmp_path / "run")],
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT), "SKVISION_TEST_HANG": f"4:{marker}"},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    try:
        deadline = time.monotonic() + 240
        while not marker.exists():
            assert killed.poll() is None, killed.communicate()[1].decode()[-2000:]
            assert time.monotonic() < deadline, "the child never reached the hanging fit"
            time.sleep(0.1)
        killed.send_signal(signal.SIGKILL)
    finally:
        killed.kill()
        killed.wait()
    before = stored_records(tmp_path / "run" / "folds")
    assert len(before) == 6 + 6 + 2, sorted(before)
    assert not (tmp_path / "run" / "report.md").exists()

    # The same command with --resume (here in this process), and an uninterrupted run.
    assert main(arguments(tmp_path / "run", "--resume")) == 0
    resumed = capsys.readouterr()
    assert resumed.err.count("stored by an earlier run") == 14
    assert main(arguments(tmp_path / "fresh")) == 0
    uninterrupted = capsys.readouterr()
    assert table(resumed.out) == table(uninterrupted.out)
    after, fresh = stored_records(tmp_path / "run" / "folds"), stored_records(tmp_path / "fresh" / "folds")
    assert sorted(after) == sorted(fresh) and len(fresh) == 18
    for name, record in fresh.items():
        assert after[name]["score"] == record["score"], name  # bitwise
        np.testing.assert_array_equal(after[name]["y_pred"], record["y_pred"])
        if name in before:
            assert after[name]["fit_time"] == before[name]["fit_time"], "read back, not computed again"
    mean = [line.split(",")[3] for line in (tmp_path / "run" / "results.csv").read_text().splitlines()]
    assert mean == [
        line.split(",")[3] for line in (tmp_path / "fresh" / "results.csv").read_text().splitlines()
    ]

    # A changed command line starts afresh, and says why.
    assert main(arguments(tmp_path / "run", "--resume", "--cv", "2")) == 0
    err = capsys.readouterr().err
    assert "computed with other settings (changed: the cross-validation folds" in err
    assert "stored by an earlier run" not in err


def test_the_hanging_family_only_hangs_on_request(digits, hanging_family):
    from skvision.compare import DatasetInfo, build_feature_sets

    X, y = digits
    sets = build_feature_sets(["hanging"], DatasetInfo.from_data(X, y, device="cpu"))
    result = compare_features(X, y, sets, cv=2)
    assert result.results["hanging"].scores.mean() > 0.8


class SwallowsCtrlC(FunctionTransformer):
    """Flattens; its fit number ``interrupt_at`` gets a real Ctrl-C and swallows it, as skorch's does."""

    fits = 0

    def __init__(self, interrupt_at=3):
        super().__init__(flatten)
        self.interrupt_at = interrupt_at

    def fit(self, X, y=None):
        type(self).fits += 1
        if type(self).fits == self.interrupt_at:
            try:
                os.kill(os.getpid(), signal.SIGINT)
                time.sleep(1)  # the handler runs here
            except KeyboardInterrupt:
                # "training stopped": the model it had is kept, with the neural estimators' warning.
                message = "SwallowsCtrlC: training interrupted (KeyboardInterrupt) after epoch 1 of 2"
                warnings.warn(message, UserWarning, stacklevel=2)
        return super().fit(X, y)


@pytest.fixture
def ctrl_c_raises():
    """Python's own SIGINT handler for the test: a process started in the background by a shell
    without job control (``make test &``) inherits Ctrl-C ignored, and then a comparison rightly
    does not stop on one."""
    previous = signal.signal(signal.SIGINT, signal.default_int_handler)
    yield
    signal.signal(signal.SIGINT, previous)


def test_ctrl_c_swallowed_by_a_fit_stops_the_comparison_and_stores_no_fold(
    digits, tmp_path, ctrl_c_raises, recwarn
):
    # skorch catches Ctrl-C in fit; a comparison scored the half-trained network as a fold,
    # stored it for --resume, and went on.
    X, y = digits
    SwallowsCtrlC.fits = 0
    with pytest.raises(KeyboardInterrupt):
        run(X, y, tmp_path, resume=False, features={"swallows": SwallowsCtrlC()}, on_error="skip")
    stored = sorted(p.name for p in tmp_path.rglob("*.pkl"))
    # Fit 1 is the untimed warm-up, fits 2 and 3 the first two splits: the second is not stored.
    assert stored == ["r0-f0.pkl"]
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler
    # The fit's warning (a search "goes on to its next fit", interrupted_) is not this run's story.
    assert not [w for w in recwarn if "training interrupted" in str(w.message)]
