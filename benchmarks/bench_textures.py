"""Texture benchmark: every skvision descriptor on brick / grass / gravel patches and their rotations.

Data: ``skvision.datasets.load_textures(patch_size, n_per_class, rotations=True)``,
uint8 grey patches cut from scikit-image's brick, grass and gravel, each patch
also rotated by 90, 180 and 270 degrees (4 x 3 x n_per_class images).

Accuracy: 5-fold cross-validation of ``Pipeline(descriptor, StandardScaler, SVC)``
with every descriptor at its default parameters (a random_state where it has
one). The folds are grouped by source patch (StratifiedGroupKFold): the four
rotations of a patch are always in the same fold, so a test patch is never
seen, rotated, in training. Descriptors that learn (BSIF's filters, the bag of
words' codebook) learn inside each training fold.

Throughput: images per second of ``transform`` (fitted beforehand, single
process) on all images, against a scikit-image loop computing the same features
one image at a time, where scikit-image has the function (timed on the first
images, as many as it takes about 3 s per run to describe and at most
``--reference-images``: the loops are slow). Outputs of both are
compared where they are defined alike ("same output" column). For
BagOfVisualWords the reference is the bare ``skimage.feature.daisy`` loop, the
extraction step alone, so its ratio is below one by construction.
Figures are medians of ``--repeats`` runs.

Descriptors that cannot be imported yet are skipped with a note.
ColorHistogram is left out: the textures are grey.

Usage::

    .venv/bin/python benchmarks/bench_textures.py
    .venv/bin/python benchmarks/bench_textures.py --n-per-class 50 --repeats 1   # quicker
"""

from __future__ import annotations

import argparse
import os
import platform
import time

import numpy as np
from _timing import median_seconds

# The bag of words' DAISY settings (skvision's defaults), for its reference loop.
DAISY_PARAMS = {"step": 2, "radius": 8, "rings": 2, "histograms": 6, "orientations": 8}
GLCM_ANGLES = (0.0, np.pi / 4, np.pi / 2, 3 * np.pi / 4)
GLCM_PROPERTIES = ("contrast", "dissimilarity", "homogeneity", "energy", "correlation", "ASM", "entropy")
GABOR_FREQUENCIES = (0.05, 0.1, 0.2, 0.4)


# ----------------------------------------------------------- scikit-image loops
def skimage_lbp(images):
    from skimage.feature import local_binary_pattern

    rows = []
    for image in images:
        codes = local_binary_pattern(image, 8, 1, method="uniform").astype(np.int64)
        rows.append(np.bincount(codes.ravel(), minlength=10) / codes.size)
    return np.stack(rows)


def skimage_hog(images):
    from skimage.feature import hog

    return np.stack(
        [hog(image, 9, (8, 8), (3, 3), block_norm="L2-Hys", feature_vector=True) for image in images]
    )


def skimage_glcm(images):
    from skimage.feature import graycomatrix, graycoprops

    rows = []
    for image in images:
        matrix = graycomatrix(image // 32, [1], GLCM_ANGLES, levels=8, symmetric=True, normed=True)
        rows.append(np.concatenate([graycoprops(matrix, prop).ravel() for prop in GLCM_PROPERTIES]))
    return np.stack(rows)


def skimage_hu(images):
    from skimage.measure import moments_central, moments_hu, moments_normalized

    rows = []
    for image in images:
        # skvision reads 8-bit images as x / 255 (see skvision._images): Hu moments are not
        # invariant to the intensity scale, so the reference takes the same values.
        hu = moments_hu(moments_normalized(moments_central(image / 255.0)))
        magnitude = np.abs(hu)
        logs = np.log10(magnitude, where=magnitude > 0, out=np.zeros_like(magnitude))
        rows.append(np.where(magnitude > 0, -np.sign(hu) * logs, 0.0))
    return np.stack(rows)


def skimage_gabor(images):
    from skimage.filters import gabor

    rows = []
    for image in images:
        image = image / 255.0  # skvision's reading of 8-bit images (the variances scale with it)
        features = []
        for frequency in GABOR_FREQUENCIES:
            for k in range(4):
                real, imag = gabor(image, frequency, theta=k * np.pi / 4, bandwidth=1, n_stds=3)
                magnitude = np.hypot(real, imag)
                features += [magnitude.mean(), magnitude.var()]
        rows.append(features)
    return np.asarray(rows)


def skimage_daisy(images):
    from skimage.feature import daisy

    rows = []
    for image in images:
        image = image.astype(np.float64)
        span = image.max() - image.min()
        stretched = (image - image.min()) / span if span > 0 else np.zeros_like(image)
        rows.append(daisy(stretched, **DAISY_PARAMS).ravel())
    return rows


# --------------------------------------------------------------------- the table
def descriptors():
    """(name, factory, scikit-image reference loop or None, comparable outputs)."""
    return [
        ("LBP", lambda m: m.LBP(), skimage_lbp, True),
        ("HOG", lambda m: m.HOG(), skimage_hog, True),
        ("GLCM", lambda m: m.GLCM(), skimage_glcm, True),
        ("HuMoments", lambda m: m.HuMoments(), skimage_hu, True),
        ("ZernikeMoments", lambda m: m.ZernikeMoments(), None, False),
        ("GaborBank", lambda m: m.GaborBank(), skimage_gabor, True),
        ("LPQ", lambda m: m.LPQ(), None, False),
        ("WLD", lambda m: m.WLD(), None, False),
        ("BSIF", lambda m: m.BSIF(random_state=0), None, False),
        ("BagOfVisualWords", lambda m: m.BagOfVisualWords(random_state=0), skimage_daisy, False),
    ]


def reference_size(reference, images, cap, seconds_per_repeat=3.0):
    """Images for a reference loop: as many as it describes in a few seconds, 10 to ``cap``."""
    probe = images[:5]
    start = time.perf_counter()
    reference(probe)
    per_image = (time.perf_counter() - start) / len(probe)
    return int(np.clip(seconds_per_repeat / per_image, 10, cap))


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--patch-size", type=int, default=32)
    parser.add_argument("--n-per-class", type=int, default=100)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--reference-images", type=int, default=200)
    args = parser.parse_args()

    from sklearn.base import clone
    from sklearn.model_selection import StratifiedGroupKFold, cross_validate
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler
    from sklearn.svm import SVC

    import skvision
    from skvision.datasets import load_textures

    X, y = load_textures(
        patch_size=args.patch_size,
        n_per_class=args.n_per_class,
        rotations=True,
        random_state=0,
        return_X_y=True,
    )
    groups = np.tile(np.arange(len(X) // 4), 4)  # rotations of one patch share a group
    cv = StratifiedGroupKFold(n_splits=5, shuffle=True, random_state=0)

    print(
        f"# {len(X)} texture patches {args.patch_size}x{args.patch_size} uint8 (brick/grass/gravel, "
        f"{args.n_per_class} per class, x4 rotations); {platform.machine()}, {os.cpu_count()} CPUs, "
        f"Python {platform.python_version()}, load average at start {os.getloadavg()[0]:.1f}"
    )
    rows, notes = [], []
    start_all = time.perf_counter()
    for name, make, reference, comparable in descriptors():
        try:
            estimator = make(skvision)
        except (ImportError, AttributeError) as exc:
            notes.append(f"{name}: skipped, not importable yet ({type(exc).__name__}: {exc})")
            continue
        started = time.perf_counter()
        pipeline = make_pipeline(clone(estimator), StandardScaler(), SVC())
        scores = cross_validate(pipeline, X, y, groups=groups, cv=cv)["test_score"]

        fitted = clone(estimator).fit(X)
        features = fitted.transform(X)
        ours_seconds = median_seconds(lambda: fitted.transform(X), args.repeats)
        row = {
            "name": name,
            "dims": features.shape[1],
            "accuracy": (scores.mean(), scores.std()),
            "ours": len(X) / ours_seconds,
            "skimage": None,
            "same": "-",
        }
        if reference is not None:
            reference_X = X[: reference_size(reference, X, args.reference_images)]
            expected = reference(reference_X)
            ref_seconds = median_seconds(lambda: reference(reference_X), args.repeats)
            row["skimage"] = len(reference_X) / ref_seconds
            row["n_ref"] = len(reference_X)
            if comparable:
                got = features[: len(reference_X)]
                same_shape = got.shape == np.shape(expected)
                difference = float(np.max(np.abs(got - expected))) if same_shape else np.inf
                row["same"] = (
                    "yes"
                    if difference <= 1e-6 * max(1.0, float(np.max(np.abs(expected))))
                    else (f"no (max diff {difference:.2g})")
                )
        rows.append(row)
        print(f"  {name}: done in {time.perf_counter() - started:.0f} s", flush=True)

    print()
    print(
        "| descriptor | dims | 5-fold accuracy (mean ± std) | images/s "
        "| skimage loop images/s (images timed) | ratio | same output |"
    )
    print("|---|---:|---:|---:|---:|---:|---|")
    for row in rows:
        mean, std = row["accuracy"]
        ref = row["skimage"]
        ref_text = f"{ref:,.0f} (on {row['n_ref']})" if ref is not None else "-"
        ratio = f"{row['ours'] / ref:.1f}x" if ref is not None else "-"
        if row["name"] == "BagOfVisualWords" and ref is not None:
            ref_text += " (daisy only)"
        print(
            f"| {row['name']} | {row['dims']} | {mean:.3f} ± {std:.3f} | {row['ours']:,.0f} | {ref_text} | "
            f"{ratio} | {row['same']} |"
        )
    for note in notes:
        print(f"\nNote: {note}")
    print(f"\nTotal {time.perf_counter() - start_all:.0f} s; load average at end {os.getloadavg()[0]:.1f}.")


if __name__ == "__main__":
    main()
