"""The numbers of the explainer animations: small integer inputs, the reference's output, and
the arithmetic of every output cell as text a student can check by hand.

The output values come from the reference implementation (`cnnlab.mechanics.reference`, loop
versions: they are the sliding-window picture the animation draws); this module only picks the
inputs and writes down, for each output cell, which input taps it reads and how they add up.
`cnnlab.viz.animate` draws it.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

MAX_INPUT = 32  # beyond this the numbers in the cells become unreadable
MAX_CELLS = 256  # one frame per output cell: more makes a slow, heavy GIF
PLANE_NAMES = {1: ("",), 2: ("c1", "c2"), 3: ("R", "G", "B"), 4: ("R", "G", "B", "A")}


@dataclass(frozen=True)
class Frame:
    """One frame: the output cell being computed and the input taps it reads.

    out_pos is (row, col) in the output and window the (rows, cols) of the taps in the padded
    input; both are None on the final frame, which shows the full output.
    """

    out_pos: tuple[int, int] | None
    window: tuple[tuple[int, ...], tuple[int, ...]] | None
    text: str  # the arithmetic on one line: "1*0 + 0*2 + 2*(-1) = 3"
    value: float | None
    lines: tuple[str, ...] = ()  # the same arithmetic as drawn, broken into lines


@dataclass(frozen=True)
class Explanation:
    """The numbers of one animation. kind is "conv", "max" or "avg".

    Shapes: x (1, C, n, n); w (1, C, k, k) for conv, None for pooling; padded
    (1, C, n + 2p, n + 2p) (for max pooling the padding is -inf, as torch pads it);
    output (1, 1, o, o); frames o*o cell frames in row-major order plus a final one.
    """

    kind: str
    x: np.ndarray
    w: np.ndarray | None
    padded: np.ndarray
    output: np.ndarray
    frames: list[Frame] = field(repr=False)
    kernel: int
    stride: int
    padding: int
    dilation: int
    title: str
    formula: str

    @property
    def channels(self) -> int:
        return int(self.x.shape[1])

    @property
    def out_size(self) -> int:
        return int(self.output.shape[-1])


def fmt_number(v: float) -> str:
    """3.0 -> "3", 1.5 -> "1.5", 2.3333 -> "2.33", -inf -> "-inf": numbers as a student writes
    them.

    Shapes: one float in, one string out.
    """
    if math.isinf(v):
        return "-inf" if v < 0 else "inf"
    if float(v).is_integer():
        return str(int(v))
    return f"{v:.2f}".rstrip("0").rstrip(".")


def _factor(v: float) -> str:
    s = fmt_number(v)
    return f"({s})" if s.startswith("-") else s


def _join(items: list[str], sep: str, limit: int) -> str:
    """Long sums keep their head and tail: nobody checks 25 products by hand on a GIF."""
    if len(items) > limit:
        items = [*items[: limit - 3], "...", *items[-2:]]
    return sep.join(items)


def _check(input_size: int, kernel: int, stride: int, padding: int, dilation: int) -> int:
    """Validate the shared hyper-parameters; return the output size."""
    from cnnlab.mechanics.reference import conv_output_size

    if input_size < 1 or input_size > MAX_INPUT:
        raise ValueError(f"input_size must be between 1 and {MAX_INPUT}, got {input_size}; "
                         f"use input_size <= {MAX_INPUT} for an animation")  # fmt: skip
    for name, value, low in (("kernel", kernel, 1), ("stride", stride, 1),
                             ("padding", padding, 0), ("dilation", dilation, 1)):  # fmt: skip
        if value < low:
            raise ValueError(f"{name} must be >= {low}, got {value}")
    span, size = dilation * (kernel - 1) + 1, input_size + 2 * padding
    if span > size:
        spans, fix = "", "a smaller kernel"
        if dilation > 1:
            spans = f" (dilation {dilation} spreads it over {span} cells)"
            fix = "a smaller kernel or dilation"
        raise ValueError(
            f"kernel {kernel}{spans} is larger than the padded input {size} (input_size "
            f"{input_size} + 2*padding {padding}); use {fix}, or more padding"
        )
    out = conv_output_size(input_size, kernel, stride, padding, dilation)
    if out * out > MAX_CELLS:
        raise ValueError(
            f"stride {stride} gives a {out}x{out} output, {out * out} frames (at most "
            f"{MAX_CELLS}); use a larger stride or a smaller input_size"
        )
    return out


def _window(pos: tuple[int, int], kernel: int, stride: int, dilation: int) -> tuple:
    i, j = pos
    rows = tuple(i * stride + dilation * t for t in range(kernel))
    cols = tuple(j * stride + dilation * t for t in range(kernel))
    return rows, cols


def explain_conv(input_size: int, kernel: int, stride: int = 1, padding: int = 0,
                 channels: int = 1, dilation: int = 1, seed: int = 0) -> Explanation:  # fmt: skip
    """Small random integers (input 0..3, weights -1..1) convolved by the reference, with the
    arithmetic of every output cell as text ("R: 2 + G: -1 + B: 4 = 5" for several channels).

    Shapes: x (1, channels, input_size, input_size), w (1, channels, kernel, kernel),
    output (1, 1, o, o) with o = floor((input_size + 2*padding - dilation*(kernel-1) - 1)
    / stride) + 1; o*o + 1 frames.
    """
    from cnnlab.mechanics.reference import conv2d_loop, pad2d

    if not 1 <= channels <= 4:
        raise ValueError(f"channels must be between 1 and 4, got {channels}")
    out = _check(input_size, kernel, stride, padding, dilation)
    rng = np.random.default_rng(seed)
    x = rng.integers(0, 4, size=(1, channels, input_size, input_size)).astype(np.float64)
    w = rng.integers(-1, 2, size=(1, channels, kernel, kernel)).astype(np.float64)
    if not w.any():
        w[0, 0, 0, 0] = 1.0  # an all-zero kernel would teach nothing
    padded = pad2d(x, padding)  # (1, C, n + 2p, n + 2p)
    # the loop version: it is the sliding-window picture this animation draws
    output = conv2d_loop(x, w, None, stride=stride, padding=padding, dilation=dilation)
    names = PLANE_NAMES[channels]
    frames = []
    for pos in np.ndindex(out, out):
        rows, cols = _window(pos, kernel, stride, dilation)
        value = float(output[0, 0, pos[0], pos[1]])
        per_plane = []
        for c in range(channels):
            taps = padded[0, c][np.ix_(rows, cols)]  # (k, k)
            per_plane.append([f"{_factor(a)}*{_factor(b)}" for a, b in
                              zip(taps.ravel(), w[0, c].ravel(), strict=True)])  # fmt: skip
        if channels == 1:
            text = f"{_join(per_plane[0], ' + ', 12)} = {fmt_number(value)}"
            rows_text = [" + ".join(per_plane[0][r * kernel : (r + 1) * kernel])
                         for r in range(kernel)]  # fmt: skip
            # kernels up to 5x5 are written out row by row; larger ones stay truncated
            lines = [text] if kernel <= 3 or kernel > 5 else [
                ("  " if r == 0 else "+ ") + t for r, t in enumerate(rows_text)
            ] + [f"= {fmt_number(value)}"]  # fmt: skip
        else:
            partial = [float((padded[0, c][np.ix_(rows, cols)] * w[0, c]).sum())
                       for c in range(channels)]  # fmt: skip
            text = " + ".join(f"{n}: {fmt_number(p)}" for n, p in zip(names, partial, strict=True))
            text += f" = {fmt_number(value)}"
            lines = [f"{n}: {_join(t, ' + ', 12)} = {fmt_number(p)}"
                     for n, t, p in zip(names, per_plane, partial, strict=True)]  # fmt: skip
            lines.append(text)
        frames.append(Frame(pos, (rows, cols), text, value, tuple(lines)))
    where = f" in all {channels} planes" if channels > 1 else ""
    done = f"output {out}x{out} complete: each cell = sum of input * weight over its window{where}"
    frames.append(Frame(None, None, done, None, (done,)))
    depth = f"x{channels}" if channels > 1 else ""
    title = (f"convolution: input {input_size}x{input_size}{depth}, kernel {kernel}x{kernel}, "
             f"stride {stride}, padding {padding}, dilation {dilation} "
             f"-> output {out}x{out}")  # fmt: skip
    if dilation == 1:
        formula = f"out = floor(({input_size} + 2*{padding} - {kernel}) / {stride}) + 1 = {out}"
    else:
        formula = (f"out = floor(({input_size} + 2*{padding} - {dilation}*({kernel}-1) - 1)"
                   f" / {stride}) + 1 = {out}")  # fmt: skip
    return Explanation("conv", x, w, padded, output, frames, kernel, stride, padding, dilation,
                       title, formula)  # fmt: skip


def explain_pool(input_size: int, kernel: int, kind: str = "max", stride: int | None = None,
                 padding: int = 0, seed: int = 0) -> Explanation:  # fmt: skip
    """Small random integers (0..9) pooled by the reference with torch semantics: stride
    defaults to kernel, max pooling pads with -inf, average pooling counts the zero padding.

    Shapes: x (1, 1, input_size, input_size), output (1, 1, o, o) with
    o = floor((input_size + 2*padding - kernel) / stride) + 1; o*o + 1 frames.
    """
    from cnnlab.mechanics.reference import avg_pool2d_loop, max_pool2d_loop, pad2d

    if kind not in ("max", "avg"):
        raise ValueError(f"kind must be 'max' or 'avg', got {kind!r}")
    stride = kernel if stride is None else stride
    if padding > kernel // 2:
        raise ValueError(
            f"padding must be at most half the kernel for pooling (kernel // 2 = {kernel // 2},"
            f" as torch requires), got {padding}"
        )
    out = _check(input_size, kernel, stride, padding, 1)
    rng = np.random.default_rng(seed)
    x = rng.integers(0, 10, size=(1, 1, input_size, input_size)).astype(np.float64)
    # torch's max pooling never picks a padding cell: it pads with -inf, not 0
    padded = pad2d(x, padding, value=-np.inf if kind == "max" else 0.0)  # (1, 1, n+2p, n+2p)
    pool = max_pool2d_loop if kind == "max" else avg_pool2d_loop
    output = pool(x, kernel, stride, padding)  # (1, 1, o, o)
    frames = []
    for pos in np.ndindex(out, out):
        rows, cols = _window(pos, kernel, stride, 1)
        vals = [fmt_number(v) for v in padded[0, 0][np.ix_(rows, cols)].ravel()]
        value = float(output[0, 0, pos[0], pos[1]])
        if kind == "max":
            text = f"max({_join(vals, ', ', 16)}) = {fmt_number(value)}"
        else:
            total = float(padded[0, 0][np.ix_(rows, cols)].sum())
            text = f"({_join(vals, '+', 16)})/{kernel * kernel} = {fmt_number(total)}/"
            text += f"{kernel * kernel} = {fmt_number(value)}"
        frames.append(Frame(pos, (rows, cols), text, value, (text,)))
    what = "largest value" if kind == "max" else "mean"
    done = f"output {out}x{out} complete: each cell = the {what} of its {kernel}x{kernel} window"
    frames.append(Frame(None, None, done, None, (done,)))
    title = (f"{kind} pooling: input {input_size}x{input_size}, window {kernel}x{kernel}, "
             f"stride {stride}, padding {padding} -> output {out}x{out}")  # fmt: skip
    formula = f"out = floor(({input_size} + 2*{padding} - {kernel}) / {stride}) + 1 = {out}"
    return Explanation(kind, x, None, padded, output, frames, kernel, stride, padding, 1,
                       title, formula)  # fmt: skip
