"""Training at the scale users bring: CNNClassifier against a plain torch loop, augmentation, defaults.

Workloads (synthetic, built from the bundled digits, 10 classes): ``28x28`` is
60,000 images, ``64x64`` is 5,000. Each digit is upsampled (bilinear), padded
and shifted by a random few pixels, so the copies differ.

Rows of each workload (the estimator's defaults: ``module='convnet'``, batch 64,
AdamW lr=3e-3 with a one-cycle schedule, label smoothing 0.1; one epoch per
repeat so that only the epoch is timed):

* ``plain torch loop``: the reference, written by hand: the same module (built
  by the same factory, in the same channels_last layout), optimizer, schedule and
  loss; images converted once to a float tensor, one ``randperm`` per epoch,
  index-sliced batches, forward, loss, backward, step, scheduler step and
  ``loss.item()`` per batch (what a loop that logs its loss does; skorch records
  it too).
* ``CNNClassifier, augment='none'``: skvision's training epoch (skorch's own
  per-epoch ``dur``).
* ``augment='light'`` (the default) and ``augment='standard'``: the same with
  the batch augmentation on the training device, as ratios to ``'none'``.
* ``predict_proba``: images/s of ``CNNClassifier.predict_proba`` against plain
  ``softmax(module(x))`` over batches of the same size from the same uint8 array.
* ``data path only``: one shuffled pass over the training tensors,
  ``TensorBatchIterator`` against a skorch ``Dataset`` + ``DataLoader``.

The rows of a repeat run back to back, in an order rotated from repeat to repeat,
so load on a shared machine hits them alike; the table gives medians.

Then the lean defaults: ``CNNClassifier()`` 5-fold cross-validation on the 1,797
digits (accuracy, seconds per fold), and ``AutoencoderFeatures()`` fitted on
1,437 digits against ``PCA(16)`` (fit seconds; held-out reconstruction MSE,
logistic-regression accuracy on the codes, top-5 retrieval agreement).

``--fit-60k`` adds the heavy row: a default ``CNNClassifier().fit`` on the
60,000 28x28 images (``max_epochs='auto'``), with the held-out accuracy after
each epoch (10,000 images made from digits the training set never saw).

Run::

    .venv/bin/python benchmarks/bench_training.py                 # ~12 min on 2 cores
    .venv/bin/python benchmarks/bench_training.py --fit-60k       # + ~4 min (5 epochs of 60,000)
    .venv/bin/python benchmarks/bench_training.py --workloads 28x28:5000 --repeats 1 --no-defaults  # smoke
    .venv/bin/python benchmarks/bench_training.py --device cuda
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import sys
import time

import numpy as np
import torch
from scipy.ndimage import zoom
from skorch.callbacks import Callback
from skorch.dataset import Dataset
from torch.utils.data import DataLoader

from skvision import AutoencoderFeatures, CNNClassifier
from skvision.datasets import load_digits
from skvision.neural._iterator import TensorBatchIterator
from skvision.neural._torch_utils import images_to_tensor
from skvision.neural.modules import MODULES

WORKLOADS = {"28x28": 60_000, "64x64": 5_000}


def jittered_digits(n_images, side, *, rng, which=None):
    """``n_images`` side x side uint8 digits: upsampled, padded and shifted at random, with labels.

    ``which`` selects the source digits (indices into the 1,797); all by default.
    """
    X, y = load_digits(return_X_y=True)
    if which is not None:
        X, y = X[which], y[which]
    margin = max(2, side // 16)
    inner = side - 2 * margin
    big = zoom(X.astype(np.float32), (1, inner / 8, inner / 8), order=1, grid_mode=True, mode="nearest")
    big = np.clip(np.rint(big), 0, 255).astype(np.uint8)
    canvas = np.pad(big, ((0, 0), (2 * margin, 2 * margin), (2 * margin, 2 * margin)))
    source = rng.integers(0, len(X), n_images)
    dy, dx = rng.integers(0, 2 * margin + 1, (2, n_images))
    rows = dy[:, None] + np.arange(side)[None, :]
    cols = dx[:, None] + np.arange(side)[None, :]
    images = canvas[source[:, None, None], rows[:, :, None], cols[:, None, :]]
    return np.ascontiguousarray(images), y[source]


def synchronize(device):
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def default_classifier(**params):
    return CNNClassifier(**params)


def plain_loop_epoch(X, y, *, device, seed, batch_size):
    """One epoch of the hand-written equivalent of ``CNNClassifier()``'s training; (module, seconds)."""
    reference = default_classifier()
    torch.manual_seed(seed)
    module = MODULES["convnet"](in_channels=1, n_outputs=10, input_size=X.shape[1:3])
    module = module.to(device).to(memory_format=torch.channels_last)
    optimizer = torch.optim.AdamW(module.parameters(), lr=reference.lr)
    steps = int(np.ceil(len(X) / batch_size))
    scheduler = torch.optim.lr_scheduler.OneCycleLR(optimizer, max_lr=reference.lr, total_steps=steps)
    criterion = torch.nn.CrossEntropyLoss(label_smoothing=reference.label_smoothing)
    inputs = images_to_tensor(X, device=device)
    targets = torch.as_tensor(y, device=device)
    module.train()
    synchronize(device)
    start = time.perf_counter()
    order = torch.randperm(len(inputs), device=device)
    running = 0.0
    for first in range(0, len(inputs), batch_size):
        idx = order[first : first + batch_size]
        optimizer.zero_grad()
        loss = criterion(module(inputs[idx]), targets[idx])
        loss.backward()
        optimizer.step()
        scheduler.step()
        running += loss.item()
    synchronize(device)
    return module, time.perf_counter() - start


def estimator_epoch(X, y, *, device, seed, augment, batch_size, **kwargs):
    clf = default_classifier(
        max_epochs=1, augment=augment, batch_size=batch_size, device=str(device), random_state=seed, **kwargs
    )
    clf.fit(X, y)
    return clf, float(clf.net_.history[-1, "dur"])


def plain_predict_rate(module, X, batch_size, device):
    module.eval()
    synchronize(device)
    start = time.perf_counter()
    parts = []
    with torch.no_grad():
        for first in range(0, len(X), batch_size):
            inputs = images_to_tensor(X[first : first + batch_size], device=device)
            parts.append(torch.softmax(module(inputs), dim=1).cpu())
    proba = torch.cat(parts).numpy()
    synchronize(device)
    assert proba.shape == (len(X), 10)
    return len(X) / (time.perf_counter() - start)


def estimator_predict_rate(clf, X):
    start = time.perf_counter()
    proba = clf.predict_proba(X)
    synchronize(torch.device(clf.device_))
    assert proba.shape == (len(X), 10)
    return len(X) / (time.perf_counter() - start)


def batching_rate(make_iterator, X, y, device):
    dataset = Dataset(images_to_tensor(X), torch.as_tensor(y))
    synchronize(device)
    start = time.perf_counter()
    n_seen = sum(len(xb) for xb, _ in make_iterator(dataset))
    synchronize(device)
    assert n_seen == len(X)
    return len(X) / (time.perf_counter() - start)


def run_workload(name, n_images, args, device):
    side = int(name.split("x")[0])
    X, y = jittered_digits(n_images, side, rng=np.random.default_rng(0))
    rows = {key: [] for key in ("plain", "none", "light", "standard", "dataloader")}
    rates = {key: [] for key in ("predict_plain", "predict_ours", "batches_tensor", "batches_loader")}
    trained = {}
    common = dict(device=device, batch_size=args.batch_size)

    def run_plain(seed):
        trained["module"], seconds = plain_loop_epoch(X, y, seed=seed, **common)
        rows["plain"].append(seconds)

    def run_augment(augment):
        def run(seed):
            clf, seconds = estimator_epoch(X, y, seed=seed, augment=augment, **common)
            rows[augment].append(seconds)
            if augment == "none":
                trained["clf"] = clf

        return run

    def run_dataloader(seed):
        _, seconds = estimator_epoch(
            X,
            y,
            seed=seed,
            augment="none",
            iterator_train=DataLoader,
            iterator_train__shuffle=True,
            iterator_valid=DataLoader,
            **common,
        )
        rows["dataloader"].append(seconds)

    training_rows = [run_plain, run_augment("none")] + [run_augment(a) for a in args.augment]
    if args.dataloader:
        training_rows.append(run_dataloader)
    for repeat in range(args.repeats):
        # Rotate the order each repeat, so that no row always runs first or right after another.
        shift = repeat % len(training_rows)
        for run in training_rows[shift:] + training_rows[:shift]:
            run(repeat)
        rates["predict_plain"].append(plain_predict_rate(trained["module"], X, args.batch_size, device))
        rates["predict_ours"].append(estimator_predict_rate(trained["clf"], X))
        rates["batches_tensor"].append(
            batching_rate(
                lambda ds: TensorBatchIterator(ds, batch_size=args.batch_size, shuffle=True, device=device),
                X,
                y,
                device,
            )
        )
        rates["batches_loader"].append(
            batching_rate(lambda ds: DataLoader(ds, batch_size=args.batch_size, shuffle=True), X, y, device)
        )
        print(f"{name} x {n_images:,}: repeat {repeat + 1}/{args.repeats} done", file=sys.stderr, flush=True)
    med = {key: statistics.median(values) for key, values in {**rows, **rates}.items() if values}

    print(
        f"\n{n_images:,} x {name} uint8, batch {args.batch_size}; "
        f"medians of {args.repeats} repeats x 1 epoch\n"
    )
    print("| row | s/epoch or images/s | ratio | target |")
    print("|---|---:|---:|---|")
    print(f"| plain torch loop (reference) | {med['plain']:.2f} s/epoch | 1.00 | |")
    print(
        f"| CNNClassifier, augment='none' | {med['none']:.2f} s/epoch | "
        f"{med['none'] / med['plain']:.2f} | <= 1.15 |"
    )
    for augment in args.augment:
        target = "<= 1.30" if augment == "light" else "(not the default)"
        print(
            f"| CNNClassifier, augment='{augment}' | {med[augment]:.2f} s/epoch | "
            f"{med[augment] / med['none']:.2f} vs 'none' | {target} |"
        )
    if "dataloader" in med:
        print(
            f"| CNNClassifier, skorch Dataset + DataLoader | {med['dataloader']:.2f} s/epoch | "
            f"{med['dataloader'] / med['plain']:.2f} | (alternative) |"
        )
    print(f"| plain torch inference (reference) | {med['predict_plain']:,.0f} images/s | 1.00 | |")
    print(
        f"| CNNClassifier.predict_proba | {med['predict_ours']:,.0f} images/s | "
        f"{med['predict_ours'] / med['predict_plain']:.2f} | >= 0.90 |"
    )
    print(f"| data path only: DataLoader (skorch Dataset) | {med['batches_loader']:,.0f} images/s | 1.00 | |")
    print(
        f"| data path only: TensorBatchIterator | {med['batches_tensor']:,.0f} images/s | "
        f"{med['batches_tensor'] / med['batches_loader']:.1f} | faster wins |"
    )
    sys.stdout.flush()


def digits_defaults(device):
    """CNNClassifier() 5-fold CV and AutoencoderFeatures() against PCA(16), on the bundled digits."""
    from sklearn.decomposition import PCA
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import KFold, cross_validate, train_test_split
    from sklearn.neighbors import NearestNeighbors
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    X, y = load_digits(return_X_y=True)
    cv = cross_validate(default_classifier(device=str(device), random_state=0), X, y, cv=5)
    print("\nDigits (1,797 8x8), defaults\n")
    print("| estimator | measure | value | target |")
    print("|---|---|---:|---|")
    print(f"| CNNClassifier() 5-fold CV | accuracy | {cv['test_score'].mean():.4f} | >= 0.98 |")
    print(
        f"| CNNClassifier() 5-fold CV | fit s per fold (median / max) | "
        f"{np.median(cv['fit_time']):.1f} / {np.max(cv['fit_time']):.1f} | <= 10 |"
    )
    sys.stdout.flush()

    X_train, X_test, y_train, y_test = train_test_split(X, y, train_size=1437, random_state=0)
    flat = lambda images: images.reshape(len(images), -1).astype(np.float32) / 255  # noqa: E731
    start = time.perf_counter()
    pca = PCA(16, random_state=0).fit(flat(X_train))
    pca_seconds = time.perf_counter() - start
    autoencoder = AutoencoderFeatures(device=str(device), random_state=0)
    start = time.perf_counter()
    autoencoder.fit(X_train)
    ae_seconds = time.perf_counter() - start
    encoders = {
        "PCA(16)": lambda images: pca.transform(flat(images)),
        "AutoencoderFeatures()": autoencoder.transform,
    }
    reconstructions = {
        "PCA(16)": pca.inverse_transform(pca.transform(flat(X_test))),
        "AutoencoderFeatures()": autoencoder.reconstruct(X_test).reshape(len(X_test), -1),
    }
    seconds = {"PCA(16)": pca_seconds, "AutoencoderFeatures()": ae_seconds}
    print()
    print(
        f"AutoencoderFeatures() ({autoencoder.kind}, {autoencoder.n_epochs_} epochs) against PCA(16): "
        "fitted on 1,437 digits, MSE on the other 360, logistic regression 5-fold CV on the codes of all "
        "1,797, top-5 label agreement of the 360 held-out codes' nearest training codes\n"
    )
    print("| features | fit s | held-out MSE | logistic regression accuracy | top-5 agreement |")
    print("|---|---:|---:|---:|---:|")
    for name, encode in encoders.items():
        mse = float(np.mean((reconstructions[name] - flat(X_test)) ** 2))
        classifier = make_pipeline(StandardScaler(), LogisticRegression(max_iter=2000))
        accuracy = cross_validate(classifier, encode(X), y, cv=KFold(5, shuffle=True, random_state=0))
        index = NearestNeighbors(n_neighbors=5).fit(encode(X_train)).kneighbors(encode(X_test))[1]
        top5 = float(np.mean(y_train[index] == y_test[:, None]))
        print(
            f"| {name} | {seconds[name]:.2f} | {mse:.4f} | {accuracy['test_score'].mean():.4f} | {top5:.4f} |"
        )
    sys.stdout.flush()


class HeldOutAccuracy(Callback):
    """Accuracy on a fixed held-out set after each epoch (timed, to leave it out of the fit's time)."""

    def __init__(self, X, y):
        self.X, self.y = X, y

    def on_epoch_end(self, net, **kwargs):
        start = time.perf_counter()
        correct = 0
        for first in range(0, len(self.X), 1024):
            proba = net.predict_proba(images_to_tensor(self.X[first : first + 1024]))
            correct += int((proba.argmax(1) == self.y[first : first + 1024]).sum())
        net.history.record("held_out_accuracy", correct / len(self.X))
        net.history.record("held_out_seconds", time.perf_counter() - start)
        print(
            f"epoch {len(net.history)}: held-out accuracy {correct / len(self.X):.4f}",
            file=sys.stderr,
            flush=True,
        )


def fit_60k(device):
    rng = np.random.default_rng(1)
    train_digits, test_digits = np.arange(0, 1437), np.arange(1437, 1797)
    X, y = jittered_digits(60_000, 28, rng=rng, which=train_digits)
    X_test, y_test = jittered_digits(10_000, 28, rng=rng, which=test_digits)
    clf = default_classifier(
        device=str(device), random_state=0, callbacks=[("held_out", HeldOutAccuracy(X_test, y_test))]
    )
    start = time.perf_counter()
    clf.fit(X, y)
    wall = time.perf_counter() - start
    evaluation = float(sum(clf.net_.history[:, "held_out_seconds"]))
    print(
        f"\nCNNClassifier() fit on 60,000 x 28x28 (10 classes): {clf.n_epochs_} epochs (max_epochs='auto'), "
        f"{wall - evaluation:.0f} s (target <= 900 s; {wall:.0f} s with the held-out evaluation)\n"
    )
    print("| epoch | s/epoch | train loss | held-out accuracy (10,000 images of unseen digits) |")
    print("|---:|---:|---:|---:|")
    for epoch in clf.net_.history:
        print(
            f"| {epoch['epoch']} | {epoch['dur']:.1f} | {epoch['train_loss']:.4f} | "
            f"{epoch['held_out_accuracy']:.4f} |"
        )
    sys.stdout.flush()


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument(
        "--workloads",
        default="28x28,64x64",
        help="comma-separated SIDExSIDE[:N] (default: 28x28:60000,64x64:5000); empty for none",
    )
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument(
        "--augment", default="light,standard", help="augmentation rows besides 'none' (comma-separated)"
    )
    parser.add_argument("--dataloader", action="store_true", help="add the skorch DataLoader row")
    parser.add_argument("--no-defaults", action="store_true", help="skip the digits rows of the defaults")
    parser.add_argument("--fit-60k", action="store_true", help="add the default fit on 60,000 images")
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--threads", type=int, default=None, help="torch CPU threads (default: torch's)")
    args = parser.parse_args()
    args.augment = [a for a in args.augment.split(",") if a]

    if args.threads:
        torch.set_num_threads(args.threads)
    device = torch.device(args.device)
    if device.type == "cuda":
        device_name = torch.cuda.get_device_name(device)
    else:
        device_name = platform.processor() or "cpu"
    print(
        f"Machine: {platform.machine()}, {os.cpu_count()} cores, device {device} ({device_name}), "
        f"torch {torch.__version__}, {torch.get_num_threads()} torch threads"
    )
    load_before = os.getloadavg()
    start = time.perf_counter()
    for spec in [w for w in args.workloads.split(",") if w]:
        name, _, count = spec.partition(":")
        run_workload(name, int(count) if count else WORKLOADS[name], args, device)
    if not args.no_defaults:
        digits_defaults(device)
    if args.fit_60k:
        fit_60k(device)
    load_after = os.getloadavg()
    print(
        f"\nLoad average (1, 5 min) before {load_before[0]:.1f}, {load_before[1]:.1f} / after "
        f"{load_after[0]:.1f}, {load_after[1]:.1f}; {time.perf_counter() - start:.0f} s in all"
    )


if __name__ == "__main__":
    main()
