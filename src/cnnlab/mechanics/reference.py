"""Reference 2-D convolution and pooling in NumPy, written to be read and checked against torch.

Each operation comes twice: a `*_loop` version whose plain loops over output positions follow
the lecture's picture (a kernel sliding over the padded input), and a vectorised version that
builds the patch matrix (im2col) or the window view once. Both follow `torch.nn.functional`
exactly (zero padding, torch's asymmetric "same" padding, avg pool counting the padding) and
reject the arguments torch rejects, with a ValueError that names the argument, before any
computing starts.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

IntPair = int | tuple[int, int]
Padding = int | tuple[int, int] | str
Pads = tuple[int, int, int, int]  # (top, bottom, left, right)
Reduce = Callable[..., np.ndarray]  # np.max or np.mean, called with axis=

__all__ = [
    "avg_pool2d",
    "avg_pool2d_loop",
    "conv2d",
    "conv2d_im2col",
    "conv2d_loop",
    "conv_output_size",
    "global_avg_pool2d",
    "global_max_pool2d",
    "max_pool2d",
    "max_pool2d_loop",
    "pad2d",
    "resolve_padding",
]


# ---- argument checks ---------------------------------------------------------------------


def _int(name: str, value: object) -> int:
    # bool is an int to Python, but stride=True is a mistake, not a 1
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
        raise ValueError(f"{name} must be an int, got {value!r}")
    return int(value)


def _pair(name: str, value: object, minimum: int) -> tuple[int, int]:
    """An int or a pair of ints -> (height, width), each checked against `minimum`."""
    if isinstance(value, (tuple, list)):
        if len(value) != 2:
            raise ValueError(f"{name} must be an int or a pair (height, width), got {value!r}")
        pair = (_int(name, value[0]), _int(name, value[1]))
    else:
        pair = (_int(name, value), _int(name, value))
    if min(pair) < minimum:
        raise ValueError(f"{name} must be >= {minimum}, got {value!r}")
    return pair


def _array4d(name: str, value: object, layout: str) -> np.ndarray:
    arr = np.asarray(value)
    if arr.ndim != 4:
        raise ValueError(f"{name} must be a 4-D array {layout}, got shape {arr.shape}")
    return arr


def _float_dtype(*arrays: np.ndarray) -> np.dtype:
    """The dtype of the result: the inputs' common dtype, float64 for integer inputs."""
    dtype = np.result_type(*arrays)
    return dtype if np.issubdtype(dtype, np.floating) else np.dtype(np.float64)


def resolve_padding(
    padding: Padding, kernel: IntPair, stride: IntPair = 1, dilation: IntPair = 1
) -> Pads:
    """Turn a padding argument into explicit (top, bottom, left, right) zero-padding.

    "same" pads d*(k-1) in total per axis and, like torch, puts the odd extra pixel at the
    bottom/right; it needs stride 1 (torch refuses strided "same").
    Shapes: kernel, stride, dilation are ints or (h, w) pairs; returns 4 ints.
    """
    kh, kw = _pair("kernel", kernel, 1)
    sh, sw = _pair("stride", stride, 1)
    dh, dw = _pair("dilation", dilation, 1)
    if isinstance(padding, str):
        if padding == "valid":
            return (0, 0, 0, 0)
        if padding != "same":
            raise ValueError(
                f"padding must be an int, a pair of ints, 'valid' or 'same', got {padding!r}"
            )
        if (sh, sw) != (1, 1):
            raise ValueError(
                f"padding='same' needs stride 1 (torch refuses it for strided convolutions), "
                f"got stride {stride!r}; give the padding as a number instead"
            )
        th, tw = dh * (kh - 1), dw * (kw - 1)
        return (th // 2, th - th // 2, tw // 2, tw - tw // 2)
    ph, pw = _pair("padding", padding, 0)
    return (ph, ph, pw, pw)


def conv_output_size(
    size: int, kernel: int, stride: int = 1, padding: int = 0, dilation: int = 1
) -> int:
    """Output length along one axis: floor((n + 2p - d(k-1) - 1) / s) + 1.

    Shapes: all ints (one spatial axis); raises ValueError when the kernel does not fit.
    """
    n, k = _int("size", size), _int("kernel", kernel)
    s, p, d = _int("stride", stride), _int("padding", padding), _int("dilation", dilation)
    for name, value, low in (("size", n, 1), ("kernel", k, 1), ("stride", s, 1),
                             ("padding", p, 0), ("dilation", d, 1)):  # fmt: skip
        if value < low:
            raise ValueError(f"{name} must be >= {low}, got {value}")
    return _out_len(n, k, s, p + p, d, "kernel")


def _out_len(n: int, k: int, s: int, total_pad: int, d: int, what: str) -> int:
    span = d * (k - 1) + 1  # the dilated kernel's extent
    if span > n + total_pad:
        raise ValueError(
            f"the {what} spans {span} pixels but the padded input has only {n + total_pad}; "
            f"use a smaller {what} or dilation, or more padding"
        )
    return (n + total_pad - span) // s + 1


def pad2d(x: np.ndarray, padding: int | tuple[int, ...], value: float = 0.0) -> np.ndarray:
    """Pad the last two axes: an int p on all sides, (ph, pw), or (top, bottom, left, right).

    Shapes: (..., H, W) -> (..., H + top + bottom, W + left + right); e.g. an int p gives
    (N, C, H, W) -> (N, C, H + 2p, W + 2p). `value` fills the border (-inf for max pooling).
    """
    x = np.asarray(x)
    if x.ndim < 2:
        raise ValueError(f"x must have at least 2 axes (H, W), got shape {x.shape}")
    if isinstance(padding, (tuple, list)) and len(padding) == 4:
        pads = tuple(_int("padding", p) for p in padding)
        if min(pads) < 0:
            raise ValueError(f"padding must be >= 0, got {padding!r}")
    else:
        ph, pw = _pair("padding", padding, 0)
        pads = (ph, ph, pw, pw)
    top, bottom, left, right = pads
    widths = [(0, 0)] * (x.ndim - 2) + [(top, bottom), (left, right)]
    return np.pad(x, widths, mode="constant", constant_values=value)


def _check_conv(
    x: np.ndarray,
    w: np.ndarray,
    b: np.ndarray | None,
    stride: IntPair,
    padding: Padding,
    dilation: IntPair,
    groups: int,
) -> tuple:
    """Every check torch makes, before computing; returns the normalised arguments."""
    x = _array4d("x", x, "(N, C_in, H, W)")
    w = _array4d("w", w, "(C_out, C_in // groups, kH, kW)")
    c_out, c_in_g, kh, kw = w.shape
    g = _int("groups", groups)
    if g < 1:
        raise ValueError(f"groups must be >= 1, got {g}")
    if min(kh, kw) < 1:
        raise ValueError(f"w must have a kernel of at least 1x1, got shape {w.shape}")
    pads = resolve_padding(padding, (kh, kw), stride, dilation)  # checks stride and dilation
    stride, dilation = _pair("stride", stride, 1), _pair("dilation", dilation, 1)
    if c_out % g:
        raise ValueError(f"groups = {g} must divide C_out = w.shape[0] = {c_out}")
    if x.shape[1] != c_in_g * g:
        raise ValueError(
            f"x has {x.shape[1]} input channels (x.shape[1]) but w expects "
            f"w.shape[1] * groups = {c_in_g} * {g} = {c_in_g * g}"
        )
    if b is None:
        b = np.zeros(c_out, dtype=_float_dtype(x, w))
    b = np.asarray(b)
    if b.shape != (c_out,):
        raise ValueError(f"b must have shape (C_out,) = ({c_out},), got {b.shape}")
    top, bottom, left, right = pads
    h_out = _out_len(x.shape[2], kh, stride[0], top + bottom, dilation[0], "kernel")
    w_out = _out_len(x.shape[3], kw, stride[1], left + right, dilation[1], "kernel")
    return x, w, b, stride, pads, dilation, g, (h_out, w_out)


# ---- convolution ---------------------------------------------------------------------------


def conv2d_loop(
    x: np.ndarray,
    w: np.ndarray,
    b: np.ndarray | None = None,
    stride: IntPair = 1,
    padding: Padding = 0,
    dilation: IntPair = 1,
    groups: int = 1,
) -> np.ndarray:
    """2-D convolution (cross-correlation, as in deep learning) as plain loops, to be read.

    Shapes: x (N, C_in, H, W), w (C_out, C_in // groups, kH, kW), b (C_out,) or None
    -> (N, C_out, H_out, W_out), H_out = floor((H + 2p - d(kH-1) - 1) / s) + 1.
    """
    x, w, b, (sh, sw), pads, (dh, dw), g, (h_out, w_out) = _check_conv(
        x, w, b, stride, padding, dilation, groups
    )
    xp = pad2d(x, pads)  # (N, C_in, H + top + bottom, W + left + right)
    n_batch, c_out, c_in_g, (kh, kw) = x.shape[0], w.shape[0], w.shape[1], w.shape[2:]
    c_out_g = c_out // g
    out = np.zeros((n_batch, c_out, h_out, w_out), dtype=_float_dtype(x, w))
    for n in range(n_batch):
        for o in range(c_out):
            # groups: filter o sees only the input channels of its own group
            first = (o // c_out_g) * c_in_g
            for i in range(h_out):
                for j in range(w_out):
                    # local connectivity: output (i, j) sees only a kH x kW window (spread
                    # by the dilation) whose top-left corner is stride steps from the last
                    top, left = i * sh, j * sw
                    patch = xp[n, first : first + c_in_g,
                               top : top + dh * (kh - 1) + 1 : dh,
                               left : left + dw * (kw - 1) + 1 : dw]  # fmt: skip
                    # weight sharing: the same filter w[o] at every position; its channels
                    # (R, G, B for a colour image) are summed into one number
                    out[n, o, i, j] = np.sum(patch * w[o]) + b[o]
    return out


def _windows(xp: np.ndarray, kernel: tuple[int, int], stride: tuple[int, int],
             dilation: tuple[int, int]) -> np.ndarray:  # fmt: skip
    """Every window of the padded input, as a view (no copy).

    Shapes: xp (N, C, Hp, Wp) -> (N, C, H_out, W_out, kH, kW).
    """
    (kh, kw), (sh, sw), (dh, dw) = kernel, stride, dilation
    eh, ew = dh * (kh - 1) + 1, dw * (kw - 1) + 1  # the dilated kernel's extent
    view = sliding_window_view(xp, (eh, ew), axis=(2, 3))  # (N, C, Hp-eh+1, Wp-ew+1, eh, ew)
    return view[:, :, ::sh, ::sw, ::dh, ::dw]


def conv2d_im2col(
    x: np.ndarray,
    w: np.ndarray,
    b: np.ndarray | None = None,
    stride: IntPair = 1,
    padding: Padding = 0,
    dilation: IntPair = 1,
    groups: int = 1,
) -> np.ndarray:
    """2-D convolution as one matrix product per group: patch matrix (im2col) @ filters.

    Shapes: x (N, C_in, H, W), w (C_out, C_in // groups, kH, kW), b (C_out,) or None
    -> (N, C_out, H_out, W_out); the patch matrix is (N * H_out * W_out, C_in/g * kH * kW).
    """
    x, w, b, stride, pads, dilation, g, (h_out, w_out) = _check_conv(
        x, w, b, stride, padding, dilation, groups
    )
    dtype = _float_dtype(x, w)
    n_batch, c_out, c_in_g, (kh, kw) = x.shape[0], w.shape[0], w.shape[1], w.shape[2:]
    c_out_g, k = c_out // g, c_in_g * kh * kw
    win = _windows(pad2d(x, pads), (kh, kw), stride, dilation)  # (N, C_in, Ho, Wo, kH, kW)
    out = np.empty((n_batch, h_out, w_out, c_out), dtype=dtype)
    for grp in range(g):
        chans = slice(grp * c_in_g, (grp + 1) * c_in_g)
        filters = slice(grp * c_out_g, (grp + 1) * c_out_g)
        # one row per output position, one column per weight it meets: (N*Ho*Wo, C_in/g*kH*kW)
        cols = win[:, chans].transpose(0, 2, 3, 1, 4, 5).reshape(n_batch * h_out * w_out, k)
        mat = w[filters].reshape(c_out_g, k)  # (C_out/g, C_in/g*kH*kW), same column order
        out[..., filters] = (cols @ mat.T).reshape(n_batch, h_out, w_out, c_out_g)
    out += b.astype(dtype, copy=False)
    return np.ascontiguousarray(out.transpose(0, 3, 1, 2))  # (N, C_out, Ho, Wo)


conv2d = conv2d_im2col


# ---- pooling -------------------------------------------------------------------------------


def _check_pool(
    x: np.ndarray, kernel_size: IntPair, stride: IntPair | None, padding: IntPair
) -> tuple:
    x = _array4d("x", x, "(N, C, H, W)")
    x = x.astype(_float_dtype(x), copy=False)  # integer images: -inf padding needs floats
    kernel = _pair("kernel_size", kernel_size, 1)
    stride = kernel if stride is None else _pair("stride", stride, 1)
    pad = _pair("padding", padding, 0)
    if pad[0] * 2 > kernel[0] or pad[1] * 2 > kernel[1]:
        # torch's rule: a window could otherwise lie entirely in the padding
        raise ValueError(
            f"padding must be at most half of kernel_size, got padding {padding!r} "
            f"with kernel_size {kernel_size!r}"
        )
    h_out = _out_len(x.shape[2], kernel[0], stride[0], 2 * pad[0], 1, "pooling window")
    w_out = _out_len(x.shape[3], kernel[1], stride[1], 2 * pad[1], 1, "pooling window")
    return x, kernel, stride, pad, (h_out, w_out)


def _pool_loop(
    x: np.ndarray,
    kernel_size: IntPair,
    stride: IntPair | None,
    padding: IntPair,
    reduce: Reduce,
    fill: float,
) -> np.ndarray:
    x, (kh, kw), (sh, sw), pad, (h_out, w_out) = _check_pool(x, kernel_size, stride, padding)
    xp = pad2d(x, pad, value=fill)
    out = np.empty((*x.shape[:2], h_out, w_out), dtype=_float_dtype(x))
    for i in range(h_out):
        for j in range(w_out):
            # each channel is pooled on its own: no weights, one summary per window
            window = xp[:, :, i * sh : i * sh + kh, j * sw : j * sw + kw]  # (N, C, kH, kW)
            out[:, :, i, j] = reduce(window, axis=(2, 3))
    return out


def max_pool2d_loop(
    x: np.ndarray, kernel_size: IntPair, stride: IntPair | None = None, padding: IntPair = 0
) -> np.ndarray:
    """Max pooling as a loop over output positions; the padding is -inf, so never the max.

    Shapes: (N, C, H, W) -> (N, C, H_out, W_out); stride defaults to kernel_size.
    """
    return _pool_loop(x, kernel_size, stride, padding, np.max, -np.inf)


def avg_pool2d_loop(
    x: np.ndarray, kernel_size: IntPair, stride: IntPair | None = None, padding: IntPair = 0
) -> np.ndarray:
    """Average pooling as a loop; zero padding counts in the mean (torch's default).

    Shapes: (N, C, H, W) -> (N, C, H_out, W_out); stride defaults to kernel_size.
    """
    return _pool_loop(x, kernel_size, stride, padding, np.mean, 0.0)


def _pool(
    x: np.ndarray,
    kernel_size: IntPair,
    stride: IntPair | None,
    padding: IntPair,
    reduce: Reduce,
    fill: float,
) -> np.ndarray:
    x, kernel, stride, pad, _ = _check_pool(x, kernel_size, stride, padding)
    win = _windows(pad2d(x, pad, value=fill), kernel, stride, (1, 1))  # (N, C, Ho, Wo, kH, kW)
    return reduce(win, axis=(4, 5))


def max_pool2d(
    x: np.ndarray, kernel_size: IntPair, stride: IntPair | None = None, padding: IntPair = 0
) -> np.ndarray:
    """Max pooling over a window view of the input (vectorised).

    Shapes: (N, C, H, W) -> (N, C, H_out, W_out); stride defaults to kernel_size.
    """
    return _pool(x, kernel_size, stride, padding, np.max, -np.inf)


def avg_pool2d(
    x: np.ndarray, kernel_size: IntPair, stride: IntPair | None = None, padding: IntPair = 0
) -> np.ndarray:
    """Average pooling over a window view (vectorised); zero padding counts in the mean.

    Shapes: (N, C, H, W) -> (N, C, H_out, W_out); stride defaults to kernel_size.
    """
    return _pool(x, kernel_size, stride, padding, np.mean, 0.0)


def _check_global(x: np.ndarray) -> np.ndarray:
    x = _array4d("x", x, "(N, C, H, W)")
    if min(x.shape[2:]) < 1:
        raise ValueError(f"x must have feature maps of at least 1x1, got shape {x.shape}")
    return x


def global_avg_pool2d(x: np.ndarray) -> np.ndarray:
    """The mean of each whole feature map: one number per channel.

    Shapes: (N, C, H, W) -> (N, C, 1, 1).
    """
    x = _check_global(x)
    return x.mean(axis=(2, 3), keepdims=True).astype(_float_dtype(x), copy=False)


def global_max_pool2d(x: np.ndarray) -> np.ndarray:
    """The largest value of each whole feature map: one number per channel.

    Shapes: (N, C, H, W) -> (N, C, 1, 1).
    """
    x = _check_global(x)
    return x.max(axis=(2, 3), keepdims=True).astype(_float_dtype(x), copy=False)
