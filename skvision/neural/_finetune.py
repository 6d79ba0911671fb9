"""Fine-tuning a pretrained backbone in the CNN estimators: new head, freeze policy, discriminative LRs.

The course's recipe, in skorch terms:

1. :class:`BackboneNet` puts a fresh head (one ``nn.Linear``, sized for the task) on
   a pretrained body, and resizes/normalises the estimators' [0, 1] images the way
   the body's weights expect (:class:`~skvision.neural.backbones.BackbonePreprocess`).
2. :class:`BackboneFreezer` (a skorch ``Freezer``) freezes the whole body at the first
   epoch, so the new head trains first on stable features.
3. :class:`BackboneUnfreezer` (a skorch ``Unfreezer``) unfreezes the part of the body
   that ``freeze`` allows after ``head_epochs`` epochs.
4. :func:`finetune_net_kwargs` adds those callbacks to a net's arguments, with an
   ``optimizer__param_groups`` entry (skorch's param groups) that trains the body at
   ``backbone_lr`` times the head's learning rate.

``CNNClassifier(module='resnet18')`` (any timm or ``'torchvision:'`` name) builds a
:class:`BackboneNet` through :func:`backbone_module`; ``module=BackboneNet`` with
``module__backbone=...`` works as well, for names and module instances.

The policy (``freeze``, ``head_epochs``, ``backbone_lr``) lives on the module, so it is
reachable as ``module__freeze`` & co. by ``set_params`` and ``GridSearchCV``.
Frozen batch-norm layers stay in eval mode while training: their running statistics
remain the pretrained ones.
"""

from __future__ import annotations

import inspect
from functools import partial
from numbers import Integral, Real

from skorch.callbacks import Freezer, Unfreezer
from torch import nn

from .backbones import BackbonePreprocess, _parse_name, classifier_name, resolve_backbone

__all__ = [
    "BackboneNet",
    "BackboneFreezer",
    "BackboneUnfreezer",
    "backbone_blocks",
    "backbone_module",
    "finetune_callbacks",
    "find_backbone_net",
    "finetune_net_kwargs",
    "strip_head",
]

FREEZE_OPTIONS = ("backbone", "none")


def strip_head(module: nn.Module):
    """Remove a backbone's classifier in place; return ``(body, n_features)``.

    timm models drop it with ``reset_classifier(0)`` (their forward then returns the
    pooled pre-logits); for other modules the classifier (the last ``nn.Linear``) is
    replaced by ``nn.Identity``, so the forward returns that layer's input.
    """
    if hasattr(module, "reset_classifier") and hasattr(module, "forward_head"):
        module.reset_classifier(0)
        n_features = getattr(module, "head_hidden_size", None) or module.num_features
        return module, int(n_features)
    name = classifier_name(module)
    if name is None:
        raise ValueError(
            f"Cannot find the classifier of {type(module).__name__} (no nn.Linear layer): give a timm or "
            "torchvision backbone, or a module whose last nn.Linear is its head."
        )
    head = module.get_submodule(name)
    parent_name, _, child_name = name.rpartition(".")
    parent = module.get_submodule(parent_name) if parent_name else module
    setattr(parent, child_name, nn.Identity())
    return module, int(head.in_features)


def backbone_blocks(body: nn.Module) -> list[list[str]]:
    """Parameter names of a headless backbone, grouped into blocks from input to output.

    timm models are grouped by their own ``group_matcher(coarse=True)`` (stem, stages,
    final layers). Other modules by their children that hold parameters, plain
    ``nn.Sequential`` / ``nn.ModuleList`` containers being opened recursively (so a
    torchvision ``features`` stack gives one block per stage or residual block).
    """
    if hasattr(body, "group_matcher"):
        from timm.models import group_parameters

        groups = group_parameters(body, body.group_matcher(coarse=True))
        return [list(names) for names in groups.values() if names]
    return _module_blocks(body, "")


def _module_blocks(container, prefix):
    blocks = [[prefix + name] for name, _ in container.named_parameters(recurse=False)]
    for name, child in container.named_children():
        if type(child) in (nn.Sequential, nn.ModuleList):
            blocks.extend(_module_blocks(child, f"{prefix}{name}."))
        else:
            names = [f"{prefix}{name}.{param}" for param, _ in child.named_parameters()]
            if names:
                blocks.append(names)
    return blocks


class BackboneNet(nn.Module):
    """A pretrained backbone with a new head, for fine-tuning in CNNClassifier / CNNRegressor.

    Parameters
    ----------
    in_channels : int, default=3
        Channels of the estimators' images (1, 3 or 4; see the channel rule of
        :class:`~skvision.neural.backbones.BackbonePreprocess`). Filled in by the estimators.
    n_outputs : int, default=10
        Classes or regression targets: the width of the new head.
    input_size : tuple of (int, int), default=(224, 224)
        Size of the estimators' images (any size works: they are resized).
    backbone : str or nn.Module, default='tf_efficientnet_lite0'
        See :func:`~skvision.neural.backbones.resolve_backbone`.
    weights : 'default', path or None, default='default'
        See :func:`~skvision.neural.backbones.resolve_backbone`.
    backbone_input_size : int, tuple of (int, int) or None, default=None
        Size images are resized to before the body; ``None`` keeps the pretrained
        configuration's. Smaller sizes train much faster on a CPU.
    freeze : 'backbone', 'none' or int, default='none'
        What of the body trains after the head warm-up: ``'backbone'`` nothing (only
        the head trains), ``'none'`` all of it, ``n`` its last ``n`` blocks
        (:func:`backbone_blocks`).
    head_epochs : int, default=1
        Epochs during which only the new head trains before the body is unfrozen.
    backbone_lr : float, default=0.1
        The body's learning rate as a fraction of the head's.
    drop_rate : float, default=0.0
        Dropout in front of the head.

    Attributes
    ----------
    embedding_dim : int
        Width of the body's pooled features (the head's input).
    blocks : list of list of str
        Parameter names of the body (prefixed ``body.``), block by block.
    backbone_weights : str
        Where the body's weights came from.

    Examples
    --------
    >>> import torch
    >>> net = BackboneNet(in_channels=1, n_outputs=3, backbone="resnet10t", weights=None,
    ...                   backbone_input_size=32)
    >>> tuple(net(torch.rand(2, 1, 8, 8)).shape), net.embedding_dim
    ((2, 3), 512)
    """

    def __init__(
        self,
        in_channels=3,
        n_outputs=10,
        input_size=(224, 224),
        backbone="tf_efficientnet_lite0",
        weights="default",
        backbone_input_size=None,
        freeze="none",
        head_epochs=1,
        backbone_lr=0.1,
        drop_rate=0.0,
    ):
        super().__init__()
        if in_channels not in (1, 3, 4):
            raise ValueError(
                f"in_channels={in_channels}: a pretrained backbone takes 1 (grey, repeated), 3 (RGB) or "
                "4 (RGBA, alpha dropped) channels."
            )
        if not (
            freeze in FREEZE_OPTIONS
            or (isinstance(freeze, Integral) and not isinstance(freeze, bool) and freeze >= 0)
        ):
            raise ValueError(
                f"freeze={freeze!r} is not supported; expected 'backbone', 'none' or a number of blocks >= 0."
            )
        if not (isinstance(head_epochs, Integral) and head_epochs >= 0):
            raise ValueError(f"head_epochs must be an int >= 0; got {head_epochs!r}.")
        if not (isinstance(backbone_lr, Real) and backbone_lr > 0):
            raise ValueError(
                f"backbone_lr must be a positive fraction of the learning rate; got {backbone_lr!r}."
            )
        if not 0.0 <= drop_rate < 1.0:
            raise ValueError(f"drop_rate must be in [0, 1); got {drop_rate}.")
        if isinstance(backbone_input_size, Integral):
            backbone_input_size = (int(backbone_input_size), int(backbone_input_size))
        resolved = resolve_backbone(backbone, weights)
        self.freeze = freeze
        self.head_epochs = int(head_epochs)
        self.backbone_lr = float(backbone_lr)
        self.backbone_weights = resolved.weights
        self.preprocess = BackbonePreprocess(resolved.config, backbone_input_size)
        self.body, self.embedding_dim = strip_head(resolved.module)
        self.head = nn.Sequential(nn.Dropout(drop_rate), nn.Linear(self.embedding_dim, n_outputs))
        self.blocks = [[f"body.{name}" for name in block] for block in backbone_blocks(self.body)]

    @staticmethod
    def min_input_size(**_):
        """Any image size works: images are resized to the backbone's input size."""
        return (1, 1)

    def tuned_parameter_names(self) -> list[str]:
        """Names of the body's parameters that ``freeze`` lets train after the warm-up."""
        if self.freeze == "backbone":
            return []
        blocks = (
            self.blocks
            if self.freeze == "none"
            else self.blocks[len(self.blocks) - min(self.freeze, len(self.blocks)) :]
        )
        return [name for block in blocks for name in block]

    def forward_embedding(self, x):
        """Pooled features of the body (width ``embedding_dim``)."""
        return self.body(self.preprocess(x))

    def forward(self, x):
        return self.head(self.forward_embedding(x))

    def train(self, mode=True):
        super().train(mode)
        if mode:
            # A frozen layer must not drift: keep the pretrained running statistics.
            for layer in self.body.modules():
                if isinstance(layer, nn.modules.batchnorm._BatchNorm):
                    params = list(layer.parameters(recurse=False))
                    if params and not any(p.requires_grad for p in params):
                        layer.eval()
        return self


def find_backbone_net(module):
    """``(prefix, BackboneNet)`` inside ``module`` (itself included), or ``(None, None)``."""
    for name, submodule in module.named_modules():
        if isinstance(submodule, BackboneNet):
            return (name + "." if name else ""), submodule
    return None, None


def _at_epoch(net, epoch):
    return len(net.history) == epoch


class BackboneFreezer(Freezer):
    """Freeze the whole body of the net's :class:`BackboneNet` at the first epoch (head first).

    A no-op for modules without a BackboneNet.
    """

    def __init__(self):
        super().__init__("*", at=1)

    def named_parameters(self, net):
        prefix, module = find_backbone_net(net.module_)
        if module is None:
            return iter(())
        return (
            (prefix + name, param) for name, param in module.named_parameters() if name.startswith("body.")
        )


class BackboneUnfreezer(Unfreezer):
    """Unfreeze what ``freeze`` allows once the ``head_epochs`` warm-up epochs are done.

    Runs after :class:`BackboneFreezer` (``head_epochs=0`` unfreezes it at once). A no-op
    for modules without a BackboneNet.
    """

    def __init__(self):
        super().__init__("*", at=1)

    def on_train_begin(self, net, **kwargs):
        _, module = find_backbone_net(net.module_)
        if module is not None:
            self.at = partial(_at_epoch, epoch=module.head_epochs + 1)

    def named_parameters(self, net):
        prefix, module = find_backbone_net(net.module_)
        if module is None:
            return iter(())
        tuned = set(module.tuned_parameter_names())
        return ((prefix + name, param) for name, param in module.named_parameters() if name in tuned)


def finetune_callbacks():
    """The skorch callbacks of the fine-tuning recipe, as ``(name, callback)`` pairs, in order."""
    return [("backbone_freezer", BackboneFreezer()), ("backbone_unfreezer", BackboneUnfreezer())]


def backbone_module(name: str, registry=()):
    """The module factory of ``module='<backbone name>'`` in the CNN estimators.

    Parameters
    ----------
    name : str
        A timm name or ``'torchvision:<name>'``.
    registry : iterable of str
        skvision's own architecture names, quoted when ``name`` is unknown.

    Returns
    -------
    functools.partial
        :class:`BackboneNet` with ``backbone=name``; the estimators add
        ``in_channels``, ``input_size`` and ``n_outputs``, and ``module__*`` the rest.

    Raises
    ------
    ValueError
        ``name`` is neither a registered architecture nor a known backbone; close
        backbone names are listed.
    """
    try:
        _parse_name(name)
    except ValueError as exc:
        raise ValueError(
            f"module={name!r} is not a known architecture; expected one of {sorted(registry)}, "
            "a timm backbone "
            f"name, 'torchvision:<name>', an nn.Module class or instance, or a callable returning one. {exc}"
        ) from None
    return partial(BackboneNet, backbone=name)


def _backbone_lr(module, module_params):
    if isinstance(module, BackboneNet):
        return module.backbone_lr
    factory = module.func if isinstance(module, partial) else module
    if not (isinstance(factory, type) and issubclass(factory, BackboneNet)):
        return None
    if "backbone_lr" in module_params:
        return module_params["backbone_lr"]
    if isinstance(module, partial) and "backbone_lr" in module.keywords:
        return module.keywords["backbone_lr"]
    return inspect.signature(BackboneNet).parameters["backbone_lr"].default


def finetune_net_kwargs(module, net_kwargs: dict) -> dict:
    """The skorch net arguments that turn a training of a :class:`BackboneNet` into fine-tuning.

    Adds :func:`finetune_callbacks` after the other callbacks and an
    ``optimizer__param_groups`` entry training the body at ``backbone_lr`` times the
    learning rate (after any param groups the user gave, which take precedence).
    Returns ``{}`` for any other module.

    Parameters
    ----------
    module : class, factory or nn.Module
        The ``module`` argument of the net.
    net_kwargs : dict
        The other arguments of the net (``lr``, ``callbacks``, ``module__*``, ``optimizer__*``).

    Returns
    -------
    dict
        Entries to update ``net_kwargs`` with.
    """
    module_params = {k[len("module__") :]: v for k, v in net_kwargs.items() if k.startswith("module__")}
    backbone_lr = _backbone_lr(module, module_params)
    if backbone_lr is None:
        return {}
    lr = net_kwargs.get("optimizer__lr", net_kwargs["lr"])
    groups = list(net_kwargs.get("optimizer__param_groups", [])) + [("body.*", {"lr": lr * backbone_lr})]
    return {
        "callbacks": list(net_kwargs.get("callbacks") or []) + finetune_callbacks(),
        "optimizer__param_groups": groups,
    }
