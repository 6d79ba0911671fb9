"""Variational autoencoder on digits: images generated from the prior, and reconstructions.

Trains :class:`skvision.AutoencoderFeatures` with ``kind='vae'`` on 75 % of the
8x8 digits, then saves one figure with two panels:

* left, digits decoded from codes drawn from the prior N(0, I)
  (``inverse_transform`` of random normal codes);
* right, held-out digits (odd columns) next to their reconstructions from the
  mean code (even columns).

Run ``python examples/autoencoder_samples.py`` (about a minute on two CPU
cores); ``--output`` sets where the PNG goes.
"""

from __future__ import annotations

import argparse

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
from skimage.util import montage  # noqa: E402
from sklearn.model_selection import train_test_split  # noqa: E402

from skvision import AutoencoderFeatures  # noqa: E402
from skvision.datasets import load_digits  # noqa: E402


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--output", default="autoencoder_samples.png", help="PNG file to write")
    parser.add_argument("--epochs", type=int, default=150, help="maximum training epochs")
    parser.add_argument("--latent-dim", type=int, default=8)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)

    X, y = load_digits(return_X_y=True)
    X_train, X_test = train_test_split(X, test_size=0.25, random_state=args.seed)
    # Binary cross entropy suits pixels in [0, 1]; early stopping watches the
    # reconstruction loss of a validation split.
    vae = AutoencoderFeatures(
        kind="vae",
        loss="bce",
        latent_dim=args.latent_dim,
        max_epochs=args.epochs,
        n_iter_no_change=15,
        random_state=args.seed,
    ).fit(X_train)
    print(
        f"trained {vae.n_epochs_} epochs; held-out score (minus mean BCE per pixel): {vae.score(X_test):.4f}"
    )

    rng = np.random.default_rng(args.seed)
    generated = vae.inverse_transform(rng.standard_normal((64, vae.latent_dim_)))
    originals = X_test[:32] / 255.0
    reconstructions = vae.reconstruct(X_test[:32])
    pairs = np.stack([originals, reconstructions], axis=1).reshape(64, *X_test.shape[1:])

    # gray_r: ink (1) is black, background and gaps (0) white.
    fig, (left, right) = plt.subplots(1, 2, figsize=(9, 4.8))
    left.imshow(
        montage(generated[:64], grid_shape=(8, 8), padding_width=1, fill=0), cmap="gray_r", vmin=0, vmax=1
    )
    left.set_title("decoded from the prior N(0, I)")
    right.imshow(
        montage(pairs[:64], grid_shape=(8, 8), padding_width=1, fill=0), cmap="gray_r", vmin=0, vmax=1
    )
    right.set_title("held-out digit | reconstruction")
    for ax in (left, right):
        ax.set_axis_off()
    fig.suptitle(f"Variational autoencoder on 8x8 digits, latent_dim={vae.latent_dim_}")
    fig.tight_layout()
    fig.savefig(args.output, dpi=150)
    print(f"saved {args.output}")


if __name__ == "__main__":
    main()
