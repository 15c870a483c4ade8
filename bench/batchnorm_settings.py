"""`inkread train` with BatchNorm's settings changed, to compare the seed preset's layers
with Keras' (BENCHMARKS.md, "The seed preset with Keras' layers"):

    python bench/batchnorm_settings.py EPS MOMENTUM train --preset seed ...

MOMENTUM is PyTorch's (Keras' 0.99 is 0.01 here); every BatchNorm layer takes both.
"""

import sys

from torch import nn
from usage import arguments

from inkread.cli import main

arguments(__doc__, 3)
eps, momentum = float(sys.argv[1]), float(sys.argv[2])
built = nn.BatchNorm2d.__init__


def with_settings(self, *args, **kwargs) -> None:
    kwargs["eps"], kwargs["momentum"] = eps, momentum
    built(self, *args, **kwargs)


nn.BatchNorm2d.__init__ = with_settings
main(sys.argv[3:])
