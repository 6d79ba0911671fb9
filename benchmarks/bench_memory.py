"""Peak memory of descriptor transforms on an image set read from a numpy memmap.

Target (issue "scale out"): transforming 200,000 64x64 uint8 images (about 800 MB)
read from a memmap keeps peak RSS within the memmap's pages + the output + 200 MB.
Each measurement runs in a fresh subprocess so that peak RSS (ru_maxrss) belongs to
that transform alone; the baseline is the same subprocess's RSS right before the
transform (after imports, opening the memmap, and a transform of two images that
loads what is loaded once: numba and HOG's compiled kernel, torch's allocator).

The neural transformers (CNNFeatures, AutoencoderFeatures, PretrainedFeatures,
each fitted on 64 images in the subprocess, batches of 64) are measured the same
way on the first ``--neural-n`` images of the memmap (5,000 by default: a CPU
needs minutes per 10,000 64x64 images through a CNN); their budget counts the
pages of those images only. Their memory is one batch's activations plus the
output, whatever the number of images.

``--fits``: the peak of the fits that learn from the pixels (BSIF's ICA on patches,
BagOfVisualWords' codebook on DAISY descriptors) on ``--fit-n`` RGB images of
``--fit-side`` pixels from a memmap, against the memmap's pages + what the fit keeps
(BSIF: ``n_patches`` patches; BagOfVisualWords: ``max_descriptors`` descriptors of 200
float64 values) + 200 MB. Both once converted every training image to float64 first
(8-16 bytes per pixel).

Usage::

    .venv/bin/python benchmarks/bench_memory.py            # 200,000 images
    .venv/bin/python benchmarks/bench_memory.py --n 20000  # quicker
    .venv/bin/python benchmarks/bench_memory.py --fits     # the fits, 2,000 128x128 RGB images
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import tempfile

import numpy as np

#: The child scripts' resident memory, from the kernel.
_RSS_MB = r"""
def rss_mb():
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
"""

CHILD = (
    r"""
import json, resource, sys, time
import numpy as np
import skvision

path, n, side, n_used = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
images = np.memmap(path, dtype=np.uint8, mode="r", shape=(n, side, side))[:n_used]
descriptor = {ctor}.fit(images[:64], np.arange(64) % 4)
# One transform of two images first: what a transform loads once (numba and HOG's
# compiled kernel, torch's allocator) counts in the baseline, like the imports.
descriptor.transform(images[:2])
"""
    + _RSS_MB
    + r"""
baseline = rss_mb()
start = time.perf_counter()
features = descriptor.transform(images)
seconds = time.perf_counter() - start
peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
print(json.dumps({{"baseline_mb": baseline, "peak_mb": peak, "out_mb": features.nbytes / 2**20,
                  "seconds": seconds, "shape": features.shape}}))
"""
)
FIT_CHILD = (
    r"""
import json, resource, sys, time
import numpy as np
import skvision
from sklearn.base import clone

path, n, side = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
images = np.memmap(path, dtype=np.uint8, mode="r", shape=(n, side, side, 3))
descriptor = {ctor}
clone(descriptor).fit(images[:16])  # what a fit loads once counts in the baseline
"""
    + _RSS_MB
    + r"""
baseline = rss_mb()
start = time.perf_counter()
descriptor.fit(images)
seconds = time.perf_counter() - start
peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
print(json.dumps({{"baseline_mb": baseline, "peak_mb": peak, "seconds": seconds}}))
"""
)

# label -> (constructor, MB of what the fit keeps)
FIT_CASES = {
    "BSIF(channels='gray')": ("skvision.BSIF(random_state=0)", 10_000 * 81 * 8 / 2**20),
    "BSIF(channels='each')": ("skvision.BSIF(channels='each', random_state=0)", 10_000 * 81 * 8 / 2**20),
    "BagOfVisualWords(daisy)": ("skvision.BagOfVisualWords(random_state=0)", 100_000 * 200 * 8 / 2**20),
}

# label -> (constructor, neural?)
CASES = {
    "LBP(P=8, R=1, uniform, 4x4 cells)": ("skvision.LBP(P=8, R=1, method='uniform', grid=(4, 4))", False),
    "HOG(8x8 cells, 2x2 blocks)": ("skvision.HOG(pixels_per_cell=(8, 8), cells_per_block=(2, 2))", False),
    "CNNFeatures(convnet, 1 epoch)": (
        "skvision.CNNFeatures(max_epochs=1, batch_size=64, device='cpu', random_state=0)",
        True,
    ),
    "AutoencoderFeatures(ae, 1 epoch)": (
        "skvision.AutoencoderFeatures(max_epochs=1, batch_size=64, device='cpu', random_state=0)",
        True,
    ),
    "PretrainedFeatures(resnet10t, random init)": (
        "skvision.PretrainedFeatures(backbone='resnet10t', weights=None, input_size=64, batch_size=64, "
        "device='cpu', random_state=0)",
        True,
    ),
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


def make_rgb_memmap(path, n, side, seed=0):
    rng = np.random.default_rng(seed)
    images = np.memmap(path, dtype=np.uint8, mode="w+", shape=(n, side, side, 3))
    for start in range(0, n, 500):
        stop = min(n, start + 500)
        images[start:stop] = rng.integers(0, 256, size=(stop - start, side, side, 3), dtype=np.uint8)
    images.flush()
    del images


def measure_fits(n, side):
    """Print the table of fit peaks (see the module's docstring)."""
    input_mb = n * side * side * 3 / 2**20
    print(f"fits on {n} RGB images {side}x{side} uint8 in a memmap ({input_mb:.0f} MB)")
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "images.u8")
        make_rgb_memmap(path, n, side)
        for label, (ctor, kept_mb) in FIT_CASES.items():
            out = subprocess.run(
                [sys.executable, "-c", FIT_CHILD.format(ctor=ctor), path, str(n), str(side)],
                capture_output=True,
                text=True,
                check=True,
            )
            result = json.loads(out.stdout.strip().splitlines()[-1])
            growth = result["peak_mb"] - result["baseline_mb"]
            rows.append((label, result["seconds"], growth, input_mb + kept_mb + 200))
    print()
    print("| fit | seconds | peak RSS growth MB | budget MB (memmap pages + kept + 200) | within |")
    print("|---|---:|---:|---:|:---:|")
    for label, seconds, growth, budget in rows:
        within = "yes" if growth <= budget else "NO"
        print(f"| {label} | {seconds:.1f} | {growth:.0f} | {budget:.0f} | {within} |")


def main():
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--n", type=int, default=200_000)
    parser.add_argument("--side", type=int, default=64)
    parser.add_argument("--neural-n", type=int, default=5_000)
    parser.add_argument("--only", choices=("descriptors", "neural"), default=None)
    parser.add_argument("--fits", action="store_true", help="measure the fits of BSIF and BagOfVisualWords")
    parser.add_argument("--fit-n", type=int, default=2_000)
    parser.add_argument("--fit-side", type=int, default=128)
    args = parser.parse_args()
    if args.fits:
        measure_fits(args.fit_n, args.fit_side)
        return
    input_mb = args.n * args.side * args.side / 2**20
    print(
        f"machine: {platform.processor() or platform.machine()}, {os.cpu_count()} cores; "
        f"{args.n} images {args.side}x{args.side} uint8 in a memmap ({input_mb:.0f} MB)"
    )
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "images.u8")
        make_memmap(path, args.n, args.side)
        for label, (ctor, neural) in CASES.items():
            if args.only is not None and neural != (args.only == "neural"):
                continue
            n_used = min(args.n, args.neural_n) if neural else args.n
            code = CHILD.format(ctor=ctor)
            out = subprocess.run(
                [sys.executable, "-c", code, path, str(args.n), str(args.side), str(n_used)],
                capture_output=True,
                text=True,
                check=True,
            )
            result = json.loads(out.stdout.strip().splitlines()[-1])
            growth = result["peak_mb"] - result["baseline_mb"]
            pages_mb = n_used * args.side * args.side / 2**20
            budget = pages_mb + result["out_mb"] + 200
            rows.append((label, n_used, result["seconds"], result["out_mb"], growth, budget))
    print()
    print(
        "| transformer | images | seconds | output MB | peak RSS growth MB "
        "| budget MB (memmap pages + output + 200) | within |"
    )
    print("|---|---:|---:|---:|---:|---:|:---:|")
    for label, n_used, seconds, out_mb, growth, budget in rows:
        print(
            f"| {label} | {n_used:,} | {seconds:.1f} | {out_mb:.0f} | {growth:.0f} | {budget:.0f} "
            f"| {'yes' if growth <= budget else 'NO'} |"
        )


if __name__ == "__main__":
    main()
