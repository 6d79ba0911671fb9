"""Transformers that record how the comparison calls them (importable by worker and child processes)."""

from __future__ import annotations

import os
import threading
import time
from pathlib import Path

import numpy as np
from sklearn.base import BaseEstimator, TransformerMixin


def flatten(images):
    return np.asarray(images).reshape(len(images), -1) / 255.0


class CountingFlatten(TransformerMixin, BaseEstimator):
    """Flattened grey levels times ``scale``; every fit and transform is logged in ``CountingFlatten.log``."""

    log: list = []

    def __init__(self, scale=1.0):
        self.scale = scale

    def fit(self, X, y=None):
        CountingFlatten.log.append(("fit", len(X), self.scale))
        self.n_features_in_ = int(np.prod(np.shape(X)[1:]))
        return self

    def transform(self, X):
        CountingFlatten.log.append(("transform", len(X), self.scale))
        return flatten(X) * self.scale


class LazySetup(TransformerMixin, BaseEstimator):
    """Flattened grey levels; the first call in a process is 'cold' (like numba compiling, or an import).

    ``LazySetup.calls`` records ``(method, n_images, cold)`` for every call.
    """

    ready = False
    calls: list = []

    def _note(self, method, X):
        LazySetup.calls.append((method, len(X), not LazySetup.ready))
        LazySetup.ready = True

    def fit(self, X, y=None):
        self._note("fit", X)
        return self

    def transform(self, X):
        self._note("transform", X)
        return flatten(X)


class Hanging(TransformerMixin, BaseEstimator):
    """Flattened grey levels. With ``SKVISION_TEST_HANG=<n>:<marker>`` in the environment, the n-th fit of
    the process writes ``marker`` and blocks, for a test to kill the process there."""

    fits = 0

    def fit(self, X, y=None):
        Hanging.fits += 1
        hang = os.environ.get("SKVISION_TEST_HANG")
        if hang:
            at, marker = hang.split(":", 1)
            if Hanging.fits == int(at):
                Path(marker).write_text("hanging")
                time.sleep(600)
        return self

    def transform(self, X):
        return flatten(X)


def register_hanging_family():
    """Register the 'hanging' feature family (Hanging) if it is not registered yet."""
    from skvision.compare import FEATURE_FAMILIES, register_feature_family

    if "hanging" not in FEATURE_FAMILIES:
        register_feature_family(
            "hanging",
            estimator="tests.compare._helpers:Hanging",
            kind="baseline",
            summary="flattened grey levels that can hang on request (tests)",
        )(lambda hanging, info: hanging())


class FailsInWorkers(TransformerMixin, BaseEstimator):
    """Flattened grey levels in the process that created it; ``fit`` raises in any other process."""

    def __init__(self, home=None, interrupt=False):
        self.home = home
        self.interrupt = interrupt

    def fit(self, X, y=None):
        if self.home is not None and os.getpid() != self.home:
            if self.interrupt:  # Ctrl-C to the process group reaches the workers too
                raise KeyboardInterrupt
            raise RuntimeError("this transformer fails in a worker process")
        return self

    def transform(self, X):
        return flatten(X)


class WaitsInMain(TransformerMixin, BaseEstimator):
    """Flattened grey levels. In the process ``home`` (in every other one with ``in_workers``), the first
    transform of a fit waits (up to ``timeout`` s) until ``WaitsInMain.released`` is set, as a long fold
    would, and notes whether it was."""

    released = threading.Event()
    waits: list = []

    def __init__(self, home=None, timeout=30.0, in_workers=False):
        self.home = home
        self.timeout = timeout
        self.in_workers = in_workers

    def fit(self, X, y=None):
        self.waited_ = False
        return self

    def transform(self, X):
        if (os.getpid() == self.home) != self.in_workers and not self.waited_:
            self.waited_ = True
            WaitsInMain.waits.append(WaitsInMain.released.wait(self.timeout))
        return flatten(X)
