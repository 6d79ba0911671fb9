"""AutoencoderFeatures: unsupervised features learned by reconstructing the images.

The encoder of a convolutional autoencoder, trained through skorch on unlabeled
images, maps each image to a short code; the code is the feature vector. The
decoder maps codes back to images (``inverse_transform``).
"""

from __future__ import annotations

import hashlib
from numbers import Integral, Real

import numpy as np
import torch
from sklearn.base import ClassNamePrefixFeaturesOutMixin, TransformerMixin
from sklearn.utils.validation import check_array, check_is_fitted
from skorch.callbacks import PassthroughScoring
from skorch.utils import to_tensor
from torch import nn

from .._compat import Interval, StrOptions, fit_context
from .._fit_state import keeps_state_on_error
from ._estimator import COMMON_PARAMETER_CONSTRAINTS, NeuralImageEstimator
from ._net import ImageNeuralNet
from ._torch_utils import call_seed, seeded_torch_rng
from .modules.autoencoders import ConvAutoencoder, ConvVAE

__all__ = ["AutoencoderFeatures"]

_KINDS = ("ae", "denoising", "vae")
_LOSSES = {"mse": nn.MSELoss, "bce": nn.BCELoss}


class AutoencoderNet(ImageNeuralNet):
    """skorch net of an autoencoder: the target of every image is the image itself.

    ``fit(X)`` takes no target. The loss compares the reconstruction with the
    (augmented, uncorrupted) training batch ``X`` that skorch hands to
    :meth:`get_loss`; with a criterion summing over pixels (``reduction='sum'``,
    as :class:`AutoencoderFeatures` sets it) the loss is the mean over the batch
    of the course's per-image ``||X_i - D(E(X_i))||^2``.

    Parameters
    ----------
    *args, **kwargs
        Those of skorch's ``NeuralNet`` and of
        :class:`skvision.neural._net.ImageNetMixin`.
    noise : float, default=0.0
        Denoising: standard deviation of the Gaussian noise added to the input
        of the module in training mode only.
    variational : bool, default=False
        The module returns ``(reconstruction, mu, logvar)``; the training loss
        adds ``beta`` times the KL divergence of q(z|x) from N(0, I), per image.
    beta : float, default=1.0
        Weight of the KL term.

    The validation loss (``valid_loss``, watched by early stopping) is the
    reconstruction loss alone, also for the VAE; the VAE's per-image KL term
    is recorded as ``train_kl``.
    """

    def __init__(self, *args, noise=0.0, variational=False, beta=1.0, **kwargs):
        self.noise = noise
        self.variational = variational
        self.beta = beta
        super().__init__(*args, **kwargs)

    def get_default_callbacks(self):
        callbacks = list(super().get_default_callbacks())
        if self.variational:
            # Recorded for inspection only: a smaller KL is not a better model.
            callbacks.append(
                ("train_kl", PassthroughScoring(name="train_kl", lower_is_better=None, on_train=True))
            )
        return callbacks

    def infer(self, x, **fit_params):
        x = to_tensor(x, device=self.device)
        if self.noise and self.module_.training:
            x = x + self.noise * torch.randn_like(x)
        if not self.variational:
            return super().infer(x, **fit_params)
        reconstruction, mu, logvar = super().infer(x, **fit_params)
        # skvision's nets pass one output tensor from infer to get_loss; the KL
        # term of this batch travels beside it and get_loss consumes it.
        self._batch_kl = (-0.5 * (1 + logvar - mu.square() - logvar.exp()).sum(dim=1)).mean()
        return reconstruction

    def get_loss(self, y_pred, y_true, X=None, training=False):
        target = to_tensor(X, device=self.device)
        # Losses in float32 whatever the precision (BCE is unsafe under float16 autocast).
        with torch.autocast(self.torch_device_.type, enabled=False):
            loss = self.criterion_(y_pred.float(), target.float()) / len(target)
            kl = self.__dict__.pop("_batch_kl", None)
            if training and kl is not None:
                kl = kl.float()
                self.history.record_batch("train_kl", kl.item())
                loss = loss + self.beta * kl
        return loss


class AutoencoderFeatures(ClassNamePrefixFeaturesOutMixin, TransformerMixin, NeuralImageEstimator):
    """Features learned without labels by a convolutional (denoising, variational) autoencoder.

    ``fit`` trains an encoder ``E`` and a decoder ``D`` to reconstruct the
    images, minimising ``sum_i ||X_i - D(E(X_i))||^2`` (or the binary cross
    entropy) through skorch; ``transform`` returns the codes ``E(X)``,
    ``inverse_transform`` decodes codes back to images. The training loop,
    validation split, early stopping, LR schedules, checkpoints and progress bar
    are skorch's.

    Images follow the skvision contract (:func:`skvision._images.check_images`):
    ``(N, H, W)`` or ``(N, H, W, C)`` channels-last, 1, 3 or 4 channels. The
    network works on float32 values: integer images are scaled to [0, 1] by
    their dtype's maximum (uint8 / 255), floating images are used as given.
    When the training images lie in [0, 1] the decoder ends with a sigmoid,
    otherwise with no activation.

    Parameters
    ----------
    kind : {'ae', 'denoising', 'vae'}, default='denoising'
        ``'ae'``: plain autoencoder. ``'denoising'``: the encoder sees the
        images corrupted by Gaussian noise of std ``noise`` during training and
        must reconstruct the clean ones; the default, because its codes are the
        better retrieval and classification features (on digits the plain
        autoencoder reconstructs as well, but its nearest neighbours agree less
        often than those of PCA of the same width; see docs/learned.md).
        ``'vae'``: variational autoencoder; the encoder gives the mean and
        log-variance of q(z|x) and the loss adds ``beta`` times its KL
        divergence from the prior N(0, I).
    latent_dim : int, default=16
        Width of the code (number of output features) of ``module='conv'``.
    filters : int or sequence of int, default=(32, 64)
        Channels of each encoder stage of ``module='conv'``; each stage halves
        the height and width, so images must be at least ``2 ** len(filters)``
        pixels a side. The decoder mirrors the encoder. Its other options are
        ``module__*`` parameters (``module__batch_norm=False`` drops the batch
        normalisation).
    noise : float, default=0.3
        Std of the input noise of ``kind='denoising'``, on the network's value
        scale ([0, 1] for uint8 images). Ignored by the other kinds. With 0.2
        the codes reconstruct better but their nearest neighbours agree with
        those of PCA of the same width, not more often, on the digits for two
        seeds in four (``benchmarks/bench_training.py``); 0.3 wins on every seed.
    beta : float, default=1.0
        Weight of the KL term of ``kind='vae'`` (beta-VAE). Ignored by the other kinds.
    loss : {'mse', 'bce'}, default='mse'
        Reconstruction loss per image: the sum of squared errors over pixels,
        or of the binary cross entropy (images in [0, 1] only).
    code : {'mean', 'sample'}, default='mean'
        What ``transform`` returns for ``kind='vae'``: the mean of q(z|x), or a
        draw from it. With ``random_state`` set, an image's draw depends only on
        the image (and the seed), not on the rest of the batch; None draws fresh
        noise each call. Ignored by the other kinds.
    module : 'conv', nn.Module class or instance, default='conv'
        ``'conv'``: :class:`~skvision.neural.modules.autoencoders.ConvAutoencoder`
        (:class:`~skvision.neural.modules.autoencoders.ConvVAE` for
        ``kind='vae'``) built from ``latent_dim`` and ``filters`` and the
        images' size and channels. A custom module (configured through
        ``module__*``; ``in_channels`` and ``input_size`` are filled from the
        images when it accepts them) needs ``encode(x)`` (for a
        VAE returning ``(mu, logvar)``), ``decode(z)`` and a ``forward``
        returning the reconstruction (for a VAE ``(reconstruction, mu, logvar)``).
    max_epochs : int or 'auto', default='auto'
        Epochs of training (fewer when early stopping ends it). ``'auto'``:
        as many as show the network about 90,000 images of 8x8 pixels, at
        least 5 and at most 60 (60 for up to 1,500 training images after the
        validation split, e.g. the digits; 5 from 18,000 on), so that the
        training time grows with the data no faster than one pass over it.
        Larger images count more: ``90,000 * sqrt(64 / (H * W))`` images
        (25,700 at 28x28: 10 epochs for 3,000 images, 36 s on two cores, not
        34 epochs and 129 s).
    batch_size : int, default=64
    lr : float, default=3e-3
        Learning rate (Adam's; batch normalisation in the built-in module
        makes it safe).
    optimizer : {'adam', 'adamw', 'sgd'} or torch optimizer class, default='adam'
    augment : {'none', 'light', 'standard'}, list of kornia modules or None, default='none'
        Random augmentation of each training batch on the device; the
        autoencoder reconstructs the augmented images (see
        :func:`skvision.neural._augment.build_augmentation`).
    early_stopping : bool, default=True
        Hold out ``validation_fraction`` of the images and stop when their
        reconstruction loss has not improved for ``n_iter_no_change`` epochs,
        restoring the best weights.
    validation_fraction : float, default=0.1
    n_iter_no_change : int, default=10
    lr_schedule : {'onecycle', 'cosine', 'step'} or None, default='cosine'
        The learning rate decays to zero over ``max_epochs`` along a cosine:
        the last epochs refine the code at a small step, which a constant
        rate (``None``) does not (its early stopping ends the digits' training
        at about 45 epochs with codes no better for retrieval than PCA's).
        ``'onecycle'`` also cycles the momentum (Adam's beta1) between 0.85 and
        0.95, unless ``optimizer__momentum`` or ``optimizer__betas`` is given.
    checkpoint : str, path or None, default=None
        Directory where the best parameters are saved during training, in a
        sub-folder per fit (``fit-<key>``, from the network's layers, the
        images and the training settings); a later ``fit`` of the same network
        on the same images with the same settings (or, with
        ``lr_schedule=None``, only a larger ``max_epochs``: a schedule is laid
        out over ``max_epochs``) resumes from them, and any other fit (another fold of a
        cross-validation, another grid-search candidate) trains afresh in its
        own sub-folder.
    device : str, torch.device or None, default='auto'
        Where the work runs: ``'auto'`` (or None) a CUDA GPU when torch sees
        one, else the CPU; ``'cpu'``, ``'cuda'``, ``'cuda:N'``, or ``'mps'``
        (Apple's GPU). A device torch does not see here is refused in ``fit``.
    precision : {'32', 'bf16', '16-mixed'}, default='32'
        Autocast precision of the forward passes (losses stay float32): float32,
        bfloat16 or float16 (bfloat16 on the CPU, with a warning).
    verbose : int, default=0
        ``>= 1`` prints skorch's epoch table and progress bar; at 0, a fit that
        runs longer than 10 s prints a line on stderr then, and every 30 s after (epoch, time so
        far and left).
    random_state : int, RandomState or None, default=None
        Seeds weight initialisation, the validation split, shuffling, noise
        and augmentation (reproducible on the CPU).
    callbacks : list of skorch callbacks or None, default=None
        Added after skvision's own.
    **kwargs
        skorch routed parameters: ``module__*``, ``optimizer__*`` (e.g.
        ``optimizer__weight_decay``), ``criterion__*``, ``iterator_train__*``,
        ``iterator_valid__*``, ``callbacks__*``.

    Attributes
    ----------
    net_ : AutoencoderNet
        The trained skorch net (``net_.history`` holds the losses per epoch).
    latent_dim_ : int
        Width of the code (the columns of ``transform``'s output).
    code_shape_ : tuple of int
        Shape of one image's code as the module's ``encode`` returns it:
        ``(latent_dim_,)``, or a feature map's ``(C, h, w)`` for a custom module,
        flattened by ``transform`` and reshaped for ``decode``.
    input_scale_ : ImageScale
        Value scale of the images seen in ``fit`` (see :mod:`skvision._images`).
    image_shape_ : tuple
        Shape of one training image, ``(H, W)`` or ``(H, W, C)``.
    n_channels_ : int
    output_activation_ : {'sigmoid', 'identity'}
        Last layer of the built-in decoder.
    n_epochs_ : int
        Epochs trained.
    interrupted_ : bool
        Whether a ``KeyboardInterrupt`` (Ctrl-C) ended the last training: the
        network is then the partly trained one it had, and a
        ``TrainingInterruptedWarning`` said so (early stopping is no interruption).
    max_epochs_ : int
        The epoch budget of the fit (``max_epochs``, or the number ``'auto'`` chose).
    device_ : str

    See Also
    --------
    sklearn.decomposition.PCA : The linear code of the same width (the baseline to beat).

    Examples
    --------
    >>> from skvision import AutoencoderFeatures
    >>> from skvision.datasets import load_digits
    >>> X, y = load_digits(return_X_y=True)
    >>> ae = AutoencoderFeatures(latent_dim=8, filters=(8,), max_epochs=1, device="cpu", random_state=0)
    >>> Z = ae.fit_transform(X[:100])
    >>> Z.shape, ae.inverse_transform(Z).shape
    ((100, 8), (100, 8, 8))
    >>> ae.get_feature_names_out()[:2].tolist()
    ['autoencoderfeatures0', 'autoencoderfeatures1']
    """

    _parameter_constraints: dict = {
        **{
            key: COMMON_PARAMETER_CONSTRAINTS[key]
            for key in (
                "max_epochs",
                "batch_size",
                "lr",
                "optimizer",
                "augment",
                "early_stopping",
                "validation_fraction",
                "n_iter_no_change",
                "lr_schedule",
                "checkpoint",
                "device",
                "precision",
                "verbose",
                "random_state",
                "callbacks",
            )
        },
        "kind": [StrOptions(set(_KINDS))],
        "latent_dim": [Interval(Integral, 1, None, closed="left")],
        "filters": ["array-like", Interval(Integral, 1, None, closed="left")],
        "noise": [Interval(Real, 0, None, closed="left")],
        "beta": [Interval(Real, 0, None, closed="left")],
        "loss": [StrOptions(set(_LOSSES))],
        "code": [StrOptions({"mean", "sample"})],
        "module": [StrOptions({"conv"}), type, callable, nn.Module],
    }

    # Mixup blends images and the targets' losses; for reconstruction the target
    # is the image, so the base nets' mixup does not apply: kept off.
    mixup = 0.0

    #: ``max_epochs='auto'``: about 90,000 images of 8x8 pixels shown (fewer larger ones), 5 to 60 epochs.
    _auto_epochs = (90_000, 5, 60)
    #: Pixels of the images the budget of ``_auto_epochs`` counts (the digits'). Larger images cost
    #: more per epoch and need fewer to match PCA: 3,000 28x28 textures took 129 s for the 34 epochs
    #: of the plain budget, with codes no better than 10 epochs' (logistic accuracy 0.703 both;
    #: reconstruction MSE 0.0095 against 0.0100, PCA(16) 0.0095) in 36 s.
    _AUTO_EPOCH_PIXELS = 64

    def __init__(
        self,
        kind="denoising",
        latent_dim=16,
        filters=(32, 64),
        noise=0.3,
        beta=1.0,
        loss="mse",
        code="mean",
        module="conv",
        max_epochs="auto",
        batch_size=64,
        lr=3e-3,
        optimizer="adam",
        augment="none",
        early_stopping=True,
        validation_fraction=0.1,
        n_iter_no_change=10,
        lr_schedule="cosine",
        checkpoint=None,
        device="auto",
        precision="32",
        verbose=0,
        random_state=None,
        callbacks=None,
        **kwargs,
    ):
        self.kind = kind
        self.latent_dim = latent_dim
        self.filters = filters
        self.noise = noise
        self.beta = beta
        self.loss = loss
        self.code = code
        self.module = module
        self.max_epochs = max_epochs
        self.batch_size = batch_size
        self.lr = lr
        self.optimizer = optimizer
        self.augment = augment
        self.early_stopping = early_stopping
        self.validation_fraction = validation_fraction
        self.n_iter_no_change = n_iter_no_change
        self.lr_schedule = lr_schedule
        self.checkpoint = checkpoint
        self.device = device
        self.precision = precision
        self.verbose = verbose
        self.random_state = random_state
        self.callbacks = callbacks
        self._store_routed_params(kwargs)

    #: What ``transform`` returns, not how the network trains: out of the checkpoint's key.
    _not_training_params = (*NeuralImageEstimator._not_training_params, "code")

    @property
    def _module_registry(self):
        return {"conv": ConvVAE if self.kind == "vae" else ConvAutoencoder}

    def _filters(self):
        filters = (self.filters,) if isinstance(self.filters, Integral) else tuple(self.filters)
        if not filters or not all(isinstance(f, Integral) and f >= 1 for f in filters):
            raise ValueError(
                f"filters must be a positive int or a non-empty sequence of them; got {self.filters!r}."
            )
        return tuple(int(f) for f in filters)

    def _routed_params(self, prefix=None):
        params = super()._routed_params(prefix)
        if prefix == "module__" and self.module == "conv":
            # latent_dim and filters are this estimator's own parameters but the
            # built-in module's too: the minimum image size depends on filters.
            return {"latent_dim": self.latent_dim, "filters": self._filters(), **params}
        return params

    # ------------------------------------------------------------------ fit
    @keeps_state_on_error
    @fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y=None):
        """Train the autoencoder on the images ``X``.

        Parameters
        ----------
        X : array-like of shape (N, H, W) or (N, H, W, C), or list of arrays
            Training images.
        y : ignored
            Present for Pipeline compatibility; the autoencoder needs no labels.

        Returns
        -------
        self : AutoencoderFeatures
        """
        self._filters()
        tensor = self._prepare_images(X)
        in_unit_range = bool(tensor.min() >= 0 and tensor.max() <= 1)
        if self.loss == "bce" and not in_unit_range:
            raise ValueError(
                f"loss='bce' needs images in [0, 1] (uint8 images are scaled to it); got values in "
                f"[{float(tensor.min()):.4g}, {float(tensor.max()):.4g}]. Use loss='mse' or rescale X."
            )
        self.output_activation_ = "sigmoid" if in_unit_range else "identity"
        if self.early_stopping and len(tensor) < 2:
            raise ValueError(
                "early_stopping=True holds out a validation split, which needs at least 2 images; "
                f"got {len(tensor)}."
            )

        architecture = {}
        if self.module == "conv":
            architecture = {
                "module__latent_dim": self.latent_dim,
                "module__filters": self._filters(),
                "module__output_activation": self.output_activation_,
            }
        net = self._build_net(
            AutoencoderNet,
            n_train=len(tensor),
            n_outputs=None,
            criterion=_LOSSES[self.loss],
            criterion__reduction="sum",
            noise=float(self.noise) if self.kind == "denoising" else 0.0,
            variational=self.kind == "vae",
            beta=float(self.beta),
            **architecture,
        )
        with seeded_torch_rng(self.random_state, self.device_):
            net.initialize()
        self.code_shape_ = self._probe(net.module_, tensor[:2].to(self.device_))
        self.latent_dim_ = int(np.prod(self.code_shape_))
        self.net_ = self._train(net, tensor, None)
        return self

    def _probe(self, module, sample):
        """Check a module against the images on two of them; return the shape of one image's code."""
        module.eval()
        with torch.no_grad():
            try:
                code = module.encode(sample)
                output = module(sample)
            except (RuntimeError, AttributeError) as exc:
                raise ValueError(
                    f"module={self._module_name()!r} cannot encode and reconstruct images of shape "
                    f"{self.image_shape_}: {exc}"
                ) from exc
        if self.kind == "vae":
            if not (isinstance(code, tuple) and len(code) == 2 and isinstance(output, tuple)):
                raise ValueError(
                    "kind='vae' needs a module whose encode(x) returns (mu, logvar) and whose forward "
                    "returns (reconstruction, mu, logvar)."
                )
            code, output = code[0], output[0]
        if output.shape != sample.shape:
            raise ValueError(
                f"module={self._module_name()!r} reconstructs images of shape {tuple(output.shape[1:])} "
                f"(C, H, W) from inputs of shape {tuple(sample.shape[1:])}; they must match."
            )
        return tuple(code.shape[1:])

    # ------------------------------------------------------------ transform
    def _batches(self, tensor):
        return tensor.split(self.batch_size)

    def _code_seed(self, sample):
        """Seed of the VAE's code draws for one ``transform`` call, or None for fresh noise."""
        return call_seed(self.random_state) if sample else None

    @staticmethod
    def _code_noise(batch, seed, shape):
        """Standard normal draws of ``shape``, one row per image of ``batch``.

        With a seed each image's row comes from (seed, a hash of its pixels), so
        an image's code does not depend on the other images of the call, their
        order, the batch size or how dask chunks them.
        """
        if seed is None:
            return torch.randn(shape)
        pixels = batch.reshape(len(batch), -1).numpy()
        noise = np.empty(shape, dtype=np.float32)
        for row, image in zip(noise, pixels):
            digest = hashlib.blake2b(image.tobytes(), digest_size=8).digest()
            rng = np.random.default_rng([seed, int.from_bytes(digest, "little")])
            row[...] = rng.standard_normal(row.shape, dtype=np.float32)
        return torch.from_numpy(noise)

    def _encode(self, tensor, sample, seed=None):
        module = self.net_.module_
        module.eval()
        codes = []
        with torch.no_grad(), self.net_._autocast():
            for batch in self._batches(tensor):
                code = module.encode(batch.to(self.net_.device))
                if self.kind == "vae":
                    mu, logvar = code
                    if sample:
                        # The reparameterisation z = mu + sigma * eps, eps drawn per image.
                        eps = self._code_noise(batch.cpu(), seed, tuple(mu.shape)).to(mu.device)
                        code = mu.float() + torch.exp(0.5 * logvar.float()) * eps
                    else:
                        code = mu
                codes.append(code.float().reshape(len(batch), -1).cpu())
        return torch.cat(codes)

    def transform(self, X):
        """Encode images into their codes.

        Parameters
        ----------
        X : array-like of shape (N, H, W) or (N, H, W, C), or list of arrays
            Images of the size seen in ``fit``.

        Returns
        -------
        codes : ndarray of shape (N, latent_dim_), dtype float32
            The encoder's output; for ``kind='vae'`` the mean of q(z|x), or a
            draw from it when ``code='sample'``.
        """
        images = self._checked_images_for_prediction(X)
        sample = self.kind == "vae" and self.code == "sample"
        seed = self._code_seed(sample)
        return self._map_image_batches(
            lambda tensor: self._encode(tensor, sample, seed).numpy(), images, what="transform"
        )

    def _decode(self, codes):
        module = self.net_.module_
        module.eval()
        images = []
        with torch.no_grad(), self.net_._autocast():
            # Codes are flat rows (transform's output); a module whose code is a feature map
            # decodes it in that shape.
            shape = getattr(self, "code_shape_", (self.latent_dim_,))
            for batch in self._batches(codes):
                batch = batch.reshape(len(batch), *shape).to(self.net_.device)
                images.append(module.decode(batch).float().cpu())
        return torch.cat(images)

    def _to_images(self, nchw):
        """NCHW tensor -> numpy images of the fitted shape (channels last)."""
        return nchw.permute(0, 2, 3, 1).reshape(len(nchw), *self.image_shape_).numpy()

    def inverse_transform(self, X):
        """Decode codes back to images.

        Parameters
        ----------
        X : array-like of shape (N, latent_dim_)
            Codes, as returned by ``transform`` (or drawn from the prior
            N(0, I) to generate images with a VAE).

        Returns
        -------
        images : ndarray of shape (N, *image_shape_), dtype float32
            On the network's value scale: [0, 1] for integer (e.g. uint8)
            training images, the training images' own scale for floats.
        """
        check_is_fitted(self, "net_")
        codes = check_array(X, dtype=np.float32, input_name="X")
        if codes.shape[1] != self.latent_dim_:
            raise ValueError(
                f"X has {codes.shape[1]} columns but {type(self).__name__} was fitted with codes of width "
                f"{self.latent_dim_}: inverse_transform expects an array of shape "
                f"(n_samples, {self.latent_dim_})."
            )
        return self._to_images(self._decode(torch.from_numpy(codes)))

    def reconstruct(self, X):
        """``inverse_transform(transform(X))`` for the deterministic code (the mean for a VAE).

        Parameters
        ----------
        X : array-like of shape (N, H, W) or (N, H, W, C), or list of arrays

        Returns
        -------
        images : ndarray of the shape of the validated ``X``, dtype float32
            On the network's value scale (see :meth:`inverse_transform`).
        """
        images = self._checked_images_for_prediction(X)
        return self._map_image_batches(
            lambda tensor: self._to_images(self._decode(self._encode(tensor, sample=False))),
            images,
            what="reconstruct",
        )

    def score(self, X, y=None):
        """Minus the mean reconstruction error per pixel (higher is better).

        The error is the training loss without the VAE's KL term, averaged over
        pixels and images: the mean squared error for ``loss='mse'``, the mean
        binary cross entropy for ``loss='bce'``, between the network-scale
        images and their reconstructions from the deterministic code.

        Parameters
        ----------
        X : array-like of shape (N, H, W) or (N, H, W, C), or list of arrays
        y : ignored

        Returns
        -------
        score : float
        """
        images = self._checked_images_for_prediction(X)

        def summed_error(tensor):
            # Per-image sums, so that batches of any size average to the same mean.
            reconstruction = self._decode(self._encode(tensor, sample=False))
            if self.loss == "bce":
                if tensor.min() < 0 or tensor.max() > 1:
                    raise ValueError("loss='bce' scores images in [0, 1] only; X has values outside.")
                error = nn.functional.binary_cross_entropy(
                    reconstruction.clamp(0, 1), tensor, reduction="none"
                )
            else:
                error = nn.functional.mse_loss(reconstruction, tensor, reduction="none")
            return error.double().flatten(1).sum(1).numpy()

        per_image = self._map_image_batches(summed_error, images, what="score")
        return -float(per_image.sum() / (len(images) * np.prod(self.image_shape_)))

    @property
    def _n_features_out(self):
        return self.latent_dim_

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.transformer_tags.preserves_dtype = ["float32"]
        return tags
