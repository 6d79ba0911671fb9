"""Supervised CNNs trained by skorch: CNNClassifier, CNNRegressor and CNNFeatures."""

from __future__ import annotations

import warnings
from numbers import Real

import numpy as np
import torch
from sklearn.base import (
    ClassifierMixin,
    ClassNamePrefixFeaturesOutMixin,
    RegressorMixin,
    TransformerMixin,
)
from sklearn.preprocessing import LabelEncoder
from sklearn.utils.class_weight import compute_class_weight
from sklearn.utils.multiclass import check_classification_targets, type_of_target
from sklearn.utils.validation import check_array, check_consistent_length, check_is_fitted, column_or_1d

from .._compat import Interval, StrOptions, fit_context
from .._fit_state import keeps_state_on_error
from .._warnings import user_stacklevel
from ._estimator import COMMON_PARAMETER_CONSTRAINTS, NeuralImageEstimator
from ._net import ImageNeuralNetClassifier, ImageNeuralNetRegressor
from ._torch_utils import call_seed, seeded_torch_rng

__all__ = ["CNNClassifier", "CNNRegressor", "CNNFeatures"]

_TRAINING_TOOLS_DOC = """module : str, nn.Module class, callable or nn.Module, default='convnet'
        The architecture: a name of :data:`skvision.neural.modules.MODULES`
        (``'convnet'``, ``'lenet5'``), a class or factory (called with its
        ``module__*`` parameters plus ``in_channels``, ``input_size`` and
        ``n_outputs`` read from the data when it accepts them), or an instance
        (copied, then trained as is). Every module hyperparameter is a
        ``module__*`` keyword argument, reachable by ``set_params`` and
        ``GridSearchCV``. Any other name is a pretrained backbone to fine-tune
        (a timm name or ``'torchvision:<name>'``): a
        :class:`~skvision.neural.BackboneNet` with a new head, trained head
        first, then unfrozen at a lower learning rate (``module__weights``,
        ``module__freeze``, ``module__head_epochs``, ``module__backbone_lr``).
    max_epochs : int or 'auto', default='auto'
        Training epochs. ``'auto'``: as many as show the network about 30,000
        images, at least 5 and at most 20: 20 up to 1,500 training images (the
        digits), 8 for 4,000, 5 from 6,000 on, so that a fit on 60,000 images
        costs 5 epochs rather than 20. ``max_epochs_`` holds the number used.
    batch_size : int, default=64
        Images per optimizer step.
    lr : float, default=3e-3
        Learning rate (the peak rate of the one-cycle schedule).
    optimizer : {'adamw', 'adam', 'sgd'} or torch optimizer class, default='adamw'
        Its other arguments are ``optimizer__*`` keyword arguments.
    augment : {'none', 'light', 'standard'} or list of nn.Module, default='light' ('none' for CNNRegressor)
        Random per-sample augmentation of each training batch on the training
        device (kornia): see :func:`skvision.neural._augment.build_augmentation`.
        ``'light'`` shifts, rotates and zooms slightly; ``'standard'`` adds
        flips, shear, brightness, contrast and noise. Regression targets that
        move with the image (angles, positions) need ``'none'``.
    mixup : float, default=0.0
        Mixup alpha: training batches are blended pairwise with weights drawn
        from Beta(alpha, alpha), targets likewise. 0 disables it.
    early_stopping : bool, default=False
        Hold out ``validation_fraction`` of the training data; stop after
        ``n_iter_no_change`` epochs without a better validation loss and
        restore the weights of the best epoch. Under ``lr_schedule='onecycle'``
        the epochs of its rising rate (the first 30 %) count no misses.
    validation_fraction : float, default=0.1
        Held-out fraction when ``early_stopping=True``.
    n_iter_no_change : int, default=5
        Patience of early stopping, in epochs.
    lr_schedule : {'onecycle', 'cosine', 'step'} or None, default='onecycle'
        Learning-rate schedule over ``max_epochs`` (skorch ``LRScheduler``).
        ``'onecycle'`` (torch's ``OneCycleLR``, stepped every batch, peaking at
        ``lr``) also cycles the momentum (Adam's beta1) between 0.85 and 0.95,
        unless ``optimizer__momentum`` or ``optimizer__betas`` is given.
    checkpoint : str, path or None, default=None
        Directory where the best parameters (with optimizer state and history)
        are saved during training, in a sub-folder per fit (``fit-<key>``, from
        the network's layers, the images, the targets and every training
        parameter but ``verbose``, ``device``, ``tta``, ``callbacks`` and,
        with ``lr_schedule=None``, ``max_epochs``). A fit of the same network
        on the same images and targets with the same settings loads its
        checkpoint and trains the remaining epochs up to ``max_epochs`` (a
        checkpoint of more epochs than that is not loaded: a warning, then
        training afresh); a schedule is laid out over ``max_epochs``, so with
        one another ``max_epochs`` is another fit; any other fit
        (another fold of a cross-validation, another grid-search candidate)
        trains afresh in its own sub-folder, never from another fit's weights.
        A checkpoint missing a file is not loaded (a warning); a damaged file
        raises a ``ValueError`` naming it.
    tta : int, default=0
        Test-time augmentation: prediction averages the plain prediction with
        ``tta`` randomly augmented copies (the ``augment`` transforms, or
        ``'light'`` when ``augment='none'``). Each image's copies draw from a
        seed of its own (``random_state`` and a hash of its pixels), so its
        prediction does not depend on the other images of the call, their
        order or the batch size. May be changed after fitting.
    device : str, torch.device or None, default='auto'
        Where the work runs: ``'auto'`` (or None) a CUDA GPU when torch sees
        one, else the CPU; ``'cpu'``, ``'cuda'``, ``'cuda:N'``, or ``'mps'``
        (Apple's GPU). A device torch does not see here is refused in ``fit``.
    precision : {'32', 'bf16', '16-mixed'}, default='32'
        Float32, or autocast to bfloat16 / float16 (with loss scaling on CUDA;
        float16 falls back to bfloat16 on the CPU, with a warning).
    verbose : int, default=0
        0 says nothing during a fit shorter than 10 s; a longer one prints a
        line on stderr then, and every 30 s after (``CNNClassifier: epoch 3/10, 1 min 30 s so
        far (about 3 min 30 s left)``). 1 prints skorch's epoch table and
        progress bar.
    random_state : int, RandomState or None, default=None
        Seeds weight initialisation, shuffling, augmentation and dropout (in a
        forked torch RNG, so the global one is untouched): CPU runs are
        reproducible, and on a CUDA GPU the fit asks cuDNN for deterministic
        convolutions ("Determinism" in docs/scaling.md).
    callbacks : list of (str, skorch Callback) or None, default=None
        Extra skorch callbacks, appended to the ones built from the parameters.
    **kwargs
        skorch routed parameters: ``module__*``, ``optimizer__*``,
        ``criterion__*``, ``iterator_train(__*)``, ``iterator_valid(__*)``,
        ``callbacks__*``."""


def _document(cls):
    cls.__doc__ = cls.__doc__.replace("%(training_tools)s", _TRAINING_TOOLS_DOC)
    return cls


class _SupervisedCNN(NeuralImageEstimator):
    """Parameters, fitting and prediction shared by the classifier and the regressor."""

    _parameter_constraints: dict = dict(COMMON_PARAMETER_CONSTRAINTS)

    #: skorch net class and number-of-outputs logic: set by subclasses.
    _net_class = None

    def __init__(
        self,
        module="convnet",
        *,
        max_epochs="auto",
        batch_size=64,
        lr=3e-3,
        optimizer="adamw",
        augment="light",
        mixup=0.0,
        early_stopping=False,
        validation_fraction=0.1,
        n_iter_no_change=5,
        lr_schedule="onecycle",
        checkpoint=None,
        tta=0,
        device="auto",
        precision="32",
        verbose=0,
        random_state=None,
        callbacks=None,
        **kwargs,
    ):
        self.module = module
        self.max_epochs = max_epochs
        self.batch_size = batch_size
        self.lr = lr
        self.optimizer = optimizer
        self.augment = augment
        self.mixup = mixup
        self.early_stopping = early_stopping
        self.validation_fraction = validation_fraction
        self.n_iter_no_change = n_iter_no_change
        self.lr_schedule = lr_schedule
        self.checkpoint = checkpoint
        self.tta = tta
        self.device = device
        self.precision = precision
        self.verbose = verbose
        self.random_state = random_state
        self.callbacks = callbacks
        self._store_routed_params(kwargs)

    # -- hooks of the subclasses
    def _targets_for_fit(self, y, n_samples):  # pragma: no cover - abstract
        raise NotImplementedError

    def _targets_for_partial_fit(self, y, n_samples, classes):  # pragma: no cover - abstract
        raise NotImplementedError

    def _criterion(self, y_tensor):  # pragma: no cover - abstract
        raise NotImplementedError

    def _check_target_type(self, y):
        """Reject a missing or wrong kind of target before looking at the images."""
        if y is None:
            raise ValueError(f"{self._name} requires y to be passed, but the target y is None.")

    @property
    def _stratify(self):
        return False

    # -- fitting
    def _new_net(self, X_tensor, y_tensor, *, partial=False):
        if not partial:
            self._check_validation_split(y_tensor.numpy() if self._stratify else None, len(X_tensor))
        n_outputs = self.n_outputs_
        criterion, criterion_kwargs = self._criterion(y_tensor)
        net = self._build_net(
            self._net_class,
            n_train=len(X_tensor),
            n_outputs=n_outputs,
            criterion=criterion,
            stratify=self._stratify,
            partial=partial,
            **criterion_kwargs,
        )
        return self._initialize_and_probe(net, X_tensor, n_outputs)

    @keeps_state_on_error
    @fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y, **fit_params):
        """Train the network on images ``X`` and targets ``y``.

        Parameters
        ----------
        X : array-like of shape (N, H, W) or (N, H, W, C), or list of arrays
            Training images, read by the value-scale rule of :mod:`skvision._images`
            (uint8 / 255, uint16 / 65535; floats as given). Later batches must be on
            the same scale (``input_scale_``): float 0-255 after a uint8 fit raises
            :class:`~skvision._images.ImageScaleError`.
        y : array-like of shape (N,) (or (N, n_targets) for the regressor)
            Targets.

        Returns
        -------
        self : object
            The fitted estimator. A ``KeyboardInterrupt`` during training
            stops it and leaves the model with the weights it had reached.
        """
        self._refuse_keywords("fit", fit_params)
        self._check_target_type(y)
        X_tensor = self._prepare_images(X)
        y_tensor = self._targets_for_fit(y, len(X_tensor))
        net = self._new_net(X_tensor, y_tensor)
        self.net_ = self._train(net, X_tensor, y_tensor)
        return self

    @keeps_state_on_error
    def partial_fit(self, X, y, **kwargs):
        """Train one more epoch on ``X``, ``y``, starting from the current weights.

        The first call (on an unfitted estimator) builds the network. Each call
        runs one epoch at learning rate ``lr`` (after ``fit``, not at the rate
        its schedule ended on) in batches of ``batch_size``, both as they are
        at the call (``set_params`` between calls takes effect): no validation
        split, LR schedule, early stopping or checkpoint (use ``fit`` for those).
        With an integer ``random_state`` each call draws new shuffles, mixup
        weights and augmentations, the same for a fresh estimator given the same
        calls.

        Returns
        -------
        self : object
        """
        self._refuse_keywords("partial_fit", kwargs)
        return self._partial_fit(X, y)

    def _partial_fit(self, X, y, **target_options):
        """``partial_fit``'s epoch; ``target_options`` go to ``_targets_for_partial_fit`` (``classes``)."""
        first_call = not hasattr(self, "net_")
        if y is None:
            raise ValueError(f"{self._name} requires y to be passed, but the target y is None.")
        if first_call:
            self._validate_params()
            X_tensor = self._prepare_images(X)
        else:
            X_tensor = self._images_for_prediction(X)
        y_tensor = self._targets_for_partial_fit(y, len(X_tensor), first_call=first_call, **target_options)
        if first_call:
            self.net_ = self._new_net(X_tensor, y_tensor, partial=True)
        else:
            self._make_incremental(self.net_)
        self._train(self.net_, X_tensor, y_tensor, epochs=1)
        return self

    def _make_incremental(self, net):
        # skorch drops a callback whose ``callbacks__<name>`` is None when it (re)initializes them.
        for name, _ in net.callbacks_:
            if name in ("resume", "lr_schedule", "early_stopping", "checkpoint"):
                setattr(net, f"callbacks__{name}", None)
        net.train_split = None
        net.initialize_callbacks()
        # fit's schedule left each rate where it ended (about 0 after one-cycle or cosine, so that
        # further epochs changed nothing): back to ``lr`` as it is now (set_params may have changed it
        # since), each group at its own fraction of the peak (a fine-tuned backbone's lower rate).
        bases = [
            group.get("max_lr", group.get("initial_lr", group["lr"])) for group in net.optimizer_.param_groups
        ]
        peak = max(bases)
        for group, base in zip(net.optimizer_.param_groups, bases):
            group["lr"] = self.lr * (base / peak if peak > 0 else 1.0)
            if "max_momentum" in group:  # one-cycle cycled the momentum and left it at its 0.95
                defaults = net.optimizer_.defaults
                if "betas" in group:
                    group["betas"] = (defaults["betas"][0], *group["betas"][1:])
                else:
                    group["momentum"] = defaults["momentum"]
        # The training batches of this epoch (set_params may have changed batch_size too).
        net.batch_size = self.batch_size

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.target_tags.required = True
        return tags


def _warn_unseen_labels(y, classes, owner):
    """Warn when ``y`` holds labels outside ``classes`` (they can only be predicted wrong)."""
    y = np.asarray(y)
    if y.ndim != 1 or y.size == 0:
        return
    try:
        unseen = np.setdiff1d(y, classes)
    except TypeError:  # labels of types that do not compare: sklearn's score reports them
        return
    if unseen.size:
        n = int(np.isin(y, unseen).sum())
        shown = ", ".join(map(repr, unseen[:10].tolist())) + (", ..." if unseen.size > 10 else "")
        warnings.warn(
            f"y holds labels never seen in fit: {shown} ({n} of {y.size} samples); {owner} predicts only "
            f"the {len(classes)} classes of fit, so these count as errors. If the images come from another "
            "folder than the training images, load it with classes=train.target_names so that labels mean "
            "the same in both.",
            UserWarning,
            stacklevel=user_stacklevel(),
        )


@_document
class CNNClassifier(ClassifierMixin, _SupervisedCNN):
    """Convolutional network image classifier, trained by skorch.

    Images in, class labels out: a skorch ``NeuralNetClassifier`` underneath
    (cross-entropy on the module's logits), behind the sklearn API so that it
    drops into ``Pipeline``, ``GridSearchCV`` and ``cross_validate`` like any
    classifier. Targets may be of any label type (ints, strings, ...).

    Parameters
    ----------
    %(training_tools)s
    label_smoothing : float, default=0.1
        Label smoothing epsilon of the cross-entropy loss (0.1 measurably
        helps the default on small datasets; 0 gives plain cross-entropy).
    class_weight : 'balanced', dict or None, default=None
        Weights of the classes in the loss: ``'balanced'`` is inversely
        proportional to the class frequencies; a dict maps labels to weights.

    Attributes
    ----------
    classes_ : ndarray of shape (n_classes,)
        The class labels.
    net_ : ImageNeuralNetClassifier
        The trained skorch net (``net_.module_`` is the torch module,
        ``net_.history`` the training history).
    n_outputs_ : int
        Number of classes.
    n_epochs_ : int
        Epochs in the history (fewer than ``max_epochs_`` after early stopping
        or an interruption).
    interrupted_ : bool
        Whether a ``KeyboardInterrupt`` (Ctrl-C) ended the last training: the
        network is then the partly trained one it had, and a
        ``TrainingInterruptedWarning`` said so (early stopping is no interruption).
    max_epochs_ : int
        The epoch budget of the fit: ``max_epochs``, or the number ``'auto'`` chose.
    input_scale_ : ImageScale
        Value scale of the images seen in ``fit`` (see :mod:`skvision._images`).
    image_shape_ : tuple
        ``(H, W)`` or ``(H, W, C)`` of the training images.
    n_channels_ : int
    device_ : str
        The device the net was trained on.

    Examples
    --------
    >>> from skvision.datasets import load_digits
    >>> from skvision import CNNClassifier
    >>> X, y = load_digits(return_X_y=True)
    >>> clf = CNNClassifier(max_epochs=3, module__filters=8, random_state=0).fit(X[:300], y[:300])
    >>> clf.predict(X[:5]).shape, clf.classes_.tolist()
    ((5,), [0, 1, 2, 3, 4, 5, 6, 7, 8, 9])
    """

    _parameter_constraints: dict = {
        **_SupervisedCNN._parameter_constraints,
        "label_smoothing": [Interval(Real, 0, 1, closed="left")],
        "class_weight": [StrOptions({"balanced"}), dict, None],
    }
    _net_class = ImageNeuralNetClassifier

    def __init__(
        self,
        module="convnet",
        *,
        max_epochs="auto",
        batch_size=64,
        lr=3e-3,
        optimizer="adamw",
        augment="light",
        mixup=0.0,
        label_smoothing=0.1,
        class_weight=None,
        early_stopping=False,
        validation_fraction=0.1,
        n_iter_no_change=5,
        lr_schedule="onecycle",
        checkpoint=None,
        tta=0,
        device="auto",
        precision="32",
        verbose=0,
        random_state=None,
        callbacks=None,
        **kwargs,
    ):
        super().__init__(
            module,
            max_epochs=max_epochs,
            batch_size=batch_size,
            lr=lr,
            optimizer=optimizer,
            augment=augment,
            mixup=mixup,
            early_stopping=early_stopping,
            validation_fraction=validation_fraction,
            n_iter_no_change=n_iter_no_change,
            lr_schedule=lr_schedule,
            checkpoint=checkpoint,
            tta=tta,
            device=device,
            precision=precision,
            verbose=verbose,
            random_state=random_state,
            callbacks=callbacks,
            **kwargs,
        )
        self.label_smoothing = label_smoothing
        self.class_weight = class_weight

    @property
    def _stratify(self):
        return True

    def _check_target_type(self, y):
        super()._check_target_type(y)
        check_classification_targets(y)
        classes = np.unique(column_or_1d(y))  # a column y warns once, in _check_labels
        if len(classes) == 0:
            return  # no samples at all: the image check names the empty batch
        if len(classes) < 2:
            raise ValueError(
                f"{self._name} needs samples of at least 2 classes; y holds only the class "
                f"{classes.tolist()[0]!r}."
            )

    def _check_labels(self, y, n_samples):
        y = column_or_1d(y, warn=True)
        check_consistent_length(np.empty(n_samples), y)
        check_classification_targets(y)
        return y

    def _targets_for_fit(self, y, n_samples):
        y = self._check_labels(y, n_samples)
        encoder = LabelEncoder().fit(y)
        self.classes_ = encoder.classes_
        self.n_outputs_ = len(self.classes_)
        return torch.as_tensor(encoder.transform(y), dtype=torch.long)

    def _targets_for_partial_fit(self, y, n_samples, *, first_call, classes=None):
        y = self._check_labels(y, n_samples)
        if first_call:
            if classes is None:
                raise ValueError("classes must be passed on the first call to partial_fit.")
            classes = np.unique(np.asarray(classes))
            if len(classes) < 2:
                raise ValueError(f"{self._name} needs at least 2 classes; classes={classes.tolist()!r}.")
            self.classes_ = classes
            self.n_outputs_ = len(classes)
        elif classes is not None and not np.array_equal(np.unique(np.asarray(classes)), self.classes_):
            raise ValueError(
                f"classes={np.asarray(classes).tolist()!r} differs from the classes the model was built "
                f"for, {self.classes_.tolist()!r} (by fit or the first partial_fit call)."
            )
        unknown = np.setdiff1d(y, self.classes_)
        if unknown.size:
            raise ValueError(
                f"y contains labels {unknown.tolist()!r} not in classes {self.classes_.tolist()!r}."
            )
        return torch.as_tensor(np.searchsorted(self.classes_, y), dtype=torch.long)

    def _criterion(self, y_tensor):
        kwargs = {"criterion__label_smoothing": float(self.label_smoothing)}
        weights = self._class_weights(y_tensor.numpy())
        if weights is not None:
            kwargs["criterion__weight"] = torch.as_tensor(weights, dtype=torch.float32)
        return torch.nn.CrossEntropyLoss, kwargs

    def _class_weights(self, y_encoded):
        if self.class_weight is None:
            return None
        if self.class_weight == "balanced":
            present = np.unique(y_encoded)
            weights = np.ones(self.n_outputs_)
            weights[present] = compute_class_weight("balanced", classes=present, y=y_encoded)
            return weights
        unknown = set(self.class_weight) - set(self.classes_.tolist())
        if unknown:
            # repr, so that '0' (a str) and 0 (the int label) read differently.
            shown = ", ".join(sorted(map(repr, unknown)))
            labels = ", ".join(map(repr, self.classes_.tolist()[:20])) + (
                ", ..." if len(self.classes_) > 20 else ""
            )
            raise ValueError(f"class_weight has labels {shown} that are not in y; y's labels are {labels}.")
        weights = np.array([float(self.class_weight.get(label, 1.0)) for label in self.classes_])
        if not (np.isfinite(weights).all() and (weights >= 0).all() and weights.any()):
            raise ValueError(
                "class_weight must give every class a finite weight >= 0, not all 0; got "
                f"{self.class_weight!r}."
            )
        return weights

    @keeps_state_on_error
    def partial_fit(self, X, y, classes=None):
        """Train one more epoch on ``X``, ``y``, starting from the current weights.

        Parameters
        ----------
        X : array-like of shape (N, H, W) or (N, H, W, C)
        y : array-like of shape (N,)
        classes : array-like or None
            All classes; required on the first call (as in sklearn).

        Returns
        -------
        self : object

        Notes
        -----
        The first call (on an unfitted estimator) builds the network. Each call
        runs one epoch at learning rate ``lr`` (after ``fit``, not at the rate its
        schedule ended on) in batches of ``batch_size``, both as they are at the
        call (``set_params`` between calls takes effect): no validation split, LR
        schedule, early stopping or checkpoint (use ``fit`` for those). ``class_weight='balanced'``
        is computed from the first call's ``y``. With an integer ``random_state`` each
        call draws new shuffles, mixup weights and augmentations, the same for a
        fresh estimator given the same calls.
        """
        return self._partial_fit(X, y, classes=classes)

    def predict_proba(self, X):
        """Class probabilities (averaged over ``tta`` augmented copies when ``tta > 0``).

        Returns
        -------
        proba : ndarray of shape (N, n_classes)
            Columns in the order of ``classes_``; each row sums to 1 in float64.
        """
        proba = self._predict_output(X).astype(np.float64)
        # A float32 softmax sums to 1 within ~1e-7: scikit-learn's log_loss (and neg_log_loss scoring)
        # warned "The y_prob values do not sum to one" on every call. Order within a row is kept.
        proba /= proba.sum(axis=1, keepdims=True)
        return proba

    def predict_log_proba(self, X):
        """Logarithm of :meth:`predict_proba`."""
        return np.log(np.clip(self.predict_proba(X), np.finfo(np.float64).tiny, None))

    def predict(self, X):
        """Predicted class labels.

        Returns
        -------
        labels : ndarray of shape (N,)
        """
        proba = self.predict_proba(X)
        return self.classes_[proba.argmax(axis=1)]

    def score(self, X, y, sample_weight=None):
        """Mean accuracy of :meth:`predict` on ``X`` against ``y`` (as sklearn's classifiers).

        Labels of ``y`` never seen in ``fit`` can only count as errors: a
        ``UserWarning`` names them. Two image folders loaded apart number their
        classes apart; load the test folder with ``classes=train.target_names``
        (:func:`skvision.datasets.load_image_folder`) so that labels agree.

        Returns
        -------
        score : float
        """
        check_is_fitted(self, "net_")
        _warn_unseen_labels(y, self.classes_, self._name)
        return super().score(X, y, sample_weight=sample_weight)


@_document
class CNNRegressor(RegressorMixin, _SupervisedCNN):
    """Convolutional network image regressor, trained by skorch.

    A skorch ``NeuralNetRegressor`` (mean squared error) underneath. Targets are
    1-D or 2-D floats; with ``standardize_targets=True`` they are centred and
    scaled for training and predictions are mapped back.

    Parameters
    ----------
    %(training_tools)s
    standardize_targets : bool, default=True
        Train on standardised targets (mean 0, variance 1 per column), which
        makes the default learning rate suit targets of any scale.

    Attributes
    ----------
    net_ : ImageNeuralNetRegressor
        The trained skorch net.
    n_outputs_ : int
        Number of target columns.
    n_epochs_ : int
        Epochs in the history.
    interrupted_ : bool
        Whether a ``KeyboardInterrupt`` (Ctrl-C) ended the last training: the
        network is then the partly trained one it had, and a
        ``TrainingInterruptedWarning`` said so (early stopping is no interruption).
    max_epochs_ : int
        The epoch budget of the fit: ``max_epochs``, or the number ``'auto'`` chose.
    input_scale_ : ImageScale
        Value scale of the images seen in ``fit`` (see :mod:`skvision._images`).
    image_shape_ : tuple
    n_channels_ : int
    device_ : str

    Examples
    --------
    >>> import numpy as np
    >>> from skvision import CNNRegressor
    >>> rng = np.random.default_rng(0)
    >>> X = rng.random((64, 8, 8)).astype(np.float32)
    >>> y = X.mean(axis=(1, 2))
    >>> reg = CNNRegressor(max_epochs=2, module__filters=4, random_state=0).fit(X, y)
    >>> reg.predict(X).shape
    (64,)
    """

    _parameter_constraints: dict = {
        **_SupervisedCNN._parameter_constraints,
        "standardize_targets": ["boolean"],
    }
    _net_class = ImageNeuralNetRegressor

    def __init__(
        self,
        module="convnet",
        *,
        max_epochs="auto",
        batch_size=64,
        lr=3e-3,
        optimizer="adamw",
        augment="none",
        mixup=0.0,
        standardize_targets=True,
        early_stopping=False,
        validation_fraction=0.1,
        n_iter_no_change=5,
        lr_schedule="onecycle",
        checkpoint=None,
        tta=0,
        device="auto",
        precision="32",
        verbose=0,
        random_state=None,
        callbacks=None,
        **kwargs,
    ):
        super().__init__(
            module,
            max_epochs=max_epochs,
            batch_size=batch_size,
            lr=lr,
            optimizer=optimizer,
            augment=augment,
            mixup=mixup,
            early_stopping=early_stopping,
            validation_fraction=validation_fraction,
            n_iter_no_change=n_iter_no_change,
            lr_schedule=lr_schedule,
            checkpoint=checkpoint,
            tta=tta,
            device=device,
            precision=precision,
            verbose=verbose,
            random_state=random_state,
            callbacks=callbacks,
            **kwargs,
        )
        self.standardize_targets = standardize_targets

    def _check_targets(self, y, n_samples):
        y = check_array(y, ensure_2d=False, dtype=np.float64, input_name="y")
        if y.ndim not in (1, 2):
            raise ValueError(f"y must be 1-D or 2-D; got shape {y.shape}.")
        check_consistent_length(np.empty(n_samples), y)
        return y

    def _targets_for_fit(self, y, n_samples):
        y = self._check_targets(y, n_samples)
        self._y_ndim = y.ndim
        y2 = y.reshape(len(y), -1)
        self.n_outputs_ = y2.shape[1]
        if self.standardize_targets:
            self.y_mean_ = y2.mean(axis=0)
            scale = y2.std(axis=0)
            self.y_scale_ = np.where(scale > 0, scale, 1.0)
        else:
            self.y_mean_ = np.zeros(self.n_outputs_)
            self.y_scale_ = np.ones(self.n_outputs_)
        return self._scaled(y2)

    def _scaled(self, y2):
        return torch.as_tensor((y2 - self.y_mean_) / self.y_scale_, dtype=torch.float32)

    def _targets_for_partial_fit(self, y, n_samples, *, first_call):
        if first_call:
            return self._targets_for_fit(y, n_samples)
        y = self._check_targets(y, n_samples)
        y2 = y.reshape(len(y), -1)
        if y2.shape[1] != self.n_outputs_:
            raise ValueError(
                f"y has {y2.shape[1]} target columns but the model was fitted with {self.n_outputs_}."
            )
        return self._scaled(y2)

    def _criterion(self, y_tensor):
        return torch.nn.MSELoss, {}

    def predict(self, X):
        """Predicted targets (averaged over ``tta`` augmented copies when ``tta > 0``).

        Returns
        -------
        y : ndarray of shape (N,) or (N, n_outputs_)
            1-D when the training targets were 1-D.
        """
        if int(self.tta) > 0 and (self.augment is None or self.augment == "none"):
            # The regressor does not augment by default because targets may follow the image's geometry;
            # TTA's fallback transforms then moved predictions of a disk's centre 3x further off.
            warnings.warn(
                f"CNNRegressor(tta={self.tta}) averages predictions over 'light' augmentation (shifts, "
                "rotations, zooms) the network was not trained with (augment='none'): targets that "
                "follow the position, size or orientation of what is in the image change under it. Train "
                "with augment= the transforms the targets do not change under, or predict with tta=0.",
                UserWarning,
                stacklevel=user_stacklevel(),
            )
        out = self._predict_output(X, "predict").astype(np.float64).reshape(-1, self.n_outputs_)
        out = out * self.y_scale_ + self.y_mean_
        return out[:, 0] if self._y_ndim == 1 else out


@_document
class CNNFeatures(ClassNamePrefixFeaturesOutMixin, TransformerMixin, NeuralImageEstimator):
    """Supervised CNN features: train a CNN on the task, return its penultimate-layer embedding.

    ``fit(X, y)`` trains a :class:`CNNClassifier` or :class:`CNNRegressor`
    (``task='auto'`` decides from ``y``); ``transform(X)`` returns the
    activations of the layer before the output (for ``'convnet'`` the last of
    ``module__fc_units``, for ``'lenet5'`` the 84 units), ready for any sklearn
    estimator.

    Parameters
    ----------
    %(training_tools)s
    task : {'auto', 'classification', 'regression'}, default='auto'
        ``'auto'``: classification for binary or multiclass ``y`` (integers,
        strings, booleans), regression for float targets, whole numbers
        included (class labels held in a float array: cast them to int, or
        pass ``task='classification'``).
    label_smoothing : float, default=0.1
        Classification only: see :class:`CNNClassifier`.
    class_weight : 'balanced', dict or None, default=None
        Classification only: see :class:`CNNClassifier`.
    standardize_targets : bool, default=True
        Regression only: see :class:`CNNRegressor`.

    Attributes
    ----------
    estimator_ : CNNClassifier or CNNRegressor
        The trained network.
    interrupted_ : bool
        Whether a ``KeyboardInterrupt`` (Ctrl-C) ended the training
        (``estimator_.interrupted_``): the network is then the partly trained
        one it had, and a ``TrainingInterruptedWarning`` said so.
    input_scale_ : ImageScale
        Value scale of the images seen in ``fit`` (see :mod:`skvision._images`).
    embedding_dim_ : int
        Width of the embedding (``n_features_out_``).
    n_features_out_ : int

    Examples
    --------
    >>> from skvision.datasets import load_digits
    >>> from skvision import CNNFeatures
    >>> X, y = load_digits(return_X_y=True)
    >>> feats = CNNFeatures(max_epochs=2, module__filters=8, module__fc_units=(16,), random_state=0)
    >>> feats.fit_transform(X[:200], y[:200]).shape
    (200, 16)
    """

    _parameter_constraints: dict = {
        **COMMON_PARAMETER_CONSTRAINTS,
        "task": [StrOptions({"auto", "classification", "regression"})],
        "label_smoothing": [Interval(Real, 0, 1, closed="left")],
        "class_weight": [StrOptions({"balanced"}), dict, None],
        "standardize_targets": ["boolean"],
    }

    def __init__(
        self,
        module="convnet",
        *,
        task="auto",
        max_epochs="auto",
        batch_size=64,
        lr=3e-3,
        optimizer="adamw",
        augment="light",
        mixup=0.0,
        label_smoothing=0.1,
        class_weight=None,
        standardize_targets=True,
        early_stopping=False,
        validation_fraction=0.1,
        n_iter_no_change=5,
        lr_schedule="onecycle",
        checkpoint=None,
        tta=0,
        device="auto",
        precision="32",
        verbose=0,
        random_state=None,
        callbacks=None,
        **kwargs,
    ):
        self.module = module
        self.task = task
        self.max_epochs = max_epochs
        self.batch_size = batch_size
        self.lr = lr
        self.optimizer = optimizer
        self.augment = augment
        self.mixup = mixup
        self.label_smoothing = label_smoothing
        self.class_weight = class_weight
        self.standardize_targets = standardize_targets
        self.early_stopping = early_stopping
        self.validation_fraction = validation_fraction
        self.n_iter_no_change = n_iter_no_change
        self.lr_schedule = lr_schedule
        self.checkpoint = checkpoint
        self.tta = tta
        self.device = device
        self.precision = precision
        self.verbose = verbose
        self.random_state = random_state
        self.callbacks = callbacks
        self._store_routed_params(kwargs)

    def _resolve_task(self, y):
        if self.task != "auto":
            return self.task
        if np.asarray(y).dtype.kind == "f":
            # As documented: floats are targets to regress, whole numbers included (counts, ages),
            # which sklearn's type_of_target would take for class labels.
            return "regression"
        kind = type_of_target(y, input_name="y")
        if kind in ("binary", "multiclass"):
            return "classification"
        if kind in ("continuous", "continuous-multioutput"):
            return "regression"
        raise ValueError(
            f"task='auto' cannot tell the task from y of type {kind!r}; expected binary or multiclass labels "
            "(classification) or float targets (regression). Set task explicitly."
        )

    @keeps_state_on_error
    @fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y):
        """Train the network on images ``X`` and targets ``y``.

        Parameters
        ----------
        X : array-like of shape (N, H, W) or (N, H, W, C), or list of arrays
        y : array-like of shape (N,) or (N, n_targets)
            Class labels or regression targets.

        Returns
        -------
        self : object
        """
        if y is None:
            raise ValueError(
                "CNNFeatures requires y to be passed, but the target y is None: it is supervised "
                "(class labels or regression targets)."
            )
        params = self.get_params(deep=False)
        params.pop("task")
        if self._resolve_task(y) == "classification":
            params.pop("standardize_targets")
            estimator = CNNClassifier(**params)
        else:
            params.pop("label_smoothing")
            params.pop("class_weight")
            estimator = CNNRegressor(**params)
        estimator._shown_as = type(self).__name__  # its messages name the estimator the user holds
        self.estimator_ = estimator.fit(X, y)
        self.interrupted_ = self.estimator_.interrupted_
        self.image_shape_ = estimator.image_shape_
        self.input_scale_ = estimator.input_scale_
        channels, (height, width) = estimator.n_channels_, estimator.image_shape_[:2]
        probe = torch.zeros((1, channels, height, width))
        self.embedding_dim_ = int(estimator.net_.forward_embedding(probe).shape[1])
        self._n_features_out = self.n_features_out_ = self.embedding_dim_
        return self

    def _embed(self, X):
        estimator = self.estimator_
        images = estimator._checked_images_for_prediction(X)
        # This estimator's tta (it may change after fit), not the inner estimator's.
        net, tta = estimator.net_, int(self.tta)
        net.tta_seed = call_seed(self.random_state)
        with seeded_torch_rng(self.random_state, net.device):
            return estimator._map_image_batches(
                lambda tensor: net.forward_embedding(tensor, tta=tta).numpy(), images, what="transform"
            )

    def transform(self, X):
        """Penultimate-layer embedding of each image.

        Parameters
        ----------
        X : array-like of shape (N, H, W) or (N, H, W, C), or list of arrays
            Images of the size seen in ``fit``.

        Returns
        -------
        features : ndarray of shape (N, embedding_dim_), dtype float64
        """
        check_is_fitted(self, "estimator_")
        return self._embed(X).astype(np.float64)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.target_tags.required = True
        tags.transformer_tags.preserves_dtype = ["float64"]
        return tags
