"""The four strategies of the lecture's transfer-learning guide (trained by tasks/transfer/task.py).

head      small + similar: freeze the whole backbone, train a new classifier on its end features
early     small + different: cut after an early block, freeze it, classifier on those features
finetune  large + similar: everything trainable, new head, the backbone at a lower learning rate
retrain   large + different: the same architecture from fresh weights, new head

Each strategy returns a Transfer: a new model (the backbone is never changed) and the
parameter groups for the optimizer, which hold only what is trained.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import torch
from torch import nn

from cnnlab.core.errors import ConfigError, DataError
from cnnlab.core.registry import Registry
from cnnlab.data import ImageData
from cnnlab.models.transferred import Cut, TransferModel, block_list, with_head
from cnnlab.tasks.transfer.backbones import Backbone, adapt_input
from cnnlab.tasks.transfer.probe import choose_cut


@dataclass
class Transfer:
    """A model ready to train and the optimizer's parameter groups (each with its `lr`)."""

    model: TransferModel
    param_groups: list[dict[str, Any]]
    strategy: str
    note: str = ""
    cut: str = ""


def _check(num_classes: int, lr: float) -> None:
    if num_classes < 2:
        raise ValueError(f"num_classes must be >= 2, got {num_classes}")
    if not lr > 0:
        raise ValueError(f"lr must be > 0, got {lr}")


STRATEGIES = Registry("strategy", ConfigError)


@STRATEGIES.register("head", help="small + similar: frozen backbone, new classifier on its end")
def head(backbone: Backbone, num_classes: int, lr: float = 1e-3) -> Transfer:
    """Freeze the whole backbone (weights and BatchNorm statistics); train a new Linear head
    on its forward_features. Shapes: (B, C, H, W) -> (B, num_classes)."""
    _check(num_classes, lr)
    model = with_head(backbone.copy(), backbone.input_shape, num_classes, frozen=True)
    return Transfer(model, [{"params": list(model.head.parameters()), "lr": lr}], "head")


def _learned(blocks: list[tuple[str, nn.Module]]) -> list[int]:
    # blocks without parameters (pool, ReLU) are not cut points of their own
    learned = [i for i, (_, m) in enumerate(blocks) if any(True for _ in m.parameters())]
    return learned or list(range(len(blocks)))


def _auto_cut(blocks: list[tuple[str, nn.Module]]) -> int:
    # without target data: the middle learned block, half-way up the feature hierarchy
    learned = _learned(blocks)
    return learned[(len(learned) - 1) // 2]


def early_candidates(blocks: list[tuple[str, nn.Module]]) -> list[int]:
    """Where `early` may cut when it chooses: every learned block but the last (cutting after
    the last one is `head` with another pooling)."""
    learned = _learned(blocks)
    return learned[:-1] or learned


@STRATEGIES.register("early", help="small + different: frozen early blocks, new classifier")
def early(
    backbone: Backbone,
    num_classes: int,
    lr: float = 1e-3,
    cut: str | None = None,
    grid: int = 4,
    probe: tuple[torch.Tensor, torch.Tensor] | None = None,
) -> Transfer:
    """Keep the blocks up to and including `cut`, freeze them, pool their map to a grid x grid
    map (grid=0: a global average) and train a new Linear head on it.

    `cut` is a block name of backbone.blocks(). When None, it is chosen: with `probe` =
    (images uint8, labels) of the target's training split, the earlier block whose
    features a linear probe classifies best (see transfer.probe); without, the middle block
    that has weights. Shapes: (B, C, H, W) -> (B, num_classes).
    """
    _check(num_classes, lr)
    if grid < 0:
        raise ValueError(f"grid must be >= 0 (0: global average pooling), got {grid}")
    blocks = block_list(backbone.copy())
    names = [n for n, _ in blocks]
    note = ""
    if cut in names:
        k = names.index(cut)
    elif cut is not None:
        raise ConfigError(f"unknown cut point {cut!r}; the blocks are: {', '.join(names)}")
    elif probe is not None:
        x = adapt_input(probe[0], backbone)
        found = choose_cut(
            blocks, early_candidates(blocks), x, probe[1], num_classes, grid=grid or 1
        )
        k = names.index(found.chosen)
        note = "linear probe accuracy per block: " + ", ".join(
            f"{n} {a:.0%}" for n, a in found.accuracies.items()
        )
    else:
        k = _auto_cut(blocks)
    features = Cut(*(m for _, m in blocks[: k + 1]), grid=grid)
    model = with_head(features, backbone.input_shape, num_classes, frozen=True)
    params = [{"params": list(model.head.parameters()), "lr": lr}]
    return Transfer(model, params, "early", note=note, cut=names[k])


@STRATEGIES.register("finetune", help="large + similar: all layers, backbone at a lower lr")
def finetune(
    backbone: Backbone,
    num_classes: int,
    lr: float = 1e-3,
    backbone_lr_factor: float = 0.1,
    freeze_bn: bool = False,
) -> Transfer:
    """Everything trainable from the pretrained weights, a new head at `lr` and the backbone
    at lr * backbone_lr_factor, so the head learns before it can wreck the features.

    BatchNorm stays trainable and updates its statistics (the target data decides them);
    with very small batches or data those statistics are noisy: freeze_bn=True keeps them.
    Shapes: (B, C, H, W) -> (B, num_classes).
    """
    _check(num_classes, lr)
    if not 0 < backbone_lr_factor <= 1:
        raise ValueError(f"backbone_lr_factor must be in (0, 1], got {backbone_lr_factor}")
    model = with_head(backbone.copy(), backbone.input_shape, num_classes, freeze_bn=freeze_bn)
    # the backbone's own head is unused by forward_features: it stays out of the optimizer
    body = [p for n, p in model.features.named_parameters() if not n.startswith("head.")]
    groups = [
        {"params": body, "lr": lr * backbone_lr_factor, "name": "backbone"},
        {"params": list(model.head.parameters()), "lr": lr, "name": "head"},
    ]
    return Transfer(model, groups, "finetune")


@STRATEGIES.register("retrain", help="large + different: same architecture, fresh weights")
def retrain(backbone: Backbone, num_classes: int, lr: float = 1e-3) -> Transfer:
    """The backbone's architecture with every layer re-initialized (each module's
    reset_parameters: PyTorch's default init, BatchNorm statistics cleared) and a new head.
    Shapes: (B, C, H, W) -> (B, num_classes)."""
    _check(num_classes, lr)
    body = backbone.copy()
    for m in body.modules():
        if hasattr(m, "reset_parameters"):
            m.reset_parameters()
    model = with_head(body, backbone.input_shape, num_classes)
    params = [p for n, p in model.named_parameters() if not n.startswith("features.head.")]
    return Transfer(model, [{"params": params, "lr": lr}], "retrain")


def build_strategy(name: str, backbone: Backbone, num_classes: int, **kw: Any) -> Transfer:
    """STRATEGIES[name](backbone, num_classes, **kw); an unknown name lists the known ones."""
    return STRATEGIES.build(name, backbone, num_classes, **kw)


def select_classes(data: ImageData, classes: list[int] | list[str]) -> ImageData:
    """The images of `classes` (indices or names) only, relabelled 0..k-1 in the given order;
    mean/std are measured again on the kept training images. Shapes: as `data`."""
    idx = [
        data.classes.index(c) if isinstance(c, str) and c in data.classes else c for c in classes
    ]
    bad = [c for c in idx if not isinstance(c, int) or not 0 <= c < data.num_classes]
    if bad or not idx or len(set(idx)) != len(idx):
        raise ValueError(
            f"classes must be distinct indices 0-{data.num_classes - 1} or names of "
            f"{data.name}'s classes, got {list(classes)}"
        )
    table = torch.full((data.num_classes,), -1, dtype=torch.long)
    table[torch.tensor(idx)] = torch.arange(len(idx))

    def take(x: torch.Tensor, y: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        keep = table[y] >= 0
        return x[keep], table[y[keep]]

    (tx, ty), (vx, vy), (sx, sy) = (
        take(data.train_x, data.train_y), take(data.val_x, data.val_y),
        take(data.test_x, data.test_y),
    )  # fmt: skip
    missing = [data.classes[c] for i, c in enumerate(idx) if not (ty == i).any()]
    if missing:
        raise DataError(f"no training images of class(es) {', '.join(missing)} in {data.name}")
    pixels = tx.float().div(255)
    return ImageData(
        name=f"{data.name}-c{'-'.join(str(c) for c in idx)}",
        classes=[data.classes[c] for c in idx],
        train_x=tx, train_y=ty, val_x=vx, val_y=vy, test_x=sx, test_y=sy,
        source=f"{data.source}, classes {', '.join(data.classes[c] for c in idx)}",
        origin=data.origin,
        mean=tuple(round(v, 4) for v in pixels.mean(dim=(0, 2, 3)).tolist()),
        std=tuple(round(v, 4) for v in pixels.std(dim=(0, 2, 3)).clamp_min(1e-3).tolist()),
    )  # fmt: skip


@dataclass
class TransferResult:
    """Test accuracy, training seconds and the trained model of one strategy."""

    strategy: str
    accuracy: float
    train_time_s: float
    model: TransferModel
    cut: str = ""
    history: list[float] = field(default_factory=list)  # mean training loss per epoch
    note: str = ""  # how the strategy chose, e.g. early's probe accuracies


@torch.no_grad()
def accuracy(model: nn.Module, backbone: Backbone, x: torch.Tensor, y: torch.Tensor) -> float:
    """Share of correct predictions, in batches of 256. Shapes: x (N, C, H, W) uint8, y (N,)."""
    model.eval()
    correct = 0
    for i in range(0, len(y), 256):
        logits = model(adapt_input(x[i : i + 256], backbone))
        correct += int((logits.argmax(1) == y[i : i + 256]).sum())
    return correct / max(1, len(y))
