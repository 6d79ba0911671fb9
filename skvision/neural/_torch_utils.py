"""Small torch helpers shared by every neural estimator: device, precision, input tensors, seeding."""

from __future__ import annotations

import contextlib

import numpy as np
import torch

__all__ = [
    "resolve_device",
    "images_to_tensor",
    "autocast",
    "seed_everything",
    "seeded_torch_rng",
    "PRECISIONS",
]

PRECISIONS = ("32", "bf16", "16-mixed")


def resolve_device(device) -> torch.device:
    """Turn a ``device`` parameter into a :class:`torch.device`.

    ``'auto'`` (and ``None``) pick CUDA when torch sees a GPU, else the CPU.

    Examples
    --------
    >>> resolve_device("cpu")
    device(type='cpu')
    """
    if device is None or device == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if isinstance(device, torch.device):
        resolved = device
    else:
        try:
            resolved = torch.device(device)
        except (RuntimeError, TypeError) as exc:
            raise ValueError(
                f"device={device!r} is not a valid device; expected 'auto', 'cpu', 'cuda' or 'cuda:N'."
            ) from exc
    if resolved.type == "cuda" and not torch.cuda.is_available():
        raise ValueError(f"device={device!r} was requested but torch sees no CUDA device.")
    return resolved


def images_to_tensor(images: np.ndarray, device=None, dtype=torch.float32) -> torch.Tensor:
    """Validated channels-last images -> an NCHW float tensor.

    Unsigned and signed integer images are scaled by their dtype's maximum
    (uint8 -> [0, 1]); floating images are taken as given. Boolean images
    arrive here as uint8 0/1 (see ``check_images``) and are kept as 0/1.

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
    if array.dtype.kind in "ui":
        scale = float(np.iinfo(array.dtype).max)
        tensor = torch.from_numpy(np.ascontiguousarray(array)).to(device=device, dtype=dtype)
        if scale > 1:
            tensor = tensor / scale
    else:
        tensor = torch.from_numpy(np.ascontiguousarray(array)).to(device=device, dtype=dtype)
    if tensor.ndim == 3:
        return tensor.unsqueeze(1)
    return tensor.permute(0, 3, 1, 2).contiguous()


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
    with torch.random.fork_rng(devices=devices):
        torch.manual_seed(seed)
        yield
