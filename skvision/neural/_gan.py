"""GANFeatures: unsupervised features from the discriminator of a deep convolutional GAN.

A generator ``G`` and a discriminator ``D`` are trained against each other on
unlabeled images (Radford, Metz & Chintala, 2015: DCGAN) through skorch, with
two Adam optimizers. ``transform`` returns the discriminator's convolutional
activations, each layer max-pooled to a small grid, flattened and concatenated
(the paper's recipe for using a GAN as a feature extractor); ``sample`` draws
new images from the generator.
"""

from __future__ import annotations

import contextlib
import os
from numbers import Integral, Real

import numpy as np
import torch
from sklearn.base import ClassNamePrefixFeaturesOutMixin, TransformerMixin
from sklearn.utils import check_random_state
from sklearn.utils.validation import check_is_fitted
from skorch.callbacks import PassthroughScoring
from skorch.dataset import unpack_data
from skorch.utils import noop, to_tensor
from torch import nn

from .._compat import Interval, StrOptions, fit_context
from .._fit_state import keeps_state_on_error
from .._images import intensity_white
from ._callbacks import (
    TerminalProgressBar,
    _AtomicCheckpoint,
    _ResumeFromCheckpoint,
    _StopOnNonFiniteLoss,
    long_fit_lines_callback,
)
from ._estimator import COMMON_PARAMETER_CONSTRAINTS, NeuralImageEstimator
from ._introspection import validate_images_for_net
from ._iterator import TensorBatchIterator, n_training_batches
from ._net import ImageNeuralNet
from ._torch_utils import map_batches, seeded_torch_rng
from .modules.gan import DCGAN

__all__ = ["GANFeatures"]

_POOLINGS = {"max": nn.functional.adaptive_max_pool2d, "avg": nn.functional.adaptive_avg_pool2d}


@contextlib.contextmanager
def _frozen(module):
    """Parameters of ``module`` excluded from autograd for the block (the discriminator in G's step)."""
    flags = [(p, p.requires_grad) for p in module.parameters()]
    for p, _ in flags:
        p.requires_grad_(False)
    try:
        yield
    finally:
        for p, flag in flags:
            p.requires_grad_(flag)


class GANNet(ImageNeuralNet):
    """skorch net of a GAN: one module holding ``generator`` and ``discriminator``, two optimizers.

    ``module_`` is the whole GAN (its ``forward`` is the discriminator's logit,
    ``generate(z)`` the generator). ``optimizer_`` trains the discriminator's
    parameters and ``optimizer_generator_`` the generator's; both are built from
    the ``optimizer`` class and its ``optimizer__*`` parameters. ``fit(X)``
    needs no target.

    Each training batch of real images ``x`` makes two steps (skorch's
    ``train_step``), with ``z ~ N(0, I)`` drawn from torch's generator:

    1. discriminator: minimise ``BCE(D(x + e), 1 - label_smoothing) + BCE(D(G(z) + e'), 0)``
       (the fake images detached from the generator);
    2. generator: minimise the non-saturating ``BCE(D(G(z) + e''), 1) = -log D(G(z) + e'')``
       through the updated discriminator (whose parameters get no gradient).

    ``e``, ``e'``, ``e''`` are instance noise: Gaussian, drawn afresh for every
    image and pixel, of standard deviation ``instance_noise * (1 - epoch /
    max_epochs)`` on the network's [-1, 1] scale (``epoch`` counts from 0), so it
    fades linearly to nothing by the end of training.

    ``train_loss`` in the history is the discriminator's loss;
    ``train_generator_loss`` the generator's; ``train_real_prob`` and
    ``train_fake_prob`` the discriminator's mean probability of "real" on the
    real and on the generated images of the batch (before its update).

    Parameters
    ----------
    *args, **kwargs
        Those of skorch's ``NeuralNet`` and of
        :class:`skvision.neural._net.ImageNetMixin`.
    label_smoothing : float, default=0.1
        One-sided label smoothing: the discriminator's target for real images
        is ``1 - label_smoothing``; for generated ones it stays 0.
    instance_noise : float, default=0.0
        Standard deviation of the instance noise at the first epoch.
    """

    def __init__(self, *args, label_smoothing=0.1, instance_noise=0.0, **kwargs):
        self.label_smoothing = label_smoothing
        self.instance_noise = instance_noise
        super().__init__(*args, **kwargs)

    def noise_level(self):
        """The instance noise's standard deviation in the current epoch (0-based: ``len(history) - 1``)."""
        epoch = max(len(self.history) - 1, 0)
        return float(self.instance_noise) * max(0.0, 1.0 - epoch / max(int(self.max_epochs), 1))

    @staticmethod
    def _noisy(images, sigma):
        return images + sigma * torch.randn_like(images) if sigma > 0 else images

    def get_default_callbacks(self):
        callbacks = list(super().get_default_callbacks())
        for name in ("train_generator_loss", "train_real_prob", "train_fake_prob"):
            # Recorded for inspection: none of them says on its own that the GAN got better.
            callbacks.append((name, PassthroughScoring(name=name, lower_is_better=None, on_train=True)))
        return callbacks

    #: What ``module_`` must offer besides ``forward(x)`` (the discriminator's logit).
    gan_interface = ("generator", "discriminator", "generate", "feature_maps", "latent_dim")

    def initialize_module(self):
        super().initialize_module()
        missing = [name for name in self.gan_interface if not hasattr(self.module_, name)]
        if missing:
            raise ValueError(
                f"The module {type(self.module_).__name__} lacks {missing}: a GAN module needs generator and "
                "discriminator submodules, latent_dim, generate(z), feature_maps(x) and a forward(x) giving "
                "one logit per image."
            )
        return self

    def initialize_optimizer(self, *args, **kwargs):
        discriminator = self.module_.discriminator.named_parameters()
        args, kwargs = self.get_params_for_optimizer("optimizer", discriminator)
        self.optimizer_ = self.optimizer(*args, **kwargs)
        generator = self.module_.generator.named_parameters()
        args, kwargs = self.get_params_for_optimizer("optimizer", generator)
        self.optimizer_generator_ = self.optimizer(*args, **kwargs)
        return self

    def discriminator_loss(self, logits_real, logits_fake):
        """``BCE(D(x), 1 - label_smoothing) + BCE(D(G(z)), 0)``, each a mean over the batch (float32)."""
        logits_real, logits_fake = logits_real.float(), logits_fake.float()
        real_target = torch.full_like(logits_real, 1.0 - float(self.label_smoothing))
        return self.criterion_(logits_real, real_target) + self.criterion_(
            logits_fake, torch.zeros_like(logits_fake)
        )

    def generator_loss(self, logits_fake):
        """The non-saturating generator loss ``BCE(D(G(z)), 1) = mean(-log D(G(z)))`` (float32)."""
        logits_fake = logits_fake.float()
        return self.criterion_(logits_fake, torch.ones_like(logits_fake))

    def _backward_and_step(self, loss, optimizer, module, batch, scaler):
        (scaler.scale(loss) if scaler is not None else loss).backward()
        if scaler is not None:
            scaler.unscale_(optimizer)
        self.notify(
            "on_grad_computed",
            named_parameters=list(module.named_parameters()),
            batch=batch,
            training=True,
        )
        if scaler is not None:
            scaler.step(optimizer)
        else:
            optimizer.step()

    def train_step(self, batch, **fit_params):
        self._set_training(True)
        Xi, _ = unpack_data(batch)
        real = to_tensor(Xi, device=self.device)
        gan = self.module_
        scaler = self._grad_scaler()
        z = torch.randn(len(real), gan.latent_dim, device=real.device)
        sigma = self.noise_level()

        # 1. The discriminator, on real images and on generated ones (detached from G).
        self.optimizer_.zero_grad()
        with self._autocast():
            fake = gan.generate(z)
            logits_real = gan(self._noisy(real, sigma))
            logits_fake = gan(self._noisy(fake.detach(), sigma))
        d_loss = self.discriminator_loss(logits_real, logits_fake)
        self._backward_and_step(d_loss, self.optimizer_, gan.discriminator, batch, scaler)

        # 2. The generator, through the updated discriminator (frozen: no gradient for it).
        self.optimizer_generator_.zero_grad()
        with _frozen(gan.discriminator):
            with self._autocast():
                logits_generated = gan(self._noisy(fake, sigma))
            g_loss = self.generator_loss(logits_generated)
            self._backward_and_step(g_loss, self.optimizer_generator_, gan.generator, batch, scaler)
        if scaler is not None:
            scaler.update()

        with torch.no_grad():
            self.history.record_batch("train_generator_loss", g_loss.item())
            self.history.record_batch("train_real_prob", torch.sigmoid(logits_real.float()).mean().item())
            self.history.record_batch("train_fake_prob", torch.sigmoid(logits_fake.float()).mean().item())
        return {"loss": d_loss.detach(), "y_pred": logits_real.detach().float()}


class GANFeatures(ClassNamePrefixFeaturesOutMixin, TransformerMixin, NeuralImageEstimator):
    """Features learned without labels by the discriminator of a deep convolutional GAN (DCGAN).

    ``fit`` trains a generator ``G``, which maps noise ``z ~ N(0, I)`` to
    images, and a discriminator ``D``, which tells real images from generated
    ones, against each other (the minimax game
    ``min_G max_D E[log D(x)] + E[log(1 - D(G(z)))]``) through skorch, with
    one Adam optimizer each. ``transform`` returns ``D``'s convolutional
    activations for each image, every chosen layer pooled to a grid of at most
    ``pool_grid x pool_grid`` cells, flattened and concatenated (Radford et
    al.'s recipe). ``sample`` draws new images from ``G``.

    The default recipe follows the DCGAN paper: strided convolutions and no
    pooling in the network, batch norm, ReLU in ``G`` and LeakyReLU(0.2) in
    ``D``, a ``tanh`` output, weights drawn from N(0, 0.02), Adam with
    ``lr=2e-4`` and ``beta1=0.5``, and the non-saturating generator loss
    ``-log D(G(z))``. Its stabiliser is **instance noise**: the discriminator
    sees every image, real or generated, with Gaussian noise added, of standard
    deviation ``instance_noise`` (0.2 on the [-1, 1] scale) at the first epoch
    fading linearly to 0 at the last. It blurs the two distributions into
    overlapping ones early on, so the discriminator cannot separate them
    perfectly and its gradient keeps telling the generator where the data is;
    without it the default training on digits collapses to a few images. One-sided
    label smoothing (the discriminator aims at ``1 - label_smoothing``, 0.9,
    for real images) is kept from the usual DCGAN practice.

    Images follow the skvision contract (:func:`skvision._images.check_images`):
    ``(N, H, W)`` or ``(N, H, W, C)`` channels-last, 1, 3 or 4 channels, at
    least 8x8 for the default architecture. Values are read by skvision's
    value-scale rule (:mod:`skvision._images`: uint8 and other integers / 255,
    uint16 / 65535, floats as intensities in [0, 1]); the network sees every
    image mapped linearly to [-1, 1] (the ``tanh`` scale) from the value range
    ``data_range_``: [0, 1] for integer images and floating images inside it,
    the training images' minimum and maximum otherwise.

    Parameters
    ----------
    latent_dim : int, default=100
        Width of the generator's input ``z``.
    filters : int, sequence of int or None, default=None
        Channels of each discriminator stage of ``module='dcgan'`` (the
        generator mirrors them); each stage halves the height and width. An
        int is the width of the first stage, doubled at each following stage,
        with as many stages as halvings bring the smaller image side to at
        most 4 pixels (at least 3); ``None`` means 32 for images up to 32
        pixels a side (as good there, a quarter of the work) and 64 above
        (the paper's width).
    feature_layers : 'all' or sequence of int, default='all'
        Discriminator stages whose activations ``transform`` returns (0 is the
        first; negative indices count from the last).
    pool_grid : int, default=4
        Each chosen layer's maps are pooled to ``min(pool_grid, H_l) x
        min(pool_grid, W_l)`` cells (a map already that small is kept as is).
    pooling : {'max', 'avg'}, default='max'
        Pooling of the cells (adaptive max pooling, as in the paper, or mean).
    label_smoothing : float in [0, 1), default=0.1
        One-sided label smoothing of the discriminator's targets for real images.
    instance_noise : float >= 0, default=0.2
        Standard deviation, on the network's [-1, 1] scale, of the Gaussian
        noise added to the discriminator's inputs in the first epoch; it
        decreases linearly to 0 over ``max_epochs``. 0 turns it off.
    module : 'dcgan', nn.Module class or instance, default='dcgan'
        ``'dcgan'``: :class:`~skvision.neural.modules.gan.DCGAN` built from
        ``latent_dim``, ``filters`` and the images' size and channels. A custom
        module (configured through ``module__*``; ``in_channels`` and
        ``input_size`` are filled from the images when it accepts them) needs
        ``generator`` and ``discriminator`` submodules, an int ``latent_dim``,
        ``generate(z)`` returning images on the [-1, 1] scale, ``forward(x)``
        returning one logit per image and ``feature_maps(x)`` returning the
        list of the discriminator's (N, C, H, W) activations.
    max_epochs : int or 'auto', default='auto'
        Passes over the training images (one generator and one discriminator
        step per batch). ``'auto'`` shows about 115,000 images of 8x8 pixels
        (80 epochs of the 1,437 training digits), between 3 and 200 epochs;
        larger images count more, ``115,000 * sqrt(64 / (H * W))`` images
        (32,800 at 28x28: 11 epochs for 3,000 images, ~20 s on two cores,
        where 80 epochs at 64 filters took ~7 min). The number used is
        ``max_epochs_``.
    batch_size : int, default=64
    lr : float, default=2e-4
        Learning rate of both Adam optimizers.
    beta1 : float in [0, 1), default=0.5
        Adam's first-moment decay for both optimizers (the paper: 0.9 made
        training oscillate).
    checkpoint : str, path or None, default=None
        Directory where the GAN, both optimizers, the history and torch's
        random state are saved after every epoch (a GAN's losses do not say
        which epoch is best), in a sub-folder per fit (``fit-<key>``, from the
        networks' layers and the images); a later ``fit`` of the same GAN on
        the same images resumes after the last saved epoch.
    device : str, torch.device or None, default='auto'
        ``'auto'`` uses CUDA when available, else the CPU.
    precision : {'32', 'bf16', '16-mixed'}, default='32'
        Autocast precision of the forward passes (losses stay float32): float32,
        bfloat16 or float16 (bfloat16 on the CPU, with a warning).
    verbose : int, default=0
        ``>= 1`` prints skorch's epoch table and progress bar; at 0, a fit that
        runs longer than 10 s prints a line on stderr then, and every 30 s after (epoch, time so
        far and left).
    random_state : int, RandomState or None, default=None
        Seeds weight initialisation, shuffling and the noise ``z`` of training
        (reproducible on the CPU).
    callbacks : list of skorch callbacks or None, default=None
        Added after skvision's own.
    **kwargs
        skorch routed parameters: ``module__*``, ``optimizer__*`` (given to both
        optimizers, e.g. ``optimizer__weight_decay``), ``criterion__*``,
        ``iterator_train__*``, ``callbacks__*``.

    Attributes
    ----------
    net_ : GANNet
        The trained skorch net (``net_.history`` holds the losses per epoch).
    latent_dim_ : int
    feature_layers_ : list of int
        Discriminator stages used by ``transform`` (non-negative indices).
    feature_shapes_ : list of tuple
        ``(C, H, W)`` of each pooled layer, in the order of the features.
    n_features_out_ : int
    data_range_ : tuple of float
        ``(low, high)``: the values mapped to -1 and 1 on the network's scale
        (after integer images are read as intensities by the value-scale rule).
    input_dtype_ : numpy.dtype
        dtype of the training images (that of ``sample``'s output).
    image_shape_ : tuple
        Shape of one training image, ``(H, W)`` or ``(H, W, C)``.
    n_channels_ : int
    n_epochs_ : int
        Epochs trained.
    interrupted_ : bool
        Whether a ``KeyboardInterrupt`` (Ctrl-C) ended the last training: the
        network is then the partly trained one it had, and a
        ``TrainingInterruptedWarning`` said so (early stopping is no interruption).
    device_ : str

    See Also
    --------
    AutoencoderFeatures : Features from a network that reconstructs its input.

    References
    ----------
    A. Radford, L. Metz, S. Chintala. Unsupervised representation learning with
    deep convolutional generative adversarial networks. ICLR 2016, arXiv:1511.06434.

    Examples
    --------
    >>> from skvision import GANFeatures
    >>> from skvision.datasets import load_digits
    >>> X, y = load_digits(return_X_y=True)
    >>> gan = GANFeatures(filters=8, latent_dim=10, max_epochs=1, device="cpu", random_state=0)
    >>> features = gan.fit_transform(X[:100])
    >>> features.shape, gan.feature_shapes_
    ((100, 224), [(8, 4, 4), (16, 2, 2), (32, 1, 1)])
    >>> images = gan.sample(3, random_state=0)
    >>> images.shape, images.dtype
    ((3, 8, 8), dtype('uint8'))
    >>> gan.get_feature_names_out()[:2].tolist()
    ['ganfeatures0', 'ganfeatures1']
    """

    #: ``max_epochs='auto'``: (images shown, fewest epochs, most epochs), see :func:`auto_max_epochs`.
    _auto_epochs = (114_960, 3, 200)  # 80 epochs of the 1,437 training digits, as the default was
    #: Larger images count more (``_auto_epoch_budget``): the discriminator's features settle in a few
    #: epochs there (1,437 digits upscaled to 32x32, filters 32: logistic accuracy 0.983 after 3 epochs,
    #: 0.992 after 10, 0.989 after 20), where 80 epochs of 3,000 28x28 images at the former width
    #: of 64 filters took ~7 min on two cores (5 s an epoch; 32 filters: 1.9 s, 11 epochs 21 s).
    _AUTO_EPOCH_PIXELS = 64

    _parameter_constraints: dict = {
        **{
            key: COMMON_PARAMETER_CONSTRAINTS[key]
            for key in (
                "max_epochs",
                "batch_size",
                "lr",
                "checkpoint",
                "device",
                "precision",
                "verbose",
                "random_state",
                "callbacks",
            )
        },
        "latent_dim": [Interval(Integral, 1, None, closed="left")],
        "filters": ["array-like", Interval(Integral, 1, None, closed="left"), None],
        "feature_layers": [StrOptions({"all"}), "array-like"],
        "pool_grid": [Interval(Integral, 1, None, closed="left")],
        "pooling": [StrOptions(set(_POOLINGS))],
        "label_smoothing": [Interval(Real, 0, 1, closed="left")],
        "instance_noise": [Interval(Real, 0, None, closed="left")],
        "module": [StrOptions({"dcgan"}), type, callable, nn.Module],
        "beta1": [Interval(Real, 0, 1, closed="left")],
    }

    # Read by NeuralImageEstimator's helpers; a GAN trains without them.
    augment = "none"
    mixup = 0.0

    def __init__(
        self,
        latent_dim=100,
        filters=None,
        feature_layers="all",
        pool_grid=4,
        pooling="max",
        label_smoothing=0.1,
        instance_noise=0.2,
        module="dcgan",
        max_epochs="auto",
        batch_size=64,
        lr=2e-4,
        beta1=0.5,
        checkpoint=None,
        device="auto",
        precision="32",
        verbose=0,
        random_state=None,
        callbacks=None,
        **kwargs,
    ):
        self.latent_dim = latent_dim
        self.filters = filters
        self.feature_layers = feature_layers
        self.pool_grid = pool_grid
        self.pooling = pooling
        self.label_smoothing = label_smoothing
        self.instance_noise = instance_noise
        self.module = module
        self.max_epochs = max_epochs
        self.batch_size = batch_size
        self.lr = lr
        self.beta1 = beta1
        self.checkpoint = checkpoint
        self.device = device
        self.precision = precision
        self.verbose = verbose
        self.random_state = random_state
        self.callbacks = callbacks
        self._store_routed_params(kwargs)

    _module_registry = {"dcgan": DCGAN}

    #: What ``transform`` returns, not how the GAN trains: out of the checkpoint's key.
    _not_training_params = (
        *NeuralImageEstimator._not_training_params,
        "feature_layers",
        "pool_grid",
        "pooling",
    )

    def _filters(self):
        """``filters`` as given to :class:`DCGAN`: an int, a tuple of ints or None."""
        if self.filters is None or isinstance(self.filters, Integral):
            return self.filters
        filters = tuple(self.filters)
        if not filters or not all(isinstance(f, Integral) and f >= 1 for f in filters):
            raise ValueError(
                f"filters must be None, a positive int or a non-empty sequence of them; got {self.filters!r}."
            )
        return tuple(int(f) for f in filters)

    def _routed_params(self, prefix=None):
        params = super()._routed_params(prefix)
        if prefix == "module__" and self.module == "dcgan":
            # latent_dim and filters are this estimator's parameters but the built-in
            # module's too: the minimum image size depends on filters.
            return {"latent_dim": self.latent_dim, "filters": self._filters(), **params}
        return params

    def _training_follows_max_epochs(self):
        # The instance noise fades to 0 over max_epochs.
        return float(self.instance_noise) > 0

    # ------------------------------------------------------------------ fit
    def _gan_callbacks(self, n_images):
        # A diverged GAN stops before a checkpoint saves its NaN weights.
        keys = ("train_loss", "train_generator_loss")
        callbacks = [("non_finite_loss", _StopOnNonFiniteLoss(type(self).__name__, keys))]
        if self.checkpoint is not None:
            sink = print if self.verbose else noop
            # monitor=None: saved after every epoch; the generator's optimizer beside the rest.
            saver = _AtomicCheckpoint(
                dirname=os.fspath(self.checkpoint),
                monitor=None,
                f_criterion=None,
                f_optimizer_generator="optimizer_generator.pt",
                sink=sink,
            )
            restore_rng = self.random_state is not None
            resume = _ResumeFromCheckpoint(saver, restore_rng=restore_rng, settings=self._fit_settings())
            callbacks.append(("resume", resume))
            callbacks.append(("checkpoint", saver))
        if self.verbose:
            callbacks.append(("progress", TerminalProgressBar()))
        else:
            steps = n_training_batches(n_images, self.batch_size)
            callbacks.append(long_fit_lines_callback(type(self).__name__, self.max_epochs_, steps))
        return callbacks + list(self.callbacks or [])

    def _value_range(self, dtype, tensor):
        if dtype.kind in "ui":
            return 0.0, 1.0  # the value-scale rule: black 0, white intensity_white(dtype)
        low, high = float(tensor.min()), float(tensor.max())
        if low >= 0 and high <= 1:
            return 0.0, 1.0
        return (low, high) if high > low else (low, low + 1.0)

    def _to_network_scale(self, tensor):
        low, high = self.data_range_
        return (tensor - low) * (2.0 / (high - low)) - 1.0

    @keeps_state_on_error
    @fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y=None):
        """Train the GAN on the images ``X``.

        Parameters
        ----------
        X : array-like of shape (N, H, W) or (N, H, W, C), or list of arrays
            Training images.
        y : ignored
            Present for Pipeline compatibility; the GAN needs no labels.

        Returns
        -------
        self : GANFeatures
        """
        self._filters()
        images = validate_images_for_net(X)
        if len(images) < 2:  # batch normalisation learns nothing from one image (and the probe said nonsense)
            raise ValueError(f"GANFeatures needs at least 2 training images; got {len(images)}.")
        tensor = self._prepare_images(images)
        self.input_dtype_ = images.dtype
        self.data_range_ = self._value_range(images.dtype, tensor)
        tensor = self._to_network_scale(tensor)
        self._resolve_max_epochs(len(tensor))

        module, module_kwargs = self._module_kwargs(None)
        architecture = {}
        if self.module == "dcgan":
            architecture = {"module__latent_dim": self.latent_dim, "module__filters": self._default_filters()}
        net = GANNet(
            module=module,
            criterion=nn.BCEWithLogitsLoss,
            optimizer=torch.optim.Adam,
            lr=self.lr,
            optimizer__betas=(float(self.beta1), 0.999),
            # One multi-tensor update per optimizer: ~15 % of a CPU step on these small networks.
            optimizer__foreach=True,
            max_epochs=self.max_epochs_,
            batch_size=self.batch_size,
            iterator_train=TensorBatchIterator,
            iterator_valid=TensorBatchIterator,
            train_split=None,
            callbacks=self._gan_callbacks(len(tensor)),
            device=self.device_,
            verbose=int(self.verbose),
            precision=self.precision,
            label_smoothing=float(self.label_smoothing),
            instance_noise=float(self.instance_noise),
            **{**module_kwargs, **architecture, **self._routed_params()},
        )
        with seeded_torch_rng(self.random_state, self.device_):
            net.initialize()
        self._probe(net.module_, tensor[:2].to(self.device_))
        self.net_ = self._train(net, tensor, None)
        return self

    def _default_filters(self):
        filters = self._filters()
        if filters is None:
            # Narrower on small images: as good on 8x8 digits, and several times faster; on the digits
            # upscaled to 32x32, 10 epochs gave 0.992 (logistic accuracy) at 32 and 0.989 at 64.
            return 32 if max(self.image_shape_[:2]) <= 32 else 64
        return filters

    def _probe(self, module, sample):
        """Check a module against the images on two of them; set the feature layout."""
        self.latent_dim_ = int(module.latent_dim)
        module.eval()
        with torch.no_grad():
            try:
                generated = module.generate(torch.zeros(2, self.latent_dim_, device=sample.device))
                logits = module(sample)
                maps = module.feature_maps(sample)
            except (RuntimeError, AttributeError, TypeError) as exc:
                raise ValueError(
                    f"module={self._module_name()!r} cannot generate and discriminate images of shape "
                    f"{self.image_shape_}: {exc}"
                ) from exc
        if tuple(generated.shape[1:]) != tuple(sample.shape[1:]):
            raise ValueError(
                f"module={self._module_name()!r} generates images of shape {tuple(generated.shape[1:])} "
                f"(C, H, W) for training images of shape {tuple(sample.shape[1:])}; they must match."
            )
        if logits.reshape(len(sample), -1).shape[1] != 1:
            raise ValueError(
                f"module={self._module_name()!r} returns {tuple(logits.shape)} from forward(x); the "
                "discriminator must give one logit per image."
            )
        self.feature_layers_ = self._resolve_layers(len(maps))
        self.feature_shapes_ = [tuple(self._pool(maps[i]).shape[1:]) for i in self.feature_layers_]
        self.n_features_out_ = int(sum(np.prod(shape) for shape in self.feature_shapes_))

    def _resolve_layers(self, n_layers):
        if isinstance(self.feature_layers, str):
            return list(range(n_layers))
        layers = list(self.feature_layers)
        if not layers or not all(
            isinstance(i, Integral) and not isinstance(i, bool) and -n_layers <= i < n_layers for i in layers
        ):
            raise ValueError(
                f"feature_layers must be 'all' or a non-empty sequence of stage indices in "
                f"[{-n_layers}, {n_layers - 1}] (the discriminator has {n_layers} stages); "
                f"got {self.feature_layers!r}."
            )
        resolved = [int(i) % n_layers for i in layers]
        if len(set(resolved)) != len(resolved):
            raise ValueError(f"feature_layers names a stage twice: {self.feature_layers!r}.")
        return resolved

    def _pool(self, maps):
        grid = (min(self.pool_grid, maps.shape[2]), min(self.pool_grid, maps.shape[3]))
        return _POOLINGS[self.pooling](maps, grid)

    # ------------------------------------------------------------ transform
    def _features(self, tensor):
        module = self.net_.module_
        module.eval()
        with torch.no_grad(), self.net_._autocast():
            maps = module.feature_maps(self._to_network_scale(tensor).to(self.net_.device))
            pooled = [self._pool(maps[i].float()).flatten(1) for i in self.feature_layers_]
        return torch.cat(pooled, dim=1).cpu().numpy()

    def transform(self, X):
        """The discriminator's pooled convolutional features of the images.

        Parameters
        ----------
        X : array-like of shape (N, H, W) or (N, H, W, C), or list of arrays
            Images of the size seen in ``fit``.

        Returns
        -------
        features : ndarray of shape (N, n_features_out_), dtype float32
            For each layer of ``feature_layers_`` in turn, its activation maps
            pooled to the grid of ``feature_shapes_``, flattened channel by
            channel (row-major cells within a channel).
        """
        images = self._checked_images_for_prediction(X)
        return self._map_image_batches(self._features, images, what="transform")

    def _from_network_scale(self, generated):
        """[-1, 1] NCHW float tensor -> numpy images of the training dtype, value scale and shape."""
        low, high = self.data_range_
        values = (generated.clamp(-1, 1) + 1.0) * ((high - low) / 2.0) + low
        images = values.permute(0, 2, 3, 1).reshape(len(values), *self.image_shape_).double().numpy()
        if self.input_dtype_.kind in "ui":
            white = intensity_white(self.input_dtype_)
            return np.clip(np.rint(images * white), 0, white).astype(self.input_dtype_)
        return images.astype(self.input_dtype_)

    def sample(self, n_samples=1, random_state=None):
        """Generate new images: ``G(z)`` for ``n_samples`` draws ``z ~ N(0, I)``.

        Parameters
        ----------
        n_samples : int, default=1
        random_state : int, RandomState or None, default=None
            Seeds the draws of ``z`` (an int gives the same images on every
            call, whatever ``batch_size``); None draws fresh ones.

        Returns
        -------
        images : ndarray of shape (n_samples, *image_shape_)
            In the training images' dtype and value scale: uint8 in [0, 255]
            for uint8 training images, floats in ``data_range_`` for floats.
        """
        check_is_fitted(self, "net_")
        if not isinstance(n_samples, Integral) or isinstance(n_samples, bool) or n_samples < 1:
            raise ValueError(f"n_samples must be a positive int; got {n_samples!r}.")
        seed = int(check_random_state(random_state).randint(2**31 - 1))
        generator = torch.Generator().manual_seed(seed)
        codes = torch.randn(int(n_samples), self.latent_dim_, generator=generator)
        module = self.net_.module_
        module.eval()

        def generate(batch):
            with torch.no_grad(), self.net_._autocast():
                images = module.generate(batch.to(self.net_.device)).float().cpu()
            return self._from_network_scale(images)

        return map_batches(
            generate,
            codes,
            self.batch_size,
            what=f"sample of {type(self).__name__}",
            verbose=bool(self.verbose),
            desc=type(self).__name__,
        )

    @property
    def _n_features_out(self):
        return self.n_features_out_

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.transformer_tags.preserves_dtype = ["float32"]
        return tags
