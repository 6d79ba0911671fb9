"""Image retrieval in an autoencoder's latent space.

A convolutional autoencoder learns to compress the digits without their labels.
Its code is a feature space where nearest neighbours look alike: for held-out
queries, the five nearest training images are retrieved, and the fraction that
share the query's label (which the autoencoder never saw) is compared with PCA
of the same width.

Run ``python examples/autoencoder_retrieval.py`` (about two minutes on two CPU
cores); ``--fast`` (or ``SKVISION_FAST=1``) trains for a few epochs.
"""

import os
import sys

import matplotlib.pyplot as plt
import numpy as np
from sklearn.decomposition import PCA
from sklearn.model_selection import train_test_split
from sklearn.neighbors import NearestNeighbors

from skvision import AutoencoderFeatures
from skvision.datasets import load_digits
from skvision.plotting import ImageGridDisplay

FAST = "--fast" in sys.argv or os.environ.get("SKVISION_FAST", "0") != "0"
LATENT = 16

X, y = load_digits(return_X_y=True)
X_train, X_test, y_train, y_test = train_test_split(X, y, test_size=0.25, stratify=y, random_state=0)

autoencoder = AutoencoderFeatures(
    latent_dim=LATENT, max_epochs=3 if FAST else 100, device="auto", random_state=0
)
autoencoder.fit(X_train)
pca = PCA(LATENT, random_state=0).fit(X_train.reshape(len(X_train), -1))


def top5_agreement(train_codes, test_codes):
    index = NearestNeighbors(n_neighbors=5).fit(train_codes)
    _, neighbours = index.kneighbors(test_codes)
    return (y_train[neighbours] == y_test[:, None]).mean(), neighbours


ae_score, neighbours = top5_agreement(autoencoder.transform(X_train), autoencoder.transform(X_test))
pca_score, _ = top5_agreement(
    pca.transform(X_train.reshape(len(X_train), -1)), pca.transform(X_test.reshape(len(X_test), -1))
)
print(f"top-5 label agreement: autoencoder {ae_score:.3f}, PCA({LATENT}) {pca_score:.3f}")

# One row per query: the query, then its five neighbours.
queries = np.arange(6)
images = np.concatenate([np.concatenate([X_test[[q]], X_train[neighbours[q]]]) for q in queries])
captions, correct = [], []
for q in queries:
    captions += [f"query {y_test[q]}"] + [str(label) for label in y_train[neighbours[q]]]
    correct += [None] + (y_train[neighbours[q]] == y_test[q]).tolist()
ImageGridDisplay(
    images=images,
    captions=captions,
    correct=correct,
    title="queries and their 5 nearest neighbours in the code space",
).plot(n_cols=6)
plt.show()
