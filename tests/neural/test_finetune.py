"""Fine-tuning: new head, blocks, freeze policy through skorch's Freezer/Unfreezer, discriminative LRs."""

import pickle

import numpy as np
import pytest
import timm
import torch
import torchvision
from skorch.callbacks import Callback
from torch import nn

from skvision.neural._cnn import CNNClassifier, CNNRegressor
from skvision.neural._finetune import (
    BackboneNet,
    backbone_blocks,
    backbone_module,
    finetune_net_kwargs,
    strip_head,
)

RNG = np.random.default_rng(0)
IMAGES = RNG.integers(0, 256, size=(24, 12, 12), dtype=np.uint8)
LABELS = np.arange(24) % 3
TINY = dict(
    module__weights=None,
    module__backbone_input_size=32,
    batch_size=8,
    augment="none",
    device="cpu",
    random_state=0,
)


# ----------------------------------------------------------------- anatomy
@pytest.mark.parametrize("name", ["resnet10t", "test_vit", "mobilenetv3_small_050"])
def test_strip_head_timm_matches_timm_headless_model(name):
    torch.manual_seed(0)
    model = timm.create_model(name).eval()
    reference = timm.create_model(name, num_classes=0).eval()
    reference.load_state_dict(
        {k: v for k, v in model.state_dict().items() if not k.startswith(model.pretrained_cfg["classifier"])}
    )
    body, n_features = strip_head(model)
    x = torch.rand(2, 3, *model.pretrained_cfg["input_size"][1:])
    with torch.no_grad():
        torch.testing.assert_close(body(x), reference(x))
    assert body(x).shape == (2, n_features)


def test_strip_head_torchvision_replaces_the_last_linear():
    model = torchvision.models.get_model("mobilenet_v3_small").eval()
    body, n_features = strip_head(model)
    assert isinstance(body.classifier[3], nn.Identity) and n_features == 1024
    with torch.no_grad():
        assert body(torch.rand(1, 3, 32, 32)).shape == (1, 1024)


def test_strip_head_without_linear():
    with pytest.raises(ValueError, match="Cannot find the classifier"):
        strip_head(nn.Sequential(nn.Conv2d(3, 3, 1)))


def test_blocks_follow_timm_group_matcher():
    from timm.models import group_parameters

    body, _ = strip_head(timm.create_model("resnet10t"))
    expected = [names for names in group_parameters(body, body.group_matcher(coarse=True)).values() if names]
    blocks = backbone_blocks(body)
    assert blocks == expected
    assert blocks[0][0].startswith("conv1") and blocks[-1][0].startswith("layer4")
    assert sorted(n for block in blocks for n in block) == sorted(n for n, _ in body.named_parameters())


def test_blocks_of_a_torchvision_model_descend_into_its_feature_stack():
    body, _ = strip_head(torchvision.models.get_model("mobilenet_v3_small"))
    blocks = backbone_blocks(body)
    # features.0 ... features.12 (stem, inverted residual blocks, last conv),
    # then the classifier's remaining Linear
    assert [block[0].split(".")[:2] for block in blocks[:-1]] == [["features", str(i)] for i in range(13)]
    assert blocks[-1] == ["classifier.0.weight", "classifier.0.bias"]
    assert sorted(n for block in blocks for n in block) == sorted(n for n, _ in body.named_parameters())


# ----------------------------------------------------------------- BackboneNet
def test_backbone_net_head_and_embedding():
    net = BackboneNet(
        in_channels=1, n_outputs=4, backbone="resnet10t", weights=None, backbone_input_size=32
    ).eval()
    x = torch.rand(3, 1, 12, 12)
    with torch.no_grad():
        embedding = net.forward_embedding(x)
        torch.testing.assert_close(net(x), net.head(embedding))
    assert embedding.shape == (3, net.embedding_dim) and net(x).shape == (3, 4)
    assert net.blocks[0][0].startswith("body.")


@pytest.mark.parametrize("freeze, n_blocks", [("none", 5), ("backbone", 0), (2, 2), (0, 0), (99, 5)])
def test_tuned_parameter_names(freeze, n_blocks):
    net = BackboneNet(backbone="resnet10t", weights=None, freeze=freeze)
    expected = (
        [name for block in net.blocks[len(net.blocks) - n_blocks :] for name in block] if n_blocks else []
    )
    assert net.tuned_parameter_names() == expected


@pytest.mark.parametrize(
    "kwargs, match",
    [
        (dict(freeze="all"), "freeze='all'"),
        (dict(freeze=-1), "freeze=-1"),
        (dict(head_epochs=-1), "head_epochs"),
        (dict(backbone_lr=0), "backbone_lr"),
        (dict(in_channels=2), "in_channels=2"),
        (dict(drop_rate=1.0), "drop_rate"),
    ],
)
def test_backbone_net_rejects_bad_policies(kwargs, match):
    with pytest.raises(ValueError, match=match):
        BackboneNet(backbone="resnet10t", weights=None, **kwargs)


def test_frozen_batch_norm_stays_in_eval_mode():
    net = BackboneNet(backbone="resnet10t", weights=None)
    for name, param in net.named_parameters():
        param.requires_grad = not name.startswith("body.conv1")
    net.train()
    assert not net.body.conv1[1].training  # frozen: running statistics kept
    assert net.body.layer1[0].bn1.training and net.head.training


# ------------------------------------------------------------ in the estimators
class _Snapshots(Callback):
    """Copies the module's parameters and buffers before training and at the end of every epoch."""

    def initialize(self):
        self.states = []
        return self

    def _snapshot(self, net):
        self.states.append({k: v.detach().clone() for k, v in net.module_.state_dict().items()})

    def on_train_begin(self, net, **kwargs):
        self._snapshot(net)

    def on_epoch_end(self, net, **kwargs):
        self._snapshot(net)


def _changed(before, after, prefix):
    keys = [k for k in before if k.startswith(prefix)]
    assert keys, prefix
    return any(not torch.equal(before[k], after[k]) for k in keys)


def test_head_first_then_the_last_blocks_with_a_lower_learning_rate():
    snapshots = _Snapshots()
    clf = CNNClassifier(
        "resnet10t",
        module__freeze=1,
        module__head_epochs=1,
        max_epochs=2,
        lr=1e-2,
        lr_schedule=None,
        callbacks=[("snapshots", snapshots)],
        **TINY,
    ).fit(IMAGES, LABELS)
    net = clf.net_
    names = [name for name, _ in net.callbacks_]
    assert names.index("backbone_freezer") < names.index("backbone_unfreezer")

    initial, epoch1, epoch2 = snapshots.states
    last_block = net.module_.blocks[-1][0].split(".")[:2]  # ['body', 'layer4']
    assert _changed(initial, epoch1, "head.")
    assert not _changed(initial, epoch1, "body.")  # weights and BN statistics: the head trained alone
    assert _changed(epoch1, epoch2, ".".join(last_block) + ".")
    assert not _changed(initial, epoch2, "body.layer1.")  # outside freeze=1: never trained

    groups = net.optimizer_.param_groups
    assert [group["lr"] for group in groups] == pytest.approx([1e-3, 1e-2])
    body_params = {id(p) for name, p in net.module_.named_parameters() if name.startswith("body.")}
    assert {id(p) for p in groups[0]["params"]} == body_params


def test_one_cycle_keeps_the_learning_rate_ratio():
    clf = CNNClassifier("resnet10t", module__backbone_lr=0.25, max_epochs=1, lr=4e-3, **TINY).fit(
        IMAGES, LABELS
    )
    body_group, head_group = clf.net_.optimizer_.param_groups
    assert body_group["max_lr"] == pytest.approx(1e-3) and head_group["max_lr"] == pytest.approx(4e-3)


def test_freeze_backbone_trains_only_the_head():
    snapshots = _Snapshots()
    clf = CNNClassifier(
        "resnet10t", module__freeze="backbone", max_epochs=2, callbacks=[("snapshots", snapshots)], **TINY
    ).fit(IMAGES, LABELS)
    assert not any(p.requires_grad for n, p in clf.net_.module_.named_parameters() if n.startswith("body."))
    assert not _changed(snapshots.states[0], snapshots.states[-1], "body.")
    assert _changed(snapshots.states[0], snapshots.states[-1], "head.")


def test_regressor_and_module_class_with_a_backbone_instance():
    backbone = timm.create_model("resnet10t")
    y = np.c_[np.linspace(0, 1, 24), np.linspace(1, 0, 24)].astype(np.float32)
    reg = CNNRegressor(BackboneNet, module__backbone=backbone, max_epochs=1, **TINY).fit(IMAGES, y)
    assert reg.predict(IMAGES).shape == (24, 2)
    assert reg.net_.module_.body is not backbone
    assert len(reg.net_.optimizer_.param_groups) == 2


def test_unknown_backbone_name_in_the_estimator():
    with pytest.raises(
        ValueError, match="module='resnet17' is not a known architecture.*Close names: resnet18"
    ):
        CNNClassifier("resnet17").fit(IMAGES, LABELS)


def test_module_registry_names_are_not_backbones():
    assert finetune_net_kwargs("convnet", {"lr": 1.0}) == {}
    assert backbone_module("resnet10t").keywords == {"backbone": "resnet10t"}


def test_user_param_groups_come_first():
    kwargs = finetune_net_kwargs(
        backbone_module("resnet10t"),
        {
            "lr": 1.0,
            "module__backbone_lr": 0.5,
            "optimizer__param_groups": [("head.*", {"lr": 2.0})],
            "callbacks": [],
        },
    )
    assert kwargs["optimizer__param_groups"] == [("head.*", {"lr": 2.0}), ("body.*", {"lr": 0.5})]
    assert [name for name, _ in kwargs["callbacks"]] == ["backbone_freezer", "backbone_unfreezer"]


def test_fine_tuned_classifier_pickles_and_predicts_the_same():
    clf = CNNClassifier("resnet10t", max_epochs=1, **TINY).fit(IMAGES, LABELS)
    restored = pickle.loads(pickle.dumps(clf))
    np.testing.assert_allclose(
        restored.predict_proba(IMAGES), clf.predict_proba(IMAGES), rtol=1e-5, atol=1e-6
    )


def test_policy_is_reachable_by_set_params():
    clf = CNNClassifier("resnet10t", module__freeze=2)
    clf.set_params(module__freeze="backbone", module__head_epochs=0)
    assert clf.get_params()["module__freeze"] == "backbone" and clf.get_params()["module__head_epochs"] == 0


# ------------------------------------------------------------ accuracy target
@pytest.mark.slow
def test_fine_tuning_beats_the_frozen_linear_probe_on_digits():
    """8x8 handwritten digits are far from ImageNet photographs: frozen features underfit them."""
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import train_test_split
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    from skvision.datasets import load_digits
    from skvision.neural._pretrained import PretrainedFeatures

    X, y = load_digits(return_X_y=True)
    X_train, X_test, y_train, y_test = train_test_split(
        X, y, train_size=500, test_size=500, random_state=0, stratify=y
    )
    # Same backbone, same weights, same 64x64 input for both.
    features = PretrainedFeatures(input_size=64).fit(X_train)
    probe = make_pipeline(StandardScaler(), LogisticRegression(max_iter=3000))
    probe_accuracy = probe.fit(features.transform(X_train), y_train).score(features.transform(X_test), y_test)

    fine_tuned = CNNClassifier(
        "tf_efficientnet_lite0",
        module__backbone_input_size=64,
        module__head_epochs=1,
        module__backbone_lr=0.3,
        max_epochs=10,
        lr=3e-3,
        batch_size=16,
        augment="none",
        random_state=0,
        device="cpu",
    ).fit(X_train, y_train)
    fine_tuned_accuracy = fine_tuned.score(X_test, y_test)
    print(
        f"digits, tf_efficientnet_lite0 at 64x64: linear probe {probe_accuracy:.3f}, "
        f"fine-tuned {fine_tuned_accuracy:.3f}"
    )
    assert fine_tuned_accuracy >= probe_accuracy + 0.03
