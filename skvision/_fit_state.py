"""A fit that fails leaves the estimator as it was.

Estimators set fitted attributes as they go (``classes_`` from ``y``, the image
shape, target scaling) and build what needs the data last; a ``fit`` that
raised after the first of those and before the last left a mix: a fitted
``CNNClassifier`` refitted on a new class that early stopping refused kept its
three-output network beside four ``classes_``, and ``predict`` changed every
label (accuracy 0.92 -> 0.08) without a word. :func:`keeps_state_on_error`
puts the attributes back as they were before the call when it raises.
"""

from __future__ import annotations

import functools

__all__ = ["keeps_state_on_error"]


def keeps_state_on_error(method):
    """Decorate ``fit``-like methods: on an ``Exception``, the instance's attributes are restored.

    Only the instance's own attribute dictionary is restored (a shallow copy is
    taken at the call): the objects it held are the same objects, so a method
    that changes one in place before failing is not undone. ``fit`` builds new
    ones. A ``KeyboardInterrupt`` is not an ``Exception``: an interrupted
    training keeps the network it reached, as documented.

    Examples
    --------
    >>> class Model:
    ...     @keeps_state_on_error
    ...     def fit(self, y):
    ...         self.classes_ = sorted(set(y))
    ...         if len(self.classes_) < 2:
    ...             raise ValueError("needs two classes")
    ...         return self
    >>> model = Model().fit([0, 1])
    >>> try:
    ...     model.fit([2, 2])
    ... except ValueError:
    ...     pass
    >>> model.classes_
    [0, 1]
    """

    @functools.wraps(method)
    def restoring(self, *args, **kwargs):
        before = dict(self.__dict__)
        try:
            return method(self, *args, **kwargs)
        except Exception:
            self.__dict__.clear()
            self.__dict__.update(before)
            raise

    return restoring
