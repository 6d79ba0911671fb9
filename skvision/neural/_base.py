"""Shared plumbing of skvision's skorch-based neural estimators.

skorch runs every training loop; this module holds what the estimators of
:mod:`skvision.neural` (CNNs, autoencoders, pretrained backbones) add around it,
once for all of them. Two halves:

**Net side** (subclasses of skorch nets, built inside ``fit``):

* :class:`TensorBatchIterator` -- skorch ``iterator_train`` / ``iterator_valid``
  for in-memory tensors: the whole (training or validation) tensor is moved to
  the training device once, batches are taken by tensor indexing there. It
  replaces the per-sample ``Dataset.__getitem__`` + ``collate`` of a
  ``DataLoader`` (see ``benchmarks/bench_training.py`` for the comparison).
* :class:`ImageNetMixin` -- batch augmentation on the device (training only),
  mixup, ``precision`` (autocast; a gradient scaler for ``'16-mixed'`` on CUDA),
  test-time augmentation, resumable epoch counting and penultimate embeddings.
  Mixed into :class:`ImageNeuralNet`, :class:`ImageNeuralNetClassifier` and
  :class:`ImageNeuralNetRegressor`.

**Estimator side** (the sklearn objects users hold):

* :class:`NeuralImageEstimator` -- a ``BaseEstimator`` that stores skorch's
  routed parameters (``module__*``, ``optimizer__*``, ``criterion__*``,
  ``iterator_train__*``, ...) as keyword arguments so ``get_params``,
  ``set_params``, ``clone`` and ``GridSearchCV`` reach them, and implements the
  fit plumbing: image validation against the architecture's minimum size,
  module resolution (registry name, class, factory or instance) with
  ``in_channels`` / ``input_size`` / ``n_outputs`` injected from the data,
  device and precision, seeding, the callbacks and the net itself.
* :func:`build_callbacks` -- skorch callbacks from plain parameters: early
  stopping restoring the best weights, LR schedules, checkpoint + resume,
  the progress bar.
* :func:`validate_images_for_net`, :func:`resolve_module`,
  :func:`module_min_input_size`, :func:`module_data_params`,
  :func:`embedding_function` -- the small pieces, usable on their own.

A new estimator subclasses :class:`NeuralImageEstimator`, lists its parameters in
``__init__`` (ending with ``**kwargs`` for the routed ones) and calls
``_prepare_images``, ``_build_net`` and ``_train`` from its ``fit``; see
:mod:`skvision.neural._cnn` for the classifier, regressor and feature extractor.
"""

from __future__ import annotations

import copy
import inspect
import os
import warnings
from numbers import Integral, Real

import numpy as np
import torch
from sklearn.base import BaseEstimator
from sklearn.utils.validation import check_is_fitted
from skorch import NeuralNet, NeuralNetClassifier, NeuralNetRegressor
from skorch.callbacks import Checkpoint, EarlyStopping, LoadInitState, LRScheduler, ProgressBar
from skorch.dataset import Dataset, unpack_data
from skorch.utils import noop, to_tensor
from torch.utils.data import Subset

from .._compat import Interval, StrOptions
from .._device import ALL_DEVICES
from .._images import check_images
from .._tags import SkvisionTags
from ._augment import AUGMENT_PRESETS, build_augmentation, tta_augmentation
from ._finetune import backbone_module, finetune_net_kwargs
from ._torch_utils import (
    PRECISIONS,
    autocast,
    images_to_tensor,
    map_batches,
    resolve_device,
    seeded_torch_rng,
)
from .modules import MODULES

__all__ = [
    "ROUTED_PREFIXES",
    "OPTIMIZERS",
    "LR_SCHEDULES",
    "COMMON_PARAMETER_CONSTRAINTS",
    "validate_images_for_net",
    "resolve_module",
    "module_data_params",
    "module_min_input_size",
    "embedding_function",
    "build_callbacks",
    "TensorBatchIterator",
    "ImageNetMixin",
    "ImageNeuralNet",
    "ImageNeuralNetClassifier",
    "ImageNeuralNetRegressor",
    "NeuralImageEstimator",
]

#: Keyword-argument prefixes routed to the skorch net (skorch's ``prefix__param``).
ROUTED_PREFIXES = (
    "module__",
    "optimizer__",
    "criterion__",
    "iterator_train__",
    "iterator_valid__",
    "callbacks__",
)
#: Keyword arguments that replace a skorch component as a whole.
_ROUTED_NAMES = ("iterator_train", "iterator_valid")

#: Optimizer names accepted by ``optimizer=``; a torch optimizer class works too.
OPTIMIZERS = {"adam": torch.optim.Adam, "adamw": torch.optim.AdamW, "sgd": torch.optim.SGD}
#: Names accepted by ``lr_schedule=``.
LR_SCHEDULES = ("onecycle", "cosine", "step")

#: Constraints of the parameters every :class:`NeuralImageEstimator` shares.
COMMON_PARAMETER_CONSTRAINTS = {
    "module": [str, type, callable, torch.nn.Module],
    "max_epochs": [Interval(Integral, 0, None, closed="left")],
    "batch_size": [Interval(Integral, 1, None, closed="left")],
    "lr": [Interval(Real, 0, None, closed="neither")],
    "optimizer": [StrOptions(set(OPTIMIZERS)), type],
    "augment": [StrOptions(set(AUGMENT_PRESETS)), list, tuple, torch.nn.Module, None],
    "mixup": [Interval(Real, 0, None, closed="left")],
    "early_stopping": ["boolean"],
    "validation_fraction": [Interval(Real, 0, 1, closed="neither")],
    "n_iter_no_change": [Interval(Integral, 1, None, closed="left")],
    "lr_schedule": [StrOptions(set(LR_SCHEDULES)), None],
    "checkpoint": [str, os.PathLike, None],
    "tta": [Interval(Integral, 0, None, closed="left")],
    "device": [str, torch.device, None],
    "precision": [StrOptions(set(PRECISIONS))],
    "verbose": ["verbose"],
    "random_state": ["random_state"],
    "callbacks": [list, None],
}


def is_routed_param(name: str) -> bool:
    """Whether ``name`` is a skorch parameter routed through ``**kwargs``."""
    return name in _ROUTED_NAMES or name.startswith(ROUTED_PREFIXES)


# --------------------------------------------------------------------------- images
def validate_images_for_net(X, *, min_size=None, min_size_reason=None, name="X") -> np.ndarray:
    """Validate a batch of images for a neural estimator (:func:`skvision._images.check_images`).

    Channels-last ``(N, H, W)`` or ``(N, H, W, C)`` batches with 1, 3 or 4
    channels; channels-first input is rejected with a hint rather than read as
    a wrong image size.

    Examples
    --------
    >>> import numpy as np
    >>> validate_images_for_net(np.zeros((2, 8, 8, 3), dtype=np.uint8)).shape
    (2, 8, 8, 3)
    """
    return check_images(X, name=name, min_size=min_size, min_size_reason=min_size_reason)


def _net_input(images: np.ndarray) -> torch.Tensor:
    """Validated channels-last images -> a float32 NCHW tensor on the CPU (uint8 scaled to [0, 1])."""
    return images_to_tensor(images, device=None, dtype=torch.float32)


# --------------------------------------------------------------------------- modules
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


# --------------------------------------------------------------------------- callbacks
class _PicklableLRScheduler(LRScheduler):
    """skorch's ``LRScheduler`` without its torch scheduler in the pickle.

    The torch scheduler holds a reference to the optimizer; pickled inside
    ``net.callbacks_`` it drags a second copy of the optimizer state through
    plain pickle, outside skorch's CUDA-aware path for ``optimizer_``, and a
    net trained on a GPU then fails to unpickle on a CPU-only machine
    (skorch issue #1096, fixed upstream by the same ``__getstate__`` in
    skorch PR #1150). The scheduler is rebuilt from the history in
    ``on_train_begin`` anyway.
    """

    def __getstate__(self):
        state = self.__dict__.copy()
        state["lr_scheduler_"] = None
        return state


class _BatchSteppedLRScheduler(_PicklableLRScheduler):
    """skorch's ``LRScheduler`` for schedules stepped every batch, resumable mid-way.

    skorch restarts a scheduler at ``last_epoch = len(history) - 1``; a schedule
    stepped per batch counts batches, so on resume it starts from the batch
    count recorded in the history instead.
    """

    def _get_scheduler(self, net, policy, **scheduler_kwargs):
        scheduler_kwargs.setdefault("last_epoch", self.batch_idx_ - 1)
        if "max_lr" in scheduler_kwargs:
            # Param groups with lower rates (a fine-tuned backbone) peak at the same fraction of max_lr.
            group_lrs = [group.get("max_lr", group["lr"]) for group in net.optimizer_.param_groups]
            peak = scheduler_kwargs["max_lr"]
            scheduler_kwargs["max_lr"] = [peak * lr / max(group_lrs) for lr in group_lrs]
        return policy(net.optimizer_, **scheduler_kwargs)


class _AtomicCheckpoint(Checkpoint):
    """skorch ``Checkpoint`` that never leaves a torn file and also saves torch's random state.

    Every file is written under a temporary name and moved over the previous
    one with :func:`os.replace` (atomic), the history last: a process killed
    while saving leaves the previous checkpoint loadable instead of a
    truncated ``params.pt``. The random generators of the CPU (and of the
    training GPU) are saved first, as ``rng.pt``, so that a resumed training
    can draw the same shuffles, augmentations and dropout masks as an
    uninterrupted one (see :class:`_ResumeFromCheckpoint`). A file that cannot
    be written gives a ``RuntimeWarning`` (skorch only prints it when verbose).
    """

    #: File of the random state, next to skorch's files (and with their ``fn_prefix``).
    rng_file = "rng.pt"

    @property
    def rng_path_(self):  # not f_*: skorch treats every f_* attribute as a file of the net
        return os.path.join(self.dirname, self.fn_prefix + self.rng_file)

    def save_model(self, net):
        self._atomic_write(self.rng_path_, lambda target: torch.save(_rng_state(net), target), "random state")
        super().save_model(net)

    def _save_params(self, f, net, f_name, log_name):
        if not isinstance(f, (str, os.PathLike)):
            return super()._save_params(f, net, f_name, log_name)

        def write(target):
            net.save_params(**{f_name: target, "use_safetensors": self.use_safetensors})

        return self._atomic_write(f, write, log_name)

    def _atomic_write(self, path, write, what):
        partial = f"{os.fspath(path)}.partial"
        try:
            write(partial)
            os.replace(partial, path)
        except Exception as exc:  # noqa: BLE001 - skorch keeps training when a checkpoint fails; so do we
            warnings.warn(
                f"Checkpoint could not save the {what} to {os.fspath(path)!r}: {type(exc).__name__}: {exc}",
                RuntimeWarning,
                stacklevel=2,
            )


def _rng_state(net):
    """torch's random generators that training draws from: the CPU one and that of the net's GPU."""
    state = {"cpu": torch.get_rng_state()}
    device = torch.device(net.device)
    if device.type == "cuda":
        state["cuda"] = torch.cuda.get_rng_state(device)
    return state


class _ResumeFromCheckpoint(LoadInitState):
    """skorch's ``LoadInitState``, plus the bookkeeping a resumed training needs to go on as if uninterrupted.

    skorch runs its default scoring callbacks' ``on_train_begin`` before this
    one loads the history, and ``PassthroughScoring`` (``train_loss``,
    ``valid_loss``) never looks at the history: without help the first
    resumed epoch is flagged a new best whatever its loss, and the checkpoint
    (written on a new best) is overwritten by a worse model. After loading,
    every scoring callback's best score is set from the history.

    With ``restore_rng=True`` torch's random generators are set to the state
    saved with the checkpoint (:class:`_AtomicCheckpoint`). That sets the
    *global* generators, so it is only done inside a forked generator (a
    seeded fit, see :func:`~skvision.neural._torch_utils.seeded_torch_rng`).
    """

    def __init__(self, checkpoint, use_safetensors=False, restore_rng=False):
        super().__init__(checkpoint, use_safetensors=use_safetensors)
        self.restore_rng = restore_rng

    def on_train_begin(self, net, X=None, y=None, **kwargs):
        first_call = not self.did_load_
        super().on_train_begin(net, X=X, y=y, **kwargs)
        if not (first_call and len(net.history)):
            return
        for _, callback in net.callbacks_:
            name = getattr(callback, "name_", getattr(callback, "name", None))
            if not (hasattr(callback, "best_score_") and isinstance(name, str)):
                continue
            best = [row[name] for row in net.history if row.get(f"{name}_best")]
            if best:
                callback.best_score_ = best[-1]
        rng_file = getattr(self.checkpoint, "rng_path_", None)
        if self.restore_rng and rng_file is not None and os.path.exists(rng_file):
            state = torch.load(rng_file, map_location="cpu", weights_only=True)
            torch.set_rng_state(state["cpu"])
            device = torch.device(net.device)
            if device.type == "cuda" and "cuda" in state:
                torch.cuda.set_rng_state(state["cuda"], device)


class _ResumableEarlyStopping(EarlyStopping):
    """skorch's ``EarlyStopping`` that picks up the patience, best loss and best weights of a resumed history.

    skorch's resets them in ``on_train_begin``: after a resume the patience
    would start again, and ``load_best`` would restore the best weights *since
    the resume*, possibly worse than the checkpoint's. The history is replayed
    instead; the best weights are the ones just loaded, since the checkpoint
    is written at each new best of the same validation loss. (A best epoch
    within EarlyStopping's relative threshold of 1e-4 of an earlier one
    counts as a miss here but is checkpointed: then the checkpoint's slightly
    better weights are the ones kept.) At the end of training the copy of the
    weights is dropped: it only serves ``load_best``, and keeping it would
    hold a second model in (GPU) memory. A training of 0 epochs passes
    (skorch's fails on the empty history).
    """

    def on_train_begin(self, net, **kwargs):
        super().on_train_begin(net, **kwargs)
        rows = [row for row in net.history if self.monitor in row]
        for row in rows:
            if self._is_score_improved(row[self.monitor]):
                self.misses_ = 0
                self.dynamic_threshold_ = self._calc_new_threshold(row[self.monitor])
                self.best_epoch_ = row["epoch"]
            else:
                self.misses_ += 1
        if rows and self.load_best:
            self.best_model_weights_ = copy.deepcopy(net.module_.state_dict())

    def on_train_end(self, net, **kwargs):
        if len(net.history):  # skorch's reads the last epoch: max_epochs=0 would fail with an IndexError
            super().on_train_end(net, **kwargs)
        self.best_model_weights_ = None


def build_callbacks(
    *,
    lr,
    max_epochs,
    steps_per_epoch,
    validation,
    early_stopping=False,
    n_iter_no_change=5,
    lr_schedule=None,
    checkpoint=None,
    restore_rng=False,
    verbose=0,
):
    """skorch callbacks for the training tools every neural estimator exposes.

    Parameters
    ----------
    lr : float
        Base (for one-cycle: peak) learning rate.
    max_epochs : int
        Epochs of a full training (sets the length of the schedules).
    steps_per_epoch : int
        Optimizer steps per epoch (batches of the training split).
    validation : bool
        Whether a validation split exists (early stopping and checkpoints then
        monitor ``valid_loss``, else ``train_loss``).
    early_stopping : bool
        Stop after ``n_iter_no_change`` epochs without improvement of the
        validation loss and restore the best weights (``EarlyStopping(load_best=True)``).
    n_iter_no_change : int
        Patience of early stopping.
    lr_schedule : {'onecycle', 'cosine', 'step'} or None
        ``'onecycle'``: ``OneCycleLR`` stepped every batch, peaking at ``lr``;
        ``'cosine'``: ``CosineAnnealingLR`` over ``max_epochs``; ``'step'``:
        ``StepLR`` dividing the rate by 10 at 1/3 and 2/3 of the epochs.
    checkpoint : str, path or None
        Directory: the parameters, optimizer, history and torch's random state
        are saved there each time the monitored loss reaches a new best
        (``Checkpoint``, each file replaced atomically); a later fit with the
        same directory loads them first and continues from that epoch
        (``LoadInitState``), with the best scores and the early-stopping state
        taken from the loaded history. Epochs run after the last best one are
        run again.
    restore_rng : bool
        On resuming, also restore torch's random generators saved with the
        checkpoint, so the remaining epochs draw what an uninterrupted run
        would have. Only inside a forked generator (a seeded fit): it sets
        the global generators.
    verbose : int
        ``>= 1`` adds skorch's progress bar and lets callbacks print.

    Returns
    -------
    list of (str, Callback)
        Ordered so that a resumed history is loaded before the schedule is set up.

    Examples
    --------
    >>> [name for name, _ in build_callbacks(lr=0.1, max_epochs=9, steps_per_epoch=5, validation=True,
    ...                                      early_stopping=True, lr_schedule="cosine")]
    ['lr_schedule', 'early_stopping']
    """
    sink = print if verbose else noop
    monitor = "valid_loss" if validation else "train_loss"
    callbacks = []
    if checkpoint is not None:
        saver = _AtomicCheckpoint(
            dirname=os.fspath(checkpoint), monitor=f"{monitor}_best", f_criterion=None, sink=sink
        )
        callbacks.append(("resume", _ResumeFromCheckpoint(saver, restore_rng=restore_rng)))
    if lr_schedule == "onecycle":
        total_steps = max(1, max_epochs * steps_per_epoch)
        callbacks.append(
            (
                "lr_schedule",
                _BatchSteppedLRScheduler(
                    policy=torch.optim.lr_scheduler.OneCycleLR,
                    max_lr=lr,
                    total_steps=total_steps,
                    step_every="batch",
                ),
            )
        )
    elif lr_schedule == "cosine":
        callbacks.append(
            (
                "lr_schedule",
                _PicklableLRScheduler(
                    policy=torch.optim.lr_scheduler.CosineAnnealingLR, T_max=max(1, max_epochs)
                ),
            )
        )
    elif lr_schedule == "step":
        callbacks.append(
            (
                "lr_schedule",
                _PicklableLRScheduler(
                    policy=torch.optim.lr_scheduler.StepLR, step_size=max(1, max_epochs // 3), gamma=0.1
                ),
            )
        )
    elif lr_schedule is not None:
        raise ValueError(
            f"lr_schedule={lr_schedule!r} is not supported; expected one of {LR_SCHEDULES} or None."
        )
    if early_stopping:
        if not validation:
            raise ValueError("early_stopping=True needs a validation split (validation_fraction > 0).")
        callbacks.append(
            (
                "early_stopping",
                _ResumableEarlyStopping(
                    monitor="valid_loss", patience=n_iter_no_change, load_best=True, sink=sink
                ),
            )
        )
    if checkpoint is not None:
        callbacks.append(("checkpoint", saver))
    if verbose:
        callbacks.append(("progress", ProgressBar()))
    return callbacks


# --------------------------------------------------------------------------- data path
def _dataset_tensors(dataset):
    """``(X, y, indices)`` of a skorch Dataset of tensors, possibly wrapped in Subsets; else None."""
    indices = None
    while isinstance(dataset, Subset):
        subset_indices = torch.as_tensor(np.asarray(dataset.indices), dtype=torch.long)
        indices = subset_indices if indices is None else subset_indices[indices]
        dataset = dataset.dataset
    if not isinstance(dataset, Dataset) or not isinstance(dataset.X, torch.Tensor):
        return None
    if dataset.y is not None and not isinstance(dataset.y, torch.Tensor):
        return None
    return dataset.X, dataset.y, indices


class TensorBatchIterator:
    """Batches of in-memory tensors taken by indexing on the training device.

    A drop-in for ``torch.utils.data.DataLoader`` as skorch's ``iterator_train``
    / ``iterator_valid`` when the dataset is a skorch ``Dataset`` holding
    tensors (or a ``Subset`` of one, as made by the validation split). The
    tensors are moved to ``device`` once; each epoch draws one permutation there
    and slices it, instead of calling ``__getitem__`` per sample and collating.

    Parameters
    ----------
    dataset : skorch.dataset.Dataset or torch.utils.data.Subset of one
    batch_size : int, default=128
    shuffle : bool, default=False
        A new permutation each epoch (training).
    drop_last : bool, default=False
        Drop a final incomplete batch. Without it, a final batch of a single
        sample is merged into the previous one while shuffling, since batch
        normalisation cannot train on one sample.
    device : str or torch.device, default='cpu'

    Examples
    --------
    >>> import torch
    >>> from skorch.dataset import Dataset
    >>> batches = TensorBatchIterator(Dataset(torch.arange(10.0)[:, None], torch.arange(10)), batch_size=4)
    >>> [len(xb) for xb, yb in batches], len(batches)
    ([4, 4, 2], 3)
    """

    def __init__(self, dataset, batch_size=128, shuffle=False, drop_last=False, device="cpu"):
        tensors = _dataset_tensors(dataset)
        if tensors is None:
            raise TypeError(
                "TensorBatchIterator needs a skorch Dataset of torch tensors (or a Subset of one); "
                f"got {type(dataset).__name__}. Use torch.utils.data.DataLoader for other datasets."
            )
        X, y, indices = tensors
        if indices is not None:
            X = X[indices]
            y = None if y is None else y[indices]
        self.X = X.to(device)
        self.y = None if y is None else y.to(device)
        self.batch_size = int(batch_size)
        self.shuffle = shuffle
        self.drop_last = drop_last

    def _bounds(self):
        n, size = len(self.X), self.batch_size
        stops = list(range(size, n, size)) + [n]
        if self.drop_last and n % size:
            stops = stops[:-1]
        elif self.shuffle and len(stops) > 1 and n % size == 1:
            stops = stops[:-2] + [n]
        starts = [0] + stops[:-1]
        return list(zip(starts, stops))

    def __len__(self):
        return len(self._bounds())

    def __iter__(self):
        if self.shuffle:
            order = torch.randperm(len(self.X), device=self.X.device)
            for start, stop in self._bounds():
                idx = order[start:stop]
                yield self.X[idx], (None if self.y is None else self.y[idx])
        else:
            for start, stop in self._bounds():
                yield self.X[start:stop], (None if self.y is None else self.y[start:stop])


# --------------------------------------------------------------------------- skorch nets
class ImageNetMixin:
    """What skvision adds to a skorch net; mix in before the skorch class.

    Extra constructor arguments (all plain values, set before skorch's own
    ``__init__`` so that modules may be passed):

    augmentation : nn.Module or None
        Applied to each training batch on the device (training only).
    mixup_alpha : float
        Mixup: each training batch is blended with a shuffled copy of itself
        with a weight drawn from Beta(alpha, alpha); the loss blends the two
        targets' losses with the same weight. 0 disables it.
    precision : {'32', 'bf16', '16-mixed'}
        Autocast of forward passes and losses; ``'16-mixed'`` on CUDA also
        scales the loss against float16 underflow (``torch.amp.GradScaler``).
    tta : int
        Test-time augmentation in prediction: ``tta`` augmented copies of each
        batch (``tta_augmentation``) are predicted and averaged with the plain
        prediction (probabilities for classifiers, values for regressors).
    tta_augmentation : nn.Module or None

    ``fit`` trains until the history holds ``max_epochs`` epochs, so that a fit
    resumed from a checkpoint only runs the remaining ones.
    """

    #: How TTA predictions are averaged: 'probabilities' (softmax outputs) or 'values'.
    _tta_average = "values"

    def __init__(
        self,
        *args,
        augmentation=None,
        mixup_alpha=0.0,
        precision="32",
        tta=0,
        tta_augmentation=None,
        **kwargs,
    ):
        self.augmentation = augmentation
        self.mixup_alpha = mixup_alpha
        self.precision = precision
        self.tta = tta
        self.tta_augmentation = tta_augmentation
        super().__init__(*args, **kwargs)

    def initialize(self):
        super().initialize()
        # The augmentation modules hold tensors on the training device (kornia keeps its
        # samplers' bounds and the parameters of its last draw there): pickled through
        # skorch's CUDA-aware path, with module_ and optimizer_, so that a net trained on
        # a GPU unpickles on a CPU-only machine.
        extra = [
            name
            for name in ("augmentation", "tta_augmentation")
            if name not in self.cuda_dependent_attributes_
        ]
        self.cuda_dependent_attributes_ = self.cuda_dependent_attributes_[:] + extra
        return self

    # -- device and precision
    @property
    def torch_device_(self):
        return torch.device(self.device)

    def _autocast(self):
        return autocast(self.torch_device_, self.precision)

    def _grad_scaler(self):
        if self.precision != "16-mixed" or self.torch_device_.type != "cuda":
            return None
        if getattr(self, "grad_scaler_", None) is None:
            self.grad_scaler_ = torch.amp.GradScaler("cuda")
        return self.grad_scaler_

    def get_iterator(self, dataset, training=False):
        iterator = self.iterator_train if training else self.iterator_valid
        if iterator is TensorBatchIterator and _dataset_tensors(dataset) is None:
            # Not in-memory tensors (a user Dataset): skorch's per-sample loader.
            return torch.utils.data.DataLoader(
                dataset, batch_size=self.batch_size, shuffle=training, num_workers=0
            )
        if iterator is TensorBatchIterator:
            params = self.get_params_for("iterator_train" if training else "iterator_valid")
            params.setdefault("batch_size", self.batch_size)
            params.setdefault("shuffle", training)
            return TensorBatchIterator(dataset, device=self.device, **params)
        return super().get_iterator(dataset, training=training)

    # -- training
    def fit_loop(self, X, y=None, epochs=None, **fit_params):
        if epochs is None:
            epochs = max(0, self.max_epochs - len(self.history))
        return super().fit_loop(X, y, epochs=epochs, **fit_params)

    def train_step_single(self, batch, **fit_params):
        self._set_training(True)
        Xi, yi = unpack_data(batch)
        Xi = to_tensor(Xi, device=self.device)
        yi = to_tensor(yi, device=self.device) if yi is not None else None
        if self.augmentation is not None:
            with torch.no_grad():
                Xi = self.augmentation(Xi)
        partner, weight = None, 1.0
        if self.mixup_alpha > 0 and len(Xi) > 1:
            weight = float(torch.distributions.Beta(self.mixup_alpha, self.mixup_alpha).sample())
            partner = torch.randperm(len(Xi), device=Xi.device)
            Xi = weight * Xi + (1.0 - weight) * Xi[partner]
        with self._autocast():
            y_pred = self.infer(Xi, **fit_params)
            loss = self.get_loss(y_pred, yi, X=Xi, training=True)
            if partner is not None:
                partner_loss = self.get_loss(y_pred, yi[partner], X=Xi, training=True)
                loss = weight * loss + (1.0 - weight) * partner_loss
        scaler = self._grad_scaler()
        (scaler.scale(loss) if scaler is not None else loss).backward()
        return {"loss": loss, "y_pred": y_pred.float()}

    def train_step(self, batch, **fit_params):
        scaler = self._grad_scaler()
        if scaler is None:
            return super().train_step(batch, **fit_params)
        # GradScaler cannot step through an optimizer closure: step explicitly.
        self._zero_grad_optimizer()
        step = self.train_step_single(batch, **fit_params)
        for name in self._optimizers:
            scaler.unscale_(getattr(self, name + "_"))
        self.notify(
            "on_grad_computed",
            named_parameters=list(self.get_all_learnable_params()),
            batch=batch,
            training=True,
        )
        for name in self._optimizers:
            scaler.step(getattr(self, name + "_"))
        scaler.update()
        return step

    def validation_step(self, batch, **fit_params):
        self._set_training(False)
        Xi, yi = unpack_data(batch)
        with torch.no_grad(), self._autocast():
            y_pred = self.infer(Xi, **fit_params)
            loss = self.get_loss(y_pred, yi, X=Xi, training=False)
        return {"loss": loss.float(), "y_pred": y_pred.float()}

    # -- prediction
    def _average_tta(self, outputs):
        if self._tta_average == "probabilities":
            probabilities = torch.stack([torch.softmax(o.float(), dim=1) for o in outputs]).mean(0)
            # The log of the averaged probabilities: skorch's softmax
            # nonlinearity turns it back into exactly those probabilities.
            return torch.log(probabilities.clamp_min(torch.finfo(probabilities.dtype).tiny))
        return torch.stack([o.float() for o in outputs]).mean(0)

    def evaluation_step(self, batch, training=False):
        self.check_is_fitted()
        Xi, _ = unpack_data(batch)
        with torch.set_grad_enabled(training), self._autocast():
            self._set_training(training)
            output = self.infer(Xi)
            if self.tta and not training and self.tta_augmentation is not None:
                Xi = to_tensor(Xi, device=self.device)
                outputs = [output] + [self.infer(self.tta_augmentation(Xi)) for _ in range(self.tta)]
                return self._average_tta(outputs)
        return output.float()

    def forward_embedding(self, X):
        """Penultimate activations of the module for ``X`` (see :func:`embedding_function`), on the CPU."""
        self.check_is_fitted()
        embed = embedding_function(self.module_)
        iterator = self.get_iterator(self.get_dataset(X), training=False)
        self._set_training(False)
        parts = []
        with torch.no_grad(), self._autocast():
            for batch in iterator:
                Xi, _ = unpack_data(batch)
                parts.append(embed(to_tensor(Xi, device=self.device)).float().cpu())
        return torch.cat(parts)


class ImageNeuralNet(ImageNetMixin, NeuralNet):
    """skorch ``NeuralNet`` with skvision's image tools (for custom criteria: autoencoders, ...)."""


class ImageNeuralNetClassifier(ImageNetMixin, NeuralNetClassifier):
    """skorch ``NeuralNetClassifier`` with skvision's image tools; TTA averages probabilities."""

    _tta_average = "probabilities"


class ImageNeuralNetRegressor(ImageNetMixin, NeuralNetRegressor):
    """skorch ``NeuralNetRegressor`` with skvision's image tools."""


# --------------------------------------------------------------------------- estimators
class NeuralImageEstimator(BaseEstimator):
    """Base of the sklearn estimators that train a skorch net on images (not for direct use).

    Subclasses define ``__init__`` with their public parameters followed by
    ``**kwargs``, which must be stored with :meth:`_store_routed_params`. Those
    keyword arguments are skorch's routed parameters (``module__filters=64``,
    ``optimizer__weight_decay=1e-4``, ``criterion__...``,
    ``iterator_train__...``, ``callbacks__...``) and show up in ``get_params``.

    Parameters the helpers read (subclasses should expose them, see
    :data:`COMMON_PARAMETER_CONSTRAINTS`): ``module``, ``max_epochs``,
    ``batch_size``, ``lr``, ``optimizer``, ``augment``, ``mixup``,
    ``early_stopping``, ``validation_fraction``, ``n_iter_no_change``,
    ``lr_schedule``, ``checkpoint``, ``tta``, ``device``, ``precision``,
    ``verbose``, ``random_state``, ``callbacks``.
    """

    #: Registry consulted for ``module`` names.
    _module_registry = MODULES

    def _store_routed_params(self, kwargs):
        for key, value in kwargs.items():
            setattr(self, key, value)

    def __setstate__(self, state):
        super().__setstate__(state)
        net = self.__dict__.get("net_")
        if "device_" in self.__dict__ and getattr(net, "device", None) is not None:
            # skorch loads a net pickled on CUDA onto the CPU when no GPU is here (with a
            # warning); device_ follows, or partial_fit would seed a CUDA generator that
            # does not exist.
            self.device_ = str(net.device)

    # -- sklearn parameter protocol, extended to skorch's routed parameters
    def _keyword_params(self):
        """Parameters stored from ``**kwargs`` (routed ones; anything else is rejected by fit)."""
        signature_params = set(self._get_param_names())
        return {
            key: value
            for key, value in vars(self).items()
            if key not in signature_params and not key.endswith("_") and not key.startswith("_")
        }

    def _routed_params(self, prefix=None):
        params = {k: v for k, v in self._keyword_params().items() if is_routed_param(k)}
        if prefix is None:
            return params
        return {k[len(prefix) :]: v for k, v in params.items() if k.startswith(prefix)}

    def get_params(self, deep=True):
        params = super().get_params(deep=deep)
        params.update(self._keyword_params())
        return params

    def set_params(self, **params):
        signature_params = set(self._get_param_names())
        keyword = {
            key: params.pop(key)
            for key in list(params)
            if is_routed_param(key) or (key not in signature_params and key in vars(self))
        }
        super().set_params(**params)
        for key, value in keyword.items():
            setattr(self, key, value)
        return self

    def _check_unknown_params(self):
        unknown = sorted(key for key in self._keyword_params() if not is_routed_param(key))
        if unknown:
            raise ValueError(
                f"{type(self).__name__} got unexpected parameter(s) {unknown}; keyword arguments must be "
                f"skorch routed parameters starting with one of {ROUTED_PREFIXES}."
            )

    # -- fit plumbing
    def _module_name(self):
        if isinstance(self.module, str):
            return self.module
        return getattr(self.module, "__name__", type(self.module).__name__)

    def _prepare_images(self, X):
        """Validate parameters that need no data, then the training images (min size of the module).

        Sets ``image_shape_``, ``n_channels_``, ``device_`` and returns the
        images as a CPU float tensor (NCHW).
        """
        self._check_unknown_params()
        self._module_factory = resolve_module(self.module, self._module_registry)
        self.device_ = str(resolve_device(self.device, owner=type(self).__name__))
        build_augmentation(self.augment)  # an unknown preset fails before any work
        user_params = self._routed_params("module__")
        min_size = module_min_input_size(self._module_factory, user_params)
        reason = None
        if min_size is not None:
            shown = ", ".join(f"{k}={v!r}" for k, v in sorted(user_params.items()))
            reason = f"module={self._module_name()!r}" + (f" with {shown}" if shown else "")
        images = validate_images_for_net(X, min_size=min_size, min_size_reason=reason)
        self.image_shape_ = tuple(images.shape[1:])
        self.n_channels_ = 1 if images.ndim == 3 else images.shape[3]
        return _net_input(images)

    def _checked_images_for_prediction(self, X) -> np.ndarray:
        """Validated images of the fitted shape, still numpy (a memmap stays a memmap)."""
        check_is_fitted(self, "net_")
        images = validate_images_for_net(X)
        if tuple(images.shape[1:]) != self.image_shape_:
            raise ValueError(
                f"X has images of shape {tuple(images.shape[1:])} but {type(self).__name__} was fitted on "
                f"images of shape {self.image_shape_}."
            )
        return images

    def _images_for_prediction(self, X):
        """:meth:`_checked_images_for_prediction` as one float NCHW tensor (for training calls)."""
        return _net_input(self._checked_images_for_prediction(X))

    def _map_image_batches(self, function, images, *, what):
        """``function(float NCHW tensor) -> ndarray`` over ``images`` in batches of ``batch_size``.

        Only one batch is converted to float at a time, and the device
        running out of memory halves the batch (:func:`map_batches`).
        """
        return map_batches(
            lambda chunk: function(_net_input(chunk)),
            images,
            self.batch_size,
            what=f"{what} of {type(self).__name__}",
            verbose=bool(self.verbose),
            desc=type(self).__name__,
        )

    def _module_kwargs(self, n_outputs):
        user_params = self._routed_params("module__")
        injected = module_data_params(
            self._module_factory,
            user_params=user_params,
            in_channels=self.n_channels_,
            input_size=self.image_shape_[:2],
            n_outputs=n_outputs,
        )
        module = self._module_factory
        if isinstance(module, torch.nn.Module):
            # Never train the parameter object itself: fit must leave params untouched.
            module = copy.deepcopy(module)
        return module, {f"module__{k}": v for k, v in injected.items()}

    def _optimizer_class(self):
        return OPTIMIZERS[self.optimizer] if isinstance(self.optimizer, str) else self.optimizer

    def _train_split(self, stratify):
        if not self.early_stopping:
            return None
        from skorch.dataset import ValidSplit

        seed = self.random_state if isinstance(self.random_state, Integral) else None
        return ValidSplit(self.validation_fraction, stratified=stratify, random_state=seed)

    def _build_net(
        self, net_class, *, n_train, n_outputs, criterion, stratify=False, partial=False, **net_kwargs
    ):
        """Create the skorch net with the estimator's parameters, callbacks and module.

        ``partial=True`` builds the net of a first ``partial_fit``: no
        validation split, no schedule, no early stopping and no checkpoint.
        """
        module, module_kwargs = self._module_kwargs(n_outputs)
        train_split = None if partial else self._train_split(stratify)
        n_fit = n_train if train_split is None else n_train - int(np.ceil(n_train * self.validation_fraction))
        callbacks = (
            []
            if partial
            else build_callbacks(
                lr=self.lr,
                max_epochs=self.max_epochs,
                steps_per_epoch=max(1, int(np.ceil(n_fit / self.batch_size))),
                validation=train_split is not None,
                early_stopping=self.early_stopping,
                n_iter_no_change=self.n_iter_no_change,
                lr_schedule=self.lr_schedule,
                checkpoint=self.checkpoint,
                restore_rng=self.random_state is not None,  # _train forks torch's generators then
                verbose=self.verbose,
            )
        )
        callbacks = callbacks + list(self.callbacks or [])
        routed = self._routed_params()
        kwargs = dict(
            module=module,
            criterion=criterion,
            optimizer=self._optimizer_class(),
            lr=self.lr,
            max_epochs=self.max_epochs,
            batch_size=self.batch_size,
            iterator_train=TensorBatchIterator,
            iterator_valid=TensorBatchIterator,
            train_split=train_split,
            callbacks=callbacks,
            device=self.device_,
            verbose=int(self.verbose),
            augmentation=build_augmentation(self.augment),
            mixup_alpha=float(self.mixup),
            precision=self.precision,
            tta=0,
            tta_augmentation=tta_augmentation(self.augment),
        )
        kwargs.update(module_kwargs)
        kwargs.update(net_kwargs)
        kwargs.update(routed)
        kwargs.update(finetune_net_kwargs(module, kwargs))
        return net_class(**kwargs)

    def _initialize_and_probe(self, net, X_sample, n_outputs):
        """Initialize the net and run one tiny batch: a module unfit for the data fails before training."""
        with seeded_torch_rng(self.random_state, self.device_):
            net.initialize()
        module = net.module_
        was_training = module.training
        module.eval()
        try:
            with torch.no_grad():
                out = module(X_sample[:2].to(self.device_))
        except RuntimeError as exc:
            raise ValueError(
                f"module={self._module_name()!r} cannot process images of shape {self.image_shape_}: {exc}"
            ) from exc
        finally:
            module.train(was_training)
        out = out[0] if isinstance(out, tuple) else out
        if out.ndim != 2 or out.shape[1] != n_outputs:
            raise ValueError(
                f"module={self._module_name()!r} returns outputs of shape {tuple(out.shape)} but the task "
                f"needs (batch, {n_outputs}); build it with {n_outputs} outputs (n_outputs) "
                "or let fit set them."
            )
        return net

    def _train(self, net, X_tensor, y_tensor, *, epochs=None):
        """Run skorch's fit (or partial_fit, ``epochs`` given) under the estimator's random_state."""
        with seeded_torch_rng(self.random_state, self.device_):
            if epochs is None:
                net.partial_fit(X_tensor, y_tensor)
            else:
                net.partial_fit(X_tensor, y_tensor, epochs=epochs)
        self.n_epochs_ = len(net.history)
        return net

    def _predict_output(self, X, method="predict_proba"):
        images = self._checked_images_for_prediction(X)
        self.net_.tta = self.tta
        predict = getattr(self.net_, method)
        with seeded_torch_rng(self.random_state, self.net_.device):
            # One skorch call per batch (the net's own batch_size is at least as large):
            # memory stays bounded by a batch, and an out-of-memory batch is halved and retried.
            return self._map_image_batches(predict, images, what=method)

    def __sklearn_tags__(self):
        tags = SkvisionTags.from_tags(super().__sklearn_tags__(), devices=ALL_DEVICES)
        tags.requires_fit = True
        # Images, not a feature table (see skvision._testing).
        tags.input_tags.three_d_array = True
        tags.input_tags.allow_nan = False
        tags.non_deterministic = self.random_state is None
        return tags
