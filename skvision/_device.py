"""The one rule for ``device``, shared by every estimator and by the ``skvision`` command.

``device`` says *where* the work runs, never which library does it:

==================  ==========================================================
``'cpu'``           On the CPU. Descriptors run their fastest CPU code
                    (numpy/numba); neural estimators run torch on the CPU.
``'auto'``, None    CUDA when torch sees a GPU and the estimator has a torch
                    path, otherwise ``'cpu'``. Never Apple's GPU: ask for it.
``'cuda'``          The current CUDA GPU (``'cuda:N'``: GPU number N).
``'mps'``           Apple's GPU, where torch has it (neural estimators only).
torch.device        The same, for estimators that load torch anyway.
==================  ==========================================================

:func:`resolve_device` turns a value into the device actually used
(``'cpu'``, ``'cuda:N'`` or ``'mps'``), or refuses it with a ValueError that
says what was asked, what is possible on this machine for this estimator, and
what to do. Estimators call it in ``fit``; the command calls it before any
work. Which kinds of device an estimator can run on is its ``devices`` tag
(:class:`skvision.SkvisionTags`).

torch is imported only to look for a GPU: ``'cpu'`` never imports it, and
``'auto'`` falls back to the CPU when torch is not installed.
"""

from __future__ import annotations

import re

__all__ = ["ALL_DEVICES", "DEVICE_CHOICES", "parse_device", "resolve_device"]

#: Kinds of device a torch path can run on (the ``devices`` tag of a neural estimator).
ALL_DEVICES = ("cpu", "cuda", "mps")
#: How the accepted values are spelled, for messages and ``--help``.
DEVICE_CHOICES = ("auto", "cpu", "cuda", "cuda:N", "mps")

_PATTERN = re.compile(r"(auto|cpu|mps|cuda)(?::(\d+))?")


def _spell(value, option):
    """``device='cuda'`` in Python words, ``--device cuda`` in the command's."""
    return f"{option} {value}" if option else f"device={value!r}"


def _choices(values, option, word="or"):
    spelled = [_spell(v, option) for v in values]
    return spelled[0] if len(spelled) == 1 else f"{', '.join(spelled[:-1])} {word} {spelled[-1]}"


def parse_device(device, *, owner=None, option=None):
    """Check how ``device`` is spelled and return it as a lowercase string; torch is not imported.

    ``None`` becomes ``'auto'``, a ``torch.device`` its string. Whether the
    device exists here is :func:`resolve_device`'s question.

    Parameters
    ----------
    device : str, torch.device or None
    owner : str or None
        Who asks (an estimator's class name), to start messages with.
    option : str or None
        The command-line option that gave the value (``'--device'``), for messages.

    Returns
    -------
    device : str
        ``'auto'``, ``'cpu'``, ``'cuda'``, ``'cuda:N'`` or ``'mps'``.

    Raises
    ------
    ValueError
        Anything else, with the accepted spellings.

    Examples
    --------
    >>> parse_device(None), parse_device("cuda:1")
    ('auto', 'cuda:1')
    """
    prefix = f"{owner}: " if owner else ""
    if device is None:
        return "auto"
    if type(device).__name__ == "device" and type(device).__module__ == "torch":
        device = str(device)
    if not isinstance(device, str):
        raise ValueError(
            f"{prefix}{_spell(device, option)} is not a valid device: expected a str, a torch.device or None "
            f"({', '.join(map(repr, DEVICE_CHOICES))}); got {type(device).__name__}."
        )
    match = _PATTERN.fullmatch(device)
    if match is None or (match.group(2) is not None and match.group(1) != "cuda"):
        hint = ""
        if device in ("numpy", "torch", "numba"):
            hint = (
                f" {device!r} names a library: device says where the work runs, "
                f"and {_spell('cpu', option)} runs the fastest CPU code."
            )
        expected = ", ".join(DEVICE_CHOICES) if option else ", ".join(map(repr, DEVICE_CHOICES))
        default = "" if option else " (None means 'auto')"
        raise ValueError(
            f"{prefix}{_spell(device, option)} is not a valid device; expected {expected}{default}.{hint}"
        )
    return device


def _torch():
    try:
        import torch
    except ImportError:
        return None
    return torch


def _mps_available(torch):
    backend = getattr(torch.backends, "mps", None)
    return backend is not None and backend.is_available()


def resolve_device(device, *, devices=ALL_DEVICES, owner=None, option=None, reason=None):
    """The device an estimator runs on: ``'cpu'``, ``'cuda:N'`` or ``'mps'``.

    Parameters
    ----------
    device : str, torch.device or None
        The estimator's ``device`` parameter (see the module docstring for the rule).
    devices : tuple of str, default=('cpu', 'cuda', 'mps')
        Kinds of device the estimator can run on (its ``devices`` tag).
    owner : str or None
        Who asks (an estimator's class name), to start messages with.
    option : str or None
        The command-line option that gave the value (``'--device'``): messages
        then speak the command's words.
    reason : str or None
        Why a kind of device outside ``devices`` is not possible for the owner
        (shown when one is asked for).

    Returns
    -------
    device : str
        ``'cpu'``, ``'cuda:N'`` (with the index of the current GPU for
        ``'cuda'``) or ``'mps'``: what ``torch.device`` takes.

    Raises
    ------
    ValueError
        The value is not a device; or it names one the estimator cannot run on,
        that torch does not see here, or that torch is not installed to drive.
        The message says what was asked, what is possible and what to do.

    Examples
    --------
    >>> resolve_device("cpu")
    'cpu'
    >>> resolve_device("auto", devices=("cpu",))
    'cpu'
    """
    asked = parse_device(device, owner=owner, option=option)
    kind = asked.split(":")[0]
    prefix = f"{owner}: " if owner else ""
    if asked == "cpu" or (asked == "auto" and "cuda" not in devices):
        return "cpu"
    if kind not in devices and kind != "auto":
        why = f" ({reason})" if reason else ""
        raise ValueError(
            f"{prefix}{_spell(asked, option)} cannot be honoured: {owner or 'this estimator'} runs on "
            f"{' or '.join(_WHERE[d] for d in devices)} only{why}. Use {_choices(_usable(devices), option)}."
        )
    torch = _torch()
    if torch is None:
        if asked == "auto":
            return "cpu"
        raise ValueError(
            f"{prefix}{_spell(asked, option)} needs torch, which is not installed. Install it "
            f"(pip install 'skvision[neural]') or use {_spell('cpu', option)}."
        )
    if asked == "auto":
        return f"cuda:{torch.cuda.current_device()}" if torch.cuda.is_available() else "cpu"
    possible = _choices(_possible_here(torch, devices), option)
    if kind == "mps":
        if not _mps_available(torch):
            raise ValueError(
                f"{prefix}{_spell(asked, option)} asks for Apple's GPU, which torch does not see on this "
                f"machine (torch.backends.mps.is_available() is False). Use {possible}."
            )
        return "mps"
    if not torch.cuda.is_available():
        raise ValueError(
            f"{prefix}{_spell(asked, option)} was requested but torch sees no CUDA device. Use "
            f"{possible} ({_spell('auto', option)} takes a GPU only when torch sees one)."
        )
    count = torch.cuda.device_count()
    index = torch.cuda.current_device() if asked == "cuda" else int(asked.split(":")[1])
    if index >= count:
        seen = "cuda:0" if count == 1 else f"cuda:0 to cuda:{count - 1}"
        raise ValueError(
            f"{prefix}{_spell(asked, option)} names GPU {index}, but torch sees {count} CUDA "
            f"device{'s' if count > 1 else ''} ({seen}). Use {possible}."
        )
    return f"cuda:{index}"


_WHERE = {"cpu": "the CPU", "cuda": "CUDA GPUs", "mps": "Apple's GPU"}


def _usable(devices):
    return ["cpu", "auto"] if "cuda" in devices else ["cpu"]


def _possible_here(torch, devices):
    """What ``device`` may say on this machine for an estimator running on ``devices``."""
    possible = ["cpu", "auto"]
    if "cuda" in devices and torch.cuda.is_available():
        count = torch.cuda.device_count()
        possible += ["cuda"] + [f"cuda:{i}" for i in range(count)]
    if "mps" in devices and _mps_available(torch):
        possible.append("mps")
    return possible
