"""What the neural estimators read from a module and from the images before building a net.

Plain functions, before any skorch net exists: resolving ``module=`` (a registry name, a class or
factory, an instance, or a backbone name to fine-tune), the data-derived
arguments a module factory accepts (``in_channels``, ``input_size``,
``n_outputs``), the minimum image size it declares, the penultimate-layer
function used for embeddings, and the validation of a batch of images.

The lowest layer of the neural core: :mod:`._net` (embeddings) and
:mod:`._estimator` (fit plumbing) import it; it imports neither.
"""

from __future__ import annotations

import inspect

import torch

from .._images import check_images
from ._finetune import backbone_module
from .modules import MODULES

__all__ = [
    "validate_images_for_net",
    "resolve_module",
    "module_data_params",
    "module_min_input_size",
    "embedding_function",
]


def validate_images_for_net(X, *, min_size=None, min_size_reason=None, name="X", return_scale=False):
    """Validate a batch of images for a neural estimator (:func:`skvision._images.check_images`).

    Channels-last ``(N, H, W)`` or ``(N, H, W, C)`` batches with 1, 3 or 4
    channels; channels-first input is rejected with a hint rather than read as
    a wrong image size. ``return_scale=True`` also returns the batch's
    :class:`~skvision._images.ImageScale`.

    Examples
    --------
    >>> import numpy as np
    >>> validate_images_for_net(np.zeros((2, 8, 8, 3), dtype=np.uint8)).shape
    (2, 8, 8, 3)
    """
    return check_images(
        X, name=name, min_size=min_size, min_size_reason=min_size_reason, return_scale=return_scale
    )


def resolve_module(module, registry=None):
    """Resolve ``module=`` to a module class/factory or an ``nn.Module`` instance.

    Parameters
    ----------
    module : str, nn.Module class, callable or nn.Module
        A name of ``registry``, a class or any callable returning an
        ``nn.Module``, or an instance (used as is, skorch semantics).
    registry : dict or None
        Name -> class/factory; defaults to :data:`skvision.neural.modules.MODULES`.

    Examples
    --------
    >>> resolve_module("lenet5").__name__
    'LeNet5'
    >>> resolve_module("resnet9000")
    Traceback (most recent call last):
    ...
    ValueError: module='resnet9000' is not a known architecture; expected one of ['convnet', 'lenet5'], ...
    """
    registry = MODULES if registry is None else registry
    if isinstance(module, str):
        if module in registry:
            return registry[module]
        # Any other name is a pretrained backbone to fine-tune (timm, 'torchvision:'),
        # or an error listing close names.
        return backbone_module(module, registry)
    if isinstance(module, torch.nn.Module) or callable(module):
        return module
    raise TypeError(
        f"module must be a name in {sorted(registry)}, an nn.Module class or instance, or a callable "
        f"returning one; got {type(module).__name__}."
    )


def _accepted_arguments(factory):
    """Names ``factory`` accepts as keyword arguments; None when it takes ``**kwargs``."""
    try:
        parameters = inspect.signature(factory).parameters.values()
    except (TypeError, ValueError):
        return set()
    if any(p.kind is inspect.Parameter.VAR_KEYWORD for p in parameters):
        return None
    return {p.name for p in parameters if p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY)}


def module_data_params(factory, *, user_params, **data_params):
    """The data-derived ``module__*`` arguments to inject into ``factory``.

    Each of ``data_params`` (``in_channels``, ``input_size``, ``n_outputs``, ...)
    is passed when the factory accepts it by name and the user did not set it.
    Instances get nothing (they are already built).

    Examples
    --------
    >>> from skvision.neural.modules import ConvNet
    >>> module_data_params(ConvNet, user_params={"n_outputs": 3}, in_channels=1, n_outputs=10, colour=True)
    {'in_channels': 1}
    """
    if isinstance(factory, torch.nn.Module):
        return {}
    accepted = _accepted_arguments(factory)
    return {
        key: value
        for key, value in data_params.items()
        if key not in user_params and (accepted is None or key in accepted)
    }


def module_min_input_size(factory, module_params):
    """``factory.min_input_size(**module_params)`` when the factory declares one, else None."""
    min_input_size = getattr(factory, "min_input_size", None)
    if isinstance(factory, torch.nn.Module) or min_input_size is None:
        return None
    return tuple(int(v) for v in min_input_size(**module_params))


def embedding_function(module: torch.nn.Module):
    """A function ``x -> penultimate activations`` for ``module``.

    Modules with ``forward_embedding`` (skvision's) use it; timm models use
    ``forward_head(forward_features(x), pre_logits=True)``; any other module
    gives the input of its last ``nn.Linear`` layer, read with a forward hook.

    Examples
    --------
    >>> import torch
    >>> from torch import nn
    >>> mlp = nn.Sequential(nn.Flatten(), nn.Linear(4, 3), nn.ReLU(), nn.Linear(3, 2))
    >>> tuple(embedding_function(mlp)(torch.zeros(5, 1, 2, 2)).shape)
    (5, 3)
    """
    if hasattr(module, "forward_embedding"):
        return module.forward_embedding
    if hasattr(module, "forward_features") and hasattr(module, "forward_head"):
        return lambda x: module.forward_head(module.forward_features(x), pre_logits=True)
    linears = [m for m in module.modules() if isinstance(m, torch.nn.Linear)]
    if not linears:
        raise ValueError(
            f"Cannot find the penultimate layer of {type(module).__name__}: give it a "
            "forward_embedding(x) method or end it with an nn.Linear layer."
        )
    last_linear = linears[-1]

    def embed(x):
        captured = []
        handle = last_linear.register_forward_hook(lambda mod, inputs, out: captured.append(inputs[0]))
        try:
            module(x)
        finally:
            handle.remove()
        return captured[-1].flatten(1)

    return embed
