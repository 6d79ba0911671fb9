"""Every private name skvision takes from its dependencies, in one place.

scikit-learn keeps its parameter validation (``Interval``, ``StrOptions``,
``validate_params``) and the ``_fit_context`` decorator in private modules;
they are the very tools sklearn's own estimators use, and writing them again
would drift from sklearn's error messages. skvision imports them from here
only, so that a release that moves them breaks one module, and the upper
bounds in ``pyproject.toml`` say which releases were checked.

skorch's private methods that the neural estimators override or call cannot be
imported from one place; they are listed in :data:`SKORCH_PRIVATES` (at the end)
with the signature they were written against, and ``tests/test_compat.py``
checks the list against the installed skorch.

Checked against
---------------
scikit-learn 1.6 to 1.9 (``sklearn.utils._param_validation``, ``sklearn.base._fit_context``).
"""

from __future__ import annotations

from sklearn.base import _fit_context as fit_context
from sklearn.utils._param_validation import Interval, StrOptions, validate_params

__all__ = ["Interval", "StrOptions", "validate_params", "fit_context", "SKLEARN_PRIVATES", "SKORCH_PRIVATES"]

#: scikit-learn's private methods and hooks that skvision's estimators call or define, beyond the imports
#: above: ``"module.Class.name"`` -> (what it must be, where skvision uses it). Checked against
#: scikit-learn 1.6 to 1.9; ``tests/test_compat.py`` checks them against the installed release.
SKLEARN_PRIVATES = {
    "sklearn.base.BaseEstimator._get_param_names": (
        "(cls)",
        "called by skvision.neural._estimator.NeuralImageEstimator to tell its signature parameters from "
        "skorch's routed ones (get_params / set_params)",
    ),
    "sklearn.base.BaseEstimator._validate_params": (
        "(self)",
        "called by skvision.neural._cnn's partial_fit, which cannot go through fit's fit_context",
    ),
    "sklearn.base.ClassNamePrefixFeaturesOutMixin.get_feature_names_out": (
        "(self, input_features=None)",
        "reads the private _n_features_out that CNNFeatures, AutoencoderFeatures and PretrainedFeatures "
        "define",
    ),
}


# ---------------------------------------------------------------------------------------------- skorch
# skorch offers no public hook for a few things the neural core needs (resuming a per-batch schedule at
# the right step, replaying early stopping over a resumed history, stepping a gradient scaler outside an
# optimizer closure), so it overrides or calls the private methods below. They are listed as data, not
# imported: skorch is an optional dependency and this module is imported without it. A release that
# drops or changes one fails tests/test_compat.py by name.
#
# Checked against skorch 1.4.0. The changelog lists no change to these names from 1.0 to 1.4; skorch
# >= 1.1 is needed anyway next to scikit-learn >= 1.6 (its nets inherit BaseEstimator from 1.1 on).

#: skorch's private names that skvision relies on: ``"module.Class.name"`` -> (what it must be, where
#: skvision uses it). "What it must be" is the method's ``inspect.signature`` text, or ``"list"`` for a
#: class attribute holding a list.
SKORCH_PRIVATES = {
    "skorch.callbacks.LRScheduler._get_scheduler": (
        "(self, net, policy, **scheduler_kwargs)",
        "overridden by skvision.neural._callbacks._BatchSteppedLRScheduler: a per-batch schedule "
        "starts from the batch count of a resumed history, not from its epoch count",
    ),
    "skorch.callbacks.ProgressBar._use_notebook": (
        "(self)",
        "called by skvision.neural._callbacks.TerminalProgressBar: a notebook keeps skorch's bar",
    ),
    "skorch.callbacks.EarlyStopping._is_score_improved": (
        "(self, score)",
        "called by skvision.neural._callbacks._ResumableEarlyStopping to replay a resumed history",
    ),
    "skorch.callbacks.EarlyStopping._calc_new_threshold": (
        "(self, score)",
        "called by skvision.neural._callbacks._ResumableEarlyStopping to replay a resumed history",
    ),
    "skorch.callbacks.Checkpoint._sink": (
        "(self, text, verbose)",
        "overridden by skvision.neural._callbacks._AtomicCheckpoint: its line names the epoch saved "
        "(skorch's names the next one)",
    ),
    "skorch.NeuralNet._set_training": (
        "(self, training=True)",
        "called by skvision.neural._net.ImageNetMixin's training, validation and prediction steps "
        "(train/eval mode of every module and criterion, as skorch's own steps do)",
    ),
    "skorch.NeuralNet._zero_grad_optimizer": (
        "(self, set_to_none=None)",
        "called by skvision.neural._net.ImageNetMixin.train_step when a gradient scaler steps the "
        "optimizers (GradScaler cannot step through skorch's optimizer closure)",
    ),
    "skorch.NeuralNet._optimizers": (
        "list",
        "read by skvision.neural._net.ImageNetMixin.train_step: the names of the optimizers the "
        "gradient scaler unscales and steps",
    ),
}
