"""The descriptors' torch path on a CUDA device against their CPU path in one process.

Workloads are bench_parallel.py's (uint8 grey texture patches and photographs): 5,000
and 100,000 28x28, 20 and 200 512x512. Each row fits the descriptor once with its
default parameters, checks that ``device='cuda'`` gives the CPU's output (bit for
bit, or within 1e-12 relative for HOG and 1e-9 for GaborBank: see tests/test_gpu.py),
then times ``transform`` on each side: medians of ``--repeats`` runs after an untimed
call (the CUDA context, cuFFT plans and kernels are built then). The GPU figure
includes the copies of the images to the device and of the features back, as a user
sees it: ``transform`` takes and returns numpy arrays. CPU rows whose first call took
over ``--heavy`` seconds are timed once.

Needs a CUDA device. Usage::

    python benchmarks/bench_gpu.py                                  # every row, ~3 min on an H200 host
    python benchmarks/bench_gpu.py --descriptors LBP,HOG --rows 5000x28
"""

from __future__ import annotations

import argparse
import os
import platform
import sys
import time

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

DESCRIPTORS = ["LBP", "HOG", "GaborBank", "LPQ", "WLD", "BSIF"]
ROWS = ["5000x28", "100000x28", "20x512", "200x512"]
TOLERANCE = {"HOG": 1e-12, "GaborBank": 1e-9}


def timed(function, repeats):
    from _timing import median_seconds

    return median_seconds(function, repeats)


def run(descriptors, rows, repeats, heavy):
    import torch
    from bench_parallel import workload

    import skvision

    print(
        f"Machine: {platform.machine()}, {os.cpu_count()} cores, GPU {torch.cuda.get_device_name()}, "
        f"torch {torch.__version__}, numpy {np.__version__}, skvision {skvision.__version__}"
    )
    print(f"Medians of {repeats} repeats after an untimed call (CPU rows over {heavy} s: one run).\n")
    print("| workload | descriptor | CPU images/s | CUDA images/s | CUDA vs CPU | output check |")
    print("|---|---|---:|---:|---:|---|")
    for row in rows:
        images = workload(row)
        n = len(images)
        for name in descriptors:
            params = {"random_state": 0} if name == "BSIF" else {}
            on_cpu = getattr(skvision, name)(**params).fit(images)
            on_gpu = getattr(skvision, name)(**params, device="cuda").fit(images)
            start = time.perf_counter()
            expected = on_cpu.transform(images)
            first = time.perf_counter() - start
            got = on_gpu.transform(images)
            rtol = TOLERANCE.get(name, 0.0)
            if rtol:
                np.testing.assert_allclose(got, expected, rtol=rtol, atol=1e-12)
                check = f"rtol {rtol:g}"
            else:
                np.testing.assert_array_equal(got, expected)
                check = "identical"
            cpu = first if first > heavy else timed(lambda: on_cpu.transform(images), repeats)
            gpu = timed(lambda: on_gpu.transform(images), repeats)
            print(
                f"| {n:,} x {row.split('x')[1]}² | {name} | {n / cpu:,.0f} | {n / gpu:,.0f} "
                f"| {cpu / gpu:.1f}x | {check} |"
            )
            sys.stdout.flush()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--descriptors", default=",".join(DESCRIPTORS))
    parser.add_argument("--rows", default=",".join(ROWS))
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--heavy", type=float, default=5.0)
    args = parser.parse_args()
    run(args.descriptors.split(","), args.rows.split(","), args.repeats, args.heavy)
