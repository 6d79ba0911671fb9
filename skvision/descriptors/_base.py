"""Shared machinery of the handcrafted descriptors.

A descriptor subclass says *what* to compute on one stack of single-channel
images; this base class does everything around it, once, for all of them:

* parameter validation in ``fit`` (``_parameter_constraints`` plus the
  subclass's ``_check_params`` for cross-parameter rules),
* the image-input contract (:func:`skvision._images.check_images`) and the
  rule that ``transform`` gets images of the size seen in ``fit``,
* channel handling (``channels='gray'`` luminance or ``'each'`` channel),
* chunking over the batch (``batch_size``), joblib parallelism over chunks
  (``n_jobs``), a tqdm bar (``verbose``), writing into a preallocated output,
* the optional torch path (``device``, resolved by :mod:`skvision._device`),
* ``get_feature_names_out``.

Subclass hooks
--------------
``_check_params(self)``
    Cross-parameter validation; raise ``ValueError`` naming the parameter.
``_min_image_size(self) -> (h, w)`` and ``_min_image_size_reason(self) -> str``
    Smallest image the parameters allow.
``_fit_images(self, images)``
    Optional: learn from the validated training batch (use ``self._planes``).
``_describe(self, images) -> ndarray (n, F)``
    The numpy computation on a float64 ``(n, H, W)`` stack (in the planes' own
    dtype when the subclass sets ``_describe_dtype = None``).
``_describe_torch(self, images) -> Tensor (n, F)``
    Optional: the torch computation on a float64 ``(n, H, W)`` tensor. A
    descriptor that implements it has the ``devices`` tag ``('cpu', 'cuda')``
    and takes a ``device`` parameter (declare it in ``__init__`` and in
    ``_parameter_constraints`` with :data:`DEVICE_CONSTRAINT`); one that does
    not runs on the CPU and takes no ``device``.
``_plane_feature_names(self) -> list[str]``
    Names of the ``F`` features of one plane, given ``self.image_shape_``.
``_working_white(self) -> float | None``
    The value scale the descriptor computes on (see :mod:`skvision._images`):
    ``None`` (the default) for descriptors whose output does not depend on it,
    which pass planes as they come and check nothing; else the value of white
    (1.0, or 255.0 for constants on the 8-bit scale): planes arrive read by the
    rule on that scale, and every batch's scale is checked against ``fit``'s.
"""

from __future__ import annotations

import contextlib
import contextvars
import math
from numbers import Integral

import numpy as np
from joblib import Parallel, delayed, effective_n_jobs
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.utils.validation import check_is_fitted

from .._compat import Interval, StrOptions, fit_context
from .._device import resolve_device
from .._images import check_images, check_scale, to_grayscale, to_working_scale
from .._tags import SkvisionTags

__all__ = ["BaseDescriptor", "DEVICE_CONSTRAINT", "resolve_descriptor_device", "torch_path_on_cpu"]

# Pixels per chunk when batch_size is None: ~8 M float64 pixels is ~64 MB per
# working copy, small enough to stay in cache-friendly territory for the
# vectorised code and to bound memory on large batches.
_AUTO_CHUNK_PIXELS = 2**23

#: ``_parameter_constraints`` entry of the ``device`` of a descriptor with a torch path.
DEVICE_CONSTRAINT = [str, None]

#: Kinds of device a descriptor's torch path runs on: float64 throughout, which Apple's MPS lacks.
_TORCH_DEVICES = ("cpu", "cuda")
_NO_MPS = "descriptors compute in float64, which Apple's MPS GPUs do not support"

_torch_on_cpu = contextvars.ContextVar("skvision_descriptor_torch_on_cpu", default=False)


@contextlib.contextmanager
def torch_path_on_cpu():
    """Run descriptors' torch path on the CPU inside the block (for tests and benchmarks).

    ``device='cpu'`` runs a descriptor's fastest CPU code (numpy/numba); this
    block makes it run the torch implementation on the CPU instead, so that the
    two can be compared on any machine. Not a device: the output is the same
    to float tolerance either way.

    Examples
    --------
    >>> import numpy as np
    >>> from skvision import LBP
    >>> images = np.random.default_rng(0).integers(0, 256, (2, 16, 16), dtype=np.uint8)
    >>> lbp = LBP().fit(images)
    >>> with torch_path_on_cpu():
    ...     on_torch = lbp.transform(images)
    >>> bool(np.allclose(on_torch, lbp.transform(images)))
    True
    """
    token = _torch_on_cpu.set(True)
    try:
        yield
    finally:
        _torch_on_cpu.reset(token)


def resolve_descriptor_device(descriptor):
    """The torch device ``descriptor`` computes on, or ``None`` for its numpy/numba path.

    ``device`` follows :mod:`skvision._device`: ``'cpu'`` is the numpy/numba
    path (the torch path under :func:`torch_path_on_cpu`), ``'auto'``/``None``
    a CUDA GPU when torch sees one, ``'cuda'``/``'cuda:N'`` that GPU. A
    descriptor without a torch path always gets ``None``.

    Raises
    ------
    ValueError
        A value the descriptor cannot honour (see :func:`skvision._device.resolve_device`).

    Examples
    --------
    >>> from skvision import HOG
    >>> resolve_descriptor_device(HOG()) is None
    True
    """
    devices = descriptor.__sklearn_tags__().devices
    if devices == ("cpu",):
        return None
    name = type(descriptor).__name__
    resolved = resolve_device(descriptor.device, devices=devices, owner=name, reason=_NO_MPS)
    if resolved == "cpu" and not _torch_on_cpu.get():
        return None
    import torch  # deferred: descriptor users who never ask for a device do not pay for torch

    return torch.device(resolved)


class BaseDescriptor(TransformerMixin, BaseEstimator):
    """Base class of skvision's handcrafted descriptors (not for direct use)."""

    _parameter_constraints: dict = {
        "channels": [StrOptions({"gray", "each"})],
        "n_jobs": [Integral, None],
        "batch_size": [Interval(Integral, 1, None, closed="left"), None],
        "verbose": ["verbose"],
    }

    #: dtype ``_describe`` receives; ``None`` passes planes as they come, for
    #: descriptors that convert block by block instead of a full float64 copy.
    _describe_dtype = np.float64
    #: Short lowercase prefix of feature names (``"lbp"``, ``"hog"``, ...).
    _feature_prefix = "feature"
    #: joblib's ``prefer`` for ``n_jobs``: ``None`` (worker processes) or ``"threads"``
    #: for descriptors whose work releases the GIL; ``joblib.parallel_config`` overrides it.
    _parallel_prefer = None

    # ------------------------------------------------------------------ hooks
    def _check_params(self):
        """Cross-parameter validation (subclasses override)."""

    def _min_image_size(self):
        return (1, 1)

    def _min_image_size_reason(self):
        return None

    def _fit_images(self, images):
        """Learn from the validated training images (subclasses that learn override)."""

    def _describe(self, images):  # pragma: no cover - abstract
        raise NotImplementedError

    def _describe_torch(self, images):  # pragma: no cover - abstract
        raise NotImplementedError

    def _plane_feature_names(self):  # pragma: no cover - abstract
        raise NotImplementedError

    def _working_white(self):
        """White on the scale ``_describe`` computes on; ``None``: the output ignores the scale."""
        return None

    # ------------------------------------------------------------- sklearn API
    def __sklearn_tags__(self):
        has_torch = type(self)._describe_torch is not BaseDescriptor._describe_torch
        tags = SkvisionTags.from_tags(
            super().__sklearn_tags__(), devices=_TORCH_DEVICES if has_torch else ("cpu",)
        )
        tags.requires_fit = True
        tags.transformer_tags.preserves_dtype = ["float64"]
        # Images, not a feature table: sklearn's 2-D checks cannot apply as-is; the
        # ones that fail for that reason are listed in the tests with their reasons.
        tags.input_tags.three_d_array = True
        tags.input_tags.allow_nan = False
        return tags

    @fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y=None):
        """Validate parameters and images; learn what the descriptor needs.

        Parameters
        ----------
        X : array-like of shape (N, H, W) or (N, H, W, C), or list of arrays
            Training images (see :func:`skvision._images.check_images`).
        y : ignored
            Present for Pipeline compatibility.

        Returns
        -------
        self : object
            The fitted descriptor.
        """
        self._check_params()
        resolve_descriptor_device(self)  # a device it cannot honour is refused here, by name
        images = self._validate_images(X, reset=True)
        self._fit_images(images)
        self.n_features_out_ = len(self.get_feature_names_out())
        return self

    def transform(self, X):
        """Describe each image by a fixed-length feature vector.

        Parameters
        ----------
        X : array-like of shape (N, H, W) or (N, H, W, C), or list of arrays
            Images of the size seen in ``fit``.

        Returns
        -------
        features : ndarray of shape (N, n_features_out_), dtype float64
        """
        check_is_fitted(self, "image_shape_")
        images = self._validate_images(X, reset=False)
        return self._transform_in_chunks(images)

    def get_feature_names_out(self, input_features=None):
        """Names of the output features.

        Parameters
        ----------
        input_features : ignored
            Images have no input feature names; present for sklearn compatibility.

        Returns
        -------
        names : ndarray of str, shape (n_features_out_,)
        """
        check_is_fitted(self, "image_shape_")
        plane_names = self._plane_feature_names()
        names = []
        for prefix in self._plane_prefixes():
            names.extend(f"{self._feature_prefix}_{prefix}{name}" for name in plane_names)
        return np.asarray(names, dtype=object)

    # --------------------------------------------------------------- internals
    def _validate_images(self, X, *, reset):
        reads_intensities = self._working_white() is not None
        # The scale is recorded in fit, and checked later where the output depends on it (a
        # descriptor that ignores it pays nothing at transform).
        need_scale = reset or reads_intensities
        checked = check_images(
            X,
            min_size=self._min_image_size(),
            min_size_reason=self._min_image_size_reason(),
            return_scale=need_scale,
        )
        images, scale = checked if need_scale else (checked, None)
        if reads_intensities:
            fitted = None if reset else getattr(self, "input_scale_", None)
            check_scale(scale, owner=type(self).__name__, fitted=fitted)
        if reset:
            self.input_scale_ = scale
            self.image_shape_ = tuple(images.shape[1:])
            self.n_channels_ = 1 if images.ndim == 3 else images.shape[3]
        elif tuple(images.shape[1:]) != self.image_shape_:
            raise ValueError(
                f"X has images of shape {tuple(images.shape[1:])} but {type(self).__name__} "
                f"was fitted on images of shape {self.image_shape_}; the feature vector "
                "depends on the image size, so transform needs images of the fitted size."
            )
        return images

    def _plane_prefixes(self):
        if self.channels == "each" and self.n_channels_ > 1:
            return [f"c{c}_" for c in range(self.n_channels_)]
        return [""]

    def _planes(self, images):
        """Yield ``(prefix, plane)`` pairs: the single-channel stacks to describe, on the working scale."""
        white = self._working_white()
        if self.channels == "each" and images.ndim == 4:
            for c in range(images.shape[3]):
                yield f"c{c}_", to_working_scale(images[..., c], images.dtype, white)
        else:
            yield "", to_working_scale(to_grayscale(images), images.dtype, white)

    def _resolved_batch_size(self, n_images, pixels_per_image):
        if self.batch_size is not None:
            return int(self.batch_size)
        size = max(1, _AUTO_CHUNK_PIXELS // max(1, pixels_per_image))
        n_workers = effective_n_jobs(self.n_jobs)
        if n_workers > 1:
            # Give every worker work: at least one chunk each.
            size = min(size, math.ceil(n_images / n_workers))
        return size

    def _transform_chunk(self, images, device):
        parts = []
        for _, plane in self._planes(images):
            if device is None:
                if self._describe_dtype is not None:
                    plane = plane.astype(self._describe_dtype, copy=False)
                parts.append(self._describe(plane))
            else:
                import torch

                tensor = torch.as_tensor(np.ascontiguousarray(plane, dtype=np.float64), device=device)
                parts.append(self._describe_torch(tensor).double().cpu().numpy())
        return parts[0] if len(parts) == 1 else np.concatenate(parts, axis=1)

    def _transform_in_chunks(self, images):
        device = resolve_descriptor_device(self)
        n_images = images.shape[0]
        batch = self._resolved_batch_size(n_images, images.shape[1] * images.shape[2])
        starts = range(0, n_images, batch)
        out = np.empty((n_images, self.n_features_out_), dtype=np.float64)

        progress = None
        if self.verbose:
            from tqdm.auto import tqdm

            progress = tqdm(total=len(starts), desc=type(self).__name__, unit="chunk")

        # One process cannot share a CUDA context with forked workers, and a GPU is
        # already parallel: the torch path runs its chunks in this process.
        n_jobs = 1 if device is not None else self.n_jobs
        if effective_n_jobs(n_jobs) == 1:
            results = (self._transform_chunk(images[s : s + batch], device) for s in starts)
        else:
            results = Parallel(n_jobs=n_jobs, return_as="generator", prefer=self._parallel_prefer)(
                delayed(self._transform_chunk)(images[s : s + batch], None) for s in starts
            )
        for start, block in zip(starts, results):
            if block.shape[1] != out.shape[1]:
                raise ValueError(
                    f"{type(self).__name__} now gives {block.shape[1]} features per image but was fitted to "
                    f"give {out.shape[1]}: a parameter changed after fit (set_params); fit it again."
                )
            out[start : start + block.shape[0]] = block
            if progress is not None:
                progress.update(1)
        if progress is not None:
            progress.close()
        return out
