"""The skorch callbacks of the training tools every neural estimator exposes.

:func:`build_callbacks` turns plain estimator parameters (``early_stopping``,
``lr_schedule``, ``checkpoint``, ``verbose``) into skorch callbacks. The
callbacks are skorch's, each subclassed for one thing skorch does not do:

* ``_PicklableLRScheduler`` / ``_BatchSteppedLRScheduler`` -- LR schedules
  that pickle without their torch scheduler and resume a per-batch schedule
  at the right step;
* ``_AtomicCheckpoint`` -- a checkpoint written file by file under temporary
  names, with torch's random state;
* ``_ResumeFromCheckpoint`` -- loading a checkpoint plus the best scores and
  random state a resumed training needs;
* ``_ResumableEarlyStopping`` -- early stopping that replays a resumed history;

and one of skvision's own, ``_LongFitLines``: a fit at ``verbose=0`` that runs
longer than :data:`LONG_FIT_SECONDS` says how it goes on stderr.

Where they override or call a private skorch method, the method is listed in
:data:`skvision._compat.SKORCH_PRIVATES` (checked by ``tests/test_compat.py``).
Built by :mod:`._estimator`; imports nothing else of the neural core.
"""

from __future__ import annotations

import copy
import functools
import hashlib
import math
import os
import pickle
import re
import sys
import time
import types
import warnings

import numpy as np
import torch
from skorch import NeuralNetRegressor
from skorch.callbacks import (
    Callback,
    Checkpoint,
    EarlyStopping,
    LoadInitState,
    LRScheduler,
    PrintLog,
    ProgressBar,
)
from skorch.history import History
from skorch.utils import noop

from .._talk import format_duration, long_fit_lines_wanted
from .._warnings import user_stacklevel

__all__ = ["LONG_FIT_SECONDS", "LR_SCHEDULES", "build_callbacks", "long_fit_lines_callback"]

#: Names accepted by ``lr_schedule=``.
LR_SCHEDULES = ("onecycle", "cosine", "step")

#: A fit at ``verbose=0`` says how it goes on stderr once it has run ``LONG_FIT_FIRST_SECONDS``,
#: then every ``LONG_FIT_SECONDS``: a 54 s fit said its first word at 30 s before.
LONG_FIT_FIRST_SECONDS = 10.0
LONG_FIT_SECONDS = 30.0

#: A fit of images larger than ``HINT_SIDE`` a side forecast to need more than this many seconds more
#: says, in its first line, what shortens it. (At 600 s, a default CNNFeatures on 300 224x224 photos
#: forecast 4 min 20 s without the hint; behind a Resize((64, 64)) it fitted in 17 s, as accurate.)
LONG_FIT_HINT_SECONDS = 120.0
HINT_SIDE = 64


class _LongFitLines(Callback):
    """A fit at ``verbose=0`` that runs long says so on stderr, every ``every`` seconds.

    ``verbose=0`` keeps short fits silent (scikit-learn's manner), but a default
    ``CNNClassifier`` on 3,000 224x224 photos trains for over half an hour on two
    cores: silence that long reads as a hang. Once a fit has run ``every``
    seconds, a line gives its epoch, the time so far and the time left
    (``at most`` with early stopping), from the batches done so far. When the
    first line forecasts more than ``LONG_FIT_HINT_SECONDS`` on images larger
    than ``HINT_SIDE`` a side, it also says what shortens the fit (a ``Resize``
    before the network, or fewer epochs): a default ``AutoencoderFeatures``
    may train up to 70 minutes on 500 224x224 photos.
    """

    def __init__(self, every, name, max_epochs, steps_per_epoch, early_stopping=False, first=None):
        self.every = every
        self.first = every if first is None else first
        self.name = name
        self.max_epochs = max_epochs
        self.steps_per_epoch = steps_per_epoch
        self.early_stopping = early_stopping

    def on_train_begin(self, net, X=None, y=None, **kwargs):
        self.started_ = time.perf_counter()
        self.said_ = self.started_ - (self.every - self.first)  # the first line after ``first`` seconds
        self.first_epoch_ = len(net.history)  # a resumed fit starts after the epochs it loaded
        self.batches_ = 0
        self.off_ = not long_fit_lines_wanted()
        self.lines_ = 0
        shape = getattr(X, "shape", ())
        self.image_size_ = tuple(int(side) for side in shape[-2:]) if len(shape) == 4 else None

    def on_batch_end(self, net, batch=None, training=None, **kwargs):
        if not training or self.off_:
            return
        self.batches_ += 1
        now = time.perf_counter()
        if now - self.said_ < self.every:
            return
        self.said_ = now
        elapsed = now - self.started_
        total = max(self.batches_, (self.max_epochs - self.first_epoch_) * self.steps_per_epoch)
        left = elapsed / self.batches_ * (total - self.batches_)
        bound = "at most" if self.early_stopping else "about"
        self.lines_ += 1
        print(
            f"{self.name}: epoch {len(net.history)}/{self.max_epochs}, {format_duration(elapsed)} so far "
            f"({bound} {format_duration(left)} left){self._hint(left)}",
            file=sys.stderr,
            flush=True,
        )

    def _hint(self, left):
        """What shortens a long fit of large images, on its first line only (else '')."""
        if self.lines_ > 1 or left <= LONG_FIT_HINT_SECONDS or self.image_size_ is None:
            return ""
        height, width = self.image_size_
        if max(height, width) <= HINT_SIDE:
            return ""
        scale = HINT_SIDE / max(height, width)
        small = (max(1, round(height * scale)), max(1, round(width * scale)))
        ratio = height * width / (small[0] * small[1])
        return (
            f"; its {height}x{width} images have {ratio:.{0 if ratio >= 10 else 1}f}x the pixels of "
            f"{small[0]}x{small[1]} ones: skvision.preprocessing.Resize({small}) before it, or a lower "
            "max_epochs, shortens the fit"
        )


def _notebook_bars_draw():
    """Whether tqdm can draw a notebook bar: it needs ipywidgets, often missing from a Jupyter install.

    Without it skorch's ``tqdm_notebook`` raised ``ImportError: IProgress not found`` from the first
    epoch of a ``verbose=1`` fit (the fit lost), and left a broken bar that displaced every later one.
    """
    try:
        import ipywidgets  # noqa: F401
    except ImportError:
        return False
    return True


class TerminalProgressBar(ProgressBar):
    """skorch's bar over each epoch's batches, drawn on a terminal or in a notebook only.

    tqdm draws a bar as it is created; with stderr in a log file (``2> log``)
    every epoch left a frozen ``0%|  | 0/2 [00:00<?, ?it/s]`` fragment in it.
    Elsewhere (and in a notebook without ipywidgets, where tqdm's notebook bar
    fails) the bar is created disabled (its updates and closing then do
    nothing) and the epoch table of ``verbose=1`` is the log's record.
    """

    def on_epoch_begin(self, net, **kwargs):
        stream_isatty = getattr(sys.stderr, "isatty", lambda: False)
        notebook = self._use_notebook()  # skorch private: see _compat.SKORCH_PRIVATES
        if stream_isatty() and not notebook or notebook and _notebook_bars_draw():
            return super().on_epoch_begin(net, **kwargs)
        import tqdm

        self.pbar_ = tqdm.tqdm(total=None, leave=False, disable=True)
        return None


class TerminalColourPrintLog(PrintLog):
    """skorch's epoch table, its best values in colour only on a terminal.

    skorch's ``PrintLog`` wraps every new best score in ANSI colour codes,
    whatever its sink: ``fit(...)`` at ``verbose=1`` with stdout sent to a file
    (``python train.py > log``, a notebook's captured output, a CI log) wrote
    ``\x1b[36m0.5123\x1b[0m`` into the table. This one colours only when the
    sink is ``print`` and standard output is a terminal.

    Examples
    --------
    >>> log = TerminalColourPrintLog(sink=lambda line: None)
    >>> log.format_row({"train_loss": 0.5, "train_loss_best": True}, "train_loss", color="\x1b[36m")
    '0.5000'
    """

    def format_row(self, row, key, color):
        if not self._sink_is_terminal():
            row = {name: value for name, value in row.items() if not name.endswith("_best")}
        return super().format_row(row, key, color)

    def _sink_is_terminal(self):
        if self.sink is not print:
            return False
        isatty = getattr(sys.stdout, "isatty", None)
        try:
            return bool(isatty and isatty())
        except ValueError:  # a closed stream
            return False


class NonFiniteLossError(ValueError):
    """The training loss stopped being a finite number: the weights are no longer usable."""


class _StopOnNonFiniteLoss(Callback):
    """Raise :class:`NonFiniteLossError` at the end of an epoch whose training loss is NaN or infinite.

    A diverging training (a learning rate far too high, targets of 1e5 without
    standardisation) went on to ``max_epochs`` on NaN weights without a word;
    the classifier's NaN probabilities then gave ``classes_[0]`` for every image
    (argmax of NaN) and ``score`` a number. Raised before the checkpoint
    callback, so no NaN weights are saved; the estimator's ``fit`` then keeps the
    model it had before the call (:func:`skvision._fit_state.keeps_state_on_error`).
    """

    def __init__(self, name="the network", keys=("train_loss",)):
        self.name = name
        self.keys = keys

    def on_epoch_end(self, net, **kwargs):
        row = net.history[-1]
        for key in self.keys:
            value = row.get(key)
            if value is not None and not np.isfinite(value):
                fixes = [f"Lower lr (it was {net.lr})"]
                if isinstance(net, NeuralNetRegressor):
                    fixes.append("keep standardize_targets=True for targets far from 1")
                if getattr(net, "precision", "32") != "32":
                    fixes.append("train in precision='32'")
                raise NonFiniteLossError(
                    f"{self.name}: the training loss ({key}) became {value} in epoch {row['epoch']}: the "
                    f"weights are no longer numbers, and the fit was stopped. {'; '.join(fixes)}."
                )


class _PicklableLRScheduler(LRScheduler):
    """skorch's ``LRScheduler`` without its torch scheduler in the pickle.

    The torch scheduler holds a reference to the optimizer; pickled inside
    ``net.callbacks_`` it drags a second copy of the optimizer state through
    plain pickle, outside skorch's CUDA-aware path for ``optimizer_``, and a
    net trained on a GPU then fails to unpickle on a CPU-only machine
    (skorch issue #1096, fixed upstream by the same ``__getstate__`` in
    skorch PR #1150). The scheduler is rebuilt from the history in
    ``on_train_begin`` anyway.
    """

    def __getstate__(self):
        state = self.__dict__.copy()
        state["lr_scheduler_"] = None
        return state

    def _get_scheduler(self, net, policy, **scheduler_kwargs):  # skorch private: see _compat.SKORCH_PRIVATES
        # On a resumed history skorch builds the scheduler at last_epoch = len(history) - 1, and
        # torch's constructor steps it once more from the optimizer's loaded rates, which the last
        # epoch already stepped: MultiStepLR divided again at a milestone (a run resumed after
        # epoch 2 of 6 trained on at 1e-4 instead of 1e-3). The loaded rates are those an
        # uninterrupted run would have: keep them.
        rates = [group["lr"] for group in net.optimizer_.param_groups] if len(net.history) else None
        scheduler = super()._get_scheduler(net, policy, **scheduler_kwargs)
        if rates is not None:
            for group, rate in zip(net.optimizer_.param_groups, rates):
                group["lr"] = rate
            scheduler._last_lr = list(rates)
        return scheduler


class _BatchSteppedLRScheduler(_PicklableLRScheduler):
    """skorch's ``LRScheduler`` for schedules stepped every batch, resumable mid-way.

    skorch restarts a scheduler at ``last_epoch = len(history) - 1``; a schedule
    stepped per batch counts batches, so on resume it starts from the batch
    count recorded in the history instead.
    """

    def _get_scheduler(self, net, policy, **scheduler_kwargs):  # skorch private: see _compat.SKORCH_PRIVATES
        scheduler_kwargs.setdefault("last_epoch", self.batch_idx_ - 1)
        if "max_lr" in scheduler_kwargs:
            # Param groups with lower rates (a fine-tuned backbone) peak at the same fraction of max_lr.
            group_lrs = [group.get("max_lr", group["lr"]) for group in net.optimizer_.param_groups]
            peak = scheduler_kwargs["max_lr"]
            scheduler_kwargs["max_lr"] = [peak * lr / max(group_lrs) for lr in group_lrs]
        return policy(net.optimizer_, **scheduler_kwargs)


class _AtomicCheckpoint(Checkpoint):
    """skorch ``Checkpoint`` that never leaves a torn file and also saves torch's random state.

    Every file is written under a temporary name; once all are written they
    are moved over the previous ones with :func:`os.replace` (atomic), the
    history (the commit marker) last: a process killed while saving leaves the
    previous checkpoint loadable instead of a truncated ``params.pt``. The
    random generators of the CPU (and of the training GPU) are saved first,
    as ``rng.pt``, so that a resumed training can draw the same shuffles,
    augmentations and dropout masks as an uninterrupted one (see
    :class:`_ResumeFromCheckpoint`). A file that cannot be written gives a
    ``RuntimeWarning`` (skorch only prints it when verbose) and none of the
    save's files replace the previous checkpoint.
    """

    #: File of the random state, next to skorch's files (and with their ``fn_prefix``).
    rng_file = "rng.pt"

    #: The epoch of the last save (``len(history)`` then), for the line that reports it.
    _saved_epoch = None

    @property
    def rng_path_(self):  # not f_*: skorch treats every f_* attribute as a file of the net
        return os.path.join(self.dirname, self.fn_prefix + self.rng_file)

    def _sink(self, text, verbose):  # skorch private: see _compat.SKORCH_PRIVATES
        # skorch says "A checkpoint was triggered in epoch {len(history) + 1}" once the epoch is in the
        # history: right after epoch 1's row it named epoch 2. Name the epoch just saved.
        if text.startswith("A checkpoint was triggered in epoch") and self._saved_epoch is not None:
            text = f"A checkpoint was triggered in epoch {self._saved_epoch}."
        super()._sink(text, verbose)

    def save_model(self, net):
        # What skorch's save_model writes (parameters, optimizer, criterion and any other module, the
        # history, the pickled net), through public API only: the file names of get_formatted_files,
        # each file written by net.save_params. One save is one transaction: every file is first
        # written under a temporary name; only when all of them are written are they moved into place,
        # history.json (the commit marker, what a resume reads first) last. A file that cannot be
        # written (disk full, permissions) leaves the previous checkpoint whole, as it was: never the
        # new parameters beside the old history, nor a new history beside old (or no) parameters.
        self._saved_epoch = len(net.history)
        files = {key: f for key, f in self.get_formatted_files(net).items() if f is not None}
        f_pickle = files.pop("f_pickle", None)
        f_history = files.pop("f_history", None)
        writes = [(self.rng_path_, lambda target: torch.save(_rng_state(net), target), "random state")]
        writes += [(f, self._params_writer(net, f_name), f_name) for f_name, f in files.items()]
        if f_pickle is not None:
            writes.append((f_pickle, lambda target: _pickle_to(net, target), "pickled net"))
        if f_history is not None:
            writes.append((f_history, self._params_writer(net, "f_history"), "f_history"))
        written = []  # (temporary, final) paths
        for path, write, what in writes:
            if not isinstance(path, (str, os.PathLike)):  # a file object (no dirname): written in place
                write(path)
                continue
            partial = f"{os.fspath(path)}.partial"
            try:
                write(partial)
            except BaseException as exc:
                for temporary in [partial, *(temporary for temporary, _ in written)]:
                    _remove(temporary)
                if not isinstance(exc, Exception):  # KeyboardInterrupt mid-save: no .partial left behind
                    raise
                # skorch keeps training when a checkpoint fails; so do we, saying so.
                warnings.warn(
                    f"Checkpoint could not save the {what} to {path!r}: {type(exc).__name__}: {exc}; "
                    "none of this save's files were written, the previous checkpoint is kept as it was.",
                    RuntimeWarning,
                    stacklevel=user_stacklevel(),
                )
                return
            written.append((partial, path))
        try:
            if isinstance(f_history, (str, os.PathLike)):
                # Un-commit first: a process killed between the moves below leaves no history, so the next
                # fit trains afresh rather than load the new parameters with the old history.
                _remove(f_history)
            for temporary, final in written:
                os.replace(temporary, final)  # history.json last: writes are in that order
        except OSError as exc:
            warnings.warn(
                f"Checkpoint could not move its files into {self.dirname!r}: {type(exc).__name__}: {exc}; "
                "the folder holds no complete checkpoint until the next save.",
                RuntimeWarning,
                stacklevel=user_stacklevel(),
            )

    def _params_writer(self, net, f_name):
        def write(target):
            net.save_params(**{f_name: target, "use_safetensors": self.use_safetensors})

        return write


def _remove(path):
    try:
        os.remove(path)
    except OSError:  # already gone, or not a file: nothing of ours to clean
        pass


def _pickle_to(net, target):
    if not isinstance(target, (str, os.PathLike)):
        pickle.dump(net, target)
        return
    with open(target, "wb") as f:
        pickle.dump(net, f)


def _rng_state(net):
    """torch's random generators that training draws from: the CPU one and that of the net's GPU."""
    state = {"cpu": torch.get_rng_state()}
    device = torch.device(net.device)
    if device.type == "cuda":
        state["cuda"] = torch.cuda.get_rng_state(device)
    return state


def stable_repr(value):
    """A text of ``value`` that is the same in every process for equal settings (a fit key's input).

    ``repr`` alone is not: objects and functions show their memory address.
    Containers are walked, arrays and tensors hashed by content, classes and
    functions named by module and qualified name, a torch module by its class,
    its ``repr`` and its weights, an object with ``get_params`` (an sklearn
    estimator) by its parameters, a random generator by its state; anything
    else by its type and its ``repr`` with memory addresses removed.

    Examples
    --------
    >>> import torch
    >>> stable_repr({"lr": 0.01, "optimizer": torch.optim.Adam, "fc_units": (16,)})
    "{'fc_units':tuple(16),'lr':0.01,'optimizer':torch.optim.adam.Adam}"
    >>> stable_repr(lambda x: x) == stable_repr(lambda x: x)
    True
    """
    if value is None or isinstance(value, (bool, int, float, complex, str, bytes)):
        return repr(value)
    if isinstance(value, np.generic):
        return repr(value.item())
    if isinstance(value, (list, tuple)):
        return f"{type(value).__name__}({','.join(stable_repr(v) for v in value)})"
    if isinstance(value, dict):
        return "{" + ",".join(sorted(f"{stable_repr(k)}:{stable_repr(v)}" for k, v in value.items())) + "}"
    if isinstance(value, (set, frozenset)):
        return f"{type(value).__name__}({','.join(sorted(stable_repr(v) for v in value))})"
    if isinstance(value, np.ndarray) or torch.is_tensor(value):
        tensor = torch.as_tensor(value).detach().cpu().contiguous()
        data = tensor.reshape(-1).view(torch.uint8).numpy().tobytes() if tensor.numel() else b""
        return (
            f"tensor{tuple(tensor.shape)}:{tensor.dtype}:{hashlib.blake2b(data, digest_size=8).hexdigest()}"
        )
    if isinstance(value, (type, types.FunctionType, types.BuiltinFunctionType, types.MethodType)):
        name = f"{getattr(value, '__module__', '')}.{getattr(value, '__qualname__', type(value).__name__)}"
        return name if not isinstance(value, types.MethodType) else f"{name}@{stable_repr(value.__self__)}"
    kind = f"{type(value).__module__}.{type(value).__qualname__}"
    if isinstance(value, np.random.RandomState):
        return f"{kind}({stable_repr(list(value.get_state(legacy=False)['state'].values()))})"
    if isinstance(value, np.random.Generator):
        return f"{kind}({stable_repr(value.bit_generator.state)})"
    if isinstance(value, torch.nn.Module):
        return f"{kind}({_without_addresses(repr(value))};{stable_repr(dict(value.state_dict()))})"
    if hasattr(value, "get_params") and not isinstance(value, type):
        try:
            return f"{kind}({stable_repr(value.get_params(deep=False))})"
        except Exception:  # noqa: BLE001 - a get_params of another protocol: fall back to repr
            pass
    if isinstance(value, functools.partial):
        return f"{kind}({stable_repr(value.func)},{stable_repr(value.args)},{stable_repr(value.keywords)})"
    return f"{kind}({_without_addresses(repr(value))})"


def _without_addresses(text):
    return re.sub(r" at 0x[0-9a-fA-F]+", "", text)


def fit_key(net, X, y, settings=None):
    """A short hash of what makes a checkpoint one fit's: the layers, the images, the targets, the settings.

    Parameters
    ----------
    net : skorch net, initialized
    X, y : tensors or arrays (or None) given to the net's fit
    settings : dict or None
        The estimator's training settings (:meth:`NeuralImageEstimator._fit_settings`:
        learning rate, optimizer, seed, batch size, augmentation, ...), hashed
        through :func:`stable_repr`: fits that differ in any of them keep
        separate checkpoints.

    Returns
    -------
    key : str
        16 hexadecimal digits.

    Examples
    --------
    >>> import torch
    >>> from types import SimpleNamespace
    >>> net = SimpleNamespace(module_=torch.nn.Linear(2, 1))
    >>> X, y = torch.zeros(4, 2), torch.arange(4)
    >>> fit_key(net, X, y) == fit_key(net, X.clone(), y.clone()), fit_key(net, X, y) == fit_key(net, X, y + 1)
    (True, False)
    >>> fit_key(net, X, y, {"lr": 0.1}) == fit_key(net, X, y, {"lr": 0.01})
    False
    """
    digest = hashlib.blake2b(digest_size=8)
    for name, tensor in net.module_.state_dict().items():
        digest.update(f"{name}:{tuple(tensor.shape)}:{tensor.dtype};".encode())
    for part in (X, y):
        if part is None or not (torch.is_tensor(part) or isinstance(part, np.ndarray)):
            digest.update(repr(type(part)).encode())  # a Dataset of the caller's: not hashed
            continue
        tensor = torch.as_tensor(part).detach()
        digest.update(f"{tuple(tensor.shape)}:{tensor.dtype};".encode())
        flat = tensor.cpu().contiguous().reshape(-1)
        digest.update(flat.view(torch.uint8).numpy().data if flat.numel() else b"")
    if settings:  # none: the key of the layers and data alone, as before settings were part of it
        digest.update(stable_repr(dict(settings)).encode())
    return digest.hexdigest()


class _ResumeFromCheckpoint(LoadInitState):
    """skorch's ``LoadInitState``, plus the bookkeeping a resumed training needs to go on as if uninterrupted.

    Each fit keeps its checkpoint in the sub-folder ``fit-<key>`` of the folder
    given (:func:`fit_key` of the network, the data and ``settings``). A
    checkpoint is loaded only when it is complete: ``history.json`` (written
    last) and every file written with it exist, and the history holds no more
    epochs than ``max_epochs``; otherwise a warning says why and the training
    starts afresh (skorch's loads whatever files exist, so a missing
    ``params.pt`` gave an untrained network with a full history). A file that
    cannot be read raises a ``ValueError`` naming it.

    skorch runs its default scoring callbacks' ``on_train_begin`` before this
    one loads the history, and ``PassthroughScoring`` (``train_loss``,
    ``valid_loss``) never looks at the history: without help the first
    resumed epoch is flagged a new best whatever its loss, and the checkpoint
    (written on a new best) is overwritten by a worse model. After loading,
    every scoring callback's best score is set from the history.

    With ``restore_rng=True`` torch's random generators are set to the state
    saved with the checkpoint (:class:`_AtomicCheckpoint`). That sets the
    *global* generators, so it is only done inside a forked generator (a
    seeded fit, see :func:`~skvision.neural._torch_utils.seeded_torch_rng`).
    """

    def __init__(self, checkpoint, use_safetensors=False, restore_rng=False, settings=None):
        super().__init__(checkpoint, use_safetensors=use_safetensors)
        self.restore_rng = restore_rng
        self.settings = settings

    def on_train_begin(self, net, X=None, y=None, **kwargs):
        first_call = not self.did_load_
        if first_call:
            self.did_load_ = True
            # Each fit (its images, targets, network and training settings) keeps its own sub-folder of
            # the folder given: the folds of a cross-validation or the candidates of a grid search, which
            # share the estimator's checkpoint parameter, each resume their own training, never another's.
            saver = self.checkpoint
            root = getattr(saver, "_skvision_root", None) or saver.dirname
            saver._skvision_root = root
            saver.dirname = os.path.join(root, f"fit-{fit_key(net, X, y, self.settings)}")
            os.makedirs(saver.dirname, exist_ok=True)
            self._load(net)
        if not (first_call and len(net.history)):
            return
        for _, callback in net.callbacks_:
            name = getattr(callback, "name_", getattr(callback, "name", None))
            if not (hasattr(callback, "best_score_") and isinstance(name, str)):
                continue
            best = [row[name] for row in net.history if row.get(f"{name}_best")]
            if best:
                callback.best_score_ = best[-1]
        rng_file = getattr(self.checkpoint, "rng_path_", None)
        if self.restore_rng and rng_file is not None and os.path.exists(rng_file):
            state = self._read(rng_file, lambda: torch.load(rng_file, map_location="cpu", weights_only=True))
            torch.set_rng_state(state["cpu"])
            device = torch.device(net.device)
            if device.type == "cuda" and "cuda" in state:
                torch.cuda.set_rng_state(state["cuda"], device)

    def _load(self, net):
        """Load the sub-folder's checkpoint into ``net`` if it is complete and fits ``max_epochs``."""
        saver = self.checkpoint
        files = _checkpoint_files(saver)
        files.pop("f_pickle", None)  # written for the user, never read back
        f_history = files.pop("f_history", None)
        if f_history is None or not os.path.exists(f_history):
            # No commit marker: nothing was saved, or a save was cut between its moves. Files without a
            # history are not loaded (skorch's would load them as the weights of epoch 0).
            leftovers = [f for f in files.values() if os.path.exists(f)]
            if leftovers:
                warnings.warn(
                    f"The checkpoint in {saver.dirname!r} has {_names(leftovers)} but no history.json "
                    "(a save was cut short): it is not loaded, the training starts afresh and replaces it.",
                    CheckpointWarning,
                    stacklevel=user_stacklevel(),
                )
            return
        expected = [*files.values()]
        rng_file = getattr(saver, "rng_path_", None)
        if rng_file is not None:
            expected.append(rng_file)
        missing = [f for f in expected if not os.path.exists(f)]
        if missing:
            warnings.warn(
                f"The checkpoint in {saver.dirname!r} lacks {_names(missing)} (it was saved with "
                f"{os.path.basename(f_history)}): it is not loaded, the training starts afresh and replaces "
                "it. To keep it, restore the missing files before fitting again.",
                CheckpointWarning,
                stacklevel=user_stacklevel(),
            )
            return
        history = self._read(f_history, lambda: History.from_file(f_history))
        max_epochs = getattr(net, "max_epochs", None)
        if isinstance(max_epochs, int) and len(history) > max_epochs:
            warnings.warn(
                f"The checkpoint in {saver.dirname!r} holds {len(history)} epochs, more than "
                f"max_epochs={max_epochs}: it is not loaded, the training starts afresh and replaces it. "
                "Fit with max_epochs >= its epochs to resume it, or another checkpoint folder to keep it.",
                CheckpointWarning,
                stacklevel=user_stacklevel(),
            )
            return
        for f_name, f in files.items():
            self._read(
                f,
                lambda f_name=f_name, f=f: net.load_params(
                    **{f_name: f}, use_safetensors=self.use_safetensors
                ),
            )
        net.history = history

    def _read(self, path, load):
        try:
            return load()
        except Exception as exc:
            raise ValueError(
                f"The checkpoint file {os.path.basename(os.fspath(path))!r} in {self.checkpoint.dirname!r} "
                f"cannot be read ({type(exc).__name__}: it is damaged, or was written by another version): "
                "delete the folder to train afresh."
            ) from exc


def _checkpoint_files(saver):
    """``{f_name: path}`` of the files a checkpoint writes (skorch's ``f_*`` arguments, in its folder).

    Names with a ``{...}`` template (formatted from the history at each save)
    and file objects cannot be checked before loading: they are left out.
    """
    files = {}
    for key, value in vars(saver).items():
        if key.startswith("f_") and not key.endswith("_") and isinstance(value, str) and "{" not in value:
            files[key] = os.path.join(saver.dirname, saver.fn_prefix + value)
    return files


def _names(paths):
    return ", ".join(sorted(os.path.basename(os.fspath(f)) for f in paths))


class CheckpointWarning(UserWarning):
    """A checkpoint that cannot be saved or resumed as it is; the training goes on, as the message says."""


class _ResumableEarlyStopping(EarlyStopping):
    """skorch's ``EarlyStopping`` that picks up the patience, best loss and best weights of a resumed history.

    skorch's resets them in ``on_train_begin``: after a resume the patience
    would start again, and ``load_best`` would restore the best weights *since
    the resume*, possibly worse than the checkpoint's. The history is replayed
    instead; the best weights are the ones just loaded, since the checkpoint
    is written at each new best of the same validation loss. (A best epoch
    within EarlyStopping's relative threshold of 1e-4 of an earlier one
    counts as a miss here but is checkpointed: then the checkpoint's slightly
    better weights are the ones kept.) At the end of training the copy of the
    weights is dropped: it only serves ``load_best``, and keeping it would
    hold a second model in (GPU) memory. A training of 0 epochs passes
    (skorch's fails on the empty history).
    """

    def __init__(
        self,
        monitor="valid_loss",
        patience=5,
        threshold=1e-4,
        threshold_mode="rel",
        lower_is_better=True,
        sink=print,
        load_best=False,
        warmup_epochs=0,
    ):
        super().__init__(
            monitor=monitor,
            patience=patience,
            threshold=threshold,
            threshold_mode=threshold_mode,
            lower_is_better=lower_is_better,
            sink=sink,
            load_best=load_best,
        )
        #: Epochs of a learning-rate warm-up (one-cycle's rising phase): a new best counts there, a miss
        #: does not. The rising rate makes the validation loss jump: with n_iter_no_change=2 a 30-epoch
        #: fit stopped at epoch 3 and restored epoch 1's weights (0.34 accuracy on 3 classes).
        self.warmup_epochs = warmup_epochs

    def on_epoch_end(self, net, **kwargs):
        if len(net.history) <= self.warmup_epochs and not self._is_score_improved(
            net.history[-1, self.monitor]
        ):
            return
        super().on_epoch_end(net, **kwargs)

    def on_train_begin(self, net, **kwargs):
        super().on_train_begin(net, **kwargs)
        # skorch's own decision rule, replayed (private methods: see _compat.SKORCH_PRIVATES).
        rows = [row for row in net.history if self.monitor in row]
        for row in rows:
            if self._is_score_improved(row[self.monitor]):
                self.misses_ = 0
                self.dynamic_threshold_ = self._calc_new_threshold(row[self.monitor])
                self.best_epoch_ = row["epoch"]
            elif row["epoch"] > self.warmup_epochs:
                self.misses_ += 1
        if rows and self.load_best:
            self.best_model_weights_ = copy.deepcopy(net.module_.state_dict())

    def on_train_end(self, net, **kwargs):
        if len(net.history):  # skorch's reads the last epoch: max_epochs=0 would fail with an IndexError
            super().on_train_end(net, **kwargs)
        self.best_model_weights_ = None


def _one_cycle_warmup_epochs(max_epochs):
    """Epochs of ``OneCycleLR``'s rising phase (its ``pct_start``, 0.3 of the steps)."""
    return math.ceil(0.3 * max_epochs)


def build_callbacks(
    *,
    lr,
    max_epochs,
    steps_per_epoch,
    validation,
    early_stopping=False,
    n_iter_no_change=5,
    lr_schedule=None,
    cycle_momentum=True,
    checkpoint=None,
    restore_rng=False,
    fit_settings=None,
    verbose=0,
    long_fit_lines=None,
):
    """skorch callbacks for the training tools every neural estimator exposes.

    Parameters
    ----------
    lr : float
        Base (for one-cycle: peak) learning rate.
    max_epochs : int
        Epochs of a full training (sets the length of the schedules).
    steps_per_epoch : int
        Optimizer steps per epoch (batches of the training split).
    validation : bool
        Whether a validation split exists (early stopping and checkpoints then
        monitor ``valid_loss``, else ``train_loss``).
    early_stopping : bool
        Stop after ``n_iter_no_change`` epochs without improvement of the
        validation loss and restore the best weights (``EarlyStopping(load_best=True)``).
    n_iter_no_change : int
        Patience of early stopping.
    lr_schedule : {'onecycle', 'cosine', 'step'} or None
        ``'onecycle'``: ``OneCycleLR`` stepped every batch, peaking at ``lr``;
        ``'cosine'``: ``CosineAnnealingLR`` over ``max_epochs``; ``'step'``:
        ``MultiStepLR`` dividing the rate by 10 at 1/3 and 2/3 of the epochs.
    cycle_momentum : bool
        Whether ``'onecycle'`` also cycles the optimizer's momentum (Adam's beta1)
        between 0.85 and 0.95, as ``OneCycleLR`` does by default; ``False`` keeps
        the optimizer's own (the estimators pass ``False`` when the user set
        ``optimizer__momentum`` or ``optimizer__betas``).
    checkpoint : str, path or None
        Directory: the parameters, optimizer, history and torch's random state
        are saved there each time the monitored loss reaches a new best
        (``Checkpoint``, each file replaced atomically), in the sub-folder
        ``fit-<key>`` of the fit (:func:`fit_key`: the network's layers, the
        images, the targets, ``fit_settings``); a later fit with the same directory and key
        loads them first and continues from that epoch
        (``LoadInitState``), with the best scores and the early-stopping state
        taken from the loaded history. Epochs run after the last best one are
        run again.
    restore_rng : bool
        On resuming, also restore torch's random generators saved with the
        checkpoint, so the remaining epochs draw what an uninterrupted run
        would have. Only inside a forked generator (a seeded fit): it sets
        the global generators.
    fit_settings : dict or None
        The training settings that are part of the checkpoint's key (see
        :func:`fit_key`).
    verbose : int
        ``>= 1`` adds skorch's progress bar and lets callbacks print.
    long_fit_lines : str or None
        At ``verbose=0``, the name that a fit running longer than
        :data:`LONG_FIT_SECONDS` says how it goes under, every as many seconds
        (``'CNNClassifier: epoch 3/10, 1 min 30 s so far (about 3 min 30 s left)'``);
        ``None``: silent.

    Returns
    -------
    list of (str, Callback)
        Ordered so that a resumed history is loaded before the schedule is set up.

    Examples
    --------
    >>> [name for name, _ in build_callbacks(lr=0.1, max_epochs=9, steps_per_epoch=5, validation=True,
    ...                                      early_stopping=True, lr_schedule="cosine")]
    ['lr_schedule', 'early_stopping', 'non_finite_loss']
    """
    sink = print if verbose else noop
    monitor = "valid_loss" if validation else "train_loss"
    callbacks = []
    if checkpoint is not None:
        saver = _AtomicCheckpoint(
            dirname=os.fspath(checkpoint), monitor=f"{monitor}_best", f_criterion=None, sink=sink
        )
        resume = _ResumeFromCheckpoint(saver, restore_rng=restore_rng, settings=fit_settings)
        callbacks.append(("resume", resume))
    if lr_schedule == "onecycle":
        total_steps = max(1, max_epochs * steps_per_epoch)
        callbacks.append(
            (
                "lr_schedule",
                _BatchSteppedLRScheduler(
                    policy=torch.optim.lr_scheduler.OneCycleLR,
                    max_lr=lr,
                    total_steps=total_steps,
                    cycle_momentum=cycle_momentum,
                    step_every="batch",
                ),
            )
        )
    elif lr_schedule == "cosine":
        callbacks.append(
            (
                "lr_schedule",
                _PicklableLRScheduler(
                    policy=torch.optim.lr_scheduler.CosineAnnealingLR, T_max=max(1, max_epochs)
                ),
            )
        )
    elif lr_schedule == "step":
        # Divided by 10 at 1/3 and 2/3 of the epochs, twice: StepLR(step_size=max_epochs // 3)
        # divided it at every third, 3-4 times (5 epochs: the last at 1e-4 of lr).
        milestones = sorted({max(1, round(max_epochs / 3)), max(1, round(2 * max_epochs / 3))})
        callbacks.append(
            (
                "lr_schedule",
                _PicklableLRScheduler(
                    policy=torch.optim.lr_scheduler.MultiStepLR, milestones=milestones, gamma=0.1
                ),
            )
        )
    elif lr_schedule is not None:
        raise ValueError(
            f"lr_schedule={lr_schedule!r} is not supported; expected one of {LR_SCHEDULES} or None."
        )
    if early_stopping:
        if not validation:
            raise ValueError("early_stopping=True needs a validation split (validation_fraction > 0).")
        callbacks.append(
            (
                "early_stopping",
                _ResumableEarlyStopping(
                    monitor="valid_loss",
                    patience=n_iter_no_change,
                    load_best=True,
                    sink=sink,
                    warmup_epochs=_one_cycle_warmup_epochs(max_epochs) if lr_schedule == "onecycle" else 0,
                ),
            )
        )
    callbacks.append(("non_finite_loss", _StopOnNonFiniteLoss(long_fit_lines or "the network")))
    if checkpoint is not None:
        callbacks.append(("checkpoint", saver))
    if verbose:
        callbacks.append(("progress", TerminalProgressBar()))
    elif long_fit_lines is not None:
        callbacks.append(long_fit_lines_callback(long_fit_lines, max_epochs, steps_per_epoch, early_stopping))
    return callbacks


def long_fit_lines_callback(name, max_epochs, steps_per_epoch, early_stopping=False):
    """``('long_fit_lines', callback)``: a fit at ``verbose=0`` that runs longer than
    :data:`LONG_FIT_SECONDS` says how it goes on stderr under ``name`` (see ``_LongFitLines``).

    Examples
    --------
    >>> long_fit_lines_callback("GANFeatures", max_epochs=80, steps_per_epoch=23)[0]
    'long_fit_lines'
    """
    lines = _LongFitLines(
        LONG_FIT_SECONDS, name, max_epochs, steps_per_epoch, early_stopping, first=LONG_FIT_FIRST_SECONDS
    )
    return "long_fit_lines", lines
