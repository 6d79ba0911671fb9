"""What the value-scale checks cost descriptors that read intensities (skvision/_images.py).

A batch in the dtype ``fit`` saw is never scanned: the check is the same few attribute
reads as before the container checks (an 8-bit copy in uint16, a 0 / 1 copy of
boolean masks, 12-bit data in uint16). Only a dtype change (uint16 after a uint8 fit),
and a ``fit`` on uint16, read the batch's maximum, once.

For each descriptor, in one process, medians of ``--repeats`` calls on 5,000 28x28
images (texture crops):

* ``transform uint8``: after a uint8 fit (no scan);
* ``transform uint16 (same dtype)``: after a uint16 fit (no scan);
* ``transform uint16 after uint8 fit``: the dtype change, scanned once;
* ``scan``: the scan alone (``images.max()`` of that batch), and its share of the
  transform it guards.

Usage::

    .venv/bin/python benchmarks/bench_scale_checks.py --repeats 7
"""

from __future__ import annotations

import argparse

import numpy as np
from _timing import median_seconds
from sklearn.base import clone

import skvision
from skvision.datasets import load_textures


def _images(n=5000, size=28):
    textures = load_textures().images
    rng = np.random.default_rng(0)
    picks = rng.integers(0, len(textures), n)
    rows = rng.integers(0, textures.shape[1] - size + 1, n)
    cols = rng.integers(0, textures.shape[2] - size + 1, n)
    return np.stack([textures[p, r : r + size, c : c + size] for p, r, c in zip(picks, rows, cols)])


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=7)
    args = parser.parse_args()
    X8 = _images()
    X16 = X8.astype(np.uint16) * 257  # the same intensities, full 16-bit range: accepted everywhere
    print(f"{len(X8)} x {X8.shape[1]}x{X8.shape[2]} images, medians of {args.repeats} calls, one process\n")
    print(
        "| descriptor | transform uint8 (s) | transform uint16, same dtype (s) "
        "| transform uint16 after uint8 fit (s) | scan alone (s) | scan / transform |"
    )
    print("|---|---|---|---|---|---|")
    for descriptor in (skvision.WLD(), skvision.GLCM(), skvision.HuMoments(), skvision.GaborBank()):
        fitted8 = clone(descriptor).fit(X8)
        fitted16 = clone(descriptor).fit(X16)
        fitted8.transform(X8[:64])  # warm-up: numba, caches
        same8 = median_seconds(lambda f=fitted8: f.transform(X8), args.repeats)
        same16 = median_seconds(lambda f=fitted16: f.transform(X16), args.repeats)
        changed = median_seconds(lambda f=fitted8: f.transform(X16), args.repeats)
        scan = median_seconds(lambda: X16.max(), args.repeats)
        np.testing.assert_allclose(fitted8.transform(X16), fitted8.transform(X8), rtol=1e-6, atol=1e-9)
        print(
            f"| {type(descriptor).__name__} | {same8:.4f} | {same16:.4f} | {changed:.4f} | {scan:.5f} "
            f"| {scan / changed:.2%} |"
        )


if __name__ == "__main__":
    main()
