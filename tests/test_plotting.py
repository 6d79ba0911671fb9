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
    # Labels of other rows: subsampled, they were drawn without a word.
    with pytest.raises(ValueError, match="y has 60 labels but features has 50 rows"):
        EmbeddingDisplay.from_features(features, np.arange(60), method="pca", max_samples=20)


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


@pytest.mark.parametrize("n_errors", [0, 1])
def test_an_image_grid_of_one_or_no_image_keeps_its_title(n_errors):
    # The figure was as wide as its one column of images (1.7 in), and the report's title
    # "<family>: misclassified held-out images" came out cut at both ends.
    X, y = load_digits(return_X_y=True)
    y_pred = y[:30].copy()
    y_pred[:n_errors] = (y_pred[:n_errors] + 1) % 10
    title = "autoencoder: misclassified held-out images"
    display = ImageGridDisplay.from_predictions(X[:30], y[:30], y_pred, only_errors=True, title=title)
    figure = display.figure_
    figure.canvas.draw()
    box = display.ax_.title.get_window_extent(renderer=figure.canvas.get_renderer())
    assert len(display.images) == n_errors and 0 <= box.x0 and box.x1 <= figure.bbox.x1
    plt.close(figure)


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
    # A misspelt key drew an all-NaN line without a word.
    with pytest.raises(ValueError, match=r"keys \['valid_accuracy'\] are not in the history; it records"):
        TrainingCurveDisplay.from_history(HISTORY, keys=["valid_accuracy"])


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
    # An unfitted HOG draws the same (LBPDisplay took an unfitted LBP; HOG's raised NotFittedError).
    unfitted = HOG(orientations=9, pixels_per_cell=8, cells_per_block=2)
    np.testing.assert_array_equal(HOGDisplay.from_estimator(unfitted, image).hog_image, display.hog_image)
    assert not hasattr(unfitted, "n_features_in_")  # fitted on a copy


def test_lbp_display_code_map_and_histogram_match_scikit_image():
    image = brick()[:48, :48]
    display = LBPDisplay.from_estimator(LBP(P=8, R=2, method="uniform"), image)
    expected = skimage_lbp(image, 8, 2, method="uniform")
    np.testing.assert_array_equal(display.codes, expected)
    np.testing.assert_array_equal(display.counts, np.bincount(expected.astype(int).ravel(), minlength=10))
    assert len(display.axes_) == 3
    variance = LBPDisplay.from_image(image, P=8, R=1, method="var", n_bins=8)
    assert len(variance.counts) == 8
    # The histogram is the transform's (one cell, counts) for every method: ror has 36 bins, not 256.
    for method in ("nri_uniform", "ror", "default"):
        lbp = LBP(P=8, R=1, method=method, normalize=None).fit(image[None])
        shown = LBPDisplay.from_estimator(lbp, image).counts
        np.testing.assert_array_equal(shown, lbp.transform(image[None])[0])
    with pytest.raises(ValueError, match="draws on 3 axes"):
        LBPDisplay.from_image(image, ax=plt.subplots(1, 2)[1])


def test_scores_display_bars_and_error_bars():
    _, ax = plt.subplots()
    display = ScoresDisplay(names=["a", "b"], means=[0.5, 0.75], stds=[0.1, 0.05], scoring="r2").plot(ax=ax)
    assert [float(bar.get_width()) for bar in display.bars_] == [0.5, 0.75]
    assert display.ax_.get_xlabel().startswith("r2")
    assert display.ax_.get_xlim()[1] >= 1.0  # a score of at most 1: the axis reaches 1
    # A negated error is drawn as the error, on its own scale: bars toward -3 on an axis to +1 made the
    # longest bar the worst set.
    _, ax = plt.subplots()
    error = ScoresDisplay(
        names=["a", "b"], means=[-0.2, -0.35], stds=[0.02, 0.05], scoring="neg_mean_absolute_error"
    )
    error.plot(ax=ax)
    assert [float(bar.get_width()) for bar in error.bars_] == [0.2, 0.35]
    assert (
        error.ax_.get_xlabel().startswith("mean absolute error")
        and "lower is better" in error.ax_.get_xlabel()
    )
    assert error.ax_.get_xlim() == pytest.approx((0.0, 0.4 * 1.08))


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


def label_boxes(figure, labels):
    renderer = figure.canvas.get_renderer()
    return [label.get_window_extent(renderer) for label in labels if label.get_text()]


def rotated_labels_apart(figure, ax, labels):
    """Whether turned x labels (all at one angle) clear each other: parallel strips of text, side by side.

    Their anchors are ``dx`` pixels apart along the axis, so the strips are ``dx sin(angle)`` apart across
    the text: they do not overlap when that is at least the height of the text.
    """
    renderer = figure.canvas.get_renderer()
    angle = labels[0].get_rotation()
    heights = []
    for label in labels:
        label.set_rotation(0)
        heights.append(label.get_window_extent(renderer).height)
        label.set_rotation(angle)
    xs = [ax.transData.transform((x, 0))[0] for x in ax.get_xticks()]
    return all(
        (b - a) * np.sin(np.radians(angle)) >= max(h0, h1)
        for a, b, h0, h1 in zip(xs, xs[1:], heights, heights[1:])
    )


@pytest.mark.parametrize("n_classes", [3, 10, 25])
def test_confusion_matrix_labels_do_not_overlap(n_classes):
    """Long class names, as many as the figure holds: no two x labels touch, all stay inside the figure."""
    from sklearn.metrics import ConfusionMatrixDisplay

    from skvision.plotting._confusion import confusion_figsize, readable_confusion_matrix

    names = [f"class name {i}" for i in range(n_classes)]
    rng = np.random.default_rng(0)
    y_true = np.repeat(np.arange(n_classes), 4)
    y_pred = np.where(rng.random(len(y_true)) < 0.8, y_true, rng.integers(0, n_classes, len(y_true)))
    figure, ax = plt.subplots(figsize=confusion_figsize(names))
    display = ConfusionMatrixDisplay.from_predictions(
        y_true, y_pred, display_labels=names, ax=ax, colorbar=False
    )
    readable_confusion_matrix(display)
    figure.tight_layout()
    figure.canvas.draw()
    for labels in (ax.get_xticklabels(), ax.get_yticklabels()):
        boxes = label_boxes(figure, labels)
        assert len(boxes) == n_classes
        if labels[0].get_rotation() not in (0, 360):
            assert rotated_labels_apart(figure, ax, labels)
        else:
            for a, b in zip(boxes, boxes[1:]):
                assert not a.overlaps(b), f"labels overlap: {a} {b}"
        whole = figure.bbox
        assert all(
            box.x0 >= whole.x0 - 1 and box.y0 >= whole.y0 - 1 and box.x1 <= whole.x1 + 1 for box in boxes
        )
    if n_classes == 25:
        assert all(label.get_rotation() == 90 for label in ax.get_xticklabels())


def test_confusion_matrix_of_a_comparison_keeps_short_labels_flat_and_long_ones_readable():
    from skvision import compare_features

    X, y = load_digits(return_X_y=True)
    result = compare_features(
        X[:120], y[:120], {"pixels": FunctionTransformer(flatten)}, estimator="logreg", cv=2
    )
    display = result.plot_confusion_matrix("pixels")
    assert all(label.get_rotation() == 0 for label in display.ax_.get_xticklabels()), "digits fit flat"
    result.target_names = np.array([f"handwritten digit {d}" for d in range(10)])
    display = result.plot_confusion_matrix("pixels")
    assert all(label.get_rotation() == 45 for label in display.ax_.get_xticklabels())
    display = result.plot_confusion_matrix("pixels", xticks_rotation=30)
    assert all(label.get_rotation() == 30 for label in display.ax_.get_xticklabels()), (
        "the caller's choice stays"
    )


def test_embedding_map_states_how_many_points_it_shows():
    features = np.random.default_rng(0).random((60, 5))
    display = EmbeddingDisplay.from_features(features, np.arange(60) % 3, method="pca")
    assert display.count_text_.get_text() == "60 points"
    display = EmbeddingDisplay.from_features(features, method="pca", max_samples=25)
    assert display.count_text_.get_text() == "25 of 60 points (random subset)"
    assert display.count_text_ in display.ax_.texts


def test_critical_difference_display_draws_demsars_groups():
    from skvision.plotting import CriticalDifferenceDisplay
    from skvision.plotting._critical_difference import nemenyi_groups

    names = ["C4.5", "C4.5+m", "C4.5+cf", "C4.5+m+cf"]
    ranks = [3.143, 2.000, 2.893, 1.964]
    # Demšar's Figure 1: at alpha = 0.10 (CD = 1.12) C4.5+cf joins both groups.
    display = CriticalDifferenceDisplay(names=names, average_ranks=ranks, critical_difference=1.12).plot()
    assert display.groups_ == [["C4.5+m+cf", "C4.5+m", "C4.5+cf"], ["C4.5+cf", "C4.5"]]
    texts = [t.get_text() for t in display.ax_.texts]
    assert "CD = 1.12" in texts and "C4.5+m+cf (1.96)" in texts and "C4.5 (3.14)" in texts
    # Rank 1 on the left by default; on the right on request, as in the paper.
    ticks = {t.get_text(): t.get_position()[0] for t in display.ax_.texts if t.get_text() in "1234"}
    assert ticks["1"] < ticks["4"]
    flipped = CriticalDifferenceDisplay(names=names, average_ranks=ranks, critical_difference=1.12).plot(
        best_on_right=True
    )
    ticks = {t.get_text(): t.get_position()[0] for t in flipped.ax_.texts if t.get_text() in "1234"}
    assert ticks["1"] > ticks["4"]
    assert nemenyi_groups([1, 2, 3, 4], 0.5) == []
    assert nemenyi_groups([1, 1.2, 3, 3.1], 0.5) == [[0, 1], [2, 3]]
    with pytest.raises(ValueError, match="at least 2 methods"):
        CriticalDifferenceDisplay(names=["a"], average_ranks=[1], critical_difference=1).plot()


def test_displays_refuse_target_names_that_do_not_fit_the_labels():
    # Labels 1..3 with three names: the cat cluster was labelled "dog", the dog cluster "bird", the bird
    # cluster "3", and grid captions read "dog -> dog", without a word (compare_features refused it).
    from skvision.plotting import EmbeddingDisplay, ImageGridDisplay

    rng = np.random.default_rng(0)
    features, labels = rng.normal(size=(30, 4)), np.repeat([1, 2, 3], 10)
    names = ["cat", "dog", "bird"]
    with pytest.raises(ValueError, match=r"labels 0 to 2 for these 3 names; the labels are 1, 2, 3"):
        EmbeddingDisplay.from_features(features, labels, method="pca", target_names=names, ax=False)
    with pytest.raises(ValueError, match=r"the labels are 1, 2, 3"):
        ImageGridDisplay.from_predictions(np.zeros((30, 4, 4)), labels, labels, target_names=names)
    display = EmbeddingDisplay.from_features(features, labels - 1, method="pca", target_names=names)
    assert [t.get_text() for t in display.ax_.get_legend().get_texts()] == names


def test_an_embedding_of_whole_number_regression_targets_has_a_colour_bar():
    # compare_features on ages (floats, whole numbers): the map had a legend of 48 "classes".
    from skvision.plotting import EmbeddingDisplay

    rng = np.random.default_rng(0)
    features, ages = rng.normal(size=(60, 4)), rng.integers(18, 80, 60).astype(float)
    as_classes = EmbeddingDisplay.from_features(features, ages, method="pca")
    assert as_classes.ax_.get_legend() is not None  # type_of_target: whole numbers look like classes
    as_target = EmbeddingDisplay.from_features(features, ages, method="pca", continuous=True)
    assert as_target.ax_.get_legend() is None and len(as_target.figure_.axes) == 2  # the map and its bar
