"""Peak memory of descriptor transforms on an image set read from a numpy memmap.

Target (issue "scale out"): transforming 200,000 64x64 uint8 images (about 800 MB)
read from a memmap keeps peak RSS within the memmap's pages + the output + 200 MB.
Each measurement runs in a fresh subprocess so that peak RSS (ru_maxrss) belongs to
that transform alone; the baseline is the same subprocess's RSS right before the
transform (after imports and opening the memmap).

Usage::

    .venv/bin/python benchmarks/bench_memory.py            # 200,000 images
    .venv/bin/python benchmarks/bench_memory.py --n 20000  # quicker
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import tempfile
import time

import numpy as np

CHILD = r"""
import json, resource, sys, time
import numpy as np
import skvision
from skvision.descriptors import {name}

path, n, side = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
images = np.memmap(path, dtype=np.uint8, mode="r", shape=(n, side, side))
descriptor = {ctor}.fit(images[:64])

def rss_mb():
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024

baseline = rss_mb()
start = time.perf_counter()
features = descriptor.transform(images)
seconds = time.perf_counter() - start
peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
print(json.dumps({{"baseline_mb": baseline, "peak_mb": peak, "out_mb": features.nbytes / 2**20,
                  "seconds": seconds, "shape": features.shape}}))
"""

CASES = {
    "LBP(P=8, R=1, uniform, 4x4 cells)": ("LBP", "LBP(P=8, R=1, method='uniform', grid=(4, 4))"),
    "HOG(8x8 cells, 2x2 blocks)": ("HOG", "HOG(pixels_per_cell=(8, 8), cells_per_block=(2, 2))"),
}


def make_memmap(path, n, side, seed=0):
    rng = np.random.default_rng(seed)
    images = np.memmap(path, dtype=np.uint8, mode="w+", shape=(n, side, side))
    block = 10_000
    for start in range(0, n, block):
        stop = min(n, start + block)
        images[start:stop] = rng.integers(0, 256, size=(stop - start, side, side), dtype=np.uint8)
    images.flush()
    del images


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--n", type=int, default=200_000)
    parser.add_argument("--side", type=int, default=64)
    args = parser.parse_args()
    input_mb = args.n * args.side * args.side / 2**20
    print(f"machine: {platform.processor() or platform.machine()}, {os.cpu_count()} cores; "
          f"{args.n} images {args.side}x{args.side} uint8 in a memmap ({input_mb:.0f} MB)")
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "images.u8")
        make_memmap(path, args.n, args.side)
        for label, (name, ctor) in CASES.items():
            code = CHILD.format(name=name, ctor=ctor)
            out = subprocess.run([sys.executable, "-c", code, path, str(args.n), str(args.side)],
                                 capture_output=True, text=True, check=True)
            result = json.loads(out.stdout.strip().splitlines()[-1])
            growth = result["peak_mb"] - result["baseline_mb"]
            budget = input_mb + result["out_mb"] + 200
            rows.append((label, result["seconds"], result["out_mb"], growth, budget))
    print()
    print("| descriptor | seconds | output MB | peak RSS growth MB | budget MB (memmap + output + 200) | within |")
    print("|---|---:|---:|---:|---:|:---:|")
    for label, seconds, out_mb, growth, budget in rows:
        print(f"| {label} | {seconds:.1f} | {out_mb:.0f} | {growth:.0f} | {budget:.0f} | {'yes' if growth <= budget else 'NO'} |")


if __name__ == "__main__":
    main()
