"""The ImageNet backbone at several input sizes: feature speed and accuracy, to pick a default.

Small + similar, as issue 26 sets it: 20 training images per class of Fashion-MNIST (all ten
classes; a seed draws the subset), the first 1,000 test images. Backbone
`imagenet:efficientnet-lite0`. For each input side: images per second of its frozen features
(256 test images at batch 64, median of 3 timed passes), then `head` (a new Linear layer on the
pooled 1280 features, trained on features computed once) and, where asked, `finetune` (every
layer, the backbone at a tenth of the learning rate), each over the seeds. A logistic
regression on the same features (scikit-learn, C=1) is the reference the issue measured by hand.

    python benchmarks/imagenet_transfer.py [--sizes 64,96,128,160,224] [--seeds 3]
        [--finetune_sizes 96] [--finetune_epochs 15]
"""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import time

import torch
from _common import ROOT, command, machine, write_section

import cnnlab
from cnnlab.tasks.transfer import load_backbone, train_transfer
from cnnlab.tasks.transfer.features import frozen_features

DOC = ROOT / "docs" / "transfer.md"
TEST = 1000
SPEED_N = 256  # images per timed pass of the feature speed


def subset(seed: int):
    data = cnnlab.load_dataset("fashion-mnist", train_limit=200, seed=seed)
    import dataclasses

    return dataclasses.replace(data, test_x=data.test_x[:TEST], test_y=data.test_y[:TEST])


def feature_speed(b, x: torch.Tensor, repeats: int = 3) -> float:
    """Images per second of the frozen network's pooled features (frozen_features with the
    cache off: batch 64, as training computes them): the median of `repeats` timed passes."""

    def one() -> float:
        t0 = time.perf_counter()
        frozen_features(b.model, b.input_shape, b.mean, b.std, x, cache=False)
        return len(x) / (time.perf_counter() - t0)

    return statistics.median(one() for _ in range(repeats))


def logistic(train: torch.Tensor, ty: torch.Tensor, test: torch.Tensor, sy: torch.Tensor) -> float:
    from sklearn.linear_model import LogisticRegression
    from sklearn.preprocessing import StandardScaler

    scale = StandardScaler().fit(train.numpy())
    clf = LogisticRegression(C=1.0, max_iter=2000).fit(scale.transform(train.numpy()), ty.numpy())
    return float(clf.score(scale.transform(test.numpy()), sy.numpy()))


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--sizes", default="64,96,128,160,224")
    ap.add_argument("--seeds", type=int, default=3)
    ap.add_argument("--head_epochs", type=int, default=60)
    ap.add_argument("--finetune_sizes", default="96")
    ap.add_argument("--finetune_epochs", type=int, default=15)
    ap.add_argument("--section", default="imagenet-sizes")
    args = ap.parse_args()
    sizes = [int(s) for s in args.sizes.split(",")]
    ft_sizes = [int(s) for s in args.finetune_sizes.split(",") if s]
    seeds = list(range(args.seeds))
    datas = {s: subset(s) for s in seeds}
    rows = []
    with tempfile.TemporaryDirectory() as cache:
        os.environ["CNNLAB_CACHE"] = cache  # features computed here, not read from before
        for side in sizes:
            b = load_backbone("imagenet:efficientnet-lite0", image_size=side)
            test_feats = frozen_features(b.model, b.input_shape, b.mean, b.std, datas[0].test_x)
            speed = feature_speed(b, datas[0].test_x[:SPEED_N])
            heads, logs, fts, head_s, ft_s = [], [], [], [], []
            for s in seeds:
                d = datas[s]
                r = train_transfer(b, d, "head", epochs=args.head_epochs, lr=3e-3,
                                   batch_size=16, seed=s)  # fmt: skip
                heads.append(r.accuracy)
                head_s.append(r.train_time_s)
                train_feats = frozen_features(b.model, b.input_shape, b.mean, b.std, d.train_x)
                logs.append(logistic(train_feats, d.train_y, test_feats, d.test_y))
                if side in ft_sizes:
                    r = train_transfer(b, d, "finetune", epochs=args.finetune_epochs, lr=3e-3,
                                       batch_size=16, seed=s)  # fmt: skip
                    fts.append(r.accuracy)
                    ft_s.append(r.train_time_s)
                print(f"{side} px seed {s}: head {heads[-1]:.1%}, logistic {logs[-1]:.1%}"
                      + (f", finetune {fts[-1]:.1%}" if fts else ""), flush=True)  # fmt: skip
            rows.append((side, speed, heads, head_s, logs, fts, ft_s))
    os.environ.pop("CNNLAB_CACHE", None)

    def cell(vals: list[float]) -> str:
        if not vals:
            return "-"
        sd = statistics.stdev(vals) if len(vals) > 1 else 0.0
        return f"{statistics.mean(vals):.1%} ± {sd:.1%}"

    def secs(vals: list[float]) -> str:
        return f"{statistics.median(vals):.1f}" if vals else "-"

    table = "\n".join(
        f"| {side} | {speed:.0f} | {cell(h)} | {secs(hs)} | {cell(lg)} | {cell(ft)} | {secs(fs)} |"
        for side, speed, h, hs, lg, ft, fs in rows
    )
    body = f"""## EfficientNet-Lite0 on 20 Fashion-MNIST images per class: input size

`imagenet:efficientnet-lite0` as the backbone; target: 20 training images of each of the ten
Fashion-MNIST classes (a seed draws them), tested on the first {TEST} test images; {len(seeds)}
seeds, mean ± std. Features: images per second of the frozen network's pooled features on
{SPEED_N} test images at batch 64, the median of 3 timed passes. `head`: a new Linear layer
on the pooled 1280 features, Adam 3e-3, {args.head_epochs} epochs at batch 16, on features
computed once (training seconds: median). Logistic regression: scikit-learn on the same
features, standardized, C = 1. `finetune`: every layer, the backbone at 3e-4,
{args.finetune_epochs} epochs at batch 16.

| side (px) | features (images/s) | head | head training (s) | logistic regression | \
finetune | finetune training (s) |
|---|---|---|---|---|---|---|
{table}

Machine: {machine()}. Command: `{command()}`
"""
    write_section(args.section, body, doc=DOC)


if __name__ == "__main__":
    main()
