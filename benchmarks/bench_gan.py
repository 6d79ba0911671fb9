"""GANFeatures: training speed against a plain torch DCGAN loop, the default fit's time, and its quality.

Workload: the 1,437 digits of an 80 % split of sklearn's 8x8 digits (the
training folds of a 5-fold CV), uint8.

Rows
----
* ``plain torch DCGAN loop``: the reference. The same :class:`DCGAN` module and
  recipe written by hand: one ``randperm`` per epoch, index-sliced batches of
  64, a discriminator step (real batch at 0.9, generated batch at 0) then a
  generator step through the frozen discriminator, two Adam optimizers
  (lr 2e-4, betas (0.5, 0.999), ``foreach``), ``loss.item()`` per batch.
* ``GANFeatures``: the same training through skorch (skorch's per-epoch
  ``dur``).
* ``default fit``: wall time of ``GANFeatures(random_state=0).fit`` on the
  1,437 digits, everything included (the target: <= 60 s on 2 CPU cores).

Seconds per epoch are medians over ``--repeats`` repeats x ``--epochs`` epochs,
the two rows of a repeat back to back, in an order rotated from repeat to
repeat. With ``--quality``:

* samples: 1,000 images of the default fit, judged by a ``CNNClassifier``
  trained on all 1,797 real digits: the share it labels with probability > 0.9
  and the classes among those. Two judges: the default CNNClassifier
  (``label_smoothing=0.1``, which caps its confidence near 0.91 and passes 87 %
  of the real digits) and one trained without label smoothing.
* features: 5-fold CV accuracy of ``GANFeatures`` (default) + standardised
  logistic regression on the 1,797 digits, of the same features reduced to 64
  dimensions by PCA (fitted on each fold's training features), and of PCA with
  as many components as possible (64, the pixel count) + the same classifier.

Run::

    .venv/bin/python benchmarks/bench_gan.py                # timing only
    .venv/bin/python benchmarks/bench_gan.py --quality      # + samples and 5-fold features
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import time

import numpy as np
import torch
from sklearn.decomposition import PCA
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import KFold, train_test_split
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from torch import nn

from skvision import CNNClassifier, GANFeatures
from skvision.datasets import load_digits
from skvision.neural._torch_utils import images_to_tensor
from skvision.neural.modules.gan import DCGAN


def training_digits():
    X, y = load_digits(return_X_y=True)
    X_train, _, y_train, _ = train_test_split(X, y, test_size=0.2, stratify=y, random_state=0)
    return X_train, y_train


def plain_loop_epochs(X, *, epochs, batch_size=64, latent_dim=100, filters=32, seed=0):
    """Seconds of each epoch of the DCGAN recipe written by hand (the reference)."""
    torch.manual_seed(seed)
    gan = DCGAN(in_channels=1, input_size=X.shape[1:3], latent_dim=latent_dim, filters=filters)
    generator, discriminator = gan.generator, gan.discriminator
    adam = dict(lr=2e-4, betas=(0.5, 0.999), foreach=True)
    opt_d = torch.optim.Adam(discriminator.parameters(), **adam)
    opt_g = torch.optim.Adam(generator.parameters(), **adam)
    bce = nn.BCEWithLogitsLoss()
    real_images = images_to_tensor(X) * 2 - 1
    gan.train()
    durations = []
    for _ in range(epochs):
        start = time.perf_counter()
        order = torch.randperm(len(real_images))
        running = 0.0
        for begin in range(0, len(real_images), batch_size):
            real = real_images[order[begin : begin + batch_size]]
            z = torch.randn(len(real), latent_dim)
            fake = generator(z)
            real_logits, fake_logits = discriminator(real), discriminator(fake.detach())
            d_loss = bce(real_logits, torch.full_like(real_logits, 0.9)) + bce(
                fake_logits, torch.zeros_like(fake_logits)
            )
            opt_d.zero_grad()
            d_loss.backward()
            opt_d.step()
            discriminator.requires_grad_(False)
            generated = discriminator(fake)
            g_loss = bce(generated, torch.ones_like(generated))
            opt_g.zero_grad()
            g_loss.backward()
            opt_g.step()
            discriminator.requires_grad_(True)
            running += d_loss.item() + g_loss.item()
        durations.append(time.perf_counter() - start)
    return durations


def estimator_epochs(X, *, epochs, seed=0):
    gan = GANFeatures(max_epochs=epochs, device="cpu", random_state=seed).fit(X)
    return list(gan.net_.history[:, "dur"])


def judge_samples(samples, X, y, *, label_smoothing):
    judge = CNNClassifier(label_smoothing=label_smoothing, device="cpu", random_state=0).fit(X, y)
    real_share = float((judge.predict_proba(X).max(axis=1) > 0.9).mean())
    probabilities = judge.predict_proba(samples)
    confident = probabilities.max(axis=1) > 0.9
    counts = np.bincount(probabilities.argmax(axis=1)[confident], minlength=10)
    return float(confident.mean()), counts, real_share


def five_fold(X, y):
    """5-fold accuracy of the GAN's features (all of them, and reduced to the PCA's width) and of PCA.

    One GAN per fold serves both GAN rows (the reduction is fitted on the fold's training features).
    """
    folds = KFold(5, shuffle=True, random_state=0)
    flat = X.reshape(len(X), -1) / 255.0
    width = min(64, flat.shape[1])
    names = ("GANFeatures (default)", f"GANFeatures -> PCA ({width} components)", f"PCA ({width} components)")
    scores = {name: [] for name in names}
    seconds = {name: 0.0 for name in names}
    for train, test in folds.split(X):
        start = time.perf_counter()
        gan = GANFeatures(device="cpu", random_state=0).fit(X[train])
        train_features, test_features = gan.transform(X[train]), gan.transform(X[test])
        gan_seconds = time.perf_counter() - start
        for name, (head, a, b) in zip(
            names,
            (
                ((), train_features, test_features),
                ((PCA(width, random_state=0),), train_features, test_features),
                ((PCA(width, random_state=0),), flat[train], flat[test]),
            ),
        ):
            start = time.perf_counter()
            model = make_pipeline(StandardScaler(), *head, LogisticRegression(max_iter=3000))
            scores[name].append(model.fit(a, y[train]).score(b, y[test]))
            seconds[name] += time.perf_counter() - start + (gan_seconds if name != names[2] else 0.0)
    return {name: (np.mean(scores[name]), np.std(scores[name]), seconds[name]) for name in names}


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=5, help="epochs per repeat of the per-epoch rows")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--threads", type=int, default=None, help="torch threads (default: torch's)")
    parser.add_argument("--quality", action="store_true", help="also judge the samples and the features")
    args = parser.parse_args(argv)
    if args.threads:
        torch.set_num_threads(args.threads)

    X, y = training_digits()
    print(
        f"Machine: {platform.machine()}, {os.cpu_count()} cores, torch {torch.__version__}, "
        f"{torch.get_num_threads()} torch threads; load average before: {os.getloadavg()[0]:.1f}"
    )
    plain, estimator = [], []
    for repeat in range(args.repeats):
        runs = [("plain", plain_loop_epochs), ("estimator", estimator_epochs)]
        if repeat % 2:
            runs.reverse()
        for name, run in runs:
            (plain if name == "plain" else estimator).extend(run(X, epochs=args.epochs, seed=repeat))
    plain_epoch, estimator_epoch = statistics.median(plain), statistics.median(estimator)

    start = time.perf_counter()
    gan = GANFeatures(device="cpu", random_state=0).fit(X)
    fit_seconds = time.perf_counter() - start
    print(f"Load average after the timing: {os.getloadavg()[0]:.1f}")
    print(f"\nMedians of {args.repeats} repeats x {args.epochs} epochs, {len(X):,} 8x8 digits, batch 64.\n")
    print("| row | s/epoch or s | ratio | target |")
    print("|---|---:|---:|---|")
    print(f"| plain torch DCGAN loop (reference) | {plain_epoch:.3f} s/epoch | 1.00 | |")
    print(f"| GANFeatures | {estimator_epoch:.3f} s/epoch | {estimator_epoch / plain_epoch:.2f} | |")
    print(
        f"| default fit ({gan.n_epochs_} epochs) | {fit_seconds:.1f} s | "
        f"{fit_seconds / 60:.2f} of the target | <= 60 s on 2 CPU cores |"
    )
    if not args.quality:
        return

    X_all, y_all = load_digits(return_X_y=True)
    samples = gan.sample(1000, random_state=0)
    print("\n| judge | real digits > 0.9 | samples > 0.9 | samples per class (confident) |")
    print("|---|---:|---:|---|")
    for smoothing in (0.1, 0.0):
        share, counts, real_share = judge_samples(samples, X_all, y_all, label_smoothing=smoothing)
        print(
            f"| CNNClassifier(label_smoothing={smoothing}) | {real_share:.3f} | {share:.3f} "
            f"| {counts.tolist()} |"
        )
    print("\n| features + standardised logistic regression | 5-fold accuracy | time |")
    print("|---|---:|---:|")
    for name, (mean, std, seconds) in five_fold(X_all, y_all).items():
        print(f"| {name} | {mean:.4f} ± {std:.4f} | {seconds:.0f} s |")


if __name__ == "__main__":
    main()
