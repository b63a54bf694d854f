"""The book's sections on the lecture's "MLP vs CNNs" slides and the CNN mechanics: local
connectivity, the convolutional layer, colour images, stride, padding and pooling."""

from __future__ import annotations

import json
import shutil

from cnnlab.lecture.book import Context, Outcome, Section
from cnnlab.lecture.book import copy as _copy

EXAMPLE = "fashion-mnist-ankle-boot.png"  # ships with cnnlab (data/examples)


def example_image(ctx: Context | None = None) -> str:
    """A picture that ships with cnnlab, for the commands that filter one; with `ctx`, copied
    into the section's folder first, so the command shown works in the reader's book too."""
    from importlib.resources import files

    src = str(files("cnnlab.data") / "examples" / EXAMPLE)
    if ctx is None:
        return src
    shutil.copyfile(src, ctx.path(EXAMPLE))
    return str(ctx.path(EXAMPLE))


def mlp_vs_cnn(ctx: Context) -> Outcome:
    data = ctx.data("fashion-mnist")
    # quick: 3 epochs on 6,000 images (a time budget would give a busy machine less training)
    budget, epochs, limit = ctx.pick(("120", "3", "6000"), ("35", "50", None), ("30", "1", "500"))
    argv = ["compare", "mlp-vs-cnn", "--data", data, "--budget", budget, "--epochs", epochs]
    if limit:
        argv += ["--train_limit", limit]
    argv += ["--out", ctx.path("run")]
    ctx.cli(*argv)
    res = json.loads(ctx.path("run", "result.json").read_text())
    rows = {r["name"]: r for r in res["rows"]}
    mlp, cnn = rows[res["config"]["mlp"]], rows[res["config"]["cnn"]]
    conds = res["conditions"]
    out = Outcome(measured="", verdict="shown")
    out.table(
        ["", mlp["name"], cnn["name"]],
        [["parameters", f"{mlp['parameters']:,}", f"{cnn['parameters']:,}"]]
        + [[c, f"{mlp['accuracy'][c]:.1%}", f"{cnn['accuracy'][c]:.1%}"] for c in conds],
        f"test accuracy on {res['test_images']:,} images; training: "
        + ", ".join(
            f"{r['name']} {r['train_time_s']:.0f} s, {r['epochs']} epochs" for r in (mlp, cnn)
        ),
    )
    shift = next((c for c in conds if c == "shift 4px"), conds[-1])
    m_drop = mlp["accuracy"]["clean"] - mlp["accuracy"][shift]
    c_drop = cnn["accuracy"]["clean"] - cnn["accuracy"][shift]
    out.measured = (
        f"on centred images the MLP gets {mlp['accuracy']['clean']:.1%} and the CNN "
        f"{cnn['accuracy']['clean']:.1%}; moved by 4 pixels the MLP loses "
        f"{100 * m_drop:.1f} points, the CNN {100 * c_drop:.1f}, with "
        f"{mlp['parameters'] / cnn['parameters']:.1f}x fewer parameters in the CNN."
    )
    out.verdict = "holds" if c_drop < m_drop else "differs"
    if out.verdict == "differs":
        out.because = (
            "The CNN lost as much as the MLP: at this budget it did not train long "
            "enough to learn shift-tolerant features."
        )
    out.figures = [
        (
            _copy(ctx, "run/figures/robustness.png", "robustness.png"),
            "accuracy as the test images are shifted and rotated",
        ),
        (
            _copy(ctx, "run/figures/examples.png", "examples.png"),
            "the same test images, centred, shifted and rotated",
        ),
    ]
    return out


def _grey(path: str):  # noqa: ANN202 (an (H, W) float array in [0, 1])
    import numpy as np
    from PIL import Image

    return np.asarray(Image.open(path).convert("L"), dtype=np.float64) / 255.0


def mlp_input(ctx: Context) -> Outcome:
    """The image as the MLP sees it (one vector) and what a 2-pixel shift does to that vector
    and to a conv layer's feature map."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import numpy as np

    from cnnlab.mechanics.kernels import apply_kernel, get_kernel

    ctx.cli("summary", "mlp")
    img = _grey(example_image())  # (28, 28)
    moved = np.roll(img, 2, axis=1)
    moved[:, :2] = 0.0

    def cos(a, b) -> float:  # noqa: ANN001
        a, b = a.ravel(), b.ravel()
        return float(a @ b / (np.linalg.norm(a) * np.linalg.norm(b) + 1e-12))

    # the conv map of the moved image is the map moved: on a canvas with room to move (so no
    # pixel leaves it), compare the moved image's map moved back with the image's own map
    k = get_kernel("sobel-x")
    canvas = np.pad(img, ((0, 0), (4, 4)))
    fmap, fmoved = apply_kernel(canvas, k), apply_kernel(np.roll(canvas, 2, axis=1), k)
    conv_match = float(np.abs(np.roll(fmoved, -2, axis=1) - fmap).max())
    same_vec = float(np.mean(np.isclose(img.ravel(), moved.ravel(), atol=0.02)))
    fig, axes = plt.subplots(3, 1, figsize=(9, 3.6), gridspec_kw={"height_ratios": [4, 1, 1]})
    axes[0].imshow(np.hstack([img, np.ones((28, 2)), moved]), cmap="gray")
    axes[0].set_title("the image and the same image moved 2 pixels right (28x28 matrices)")
    for ax, v, name in (
        (axes[1], img, "as the MLP's 784-vector"),
        (axes[2], moved, "moved: a different vector"),
    ):
        ax.imshow(v.reshape(1, -1), aspect="auto", cmap="gray", interpolation="nearest")
        ax.set_yticks([])
        ax.set_ylabel(name, rotation=0, ha="right", va="center", fontsize=8)
    for ax in axes:
        ax.set_xticks([])
    fig.tight_layout()
    fig.savefig(ctx.path("vector.png"), dpi=110)
    plt.close(fig)
    out = Outcome(
        measured=f"moving the boot 2 pixels changes {1 - same_vec:.0%} of the 784 inputs the "
        f"MLP sees (cosine similarity {cos(img, moved):.2f}), while a convolution's feature map "
        f"just moves with it (largest difference after moving it back: {conv_match:.1e}).",
        verdict="holds" if conv_match < 1e-5 and same_vec < 0.95 else "differs",
        figures=[("vector.png", "one image as a matrix and as the MLP's input vector")],
    )
    if out.verdict == "differs":
        out.because = "the convolution's map did not simply move with the image here."
    return out


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
    img = _grey(example_image())
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
    Section(
        key="mlp-vs-cnn",
        part="MLP vs CNNs",
        title="When do MLPs (not) work well?",
        point="An MLP sees an image as one long vector, so a pattern learned at one place must "
        "be learned again at every other; a CNN slides the same small filters everywhere. Both "
        "are trained here on the same images for the same time and tested on centred and "
        "moved copies.",
        claim="MLPs work on centred, size-normalised images such as MNIST's digits; a CNN "
        "copes with the object anywhere in the image, with far fewer parameters.",
        run=mlp_vs_cnn,
        seconds=(45.0, 150.0),
        live="draw",
        data=("fashion-mnist",),
    ),
    Section(
        key="mlp-input",
        part="MLP vs CNNs",
        title="MLPs input",
        point="An MLP only takes vectors, so a 28x28 image is unrolled into 784 numbers and its "
        "two-dimensional layout is lost: the same object moved a little is a different vector.",
        claim="MLPs only accept vectors and only use fully connected layers; CNNs also accept "
        "matrices and use sparsely connected layers.",
        run=mlp_input,
        seconds=(6.0, 6.0),
    ),
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
