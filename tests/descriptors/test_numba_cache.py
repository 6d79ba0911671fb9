"""The compiled kernels' on-disk cache is hit by every new process (no recompiling, no new files)."""

import subprocess
import sys

import pytest

from skvision.descriptors import _numba

KEYS = """
import hashlib
from numba.core.serialize import dumps
from skvision.descriptors import _hog_numba, _lbp_numba, _lpq_numba
kernels = {
    "hog features": _hog_numba.features_colour,
    "hog vote_cells": _hog_numba.vote_cells_gray,
    "hog normalize_blocks": _hog_numba.normalize_blocks,
    "lpq counts": _lpq_numba.lpq_counts_into,
}
for name, kernel in kernels.items():
    # What numba's cache index keys a kernel by, besides its bytecode: its closure's cells pickled
    # (numba.core.caching._CacheImpl._index_key); and the uuid a caller's pickle holds.
    cells = tuple(cell.cell_contents for cell in kernel.py_func.__closure__ or ())
    print(name, hashlib.sha256(dumps(cells)).hexdigest(), kernel._uuid)
"""


def _keys(seed):
    env = {"PYTHONHASHSEED": str(seed), "PATH": ""}
    out = subprocess.run(
        [sys.executable, "-c", KEYS], capture_output=True, text=True, check=True, env=env, timeout=120
    )
    return out.stdout.splitlines()


def test_kernel_cache_keys_are_the_same_in_every_process():
    # Before: each process drew new random uuids for the kernels, so every process missed the
    # cache of HOG's closure kernels, compiled them again (3-5 s) and added files to the cache.
    if not _numba.numba_available():
        pytest.skip("numba is not installed (the 'fast' extra)")
    first, second = _keys(1), _keys(2)
    assert len(first) == 4 and first == second
    assert all(" skvision:skvision.descriptors." in line for line in first)


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
