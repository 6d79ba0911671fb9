"""Test-time augmentation: what drawing each image's augmentation from its own seed costs.

TTA (``tta=k`` of the CNN estimators) augments each image ``k`` times with random
draws from a seed of its own (``random_state`` and a hash of its pixels), so that an
image's prediction does not depend on the rest of the call. kornia's parameters are
drawn per image and applied to the whole batch in one call. Reference, in the same
run: the batch-wide draw of one random stream (``augmentation(batch)``), what TTA
did before, whose predictions depended on the batch.

Rows, on ``--n`` 28x28 grey images in batches of 64:

* the augmentation alone: per-image draws against the batch-wide draw, for the
  ``light`` and ``standard`` presets;
* ``CNNClassifier.predict_proba`` (default network, trained one epoch) with
  ``tta=0`` and ``tta=4``: what the per-image draws add to a prediction.

Usage::

    .venv/bin/python benchmarks/bench_tta.py --n 2000 --repeats 5
"""

from __future__ import annotations

import argparse
import platform

import numpy as np
import torch
from _timing import median_seconds


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=2000)
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()

    from skvision import CNNClassifier
    from skvision.neural._augment import augment_each_image, build_augmentation, image_seeds

    rng = np.random.default_rng(0)
    X = rng.integers(0, 256, (args.n, 28, 28), dtype=np.uint8)
    y = np.arange(args.n) % 10
    batches = torch.from_numpy(X[:, None] / 255.0).float().split(64)
    print(f"# {platform.machine()}, {torch.get_num_threads()} torch threads, torch {torch.__version__}")
    print("| row | batch-wide draw (s) | per-image draws (s) | ratio |")
    print("|---|---:|---:|---:|")
    for preset in ("light", "standard"):
        augmentation = build_augmentation(preset)
        seeds = [image_seeds(batch, 0, 1) for batch in batches]

        def batch_wide():
            for batch in batches:
                augmentation(batch)

        def per_image():
            for batch, batch_seeds in zip(batches, seeds):
                augment_each_image(augmentation, batch, batch_seeds)

        wide, each = median_seconds(batch_wide, args.repeats), median_seconds(per_image, args.repeats)
        print(f"| augment '{preset}', {args.n:,} images | {wide:.3f} | {each:.3f} | {each / wide:.2f}x |")

    clf = CNNClassifier(max_epochs=1, random_state=0, device="cpu").fit(X, y)
    plain = median_seconds(lambda: clf.set_params(tta=0).predict_proba(X), args.repeats)
    tta = median_seconds(lambda: clf.set_params(tta=4).predict_proba(X), args.repeats)
    row = f"predict_proba, tta=0 (first column) vs tta=4 ('light'), {args.n:,} images"
    print(f"| {row} | {plain:.3f} | {tta:.3f} | {tta / plain:.2f}x |")


if __name__ == "__main__":
    main()
