"""What ``compare``'s downscaling costs and saves for the networks it trains from scratch.

``compare`` (and ``skvision compare``) gives the ``cnn`` family images of at most 64
pixels a side, ``autoencoder`` and ``gan`` at most 32 (``max_side`` of the family).
For each of them this measures the seconds per fold of ``--n-fit`` training images of
``--side`` x ``--side`` RGB, with the network built as the family builds it:

* ``as the images``: the family's builder given the images as they are (before
  ``max_side``: the network sized to, and trained on, the full images);
* ``downscaled``: the feature set ``build_feature_sets`` makes now (``Resize`` then the
  network sized to the smaller images).

Each is trained for ``--epochs`` epochs (one torch thread, as in a comparison's
worker) and the time scaled to the family's own epochs, so that a row takes seconds,
not the minutes of a fold. The images are crops of five scikit-image pictures, tinted
and noised (five classes); ``--full`` also trains every family for its own epochs and
scores its features with compare's SVC on a held-out fifth (minutes per row).

Usage::

    .venv/bin/python benchmarks/bench_family_sizes.py --side 64 --n-fit 2000
    .venv/bin/python benchmarks/bench_family_sizes.py --side 64 --n-fit 2000 --full
"""

from __future__ import annotations

import argparse
import time

import numpy as np
import skimage.data
import torch
from sklearn.model_selection import train_test_split

from skvision.compare import FEATURE_FAMILIES, DatasetInfo, build_feature_sets, make_estimator

FAMILIES = ("cnn", "autoencoder", "gan")


def _images(n, side, seed=0):
    """``n`` RGB crops of ``side`` pixels from five pictures (the class), tinted and noised."""
    sources = [
        skimage.data.astronaut(),
        skimage.data.coffee(),
        skimage.data.chelsea(),
        np.stack([skimage.data.brick()] * 3, axis=-1),
        np.stack([skimage.data.grass()] * 3, axis=-1),
    ]
    rng = np.random.default_rng(seed)
    labels = np.arange(n) % len(sources)
    images = np.empty((n, side, side, 3), dtype=np.uint8)
    for i, label in enumerate(labels):
        source = sources[label]
        r = rng.integers(0, source.shape[0] - side)
        c = rng.integers(0, source.shape[1] - side)
        crop = source[r : r + side, c : c + side].astype(np.float64)
        crop = crop * rng.uniform(0.7, 1.1, size=3) + rng.normal(0, 8, crop.shape)
        images[i] = np.clip(crop, 0, 255).astype(np.uint8)
    return images, labels


def _network(pipeline):
    return pipeline.steps[-1][1] if hasattr(pipeline, "steps") else pipeline


def _seconds_per_fold(transformer, X, y, epochs):
    network = _network(transformer)
    full_epochs = network.max_epochs
    network.set_params(max_epochs=1)
    transformer.fit(X[:32], y[:32])  # untimed: the first call's imports and allocations
    network.set_params(max_epochs=epochs)
    start = time.perf_counter()
    transformer.fit(X, y)
    seconds = time.perf_counter() - start
    network.set_params(max_epochs=full_epochs)
    return seconds * full_epochs / epochs, full_epochs


def _score(transformer, X, y, X_test, y_test):
    start = time.perf_counter()
    features = transformer.fit_transform(X, y)
    seconds = time.perf_counter() - start
    estimator = make_estimator("svc").fit(features, y)
    return float(estimator.score(transformer.transform(X_test), y_test)), seconds


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--side", type=int, default=64)
    parser.add_argument("--n-fit", type=int, default=2000)
    parser.add_argument("--epochs", type=int, default=2, help="epochs timed, scaled to the family's own")
    parser.add_argument("--full", action="store_true", help="train for the family's epochs and score")
    args = parser.parse_args()
    torch.set_num_threads(1)
    X, y = _images(args.n_fit * 5 // 4, args.side)
    X_fit, X_test, y_fit, y_test = train_test_split(X, y, test_size=0.2, stratify=y, random_state=0)
    info = DatasetInfo.from_data(X_fit, y_fit, device="cpu")
    print(f"{len(X_fit)} training images of {args.side}x{args.side}x3, one torch thread\n")
    print("| family | images it gets | epochs | s/fold as the images | s/fold downscaled | saved |")
    print("|---|---|---:|---:|---:|---:|")
    for name in FAMILIES:
        family = FEATURE_FAMILIES[name]
        # Before max_side: the builder given the images as they are.
        full = family.build(family.load_estimator(), info)
        (downscaled,) = build_feature_sets([name], info)
        small = downscaled.transformer
        size = small.named_steps["resize"].size if hasattr(small, "named_steps") else (args.side, args.side)
        before, epochs = _seconds_per_fold(full, X_fit, y_fit, args.epochs)
        after, _ = _seconds_per_fold(small, X_fit, y_fit, args.epochs)
        shape = f"{size[0]}x{size[1]}"
        row = [name, shape, epochs, f"{before:.1f}", f"{after:.1f}", f"{before / after:.1f}x"]
        print("| " + " | ".join(map(str, row)) + " |", flush=True)
        if args.full:
            for label, transformer in (("as the images", full), ("downscaled", small)):
                accuracy, seconds = _score(transformer, X_fit, y_fit, X_test, y_test)
                held_out = len(X_test)
                print(f"    {name} {label}: accuracy {accuracy:.3f} ({held_out} held out), {seconds:.0f} s")


if __name__ == "__main__":
    main()
