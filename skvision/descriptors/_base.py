"""Shared machinery of the handcrafted descriptors.

A descriptor subclass says *what* to compute on one stack of single-channel
images; this base class does everything around it, once, for all of them:

* parameter validation in ``fit`` (``_parameter_constraints`` plus the
  subclass's ``_check_params`` for cross-parameter rules),
* the image-input contract (:func:`skvision._images.check_images`) and the
  rule that ``transform`` gets images of the size seen in ``fit``,
* channel handling (``channels='gray'`` luminance or ``'each'`` channel),
* chunking over the batch (``batch_size``), parallelism over chunks
  (``n_jobs``, see "Parallelism" below), a tqdm bar (``verbose``), writing into
  a preallocated output,
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
``_torch_plane(self, plane) -> ndarray``
    Optional: the numpy array the torch path's tensor is made from (the plane
    as float64 by default), for a step that must see the plane's own dtype, or
    a descriptor that computes in float32 where its numpy path does.
``_plane_feature_names(self) -> list[str]``
    Names of the ``F`` features of one plane, given ``self.image_shape_``.
``_describe_into(self, images, out)``
    Optional: ``_describe`` writing into ``out`` (an ``(n, F)`` view of the
    transform's output) instead of returning a new array.
``_pixel_cost_ns(self) -> float``
    Single-process nanoseconds per pixel of one plane, for the parameters set:
    the workload estimate of ``n_jobs`` (see below). Class attribute
    ``_PIXEL_COST_NS`` by default.
``_working_white(self) -> float | None``
    The value scale the descriptor computes on (see :mod:`skvision._images`):
    ``None`` (the default) for descriptors whose output does not depend on it,
    which pass planes as they come and check nothing; else the value of white
    (1.0, or 255.0 for constants on the 8-bit scale): planes arrive read by the
    rule on that scale, and every batch's scale is checked against ``fit``'s.

Parallelism
-----------
``n_jobs`` means what it means in scikit-learn (``None`` is 1 unless inside
``joblib.parallel_config(n_jobs=...)``; -1 is every core), and it never makes a
transform slower than one process:

* the serial work is estimated from the workload (images x pixels x planes x
  the descriptor's measured cost per pixel, ``_pixel_cost_ns``); below
  ``_MIN_PARALLEL_SECONDS`` of it for the descriptor's strategy, the transform
  runs in one thread whatever ``n_jobs`` says: starting workers and moving
  chunks would cost more than a second core brings;
* above it, each descriptor runs its chunks the way that scales for it
  (``_parallel_prefer``): ``"threads"`` of this process for work that releases
  the GIL (numba kernels compiled ``nogil``, large numpy and scipy.fft calls),
  on a pool started once per process (joblib's threading backend starts a
  pool per call, ~10-30 ms), each chunk writing into its rows of the output;
  or ``"processes"`` (joblib's default, loky) for work that holds the GIL (many
  small Python-level calls);
* a backend chosen with ``joblib.parallel_config(backend=...)`` takes the
  chunks (a dask cluster, say) once the work is worth shipping: under
  ``_MIN_PARALLEL_SECONDS["processes"]`` of it (``["threads"]`` for the threading
  backend) it runs in this process, as it would without the backend;
* chunks a small ``batch_size`` makes tiny (under ``_MIN_TASK_SECONDS`` of
  work each) run in one thread, or several to a task of a backend's workers:
  a chunk of microseconds is mostly its own Python, which holds the GIL.

The output is bit-identical whatever ``n_jobs``, ``batch_size`` and backend
(tests/test_determinism.py): chunks are described independently and written
into their rows. BENCHMARKS.md ("Parallel") has the measurements behind the
per-descriptor costs, thresholds and strategies.
"""

from __future__ import annotations

import contextlib
import contextvars
import math
import os
import threading
from concurrent.futures import ThreadPoolExecutor
from numbers import Integral

import numpy as np
from joblib import Parallel, delayed, effective_n_jobs
from joblib._parallel_backends import ThreadingBackend
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.utils.validation import check_is_fitted

from .._compat import Interval, StrOptions, fit_context
from .._device import resolve_device
from .._fit_state import keeps_state_on_error
from .._images import check_images, check_scale, to_grayscale, to_working_scale
from .._tags import SkvisionTags
from .._talk import LongCallLines, still_running
from .._workers import configured_backend, results_as_they_come
from ._common import as_8bit_levels, eight_bit_level_images

__all__ = ["BaseDescriptor", "DEVICE_CONSTRAINT", "resolve_descriptor_device", "torch_path_on_cpu"]

# Pixels per chunk when batch_size is None: ~8 M float64 pixels is ~64 MB per
# working copy, small enough to stay in cache-friendly territory for the
# vectorised code and to bound memory on large batches.
_AUTO_CHUNK_PIXELS = 2**23

#: Estimated single-process seconds of work below which ``n_jobs > 1`` runs in one thread,
#: per strategy. Threads: a pool task costs ~0.1 ms, and two threads on two cores share the
#: memory bandwidth and the caches, so a split gains only on a few milliseconds of work.
#: Processes: joblib's loky pool costs ~10-15 ms per call once started, plus copying the
#: chunks and their features between processes (and ~1 s to start the workers, once per
#: process). Measured with benchmarks/bench_parallel.py (BENCHMARKS.md, "Parallel"), with
#: margin for machines faster than the one measured. The processes' threshold was 0.4 s while
#: BagOfVisualWords' SIFT and ORB (the only descriptors on processes) were estimated at DAISY's
#: cost, 5x and 2x too low; at their measured costs 1.5 s keeps about the same work serial.
_MIN_PARALLEL_SECONDS = {"threads": 0.01, "processes": 1.5}
#: Least estimated work of one task. A thread's chunk under ~1 ms is mostly the chunk's own Python
#: (planes, checks), which holds the GIL: with batch_size=1, two threads ran WLD and GLCM on 3,000
#: 28x28 images 2x slower than one (377 vs 774 ms); such chunks run in one thread. A task sent to
#: processes or a configured backend (pickled, shipped) gets consecutive chunks until it holds
#: ~50 ms of work, each still described ``batch_size`` images at a time.
_MIN_TASK_SECONDS = {"threads": 0.001, "processes": 0.05}
#: Chunks per worker above this much estimated work (a chunk finishing late leaves a core idle).
_CHUNKS_PER_WORKER = 4
_BALANCE_ABOVE_SECONDS = 0.2
#: Longest a chunk of a transform is estimated to run (see ``_chunk_starts``).
_CHUNK_SECONDS = 2.0
#: Estimated seconds of a transform from which a thread says how it goes between chunks.
_TICK_ABOVE_SECONDS = 1.0


class _LongTransformLines:
    """A tqdm-like progress for ``verbose=0``: :class:`skvision._talk.LongCallLines` counting images."""

    def __init__(self, name, total, *, tick=True):
        # Ticking: a call in one large chunk (batch_size=len(X)) has no chunk ends to speak at.
        self.lines = LongCallLines(name, total, tick=tick)
        self.done = 0

    def update(self, n):
        self.done += n
        self.lines.update(self.done)

    def close(self):
        self.lines.close()


class _ThreadPool:
    """One pool of worker threads per process, started on first use and grown on demand.

    A pool thread never hands work to the pool (a descriptor called from inside a chunk
    runs serially), so a chunk cannot wait for a thread that waits for it.
    """

    _lock = threading.Lock()
    _executor = None
    _size = 0
    _local = threading.local()

    @classmethod
    def get(cls, n_workers):
        with cls._lock:
            if cls._executor is None or cls._size < n_workers:
                # The smaller pool is dropped, not shut down: another thread may hold it
                # between get() and its map(), which would then raise. Its threads finish
                # what was submitted and exit when the pool is collected.
                cls._executor = ThreadPoolExecutor(
                    n_workers, thread_name_prefix="skvision-descriptor", initializer=cls._mark_worker
                )
                cls._size = n_workers
            return cls._executor

    @classmethod
    def _mark_worker(cls):
        cls._local.worker = True

    @classmethod
    def in_worker(cls):
        return getattr(cls._local, "worker", False)

    @classmethod
    def forget(cls):
        # A forked child has the pool object but none of its threads.
        cls._executor, cls._size = None, 0
        cls._lock = threading.Lock()


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_ThreadPool.forget)


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


def working_scale_of_copies(values, dtype, white):
    """``to_working_scale(values, dtype, white)`` (``white`` a number), with float copies of 8-bit images
    read as those images.

    Float images that are 8-bit levels on the [0, 1] scale (``X / 255``, float32
    too: :func:`~skvision.descriptors._common.eight_bit_level_images`) are put on
    the working scale as the uint8 ``X`` would be. On the [0, 1] scale, equal
    8-bit differences and levels on a bin edge land an ulp to either side (HOG's
    45-degree edge, LBP's ties, WLD's and ColorHistogram's bins), so ``X / 255``
    would not get ``X``'s features. Decided image by image, so that no chunking
    changes an image's features; a batch of both comes back in one float64 array,
    every image on the working scale.
    """
    if np.dtype(dtype).kind != "f":
        return to_working_scale(values, dtype, white)
    levels, is_levels = eight_bit_level_images(values)
    if is_levels.all():
        return to_working_scale(levels, levels.dtype, white)
    working = to_working_scale(values, dtype, white)
    if not is_levels.any():
        return working
    out = np.array(working, dtype=np.float64)
    out[is_levels] = to_working_scale(levels, levels.dtype, white)
    return out


#: Parameters that say how the work runs, not what it computes: they may change between fit and transform.
_RUN_PARAMS = frozenset({"n_jobs", "batch_size", "device", "verbose"})


def _same_param_value(a, b):
    """Whether two values of a parameter are the same (arrays element by element; anything else by ``==``)."""
    if a is b:
        return True
    if isinstance(a, np.ndarray) or isinstance(b, np.ndarray):
        return np.shape(a) == np.shape(b) and bool(np.array_equal(a, b))
    try:
        return bool(a == b)
    except (TypeError, ValueError):  # a comparison without a single truth value
        return False


class BaseDescriptor(TransformerMixin, BaseEstimator):
    """Base class of skvision's handcrafted descriptors (not for direct use)."""

    _parameter_constraints: dict = {
        "channels": [StrOptions({"gray", "each"})],
        # joblib's convention: k processes or threads, -1 all cores, -2 all but one; 0 means nothing.
        "n_jobs": [
            Interval(Integral, None, -1, closed="right"),
            Interval(Integral, 1, None, closed="left"),
            None,
        ],
        "batch_size": [Interval(Integral, 1, None, closed="left"), None],
        "verbose": ["verbose"],
    }

    #: Whether float copies of 8-bit images (``X / 255``) are read as their levels where the descriptor
    #: has no working scale (``_working_white() is None``): for those whose bins 8-bit values hit
    #: exactly (HOG's 45-degree edge, LBP's ties). Those with a working scale always read them so.
    _reads_copies_as_levels = False
    #: dtype ``_describe`` receives; ``None`` passes planes as they come, for
    #: descriptors that convert block by block instead of a full float64 copy.
    _describe_dtype = np.float64
    #: Short lowercase prefix of feature names (``"lbp"``, ``"hog"``, ...).
    _feature_prefix = "feature"
    #: How ``n_jobs`` runs chunks (see "Parallelism" in the module notes): ``"threads"`` for
    #: work that releases the GIL, ``"processes"`` for work that holds it. Also joblib's
    #: ``prefer`` hint when a backend is configured (which then decides).
    _parallel_prefer = "threads"
    #: Parameters besides those of how the work runs that may change between fit and transform: they
    #: only post-process what was computed (see ``_check_params_unchanged``).
    _FREE_AFTER_FIT = frozenset()
    #: Single-process nanoseconds per pixel of one plane at the default parameters (the
    #: reference machine of BENCHMARKS.md); ``_pixel_cost_ns`` may scale it with parameters.
    _PIXEL_COST_NS = 100.0
    #: Pixels per chunk when ``batch_size`` is None (see ``_AUTO_CHUNK_PIXELS``); a descriptor whose
    #: numpy path makes many full-size temporaries per chunk runs faster on smaller chunks.
    _chunk_pixels = _AUTO_CHUNK_PIXELS
    #: Images smaller than this many pixels run serially even with ``n_jobs > 1`` and much work:
    #: for a numpy path bound by memory traffic and per-call overhead two threads lose there.
    _min_thread_image_pixels = 0

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

    def _describe_into(self, images, out):
        """``out[...] = self._describe(images)``; descriptors that can write in place override."""
        block = self._describe(images)
        self._check_width(block.shape[1], out.shape[1])
        out[...] = block

    def _pixel_cost_ns(self):
        return self._PIXEL_COST_NS

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

    @keeps_state_on_error
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
        self._params_at_fit = None  # being fitted: no check against an earlier fit's parameters
        images = self._validate_images(X, reset=True)
        # Most fits take milliseconds; BagOfVisualWords' k-means or BSIF's ICA can take minutes
        # (a verbose fit has its bar instead).
        talk = still_running if not getattr(self, "verbose", 0) else lambda what: contextlib.nullcontext()
        with talk(f"{type(self).__name__}: fit on {len(images):,} images"):
            self._fit_images(images)
        self.n_features_out_ = len(self.get_feature_names_out())
        self._params_at_fit = self.get_params(deep=False)
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
        self._check_params_unchanged()
        if self.n_jobs == 0:  # may change after fit: joblib's own error named neither us nor the parameter
            raise ValueError(
                f"{type(self).__name__}: n_jobs=0 means nothing; pass 1 (or None), k, or -1 for all cores."
            )
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
        self._check_params_unchanged()
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
            fitted_shape=None if reset else self.image_shape_,
        )
        images, scale = checked if need_scale else (checked, None)
        if reads_intensities:
            fitted = None if reset else getattr(self, "input_scale_", None)
            check_scale(scale, owner=type(self).__name__, fitted=fitted, images=images)
        if reset:
            self.input_scale_ = scale
            self.image_shape_ = tuple(images.shape[1:])
            self.n_channels_ = 1 if images.ndim == 3 else images.shape[3]
        elif tuple(images.shape[1:]) != self.image_shape_:
            if tuple(images.shape[1:3]) == tuple(self.image_shape_[:2]):
                # Same size, other channels: grey after colour, RGBA after RGB, ...
                def channels(shape):
                    return (
                        "grey images (no channel axis)" if len(shape) == 2 else f"{shape[2]}-channel images"
                    )

                raise ValueError(
                    f"X has {channels(images.shape[1:])} but {type(self).__name__} was fitted on "
                    f"{channels(self.image_shape_)} of the same size {self.image_shape_[0]}x"
                    f"{self.image_shape_[1]}; pass images with the channels of the training images"
                    + (
                        " (skvision.preprocessing.Grayscale makes colour images grey)."
                        if len(self.image_shape_) == 2
                        else f" (X[..., :{self.image_shape_[2]}] keeps the first {self.image_shape_[2]}: "
                        "RGBA's alpha dropped)."
                        if len(images.shape) == 4 and images.shape[3] > self.image_shape_[2]
                        else "."
                    )
                )
            raise ValueError(
                f"X has images of shape {tuple(images.shape[1:])} but {type(self).__name__} "
                f"was fitted on images of shape {self.image_shape_}; every descriptor's transform takes "
                "images of the fitted size (most measure in pixels: neighbourhoods, cells and filters "
                "describe another scale on another size, and grids of cells change the width). Resize "
                f"them first: skvision.preprocessing.Resize({tuple(self.image_shape_[:2])})."
            )
        return images

    def _plane_prefixes(self):
        if self.channels == "each" and self.n_channels_ > 1:
            return [f"c{c}_" for c in range(self.n_channels_)]
        return [""]

    def _planes(self, images):
        """Yield ``(prefix, plane)`` pairs: the single-channel stacks to describe, on the working scale."""
        for prefix, plane in self._unscaled_planes(images):
            yield prefix, self._on_working_scale(plane, images.dtype)

    def _unscaled_planes(self, images):
        """Yield ``(prefix, plane)`` pairs: the stacks of ``channels``, on the images' own scale."""
        if self.channels == "each" and images.ndim == 4:
            for c in range(images.shape[3]):
                yield f"c{c}_", images[..., c]
        else:
            yield "", to_grayscale(images)

    def _on_working_scale(self, values, dtype):
        """``values`` (of a batch of ``dtype``) on the scale ``_describe`` computes on.

        Read by the rule of :mod:`skvision._images`, except after a ``fit`` on floats
        outside [0, 1]: those follow no scale and are taken as given (features in
        their units), so a float copy of 8-bit images, fitted and described alike,
        gives the 8-bit features instead of being read as [0, 1] intensities
        (x 255). Later batches on another scale are refused by the scale check.
        Float copies of 8-bit images (``X / 255``) are read as the images they
        copy (:func:`working_scale_of_copies`).
        """
        white = self._working_white()
        if self._floats_taken_as_given(dtype):
            return values
        if white is None:
            # No scale to put them on: descriptors whose bins 8-bit values hit exactly read the copies
            # as levels themselves, image by image, on the images' own scale (the others need not).
            return as_8bit_levels(values) if self._reads_copies_as_levels else values
        return working_scale_of_copies(values, dtype, white)

    def _floats_taken_as_given(self, dtype):
        """Whether floats of ``dtype`` follow no scale here: fitted on floats outside [0, 1]."""
        fitted = getattr(self, "input_scale_", None)
        return (
            np.dtype(dtype).kind == "f"
            and fitted is not None
            and fitted.kind == "float"
            and not fitted.follows_rule
        )

    def _resolved_batch_size(self, n_images, pixels_per_image):
        if self.batch_size is not None:
            return int(self.batch_size)
        # Split for the workers by _chunk_starts, once the plan says they run: a batch too
        # small to share is one chunk, as with n_jobs=1.
        return max(1, self._chunk_pixels // max(1, pixels_per_image))

    def _transform_chunk(self, images, device):
        parts = []
        for _, plane in self._planes(images):
            if device is None:
                if self._describe_dtype is not None:
                    plane = plane.astype(self._describe_dtype, copy=False)
                parts.append(self._describe(plane))
            else:
                import torch

                tensor = torch.as_tensor(np.ascontiguousarray(self._torch_plane(plane)), device=device)
                parts.append(self._describe_torch(tensor).double().cpu().numpy())
        return parts[0] if len(parts) == 1 else np.concatenate(parts, axis=1)

    def _transform_chunks(self, images, batch):
        """``_transform_chunk`` of ``images``, ``batch`` at a time (a joblib task of several chunks)."""
        if len(images) <= batch:
            return self._transform_chunk(images, None)
        return np.concatenate(
            [self._transform_chunk(images[s : s + batch], None) for s in range(0, len(images), batch)]
        )

    def _torch_plane(self, plane):
        """The numpy array the torch path's tensor is made from (see "Subclass hooks")."""
        return plane.astype(np.float64, copy=False)

    def _transform_chunk_into(self, images, out):
        """The numpy path of ``_transform_chunk``, each plane written into its columns of ``out``."""
        planes = list(self._planes(images))
        width = out.shape[1] // len(planes)
        for k, (_, plane) in enumerate(planes):
            if self._describe_dtype is not None:
                plane = plane.astype(self._describe_dtype, copy=False)
            self._describe_into(plane, out[:, k * width : (k + 1) * width])

    def _check_params_unchanged(self):
        """Raise when a parameter other than how the work runs changed since fit (``set_params``).

        What fit learnt (BSIF's filters, LBP's variance bins, a codebook, the
        output width and names) comes from the parameters of that fit: a
        transform under others would mix the two, silently. ``n_jobs``,
        ``batch_size``, ``device`` and ``verbose`` may change freely, and the
        parameters of ``_FREE_AFTER_FIT`` (a histogram's ``normalize``).
        """
        fitted = getattr(self, "_params_at_fit", None)
        if fitted is None:  # being fitted, or unpickled from a version that did not record them
            return
        free = _RUN_PARAMS | self._FREE_AFTER_FIT
        current = self.get_params(deep=False)
        changed = [
            name
            for name, value in fitted.items()
            if name not in free and not _same_param_value(value, current.get(name))
        ]
        if changed:
            said = ", ".join(f"{name}={fitted[name]!r} -> {current.get(name)!r}" for name in changed)
            may = ", ".join(sorted(name for name in free if name in current))
            raise ValueError(
                f"{type(self).__name__}: a parameter changed after fit (set_params: {said}); what fit learnt "
                f"comes from the old value: fit it again (only {may} may change between fit and transform)."
            )
        if any(not _same_param_value(value, current.get(name)) for name, value in fitted.items()):
            # n_jobs=2.5 or "x" set after fit: the message fit would give (2.5 ran as if 2; "x" raised
            # "'<' not supported between instances of 'str' and 'int'").
            self._validate_params()

    def _check_width(self, got, expected, per_plane=True):
        """Raise when a chunk's features (per plane, or in all) are not as many as fitted."""
        if got != expected:
            n_planes = len(self._plane_prefixes()) if per_plane else 1
            fitted = getattr(self, "n_features_out_", expected * n_planes)
            raise ValueError(
                f"{type(self).__name__} now gives {got * n_planes} features per image but was fitted to "
                f"give {fitted}: a parameter changed after fit (set_params); fit it again."
            )

    def _estimated_seconds(self, images):
        """Single-process seconds of work the batch is estimated to take (see "Parallelism")."""
        n_images, height, width = images.shape[:3]
        n_planes = len(self._plane_prefixes())
        return n_images * height * width * n_planes * self._pixel_cost_ns() * 1e-9

    def _parallel_plan(self, images, device):
        """``(how, n_jobs)``: how the chunks run: ``'serial'``, ``'threads'`` (this process's pool of
        ``n_jobs`` threads) or ``'joblib'`` (``Parallel(n_jobs)``: a configured backend or loky)."""
        # One process cannot share a CUDA context with forked workers, and a GPU is
        # already parallel: the torch path runs its chunks in this process.
        n_jobs = 1 if device is not None else self.n_jobs
        n_workers = effective_n_jobs(n_jobs)
        if n_workers == 1 or _ThreadPool.in_worker():
            return "serial", 1
        backend = configured_backend()
        if backend is not None:
            # Honoured once there is work to ship: under parallel_config(backend="loky"), LBP's 12 ms
            # on 3,000 28x28 images took 113 ms, and a dask cluster's 7 tasks ~400 ms.
            kind = "threads" if isinstance(backend, ThreadingBackend) else "processes"
            if self._estimated_seconds(images) < _MIN_PARALLEL_SECONDS[kind]:
                return "serial", 1
            return "joblib", n_jobs
        prefer = "threads" if self._parallel_prefer == "threads" else "processes"
        if self._estimated_seconds(images) < _MIN_PARALLEL_SECONDS[prefer]:
            return "serial", 1
        if prefer == "threads" and images.shape[1] * images.shape[2] < self._min_thread_image_pixels:
            return "serial", 1
        return ("threads" if prefer == "threads" else "joblib"), n_workers

    def _chunk_starts(self, images, how, n_workers, device=None):
        starts, batch = self._work_chunk_starts(images, how, n_workers)
        if device is not None:  # a GPU's batches stay large: its times are not the CPU estimate's
            return starts, batch
        # Chunks of at most about _CHUNK_SECONDS: a long transform's bar (and its lines at
        # verbose=0) move every few seconds, not twice in a minute (GaborBank: 2 chunks, 20 s).
        # The output is the same whatever the chunks.
        # (The cap is on images per chunk: dividing the batch, which may exceed the images, by the
        # pieces wanted left SIFT's 600 64x64 images, 11 s of work, in two chunks.)
        n_images = images.shape[0]
        pieces = math.ceil(self._estimated_seconds(images) / _CHUNK_SECONDS)
        most = max(1, math.ceil(n_images / pieces))
        if self.batch_size is None and pieces > 1 and most < batch:
            batch = most
            starts = range(0, n_images, batch)
        return starts, batch

    def _work_chunk_starts(self, images, how, n_workers):
        """Start of each chunk: ``batch_size`` images, else the descriptor's size, and with workers
        at least one chunk each, several for large work (so that none waits for the last)."""
        n_images = images.shape[0]
        batch = self._resolved_batch_size(n_images, images.shape[1] * images.shape[2])
        if self.batch_size is None and how != "serial":
            # n_jobs=None under a configured backend: the backend's own number of workers.
            chunks = effective_n_jobs(n_workers)
            if self._estimated_seconds(images) > _BALANCE_ABOVE_SECONDS:
                chunks *= _CHUNKS_PER_WORKER
            batch = max(1, min(batch, math.ceil(n_images / chunks)))
        return range(0, n_images, batch), batch

    def _transform_in_chunks(self, images):
        device = resolve_descriptor_device(self)
        n_images = images.shape[0]
        how, n_jobs = self._parallel_plan(images, device)
        starts, batch = self._chunk_starts(images, how, n_jobs, device)
        chunk_seconds = self._estimated_seconds(images[:batch])
        if how == "threads" and chunk_seconds < _MIN_TASK_SECONDS["threads"]:
            how, n_jobs = "serial", 1  # a small batch_size: chunks of mostly Python
        # Consecutive chunks per joblib task (1 unless batch_size made them small).
        per_task = max(1, math.ceil(_MIN_TASK_SECONDS["processes"] / max(chunk_seconds, 1e-12)))
        per_task = min(per_task, max(1, len(starts) // max(1, effective_n_jobs(n_jobs))))
        out = np.empty((n_images, self.n_features_out_), dtype=np.float64)

        if self.verbose:
            from tqdm.auto import tqdm

            progress = tqdm(total=n_images, desc=type(self).__name__, unit="image")
        else:
            # Quiet, but a transform that runs long says how it goes (GaborBank on 10,000 64x64
            # images was silent for 42 s).
            # The ticking thread costs ~0.14 ms to start: only for work estimated at a second or more
            # (estimates run up to 5x low, and the first line comes at 10 s).
            tick = device is None and self._estimated_seconds(images) >= _TICK_ABOVE_SECONDS
            progress = _LongTransformLines(type(self).__name__, n_images, tick=tick)

        def into(start):
            self._transform_chunk_into(images[start : start + batch], out[start : start + batch])

        if how == "joblib":
            tasks = range(0, n_images, batch * per_task)
            blocks = Parallel(n_jobs=n_jobs, return_as=results_as_they_come(), prefer=self._parallel_prefer)(
                delayed(self._transform_chunks)(images[s : s + batch * per_task], batch) for s in tasks
            )
            starts, batch, results = tasks, batch * per_task, blocks
        elif how == "threads":
            results = _ThreadPool.get(n_jobs).map(into, starts)
        elif device is not None:
            results = (self._transform_chunk(images[s : s + batch], device) for s in starts)
        else:
            results = map(into, starts)
        try:
            for start, block in zip(starts, results):
                if block is not None:
                    self._check_width(block.shape[1], out.shape[1], per_plane=False)
                    out[start : start + block.shape[0]] = block
                progress.update(min(batch, n_images - start))
        finally:  # a failing chunk must not leave the progress thread talking
            progress.close()
        return out
