"""The tensor batch iterator of the neural estimators' training and validation loops.

:class:`TensorBatchIterator` is skorch's ``iterator_train`` / ``iterator_valid``
for in-memory tensors: the whole (training or validation) tensor is moved to
the training device once, batches are taken by tensor indexing there. It
replaces the per-sample ``Dataset.__getitem__`` + ``collate`` of a
``DataLoader`` (``benchmarks/bench_training.py`` compares the two).

Used by :mod:`._net` (``get_iterator``) and :mod:`._estimator` (the net's
arguments); imports nothing else of the neural core.
"""

from __future__ import annotations

import numpy as np
import torch
from skorch.dataset import Dataset
from torch.utils.data import Subset

__all__ = ["TensorBatchIterator", "n_training_batches"]


def n_training_batches(n_samples, batch_size):
    """Batches of a training epoch over ``n_samples`` (``TensorBatchIterator(shuffle=True)``): a final
    batch of a single sample joins the one before it.

    A per-batch schedule (``OneCycleLR``) must be laid out over these: sized by
    ``ceil(n / batch_size)``, 321 images in batches of 64 ran 30 of its 36 steps and ended
    training at 13 % of the peak rate instead of ~0.

    Examples
    --------
    >>> [n_training_batches(n, 64) for n in (321, 320, 65, 64, 1)]
    [5, 5, 1, 1, 1]
    """
    full, rest = divmod(int(n_samples), int(batch_size))
    if rest == 1 and full >= 1:
        return full
    return max(1, full + (rest > 0))


def _dataset_tensors(dataset):
    """``(X, y, indices)`` of a skorch Dataset of tensors, possibly wrapped in Subsets; else None."""
    indices = None
    while isinstance(dataset, Subset):
        subset_indices = torch.as_tensor(np.asarray(dataset.indices), dtype=torch.long)
        indices = subset_indices if indices is None else subset_indices[indices]
        dataset = dataset.dataset
    if not isinstance(dataset, Dataset) or not isinstance(dataset.X, torch.Tensor):
        return None
    if dataset.y is not None and not isinstance(dataset.y, torch.Tensor):
        return None
    return dataset.X, dataset.y, indices


class TensorBatchIterator:
    """Batches of in-memory tensors taken by indexing on the training device.

    A drop-in for ``torch.utils.data.DataLoader`` as skorch's ``iterator_train``
    / ``iterator_valid`` when the dataset is a skorch ``Dataset`` holding
    tensors (or a ``Subset`` of one, as made by the validation split). The
    tensors are moved to ``device`` once; each epoch draws one permutation there
    and slices it, instead of calling ``__getitem__`` per sample and collating.

    Parameters
    ----------
    dataset : skorch.dataset.Dataset or torch.utils.data.Subset of one
    batch_size : int, default=128
    shuffle : bool, default=False
        A new permutation each epoch (training).
    drop_last : bool, default=False
        Drop a final incomplete batch. Without it, a final batch of a single
        sample is merged into the previous one while shuffling, since batch
        normalisation cannot train on one sample.
    device : str or torch.device, default='cpu'

    Examples
    --------
    >>> import torch
    >>> from skorch.dataset import Dataset
    >>> batches = TensorBatchIterator(Dataset(torch.arange(10.0)[:, None], torch.arange(10)), batch_size=4)
    >>> [len(xb) for xb, yb in batches], len(batches)
    ([4, 4, 2], 3)
    """

    def __init__(self, dataset, batch_size=128, shuffle=False, drop_last=False, device="cpu"):
        tensors = _dataset_tensors(dataset)
        if tensors is None:
            raise TypeError(
                "TensorBatchIterator needs a skorch Dataset of torch tensors (or a Subset of one); "
                f"got {type(dataset).__name__}. Use torch.utils.data.DataLoader for other datasets."
            )
        X, y, indices = tensors
        if indices is not None:
            X = X[indices]
            y = None if y is None else y[indices]
        self.X = X.to(device)
        self.y = None if y is None else y.to(device)
        self.batch_size = int(batch_size)
        self.shuffle = shuffle
        self.drop_last = drop_last

    def _bounds(self):
        n, size = len(self.X), self.batch_size
        stops = list(range(size, n, size)) + [n]
        if self.drop_last and n % size:
            stops = stops[:-1]
        elif self.shuffle and len(stops) > 1 and n % size == 1:
            stops = stops[:-2] + [n]
        starts = [0] + stops[:-1]
        return list(zip(starts, stops))

    def __len__(self):
        return len(self._bounds())

    def __iter__(self):
        if self.shuffle:
            order = torch.randperm(len(self.X), device=self.X.device)
            for start, stop in self._bounds():
                idx = order[start:stop]
                yield self.X[idx], (None if self.y is None else self.y[idx])
        else:
            for start, stop in self._bounds():
                yield self.X[start:stop], (None if self.y is None else self.y[start:stop])
