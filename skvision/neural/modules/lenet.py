"""LeNet-5, the first convolutional network, adapted to any input size."""

from __future__ import annotations

import torch
from torch import nn

__all__ = ["LeNet5"]

_ACTIVATIONS = {"tanh": nn.Tanh, "relu": nn.ReLU}
_POOLS = {"avg": nn.AvgPool2d, "max": nn.MaxPool2d}
_KERNEL = 5


def _after_conv_pool(size: int, padding: int) -> int:
    return (size + 2 * padding - _KERNEL + 1) // 2


class LeNet5(nn.Module):
    """LeNet-5: conv 5x5x6 - pool - conv 5x5x16 - pool - fc 120 - fc 84 - out.

    The layer pattern of LeCun et al. (1998) as taught in the course, adapted to
    the input: the width of the first fully connected layer is computed from
    ``input_size``, and ``padding`` (default 2, a "same" 5x5 convolution) keeps
    small images usable. ``padding=0`` is the original valid convolution, which
    needs images of at least 16x16 (32x32 in the paper).

    Parameters
    ----------
    in_channels : int, default=1
        Channels of the input images.
    n_outputs : int, default=10
        Classes (logits) or regression targets.
    input_size : tuple of (int, int), default=(32, 32)
        Height and width of the input images.
    padding : int, default=2
        Zero padding of both convolutions.
    activation : {'tanh', 'relu'}, default='tanh'
        Non-linearity after every convolution and hidden fully connected layer.
    pooling : {'avg', 'max'}, default='avg'
        2x2 subsampling after each convolution (average in the original).

    Examples
    --------
    >>> import torch
    >>> net = LeNet5(in_channels=1, n_outputs=10, input_size=(28, 28))
    >>> tuple(net(torch.zeros(2, 1, 28, 28)).shape), net.embedding_dim
    ((2, 10), 84)
    """

    embedding_dim = 84

    def __init__(
        self, in_channels=1, n_outputs=10, input_size=(32, 32), padding=2, activation="tanh", pooling="avg"
    ):
        super().__init__()
        if activation not in _ACTIVATIONS:
            raise ValueError(
                f"activation={activation!r} is not supported; expected one of {sorted(_ACTIVATIONS)}."
            )
        if pooling not in _POOLS:
            raise ValueError(f"pooling={pooling!r} is not supported; expected one of {sorted(_POOLS)}.")
        min_h, min_w = self.min_input_size(padding=padding)
        height, width = int(input_size[0]), int(input_size[1])
        if height < min_h or width < min_w:
            raise ValueError(
                f"LeNet5 with padding={padding} needs images of at least {min_h}x{min_w}; "
                f"got {height}x{width}."
            )
        act, pool = _ACTIVATIONS[activation], _POOLS[pooling]
        self.features = nn.Sequential(
            nn.Conv2d(in_channels, 6, _KERNEL, padding=padding),
            act(),
            pool(2),
            nn.Conv2d(6, 16, _KERNEL, padding=padding),
            act(),
            pool(2),
            nn.Flatten(),
        )
        out_h = _after_conv_pool(_after_conv_pool(height, padding), padding)
        out_w = _after_conv_pool(_after_conv_pool(width, padding), padding)
        self.embedding = nn.Sequential(
            nn.Linear(16 * out_h * out_w, 120), act(), nn.Linear(120, self.embedding_dim), act()
        )
        self.head = nn.Linear(self.embedding_dim, n_outputs)

    @staticmethod
    def min_input_size(padding=2, **_):
        """Smallest ``(height, width)`` whose feature maps survive both conv+pool stages."""
        size = 1
        for _stage in range(2):
            # invert floor((s + 2p - 4) / 2) >= size
            size = 2 * size + _KERNEL - 1 - 2 * padding
        size = max(size, _KERNEL - 2 * padding, 1)
        return (size, size)

    def forward_embedding(self, x: torch.Tensor) -> torch.Tensor:
        """The 84-wide penultimate activations."""
        return self.embedding(self.features(x))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.forward_embedding(x))
