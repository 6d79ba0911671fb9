"""BagOfVisualWords with a keypoint detector (ORB, SIFT): ``n_jobs=2`` on processes against threads.

scikit-image's keypoint detectors hold the GIL, so two threads run no faster than one;
``BagOfVisualWords`` sends their chunks to worker processes (``_parallel_prefer``).
This times ``fit`` and ``transform`` with ``n_jobs=1``, with ``n_jobs=2`` as planned
(processes), and with ``n_jobs=2`` forced onto threads (the plan before), on crops of
four scikit-image pictures, best of ``--repeats``; the workers are started (and the
outputs checked equal) before anything is timed.

Usage::

    .venv/bin/python benchmarks/bench_bovw_keypoints.py --detector orb --n 160
"""

from __future__ import annotations

import argparse
import copy

import numpy as np
import skimage.data
from _timing import best_seconds
from sklearn.base import clone

from skvision.descriptors import BagOfVisualWords


def _crops(n, side=96, seed=0):
    sources = [
        skimage.data.camera(),
        skimage.data.astronaut()[..., 0],
        skimage.data.brick(),
        skimage.data.grass(),
    ]
    rng = np.random.default_rng(seed)
    return np.stack(
        [s[r : r + side, c : c + side] for s in sources for r, c in rng.integers(0, 400, (n // 4, 2))]
    )


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--detector", default="orb", choices=["orb", "sift"])
    parser.add_argument("--n", type=int, default=160)
    parser.add_argument("--repeats", type=int, default=2)
    args = parser.parse_args()
    X = _crops(args.n)
    base = BagOfVisualWords(detector=args.detector, n_words=16, random_state=0)
    fitted = clone(base).fit(X[:40])
    two = copy.deepcopy(fitted).set_params(n_jobs=2)
    assert np.array_equal(two.transform(X), fitted.transform(X))  # also starts the workers
    rows = {}
    for label, prefer in (
        ("n_jobs=1", None),
        ("n_jobs=2, processes (now)", None),
        ("n_jobs=2, threads (before)", "threads"),
    ):
        n_jobs = 1 if label == "n_jobs=1" else 2
        cls = type(base)
        saved = cls.__dict__["_parallel_prefer"]
        if prefer is not None:
            cls._parallel_prefer = prefer
        try:
            fit = best_seconds(lambda: clone(base).set_params(n_jobs=n_jobs).fit(X), args.repeats)
            model = copy.deepcopy(fitted).set_params(n_jobs=n_jobs)
            transform = best_seconds(lambda: model.transform(X), args.repeats)
        finally:
            cls._parallel_prefer = saved
        rows[label] = (fit, transform)
    one_fit, one_transform = rows["n_jobs=1"]
    print(
        f"BagOfVisualWords(detector={args.detector!r}), {len(X)} 96x96 grey crops, best of {args.repeats}\n"
    )
    print("| run | fit s | vs 1 process | transform s | vs 1 process |")
    print("|---|---:|---:|---:|---:|")
    for label, (fit, transform) in rows.items():
        cells = [
            label,
            f"{fit:.2f}",
            f"{one_fit / fit:.2f}x",
            f"{transform:.2f}",
            f"{one_transform / transform:.2f}x",
        ]
        print("| " + " | ".join(cells) + " |")


if __name__ == "__main__":
    main()
