"""pytest set-up for the doctests of skvision/ (tests/conftest.py holds the test suite's own).

The lean install (no 'neural' or 'fast' extra; CI's .ci/lean) runs the package's doctests too: examples that
need an optional dependency it lacks are skipped with the reason, not failed.
"""

import importlib.util

import pytest
from _pytest.doctest import DoctestItem

_HAS_NUMBA = importlib.util.find_spec("numba") is not None
_HAS_TORCH = importlib.util.find_spec("torch") is not None

# Compiled kernels import numba at module level: without the 'fast' extra there is nothing to collect.
collect_ignore_glob = [] if _HAS_NUMBA else ["skvision/descriptors/_*_numba.py"]


def pytest_collection_modifyitems(config, items):
    if _HAS_TORCH:
        return
    skip = pytest.mark.skip(reason="the example needs torch: pip install 'skvision[neural]'")
    for item in items:
        if isinstance(item, DoctestItem) and "torch" in "".join(ex.source for ex in item.dtest.examples):
            item.add_marker(skip)
