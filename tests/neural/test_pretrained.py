"""PretrainedFeatures: embeddings against plain timm/torchvision forward passes, input rules,
sklearn behaviour."""

import pickle

import numpy as np
import pytest
import timm
import torch
import torchvision
from sklearn.base import clone
from sklearn.exceptions import NotFittedError
from sklearn.utils.estimator_checks import parametrize_with_checks
from torch import nn
from torch.nn import functional as F

from skvision._testing import expected_failed_checks
from skvision.neural._pretrained import PretrainedFeatures, pool_features

RNG = np.random.default_rng(0)
IMAGES = RNG.integers(0, 256, size=(5, 20, 24, 3), dtype=np.uint8)
# On the CPU: the references below are plain CPU forward passes (on a GPU, convolutions run in TF32).
SMALL = dict(backbone="resnet10t", weights=None, input_size=32, device="cpu")


def _reference_input(images, size, mean, std, mode):
    x = torch.from_numpy(images).permute(0, 3, 1, 2).float() / 255.0
    x = F.interpolate(x, size=size, mode=mode, antialias=True, align_corners=False)
    return (x - torch.tensor(mean).view(1, 3, 1, 1)) / torch.tensor(std).view(1, 3, 1, 1)


@pytest.fixture(scope="module")
def fitted_small():
    return PretrainedFeatures(**SMALL).fit(IMAGES)


@parametrize_with_checks(
    [PretrainedFeatures(**SMALL)],
    expected_failed_checks=expected_failed_checks,
)
def test_sklearn_compatible(estimator, check):
    check(estimator)


# ------------------------------------------------------------------- references
def test_default_layer_is_timm_forward_features_average_pooled(fitted_small):
    module = fitted_small.module_
    cfg = fitted_small.config_
    with torch.inference_mode():
        expected = module.forward_features(
            _reference_input(IMAGES, (32, 32), cfg.mean, cfg.std, "bicubic")
        ).mean((2, 3))
    np.testing.assert_allclose(fitted_small.transform(IMAGES), expected.numpy(), rtol=1e-5, atol=1e-5)
    assert fitted_small.n_features_out_ == 512 == module.num_features


def test_default_layer_equals_timm_headless_model(fitted_small):
    # timm's own pre-logits path (num_classes=0) pools the same features with its average pooling.
    headless = timm.create_model("resnet10t", num_classes=0).eval()
    headless.load_state_dict(
        {k: v for k, v in fitted_small.module_.state_dict().items() if not k.startswith("fc.")}
    )
    cfg = fitted_small.config_
    with torch.inference_mode():
        expected = headless(_reference_input(IMAGES, (32, 32), cfg.mean, cfg.std, "bicubic"))
    np.testing.assert_allclose(fitted_small.transform(IMAGES), expected.numpy(), rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("pooling", ["max", "avgmax", None])
def test_pooling_options(pooling):
    pf = PretrainedFeatures(**SMALL, pooling=pooling).fit(IMAGES)
    cfg = pf.config_
    with torch.inference_mode():
        maps = pf.module_.forward_features(_reference_input(IMAGES, (32, 32), cfg.mean, cfg.std, "bicubic"))
    expected = {
        "max": maps.amax((2, 3)),
        "avgmax": 0.5 * (maps.mean((2, 3)) + maps.amax((2, 3))),
        None: maps.flatten(1),
    }[pooling]
    np.testing.assert_allclose(pf.transform(IMAGES), expected.numpy(), rtol=1e-5, atol=1e-5)


def test_pool_features_tokens_and_flat():
    tokens = torch.arange(12.0).reshape(1, 3, 4)
    assert pool_features(tokens, "avg").tolist() == [[4.0, 5.0, 6.0, 7.0]]
    flat = torch.ones(2, 5)
    assert pool_features(flat, "max") is flat
    with pytest.raises(ValueError, match="pooling=None"):
        pool_features(torch.ones(1, 1, 1, 1, 1), "avg")


def test_intermediate_layer_by_feature_info_index_and_by_name():
    by_index = PretrainedFeatures(**SMALL, layer=2).fit(IMAGES)
    by_name = PretrainedFeatures(**SMALL, layer="layer2").fit(IMAGES)
    assert by_index.layer_name_ == "layer2" and by_index.n_features_out_ == 128
    module = by_index.module_
    cfg = by_index.config_
    x = _reference_input(IMAGES, (32, 32), cfg.mean, cfg.std, "bicubic")
    with torch.inference_mode():
        x = module.act1(module.bn1(module.conv1(x)))
        expected = module.layer2(module.layer1(module.maxpool(x))).mean((2, 3))
    np.testing.assert_allclose(by_index.transform(IMAGES), expected.numpy(), rtol=1e-5, atol=1e-5)
    by_name.module_.load_state_dict(module.state_dict())
    np.testing.assert_allclose(by_name.transform(IMAGES), expected.numpy(), rtol=1e-5, atol=1e-5)


def test_bad_layers():
    with pytest.raises(ValueError, match="Close names: layer2"):
        PretrainedFeatures(**SMALL, layer="layer2x").fit(IMAGES)
    with pytest.raises(ValueError, match="out of range.*5 feature stages"):
        PretrainedFeatures(**SMALL, layer=7).fit(IMAGES)
    with pytest.raises(ValueError, match="layer must be a stage index, a layer name or None; got True"):
        PretrainedFeatures(**SMALL, layer=True).fit(IMAGES)  # read as stage 1


def test_torchvision_backbone_gives_the_input_of_its_classifier():
    pf = PretrainedFeatures("torchvision:mobilenet_v3_small", weights=None, input_size=32).fit(IMAGES)
    assert pf.layer_name_ == "classifier.3"
    reference = torchvision.models.get_model("mobilenet_v3_small")
    reference.load_state_dict(pf.module_.state_dict())
    reference.classifier[3] = nn.Identity()
    cfg = pf.config_
    with torch.inference_mode():
        expected = reference.eval()(_reference_input(IMAGES, (32, 32), cfg.mean, cfg.std, "bilinear"))
    np.testing.assert_allclose(pf.transform(IMAGES), expected.numpy(), rtol=1e-5, atol=1e-5)


def test_vision_transformer_tokens_are_averaged():
    pf = PretrainedFeatures("test_vit", weights=None, device="cpu").fit(IMAGES[:2])
    cfg = pf.config_
    with torch.inference_mode():
        tokens = pf.module_.forward_features(
            _reference_input(IMAGES[:2], cfg.input_size, cfg.mean, cfg.std, "bicubic")
        )
    np.testing.assert_allclose(pf.transform(IMAGES[:2]), tokens.mean(1).numpy(), rtol=1e-5, atol=1e-5)


def test_packaged_weights_full_model_classifies_chelsea_through_the_transformer():
    import skimage.data

    logits = PretrainedFeatures(layer="classifier").fit(skimage.data.chelsea()[None])
    assert logits.weights_.startswith("packaged:")
    assert int(logits.transform(skimage.data.chelsea()[None]).argmax()) == 285


# ----------------------------------------------------------------- input rules
def test_channel_rule(fitted_small):
    grey = IMAGES[..., 0]
    np.testing.assert_allclose(
        fitted_small.transform(grey),
        fitted_small.transform(np.repeat(grey[..., None], 3, -1)),
        rtol=1e-6,
        atol=1e-6,
    )
    np.testing.assert_allclose(fitted_small.transform(grey[..., None]), fitted_small.transform(grey), atol=0)
    rgba = np.concatenate([IMAGES, RNG.integers(0, 256, IMAGES.shape[:3] + (1,), dtype=np.uint8)], axis=-1)
    np.testing.assert_allclose(fitted_small.transform(rgba), fitted_small.transform(IMAGES), atol=0)
    with pytest.raises(ValueError, match="2 channels"):
        fitted_small.transform(IMAGES[..., :2])


def test_float_images_in_unit_range_match_uint8(fitted_small):
    np.testing.assert_allclose(
        fitted_small.transform(IMAGES / 255.0), fitted_small.transform(IMAGES), rtol=1e-5, atol=1e-5
    )


def test_any_image_size_is_resized(fitted_small):
    big = np.repeat(np.repeat(IMAGES, 2, axis=1), 2, axis=2)
    assert fitted_small.transform(big).shape == (5, 512)


def test_batches_do_not_change_the_result(fitted_small):
    one_by_one = clone(fitted_small).set_params(batch_size=1).fit(IMAGES)
    one_by_one.module_.load_state_dict(fitted_small.module_.state_dict())
    np.testing.assert_allclose(
        one_by_one.transform(IMAGES), fitted_small.transform(IMAGES), rtol=1e-5, atol=1e-5
    )


def test_bad_images_and_parameters():
    with pytest.raises(ValueError, match="NaN"):
        PretrainedFeatures(**SMALL).fit(np.full((1, 8, 8), np.nan))
    with pytest.raises(ValueError, match="input_size"):
        PretrainedFeatures(**{**SMALL, "input_size": (8, 8, 8)}).fit(IMAGES)
    with pytest.raises(ValueError, match="pooling"):
        PretrainedFeatures(**SMALL, pooling="median").fit(IMAGES)
    with pytest.raises(ValueError, match="Unknown backbone 'resnet17'"):
        PretrainedFeatures("resnet17").fit(IMAGES)


def test_float16_on_the_cpu_says_it_runs_as_bfloat16():
    # The features were bit for bit those of 'bf16' (up to 8.6 % off float32's) with nothing said.
    with pytest.warns(UserWarning, match="PretrainedFeatures: precision='16-mixed' .* bfloat16"):
        mixed = PretrainedFeatures(**SMALL, precision="16-mixed", random_state=0).fit(IMAGES)
    bf16 = PretrainedFeatures(**SMALL, precision="bf16", random_state=0).fit(IMAGES)
    mixed, bf16 = mixed.transform(IMAGES), bf16.transform(IMAGES)
    np.testing.assert_array_equal(mixed, bf16)


def test_input_size_too_small_for_the_backbone():
    tiny = nn.Sequential(nn.Conv2d(3, 4, 5), nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(4, 2))
    with pytest.raises(ValueError, match=r"cannot take images of input_size=\(3, 3\)"):
        PretrainedFeatures(tiny, input_size=3).fit(IMAGES)


def test_not_fitted():
    with pytest.raises(NotFittedError):
        PretrainedFeatures(**SMALL).transform(IMAGES)


# --------------------------------------------------------------------- sklearn
def test_feature_names_and_pandas_output(fitted_small):
    names = fitted_small.get_feature_names_out()
    assert (
        names.shape == (512,) and names[0] == "pretrainedfeatures0" and names[-1] == "pretrainedfeatures511"
    )


def test_pickle_round_trip(fitted_small):
    restored = pickle.loads(pickle.dumps(fitted_small))
    assert restored.device_ == fitted_small.device_
    np.testing.assert_array_equal(restored.transform(IMAGES), fitted_small.transform(IMAGES))


def test_fit_leaves_a_module_instance_untouched():
    module = timm.create_model("resnet10t")
    before = {k: v.clone() for k, v in module.state_dict().items()}
    pf = PretrainedFeatures(module, weights=None, input_size=32).fit(IMAGES)
    assert pf.module_ is not module
    for key, value in module.state_dict().items():
        assert torch.equal(value, before[key])
    assert pf.get_params()["backbone"] is module


def test_progress_bar(capsys):
    PretrainedFeatures(**SMALL, verbose=1, batch_size=2).fit(IMAGES).transform(IMAGES)
    assert "PretrainedFeatures" in capsys.readouterr().err


# ------------------------------------------------------------ accuracy targets
def _linear_probe_accuracy(features, y):
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import StratifiedKFold, cross_val_score
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    # The extractor learns nothing from the data, so embedding once outside the CV loop is leak-free.
    probe = make_pipeline(StandardScaler(), LogisticRegression(max_iter=2000))
    return cross_val_score(probe, features, y, cv=StratifiedKFold(5, shuffle=True, random_state=0)).mean()


@pytest.mark.slow
def test_linear_probe_on_faces():
    from skvision.datasets import load_faces

    X, y = load_faces(return_X_y=True)
    accuracy = _linear_probe_accuracy(PretrainedFeatures().fit_transform(X), y)
    print(f"faces linear probe, tf_efficientnet_lite0 packaged weights: {accuracy:.4f}")
    assert accuracy >= 0.97


@pytest.mark.slow
def test_linear_probe_on_textures_and_what_pretraining_brings():
    from skvision.datasets import load_textures

    X, y = load_textures(return_X_y=True)
    pretrained = _linear_probe_accuracy(PretrainedFeatures().fit_transform(X), y)
    torch.manual_seed(0)  # the random initialisation
    random = _linear_probe_accuracy(PretrainedFeatures(weights=None).fit_transform(X), y)
    print(f"textures linear probe: pretrained {pretrained:.4f}, random init {random:.4f}")
    assert pretrained >= 0.97
    assert pretrained - random >= 0.10
