"""HOG on faces: tuning the cell size with a grid search.

scikit-image's ``lfw_subset`` holds 100 face and 100 non-face 25x25 patches.
A HOG -> SVC pipeline is tuned over the HOG cell size and the SVC's C with
``GridSearchCV``; the figure shows what HOG sees in a face and in a non-face, and
the held-out predictions of the best model.

Run ``python examples/hog_faces.py``; ``--fast`` (or ``SKVISION_FAST=1``) searches
a smaller grid.
"""

import os
import sys

import matplotlib.pyplot as plt
from sklearn.model_selection import GridSearchCV, train_test_split
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.svm import SVC

from skvision import HOG
from skvision.datasets import load_faces
from skvision.plotting import HOGDisplay, ImageGridDisplay

FAST = "--fast" in sys.argv or os.environ.get("SKVISION_FAST", "0") != "0"

faces = load_faces()
X_train, X_test, y_train, y_test = train_test_split(
    faces.images, faces.target, test_size=0.3, stratify=faces.target, random_state=0
)
model = Pipeline([("hog", HOG(cells_per_block=2)), ("scale", StandardScaler()), ("svc", SVC())])
grid = {
    "hog__pixels_per_cell": [5, 8] if FAST else [3, 4, 5, 6, 8],
    "svc__C": [1, 10] if FAST else [0.1, 1, 10],
}
search = GridSearchCV(model, grid, cv=3 if FAST else 5).fit(X_train, y_train)
print("best parameters:", search.best_params_)
print(
    f"cross-validated accuracy {search.best_score_:.3f}, held-out accuracy {search.score(X_test, y_test):.3f}"
)

best_hog = search.best_estimator_.named_steps["hog"]
figure, axes = plt.subplots(2, 2, figsize=(8, 8), layout="constrained")
HOGDisplay.from_estimator(best_hog, faces.images[0], title="HOG of a face", ax=axes[0])
HOGDisplay.from_estimator(best_hog, faces.images[150], title="HOG of a non-face", ax=axes[1])

ImageGridDisplay.from_estimator(
    search.best_estimator_,
    X_test,
    y_test,
    max_images=24,
    target_names=faces.target_names,
    title="held-out predictions (true -> predicted)",
)
plt.show()
