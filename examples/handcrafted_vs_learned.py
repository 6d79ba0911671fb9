"""Handcrafted against learned features on one data set, with compare_features.

LBP and HOG (designed by hand) against a CNN's embedding (learned from the
labels) and an autoencoder's code (learned without them), each followed by the
same SVC and cross-validated on the same folds. The result prints as a table;
the figures are the score bars, the CNN's confusion matrix and maps of the two
best feature spaces. ``skvision compare`` runs the same comparison from the shell.

Run ``python examples/handcrafted_vs_learned.py [digits|faces|textures]``;
``--fast`` (or ``SKVISION_FAST=1``) uses a subset and few epochs.
"""

import os
import sys

import matplotlib.pyplot as plt

from skvision import HOG, LBP, AutoencoderFeatures, CNNFeatures, compare_features
from skvision.datasets import load_dataset

FAST = "--fast" in sys.argv or os.environ.get("SKVISION_FAST", "0") != "0"
name = next((a for a in sys.argv[1:] if not a.startswith("-")), "faces")

data = load_dataset(name)
X, y = (data.images[::5], data.target[::5]) if FAST else (data.images, data.target)
side = min(X.shape[1:3])
epochs = 1 if FAST else 10

features = {
    "lbp": LBP(P=8, R=1, method="uniform", grid=(3, 3))
    if side >= 16
    else LBP(P=4, R=1, method="default", grid=4),
    "hog": HOG(pixels_per_cell=max(2, side // 5), cells_per_block=2),
    "cnn": CNNFeatures(max_epochs=epochs, module__filters=16, device="auto", random_state=0),
    "autoencoder": AutoencoderFeatures(latent_dim=16, max_epochs=epochs, device="auto", random_state=0),
}
kinds = {"lbp": "handcrafted", "hog": "handcrafted", "cnn": "learned", "autoencoder": "learned"}
result = compare_features(
    X,
    y,
    features,
    estimator="svc",
    cv=3 if FAST else 5,
    kinds=kinds,
    target_names=data.target_names,
    verbose=1,
)
print(result)

figure, axes = plt.subplots(2, 2, figsize=(11, 9), layout="constrained")
result.plot_scores(ax=axes[0, 0])
result.plot_confusion_matrix("cnn", ax=axes[0, 1])
best_two = [row["feature set"] for row in result.rows()[:2]]
for ax, best in zip(axes[1], best_two):
    result.plot_embedding(best, ax=ax, method="pca" if FAST else "tsne")
plt.show()
