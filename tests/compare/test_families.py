"""The family registry, the built-in families and the feature sets they build."""

import numpy as np
import pytest

from skvision import GLCM, HOG, PretrainedFeatures
from skvision.compare import (
    FEATURE_FAMILIES,
    DatasetInfo,
    FeatureSet,
    build_feature_sets,
    make_estimator,
    register_feature_family,
)
from skvision.datasets import load_digits


def test_named_estimators():
    assert make_estimator("rf", "regression").__class__.__name__ == "RandomForestRegressor"
    assert make_estimator("knn").steps[-1][1].__class__.__name__ == "KNeighborsClassifier"


def test_the_svr_scores_do_not_depend_on_the_targets_units():
    # A target spread over less than SVR's epsilon (a contrast in [0, 1]) was predicted as a
    # constant (R^2 < 0 for every feature set); the same target x 100 ranked them.
    from sklearn.model_selection import cross_val_score

    X, _ = load_digits(return_X_y=True)
    X = X[:300].reshape(300, -1).astype(float)
    y = X[:, 20:44].mean(axis=1) / 16 * 0.1  # std ~0.03
    scores = [cross_val_score(make_estimator("svc", "regression"), X, y * scale, cv=3) for scale in (1, 100)]
    np.testing.assert_allclose(scores[0], scores[1], rtol=1e-6)
    assert scores[0].mean() > 0.5


def test_registry_notes_families_that_are_missing_or_do_not_apply():
    @register_feature_family(
        "future",
        estimator="skvision.descriptors._not_written_yet:Future",
        kind="handcrafted",
        summary="not there",
    )
    def _future(cls, info):  # pragma: no cover - never built
        return cls()

    try:
        info = DatasetInfo(image_shape=(8, 8), n_samples=10, device="cpu")
        sets = build_feature_sets(["pixels", "future", "color"], info)
    finally:
        del FEATURE_FAMILIES["future"]
    assert [s.name for s in sets] == ["pixels", "future", "color"]
    pixels, future, color = sets
    assert pixels.available and pixels.kind == "baseline" and pixels.transformer is not None
    assert not future.available and future.transformer is None and future.kind == "handcrafted"
    assert future.skipped.startswith("not available in this installation")
    assert "colour" in color.skipped
    with pytest.raises(ValueError, match="Unknown feature set.*'nope'"):
        build_feature_sets(["nope"], info)


def test_every_available_family_describes_small_images():
    X, y = load_digits(return_X_y=True)
    X, y = X[:60], y[:60]
    info = DatasetInfo.from_data(X, y, device="cpu", fast=True)
    sets = {s.name: s for s in build_feature_sets(None, info)}
    assert {"pixels", "lbp", "hog"} <= {name for name, s in sets.items() if s.available}
    for name, feature_set in sets.items():
        if not feature_set.available or feature_set.kind == "learned":
            continue  # learned families are trained in tests/test_cli.py and the slow demo test
        out = feature_set.transformer.fit_transform(X, y)
        assert out.shape[0] == len(X) and out.ndim == 2 and np.isfinite(out).all(), name


@pytest.mark.parametrize("side", [3, 5, 6, 28])
def test_the_gabor_family_keeps_distinct_frequencies_below_nyquist(side):
    X = np.random.default_rng(0).integers(0, 256, (20, side, side), dtype=np.uint8)
    info = DatasetInfo.from_data(X, np.arange(20) % 2, device="cpu")
    (gabor,) = build_feature_sets(["gabor"], info)
    frequencies = gabor.transformer.frequencies
    # 3 px a side once gave 0.67 (aliased), 5 px four times 0.4 (repeated columns).
    assert max(frequencies) <= 0.5 and len(set(frequencies)) == len(frequencies) >= 2
    assert np.isfinite(gabor.transformer.fit_transform(X)).all()


def test_precompute_follows_the_stateless_tag():
    frozen = PretrainedFeatures("resnet10t", weights=None, input_size=32, device="cpu")
    assert FeatureSet.from_transformer("pretrained", frozen).precompute
    assert not FeatureSet.from_transformer("hog", HOG()).precompute
    info = DatasetInfo(image_shape=(32, 32, 3), n_samples=10, device="cpu")
    sets = {s.name: s for s in build_feature_sets(["pretrained", "cnn", "hog"], info)}
    assert not sets["cnn"].precompute and not sets["hog"].precompute
    if sets["pretrained"].available:  # with the packaged weights installed
        assert sets["pretrained"].precompute


@pytest.fixture
def one_gpu(monkeypatch):
    torch = pytest.importorskip("torch")
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    monkeypatch.setattr(torch.cuda, "device_count", lambda: 1)
    monkeypatch.setattr(torch.cuda, "current_device", lambda: 0)


@pytest.mark.parametrize(
    "device, descriptors, networks",
    [
        ("auto", "cuda:0", "cuda:0"),
        ("cuda", "cuda:0", "cuda:0"),
        ("cpu", "cpu", "cpu"),
        ("mps", "cpu", "mps"),
    ],
)
def test_the_device_goes_to_every_torch_path_that_can_run_there(
    one_gpu, monkeypatch, device, descriptors, networks
):
    from skvision import _device

    monkeypatch.setattr(_device, "_mps_available", lambda torch: True)
    info = DatasetInfo(image_shape=(32, 32), n_samples=10, device=device)
    sets = {s.name: s.transformer for s in build_feature_sets(["lbp", "hog", "glcm", "cnn", "pixels"], info)}
    assert sets["lbp"].device == sets["hog"].device == descriptors
    assert sets["cnn"].device == networks
    assert isinstance(sets["glcm"], GLCM) and "device" not in sets["glcm"].get_params()


def test_a_device_that_is_not_here_stops_the_build():
    torch = pytest.importorskip("torch")
    if torch.cuda.is_available():
        pytest.skip("a GPU is present")
    with pytest.raises(ValueError, match="device='cuda' was requested but torch sees no CUDA device"):
        build_feature_sets(["hog"], DatasetInfo(image_shape=(32, 32), n_samples=10, device="cuda"))


def test_the_gan_family_is_sized_like_the_autoencoder_and_describes_digits():
    digits = DatasetInfo(image_shape=(8, 8), n_samples=100, device="cpu")
    larger = DatasetInfo(image_shape=(32, 32, 3), n_samples=100, device="cpu")
    fast = DatasetInfo(image_shape=(8, 8), n_samples=100, device="cpu", fast=True)
    built = {}
    for name, info in (("digits", digits), ("larger", larger), ("fast", fast)):
        (gan,) = build_feature_sets(["gan"], info)
        (autoencoder,) = build_feature_sets(["autoencoder"], info)
        assert gan.kind == "learned" and type(gan.transformer).__name__ == "GANFeatures"
        assert gan.transformer.max_epochs == autoencoder.transformer.max_epochs, name  # on 100 images
        built[name] = gan.transformer
    assert built["digits"].max_epochs == 30 and built["digits"].filters is None
    (gan,) = build_feature_sets(["gan"], digits)
    assert set(gan.space) == {"lr", "pool_grid"} and gan.transformer.pool_grid in gan.space["pool_grid"]
    assert built["larger"].max_epochs == 15 and built["larger"].filters == 32
    # Beyond 16x16 pixels on more images, fewer epochs (about 20,000 images shown, at least 6): 15 of
    # 3,000 32x32 images took half of a 6-minute comparison.
    epochs = {
        n: build_feature_sets(["gan"], DatasetInfo(image_shape=(32, 32), n_samples=n, device="cpu"))[
            0
        ].transformer.max_epochs
        for n in (1_428, 1_429, 3_000, 10_000)
    }
    assert epochs == {1_428: 15, 1_429: 14, 3_000: 7, 10_000: 6}
    X, y = load_digits(return_X_y=True)
    features = built["fast"].set_params(max_epochs=1, filters=4).fit_transform(X[:64])
    assert features.shape == (64, built["fast"].n_features_out_) and np.isfinite(features).all()


def test_networks_trained_from_scratch_see_images_of_at_most_their_side():
    # A folder of 128x96 photos: the networks get them downscaled (aspect ratio kept), the
    # descriptors as they are, and each network is sized to the images it gets.
    large = DatasetInfo(image_shape=(128, 96, 3), n_samples=100, device="cpu")
    sets = {s.name: s for s in build_feature_sets(["cnn", "autoencoder", "gan", "hog"], large)}
    expected = {"cnn": (64, 48), "autoencoder": (32, 24), "gan": (32, 24)}
    for name, size in expected.items():
        pipeline = sets[name].transformer
        assert [step for step, _ in pipeline.steps] == ["resize", "network"], name
        assert pipeline.named_steps["resize"].size == size, name
        small = DatasetInfo(image_shape=(*size, 3), n_samples=100, device="cpu")
        (alone,) = build_feature_sets([name], small)
        assert pipeline.named_steps["network"].get_params() == alone.transformer.get_params(), name
        # The search space names the network's parameters through the pipeline.
        grids = sets[name].space if isinstance(sets[name].space, list) else [sets[name].space]
        for grid in grids:
            assert all(key.startswith("network__") for key in grid), name
            pipeline.set_params(**{key: values[-1] for key, values in grid.items()})
    assert isinstance(sets["hog"].transformer, HOG)
    # Images that fit are not touched.
    (cnn,) = build_feature_sets(["cnn"], DatasetInfo(image_shape=(64, 64, 3), n_samples=100, device="cpu"))
    assert type(cnn.transformer).__name__ == "CNNFeatures" and set(cnn.space) == {"lr", "max_epochs"}


def test_a_downscaled_network_describes_large_images():
    rng = np.random.default_rng(0)
    X = rng.integers(0, 256, size=(12, 80, 72, 3), dtype=np.uint8)
    info = DatasetInfo(image_shape=X.shape[1:], n_samples=len(X), device="cpu")
    (autoencoder,) = build_feature_sets(["autoencoder"], info)
    pipeline = autoencoder.transformer.set_params(network__max_epochs=1)
    features = pipeline.fit_transform(X)
    network = pipeline.named_steps["network"]
    assert network.image_shape_ == (32, 29, 3)
    assert features.shape == (12, network.latent_dim) and np.isfinite(features).all()
