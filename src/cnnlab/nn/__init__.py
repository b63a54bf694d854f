"""Building blocks shared by all models."""

from cnnlab.nn.blocks import ConvNormAct, Flatten, ResidualBlock, conv_nd, norm_nd, pool_nd
from cnnlab.nn.init import INITS, init_weights, parse_init

__all__ = [
    "INITS",
    "ConvNormAct",
    "Flatten",
    "ResidualBlock",
    "conv_nd",
    "init_weights",
    "norm_nd",
    "parse_init",
    "pool_nd",
]
