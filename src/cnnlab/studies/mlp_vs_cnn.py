"""MLP vs CNN: the same data and the same time budget; parameters, accuracy, and accuracy on
shifted and rotated test images. The lecture's point about vectors vs matrices, measured: the
MLP sees a flattened vector and must relearn every pattern at every position, the CNN shares
its filters across positions."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import torch
from rich.console import Console

from cnnlab.data import ImageData, load_dataset, rotate_batch, shift_batch
from cnnlab.models import count_parameters
from cnnlab.studies.configs import MLPvsCNNConfig
from cnnlab.tasks.classify.api import train
from cnnlab.tasks.classify.evaluation import evaluate


@dataclass
class ModelRow:
    name: str
    parameters: int
    train_time_s: float
    epochs: int
    accuracy: dict[str, float]  # condition -> test accuracy
    run_dir: str


@dataclass
class MLPvsCNNResult:
    config: dict[str, Any]
    data_source: str
    test_images: int
    chance: float
    conditions: list[str]
    rows: list[ModelRow] = field(default_factory=list)

    def table(self) -> tuple[list[str], list[list[str]]]:
        headers = ["model", "parameters", "train s", "epochs", *self.conditions]
        body = [
            [
                r.name,
                f"{r.parameters:,}",
                f"{r.train_time_s:.1f}",
                str(r.epochs),
                *(f"{r.accuracy[c]:.2%}" for c in self.conditions),
            ]
            for r in self.rows
        ]
        return headers, body

    def columns(self) -> tuple[list[str], list[list[str]]]:
        """The table transposed (one column per model): narrow enough for a terminal."""
        headers = ["", *(r.name for r in self.rows)]
        body = [
            ["parameters", *(f"{r.parameters:,}" for r in self.rows)],
            ["train seconds", *(f"{r.train_time_s:.1f}" for r in self.rows)],
            ["epochs", *(str(r.epochs) for r in self.rows)],
        ]
        body += [
            [f"acc {c}", *(f"{r.accuracy[c]:.2%}" for r in self.rows)] for c in self.conditions
        ]
        return headers, body

    def to_json(self) -> str:
        return json.dumps(asdict(self), indent=2)


def perturbed_test_sets(
    x: torch.Tensor, shifts: tuple[int, ...], rotations: tuple[float, ...], seed: int
) -> dict[str, torch.Tensor]:
    """The clean test images and their shifted / rotated copies, deterministic given seed.

    Shapes: x (N, C, H, W) uint8 -> each value (N, C, H, W) uint8.
    """
    g = torch.Generator().manual_seed(seed + 12_345)
    n = len(x)
    out = {"clean": x}
    direction = torch.randint(0, 4, (n,), generator=g)  # up, down, left, right
    dy = torch.tensor([-1, 1, 0, 0])[direction]
    dx = torch.tensor([0, 0, -1, 1])[direction]
    for s in shifts:
        out[f"shift {s}px"] = shift_batch(x, dy * s, dx * s)
    sign = torch.randint(0, 2, (n,), generator=g) * 2 - 1
    for deg in rotations:
        rotated = rotate_batch(x.float(), sign.float() * deg)
        out[f"rotate {deg:g}°"] = rotated.round().clamp(0, 255).to(torch.uint8)
    return out


def run(
    cfg: MLPvsCNNConfig, data: ImageData | None = None, console: Console | None = None
) -> MLPvsCNNResult:
    """Train both models for `cfg.budget` seconds each and test them on perturbed images."""
    console = console or Console()
    if data is None:
        data = load_dataset(cfg.data, train_limit=cfg.train_limit, seed=cfg.seed)
        console.print(f"data: {data.source}", highlight=False)
    tests = perturbed_test_sets(data.test_x, cfg.shifts, cfg.rotations, cfg.seed)
    result = MLPvsCNNResult(
        asdict(cfg), data.source, len(data.test_y), 1 / data.num_classes, list(tests)
    )
    out = Path(cfg.out)
    for name in (cfg.mlp, cfg.cnn):
        console.print(f"[bold]{name}[/]: training for {cfg.budget:g} s", highlight=False)
        r = train(
            data=data,
            model=name,
            epochs=cfg.epochs,
            max_time=cfg.budget,
            augment=cfg.augment,
            seed=cfg.seed,
            runs_dir=str(out),
            name=name,
            console=console,
        )
        acc = {}
        for cond, x in tests.items():
            ev = evaluate(r.model, x, data.test_y, data.classes, data.mean, data.std)
            acc[cond] = ev.accuracy
        result.rows.append(
            ModelRow(
                name,
                count_parameters(r.model),
                round(r.train_time_s, 1),
                len(r.history),
                acc,
                str(r.run_dir),
            )
        )
    return result


def examples(data: ImageData, cfg: MLPvsCNNConfig, n: int = 6) -> torch.Tensor:
    """A few test images under every condition, for the figure. Shapes: (n*conds, C, H, W)."""
    tests = perturbed_test_sets(data.test_x[:n], cfg.shifts, cfg.rotations, cfg.seed)
    return torch.cat([t for t in tests.values()])
