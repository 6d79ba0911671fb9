"""``skvision compare --n-jobs 2`` against ``--n-jobs 1``: wall time, scores and the transform-rate column.

Each row runs the command twice as a subprocess (whole runs: imports, warm-up,
folds, report), once with ``--n-jobs 1`` and once with ``--n-jobs 2``, on the
same data and families, and reports the wall times, their ratio
(``1 job / 2 jobs``: above 1 means the second is faster), whether every score
agrees, and the ratio of the two runs' transform images/s per family (the
column is measured in the main process, one split at a time: it should not
move with ``--n-jobs``).

Workloads
---------
* ``digits``: the bundled 1,797 8x8 digits, every family that applies.
* ``28x28``: 2,000 28x28 images (the digits upscaled 3x, padded, and
  repeated with a one-pixel shift to reach 2,000), written as PNG files to a
  temporary folder, every family that applies, ``--fast``.

The two runs of a row alternate in order from repeat to repeat, so load on a
shared machine hits them alike; the medians over ``--repeats`` are reported.

Each run's CPU time (user + system of the command and every process it
waited for: its workers) is measured too. The one-process run already keeps
more than one core busy where torch, t-SNE or the BLAS use two threads, so
the best any two-process run can do is its CPU time over two cores: the
"ceiling" column is ``1 job s / (1 job CPU s / 2)``, the speed-up of a perfect
two-process run of the same work, and "of ceiling" is the measured speed-up
over it.
``--reference PATH`` runs the same commands with another checkout of skvision
first on ``PYTHONPATH`` (before/after). Run::

    flock -x /tmp/skvision-cpu.lock .venv/bin/python benchmarks/bench_compare.py
    .venv/bin/python benchmarks/bench_compare.py --workloads digits --features pixels,lbp,hog,cnn
"""

from __future__ import annotations

import argparse
import os
import platform
import re
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]


def write_28x28_folder(root, n_images=2000):
    """The digits upscaled to 28x28, repeated with a one-pixel shift up to ``n_images``, as PNG folders."""
    from PIL import Image

    from skvision.datasets import load_digits

    X, y = load_digits(return_X_y=True)
    big = np.pad(np.kron(X, np.ones((1, 3, 3), dtype=np.uint8)), ((0, 0), (2, 2), (2, 2)))
    shifted = np.roll(big, 1, axis=2)
    images, labels = np.concatenate([big, shifted])[:n_images], np.concatenate([y, y])[:n_images]
    for i, (image, label) in enumerate(zip(images, labels)):
        folder = Path(root) / f"class_{label}"
        folder.mkdir(parents=True, exist_ok=True)
        Image.fromarray(image).save(folder / f"{i:05d}.png")
    return root


def parse_table(stdout):
    """{family: (score text, transform images/s)} from the printed table."""
    rows = {}
    for line in stdout.splitlines():
        # ... fit s / fold, transform images/s [, vs best: "best", "n.s. (p 0.12)", "worse (p <0.001)"]
        match = re.match(
            r"^(\S+)\s+(\S+)\s+(\d+)\s+([\d.]+ ± [\d.]+)\s+([\d.]+)\s+([\d,.]+|inf)(?:\s{2,}\S.*)?$", line
        )
        if match:
            rate = match.group(6)
            rows[match.group(1)] = (
                match.group(4),
                float("inf") if rate == "inf" else float(rate.replace(",", "")),
            )
    return rows


def children_cpu_seconds():
    """User + system CPU seconds of every process this one has waited for so far."""
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def run(dataset, n_jobs, extra, pythonpath):
    """Wall seconds, CPU seconds and the parsed table of one ``skvision compare`` run."""
    with tempfile.TemporaryDirectory() as out:
        command = [sys.executable, "-m", "skvision", "compare", "--dataset", str(dataset)]
        command += ["--n-jobs", str(n_jobs), "--out", out, *extra]
        env = {**os.environ, "PYTHONPATH": str(pythonpath)}
        cpu_before = children_cpu_seconds()
        start = time.perf_counter()
        completed = subprocess.run(command, capture_output=True, text=True, env=env, check=False)
        seconds = time.perf_counter() - start
        cpu_seconds = children_cpu_seconds() - cpu_before
    if completed.returncode != 0:
        raise RuntimeError(f"{' '.join(command)} failed:\n{completed.stderr[-3000:]}")
    return seconds, cpu_seconds, parse_table(completed.stdout)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workloads", default="digits,28x28")
    parser.add_argument("--features", default=None, help="--features for compare (default: every family)")
    parser.add_argument("--repeats", type=int, default=1)
    parser.add_argument("--reference", default=None, help="another skvision checkout to time as well")
    args = parser.parse_args()

    checkouts = [("this", ROOT)] + ([("reference", Path(args.reference))] if args.reference else [])
    machine = platform.processor() or platform.machine()
    print(f"# machine: {machine}, {os.cpu_count()} cores; python {sys.version.split()[0]}")
    print(f"# features: {args.features or 'every family that applies'}; medians of {args.repeats} repeat(s)")
    print()
    header = [
        "checkout",
        "workload",
        "1 job s",
        "2 jobs s",
        "1 job / 2 jobs",
        "1 job CPU s",
        "2 jobs CPU s",
        "ceiling",
        "of ceiling",
        "scores agree",
        "rate ratio (2/1)",
    ]
    print(" | ".join(header))
    print(" | ".join("---" for _ in header))
    details = []
    with tempfile.TemporaryDirectory() as data_dir:
        for workload in args.workloads.split(","):
            if workload == "digits":
                dataset, extra = "digits", []
            elif workload == "28x28":
                dataset, extra = write_28x28_folder(Path(data_dir) / "w28"), ["--fast"]
            else:
                raise SystemExit(f"unknown workload {workload!r}")
            if args.features:
                extra += ["--features", args.features]
            for label, checkout in checkouts:
                times, cpu_times = {1: [], 2: []}, {1: [], 2: []}
                tables = {}
                for repeat in range(args.repeats):
                    for n_jobs in (1, 2) if repeat % 2 == 0 else (2, 1):
                        seconds, cpu_seconds, tables[n_jobs] = run(dataset, n_jobs, extra, checkout)
                        times[n_jobs].append(seconds)
                        cpu_times[n_jobs].append(cpu_seconds)
                one, two = statistics.median(times[1]), statistics.median(times[2])
                cpu_one, cpu_two = statistics.median(cpu_times[1]), statistics.median(cpu_times[2])
                # A perfect two-process run of the one-process run's work: its CPU time on two cores.
                ceiling = one / (cpu_one / 2)
                differ = [f for f in tables[1] if tables[1][f][0] != tables[2].get(f, (None,))[0]]
                ratios = {
                    f: tables[2][f][1] / tables[1][f][1]
                    for f in tables[1]
                    if f in tables[2] and np.isfinite(tables[1][f][1]) and tables[1][f][1] > 0
                }
                spread = f"{min(ratios.values()):.2f}-{max(ratios.values()):.2f}" if ratios else "-"
                hog = f" (hog {ratios['hog']:.2f})" if "hog" in ratios else ""
                print(
                    f"{label} | {workload} | {one:.1f} | {two:.1f} | {one / two:.2f}x | "
                    f"{cpu_one:.1f} | {cpu_two:.1f} | {ceiling:.2f}x | {one / two / ceiling:.0%} | "
                    f"{'yes' if not differ else 'no: ' + ', '.join(differ)} | {spread}{hog}",
                    flush=True,
                )
                details.append(
                    f"{label} {workload}: "
                    + ", ".join(
                        f"{f} {tables[1][f][1]:,.0f} -> {tables[2][f][1]:,.0f} ({ratio:.2f}x)"
                        for f, ratio in ratios.items()
                    )
                )

    if details:
        print("\ntransform images/s per family, --n-jobs 1 -> --n-jobs 2 (the last repeat):")
        print("\n".join(details))


if __name__ == "__main__":
    main()
