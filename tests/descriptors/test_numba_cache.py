"""The compiled kernels' on-disk cache is hit by every new process (no recompiling, no new files)."""

import subprocess
import sys

import pytest

from skvision.descriptors import _numba

HOG_TWICE = """
import numpy as np
from skvision import HOG
from skvision.descriptors import _hog_numba
images = np.random.default_rng(0).integers(0, 256, (4, 32, 32, 3), dtype=np.uint8)
HOG(channels="max").fit_transform(images)
HOG().fit_transform(images[..., 0])
for kernel in (_hog_numba.features_gray, _hog_numba.features_colour):
    print(len(kernel.stats.cache_hits), len(kernel.stats.cache_misses), kernel._uuid.startswith("skvision:"))
"""


def _run_hog(cache_dir, seed):
    env = {"PYTHONHASHSEED": str(seed), "PATH": "", "NUMBA_CACHE_DIR": str(cache_dir)}
    out = subprocess.run(
        [sys.executable, "-c", HOG_TWICE], capture_output=True, text=True, check=True, env=env, timeout=300
    )
    return [line.split() for line in out.stdout.splitlines()]


def test_a_second_process_loads_the_kernels_from_the_cache(tmp_path):
    # Before: numba keyed HOG's closure kernels by cells holding uuids drawn at random in each
    # process, so every process missed the cache and compiled them again (3-5 s) and added files.
    if not _numba.numba_available():
        pytest.skip("numba is not installed (the 'fast' extra)")
    first = _run_hog(tmp_path, seed=1)
    assert first == [["0", "1", "True"], ["0", "1", "True"]], "a new cache: compiled once each"
    n_files = len(list(tmp_path.rglob("*.nbc")))
    second = _run_hog(tmp_path, seed=2)
    assert second == [["1", "0", "True"], ["1", "0", "True"]], "loaded, not compiled"
    assert len(list(tmp_path.rglob("*.nbc"))) == n_files, "no new cache files"


def test_kernels_of_one_factory_get_distinct_names():
    if not _numba.numba_available():
        pytest.skip("numba is not installed (the 'fast' extra)")
    from skvision.descriptors import _hog_numba

    assert _hog_numba.features_gray._uuid != _hog_numba.features_colour._uuid
    assert "(False)" in _hog_numba.features_gray._uuid and "(True)" in _hog_numba.features_colour._uuid


def test_cache_files_named_by_key_never_give_one_signature_another_s_code(tmp_path, monkeypatch):
    # numba names a new entry's data file by the first number its index lacks: two processes that
    # read the index before either wrote took the same number, and an index entry could point at
    # the other signature's machine code. Named by the key, a file only holds that key's data.
    if not _numba.numba_available():
        pytest.skip("numba is not installed (the 'fast' extra)")
    from skvision.descriptors import _hog_numba

    cache_file_class = _numba._key_named_cache_file_class()
    assert type(_hog_numba.features_colour._cache._cache_file) is cache_file_class

    def cache_file():
        return cache_file_class(cache_path=str(tmp_path), filename_base="kernel", source_stamp=(0.0, 1))

    first, second = cache_file(), cache_file()
    for process in (first, second):  # both read the (empty) index before either saved
        monkeypatch.setattr(process, "_load_index", lambda: {})
    first.save(("int8 images",), "code for int8")
    second.save(("uint8 images",), "code for uint8")
    fresh = cache_file()
    assert fresh.load(("uint8 images",)) == "code for uint8"
    assert fresh.load(("int8 images",)) in ("code for int8", None)  # at worst compiled again
    data_files = sorted(path.name for path in tmp_path.glob("*.nbc"))
    assert len(data_files) == 2 and not any(name.startswith("kernel.1.") for name in data_files)
