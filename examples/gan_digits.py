"""A DCGAN on digits: generated samples beside real ones, and its features under a linear classifier.

Trains :class:`skvision.GANFeatures` (the default recipe) on 80 % of the 8x8
digits without their labels, then

* saves one figure with two panels: 64 digits drawn from the generator
  (``sample``) and 64 real training digits;
* compares three unsupervised feature extractors, each fitted on the same
  training digits without labels, under the same linear classifier
  (standardised features -> logistic regression) on the 20 % held-out digits:
  the GAN's discriminator features (``transform``), a denoising autoencoder's
  code (``AutoencoderFeatures``) and PCA with as many components as the
  images have pixels (64, PCA cannot give more).

Run ``python examples/gan_digits.py`` (about two minutes on two CPU cores);
``--output`` sets where the PNG goes; ``--fast`` (or ``SKVISION_FAST=1``)
trains on a subset for a few epochs.
"""

from __future__ import annotations

import argparse
import os

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
from skimage.util import montage  # noqa: E402
from sklearn.decomposition import PCA  # noqa: E402
from sklearn.linear_model import LogisticRegression  # noqa: E402
from sklearn.model_selection import train_test_split  # noqa: E402
from sklearn.pipeline import make_pipeline  # noqa: E402
from sklearn.preprocessing import StandardScaler  # noqa: E402

from skvision import AutoencoderFeatures, GANFeatures  # noqa: E402
from skvision.datasets import load_digits  # noqa: E402


def linear_accuracy(train_features, y_train, test_features, y_test):
    classifier = make_pipeline(StandardScaler(), LogisticRegression(max_iter=3000))
    return classifier.fit(train_features, y_train).score(test_features, y_test)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--output", default="gan_digits.png", help="PNG file to write")
    parser.add_argument("--fast", action="store_true", help="a subset and a few epochs (for tests)")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    fast = args.fast or os.environ.get("SKVISION_FAST", "0") != "0"

    X, y = load_digits(return_X_y=True)
    if fast:
        X, y = X[::4], y[::4]
    X_train, X_test, y_train, y_test = train_test_split(
        X, y, test_size=0.2, stratify=y, random_state=args.seed
    )
    epochs = {"max_epochs": 2} if fast else {}
    gan = GANFeatures(random_state=args.seed, **epochs).fit(X_train)
    history = gan.net_.history
    print(
        f"GAN trained {gan.n_epochs_} epochs on {len(X_train)} digits; last epoch: discriminator loss "
        f"{history[-1, 'train_loss']:.3f}, generator loss {history[-1, 'train_generator_loss']:.3f}, "
        f"D(real) {history[-1, 'train_real_prob']:.2f}, D(generated) {history[-1, 'train_fake_prob']:.2f}"
    )

    # gray_r: ink (255) is black, background and gaps (0) white.
    generated = gan.sample(64, random_state=args.seed)
    fig, (left, right) = plt.subplots(1, 2, figsize=(9, 4.8))
    left.imshow(
        montage(generated[:64], grid_shape=(8, 8), padding_width=1, fill=0), cmap="gray_r", vmin=0, vmax=255
    )
    left.set_title("generated: GANFeatures.sample(64)")
    right.imshow(
        montage(X_train[:64], grid_shape=(8, 8), padding_width=1, fill=0), cmap="gray_r", vmin=0, vmax=255
    )
    right.set_title("real training digits")
    for ax in (left, right):
        ax.set_axis_off()
    fig.suptitle("DCGAN on 8x8 digits")
    fig.tight_layout()
    fig.savefig(args.output, dpi=150)
    print(f"saved {args.output}")

    flat = lambda images: images.reshape(len(images), -1) / 255.0  # noqa: E731
    autoencoder = AutoencoderFeatures(
        kind="denoising", latent_dim=32, max_epochs=5 if fast else 100, random_state=args.seed
    ).fit(X_train)
    pca = PCA(min(64, flat(X_train).shape[1]), random_state=args.seed).fit(flat(X_train))
    extractors = {
        "GANFeatures (discriminator)": gan.transform,
        "AutoencoderFeatures (denoising)": autoencoder.transform,
        f"PCA ({pca.n_components_} components)": lambda images: pca.transform(flat(images)),
    }
    print(f"\n{'features':<34}{'width':>7}{'held-out accuracy':>20}")
    for name, extract in extractors.items():
        train_features, test_features = extract(X_train), extract(X_test)
        accuracy = linear_accuracy(train_features, y_train, test_features, y_test)
        print(f"{name:<34}{train_features.shape[1]:>7}{accuracy:>20.3f}")


if __name__ == "__main__":
    main()
