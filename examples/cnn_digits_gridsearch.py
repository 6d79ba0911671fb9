"""A CNN on digits, tuned with GridSearchCV like any sklearn classifier.

``CNNClassifier`` trains a small convolutional network through skorch. Its
learning rate and the width of its convolutions (``module__filters``, a routed
module parameter) are searched with ``GridSearchCV``; the best network's
training curves and held-out confusion matrix are shown.

Run ``python examples/cnn_digits_gridsearch.py`` (a few minutes on two CPU
cores); ``--fast`` (or ``SKVISION_FAST=1``) trains on a subset for two epochs.
"""

import os
import sys

import matplotlib.pyplot as plt
from sklearn.metrics import ConfusionMatrixDisplay
from sklearn.model_selection import GridSearchCV, train_test_split

from skvision import CNNClassifier
from skvision.datasets import load_digits
from skvision.plotting import TrainingCurveDisplay

FAST = "--fast" in sys.argv or os.environ.get("SKVISION_FAST", "0") != "0"

X, y = load_digits(return_X_y=True)
X_train, X_test, y_train, y_test = train_test_split(X, y, test_size=0.25, stratify=y, random_state=0)
if FAST:
    X_train, y_train = X_train[:300], y_train[:300]

cnn = CNNClassifier(max_epochs=2 if FAST else 10, module__fc_units=(32,), device="auto", random_state=0)
grid = {"lr": [3e-3] if FAST else [1e-3, 3e-3], "module__filters": [4, 8] if FAST else [8, 16, 32]}
search = GridSearchCV(cnn, grid, cv=2 if FAST else 3)
search.fit(X_train, y_train)

for params, mean, std in zip(
    search.cv_results_["params"], search.cv_results_["mean_test_score"], search.cv_results_["std_test_score"]
):
    print(f"{params}: {mean:.3f} ± {std:.3f}")
print("best:", search.best_params_, f"held-out accuracy {search.score(X_test, y_test):.3f}")

figure, axes = plt.subplots(1, 2, figsize=(11, 4.5), layout="constrained")
TrainingCurveDisplay.from_estimator(search.best_estimator_, title="best network (refit)", ax=axes[0])
ConfusionMatrixDisplay.from_estimator(
    search.best_estimator_, X_test, y_test, ax=axes[1], colorbar=False, cmap="Blues"
)
plt.show()
