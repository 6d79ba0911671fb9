"""skvision's skorch nets: the image tools added to skorch's training and prediction steps.

:class:`ImageNetMixin` adds batch augmentation on the device (training only),
mixup, ``precision`` (autocast; a gradient scaler for ``'16-mixed'`` on CUDA),
test-time augmentation, resumable epoch counting and penultimate embeddings.
It is mixed into :class:`ImageNeuralNet`, :class:`ImageNeuralNetClassifier`
and :class:`ImageNeuralNetRegressor`, the nets the estimators build in
``fit`` (the estimators of :mod:`._cnn` and :mod:`._autoencoder` pick one).

Imports :mod:`._iterator` (its default data path) and :mod:`._introspection`
(embeddings); the private skorch methods it calls or overrides are listed in
:data:`skvision._compat.SKORCH_PRIVATES`.
"""

from __future__ import annotations

import torch
from skorch import NeuralNet, NeuralNetClassifier, NeuralNetRegressor
from skorch.callbacks import EarlyStopping
from skorch.dataset import unpack_data
from skorch.utils import to_tensor

from ._augment import augment_each_image, image_seeds
from ._callbacks import TerminalColourPrintLog
from ._introspection import embedding_function
from ._iterator import TensorBatchIterator, _dataset_tensors
from ._torch_utils import autocast

__all__ = ["ImageNetMixin", "ImageNeuralNet", "ImageNeuralNetClassifier", "ImageNeuralNetRegressor"]


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

    def get_default_callbacks(self):
        # skorch's epoch table, without colour codes where its lines go to a file or a pipe.
        return [
            (name, TerminalColourPrintLog() if name == "print_log" else callback)
            for name, callback in super().get_default_callbacks()
        ]

    def initialize_module(self):
        super().initialize_module()
        # Convolutions in channels_last: oneDNN trains and predicts 1.3-2x faster with it on the
        # CPU than in NCHW (BENCHMARKS.md, Training), and cuDNN's tensor-core kernels prefer it.
        # Only 4-D parameters change layout; inputs need not: a convolution with channels_last
        # weights returns channels_last maps whatever its input's layout.
        self.module_.to(memory_format=torch.channels_last)
        return self

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
        # skorch's partial_fit swallows a KeyboardInterrupt (its EarlyStopping stops training by raising
        # one): record here whether it was the user's (Ctrl-C), for the estimator to say so.
        self.interrupted_ = False
        try:
            return super().fit_loop(X, y, epochs=epochs, **fit_params)
        except KeyboardInterrupt:
            self.interrupted_ = not any(
                isinstance(callback, EarlyStopping) and getattr(callback, "misses_", 0) >= callback.patience
                for _, callback in getattr(self, "callbacks_", [])
            )
            raise

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
            if yi.is_floating_point():
                # Regression mixes the targets (mixup's own rule): the same gradient as mixing two squared
                # errors, without their constant w(1-w)(y-y')^2, which inflated the logged train_loss.
                yi, partner = weight * yi + (1.0 - weight) * yi[partner], None
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
        # (_zero_grad_optimizer and _optimizers are skorch privates: see _compat.SKORCH_PRIVATES.)
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
                outputs = [output] + [self.infer(view) for view in self._tta_views(Xi, self.tta)]
                return self._average_tta(outputs)
        return output.float()

    def _tta_views(self, X, copies):
        """``copies`` augmented copies of the batch ``X``, each image's draws seeded by its pixels.

        The seed of the call is ``tta_seed`` (set by the estimator from its
        ``random_state``); a net without one draws a fresh seed.
        """
        seed = getattr(self, "tta_seed", None)
        if seed is None:
            seed = int(torch.randint(2**62, ()))
        X_device = to_tensor(X, device=self.device)
        return [
            augment_each_image(self.tta_augmentation, X_device, image_seeds(X, seed, copy))
            for copy in range(1, copies + 1)
        ]

    def forward_embedding(self, X, tta=0):
        """Penultimate activations of the module for ``X`` (see :func:`embedding_function`), on the CPU.

        ``tta``: the mean of the plain embedding and those of ``tta`` copies
        augmented by ``tta_augmentation`` (as predictions average them).
        """
        self.check_is_fitted()
        embed = embedding_function(self.module_)
        iterator = self.get_iterator(self.get_dataset(X), training=False)
        self._set_training(False)
        parts = []
        with torch.no_grad(), self._autocast():
            for batch in iterator:
                Xi, _ = unpack_data(batch)
                output = embed(to_tensor(Xi, device=self.device)).float()
                if tta and self.tta_augmentation is not None:
                    views = [output] + [embed(view).float() for view in self._tta_views(Xi, tta)]
                    output = torch.stack(views).mean(0)
                parts.append(output.cpu())
        return torch.cat(parts)


class ImageNeuralNet(ImageNetMixin, NeuralNet):
    """skorch ``NeuralNet`` with skvision's image tools (for custom criteria: autoencoders, ...)."""


class ImageNeuralNetClassifier(ImageNetMixin, NeuralNetClassifier):
    """skorch ``NeuralNetClassifier`` with skvision's image tools; TTA averages probabilities."""

    _tta_average = "probabilities"


class ImageNeuralNetRegressor(ImageNetMixin, NeuralNetRegressor):
    """skorch ``NeuralNetRegressor`` with skvision's image tools."""
