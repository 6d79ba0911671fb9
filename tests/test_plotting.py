import matplotlib

matplotlib.use("Agg")

import sys

import matplotlib.pyplot as plt
import numpy as np
import pytest
from skimage.data import brick, camera
from skimage.feature import hog as skimage_hog
from skimage.feature import local_binary_pattern as skimage_lbp
from sklearn.decomposition import PCA
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import FunctionTransformer, StandardScaler

from skvision import HOG, LBP
from skvision.datasets import load_digits
from skvision.plotting import (
    EmbeddingDisplay,
    HOGDisplay,
    ImageGridDisplay,
    LBPDisplay,
    ScoresDisplay,
    TrainingCurveDisplay,
)
from skvision.plotting._embedding import embed_2d
from skvision.plotting._training import find_history


@pytest.fixture(autouse=True)
def close_figures():
    yield
    plt.close("all")


def flatten(images):
    return images.reshape(len(images), -1) / 255.0


HISTORY = [
    {
        "epoch": 1,
        "train_loss": 1.0,
        "valid_loss": 1.2,
        "valid_acc": 0.4,
        "valid_loss_best": True,
        "dur": 0.2,
        "train_batch_count": 3,
        "event_lr": 0.1,
        "batches": [],
    },
    {
        "epoch": 2,
        "train_loss": 0.6,
        "valid_loss": 0.9,
        "valid_acc": 0.7,
        "valid_loss_best": True,
        "dur": 0.2,
        "batches": [],
    },
]


def test_missing_matplotlib_gives_a_clear_import_error(monkeypatch):
    monkeypatch.setitem(sys.modules, "matplotlib", None)
    with pytest.raises(ImportError, match=r"EmbeddingDisplay.plot draws with matplotlib.*skvision\[plot\]"):
        EmbeddingDisplay(embedding=np.zeros((3, 2))).plot()


def test_embedding_pca_matches_sklearn_on_standardised_features():
    features = np.random.default_rng(0).random((40, 6))
    expected = PCA(2, random_state=0).fit_transform(StandardScaler().fit_transform(features))
    np.testing.assert_allclose(embed_2d(features, method="pca"), expected)


def test_embedding_display_from_estimator_colours_classes():
    X, y = load_digits(return_X_y=True)
    model = make_pipeline(FunctionTransformer(flatten), PCA(10)).fit(X)
    _, ax = plt.subplots()
    display = EmbeddingDisplay.from_estimator(
        model, X[:150], y[:150], method="tsne", ax=ax, target_names=[f"d{i}" for i in range(10)]
    )
    assert display.ax_ is ax and display.embedding.shape == (150, 2)
    legend = [text.get_text() for text in ax.get_legend().get_texts()]
    assert legend == [f"d{i}" for i in range(10)]


def test_embedding_display_subsamples_and_handles_a_continuous_target():
    features = np.random.default_rng(1).random((50, 4))
    display = EmbeddingDisplay.from_features(features, features[:, 0], method="pca", max_samples=20)
    assert display.embedding.shape == (20, 2) and len(display.figure_.axes) == 2  # with a colour bar
    with pytest.raises(ValueError, match="tsne' or 'pca'"):
        embed_2d(features, method="umap")


def test_image_grid_shows_the_misclassified_images():
    X, y = load_digits(return_X_y=True)
    y_pred = y[:30].copy()
    y_pred[[3, 7]] = (y_pred[[3, 7]] + 1) % 10
    display = ImageGridDisplay.from_predictions(
        X[:30], y[:30], y_pred, only_errors=True, target_names=[str(d) for d in range(10)]
    )
    assert display.captions == [f"{y[3]} -> {y_pred[3]}", f"{y[7]} -> {y_pred[7]}"]
    assert display.correct == [False, False]
    tile = display.mosaic_[2:10, 0:8, 0]  # below the caption band of the first tile
    np.testing.assert_allclose(tile, X[3] / 255.0)


def test_image_grid_from_estimator_and_indices():
    X, y = load_digits(return_X_y=True)
    model = make_pipeline(FunctionTransformer(flatten), LogisticRegression(max_iter=200)).fit(
        X[:100], y[:100]
    )
    display = ImageGridDisplay.from_estimator(model, X[100:112], y[100:112], max_images=12)
    assert len(display.images) == 12 and display.mosaic_.shape[2] == 3
    indices = np.array([5, 1])
    display = ImageGridDisplay.from_predictions(X, np.array([1, 2]), np.array([1, 2]), indices=indices)
    np.testing.assert_array_equal(display.images[0], X[5])
    with pytest.raises(ValueError, match="continuous"):
        ImageGridDisplay.from_predictions(X[:2], np.array([0.5, 1.5]), np.array([0.5, 1.0]), only_errors=True)
    with pytest.raises(TypeError, match="file paths"):
        ImageGridDisplay.from_predictions(["a.png"], [0], [1])


def test_training_curves_from_a_history():
    display = TrainingCurveDisplay.from_history(HISTORY)
    assert sorted(display.lines_) == ["train_loss", "valid_acc", "valid_loss"]
    np.testing.assert_array_equal(display.lines_["train_loss"].get_ydata(), [1.0, 0.6])
    assert display.score_ax_ is not None and display.score_ax_ is not display.ax_
    with pytest.raises(ValueError, match="empty"):
        TrainingCurveDisplay.from_history([])


def test_training_history_is_found_through_pipelines_and_wrappers():
    class Net:
        history = HISTORY

    class Wrapper:
        net_ = Net()

    pipeline = make_pipeline(FunctionTransformer(flatten), Wrapper())
    assert find_history(pipeline) is HISTORY
    with pytest.raises(ValueError, match="No training history"):
        find_history(make_pipeline(FunctionTransformer(flatten)))


def test_training_curves_of_a_fitted_cnn():
    from skvision import CNNFeatures

    X, y = load_digits(return_X_y=True)
    features = CNNFeatures(
        max_epochs=2, module__filters=4, module__fc_units=(8,), random_state=0, device="cpu"
    ).fit(X[:64], y[:64])
    display = TrainingCurveDisplay.from_estimator(make_pipeline(features))
    assert len(display.epochs) == 2 and "train_loss" in display.lines_


def test_hog_display_draws_scikit_images_visualisation():
    image = camera()[::8, ::8]
    hog = HOG(orientations=9, pixels_per_cell=8, cells_per_block=2).fit(image[None])
    _, axes = plt.subplots(1, 2)
    display = HOGDisplay.from_estimator(hog, image, ax=axes)
    _, expected = skimage_hog(
        image, orientations=9, pixels_per_cell=(8, 8), cells_per_block=(2, 2), visualize=True
    )
    np.testing.assert_allclose(display.hog_image, expected, rtol=1e-6, atol=1e-9)
    assert list(display.axes_) == list(axes)
    with pytest.raises(ValueError, match="one image"):
        HOGDisplay.from_estimator(hog, np.zeros((2, 3, 8, 8)))


def test_lbp_display_code_map_and_histogram_match_scikit_image():
    image = brick()[:48, :48]
    display = LBPDisplay.from_estimator(LBP(P=8, R=2, method="uniform"), image)
    expected = skimage_lbp(image, 8, 2, method="uniform")
    np.testing.assert_array_equal(display.codes, expected)
    np.testing.assert_array_equal(display.counts, np.bincount(expected.astype(int).ravel(), minlength=10))
    assert len(display.axes_) == 3
    variance = LBPDisplay.from_image(image, P=8, R=1, method="var", n_bins=8)
    assert len(variance.counts) == 8
    with pytest.raises(ValueError, match="draws on 3 axes"):
        LBPDisplay.from_image(image, ax=plt.subplots(1, 2)[1])


def test_scores_display_bars_and_error_bars():
    _, ax = plt.subplots()
    display = ScoresDisplay(names=["a", "b"], means=[0.5, 0.75], stds=[0.1, 0.05], scoring="r2").plot(ax=ax)
    assert [float(bar.get_width()) for bar in display.bars_] == [0.5, 0.75]
    assert display.ax_.get_xlabel().startswith("r2")


def test_hog_display_draws_lines_along_the_edges_for_small_cells():
    from matplotlib.collections import LineCollection

    image = np.zeros((16, 16), dtype=np.uint8)
    image[:, 8:] = 255  # one vertical edge: horizontal gradients, orientation bin 0
    display = HOGDisplay.from_image(image, pixels_per_cell=4, cells_per_block=1)
    assert display.cell_histograms.shape == (4, 4, 9)
    assert display.cell_histograms[:, 1:3].argmax(axis=-1).tolist() == [[0, 0]] * 4
    lines = next(c for c in display.axes_[1].collections if isinstance(c, LineCollection))
    strongest = lines.get_segments()[int(np.argmax(lines.get_array()))]
    dx, dy = np.abs(strongest[0] - strongest[1])
    # Along the edge: vertical, up to bin 0's mid-orientation of 10 degrees.
    np.testing.assert_allclose(np.degrees(np.arctan2(dx, dy)), 10.0)
