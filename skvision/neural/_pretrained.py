"""PretrainedFeatures: embeddings from a frozen pretrained backbone, as an sklearn transformer."""

from __future__ import annotations

import io
import os
import warnings
from numbers import Integral

import numpy as np
import torch
from sklearn.base import BaseEstimator, ClassNamePrefixFeaturesOutMixin, TransformerMixin
from sklearn.utils.validation import check_is_fitted
from torch import nn

from .._compat import Interval, StrOptions, fit_context
from .._device import ALL_DEVICES
from .._fit_state import keeps_state_on_error
from .._images import check_images, check_scale
from .._tags import SkvisionTags
from .._warnings import user_stacklevel
from ._torch_utils import (
    PRECISIONS,
    autocast,
    images_to_tensor,
    map_batches,
    resolve_device,
    seeded_torch_rng,
    warn_cpu_float16,
)
from .backbones import BackbonePreprocess, classifier_name, resolve_backbone

__all__ = ["PretrainedFeatures", "pool_features"]

POOLINGS = ("avg", "max", "avgmax")


def pool_features(features: torch.Tensor, pooling) -> torch.Tensor:
    """Reduce a backbone's output to one vector per image.

    4-D feature maps ``(N, C, H, W)`` are pooled over ``H, W``; 3-D token sequences
    ``(N, tokens, dim)`` (timm's transformers) over the tokens. ``'avgmax'`` is the
    mean of the average and the maximum, as in timm. ``pooling=None`` flattens.
    Outputs that are already flat ``(N, F)`` are returned unchanged.

    Examples
    --------
    >>> import torch
    >>> maps = torch.arange(8.0).reshape(1, 2, 2, 2)
    >>> pool_features(maps, "avg").tolist(), pool_features(maps, "avgmax").tolist()
    ([[1.5, 5.5]], [[2.25, 6.25]])
    """
    if features.ndim == 2:
        return features
    if pooling is None:
        return features.flatten(1)
    if features.ndim == 4:
        dims = (2, 3)
    elif features.ndim == 3:
        dims = (1,)
    else:
        raise ValueError(
            f"pooling={pooling!r} needs 3-D (N, tokens, dim) or 4-D (N, C, H, W) features; the layer gives "
            f"shape {tuple(features.shape)}. Use pooling=None to flatten."
        )
    if pooling == "avg":
        return features.mean(dim=dims)
    if pooling == "max":
        return features.amax(dim=dims)
    return 0.5 * (features.mean(dim=dims) + features.amax(dim=dims))


class _Captured(Exception):
    """Raised by a hook to stop the forward pass once the wanted layer has run."""

    def __init__(self, value):
        super().__init__()
        self.value = value


class PretrainedFeatures(ClassNamePrefixFeaturesOutMixin, TransformerMixin, BaseEstimator):
    """Embeddings of a pretrained backbone (timm, torchvision or any module), frozen.

    Transfer learning without training: images are resized and normalised the way
    the backbone's weights expect, passed through it in inference mode, and the
    chosen layer's output is pooled into one vector per image, ready for a linear
    model (a "linear probe").

    Parameters
    ----------
    backbone : str or nn.Module, default='tf_efficientnet_lite0'
        A timm model name, ``'torchvision:<name>'``, or a module instance; see
        :func:`skvision.neural.backbones.resolve_backbone`. The default has its
        ImageNet weights in the ``weights`` extra, so it works offline.
    weights : 'default', path or None, default='default'
        ``'default'``: pretrained weights (packaged, else the hub caches, else a
        download when online); a path to a local state dict or checkpoint; ``None``
        for random initialisation (a baseline showing what pretraining brings).
        With a module instance as ``backbone``, ``'default'`` keeps the instance's
        own weights (``weights_ = 'module'``) and ``None`` re-initialises a copy
        of it: pass ``'default'`` for a network you trained yourself.
    layer : str, int or None, default=None
        ``None``: the features in front of the classifier (timm's
        ``forward_features``; for other modules, the input of the last ``nn.Linear``).
        A str names a module (``dict(model.named_modules())``) whose output is
        taken; an int indexes timm's ``feature_info`` (``-1`` the last stage). The
        forward pass stops once the layer has run.
    pooling : {'avg', 'max', 'avgmax'} or None, default='avg'
        Reduction of feature maps over space (or token sequences over tokens);
        ``None`` flattens them. Already-flat outputs are returned as they are.
    input_size : int, tuple of (int, int) or None, default=None
        Size images are resized to; ``None`` uses the pretrained configuration's.
    batch_size : int, default=32
        Images per forward pass (bounds memory).
    device : str, torch.device or None, default='auto'
        Where the work runs: ``'auto'`` (or None) a CUDA GPU when torch sees
        one, else the CPU; ``'cpu'``, ``'cuda'``, ``'cuda:N'``, or ``'mps'``
        (Apple's GPU). A device torch does not see here is refused in ``fit``.
    precision : {'32', 'bf16', '16-mixed'}, default='32'
        Autocast precision of the forward pass: float32, bfloat16 or float16
        (bfloat16 on the CPU, with a warning).
    verbose : int, default=0
        Show a progress bar over batches when > 0.
    random_state : int, RandomState or None, default=None
        Seeds the random initialisation of ``weights=None`` (torch's global
        generator is forked, so the caller's random stream is left alone): the
        same integer gives the same network, hence the same embeddings, on every
        fit and every ``clone``. ``None`` draws from torch's global state.
        Ignored when weights are loaded.

    Attributes
    ----------
    module_ : nn.Module
        The backbone (with its head, unused unless ``layer`` names it), in eval mode.
    config_ : PretrainedConfig
        Preprocessing read from the backbone's pretrained configuration.
    weights_ : str
        Where the weights came from (``'packaged:...'``, ``'cache:...'``, ``'file:...'``, ``'random'``,
        or ``'module'``: a module instance's own).
    input_scale_ : ImageScale
        The value scale of the images seen in ``fit`` (see :mod:`skvision._images`).
    input_size_ : tuple of (int, int)
    device_ : torch.device
    n_features_out_ : int
        Length of the embedding.

    Notes
    -----
    Input rule: images follow :func:`skvision._images.check_images` and its value-scale
    rule; integer images are read on [0, 1] (uint8 / 255, uint16 / 65535), float images
    must already be in [0, 1]: floats far outside it raise
    :class:`~skvision._images.ImageScaleError`, a little outside an
    :class:`~skvision._images.ImageScaleWarning`. Grey images (1 channel) are repeated
    to RGB, RGBA images lose their alpha channel, and any other channel count is a
    ValueError. Images of any size
    are resized whole to ``input_size`` (no centre crop), with the configuration's
    interpolation, antialiased when shrinking.

    The forward pass runs in ``channels_last`` memory format, which the
    convolution libraries of both CPUs (oneDNN) and GPUs (cuDNN) run fastest;
    ``precision`` adds autocast. Pickling
    stores the module's weights (the backbone may be a module instance or a
    fine-tuned file that cannot be re-resolved); a model pickled on a GPU loads on
    a CPU-only machine. Embeddings are float32.

    Examples
    --------
    >>> import numpy as np
    >>> from skvision import PretrainedFeatures
    >>> images = np.random.default_rng(0).integers(0, 256, (4, 32, 32, 3), dtype=np.uint8)
    >>> pf = PretrainedFeatures("resnet10t", weights=None, input_size=64).fit(images)
    >>> pf.transform(images).shape
    (4, 512)
    >>> pf.get_feature_names_out()[:2].tolist()
    ['pretrainedfeatures0', 'pretrainedfeatures1']
    """

    _parameter_constraints: dict = {
        "backbone": [str, nn.Module],
        "weights": [StrOptions({"default"}), str, os.PathLike, None],
        "layer": [str, Integral, None],
        "pooling": [StrOptions(set(POOLINGS)), None],
        "input_size": [Interval(Integral, 1, None, closed="left"), tuple, list, None],
        "batch_size": [Interval(Integral, 1, None, closed="left")],
        "device": [str, torch.device, None],
        "precision": [StrOptions(set(PRECISIONS))],
        "verbose": ["verbose"],
        "random_state": ["random_state"],
    }

    def __init__(
        self,
        backbone="tf_efficientnet_lite0",
        weights="default",
        *,
        layer=None,
        pooling="avg",
        input_size=None,
        batch_size=32,
        device="auto",
        precision="32",
        verbose=0,
        random_state=None,
    ):
        self.backbone = backbone
        self.weights = weights
        self.layer = layer
        self.pooling = pooling
        self.input_size = input_size
        self.batch_size = batch_size
        self.device = device
        self.precision = precision
        self.verbose = verbose
        self.random_state = random_state

    def __sklearn_tags__(self):
        # Frozen: fit loads the backbone and learns nothing from the images.
        tags = SkvisionTags.from_tags(super().__sklearn_tags__(), devices=ALL_DEVICES, stateless=True)
        tags.requires_fit = True
        tags.input_tags.three_d_array = True
        tags.input_tags.allow_nan = False
        tags.transformer_tags.preserves_dtype = ["float32"]
        return tags

    @property
    def _n_features_out(self):
        return self.n_features_out_

    # ------------------------------------------------------------------ fit
    @keeps_state_on_error
    @fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y=None):
        """Validate the parameters and images, and load the backbone (no training).

        Parameters
        ----------
        X : array-like of shape (N, H, W) or (N, H, W, C), or list of arrays
            Images with 1, 3 or 4 channels; only validated.
        y : ignored
            Present for Pipeline compatibility.

        Returns
        -------
        self : object
        """
        images, scale = check_images(X, return_scale=True)
        check_scale(scale, owner=type(self).__name__, unit_only=True, images=images)
        self.input_scale_ = scale
        input_size = self._check_input_size()
        device = resolve_device(self.device, owner=type(self).__name__)
        warn_cpu_float16(self.precision, device, type(self).__name__)
        with seeded_torch_rng(self.random_state):  # the initialisation of weights=None
            resolved = resolve_backbone(self.backbone, self.weights)
        self.config_ = resolved.config
        self.weights_ = resolved.weights
        self.input_size_ = input_size if input_size is not None else tuple(resolved.config.input_size)
        self.device_ = device
        self.layer_name_ = self._resolve_layer(resolved.module)
        self.module_ = self._place(resolved.module.eval().requires_grad_(False))
        self.preprocess_ = BackbonePreprocess(resolved.config, self.input_size_).to(device)
        probe = np.zeros((1, *self.input_size_, 3), dtype=np.float32)
        try:
            self.n_features_out_ = int(self._embed_batch(probe).shape[1])
        except (RuntimeError, AssertionError, ValueError) as exc:
            raise ValueError(
                f"Backbone {resolved.name!r} cannot take images of input_size={self.input_size_} "
                f"(its pretrained size is {resolved.config.input_size}): {exc}"
            ) from exc
        return self

    def _check_input_size(self):
        size = self.input_size
        if size is None:
            return None
        if isinstance(size, Integral):
            return (int(size), int(size))
        if len(size) != 2 or not all(isinstance(s, Integral) and s >= 1 for s in size):
            raise ValueError(f"input_size must be a positive int or a pair (height, width); got {size!r}.")
        return (int(size[0]), int(size[1]))

    def _resolve_layer(self, module):
        layer = self.layer
        if layer is None:
            if hasattr(module, "forward_features"):
                return None
            return classifier_name(module)
        if isinstance(layer, bool):  # True is an Integral: it read as stage 1
            raise ValueError(f"layer must be a stage index, a layer name or None; got {layer!r}.")
        if isinstance(layer, Integral):
            feature_info = getattr(module, "feature_info", None)
            if not feature_info:
                raise ValueError(
                    f"layer={layer} indexes timm's feature_info, which {type(module).__name__} "
                    "does not have; "
                    "name a module instead (layer='<name>')."
                )
            try:
                return feature_info[layer]["module"]
            except IndexError:
                raise ValueError(
                    f"layer={layer} is out of range: the backbone has {len(feature_info)} feature stages "
                    f"({', '.join(info['module'] for info in feature_info)})."
                ) from None
        names = [name for name, _ in module.named_modules() if name]
        if layer not in names:
            import difflib

            close = difflib.get_close_matches(layer, names, n=6, cutoff=0.5)
            raise ValueError(
                f"layer={layer!r} is not a module of the backbone."
                + (f" Close names: {', '.join(close)}." if close else "")
                + " See dict(model.named_modules())."
            )
        return layer

    def _place(self, module):
        # channels_last suits cuDNN and oneDNN alike: faster convolutions on the CPU as well (BENCHMARKS.md).
        return module.to(self.device_).to(memory_format=torch.channels_last)

    # ------------------------------------------------------------ transform
    def transform(self, X):
        """Embed each image.

        Parameters
        ----------
        X : array-like of shape (N, H, W) or (N, H, W, C), or list of arrays
            Images of any size, with 1, 3 or 4 channels (see Notes).

        Returns
        -------
        embeddings : ndarray of shape (N, n_features_out_), dtype float32
        """
        check_is_fitted(self, "module_")
        images, scale = check_images(X, return_scale=True)
        # The backbone's normalisation starts from [0, 1]: the rule, whatever fit saw.
        check_scale(scale, owner=type(self).__name__, unit_only=True, images=images)
        # Batches of batch_size images: bounded memory, and out-of-memory batches are halved and retried.
        return map_batches(
            self._embed_batch,
            images,
            self.batch_size,
            what=f"transform of {type(self).__name__}",
            verbose=bool(self.verbose),
            desc=type(self).__name__,
        )

    def _embed_batch(self, images) -> np.ndarray:
        with torch.inference_mode():
            x = self.preprocess_(images_to_tensor(images, device=self.device_))
            x = x.contiguous(memory_format=torch.channels_last)
            with autocast(self.device_, self.precision):
                features = self._forward(x)
            return pool_features(features.float(), self.pooling).cpu().numpy()

    def _forward(self, x):
        module = self.module_
        if self.layer_name_ is None:
            if hasattr(module, "forward_features"):
                features = module.forward_features(x)
                if getattr(module, "output_fmt", "NCHW") == "NHWC" and features.ndim == 4:
                    features = features.permute(0, 3, 1, 2)
                return features
            return module(x)
        target = module.get_submodule(self.layer_name_)
        capture_input = self.layer is None  # the input of the classifier is the pre-classifier embedding

        def hook(_module, args, output=None):
            raise _Captured(args[0] if capture_input else output)

        handle = (
            target.register_forward_pre_hook(hook) if capture_input else target.register_forward_hook(hook)
        )
        try:
            module(x)
        except _Captured as captured:
            value = captured.value
            return value[0] if isinstance(value, (tuple, list)) else value
        finally:
            handle.remove()
        raise RuntimeError(f"Layer {self.layer_name_!r} did not run in the backbone's forward pass.")

    # -------------------------------------------------------------- pickling
    def __getstate__(self):
        state = dict(super().__getstate__())  # a copy: object.__getstate__ returns the live __dict__
        if "module_" in state:
            # torch.save + map_location on load: a model pickled on a GPU loads on a CPU-only machine.
            buffer = io.BytesIO()
            torch.save({"module_": state.pop("module_"), "preprocess_": state.pop("preprocess_")}, buffer)
            state["_torch_modules"] = buffer.getvalue()
        return state

    def __setstate__(self, state):
        payload = state.pop("_torch_modules", None)
        if payload is not None:
            device = state["device_"]
            if device.type == "cuda" and not torch.cuda.is_available():
                warnings.warn(
                    f"{type(self).__name__} was fitted on {device}, which is not available here; "
                    "it is loaded on the CPU.",
                    UserWarning,
                    stacklevel=user_stacklevel(),
                )
                device = torch.device("cpu")
                state["device_"] = device
            modules = torch.load(io.BytesIO(payload), map_location=device, weights_only=False)
            state.update(modules)
        super().__setstate__(state)
