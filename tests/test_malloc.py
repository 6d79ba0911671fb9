"""The ``skvision`` command keeps freed memory in its process (glibc's thresholds; skvision/_malloc.py)."""

import os
import subprocess
import sys

import pytest

from skvision._malloc import MALLOC_VARIABLES, keep_freed_memory

glibc = pytest.mark.skipif(
    not sys.platform.startswith("linux") or os.confstr("CS_GNU_LIBC_VERSION") is None, reason="needs glibc"
)

# Frees a 64 MB buffer, as a network frees its activations after a batch, and prints how much of it
# the process still holds: by default glibc hands it back to the kernel at once (the next batch then
# gets fresh pages, which the kernel zeroes first).
KEPT = r"""
import sys
import numpy as np
from skvision._malloc import keep_freed_memory

def resident_mb():
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * 4096 / 2**20

applied = keep_freed_memory() if sys.argv[1] == "keep" else None
buffer = np.ones(8 * 2**20)
full = resident_mb()
del buffer
print(applied, round(full - resident_mb()))
"""


def released_mb(mode, **env):
    out = subprocess.run(
        [sys.executable, "-c", KEPT, mode],
        capture_output=True,
        text=True,
        check=True,
        timeout=120,
        env={**{k: v for k, v in os.environ.items() if k not in MALLOC_VARIABLES}, **env},
    ).stdout.split()
    return out[0], int(out[1])


@glibc
def test_freed_buffers_stay_in_the_process():
    applied, kept = released_mb("keep")
    _, default = released_mb("default")
    assert applied == "True"
    assert default >= 60 and kept <= 4, (default, kept)


@glibc
def test_the_users_own_settings_win():
    applied, _ = released_mb("keep", MALLOC_TRIM_THRESHOLD_="131072")
    assert applied == "False"


def test_the_environment_tells_worker_processes():
    environ = {"PATH": "/bin"}
    if keep_freed_memory(environ):  # glibc (this process's thresholds are raised too)
        assert all(environ[name] == str(2**30) for name in MALLOC_VARIABLES)
    else:
        assert environ == {"PATH": "/bin"}
    preset = {"MALLOC_MMAP_THRESHOLD_": "65536"}
    assert not keep_freed_memory(preset) and preset == {"MALLOC_MMAP_THRESHOLD_": "65536"}
