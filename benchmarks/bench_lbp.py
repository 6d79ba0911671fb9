"""LBP throughput: skvision's LBP transformer vs a scikit-image loop.

Workloads (uint8 grey images):

(a) 5,000 28x28 texture patches (skvision.datasets.load_textures: brick, grass, gravel);
(b) 20 512x512 images (skimage.data camera, brick, grass, gravel, astronaut's
    luminance, each also flipped / transposed).

Each configuration computes, per image, the LBP code map and the histogram of its
labels (one cell, raw counts): skvision ``LBP(P, R, method, normalize='none')``
against ``skimage.feature.local_binary_pattern`` + ``np.histogram`` image by
image. Both outputs are checked equal (exact counts), and skvision's ``n_jobs=2``
output equal to its single-process one.

"Single process" is one process, one thread; "n_jobs=2" is skvision's ``n_jobs=2``
(two threads over chunks of the batch, or one thread when the work is too small to
split: see "Parallelism" in skvision/descriptors/_base.py) and, for the scikit-image
loop, two worker processes over halves of the batch (joblib). Figures are medians of
several repeats; ratios compare rows measured in the same run. The peak memory
of ``LBP().transform`` on (a) is measured with tracemalloc (numpy allocations)
against the target: at most twice the input plus the output.

Usage::

    .venv/bin/python benchmarks/bench_lbp.py             # 5 repeats (3 for the skimage loop)
    .venv/bin/python benchmarks/bench_lbp.py --repeats 3
"""

from __future__ import annotations

import argparse
import os
import platform
import tracemalloc

import numpy as np
from _timing import median_seconds

# (P, R, method): the first is the usual texture descriptor and carries the targets.
CONFIGS = [(8, 1, "uniform"), (16, 2, "uniform"), (8, 1, "default")]


def workload_a():
    from skvision.datasets import load_textures

    images, _ = load_textures(patch_size=28, n_per_class=1667, random_state=0, return_X_y=True)
    return np.ascontiguousarray(images[:5000])


def workload_b():
    import skimage.color
    import skimage.data

    sources = [
        skimage.data.camera(),
        skimage.data.brick(),
        skimage.data.grass(),
        skimage.data.gravel(),
        (skimage.color.rgb2gray(skimage.data.astronaut()) * 255).astype(np.uint8),
    ]
    variants = []
    for image in sources:
        variants += [image, image[::-1], image[:, ::-1], image.T]
    return np.ascontiguousarray(np.stack(variants))


def n_labels(P, method):
    return {"uniform": P + 2, "default": 2**P, "nri_uniform": P * (P - 1) + 3}[method]


def skimage_loop(images, P, R, method):
    from skimage.feature import local_binary_pattern

    bins = n_labels(P, method)
    counts = [
        np.histogram(local_binary_pattern(image, P, R, method), bins=bins, range=(0, bins))[0]
        for image in images
    ]
    return np.stack(counts).astype(np.float64)


def in_two_processes(function, images, *args):
    """``function`` over two halves of the batch in two worker processes."""
    from joblib import Parallel, delayed

    halves = np.array_split(images, 2)
    return np.concatenate(Parallel(n_jobs=2)(delayed(function)(half, *args) for half in halves))


def skvision_transform(images, P, R, method, **kwargs):
    from skvision import LBP

    return LBP(P, R, method=method, normalize="none", **kwargs).fit(images[:1]).transform(images)


def peak_transform_memory(images):
    from skvision import LBP

    descriptor = LBP().fit(images)
    peaks = []
    for _ in range(2):  # the first transform also builds the cached lookup table
        tracemalloc.start()
        features = descriptor.transform(images)
        peaks.append(tracemalloc.get_traced_memory()[1])
        tracemalloc.stop()
    return peaks, features.nbytes


def run(repeats):
    import skimage
    import torch

    import skvision

    load_before = os.getloadavg()
    rows, checks = [], []
    slow = max(1, repeats - 2)
    for label, images in (("(a) 5,000 x 28x28", workload_a()), ("(b) 20 x 512x512", workload_b())):
        n = len(images)
        for P, R, method in CONFIGS:
            config = f"P={P}, R={R}, {method}"
            args = (P, R, method)
            ours = skvision_transform(images, *args)
            np.testing.assert_array_equal(ours, skimage_loop(images, *args))
            np.testing.assert_array_equal(skvision_transform(images, *args, n_jobs=2), ours)
            checks.append(f"{label} {config}: skvision == skimage, n_jobs=2 == n_jobs=1")
            timings = {
                ("skvision LBP", "1 process"): median_seconds(
                    lambda: skvision_transform(images, *args), repeats
                ),
                ("skvision LBP", "n_jobs=2"): median_seconds(
                    lambda: skvision_transform(images, *args, n_jobs=2), repeats
                ),
                ("skimage loop", "1 process"): median_seconds(lambda: skimage_loop(images, *args), slow),
                ("skimage loop", "n_jobs=2"): median_seconds(
                    lambda: in_two_processes(skimage_loop, images, *args), slow
                ),
            }
            if torch.cuda.is_available():
                skvision_transform(images, *args, device="cuda")  # warm-up: CUDA context and kernels
                timings[("skvision LBP, torch cuda", "1 process")] = median_seconds(
                    lambda: (skvision_transform(images, *args, device="cuda"), torch.cuda.synchronize()),
                    repeats,
                )
            for (name, mode), seconds in timings.items():
                rows.append((label, config, name, mode, n / seconds))
    peaks, output_bytes = peak_transform_memory(workload_a())
    load_after = os.getloadavg()

    print(
        f"Machine: {platform.machine()}, {os.cpu_count()} cores ({platform.processor() or 'cpu'}), "
        f"Python {platform.python_version()}, numpy {np.__version__}, scikit-image {skimage.__version__}, "
        f"torch {torch.__version__}, skvision {skvision.__version__}"
    )
    print(
        f"Load average (1 min) before / after: {load_before[0]:.1f} / {load_after[0]:.1f} "
        "(above ~1 means other work shared the machine)"
    )
    print(f"Medians of {repeats} repeats ({slow} for the scikit-image loop).\n")
    print("| workload | LBP | implementation | mode | images/s | vs skimage (same mode) |")
    print("|---|---|---|---|---:|---:|")
    for label, config, name, mode, rate in rows:
        reference = next(r[4] for r in rows if r[:2] == (label, config) and r[2:4] == ("skimage loop", mode))
        print(f"| {label} | {config} | {name} | {mode} | {rate:,.0f} | {rate / reference:.1f}x |")
    input_bytes = workload_a().nbytes
    limit = 2 * input_bytes + output_bytes
    print(
        f"\nPeak memory of LBP().transform on (a) (tracemalloc): {peaks[1] / 1e6:.2f} MB "
        f"({peaks[0] / 1e6:.2f} MB on the first call, which builds the lookup table); "
        f"input {input_bytes / 1e6:.2f} MB, output {output_bytes / 1e6:.2f} MB, "
        f"limit 2 x input + output = {limit / 1e6:.2f} MB -> {'OK' if peaks[1] <= limit else 'OVER'}"
    )
    print("\nChecks: " + "; ".join(checks))


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5)
    run(parser.parse_args().repeats)
