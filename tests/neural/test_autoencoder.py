"""AutoencoderFeatures: codes, reconstructions, losses against hand-written references,
sklearn manners, bad input."""

from __future__ import annotations

import pickle

import numpy as np
import pytest
import torch
from sklearn.base import clone
from sklearn.decomposition import PCA
from sklearn.exceptions import NotFittedError
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import GridSearchCV, KFold, cross_val_score, train_test_split
from sklearn.neighbors import KNeighborsClassifier, NearestNeighbors
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.utils.estimator_checks import parametrize_with_checks

from skvision import AutoencoderFeatures
from skvision._testing import expected_failed_checks
from skvision.datasets import load_digits
from skvision.neural.modules.autoencoders import ConvAutoencoder, ConvVAE

# Tiny settings: every fit in the fast tests takes well under a second.
TINY = dict(latent_dim=4, filters=(8,), max_epochs=2, batch_size=32, device="cpu", random_state=0)

EXTRA_FAILED_CHECKS = {
    "check_do_not_raise_errors_in_init_or_set_params": (
        "the **kwargs holding skorch's routed parameters (module__*, optimizer__*) is read as a parameter "
        "named 'kwargs'"
    ),
}


@pytest.fixture(scope="module")
def digits():
    X, y = load_digits(return_X_y=True)
    return X, y


@pytest.fixture(scope="module")
def fitted(digits):
    X, _ = digits
    return AutoencoderFeatures(**TINY).fit(X[:200])


def _as_unit(images):
    return images.astype(np.float32) / 255.0


# ----------------------------------------------------------------------------- sklearn's checks
@parametrize_with_checks(
    [AutoencoderFeatures(**TINY)],
    expected_failed_checks=lambda est: expected_failed_checks(est, extra=EXTRA_FAILED_CHECKS),
)
def test_sklearn_compatible(estimator, check):
    check(estimator)


# ----------------------------------------------------------------------------- shapes and values
def test_transform_inverse_transform_shapes_and_names(digits, fitted):
    X, _ = digits
    Z = fitted.transform(X[200:230])
    assert Z.shape == (30, 4) and Z.dtype == np.float32
    images = fitted.inverse_transform(Z)
    assert images.shape == (30, 8, 8) and images.dtype == np.float32
    # uint8 digits -> the network's [0, 1] scale, with a sigmoid decoder.
    assert fitted.output_activation_ == "sigmoid"
    assert images.min() >= 0 and images.max() <= 1
    assert fitted.get_feature_names_out().tolist() == [f"autoencoderfeatures{i}" for i in range(4)]
    assert fitted.latent_dim_ == 4 and fitted.image_shape_ == (8, 8) and fitted.n_channels_ == 1


@pytest.mark.parametrize("shape", [(9, 13, 3), (11, 6, 4), (5, 7)])
def test_colour_and_odd_sizes_round_trip_in_the_input_shape(shape):
    rng = np.random.default_rng(0)
    X = rng.random((12, *shape)).astype(np.float32)
    ae = AutoencoderFeatures(**{**TINY, "max_epochs": 1}).fit(X)
    assert ae.transform(X).shape == (12, 4)
    assert ae.inverse_transform(ae.transform(X)).shape == X.shape
    assert ae.reconstruct(X).shape == X.shape


def test_float_images_outside_unit_range_get_a_linear_decoder():
    X = np.random.default_rng(1).normal(5.0, 3.0, size=(16, 8, 8))
    ae = AutoencoderFeatures(**TINY).fit(X)
    assert ae.output_activation_ == "identity"
    assert isinstance(ae.net_.module_.decoder.layers[-1], torch.nn.Identity)


def test_reconstruct_score_and_inverse_transform_agree_with_numpy(digits, fitted):
    X, _ = digits
    held_out = X[300:360]
    reconstruction = fitted.reconstruct(held_out)
    np.testing.assert_allclose(
        reconstruction, fitted.inverse_transform(fitted.transform(held_out)), atol=1e-6
    )
    expected_mse = np.mean((reconstruction - _as_unit(held_out)) ** 2)
    assert fitted.score(held_out) == pytest.approx(-expected_mse, rel=1e-5)


def test_bce_score_is_minus_the_mean_binary_cross_entropy(digits):
    X, _ = digits
    ae = AutoencoderFeatures(**TINY, loss="bce").fit(X[:100])
    target = _as_unit(X[100:140]).astype(np.float64)
    p = np.clip(ae.reconstruct(X[100:140]).astype(np.float64), 1e-12, 1 - 1e-12)
    expected = -np.mean(target * np.log(p) + (1 - target) * np.log(1 - p))
    assert ae.score(X[100:140]) == pytest.approx(-expected, rel=1e-4)


def test_transform_matches_the_encoder_applied_by_hand(digits, fitted):
    X, _ = digits
    module = fitted.net_.module_.eval()
    with torch.no_grad():
        by_hand = module.encode(torch.from_numpy(_as_unit(X[:20]))[:, None]).numpy()
    np.testing.assert_allclose(fitted.transform(X[:20]), by_hand, rtol=1e-5, atol=1e-6)


# ----------------------------------------------------------------------------- losses
def _batch(n=16, seed=0):
    return torch.from_numpy(_as_unit(load_digits(return_X_y=True)[0][seed : seed + n]))[:, None]


def test_training_loss_is_the_course_sum_of_squares(fitted):
    net = fitted.net_
    x = _batch()
    net.module_.eval()
    with torch.no_grad():
        reconstruction = net.infer(x)
        loss = net.get_loss(reconstruction, None, X=x, training=True)
    expected = sum(float(((xi - ri) ** 2).sum()) for xi, ri in zip(x, reconstruction)) / len(x)
    assert float(loss) == pytest.approx(expected, rel=1e-5)


def test_vae_loss_adds_beta_times_the_kl_divergence_from_the_prior(digits):
    X, _ = digits
    ae = AutoencoderFeatures(**TINY, kind="vae", beta=0.5).fit(X[:100])
    net, x = ae.net_, _batch()
    assert net.history[-1, "train_kl"] > 0
    net.module_.train()
    with torch.no_grad():
        torch.manual_seed(3)
        reconstruction, mu, logvar = net.module_(x)
        posterior = torch.distributions.Normal(mu, torch.exp(0.5 * logvar))
        prior = torch.distributions.Normal(torch.zeros_like(mu), torch.ones_like(mu))
        kl = torch.distributions.kl_divergence(posterior, prior).sum(1).mean()
        expected = ((reconstruction - x) ** 2).sum() / len(x) + 0.5 * kl
        torch.manual_seed(3)
        loss = net.get_loss(net.infer(x), None, X=x, training=True)
        # Validation (and early stopping) sees the reconstruction loss alone.
        net.module_.eval()
        mean_reconstruction = net.infer(x)
        valid_loss = net.get_loss(mean_reconstruction, None, X=x, training=False)
    assert float(loss) == pytest.approx(float(expected), rel=1e-5)
    assert float(valid_loss) == pytest.approx(
        float(((mean_reconstruction - x) ** 2).sum() / len(x)), rel=1e-5
    )


def test_denoising_corrupts_the_input_only_in_training(digits):
    X, _ = digits
    ae = AutoencoderFeatures(**TINY, kind="denoising", noise=0.3).fit(X[:100])
    net, x = ae.net_, _batch()
    with torch.no_grad():
        net.module_.eval()
        clean = net.module_(x)
        np.testing.assert_allclose(net.infer(x).numpy(), clean.numpy(), atol=1e-6)
        net.module_.train()
        torch.manual_seed(5)
        noisy = net.infer(x)
        torch.manual_seed(5)
        by_hand = net.module_(x + 0.3 * torch.randn_like(x))
    np.testing.assert_allclose(noisy.numpy(), by_hand.numpy(), atol=1e-6)
    assert not np.array_equal(noisy.numpy(), clean.numpy())


def test_training_reduces_the_reconstruction_error(digits):
    X, _ = digits
    short = AutoencoderFeatures(**{**TINY, "max_epochs": 1}).fit(X[:400])
    longer = AutoencoderFeatures(**{**TINY, "max_epochs": 15}).fit(X[:400])
    assert longer.score(X[1500:]) > short.score(X[1500:])
    losses = longer.net_.history[:, "train_loss"]
    assert losses[-1] < losses[0]


# ----------------------------------------------------------------------------- VAE codes
def test_vae_transform_returns_the_posterior_mean_or_reproducible_samples(digits):
    X, _ = digits
    ae = AutoencoderFeatures(**TINY, kind="vae").fit(X[:100])
    module = ae.net_.module_.eval()
    with torch.no_grad():
        mu, _ = module.encode(torch.from_numpy(_as_unit(X[:10]))[:, None])
    np.testing.assert_allclose(ae.transform(X[:10]), mu.numpy(), rtol=1e-5, atol=1e-6)
    sampler = clone(ae).set_params(code="sample").fit(X[:100])
    draws = sampler.transform(X[:10])
    assert not np.allclose(draws, sampler.set_params(code="mean").transform(X[:10]))
    np.testing.assert_array_equal(draws, sampler.set_params(code="sample").transform(X[:10]))
    # Decoding draws from the prior N(0, I) generates images.
    generated = ae.inverse_transform(np.random.default_rng(0).standard_normal((5, 4)))
    assert generated.shape == (5, 8, 8) and np.isfinite(generated).all()


def test_vae_code_draws_depend_only_on_the_image(digits):
    # Each image's noise comes from the seed and its pixels: not from its place in the call,
    # the other images or the batch size (so dask chunks give the same codes).
    X, _ = digits
    sampler = AutoencoderFeatures(**TINY, kind="vae", code="sample").fit(X[:100])
    draws = sampler.transform(X[:300])
    np.testing.assert_array_equal(draws[120:], sampler.transform(X[120:300]))
    np.testing.assert_array_equal(draws[::-1], sampler.transform(X[:300][::-1]))
    rebatched = sampler.set_params(batch_size=7).transform(X[:300])
    np.testing.assert_allclose(draws, rebatched, rtol=1e-5, atol=1e-6)
    # The draws are N(mu, sigma^2): standardised, they have mean 0 and variance 1.
    module = sampler.net_.module_.eval()
    with torch.no_grad():
        mu, logvar = module.encode(torch.from_numpy(_as_unit(X[:300]))[:, None])
    z = (draws - mu.numpy()) / np.exp(0.5 * logvar.numpy())
    assert abs(z.mean()) < 0.1 and abs(z.std() - 1) < 0.1
    # Without a seed every call draws afresh.
    unseeded = clone(sampler).set_params(random_state=None).fit(X[:100])
    assert not np.array_equal(unseeded.transform(X[:5]), unseeded.transform(X[:5]))


# ----------------------------------------------------------------------------- training tools
def test_same_random_state_gives_the_same_codes(digits):
    X, _ = digits
    a = AutoencoderFeatures(**TINY, kind="denoising", augment="light").fit(X[:120]).transform(X[:10])
    b = AutoencoderFeatures(**TINY, kind="denoising", augment="light").fit(X[:120]).transform(X[:10])
    np.testing.assert_array_equal(a, b)


def test_early_stopping_watches_the_validation_reconstruction(digits):
    X, _ = digits
    # A learning rate too small to move: the validation loss never improves after epoch 1.
    ae = AutoencoderFeatures(**{**TINY, "max_epochs": 50}, lr=1e-12, n_iter_no_change=3).fit(X[:100])
    assert ae.n_epochs_ == 4
    assert "valid_loss" in ae.net_.history[-1]


def test_bf16_precision_runs_on_the_cpu(digits):
    X, _ = digits
    Z = AutoencoderFeatures(**TINY, precision="bf16").fit(X[:64]).transform(X[:8])
    assert Z.dtype == np.float32 and np.isfinite(Z).all()


def test_y_is_ignored(digits):
    X, y = digits
    a = AutoencoderFeatures(**TINY).fit(X[:80], y[:80]).transform(X[:5])
    b = AutoencoderFeatures(**TINY).fit(X[:80]).transform(X[:5])
    np.testing.assert_array_equal(a, b)


def test_custom_module_instance_is_used_and_left_untouched(digits):
    X, _ = digits
    module = ConvAutoencoder(in_channels=1, input_size=(8, 8), latent_dim=3, filters=(4,))
    before = {k: v.clone() for k, v in module.state_dict().items()}
    ae = AutoencoderFeatures(**TINY, module=module).fit(X[:64])
    assert ae.latent_dim_ == 3 and ae.transform(X[:4]).shape == (4, 3)
    for key, value in module.state_dict().items():
        torch.testing.assert_close(value, before[key])


class _FeatureMapAutoencoder(torch.nn.Module):
    """A custom module whose code is a feature map (4 channels of 4x4), not a vector."""

    def __init__(self, in_channels=1):
        super().__init__()
        self.encoder = torch.nn.Conv2d(in_channels, 4, 3, stride=2, padding=1)
        self.decoder = torch.nn.ConvTranspose2d(4, in_channels, 4, stride=2, padding=1)

    def encode(self, x):
        return torch.relu(self.encoder(x))

    def decode(self, z):
        return torch.sigmoid(self.decoder(z))

    def forward(self, x):
        return self.decode(self.encode(x))


def test_a_module_whose_code_is_a_feature_map_decodes_its_flat_codes(digits):
    # transform flattens the codes; decode got them flat too and failed (reconstruct, score,
    # inverse_transform all raised).
    X, _ = digits
    ae = AutoencoderFeatures(**{**TINY, "module": _FeatureMapAutoencoder}).fit(X[:100])
    assert ae.code_shape_ == (4, 4, 4) and ae.latent_dim_ == 64
    codes = ae.transform(X[:10])
    assert codes.shape == (10, 64)
    module = ae.net_.module_.eval()
    with torch.no_grad():
        expected = module(torch.from_numpy(_as_unit(X[:10]))[:, None])[:, 0].numpy()
    np.testing.assert_allclose(ae.inverse_transform(codes), expected, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(ae.reconstruct(X[:10]), expected, rtol=1e-5, atol=1e-6)
    assert np.isfinite(ae.score(X[:10]))


def test_custom_module_class_gets_the_image_size_and_its_routed_parameters(digits):
    X, _ = digits
    ae = AutoencoderFeatures(
        **TINY, kind="vae", module=ConvVAE, module__latent_dim=5, module__filters=(4, 4)
    ).fit(X[:64])
    assert ae.latent_dim_ == 5 and ae.transform(X[:4]).shape == (4, 5)
    assert ae.net_.module_.encoder.layers[0].in_channels == 1


# ----------------------------------------------------------------------------- sklearn composition
@pytest.mark.parametrize("head", [LogisticRegression(max_iter=500), KNeighborsClassifier(3)])
def test_pipeline_with_a_classifier(digits, head):
    X, y = digits
    pipe = make_pipeline(
        AutoencoderFeatures(**{**TINY, "latent_dim": 8, "max_epochs": 5}), StandardScaler(), head
    )
    pipe.fit(X[:500], y[:500])
    # Chance is 0.1; five epochs of a tiny autoencoder already carry label information
    # (the accuracy targets are the PCA comparisons below).
    assert pipe.score(X[1500:], y[1500:]) > 0.3
    ae, scaler, fitted_head = pipe.named_steps.values()
    by_hand = fitted_head.predict(scaler.transform(ae.transform(X[1500:])))
    np.testing.assert_array_equal(pipe.predict(X[1500:]), by_hand)


def test_grid_search_over_latent_dim(digits):
    X, y = digits
    pipe = make_pipeline(AutoencoderFeatures(**TINY), LogisticRegression(max_iter=300))
    search = GridSearchCV(pipe, {"autoencoderfeatures__latent_dim": [2, 6]}, cv=2).fit(X[:160], y[:160])
    assert search.best_params_["autoencoderfeatures__latent_dim"] in (2, 6)
    assert (
        search.best_estimator_[0].transform(X[:3]).shape[1]
        == search.best_params_["autoencoderfeatures__latent_dim"]
    )


def test_clone_and_get_params_reach_routed_parameters():
    ae = AutoencoderFeatures(latent_dim=7, optimizer__weight_decay=1e-4)
    copy = clone(ae)
    assert copy.get_params()["latent_dim"] == 7
    assert copy.get_params()["optimizer__weight_decay"] == 1e-4
    assert not hasattr(copy, "net_")


def test_pickle_round_trip_gives_the_same_codes_and_images(digits, fitted):
    X, _ = digits
    restored = pickle.loads(pickle.dumps(fitted))
    np.testing.assert_array_equal(restored.transform(X[:10]), fitted.transform(X[:10]))
    np.testing.assert_array_equal(restored.reconstruct(X[:10]), fitted.reconstruct(X[:10]))


# ----------------------------------------------------------------------------- bad input
def test_unfitted_estimator_raises_not_fitted_error(digits):
    X, _ = digits
    ae = AutoencoderFeatures()
    for method in (ae.transform, ae.score, ae.reconstruct):
        with pytest.raises(NotFittedError):
            method(X[:2])
    with pytest.raises(NotFittedError):
        ae.inverse_transform(np.zeros((2, 16)))


def test_inverse_transform_with_the_wrong_width_says_the_width_expected(fitted):
    with pytest.raises(ValueError, match=r"expects an array of shape \(n_samples, 4\)"):
        fitted.inverse_transform(np.zeros((2, 5)))


def test_too_small_images_say_the_minimum_size():
    with pytest.raises(ValueError, match=r"at least 8x8"):
        AutoencoderFeatures(**{**TINY, "filters": (4, 8, 16)}).fit(np.zeros((4, 7, 9), dtype=np.uint8))
    with pytest.raises(ValueError, match=r"at least 4x4"):
        AutoencoderFeatures(device="cpu").fit(np.zeros((4, 3, 3), dtype=np.uint8))


@pytest.mark.parametrize(
    "X, message",
    [
        (np.zeros((8, 8)), "batch of images"),
        (np.full((3, 8, 8), np.nan), "NaN"),
        (np.zeros((0, 8, 8)), "empty batch"),
        (np.zeros((3, 8, 8, 2)), "channels"),
        ([np.zeros((8, 8)), np.zeros((9, 8))], "same size"),
        (np.zeros((3, 8, 8), dtype=object), "dtype"),
    ],
)
def test_bad_images_are_rejected_before_training(X, message):
    with pytest.raises((ValueError, TypeError), match=message):
        AutoencoderFeatures(**TINY).fit(X)


def test_transform_needs_images_of_the_fitted_size(fitted):
    with pytest.raises(ValueError, match=r"fitted on images of shape \(8, 8\)"):
        fitted.transform(np.zeros((2, 9, 9)))


@pytest.mark.parametrize(
    "params, message",
    [
        ({"kind": "gan"}, "kind"),
        ({"loss": "l1"}, "loss"),
        ({"code": "median"}, "code"),
        ({"latent_dim": 0}, "latent_dim"),
        ({"noise": -0.1}, "noise"),
        ({"filters": (8, 0)}, "filters"),
        ({"augment": "heavy"}, "augment"),
        ({"precision": "8"}, "precision"),
        ({"modul__filters": 3}, "unexpected parameter"),
        # A CNN's module__filters is one int; here it names the stages (was "'int' object is not iterable").
        (
            {"module__filters": 8},
            r"filters must be a non-empty sequence of positive ints.*\(16, 32\)\); got 8",
        ),
    ],
)
def test_bad_parameters_are_rejected_in_fit(digits, params, message):
    X, _ = digits
    with pytest.raises(ValueError, match=message):
        AutoencoderFeatures(**{**TINY, **params}).fit(X[:10])


def test_bce_needs_images_in_the_unit_range():
    with pytest.raises(ValueError, match=r"loss='bce' needs images in \[0, 1\]"):
        AutoencoderFeatures(**TINY, loss="bce").fit(np.full((4, 8, 8), 2.0))


def test_vae_kind_needs_a_module_giving_the_posterior(digits):
    X, _ = digits
    module = ConvAutoencoder(in_channels=1, input_size=(8, 8), latent_dim=3, filters=(4,))
    with pytest.raises(ValueError, match=r"\(mu, logvar\)"):
        AutoencoderFeatures(**TINY, kind="vae", module=module).fit(X[:16])


def test_modules_reject_too_small_images_with_the_minimum():
    with pytest.raises(ValueError, match=r"at least 8x8"):
        ConvVAE(input_size=(7, 20), filters=(4, 4, 4))


# ----------------------------------------------------------------------------- targets against PCA
def _pca_and_autoencoder_measures(autoencoder, latent_dim):
    """Held-out MSE, 5-fold LogisticRegression accuracy and top-5 retrieval agreement,
    for PCA and the autoencoder.

    Both are fitted (without labels) on the same 75 % training split of digits
    (pixels scaled to [0, 1]); the codes of every digit feed a standardised
    LogisticRegression under shuffled 5-fold CV; held-out codes query the
    training codes with NearestNeighbors for the top-5 label agreement.
    """
    X, y = load_digits(return_X_y=True)
    X_train, X_test, y_train, y_test = train_test_split(X, y, test_size=0.25, random_state=0)
    flat = lambda images: _as_unit(images).reshape(len(images), -1)  # noqa: E731

    pca = PCA(latent_dim, random_state=0).fit(flat(X_train))
    autoencoder.fit(X_train)
    encoders = {
        "pca": lambda images: pca.transform(flat(images)),
        "autoencoder": autoencoder.transform,
    }
    reconstructions = {
        "pca": pca.inverse_transform(pca.transform(flat(X_test))),
        "autoencoder": autoencoder.reconstruct(X_test).reshape(len(X_test), -1),
    }
    measures = {}
    for name, encode in encoders.items():
        mse = float(np.mean((reconstructions[name] - flat(X_test)) ** 2))
        classifier = make_pipeline(StandardScaler(), LogisticRegression(max_iter=2000))
        accuracy = cross_val_score(classifier, encode(X), y, cv=KFold(5, shuffle=True, random_state=0)).mean()
        neighbours = NearestNeighbors(n_neighbors=5).fit(encode(X_train))
        index = neighbours.kneighbors(encode(X_test), return_distance=False)
        top5 = float(np.mean(y_train[index] == y_test[:, None]))
        measures[name] = {"mse": mse, "logreg": float(accuracy), "top5": top5}
    return measures


def _assert_at_least_as_good_as_pca(measures):
    pca, ae = measures["pca"], measures["autoencoder"]
    assert ae["mse"] < pca["mse"], measures
    assert ae["logreg"] >= pca["logreg"], measures
    assert ae["top5"] >= pca["top5"], measures


@pytest.mark.slow
def test_digits_code_beats_pca_of_the_same_width():
    # The defaults (denoising with noise 0.3, batch norm, a cosine learning rate, max_epochs='auto':
    # 60 epochs here); their fit time
    # (<= 30 s on 2 cores) is measured in benchmarks/bench_training.py.
    autoencoder = AutoencoderFeatures(device="cpu", random_state=0)
    measures = _pca_and_autoencoder_measures(autoencoder, latent_dim=16)
    print(measures, f"{autoencoder.n_epochs_} epochs")
    assert autoencoder.kind == "denoising" and autoencoder.max_epochs_ == 60
    _assert_at_least_as_good_as_pca(measures)


def test_auto_epochs_count_larger_images_more():
    # 3,000 28x28 images trained 34 epochs (129 s) under the digits' budget, codes no better than 10's.
    from skvision.neural._estimator import auto_max_epochs

    ae = AutoencoderFeatures()
    ae.image_shape_ = (8, 8)
    assert ae._auto_epoch_budget() == (90_000, 5, 60)  # the digits: as before
    ae.image_shape_ = (28, 28, 3)
    images, low, high = ae._auto_epoch_budget()
    assert images == int(90_000 * 8 / 28) and (low, high) == (5, 60)
    assert auto_max_epochs(2_700, images, low, high) == 10
    ae.image_shape_ = (224, 224)
    assert auto_max_epochs(2_700, *ae._auto_epoch_budget()) == 5


def test_digits_code_beats_pca_fast():
    # Half the width and a third of the epochs of the slow target: a few seconds of CPU.
    autoencoder = AutoencoderFeatures(latent_dim=8, max_epochs=12, device="cpu", random_state=0)
    measures = _pca_and_autoencoder_measures(autoencoder, latent_dim=8)
    _assert_at_least_as_good_as_pca(measures)


def test_example_saves_the_sample_grid(tmp_path):
    import importlib.util
    from pathlib import Path

    path = Path(__file__).parents[2] / "examples" / "autoencoder_samples.py"
    spec = importlib.util.spec_from_file_location("autoencoder_samples", path)
    example = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(example)
    output = tmp_path / "grid.png"
    example.main(["--output", str(output), "--epochs", "1"])
    assert output.stat().st_size > 10_000
