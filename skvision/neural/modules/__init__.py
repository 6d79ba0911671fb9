"""torch modules of skvision's neural estimators, and the registry that names them.

``MODULES`` maps a name usable as ``module='...'`` to a module class (or any
callable returning an ``nn.Module``). Other parts of skvision register their own
architectures here (``MODULES['my_net'] = MyNet``). A module class may accept
``in_channels``, ``input_size`` and ``n_outputs``: the estimators fill them from
the data in ``fit``. A static ``min_input_size(**params) -> (h, w)`` lets the
estimators reject too-small images before training, and ``forward_embedding``
gives the penultimate activations used by ``CNNFeatures``.
"""

from .autoencoders import ConvAutoencoder, ConvVAE
from .convnet import ConvNet
from .gan import DCGAN
from .lenet import LeNet5

__all__ = ["ConvAutoencoder", "ConvNet", "ConvVAE", "DCGAN", "LeNet5", "MODULES"]

MODULES = {
    "convnet": ConvNet,
    "lenet5": LeNet5,
}
