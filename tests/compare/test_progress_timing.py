"""Progress on stderr, an untimed warm-up before the timed folds, and n_jobs that never loses."""

import io

import numpy as np
import pytest
from sklearn.preprocessing import FunctionTransformer

from skvision import compare_features
from skvision.compare import _workflow
from skvision.compare._progress import Progress
from skvision.compare._workflow import WARMUP_IMAGES, _warm_sample, _workers

from ._helpers import LazySetup, flatten


@pytest.mark.parametrize("order", [("lazy", "pixels"), ("pixels", "lazy")])
def test_every_family_is_warmed_up_before_its_timed_folds(digits, order):
    """The first call in a process pays the lazy set-up: it is the warm-up's, never a timed fold's."""
    X, y = digits
    LazySetup.ready = False
    LazySetup.calls.clear()
    sets = {"lazy": LazySetup(), "pixels": FunctionTransformer(flatten)}
    result = compare_features(X, y, {name: sets[name] for name in order}, estimator="logreg", cv=3)
    method, n_images, cold = LazySetup.calls[0]
    assert cold and method == "fit" and n_images == WARMUP_IMAGES, "the warm-up pays the set-up"
    assert not any(cold for _, _, cold in LazySetup.calls[1:])
    timed_fits = [n for method, n, _ in LazySetup.calls if method == "fit" and n > WARMUP_IMAGES]
    assert len(timed_fits) == 3
    assert result.results["lazy"].warmup_seconds > 0 and result.results["pixels"].warmup_seconds > 0


def test_the_warm_up_sample_holds_every_class():
    y = np.repeat(np.arange(10), [50] * 9 + [3])
    picked = _warm_sample(y, True, 64)
    assert len(picked) == 64 and set(y[picked]) == set(range(10))
    assert len(_warm_sample(y[:5], True, 64)) == 5
    np.testing.assert_array_equal(_warm_sample(np.linspace(0, 1, 100), False, 8), np.arange(8))


def test_progress_goes_to_stderr_one_line_per_fold(digits, capsys):
    X, y = digits
    features = {
        "pixels": FunctionTransformer(flatten),
        "twice": FunctionTransformer(lambda a: 2 * flatten(a)),
    }
    compare_features(X, y, features, estimator="logreg", cv=3, repeats=2, verbose=1)
    captured = capsys.readouterr()
    assert captured.out == ""
    lines = captured.err.splitlines()
    folds = [line for line in lines if ": fold " in line]
    assert len(folds) == 2 * 6
    assert folds[0].startswith("pixels: fold 1/3 of repeat 1/2: accuracy ")
    assert "(mean " in folds[0] and "elapsed" in folds[0] and "left" in folds[0]
    assert "left" not in folds[5], "nothing left after the last fold"
    assert sum(line.startswith("twice: accuracy ") and "dims" in line for line in lines) == 1
    compare_features(X, y, features, estimator="logreg", cv=3, verbose=0)
    assert capsys.readouterr() == ("", "")


def test_a_terminal_gets_a_bar():
    stream = io.StringIO()
    progress = Progress(verbose=1, total=2, stream=stream, bar=True)
    progress.start("hog", 2)
    progress.timing_starts()
    progress.split_done("hog", 0, 0, 1, 2, 0.9, "accuracy")
    progress.close()
    text = stream.getvalue()
    assert "hog: fold 1/2: accuracy 0.900" in text and "split" in text and "1/2" in text


def test_workers_only_where_the_work_repays_them(monkeypatch):
    monkeypatch.setattr(_workflow, "PARALLEL_MIN_SAVING", 6.0)
    assert _workers(None, 4, 100.0, False) == 1
    assert _workers(1, 4, 100.0, False) == 1
    assert _workers(2, 4, 0.5, False) == 1, "4 quick folds: one process"
    assert _workers(2, 4, 10.0, False) == 2
    assert _workers(2, 4, 10.0, True) == 1, "a GPU: one process"
    assert _workers(4, 1, 100.0, False) == 1
    assert _workers(-1, 4, 100.0, False) >= 1


def test_folds_in_worker_processes_score_as_in_one_and_time_the_transform_in_one(digits, monkeypatch):
    X, y = digits
    features = {"pixels": FunctionTransformer(flatten)}
    serial = compare_features(X, y, features, estimator="logreg", cv=3, n_jobs=2)
    assert serial.results["pixels"].parallel == 1, "quick folds stay in the main process"
    monkeypatch.setattr(_workflow, "PARALLEL_MIN_SAVING", 0.0)
    parallel = compare_features(X, y, features, estimator="logreg", cv=3, n_jobs=2)
    p, s = parallel.results["pixels"], serial.results["pixels"]
    assert p.parallel == 2
    np.testing.assert_array_equal(p.scores, s.scores)
    np.testing.assert_array_equal(p.y_pred, s.y_pred)
    # The transform rate counts the split run in the main process only.
    assert p.n_transformed == len(p.fold_test_indices[0]) and s.n_transformed == len(X)
