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
* ``_ResumableEarlyStopping`` -- early stopping that replays a resumed history.

Where they override or call a private skorch method, the method is listed in
:data:`skvision._compat.SKORCH_PRIVATES` (checked by ``tests/test_compat.py``).
Built by :mod:`._estimator`; imports nothing else of the neural core.
"""

from __future__ import annotations

import copy
import hashlib
import os
import pickle
import warnings

import numpy as np
import torch
from skorch.callbacks import Checkpoint, EarlyStopping, LoadInitState, LRScheduler, ProgressBar
from skorch.utils import noop

__all__ = ["LR_SCHEDULES", "build_callbacks"]

#: Names accepted by ``lr_schedule=``.
LR_SCHEDULES = ("onecycle", "cosine", "step")


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

    Every file is written under a temporary name and moved over the previous
    one with :func:`os.replace` (atomic), the history last: a process killed
    while saving leaves the previous checkpoint loadable instead of a
    truncated ``params.pt``. The random generators of the CPU (and of the
    training GPU) are saved first, as ``rng.pt``, so that a resumed training
    can draw the same shuffles, augmentations and dropout masks as an
    uninterrupted one (see :class:`_ResumeFromCheckpoint`). A file that cannot
    be written gives a ``RuntimeWarning`` (skorch only prints it when verbose).
    """

    #: File of the random state, next to skorch's files (and with their ``fn_prefix``).
    rng_file = "rng.pt"

    @property
    def rng_path_(self):  # not f_*: skorch treats every f_* attribute as a file of the net
        return os.path.join(self.dirname, self.fn_prefix + self.rng_file)

    def save_model(self, net):
        # What skorch's save_model writes, in its order (parameters, optimizer, criterion and any
        # other module, then the history, then the pickled net), through public API only: the file
        # names of get_formatted_files, each file written by net.save_params.
        self._atomic_write(self.rng_path_, lambda target: torch.save(_rng_state(net), target), "random state")
        files = {key: f for key, f in self.get_formatted_files(net).items() if f is not None}
        f_pickle = files.pop("f_pickle", None)
        f_history = files.pop("f_history", None)
        for f_name, f in [*files.items(), ("f_history", f_history)]:
            if f is not None:
                self._atomic_write(f, self._params_writer(net, f_name), f_name)
        if f_pickle is not None:
            self._atomic_write(f_pickle, lambda target: _pickle_to(net, target), "pickled net")

    def _params_writer(self, net, f_name):
        def write(target):
            net.save_params(**{f_name: target, "use_safetensors": self.use_safetensors})

        return write

    def _atomic_write(self, path, write, what):
        try:
            if not isinstance(path, (str, os.PathLike)):  # a file object (no dirname): written in place
                write(path)
                return
            partial = f"{os.fspath(path)}.partial"
            write(partial)
            os.replace(partial, path)
        except Exception as exc:  # noqa: BLE001 - skorch keeps training when a checkpoint fails; so do we
            warnings.warn(
                f"Checkpoint could not save the {what} to {path!r}: {type(exc).__name__}: {exc}",
                RuntimeWarning,
                stacklevel=2,
            )


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


def fit_key(net, X, y):
    """A short hash of what makes a checkpoint one fit's: the network's layers, the images, the targets.

    Parameters
    ----------
    net : skorch net, initialized
    X, y : tensors or arrays (or None) given to the net's fit

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
    return digest.hexdigest()


class _ResumeFromCheckpoint(LoadInitState):
    """skorch's ``LoadInitState``, plus the bookkeeping a resumed training needs to go on as if uninterrupted.

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

    def __init__(self, checkpoint, use_safetensors=False, restore_rng=False):
        super().__init__(checkpoint, use_safetensors=use_safetensors)
        self.restore_rng = restore_rng

    def on_train_begin(self, net, X=None, y=None, **kwargs):
        first_call = not self.did_load_
        if first_call:
            # Each fit (its images, targets and network) keeps its own sub-folder of the folder given:
            # the folds of a cross-validation or the candidates of a grid search, which share the
            # estimator's checkpoint parameter, each resume their own training, never another's.
            saver = self.checkpoint
            root = getattr(saver, "_skvision_root", None) or saver.dirname
            saver._skvision_root = root
            saver.dirname = os.path.join(root, f"fit-{fit_key(net, X, y)}")
            os.makedirs(saver.dirname, exist_ok=True)
        super().on_train_begin(net, X=X, y=y, **kwargs)
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
            state = torch.load(rng_file, map_location="cpu", weights_only=True)
            torch.set_rng_state(state["cpu"])
            device = torch.device(net.device)
            if device.type == "cuda" and "cuda" in state:
                torch.cuda.set_rng_state(state["cuda"], device)


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

    def on_train_begin(self, net, **kwargs):
        super().on_train_begin(net, **kwargs)
        # skorch's own decision rule, replayed (private methods: see _compat.SKORCH_PRIVATES).
        rows = [row for row in net.history if self.monitor in row]
        for row in rows:
            if self._is_score_improved(row[self.monitor]):
                self.misses_ = 0
                self.dynamic_threshold_ = self._calc_new_threshold(row[self.monitor])
                self.best_epoch_ = row["epoch"]
            else:
                self.misses_ += 1
        if rows and self.load_best:
            self.best_model_weights_ = copy.deepcopy(net.module_.state_dict())

    def on_train_end(self, net, **kwargs):
        if len(net.history):  # skorch's reads the last epoch: max_epochs=0 would fail with an IndexError
            super().on_train_end(net, **kwargs)
        self.best_model_weights_ = None


def build_callbacks(
    *,
    lr,
    max_epochs,
    steps_per_epoch,
    validation,
    early_stopping=False,
    n_iter_no_change=5,
    lr_schedule=None,
    checkpoint=None,
    restore_rng=False,
    verbose=0,
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
        ``StepLR`` dividing the rate by 10 at 1/3 and 2/3 of the epochs.
    checkpoint : str, path or None
        Directory: the parameters, optimizer, history and torch's random state
        are saved there each time the monitored loss reaches a new best
        (``Checkpoint``, each file replaced atomically), in the sub-folder
        ``fit-<key>`` of the fit (:func:`fit_key`: the network's layers, the
        images, the targets); a later fit with the same directory and key
        loads them first and continues from that epoch
        (``LoadInitState``), with the best scores and the early-stopping state
        taken from the loaded history. Epochs run after the last best one are
        run again.
    restore_rng : bool
        On resuming, also restore torch's random generators saved with the
        checkpoint, so the remaining epochs draw what an uninterrupted run
        would have. Only inside a forked generator (a seeded fit): it sets
        the global generators.
    verbose : int
        ``>= 1`` adds skorch's progress bar and lets callbacks print.

    Returns
    -------
    list of (str, Callback)
        Ordered so that a resumed history is loaded before the schedule is set up.

    Examples
    --------
    >>> [name for name, _ in build_callbacks(lr=0.1, max_epochs=9, steps_per_epoch=5, validation=True,
    ...                                      early_stopping=True, lr_schedule="cosine")]
    ['lr_schedule', 'early_stopping']
    """
    sink = print if verbose else noop
    monitor = "valid_loss" if validation else "train_loss"
    callbacks = []
    if checkpoint is not None:
        saver = _AtomicCheckpoint(
            dirname=os.fspath(checkpoint), monitor=f"{monitor}_best", f_criterion=None, sink=sink
        )
        callbacks.append(("resume", _ResumeFromCheckpoint(saver, restore_rng=restore_rng)))
    if lr_schedule == "onecycle":
        total_steps = max(1, max_epochs * steps_per_epoch)
        callbacks.append(
            (
                "lr_schedule",
                _BatchSteppedLRScheduler(
                    policy=torch.optim.lr_scheduler.OneCycleLR,
                    max_lr=lr,
                    total_steps=total_steps,
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
        callbacks.append(
            (
                "lr_schedule",
                _PicklableLRScheduler(
                    policy=torch.optim.lr_scheduler.StepLR, step_size=max(1, max_epochs // 3), gamma=0.1
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
                    monitor="valid_loss", patience=n_iter_no_change, load_best=True, sink=sink
                ),
            )
        )
    if checkpoint is not None:
        callbacks.append(("checkpoint", saver))
    if verbose:
        callbacks.append(("progress", ProgressBar()))
    return callbacks
