"""skvision's warnings name the user's line, through Pipeline, cross_val_score and skvision's own layers.

Python shows a warning once per place: one that named a line inside skvision (or scikit-learn's wrapper
around fit) was shown for the first call and hidden for every later call from anywhere.
"""

import warnings

import numpy as np
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import cross_val_score
from sklearn.pipeline import make_pipeline

from skvision import GLCM, ImageScaleWarning
from skvision.datasets import load_textures


def _caught(call):
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        call()
    return [w for w in caught if issubclass(w.category, ImageScaleWarning)]


def test_a_descriptors_warning_names_the_callers_line_however_deep():
    X, y = load_textures(return_X_y=True)
    narrow = X.astype(np.uint16)  # 8-bit values in a 16-bit array: read as near black
    model = make_pipeline(GLCM(), LogisticRegression(max_iter=200))
    for call in (
        lambda: GLCM().fit(narrow),
        lambda: model.fit(narrow, y),
        lambda: cross_val_score(model, narrow, y, cv=2),
    ):
        caught = _caught(call)
        assert caught and all(w.filename == __file__ for w in caught), [w.filename for w in caught]
    # So two calls from two places each show it under the default filter (once per place).
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("default")
        GLCM().fit(narrow)
        GLCM().fit(narrow)
    assert len([w for w in caught if issubclass(w.category, ImageScaleWarning)]) == 2
