"""The sklearn side of the neural estimators: :class:`NeuralImageEstimator`, their common base.

skorch runs every training loop; :class:`NeuralImageEstimator` is the
``BaseEstimator`` users hold around it. It stores skorch's routed parameters
(``module__*``, ``optimizer__*``, ``criterion__*``, ``iterator_train__*``, ...)
as keyword arguments so ``get_params``, ``set_params``, ``clone`` and
``GridSearchCV`` reach them, and implements the fit plumbing: image validation
against the architecture's minimum size, module resolution with
``in_channels`` / ``input_size`` / ``n_outputs`` injected from the data,
device and precision, seeding, the callbacks and the net itself. Also here:
the parameter names and constraints every neural estimator shares
(:data:`COMMON_PARAMETER_CONSTRAINTS`, :data:`OPTIMIZERS`, :data:`ROUTED_PREFIXES`).

The neural core, top down (each module imports only those below it)::

    _estimator     NeuralImageEstimator: parameters, fit plumbing, prediction in batches
    _net           ImageNetMixin and the three skorch nets (training and prediction steps)
    _iterator      TensorBatchIterator (batches of in-memory tensors on the device)
    _callbacks     build_callbacks and skorch callback subclasses (schedules, checkpoint, resume)
    _introspection resolve_module, module_data_params, embedding_function, image validation

A new estimator subclasses :class:`NeuralImageEstimator`, lists its parameters in
``__init__`` (ending with ``**kwargs`` for the routed ones), picks a net class of
:mod:`._net` and calls ``_prepare_images``, ``_build_net`` and ``_train`` from its
``fit``; see :mod:`skvision.neural._cnn` for the classifier, regressor and feature
extractor.
"""

from __future__ import annotations

import copy
import hashlib
import math
import os
import time
import warnings
from numbers import Integral, Real

import numpy as np
import torch
from sklearn.base import BaseEstimator
from sklearn.utils.validation import check_is_fitted
from skorch.callbacks import EarlyStopping

from .._compat import Interval, StrOptions
from .._device import ALL_DEVICES
from .._images import check_scale
from .._tags import SkvisionTags
from .._warnings import user_stacklevel
from ._augment import AUGMENT_PRESETS, build_augmentation, tta_augmentation
from ._callbacks import LR_SCHEDULES, build_callbacks
from ._finetune import finetune_net_kwargs
from ._introspection import module_data_params, module_min_input_size, resolve_module, validate_images_for_net
from ._iterator import TensorBatchIterator, n_training_batches
from ._torch_utils import (
    PRECISIONS,
    call_seed,
    images_to_tensor,
    map_batches,
    resolve_device,
    seeded_torch_rng,
    warn_cpu_float16,
)
from .modules import MODULES

__all__ = [
    "ROUTED_PREFIXES",
    "OPTIMIZERS",
    "LR_SCHEDULES",
    "COMMON_PARAMETER_CONSTRAINTS",
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

#: Constraints of the parameters every :class:`NeuralImageEstimator` shares.
COMMON_PARAMETER_CONSTRAINTS = {
    "module": [str, type, callable, torch.nn.Module],
    "max_epochs": [Interval(Integral, 0, None, closed="left"), StrOptions({"auto"})],
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


def auto_max_epochs(n_fit: int, images: int, low: int, high: int) -> int:
    """The epochs of ``max_epochs='auto'``: enough to show about ``images`` images, within [low, high].

    Small sets get ``high`` epochs; from ``images / high`` images on, fewer epochs
    keep the training time in proportion to one pass over the data, never fewer
    than ``low``.

    Examples
    --------
    >>> auto_max_epochs(1_437, images=30_000, low=5, high=20), auto_max_epochs(60_000, 30_000, 5, 20)
    (20, 5)
    >>> auto_max_epochs(4_000, images=30_000, low=5, high=20)
    8
    """
    return int(min(high, max(low, math.ceil(images / max(1, n_fit)))))


def is_routed_param(name: str) -> bool:
    """Whether ``name`` is a skorch parameter routed through ``**kwargs``."""
    return name in _ROUTED_NAMES or name.startswith(ROUTED_PREFIXES)


#: Endings of weight files that a parameter names without a folder in the path.
_WEIGHT_FILE_ENDINGS = (".pth", ".pt", ".safetensors", ".bin", ".ckpt")


def _with_file_digest(value):
    """``value``, or ``(path, digest of the file's bytes)`` when it names a weights file.

    A checkpoint's key held ``module__weights`` as a path only: after new
    weights were saved to the same file, a fit resumed the finished fit of
    the old ones (1 s instead of 8, the old model's predictions) without a word.
    """
    is_path = isinstance(value, os.PathLike) or (
        isinstance(value, str) and (os.sep in value or value.endswith(_WEIGHT_FILE_ENDINGS))
    )
    if not is_path or not os.path.isfile(value):
        return value
    digest = hashlib.blake2b(digest_size=8)
    with open(value, "rb") as file:
        for block in iter(lambda: file.read(1 << 20), b""):
            digest.update(block)
    return (os.fspath(value), digest.hexdigest())


def _shape_fix(given, fitted):
    """The end of the message for images of another shape than fit's: what to do about it."""
    if given[:2] != fitted[:2]:
        return f"; resize them first: skvision.preprocessing.Resize({fitted[:2]})."
    grey = "grey (no channel axis)" if len(given) == 2 else f"{given[2]}-channel"
    wanted = "grey (no channel axis)" if len(fitted) == 2 else f"{fitted[2]}-channel"
    if len(fitted) == 2:
        fix = "skvision.preprocessing.Grayscale(), or read them with color_mode='gray'"
    elif len(given) == 2 and fitted[2] == 3:
        fix = (
            "read them as colour (load_image_folder or ImageLoader with color_mode='rgb'), or repeat "
            "the grey plane: np.repeat(X[..., None], 3, axis=-1)"
        )
    elif len(given) == 3 and given[2] == 4 and fitted[2] == 3:
        fix = "drop the alpha channel: X[..., :3]"
    else:
        fix = "pass images with the channels of the training images"
    return f": {grey} images where the training images were {wanted}; {fix}."


class TrainingInterruptedWarning(UserWarning):
    """A fit ended by a ``KeyboardInterrupt``: the estimator holds a partly trained network."""


#: A Ctrl-C that ends a fit less than this many seconds after another fit of the process was ended by
#: one propagates (after keeping the network it had): the first ends one training, the second the run.
SECOND_INTERRUPT_SECONDS = 60.0

# time.monotonic() when the last fit ended by a Ctrl-C returned (None: none yet, in this process).
_last_interrupt = [None]


def _is_second_interrupt():
    """Note a fit ended by Ctrl-C now; whether another one ended less than ``SECOND_INTERRUPT_SECONDS`` ago.

    A cross-validation or a search fits estimators one after another: a fit that
    swallows Ctrl-C (to keep its network) only moves the loop on to its next
    fit, so the user's second Ctrl-C must reach the loop.
    """
    now, previous = time.monotonic(), _last_interrupt[0]
    _last_interrupt[0] = now
    return previous is not None and now - previous < SECOND_INTERRUPT_SECONDS


def _interrupted_message(estimator, net, budget):
    history = net.history
    done = len(history) if len(history) and "dur" in history[-1] else len(history) - 1  # 'dur': epoch end
    if done == len(history):
        when, network = f"after epoch {done} of {budget}", f"the one of epoch {done}"
    else:
        when, network = (
            f"during epoch {done + 1} of {budget}",
            f"the one it had part-way through epoch {done + 1}",
        )
    for _, callback in net.callbacks_:
        best = getattr(callback, "best_epoch_", None)
        if isinstance(callback, EarlyStopping) and callback.load_best and best is not None and best != done:
            network = f"the one of epoch {best}, its best (early stopping's load_best)"
    return (
        f"{estimator._name}: training interrupted (KeyboardInterrupt) {when}: the network is "
        f"{network}; scores of this fit (in cross-validation or a search) are of a partly trained model. "
        f"interrupted_ is True. A second Ctrl-C within {SECOND_INTERRUPT_SECONDS:.0f} s stops the run "
        "(a cross-validation or a search goes on to its next fit otherwise)."
    )


def _net_input(images: np.ndarray) -> torch.Tensor:
    """Validated channels-last images -> a float32 NCHW tensor on the CPU (uint8 scaled to [0, 1])."""
    return images_to_tensor(images, device=None, dtype=torch.float32)


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

    #: ``max_epochs='auto'``: (images shown, fewest epochs, most epochs), see :func:`auto_max_epochs`.
    _auto_epochs = (30_000, 5, 20)

    @property
    def _name(self):
        """The estimator's name in messages: its class, or the wrapper's that fits it (CNNFeatures)."""
        return getattr(self, "_shown_as", None) or type(self).__name__

    def _refuse_keywords(self, method, keywords):
        """Python's TypeError for keyword arguments ``method`` does not take, naming the public class.

        A shared ``fit(self, X, y)`` would otherwise name the private base
        class in the message; ``sample_weight`` (which sklearn users pass
        through ``cross_validate(params=...)``) also says what to do instead.
        """
        if not keywords:
            return
        name = next(iter(keywords))
        hint = ""
        if name == "sample_weight":
            hint = ": the training loss does not weight single samples"
            if hasattr(type(self), "predict_proba"):
                hint += "; class_weight='balanced' (or a dict) weighs the classes"
        raise TypeError(f"{self._name}.{method}() got an unexpected keyword argument {name!r}{hint}")

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

    #: Parameters that do not change what training computes, left out of a checkpoint's key
    #: (:meth:`_fit_settings`). Subclasses add their prediction-only parameters.
    _not_training_params = (
        # The folder itself, and what is printed.
        "checkpoint",
        "verbose",
        # The device: a training killed on one machine may be resumed on another (the checkpoint is
        # loaded onto the fit's device); the numbers differ only by the devices' float rounding.
        "device",
        # max_epochs: without a schedule over it, a fit with a larger budget resumes a finished or
        # interrupted one and trains the remaining epochs (documented in ``checkpoint``); a checkpoint
        # with more epochs than the budget is not resumed (_ResumeFromCheckpoint warns and trains
        # afresh). With a schedule (``_training_follows_max_epochs``) it is part of the key after all.
        "max_epochs",
        # The user's callbacks: mostly loggers, or the one that interrupted the fit being resumed
        # (their objects have no stable identity either). callbacks__* of skvision's own schedule
        # and early stopping do change the training and are kept (see _fit_settings).
        "callbacks",
        # Prediction only.
        "tta",
    )

    def _fit_settings(self):
        """The parameters that make a fit's training what it is: part of its checkpoint's key.

        Every parameter (``get_params(deep=False)``, routed ``module__*``,
        ``optimizer__*``, ... included) except :attr:`_not_training_params` and
        the ``callbacks__*`` of callbacks other than skvision's LR schedule and
        early stopping, with the estimator's class. Two fits that differ in
        any of them (a grid search over ``lr``, another ``random_state``,
        ``batch_size``, ``augment``, ...) never resume each other's checkpoint.
        """
        settings = {"estimator": type(self)}
        for name, value in self.get_params(deep=False).items():
            if name in self._not_training_params:
                continue
            if name.startswith("callbacks__") and not name.startswith(
                ("callbacks__lr_schedule__", "callbacks__early_stopping__")
            ):
                continue
            settings[name] = _with_file_digest(value)
        if self._training_follows_max_epochs():
            # A schedule laid out over max_epochs: 4 epochs of a one-cycle fit are not the first 4 of
            # an 8-epoch one, so an 8-epoch fit resuming a finished 4-epoch checkpoint was neither
            # (a grid search over max_epochs: 0.762 against 0.818 without the checkpoint folder).
            settings["max_epochs"] = getattr(self, "max_epochs_", self.max_epochs)
        return settings

    def _training_follows_max_epochs(self):
        """Whether the epochs run depend on ``max_epochs`` (a learning-rate schedule over it)."""
        return getattr(self, "lr_schedule", None) is not None

    # -- fit plumbing
    def _module_name(self):
        if isinstance(self.module, str):
            return self.module
        return getattr(self.module, "__name__", type(self.module).__name__)

    def _prepare_images(self, X):
        """Validate parameters that need no data, then the training images (min size of the module).

        Sets ``image_shape_``, ``n_channels_``, ``device_``, ``input_scale_`` (the
        value scale, see :mod:`skvision._images`) and returns the images as a CPU
        float tensor (NCHW) of intensities in [0, 1] (for images that follow the rule).
        """
        self._check_unknown_params()
        self._module_factory = resolve_module(self.module, self._module_registry)
        self.device_ = str(resolve_device(self.device, owner=self._name))
        warn_cpu_float16(self.precision, self.device_, self._name)
        build_augmentation(self.augment)  # an unknown preset fails before any work
        user_params = self._routed_params("module__")
        min_size = module_min_input_size(self._module_factory, user_params)
        reason = None
        if min_size is not None:
            shown = ", ".join(f"{k}={v!r}" for k, v in sorted(user_params.items()))
            reason = f"module={self._module_name()!r}" + (f" with {shown}" if shown else "")
        images, scale = validate_images_for_net(
            X, min_size=min_size, min_size_reason=reason, return_scale=True
        )
        check_scale(scale, owner=self._name, images=images)
        self.input_scale_ = scale
        self.image_shape_ = tuple(images.shape[1:])
        self.n_channels_ = 1 if images.ndim == 3 else images.shape[3]
        return _net_input(images)

    def _checked_images_for_prediction(self, X) -> np.ndarray:
        """Validated images of the fitted shape, still numpy (a memmap stays a memmap)."""
        check_is_fitted(self, "net_")
        images, scale = validate_images_for_net(X, return_scale=True)
        # A batch on another value scale than fit's gives wrong predictions silently: refuse it.
        check_scale(scale, owner=self._name, fitted=getattr(self, "input_scale_", None), images=images)
        if tuple(images.shape[1:]) != self.image_shape_:
            raise ValueError(
                f"X has images of shape {tuple(images.shape[1:])} but {self._name} was fitted on "
                f"images of shape {self.image_shape_}"
                + _shape_fix(tuple(images.shape[1:]), tuple(self.image_shape_))
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
            what=f"{what} of {self._name}",
            verbose=bool(self.verbose),
            desc=self._name,
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

        # A RandomState instance too (it was left out: a fresh RandomState(0) gave another split, hence
        # other weights, at every fit); None leaves the split unseeded.
        return ValidSplit(self.validation_fraction, stratified=stratify, random_state=self.random_state)

    def _check_validation_split(self, y_encoded, n_train):
        """With ``early_stopping``: the validation split must be possible, or say why in our words.

        ``y_encoded`` (labels 0..K-1) for a stratified split (classifiers), else ``None``.
        The split is skorch's ``ValidSplit``: ``ceil(validation_fraction * n)`` held out.
        """
        if not self.early_stopping:
            return
        fraction = self.validation_fraction
        n_valid = int(np.ceil(n_train * fraction))
        fix = "or set early_stopping=False"
        if y_encoded is None:
            if n_train - n_valid < 1:
                raise ValueError(
                    f"early_stopping=True holds out validation_fraction={fraction} of the {n_train} training "
                    f"images ({n_valid}), leaving none to train on: lower validation_fraction, train on more "
                    f"images, {fix}."
                )
            return
        counts = np.bincount(y_encoded)
        n_classes = int((counts > 0).sum())
        single = np.flatnonzero(counts == 1)
        if single.size:
            labels = getattr(self, "classes_", np.arange(len(counts)))[single]
            shown = ", ".join(map(repr, labels[:10].tolist())) + (", ..." if single.size > 10 else "")
            raise ValueError(
                f"early_stopping=True holds out a stratified validation_fraction={fraction} of the training "
                f"images, which needs at least 2 images of every class; {single.size} class(es) have one "
                f"({shown}): train on more images, {fix}."
            )
        if n_valid < n_classes or n_train - n_valid < n_classes:
            smallest = n_classes / n_train
            raise ValueError(
                f"early_stopping=True holds out validation_fraction={fraction} of the {n_train} training "
                f"images, {n_valid} images, but a stratified split needs at least one image of each of the "
                f"{n_classes} classes on both sides: "
                + (
                    f"raise validation_fraction to at least {smallest:.3g} ({n_classes} images), "
                    if n_train >= 2 * n_classes
                    else f"train on at least {2 * n_classes} images, "
                )
                + f"{fix}."
            )

    #: Pixels per image that the budget of ``_auto_epochs`` counts; larger images count
    #: ``sqrt(pixels / _AUTO_EPOCH_PIXELS)`` images each. ``None``: every image counts one.
    _AUTO_EPOCH_PIXELS = None

    def _auto_epoch_budget(self):
        """``(images shown, fewest epochs, most epochs)`` of ``max_epochs='auto'`` (``_auto_epochs``),
        the images shown fewer for images larger than ``_AUTO_EPOCH_PIXELS``."""
        images, low, high = self._auto_epochs
        pixels = self.image_shape_[0] * self.image_shape_[1]
        if self._AUTO_EPOCH_PIXELS is not None and pixels > self._AUTO_EPOCH_PIXELS:
            images = int(images * math.sqrt(self._AUTO_EPOCH_PIXELS / pixels))
        return images, low, high

    def _resolve_max_epochs(self, n_fit, *, warn=True):
        """Set ``max_epochs_`` from ``max_epochs`` (``'auto'``: from ``n_fit`` training images)."""
        if self.max_epochs == "auto":
            self.max_epochs_ = auto_max_epochs(n_fit, *self._auto_epoch_budget())
        else:
            self.max_epochs_ = int(self.max_epochs)
        if self.max_epochs_ == 0 and warn:
            warnings.warn(
                f"{self._name}(max_epochs=0) trains nothing: the network keeps its random initialisation "
                "(a random-features baseline at best). Pass max_epochs >= 1 or 'auto' to train it.",
                UserWarning,
                stacklevel=user_stacklevel(),
            )

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
        self._resolve_max_epochs(n_fit, warn=not partial)
        routed = self._routed_params()
        callbacks = (
            []
            if partial
            else build_callbacks(
                lr=self.lr,
                max_epochs=self.max_epochs_,
                steps_per_epoch=n_training_batches(n_fit, self.batch_size),
                validation=train_split is not None,
                early_stopping=self.early_stopping,
                n_iter_no_change=self.n_iter_no_change,
                lr_schedule=self.lr_schedule,
                # A momentum the user set is kept (one-cycle cycled it between 0.85 and 0.95, silently:
                # optimizer='sgd', optimizer__momentum=0 trained with heavy momentum).
                cycle_momentum=not ({"optimizer__momentum", "optimizer__betas"} & set(routed)),
                checkpoint=self.checkpoint,
                restore_rng=self.random_state is not None,  # _train forks torch's generators then
                fit_settings=self._fit_settings() if self.checkpoint is not None else None,
                verbose=self.verbose,
                long_fit_lines=self._name,
            )
        )
        callbacks = callbacks + list(self.callbacks or [])
        kwargs = dict(
            module=module,
            criterion=criterion,
            optimizer=self._optimizer_class(),
            lr=self.lr,
            max_epochs=self.max_epochs_,
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
        if torch.get_default_dtype() != torch.float32:
            # The module's weights would be built in it and the images come as float32: the probe failed
            # with "Input type (torch.FloatTensor) and weight type (torch.DoubleTensor)", read as a shape.
            raise TypeError(
                f"torch's default dtype is {torch.get_default_dtype()} (torch.set_default_dtype); "
                f"{type(self).__name__} computes in float32 (precision= for bfloat16 / float16): set it back "
                "with torch.set_default_dtype(torch.float32) before fitting."
            )
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
        """Run skorch's fit (or partial_fit, ``epochs`` given) under the estimator's random_state.

        A ``KeyboardInterrupt`` (Ctrl-C) ends the training and keeps the network
        it had (skorch's behaviour: no work lost), sets ``interrupted_`` and
        warns with :class:`TrainingInterruptedWarning`: inside
        ``cross_val_score`` or a search the fit returns normally and is scored,
        so the warning is the only sign that the scores are of a partly trained
        model. A Ctrl-C that ends a fit within ``SECOND_INTERRUPT_SECONDS`` of
        another such fit is re-raised once the network is kept (``net_``), so
        that a second Ctrl-C stops the loop around the fits.
        """
        budget = net.max_epochs if epochs is None else len(net.history) + epochs
        with seeded_torch_rng(self._random_state_for_epochs(net), self.device_):
            if epochs is None:
                net.partial_fit(X_tensor, y_tensor)
            else:
                net.partial_fit(X_tensor, y_tensor, epochs=epochs)
        self.n_epochs_ = len(net.history)
        self.interrupted_ = bool(getattr(net, "interrupted_", False))
        if self.interrupted_:
            if _is_second_interrupt():
                self.net_ = net
                raise KeyboardInterrupt(
                    f"{self._name}: a second Ctrl-C within {SECOND_INTERRUPT_SECONDS:.0f} s of the "
                    "last: the run stops (this estimator keeps the network it had, interrupted_ is True)"
                )
            warnings.warn(
                _interrupted_message(self, net, budget),
                TrainingInterruptedWarning,
                stacklevel=user_stacklevel(),
            )
        return net

    def _random_state_for_epochs(self, net):
        """The ``random_state`` that seeds the epochs after ``net``'s history: an integer seed's own
        value for a fresh net, one derived from it and the epochs done for a ``partial_fit`` that
        continues (each call replayed the first one's shuffles, mixup weights and augmentations:
        a loop of ``partial_fit`` calls saw each image distorted one fixed way)."""
        if not isinstance(self.random_state, Integral) or not len(net.history):
            return self.random_state
        return int(np.random.SeedSequence([int(self.random_state), len(net.history)]).generate_state(1)[0])

    def _predict_output(self, X, method="predict_proba"):
        images = self._checked_images_for_prediction(X)
        self.net_.tta = self.tta
        self.net_.tta_seed = call_seed(self.random_state)
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
