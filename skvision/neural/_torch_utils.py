"""Small torch helpers shared by every neural estimator: device, precision, input tensors, seeding."""

from __future__ import annotations

import contextlib
import warnings

import numpy as np
import torch

from .._device import ALL_DEVICES
from .._device import resolve_device as _resolve_device
from .._images import intensity_white
from .._warnings import user_stacklevel

__all__ = [
    "resolve_device",
    "images_to_tensor",
    "autocast",
    "warn_cpu_float16",
    "seed_everything",
    "call_seed",
    "seeded_torch_rng",
    "PRECISIONS",
    "map_batches",
    "is_out_of_memory",
]

PRECISIONS = ("32", "bf16", "16-mixed")


def resolve_device(device, owner=None) -> torch.device:
    """Turn a neural estimator's ``device`` parameter into the :class:`torch.device` it runs on.

    The rule is skvision's one (:func:`skvision._device.resolve_device`): ``'auto'``
    (and ``None``) pick CUDA when torch sees a GPU, else the CPU; ``'cpu'``,
    ``'cuda'``, ``'cuda:N'``, ``'mps'`` and torch.device objects name a device,
    refused with a ValueError (starting with ``owner``) when torch does not see it.

    Examples
    --------
    >>> resolve_device("cpu")
    device(type='cpu')
    """
    return torch.device(_resolve_device(device, devices=ALL_DEVICES, owner=owner))


def images_to_tensor(images: np.ndarray, device=None, dtype=torch.float32) -> torch.Tensor:
    """Validated channels-last images -> an NCHW float tensor.

    Images are read by the value-scale rule of :mod:`skvision._images`: integer
    images are divided by their white level (uint8 and other integers 255,
    uint16 65535), so that they land on [0, 1]; floating images are taken as
    given. Boolean images arrive here as uint8 0 / 255 (see ``check_images``).

    Parameters
    ----------
    images : ndarray of shape (N, H, W) or (N, H, W, C)
    device : torch.device or None
    dtype : torch.dtype

    Returns
    -------
    Tensor of shape (N, C, H, W)

    Examples
    --------
    >>> import numpy as np
    >>> t = images_to_tensor(np.full((2, 4, 5), 255, dtype=np.uint8))
    >>> tuple(t.shape), float(t.max())
    ((2, 1, 4, 5), 1.0)
    """
    array = np.asarray(images)
    # Channels first while the images are still in their own dtype (a quarter of float32's bytes for
    # uint8), and the float tensor divided in place: a fit converts its whole training set here, and
    # a float32 copy per step (the division, the permutation) took 2.2x the set's float32 size.
    array = np.ascontiguousarray(array.transpose(0, 3, 1, 2) if array.ndim == 4 else array[:, np.newaxis])
    if not array.flags.writeable:
        # A read-only batch (a memmap opened with mode 'r'): torch cannot share read-only memory.
        array = array.copy()
    tensor = torch.from_numpy(array)
    if array.dtype.kind in "ui":
        scale = intensity_white(array.dtype)
        tensor = tensor.to(device=device, dtype=dtype)
        if scale > 1:
            tensor.div_(scale)
        return tensor
    return tensor.to(device=device, dtype=dtype)


def autocast(device: torch.device, precision: str):
    """A context manager for the requested precision on ``device``.

    ``'32'`` is plain float32; ``'bf16'`` and ``'16-mixed'`` use
    :func:`torch.autocast` (bfloat16 / float16). On the CPU only bfloat16
    autocast is supported, so ``'16-mixed'`` falls back to bfloat16 there.
    """
    if precision not in PRECISIONS:
        raise ValueError(f"precision={precision!r} is not supported; expected one of {PRECISIONS}.")
    if precision == "32":
        return contextlib.nullcontext()
    dtype = torch.bfloat16 if precision == "bf16" or device.type == "cpu" else torch.float16
    return torch.autocast(device_type=device.type, dtype=dtype)


def warn_cpu_float16(precision, device, owner):
    """Warn that ``precision='16-mixed'`` runs as bfloat16 on the CPU (see :func:`autocast`).

    Its features differed from float32 ones by up to 8.6 % of the largest value, bit for
    bit those of ``'bf16'``, with nothing said. Not an error: a script written for a GPU
    (``device='auto'``) still runs on a laptop.
    """
    if precision == "16-mixed" and torch.device(device).type == "cpu":
        warnings.warn(
            f"{owner}: precision='16-mixed' (float16 with loss scaling, for CUDA) runs as bfloat16 autocast "
            "on the CPU; pass precision='bf16' to say so, or '32' for float32.",
            UserWarning,
            stacklevel=user_stacklevel(),
        )


def seed_everything(random_state) -> torch.Generator | None:
    """Seed torch (and return a CPU generator) from an sklearn-style ``random_state``.

    ``None`` leaves the global state alone and returns ``None``.
    """
    if random_state is None:
        return None
    if isinstance(random_state, np.random.RandomState):
        seed = int(random_state.randint(0, 2**31 - 1))
    else:
        seed = int(random_state)
    torch.manual_seed(seed)
    generator = torch.Generator()
    generator.manual_seed(seed)
    return generator


def call_seed(random_state):
    """The seed of one prediction call from ``random_state``: the int itself, a draw, or None.

    None (no ``random_state``) leaves the choice to the caller: fresh noise.

    Examples
    --------
    >>> call_seed(7), call_seed(None)
    (7, None)
    """
    if random_state is None:
        return None
    if isinstance(random_state, np.random.RandomState):
        return int(random_state.randint(0, 2**31 - 1))
    return int(random_state)


@contextlib.contextmanager
def seeded_torch_rng(random_state, device=None):
    """Run a block with torch's global RNG seeded from ``random_state``, then restore it.

    Module initialisation, dropout, shuffling and kornia augmentation all draw
    from torch's global generator; seeding it inside a fork keeps a seeded fit
    reproducible without changing the random stream of the caller. ``None``
    runs the block with the global state as it is.

    Examples
    --------
    >>> with seeded_torch_rng(0):
    ...     a = torch.rand(1)
    >>> with seeded_torch_rng(0):
    ...     b = torch.rand(1)
    >>> bool(a == b)
    True
    """
    if random_state is None:
        yield
        return
    if isinstance(random_state, np.random.RandomState):
        seed = int(random_state.randint(0, 2**31 - 1))
    else:
        seed = int(random_state)
    devices = []
    if device is not None and torch.device(device).type == "cuda":
        devices = [torch.device(device).index or 0]
    with torch.random.fork_rng(devices=devices), _deterministic_cudnn(bool(devices)):
        torch.manual_seed(seed)
        yield


@contextlib.contextmanager
def _deterministic_cudnn(active):
    """cuDNN's deterministic algorithms for the block (where ``active``), then the settings as they were.

    On a GPU, cuDNN picks the fastest convolution algorithms by default, some of
    which add in any order: two fits with the same seed then end apart (on
    digits, 0.61 and 0.66 accuracy after three epochs). A seeded fit asks for
    the same model every time.
    """
    if not active:
        yield
        return
    cudnn = torch.backends.cudnn
    before = cudnn.deterministic, cudnn.benchmark
    cudnn.deterministic, cudnn.benchmark = True, False
    try:
        yield
    finally:
        cudnn.deterministic, cudnn.benchmark = before


def is_out_of_memory(error: BaseException) -> bool:
    """Whether ``error`` is an accelerator running out of memory (CUDA, MPS or XPU).

    Examples
    --------
    >>> is_out_of_memory(torch.OutOfMemoryError("CUDA out of memory. Tried to allocate 2.00 GiB"))
    True
    >>> is_out_of_memory(RuntimeError("shape mismatch"))
    False
    """
    if isinstance(error, torch.OutOfMemoryError):
        return True
    # MPS and some CUDA paths raise a plain RuntimeError with this wording.
    return isinstance(error, RuntimeError) and "out of memory" in str(error).lower()


def _release_cached_memory():
    if torch.cuda.is_available():
        torch.cuda.empty_cache()


def map_batches(function, items, batch_size, *, what="the batch", verbose=False, desc=None):
    """Apply ``function`` to ``items`` batch by batch into one preallocated array.

    The inference loop of every neural transform and predict: memory stays
    bounded by one batch (plus the output) whatever the number of images, and
    ``items`` may be a numpy memmap read lazily. When the device runs out of
    memory on a batch, the batch size is halved, cached memory released and
    the batch retried (a ``ResourceWarning`` says so once per halving), down
    to batches of one image; the smaller size is kept for the remaining batches.

    Parameters
    ----------
    function : callable
        ``function(items[start:stop]) -> ndarray`` of shape ``(stop - start, ...)``.
    items : array-like
        Anything sliceable along its first axis with a length.
    batch_size : int
        Items per call at first.
    what : str, default='the batch'
        How warnings and errors name what is processed.
    verbose : bool, default=False
        A tqdm progress bar over the items; without it, a call that runs long
        says how it goes in lines on stderr under ``desc`` (when given, see
        :class:`skvision._talk.LongCallLines`).
    desc : str or None
        The progress bar's label.

    Returns
    -------
    out : ndarray of shape (len(items), ...)
        The batches' outputs, in order, in one array allocated from the first.

    Raises
    ------
    torch.OutOfMemoryError
        When even a batch of one item does not fit.

    Examples
    --------
    >>> import numpy as np
    >>> map_batches(lambda chunk: chunk * 2, np.arange(5), batch_size=2)
    array([0, 2, 4, 6, 8])
    """
    n_items = len(items)
    batch_size = max(1, int(batch_size))
    out = None
    progress = quiet = None
    if verbose:
        from tqdm.auto import tqdm

        progress = tqdm(total=n_items, desc=desc, unit="image")
    elif desc is not None:
        # Quiet, but a long call says how it goes (predict on 20,000 64x64 images: 11 s of silence).
        from .._talk import LongCallLines

        quiet = LongCallLines(desc, n_items)
    start = 0
    try:
        while start < n_items:
            stop = min(start + batch_size, n_items)
            try:
                result = np.asarray(function(items[start:stop]))
            except (torch.OutOfMemoryError, RuntimeError) as error:
                if not is_out_of_memory(error):
                    raise
                if batch_size == 1:
                    raise torch.OutOfMemoryError(
                        f"Out of device memory on {what} even with batches of one image: {error}"
                    ) from error
                del error  # drop the traceback's references to the failed batch's tensors
                _release_cached_memory()
                batch_size = max(1, batch_size // 2)
                warnings.warn(
                    f"Out of device memory on {what}; retrying with batches of {batch_size} images.",
                    ResourceWarning,
                    stacklevel=user_stacklevel(),
                )
                continue
            if result.shape[:1] != (stop - start,):
                raise ValueError(
                    f"The function applied to {what} returned shape {result.shape} for a batch of "
                    f"{stop - start}; expected one row per item."
                )
            if out is None:
                out = np.empty((n_items,) + result.shape[1:], dtype=result.dtype)
            out[start:stop] = result
            if progress is not None:
                progress.update(stop - start)
            elif quiet is not None:
                quiet.update(stop)
            start = stop
    finally:
        if progress is not None:
            progress.close()
    if out is None:
        raise ValueError(f"{what} is empty: expected at least one item.")
    return out
