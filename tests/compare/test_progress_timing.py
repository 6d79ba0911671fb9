"""Progress on stderr, an untimed warm-up before the timed folds, and n_jobs that never loses."""

import io
import os
import threading
import warnings

import numpy as np
import pytest
from sklearn.preprocessing import FunctionTransformer

from skvision import compare_features
from skvision.compare import _progress, _workflow
from skvision.compare._progress import Progress
from skvision.compare._scheduler import SplitScheduler, SplitTask
from skvision.compare._workflow import WARMUP_IMAGES, _warm_sample

from ._helpers import FailsInWorkers, LazySetup, WaitsInMain, flatten


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


def test_with_workers_a_split_says_its_own_time_and_the_wait_of_the_whole_queue():
    """In the shared queue a quick split may wait for minutes: the time since its feature set began
    says nothing of it (hu's 0.3 s folds once read "34 min elapsed, about 25 min left")."""
    stream = io.StringIO()
    progress = Progress(stream=stream)
    progress.start("hu", 5)
    progress.timing_starts()
    progress.split_done("hu", 0, 1, 1, 5, 0.64, "accuracy", workers=2, seconds=0.3)
    progress.split_done("hu", 0, 2, 1, 5, 0.62, "accuracy", workers=2, seconds=0.31, left_in_all=754.0)
    progress.split_done("hu", 0, 3, 1, 5, 0.63, "accuracy", workers=2, seconds=0.29, left_in_all=0.0)
    first, second, last = stream.getvalue().splitlines()
    assert first == "hu: fold 2/5: accuracy 0.640 (mean 0.640); 0.3 s this split"
    assert second.endswith("; 0.3 s this split, about 12 min 34 s left in all")
    assert last.endswith("; 0.3 s this split") and "elapsed" not in stream.getvalue()


def test_a_terminal_gets_a_bar():
    stream = io.StringIO()
    progress = Progress(verbose=1, total=2, stream=stream, bar=True)
    progress.start("hog", 2)
    progress.timing_starts()
    progress.split_done("hog", 0, 0, 1, 2, 0.9, "accuracy")
    progress.close()
    text = stream.getvalue()
    assert "hog: fold 1/2: accuracy 0.900" in text and "split" in text and "1/2" in text


class _InlineExecutor:
    """Stands in for the worker pool: keeps the submitted calls, finishes them when told."""

    def __init__(self):
        self.submitted = []
        self._wrapped = {}

    def submit(self, function, *args, **kwargs):
        from concurrent.futures import Future

        from skvision import _workers

        wrapped = function is _workers.run_as_caller  # a split: the task's own call kept
        if wrapped:
            _, function, args, kwargs = args
        future = Future()
        future.set_running_or_notify_cancel()
        self.submitted.append((future, function, args))
        self._wrapped[future] = wrapped
        return future

    def run_next(self):
        future, function, args = self.submitted.pop(0)
        try:
            result = function(*args)
            # A split comes back with the warnings it raised (none here).
            future.set_result((result, []) if self._wrapped.pop(future) else result)
        except Exception as exc:  # noqa: BLE001 - handed back as the pool would
            future.set_exception(exc)


def _scheduler(n_jobs, start_cost, monkeypatch):
    scheduler = SplitScheduler(n_jobs, worker_function=lambda name: name.upper(), start_cost=start_cost)
    pool = _InlineExecutor()

    def start():
        scheduler._executor, scheduler.started = pool, True

    monkeypatch.setattr(scheduler, "_start", start)
    return scheduler, pool


def _task(family, index, estimate, main_only=False):
    return SplitTask(family, index, (f"{family}{index}",), {}, estimate, main_only)


def _what_the_task_sees(label):
    """What a task sees of its process's state, and a warning (module level: runs in the workers)."""
    import matplotlib
    import sklearn
    from PIL import Image

    warnings.warn(f"task {label} warns", UserWarning, stacklevel=1)
    return (
        label,
        os.getcwd(),
        sklearn.get_config()["transform_output"],
        Image.MAX_IMAGE_PIXELS,
        matplotlib.rcParams["axes.facecolor"],
    )


def test_worker_tasks_run_as_the_caller_would(tmp_path, monkeypatch):
    # Workers outlive a comparison: after a notebook's %cd a task's relative paths named files of the
    # old folder; the caller's set_config, Pillow limits and matplotlib style were not theirs; their
    # warnings went to their stderr, past the caller's filters.
    import matplotlib
    import sklearn
    from PIL import Image

    first, second = tmp_path / "first", tmp_path / "second"
    first.mkdir()
    second.mkdir()
    SplitScheduler.stop_workers()
    seen = []
    try:
        for folder, output, pixels, colour in (
            (first, "default", 1000, "white"),
            (second, "pandas", 2000, "#eeeeee"),
            (first, "default", 3000, "white"),
        ):
            monkeypatch.chdir(folder)
            monkeypatch.setattr(Image, "MAX_IMAGE_PIXELS", pixels)
            with (
                sklearn.config_context(transform_output=output),
                matplotlib.rc_context({"axes.facecolor": colour}),
                warnings.catch_warnings(record=True) as caught,
            ):
                warnings.simplefilter("always")
                scheduler = SplitScheduler(
                    2, worker_function=_what_the_task_sees, start_cost=0.0, rc_params=True
                )
                scheduler.add(SplitTask("state", len(seen), (folder.name,), {}, estimate=1.0))
                ((_, result, error),) = scheduler.outcomes(block=True)
                scheduler.close()
            assert error is None
            assert [str(w.message) for w in caught] == [f"task {folder.name} warns"]
            seen.append(result)
    finally:
        SplitScheduler.stop_workers()
    assert seen == [
        ("first", str(first), "default", 1000, "white"),
        ("second", str(second), "pandas", 2000, "#eeeeee"),
        ("first", str(first), "default", 3000, "white"),
    ]


def test_a_worker_warning_the_caller_makes_an_error_fails_the_task(monkeypatch, tmp_path):
    # As the task would fail here under filterwarnings("error"): an error outcome, not a lost one.
    monkeypatch.chdir(tmp_path)
    SplitScheduler.stop_workers()
    try:
        with warnings.catch_warnings():
            warnings.filterwarnings("error", message="task .* warns")
            scheduler = SplitScheduler(2, worker_function=_what_the_task_sees, start_cost=0.0)
            scheduler.add(SplitTask("state", 0, ("x",), {}, estimate=1.0))
            ((task, result, error),) = scheduler.outcomes(block=True)
            scheduler.close()
    finally:
        SplitScheduler.stop_workers()
    assert task.family == "state" and result is None
    assert isinstance(error, UserWarning) and str(error) == "task x warns"


def test_a_comparison_runs_in_a_folder_deleted_under_it(tmp_path, monkeypatch, digits):
    # The scheduler took the caller's folder for its workers: os.getcwd() raised FileNotFoundError.
    X, y = digits
    gone = tmp_path / "gone"
    gone.mkdir()
    monkeypatch.chdir(gone)
    gone.rmdir()
    result = compare_features(
        X[:120], y[:120], {"pixels": FunctionTransformer(flatten)}, estimator="logreg", cv=2
    )
    assert result.results["pixels"].scores.mean() > 0.7


def test_a_task_runs_in_a_worker_whose_own_folder_was_deleted(tmp_path, monkeypatch):
    # A worker started in a folder removed since (a test's or a notebook's temporary folder): reading
    # its own folder to come back to raised FileNotFoundError on every task.
    from skvision import _workers

    gone, kept = tmp_path / "gone", tmp_path / "kept"
    gone.mkdir()
    kept.mkdir()
    monkeypatch.chdir(gone)
    gone.rmdir()
    result, caught = _workers.run_as_caller({"folder": str(kept)}, os.getcwd, (), {})
    assert result == str(kept) and caught == []


def test_processes_follow_n_jobs():
    assert SplitScheduler(None, worker_function=print, start_cost=1).n_workers == 0
    assert SplitScheduler(1, worker_function=print, start_cost=1).n_workers == 0
    assert SplitScheduler(2, worker_function=print, start_cost=1).n_workers == 1
    assert SplitScheduler(-1, worker_function=print, start_cost=1).processes >= 1


def test_workers_start_only_once_the_queue_repays_them(monkeypatch):
    scheduler, pool = _scheduler(2, 6.0, monkeypatch)
    for i in range(4):
        scheduler.add(_task("pixels", i, 0.5))
    assert not scheduler.started and not pool.submitted, "2 s of quick splits: one process"
    scheduler.add(_task("cnn", 1, 10.0))
    assert scheduler.started
    assert [args for _, _, args in pool.submitted] == [("cnn1",)], "the longest split goes first"
    pool.run_next()  # the worker finishes it and takes the next longest at once
    assert [t.family for t, _, _ in [(o[0], o[1], o[2]) for o in scheduler.outcomes()]] == ["cnn"]
    assert len(pool.submitted) == 1
    assert scheduler.take_for_main().family == "pixels"


def test_gpu_splits_stay_in_the_main_process(monkeypatch):
    scheduler, pool = _scheduler(2, 0.0, monkeypatch)
    scheduler.add(_task("cnn", 1, 100.0, main_only=True))
    assert not pool.submitted
    assert scheduler.take_for_main().index == 1 and not scheduler.busy()


def test_a_dropped_family_gives_back_nothing(monkeypatch):
    scheduler, pool = _scheduler(2, 0.0, monkeypatch)
    scheduler.add(_task("hog", 1, 5.0))  # to the worker
    scheduler.add(_task("hog", 2, 5.0))  # queued
    scheduler.add(_task("lbp", 1, 1.0))
    scheduler.drop("hog")
    pool.run_next()  # the running hog split finishes: ignored; lbp goes to the worker
    assert scheduler.outcomes() == []
    pool.run_next()
    (task, result, error), *rest = scheduler.outcomes(block=True)
    assert (task.family, result, error, rest) == ("lbp", "LBP1", None, [])
    assert not scheduler.busy()


def test_a_failing_split_comes_back_as_its_error(monkeypatch):
    scheduler, pool = _scheduler(2, 0.0, monkeypatch)
    scheduler.worker_function = lambda name: 1 / 0
    scheduler.add(_task("glcm", 1, 1.0))
    pool.run_next()
    ((task, result, error),) = scheduler.outcomes()
    assert task.family == "glcm" and result is None and isinstance(error, ZeroDivisionError)


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
    # Once the splits have run the first test fold is described again in the main process, alone, in
    # both runs: repeated until 0.1 s are measured (at most 100 times).
    for result in (p, s):
        n_calls, rest = divmod(result.n_transformed, len(result.fold_test_indices[0]))
        assert rest == 0 and 1 <= n_calls <= 100 and (n_calls == 100 or result.transform_seconds >= 0.1)


def test_workers_take_the_folds_of_every_family_and_a_failing_one_is_left_out(digits, monkeypatch):
    import os

    X, y = digits
    features = {  # fragile first: the worker takes its second fold as soon as it is queued
        "fragile": FailsInWorkers(home=os.getpid()),
        "pixels": FunctionTransformer(flatten),
        "twice": FunctionTransformer(lambda a: 2 * flatten(a)),
    }
    serial = compare_features(X, y, features, estimator="logreg", cv=4)
    assert not serial.skipped and all(r.parallel == 1 for r in serial.results.values())
    monkeypatch.setattr(_workflow, "PARALLEL_MIN_SAVING", 0.0)
    forecasts = []
    monkeypatch.setattr(
        Progress, "work_left", lambda self, left, processes: forecasts.append((left, processes))
    )
    parallel = compare_features(X, y, features, estimator="logreg", cv=4, n_jobs=2, on_error="skip")
    # Once every family has run its first fold, the queue's forecast: the folds left of each, on 2 processes.
    [(left, processes)] = forecasts
    assert processes == 2 and set(left) <= {"fragile", "pixels", "twice"} and "twice" in left
    assert all(len(seconds) <= 3 and min(seconds) >= 0 for seconds in left.values())
    assert "RuntimeError: this transformer fails in a worker process" in parallel.skipped["fragile"]
    assert sorted(parallel.results) == ["pixels", "twice"]
    for name, result in parallel.results.items():
        np.testing.assert_array_equal(result.scores, serial.results[name].scores)
        assert result.n_transformed % len(result.fold_test_indices[0]) == 0 and result.transform_seconds > 0
    with pytest.raises(RuntimeError, match="fails in a worker"):
        compare_features(X, y, features, estimator="logreg", cv=4, n_jobs=2)
    # A worker's Ctrl-C stops the comparison (it was the family's failure, and the run went on).
    features["fragile"] = FailsInWorkers(home=os.getpid(), interrupt=True)
    with pytest.raises(KeyboardInterrupt):
        compare_features(X, y, features, estimator="logreg", cv=4, n_jobs=2, on_error="skip")


def test_worker_folds_are_stored_and_reported_while_the_main_process_runs_a_long_one(
    digits, monkeypatch, tmp_path
):
    """A worker's finished fold is stored and said at once, not after the main process's current fold.

    On 1,200 224x224 images the main process spent 2 minutes on gabor's first fold while the worker
    finished 15 folds of other families: their lines came out together after it, and a Ctrl-C
    meanwhile lost them for --resume.
    """
    X, y = digits
    monkeypatch.setattr(_workflow, "PARALLEL_MIN_SAVING", 0.0)
    WaitsInMain.released.clear()
    WaitsInMain.waits.clear()
    store = tmp_path / "store"
    said = []
    original = Progress.split_done

    def split_done(self, name, *args, **kwargs):
        original(self, name, *args, **kwargs)
        in_main_thread = threading.current_thread() is threading.main_thread()
        said.append((name, in_main_thread))
        if name == "quick" and not in_main_thread:
            # Recorded by the listener while the main thread waits in 'long': stored before said.
            said.append(("stored", len(list(store.rglob("*quick*")))))
            WaitsInMain.released.set()

    monkeypatch.setattr(Progress, "split_done", split_done)
    features = {"quick": FunctionTransformer(flatten), "long": WaitsInMain(home=os.getpid(), timeout=60.0)}
    result = compare_features(X, y, features, estimator="logreg", cv=4, n_jobs=2, store=store)
    assert WaitsInMain.waits and all(WaitsInMain.waits), "no worker fold was recorded while 'long' ran"
    assert sorted(result.results) == ["long", "quick"] and result.results["quick"].parallel == 2
    first_by_listener = said.index(("quick", False))
    assert said[first_by_listener + 1][1] >= 1  # its fold was in the store when it was said
    assert ("long", True) in said[first_by_listener:]  # before the long family's first fold ended
    serial = compare_features(X, y, features, estimator="logreg", cv=4)
    for name in features:
        np.testing.assert_array_equal(result.results[name].scores, serial.results[name].scores)


def test_a_worker_failure_is_recorded_while_the_main_process_runs_a_long_split(digits, monkeypatch):
    """With on_error='skip' the failed family is left out at once: its queued folds are not run."""
    X, y = digits
    monkeypatch.setattr(_workflow, "PARALLEL_MIN_SAVING", 0.0)
    WaitsInMain.released.clear()
    WaitsInMain.waits.clear()
    original = Progress.failed

    def failed(self, name, why, n_left=0):
        original(self, name, why, n_left)
        if threading.current_thread() is not threading.main_thread():
            WaitsInMain.released.set()

    monkeypatch.setattr(Progress, "failed", failed)
    features = {
        "fragile": FailsInWorkers(home=os.getpid()),
        "long": WaitsInMain(home=os.getpid(), timeout=60.0),
    }
    result = compare_features(X, y, features, estimator="logreg", cv=4, n_jobs=2, on_error="skip")
    assert WaitsInMain.waits and all(WaitsInMain.waits), "the failure waited for the main process"
    assert "fails in a worker process" in result.skipped["fragile"] and list(result.results) == ["long"]
    with pytest.raises(RuntimeError, match="fails in a worker"):  # on_error='raise': the main thread raises
        compare_features(X, y, features, estimator="logreg", cv=4, n_jobs=2)


def test_with_workers_a_first_split_says_how_much_work_its_family_has_left():
    """Before every family has queued its splits the queue's wait is unknown; a family's own is not."""
    stream = io.StringIO()
    progress = Progress(stream=stream)
    progress.start("bovw", 5)
    progress.split_done("bovw", 0, 0, 1, 5, 0.25, "accuracy", workers=2, seconds=211.0, family_left=844.0)
    progress.split_done("bovw", 0, 1, 1, 5, 0.5, "accuracy", workers=2, seconds=205.0, left_in_all=700.0)
    progress.start("lbp", 2)
    progress.split_done("lbp", 0, 0, 1, 2, 0.75, "accuracy", workers=2, seconds=1.0, family_left=1.0)
    progress.start("cnn", 2)
    progress.split_done("cnn", 0, 0, 1, 2, 0.5, "accuracy", workers=2, seconds=12.0, family_left=12.0)
    first, second, third, fourth = stream.getvalue().splitlines()
    assert first.endswith("; 3 min 31 s this split; its 4 other splits: about 14 min 04 s of work")
    assert second.endswith("; 3 min 25 s this split, about 11 min 40 s left in all")  # the queue known
    assert third.endswith("; 1.0 s this split")  # under 10 s: no news
    assert fourth.endswith("; 12 s this split; its other split: about 12 s of work")


def test_a_long_split_says_it_is_still_running_when_nothing_else_was_said():
    import time

    stream = io.StringIO()
    progress = Progress(stream=stream, heartbeat=0.2)
    with progress.running("gabor: fold 2/5", estimate=60.0):
        time.sleep(0.9)
    lines = stream.getvalue().splitlines()
    assert 2 <= len(lines) <= 5, lines  # one a heartbeat, not one a poll
    assert all(line.startswith("gabor: fold 2/5: still running, ") for line in lines)
    assert lines[0].endswith(" s left)") and " s so far (about " in lines[0]
    time.sleep(0.5)  # the split ended: no more lines
    assert len(stream.getvalue().splitlines()) == len(lines)
    progress.say("lbp: fold 1/5: accuracy 0.9")  # a line resets the clock
    with progress.running("lbp: fold 2/5"):
        time.sleep(0.1)
    assert stream.getvalue().splitlines()[-1] == "lbp: fold 1/5: accuracy 0.9"
    progress.close()
    silent = io.StringIO()
    with Progress(verbose=0, stream=silent, heartbeat=0.05).running("hog: fold 1/5"):
        time.sleep(0.3)
    assert silent.getvalue() == ""


def test_a_long_fold_of_a_comparison_talks(digits, monkeypatch, capsys):
    X, y = digits
    monkeypatch.setattr(_progress, "HEARTBEAT_SECONDS", 0.2)
    WaitsInMain.released.clear()  # every wait lasts its timeout
    features = {"slow": WaitsInMain(home=os.getpid(), timeout=0.8)}  # 0.8 s in the warm-up, 0.8 s a fit
    compare_features(X[:200], y[:200], features, estimator="logreg", cv=2, verbose=1)
    err = capsys.readouterr().err
    assert "slow: fold 1/2: still running, " in err and "slow: fold 2/2: still running, " in err
    assert "(about " in err.split("slow: fold 2/2: still running, ")[1].splitlines()[0]  # fold 1 timed it
    # With a worker: the main process, out of splits of its own, says what it waits for.
    monkeypatch.setattr(_workflow, "PARALLEL_MIN_SAVING", 0.0)
    features = {"slow": WaitsInMain(home=os.getpid(), timeout=1.5, in_workers=True)}
    compare_features(X[:200], y[:200], features, estimator="logreg", cv=2, n_jobs=2, verbose=1)
    waiting = [line for line in capsys.readouterr().err.splitlines() if line.startswith("waiting for")]
    assert waiting and waiting[0].startswith("waiting for the workers: slow: fold 2/2 (")
    assert " s so far" in waiting[0]


def test_work_left_counts_queued_splits_and_what_running_ones_have_left(monkeypatch):
    scheduler, pool = _scheduler(2, 6.0, monkeypatch)
    scheduler.add(_task("cnn", 1, 10.0))
    for i in range(3):
        scheduler.add(_task("pixels", i, 0.5))
    assert [args for _, _, args in pool.submitted] == [("cnn1",)]  # running in the worker
    left = scheduler.work_left()
    assert left["pixels"] == [0.5] * 3 and 9.0 < left["cnn"][0] <= 10.0
    scheduler.drop("pixels")
    assert list(scheduler.work_left()) == ["cnn"]


def test_the_forecast_names_the_families_that_make_the_wait_and_skips_a_short_one():
    stream = io.StringIO()
    progress = Progress(stream=stream)
    progress.work_left({"lbp": [0.9] * 4, "gan": [400.0] * 4, "cnn": [90.0] * 4}, processes=2)
    line = stream.getvalue().strip()
    # (1600 + 360 + 3.6) s on 2 processes; gan and cnn make 99.8 % of it, so lbp is not named.
    assert line.endswith(
        "the 12 others take about 16 min 22 s more on 2 processes; most of it: gan (4 x "
        "6 min 40 s), cnn (4 x 1 min 30 s)"
    ), line
    progress.work_left({"gan": [2000.0], "lbp": [1.0] * 10}, processes=4)  # one split longer than the rest
    assert "about 33 min 20 s more on 4 processes" in stream.getvalue()
    stream.truncate(0)
    stream.seek(0)
    progress.work_left({"lbp": [5.0] * 8}, processes=2)  # 20 s: nothing to forecast
    assert stream.getvalue() == ""


def test_a_broken_pool_leaves_the_splits_to_the_main_process(monkeypatch):
    scheduler, pool = _scheduler(2, 0.0, monkeypatch)

    def broken(*args, **kwargs):
        raise RuntimeError("A worker process was terminated abruptly")

    pool.submit = broken
    with pytest.warns(RuntimeWarning, match="remaining splits run in the main process"):
        scheduler.add(_task("gabor", 1, 5.0))
    assert scheduler.n_workers == 0 and scheduler.busy()
    scheduler.add(_task("gabor", 2, 5.0))
    assert [scheduler.take_for_main().index, scheduler.take_for_main().index] == [1, 2]
    assert not scheduler.busy()


def test_schedulers_one_after_another_send_large_arrays_and_leave_no_files():
    # Arrays over 1 MB travel as memory-mapped files. Each scheduler has its own folder for them and
    # deletes it when it closes; the comparison's workers then serve the report's scheduler, which
    # once failed because the first one had deleted the folder the pool was still using.
    import glob
    import os

    import numpy as np

    images = np.ones((300, 32, 32))  # 2.4 MB
    pattern = f"/dev/shm/joblib_memmapping_folder_{os.getpid()}_*/*"
    for modules in ((), None):
        scheduler = SplitScheduler(2, worker_function=np.sum, start_cost=0.0, modules=modules)
        scheduler.add(SplitTask("pixels", 0, (images,), {}, 1.0))
        outcomes = []
        while scheduler.busy():
            outcomes += scheduler.outcomes(block=True)
        scheduler.close()
        assert [(task.family, result, error) for task, result, error in outcomes] == [
            ("pixels", images.size, None)
        ]
        assert not glob.glob(pattern), "the scheduler's memory-mapped arrays are deleted when it closes"


def test_stop_workers_kills_the_workers_a_scheduler_left_running():
    import os
    import time

    scheduler = SplitScheduler(2, worker_function=os.getpid, start_cost=0.0)
    scheduler.add(SplitTask("pixels", 0, (), {}, 1.0))
    outcomes = []
    while scheduler.busy():
        outcomes += scheduler.outcomes(block=True)
    scheduler.close()
    ((_, worker, error),) = outcomes
    assert error is None and worker != os.getpid()

    def alive(pid):  # the workers are this process's children: gone once killed and reaped
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return False
        return True

    assert alive(worker), "closing a scheduler leaves its workers to the next one"
    SplitScheduler.stop_workers()
    deadline = time.monotonic() + 30
    while alive(worker) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not alive(worker)
    assert SplitScheduler._last_executor is None
    SplitScheduler.stop_workers()  # again, with none left: nothing to do


def test_a_later_scheduler_reuses_the_running_workers(monkeypatch):
    # loky keeps a pool only while the executor's arguments stay the same: every scheduler (the
    # comparison's, the report's, the command's early start) asks with the same ones, and what
    # the workers import comes as their first task.
    import joblib.executor

    from skvision import _workers

    calls, pools = [], []

    def executor(n_workers, **kwargs):
        calls.append((n_workers, kwargs))
        pools.append(_InlineExecutor())
        return pools[-1]

    monkeypatch.setattr(joblib.executor, "get_memmapping_executor", executor)
    monkeypatch.setattr(SplitScheduler, "_last_modules", ())
    monkeypatch.setattr(SplitScheduler, "_last_executor", None)
    monkeypatch.setattr(_workers, "_pool", None)
    _workers.spawn_early(2, "hog,cnn")
    SplitScheduler(2, worker_function=print, start_cost=0, modules=("json", "csv")).prestart()
    later = SplitScheduler(2, worker_function=print, start_cost=0, modules=None)
    assert later.modules == ("json", "csv")
    later.prestart()
    assert len(calls) == 3 and calls[0] == calls[1] == calls[2]
    assert calls[0][1]["initializer"] is _workers.start_worker and "initargs" not in calls[0][1]
    ((_, function, args),) = pools[0].submitted
    assert function is _workers.import_family_modules and args == ("hog,cnn",)
    ((_, function, args),) = pools[1].submitted
    assert function is _workers.import_modules and args == (("json", "csv"),)


def test_spawn_early_starts_nothing_for_one_process(monkeypatch):
    import joblib.executor

    from skvision import _workers

    monkeypatch.setattr(joblib.executor, "get_memmapping_executor", lambda *a, **k: pytest.fail("spawned"))
    _workers.spawn_early(None, "hog")
    _workers.spawn_early(1, "hog")


def test_the_early_workers_import_the_families_modules():
    from skvision import _workers

    assert _workers.family_modules("hog+lbp,cnn") == [
        "skvision.compare._workflow",
        "skvision.descriptors",
        "skvision.neural",
    ]
    everything = _workers.family_modules(None)
    assert "skvision.neural" in everything and "skvision.descriptors" in everything


@pytest.mark.parametrize(
    ("n_jobs", "error", "match"),
    [
        ("two", TypeError, "n_jobs must be None or an int"),
        (2.5, TypeError, "got 2.5"),
        (0, ValueError, "got 0"),
    ],
)
def test_a_wrong_n_jobs_is_refused_by_name(two_sets, tmp_path, n_jobs, error, match):
    with pytest.raises(error, match=match):
        SplitScheduler(n_jobs, worker_function=print, start_cost=1)
    with pytest.raises(error, match=match):
        two_sets.write_report(tmp_path / "out", n_jobs=n_jobs, html=False)
    assert not (tmp_path / "out").exists() or not (tmp_path / "out" / "report.md").exists()


def _slow_flatten(images):
    """A transform that takes 2 ms an image."""
    import time

    time.sleep(0.002 * len(images))
    return flatten(images)


def test_a_slow_transform_is_timed_on_part_of_the_fold_not_described_again_whole(digits):
    """The rate is timed on enough images for ~0.1 s, not on a whole fold that takes far longer."""
    X, y = digits
    X, y = np.concatenate([X] * 3)[:600], np.concatenate([y] * 3)[:600]
    result = compare_features(X, y, {"slow": FunctionTransformer(_slow_flatten)}, estimator="logreg", cv=3)
    slow = result.results["slow"]
    assert len(slow.fold_test_indices[0]) == 200, "a fold takes 0.4 s to describe"
    assert slow.n_transformed == 64  # TIMED_IMAGES_MIN: 64 images take 0.13 s, one call
    assert 300 < slow.throughput < 500, "2 ms an image, plus the flatten"
