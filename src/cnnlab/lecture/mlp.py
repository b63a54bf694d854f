"""The book's sections on the lecture's "MLP vs CNNs" slides: an MLP and a CNN trained on the
same images and tested on moved copies, and the image unrolled into the MLP's input vector.
Also the picture that ships with cnnlab, which the CNN mechanics sections filter too."""

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


def grey(path: str):  # noqa: ANN202 (an (H, W) float array in [0, 1])
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
    img = grey(example_image())  # (28, 28)
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
]
