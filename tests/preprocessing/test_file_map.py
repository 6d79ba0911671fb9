"""map_files: files shared between this process and workers only where that pays, results in order."""

import os
import time
import warnings

import numpy as np
import pytest
from joblib import parallel_config
from PIL import Image

from skvision import _workers
from skvision.datasets import load_image_folder
from skvision.preprocessing import ImageLoader, _file_map, _loader
from skvision.preprocessing._file_map import map_files
from skvision.preprocessing._loader import read_images


def _pid_and_pixels(path, options):
    """Which process read ``path``, and an array made from it (module level: runs in workers)."""
    time.sleep(options["sleep"])
    return os.getpid(), path, np.full((2, 3), len(path), dtype=np.uint8)


def _stuck_in_workers(path, options):
    """Instant here, but a worker never finishes: the read must not wait for it."""
    if _workers.in_worker():
        time.sleep(60)
    return os.getpid(), path


class Shared:
    """What :func:`share_everything` saw: the chunks' folders, and how many chunks came from workers."""

    def __init__(self):
        self.folders = []
        self.from_workers = 0


@pytest.fixture
def share_everything(monkeypatch, tmp_path):
    """Every ``n_jobs > 1`` call shares its files, one per chunk, with a worker faster than this process.

    No probe and no threshold; this process sleeps 50 ms per chunk (the
    workers have their own, unpatched module), so the workers surely read some.
    """
    shared = Shared()
    monkeypatch.setattr(_file_map, "_PROBE_SECONDS", 0.0)
    monkeypatch.setattr(_file_map, "_MIN_PARALLEL_SECONDS", {"warm": 0.0, "cold": 0.0})
    monkeypatch.setattr(_file_map, "_CHUNK_SECONDS", (0.0, 0.0))

    def temporary_folder():
        shared.folders.append(tmp_path / f"chunks-{len(shared.folders)}")
        shared.folders[-1].mkdir()
        return str(shared.folders[-1])

    def slow_map_chunk(function, paths, options, map_chunk=_file_map._map_chunk):
        time.sleep(0.05)
        return map_chunk(function, paths, options)

    def counted_unpack(packed, file, unpack=_file_map._unpack):
        shared.from_workers += 1
        return unpack(packed, file)

    monkeypatch.setattr(_file_map, "_temporary_folder", temporary_folder)
    monkeypatch.setattr(_file_map, "_map_chunk", slow_map_chunk)
    monkeypatch.setattr(_file_map, "_unpack", counted_unpack)
    yield shared
    _workers.stop_workers()


def _started_pool():
    """The pool ``map_files(n_jobs=2)`` uses, with its worker running and this module imported there."""
    pool = _workers.worker_pool(1, _workers.threads_each(2))
    pool.submit(_pid_and_pixels, "warm-up", {"sleep": 0.0}).result()
    assert _workers.pool_running(1, _workers.threads_each(2))
    return pool


def test_workers_read_the_back_and_results_keep_their_order(share_everything):
    _started_pool()
    paths = [f"file-{i:03d}.png" for i in range(80)]
    results = map_files(_pid_and_pixels, paths, {"sleep": 0.01}, n_jobs=2)

    assert [path for _, path, _ in results] == paths
    for _, path, pixels in results:  # arrays came back whole through the workers' files
        np.testing.assert_array_equal(pixels, np.full((2, 3), len(path), dtype=np.uint8))
    pids = [pid for pid, _, _ in results]
    assert pids[0] == os.getpid(), "this process reads from the front"
    assert pids[-1] != os.getpid(), "a worker reads from the back"
    # Each process's files are one run: this process's front, then the workers' back.
    assert pids == sorted(pids, key=lambda pid: pid != os.getpid())
    assert share_everything.from_workers > 0
    assert not share_everything.folders[0].exists(), "the chunks' files are removed"


def test_a_stuck_worker_does_not_hold_the_read(share_everything):
    _started_pool()
    paths = [f"file-{i}.png" for i in range(12)]
    started = time.perf_counter()
    results = map_files(_stuck_in_workers, paths, None, n_jobs=2)
    # The worker sleeps 60 s on its chunks; this process reads them itself instead of waiting.
    assert time.perf_counter() - started < 30
    assert results == [(os.getpid(), path) for path in paths]


def test_workers_open_relative_paths_in_the_callers_folder(share_everything, tmp_path, monkeypatch):
    # The workers started in batch_a; a read of the same names after changing folder to batch_b got
    # batch_a's images from the workers, silently.
    names = [f"{i:03d}.png" for i in range(40)]
    for value, batch in ((60, "batch_a"), (200, "batch_b")):
        (tmp_path / batch).mkdir()
        for name in names:
            Image.fromarray(np.full((4, 4), value, dtype=np.uint8)).save(tmp_path / batch / name)
    monkeypatch.chdir(tmp_path / "batch_a")
    _started_pool()
    first, _, _ = read_images(names, n_jobs=2)
    assert (first == 60).all()
    monkeypatch.chdir(tmp_path / "batch_b")
    workers_before = share_everything.from_workers
    images, _, _ = read_images(names, n_jobs=2)
    assert share_everything.from_workers > workers_before, "workers read some"
    assert (images == 200).all()
    with parallel_config(backend="loky", n_jobs=2):  # the route through joblib's own workers
        images, _, _ = read_images(names, n_jobs=2)
    assert (images == 200).all()


def _warns(path, options):
    """A read that warns (module level: runs in workers)."""
    warnings.warn(f"read {path}", UserWarning, stacklevel=1)
    return os.getpid()


def test_workers_read_with_the_callers_pillow_limits_and_their_warnings_come_back(
    share_everything, tmp_path, monkeypatch
):
    # Pillow's LOAD_TRUNCATED_IMAGES set by the user: the files the workers read were bad files there
    # (280 of 300 images came back); their warnings went to their stderr, past the caller's filters.
    from PIL import ImageFile

    names = []
    rng = np.random.default_rng(0)
    for i in range(24):
        Image.fromarray(rng.integers(0, 256, (32, 32), dtype=np.uint8)).save(tmp_path / f"{i}.png")
        names.append(str(tmp_path / f"{i}.png"))
    for name in names[::3]:  # a third of them cut short, in their pixel data
        data = open(name, "rb").read()
        open(name, "wb").write(data[: len(data) // 2])
    _started_pool()
    _, _, problems = read_images(names, n_jobs=2, on_error="skip")
    assert len(problems) == 8
    monkeypatch.setattr(ImageFile, "LOAD_TRUNCATED_IMAGES", True)
    workers_before = share_everything.from_workers
    images, kept, problems = read_images(names, n_jobs=2, on_error="skip")
    assert share_everything.from_workers > workers_before and not problems and len(kept) == 24
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        pids = map_files(_warns, names, None, n_jobs=2)
    assert set(pids) - {os.getpid()}, "workers read some"
    assert sorted(str(w.message) for w in caught) == sorted(f"read {name}" for name in names)
    # A filter by module (filterwarnings(module="sklearn"), say) matches the workers' warnings too.
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        warnings.filterwarnings("ignore", module=__name__)
        pids = map_files(_warns, names, None, n_jobs=2)
    assert set(pids) - {os.getpid()} and not caught


def test_small_reads_stay_in_this_process_and_start_no_worker(monkeypatch):
    _workers.stop_workers()
    paths = [f"file-{i}.png" for i in range(50)]
    results = map_files(_pid_and_pixels, paths, {"sleep": 0.0}, n_jobs=2)
    assert {pid for pid, _, _ in results} == {os.getpid()}
    assert _workers._pool is None


@pytest.mark.parametrize(
    ("n_jobs", "seconds", "running", "expected"),
    [
        (1, 100.0, True, "serial"),
        (None, 100.0, True, "serial"),
        (2, 0.1, True, "serial"),
        (2, 1.0, True, "share"),
        (2, 1.0, False, "serial"),  # workers to spawn first: only long reads repay them
        (2, 100.0, False, "share"),
    ],
)
def test_plan_weighs_the_rest_against_starting_workers(monkeypatch, n_jobs, seconds, running, expected):
    monkeypatch.setattr(_workers, "pool_running", lambda *args: running)
    assert _file_map._plan(n_jobs, seconds)[0] == expected


def test_plan_follows_joblib_configuration(monkeypatch):
    monkeypatch.setattr(_workers, "pool_running", lambda *args: True)
    with parallel_config(backend="threading"):  # a backend the caller chose (a dask cluster, say)
        assert _file_map._plan(2, 0.1) == ("joblib", 2)
        assert _file_map._plan(2, 0.01) == ("serial", 1)  # less than handing it over costs
    with parallel_config(backend="loky"):
        assert _file_map._plan(2, 1.0) == ("joblib", 2)
        assert _file_map._plan(2, 0.1) == ("serial", 1)
    with parallel_config(n_jobs=2):  # n_jobs=None follows joblib's configuration
        assert _file_map._plan(None, 100.0) == ("share", 2)
    monkeypatch.setattr(_workers, "_in_worker", True)
    assert _file_map._plan(2, 100.0) == ("serial", 1)


def test_a_configured_backend_gets_the_chunks(monkeypatch):
    monkeypatch.setattr(_file_map, "_PROBE_SECONDS", 0.0)
    monkeypatch.setattr(_file_map, "_MIN_PARALLEL_SECONDS", {"warm": 0.0, "cold": 0.0, "threads": 0.0})
    paths = [f"file-{i}.png" for i in range(30)]
    with parallel_config(backend="threading"):
        results = map_files(_pid_and_pixels, paths, {"sleep": 0.0}, n_jobs=2)
    assert [path for _, path, _ in results] == paths


def test_a_backend_without_result_generators_gets_the_chunks(monkeypatch):
    """joblib's multiprocessing backend raised "does not support return_as=generator"."""
    monkeypatch.setattr(_file_map, "_PROBE_SECONDS", 0.0)
    monkeypatch.setattr(_file_map, "_MIN_PARALLEL_SECONDS", {"warm": 0.0, "cold": 0.0, "threads": 0.0})
    paths = [f"file-{i}.png" for i in range(30)]
    with parallel_config(backend="multiprocessing"):
        assert _file_map._plan(2, 0.0) == ("joblib", 2)
        results = map_files(_pid_and_pixels, paths, {"sleep": 0.0}, n_jobs=2)
    assert [path for _, path, _ in results] == paths
    assert len({pid for pid, _, _ in results} - {os.getpid()}) >= 1  # read in the backend's processes


def _folder(root, n_per_class=12):
    rng = np.random.default_rng(0)
    for name in ("cats", "dogs"):
        (root / name).mkdir(parents=True)
        for i in range(n_per_class):
            Image.fromarray(rng.integers(0, 256, (9, 7, 3), dtype=np.uint8)).save(root / name / f"{i}.png")
    (root / "dogs" / "notes.png").write_text("not an image")
    # 12-bit values in a 16-bit file: the warning is given once, by this process.
    Image.fromarray((np.arange(63).reshape(9, 7) * 60).astype(np.uint16)).save(root / "cats" / "deep.png")
    return root


def test_read_images_shared_with_workers_equals_one_process(share_everything, tmp_path):
    root = _folder(tmp_path / "data")
    paths = sorted(str(p) for p in root.rglob("*.png"))
    with warnings.catch_warnings(record=True) as caught_one:
        warnings.simplefilter("always")
        one = read_images(paths, on_error="skip")
    _started_pool()
    with warnings.catch_warnings(record=True) as caught_two:
        warnings.simplefilter("always")
        two = read_images(paths, on_error="skip", n_jobs=2)
    np.testing.assert_array_equal(one[0], two[0])
    np.testing.assert_array_equal(one[1], two[1])
    assert one[2] == two[2] and list(two[2]) == [str(root / "dogs" / "notes.png")]
    assert [str(w.message) for w in caught_one] == [str(w.message) for w in caught_two]
    assert share_everything.from_workers > 0, "files went through a worker"


def test_load_image_folder_and_loader_with_workers_equal_one_process(share_everything, tmp_path):
    root = _folder(tmp_path / "data")
    # Started first: a worker spawned by the read itself may come up only after this process has read
    # every file, on a loaded machine (CI once saw no chunk from a worker).
    _started_pool()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        one = load_image_folder(root, on_error="skip")
        two = load_image_folder(root, on_error="skip", n_jobs=2)
        np.testing.assert_array_equal(one.images, two.images)
        np.testing.assert_array_equal(one.target, two.target)
        paths = list(one.filenames)
        loader = ImageLoader(n_jobs=2, on_error="skip").fit(paths)
        np.testing.assert_array_equal(loader.transform(paths), one.images)
    assert share_everything.from_workers > 0
    assert loader.color_mode_ == "rgb" and loader.image_shape_ == (9, 7)


def test_verbose_reads_show_a_bar_on_stderr(monkeypatch, tmp_path, capsys):
    monkeypatch.setattr(_loader, "_BAR_DELAY_SECONDS", 0.0)
    root = _folder(tmp_path / "data")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        load_image_folder(root, on_error="skip", verbose=1)
        quiet = capsys.readouterr()
        ImageLoader(on_error="skip", verbose=0).fit(list(root.rglob("*.png")))
    assert "reading" in quiet.err and "file" in quiet.err and quiet.out == ""
    assert capsys.readouterr().err == ""


def test_verbose_that_is_not_a_number_is_refused(tmp_path):
    root = _folder(tmp_path / "data")
    with pytest.raises(TypeError, match="verbose must be an int or a bool; got str 'yes'"):
        load_image_folder(root, on_error="skip", verbose="yes")
