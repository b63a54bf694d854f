"""Local vs full connectivity: why a convolution needs so few weights (the lecture's point)."""

from __future__ import annotations

from typing import Any

from cnnlab.mechanics.reference import conv_output_size, resolve_padding


def connectivity(
    image_shape: tuple[int, int, int] = (1, 28, 28),
    out_channels: int = 32,
    kernel: int = 3,
    stride: int = 1,
    padding: int | str = "same",
) -> dict[str, Any]:
    """Local vs full connectivity: the parameters of a conv layer and of a fully connected
    layer that map the same C*H*W input to the same C_out*H_out*W_out output.

    The default is the lecture's case, a 28x28 grey image and 32 3x3 filters: the conv layer
    has 288 weights + 32 biases, the dense layer 784 * 25088 weights + 25088 biases.
    Shapes: (C, H, W) -> (C_out, H_out, W_out).
    """
    if len(image_shape) != 3 or any(int(v) < 1 for v in image_shape):
        raise ValueError(f"image_shape must be (C, H, W) with sizes >= 1, got {image_shape}")
    if out_channels < 1:
        raise ValueError(f"out_channels must be >= 1, got {out_channels}")
    c, h, w = (int(v) for v in image_shape)
    top, _, left, _ = resolve_padding(padding, kernel, stride)  # checks kernel, stride too
    h_out = h if padding == "same" else conv_output_size(h, kernel, stride, top)
    w_out = w if padding == "same" else conv_output_size(w, kernel, stride, left)
    n_in, n_out = c * h * w, out_channels * h_out * w_out
    conv_weights, dense_weights = out_channels * c * kernel * kernel, n_in * n_out
    return {
        "input_shape": (c, h, w),
        "output_shape": (out_channels, h_out, w_out),
        "conv_weights": conv_weights,
        "conv_biases": out_channels,
        "conv_params": conv_weights + out_channels,
        "dense_weights": dense_weights,
        "dense_biases": n_out,
        "dense_params": dense_weights + n_out,
        "ratio": (dense_weights + n_out) / (conv_weights + out_channels),
    }
