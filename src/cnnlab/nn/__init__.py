"""Building blocks shared by all models."""

from cnnlab.nn.blocks import ConvNormAct, ResidualBlock, conv_nd, norm_nd, pool_nd

__all__ = ["ConvNormAct", "ResidualBlock", "conv_nd", "norm_nd", "pool_nd"]
