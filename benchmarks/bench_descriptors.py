"""LBP and HOG throughput and memory against scikit-image (and OpenCV for HOG), in one run.

The benchmark of the foundation issue: images per second on
(a) 5,000 28x28 uint8 images and (b) 20 512x512 uint8 images, for skvision, a
scikit-image loop and (HOG) OpenCV's ``cv2.HOGDescriptor``, single process and
with ``n_jobs=2``; outputs are checked equal before anything is timed, and the
peak memory of a transform on (a) is measured against twice the input plus the
output. The two halves live in ``bench_lbp.py`` and ``bench_hog.py`` (each
documents its workloads and method); this script runs both and prints their
tables, then the targets with the figures of this run. With a CUDA GPU visible
to torch the ``device='cuda'`` rows are added.

Usage::

    make bench                                        # both, 5 repeats
    .venv/bin/python benchmarks/bench_descriptors.py --repeats 3
    .venv/bin/python benchmarks/bench_descriptors.py --only hog
"""

from __future__ import annotations

import argparse
import contextlib
import io
import pathlib
import re
import sys

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent))

import bench_hog  # noqa: E402
import bench_lbp  # noqa: E402


def _captured(function, *args):
    """Run ``function`` printing as usual, and return what it printed."""
    buffer = io.StringIO()

    class Tee(io.TextIOBase):
        def write(self, text):
            sys.__stdout__.write(text)
            buffer.write(text)
            return len(text)

    with contextlib.redirect_stdout(Tee()):
        function(*args)
    return buffer.getvalue()


def _ratio(table, *cells):
    """The 'vs skimage' ratio of the first table row holding every one of ``cells``."""
    for line in table.splitlines():
        if line.startswith("|") and all(f"| {cell} |" in line for cell in cells):
            return re.findall(r"\| ([\d.]+)x", line)
    return None


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--only", choices=("lbp", "hog"), default=None)
    args = parser.parse_args(argv)
    summary = []
    if args.only in (None, "lbp"):
        print("## LBP\n")
        lbp = _captured(bench_lbp.run, args.repeats)
        for label, target in (("(a) 5,000 x 28x28", 10), ("(b) 20 x 512x512", 2)):
            ratio = _ratio(lbp, label, "P=8, R=1, uniform", "skvision LBP", "1 process")
            summary.append(f"LBP {label}: {ratio[0]}x scikit-image (target >= {target}x)")
    if args.only in (None, "hog"):
        print("\n## HOG\n")
        hog = _captured(bench_hog.run, args.repeats)
        ratios_a = _ratio(hog, "(a) 5,000 x 28x28", "skvision HOG", "1 process")
        ratios_b = _ratio(hog, "(b) 20 x 512x512", "skvision HOG", "1 process")
        summary.append(
            f"HOG (a): {ratios_a[0]}x scikit-image wall, {ratios_a[2]}x CPU time (target >= 25x); "
            f"{ratios_a[1]}x OpenCV (target >= 1x)"
        )
        summary.append(f"HOG (b): {ratios_b[1]}x OpenCV's throughput (target: within 2x, i.e. >= 0.5x)")
        numpy_a = _ratio(hog, "(a) 5,000 x 28x28", "skvision HOG, numpy path", "1 process")
        summary.append(
            f"HOG (a) on the numpy path (an install without numba): {numpy_a[0]}x scikit-image wall, "
            f"{numpy_a[2]}x CPU time"
        )
    print("\n## Targets (single process)\n")
    for line in summary:
        print(f"- {line}")


if __name__ == "__main__":
    main()
