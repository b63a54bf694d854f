"""The book's sections on the lecture's CNN mechanics: local connectivity, the convolutional
layer, colour images, stride, padding and pooling; the "MLP vs CNNs" sections before them are
in mlp.py."""

from __future__ import annotations

from cnnlab.lecture.book import Context, Outcome, Section
from cnnlab.lecture.mlp import SECTIONS as MLP_SECTIONS
from cnnlab.lecture.mlp import example_image, grey


def local_connectivity(ctx: Context) -> Outcome:
    from cnnlab.mechanics.connectivity import connectivity

    ctx.cli("summary", "cnn-bn")
    rows, ratio = [], 0.0
    for shape, k in (((1, 28, 28), 3), ((3, 32, 32), 3), ((3, 224, 224), 3)):
        c = connectivity(shape, 32, k)
        conv, dense = c["conv_weights"] + c["conv_biases"], c["dense_weights"] + c["dense_biases"]
        rows.append(
            [
                "x".join(map(str, shape)),
                f"{k}x{k}, 32 filters",
                f"{conv:,}",
                f"{dense:,}",
                f"{dense / conv:,.0f}x",
            ]
        )
        ratio = ratio or dense / conv
    out = Outcome(
        measured=f"a conv layer of 32 3x3 filters on a 28x28 image has {rows[0][2]} parameters; "
        f"a fully connected layer with the same input and output needs {rows[0][3]} "
        f"({ratio:,.0f}x more).",
        verdict="holds" if ratio > 100 else "differs",
    )
    out.table(
        ["input", "layer", "conv parameters", "fully connected", "ratio"],
        rows,
        "each output unit sees a 3x3 patch (local) and every position shares the filter",
    )
    return out


def _explain(ctx: Context, *argv: str) -> str:
    """cnnlab explain ... into the section's folder; returns the GIF's file name."""
    name = argv[argv.index("--name") + 1]
    ctx.cli("explain", *argv, "--out", ctx.folder)
    return f"{name}.gif"


def conv_layer(ctx: Context) -> Outcome:
    import numpy as np
    import torch

    from cnnlab.mechanics.reference import conv2d_loop

    gif = _explain(ctx, "conv", "--input", "5", "--kernel", "3", "--name", "conv")
    ctx.cli(
        "show",
        "filters",
        example_image(),
        "--kernel",
        "sobel-x,sobel-y,laplacian",
        "--out",
        ctx.path("filters"),
    )
    pngs = sorted(ctx.path("filters").glob("*.png"))
    rng = np.random.default_rng(0)
    x, w = rng.normal(size=(2, 3, 12, 12)), rng.normal(size=(4, 3, 3, 3))
    ref = conv2d_loop(x, w)
    lib = torch.nn.functional.conv2d(torch.from_numpy(x), torch.from_numpy(w)).numpy()
    err = float(np.abs(ref - lib).max())
    figs = [(gif, "a 3x3 kernel slides over a 5x5 input: each output cell is a sum of products")]
    figs += [
        (f"filters/{p.name}", "hand-made filters on a picture: filtered, ReLU, max-pooled")
        for p in pngs[:1]
    ]
    return Outcome(
        measured=f"cnnlab's loop convolution (the slide's sliding window, written out) and "
        f"PyTorch's conv2d agree to {err:.1e} on random 12x12 inputs with 3 channels and 4 "
        "filters.",
        verdict="holds" if err < 1e-9 else "differs",
        figures=figs,
    )


def colour(ctx: Context) -> Outcome:
    import numpy as np

    from cnnlab.mechanics.reference import conv2d_loop

    gif = _explain(
        ctx, "conv", "--input", "5", "--kernel", "3", "--channels", "3", "--name", "conv-rgb"
    )
    rng = np.random.default_rng(1)
    x, w = rng.normal(size=(1, 3, 8, 8)), rng.normal(size=(1, 3, 3, 3))
    whole = conv2d_loop(x, w)
    per_channel = sum(conv2d_loop(x[:, c : c + 1], w[:, c : c + 1]) for c in range(3))
    err = float(np.abs(whole - per_channel).max())
    return Outcome(
        measured=f"one 3x3x3 filter over an RGB image gives one map of shape "
        f"{whole.shape[2]}x{whole.shape[3]}, equal to the sum of its three per-channel "
        f"convolutions (largest difference {err:.1e}): {w.size} weights, 3x3 per colour.",
        verdict="holds" if err < 1e-9 and whole.shape[1] == 1 else "differs",
        figures=[(gif, "one filter with a 3x3 slice per colour channel; the three sums add up")],
    )


def _sizes(padding_of) -> tuple[int, int]:  # noqa: ANN001 (kernel -> padding)
    """(cases that match the formula, cases) for torch's Conv2d over sizes, kernels, strides."""
    import torch

    from cnnlab.mechanics.reference import conv_output_size

    ok = total = 0
    for n in (5, 7, 8, 28, 32):
        for k in (1, 3, 5):
            for s in (1, 2, 3):
                p = padding_of(k)
                if n + 2 * p < k:
                    continue
                y = torch.nn.Conv2d(1, 1, k, stride=s, padding=p)(torch.zeros(1, 1, n, n))
                ok += y.shape[-1] == conv_output_size(n, k, s, p)
                total += 1
    return ok, total


def stride(ctx: Context) -> Outcome:
    gif = _explain(
        ctx, "conv", "--input", "7", "--kernel", "3", "--stride", "2", "--name", "conv-stride2"
    )
    ok, total = _sizes(lambda k: 0)
    return Outcome(
        measured=f"a stride of 2 takes a 7x7 input to 3x3; the slide's formula "
        f"floor((W - K + 2P) / S) + 1 gives PyTorch's output size in {ok} of {total} cases "
        "(sizes 5-32, kernels 1-5, strides 1-3).",
        verdict="holds" if ok == total else "differs",
        figures=[(gif, "stride 2: the kernel jumps two cells, so the output is smaller")],
    )


def padding(ctx: Context) -> Outcome:
    gif = _explain(
        ctx, "conv", "--input", "5", "--kernel", "3", "--padding", "1", "--name", "conv-pad1"
    )
    ok, total = _sizes(lambda k: (k - 1) // 2)
    import torch

    same = sum(
        torch.nn.Conv2d(1, 1, k, padding=(k - 1) // 2)(torch.zeros(1, 1, n, n)).shape[-1] == n
        for n in (5, 7, 28)
        for k in (1, 3, 5, 7)
    )
    return Outcome(
        measured=f"zero padding of (K - 1) / 2 keeps the size at stride 1 in {same} of 12 cases "
        f"(sizes 5, 7, 28; kernels 1-7), and the size formula holds with it in {ok} of {total}.",
        verdict="holds" if same == 12 and ok == total else "differs",
        figures=[(gif, "padding 1: a border of zeros lets the 3x3 kernel centre on every pixel")],
    )


def pooling(ctx: Context) -> Outcome:
    import numpy as np

    from cnnlab.mechanics.kernels import apply_kernel, get_kernel, max_pool

    gif = _explain(
        ctx, "pool", "--kind", "max", "--input", "6", "--kernel", "2", "--name", "pool-max"
    )
    img = grey(example_image())
    k = get_kernel("sobel-x")
    raw_same, pooled_same = [], []
    for dx in (1,):
        moved = np.roll(img, dx, axis=1)
        a, b = np.maximum(apply_kernel(img, k), 0), np.maximum(apply_kernel(moved, k), 0)
        on = a > 0.05
        raw_same.append(float(np.mean(np.isclose(a[on], b[on], atol=0.05))))
        pa, pb = max_pool(a, 2), max_pool(b, 2)
        pon = pa > 0.05
        pooled_same.append(float(np.mean(np.isclose(pa[pon], pb[pon], atol=0.05))))
    r, p = raw_same[0], pooled_same[0]
    return Outcome(
        measured=f"2x2 max pooling keeps a quarter of the values (28x28 -> 14x14); after a "
        f"1-pixel shift of the image {p:.0%} of the pooled edge responses are unchanged, "
        f"against {r:.0%} before pooling.",
        verdict="holds" if p > r else "differs",
        figures=[(gif, "2x2 max pooling: each output is the largest of its window")],
    )


SECTIONS: list[Section] = [
    *MLP_SECTIONS,
    Section(
        key="local-connectivity",
        part="CNNs",
        title="Local connectivity",
        point="Each unit of a conv layer looks at a small patch of the image, and every position "
        "uses the same filter: far fewer weights than a layer that connects every pixel to "
        "every unit.",
        claim="Sparse, local connections with shared weights need far fewer parameters than "
        "fully connected layers.",
        run=local_connectivity,
        seconds=(4.0, 4.0),
    ),
    Section(
        key="conv-layer",
        part="CNNs",
        title="Convolutional layer",
        point="A filter (a small grid of weights) slides over the image; each output cell is the "
        "sum of the products of the filter and the patch under it. Hand-made filters find "
        "edges; a CNN learns its own.",
        claim="A convolutional layer computes each output as the weighted sum of a local patch, "
        "with the same filter at every position.",
        run=conv_layer,
        seconds=(8.0, 8.0),
        live="explainer",
    ),
    Section(
        key="colour",
        part="CNNs",
        title="Convolutional layer (color images)",
        point="For a colour image a filter has one slice per channel (R, G, B); the three "
        "per-channel sums add up to one output map.",
        claim="On colour images each filter spans all the input channels and makes one feature "
        "map.",
        run=colour,
        seconds=(6.0, 6.0),
        live="explainer",
    ),
    Section(
        key="stride",
        part="CNNs",
        title="Stride",
        point="The stride is how far the filter moves between outputs: stride 2 skips every "
        "other position and halves the output's side.",
        claim="The output size is (W - K + 2P) / S + 1 for input W, kernel K, padding P and "
        "stride S.",
        run=stride,
        seconds=(6.0, 6.0),
        live="explainer",
    ),
    Section(
        key="padding",
        part="CNNs",
        title="Padding",
        point="Zeros around the border let the filter centre on the edge pixels too, so the "
        "output can keep the input's size.",
        claim="With zero padding P = (K - 1) / 2 and stride 1 the output has the input's size.",
        run=padding,
        seconds=(5.0, 5.0),
        live="explainer",
    ),
    Section(
        key="pooling",
        part="CNNs",
        title="Pooling layers",
        point="Pooling keeps the largest (or the average) value of each small window: the maps "
        "shrink, and a feature that moves a little inside a window gives the same output.",
        claim="Pooling reduces the size of the feature maps and makes them tolerant to small "
        "shifts.",
        run=pooling,
        seconds=(5.0, 5.0),
        live="explainer",
    ),
]
