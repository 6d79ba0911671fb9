"""Every private name skvision takes from its dependencies, in one place.

scikit-learn keeps its parameter validation (``Interval``, ``StrOptions``,
``validate_params``) and the ``_fit_context`` decorator in private modules;
they are the very tools sklearn's own estimators use, and writing them again
would drift from sklearn's error messages. skvision imports them from here
only, so that a release that moves them breaks one module, and the upper
bounds in ``pyproject.toml`` say which releases were checked.

Checked against
---------------
scikit-learn 1.6 to 1.9 (``sklearn.utils._param_validation``, ``sklearn.base._fit_context``).
"""

from __future__ import annotations

from sklearn.base import _fit_context as fit_context
from sklearn.utils._param_validation import Interval, StrOptions, validate_params

__all__ = ["Interval", "StrOptions", "validate_params", "fit_context"]
