"""Locating as an engine task: a camera image in, the object's position on the table (cm) and
its grasp yaw out. Loss: the Huber loss of the position in cm plus yaw_weight times the squared
error of (sin 2yaw, cos 2yaw); validation reports the mean position error in cm and the median
yaw error in degrees."""

from __future__ import annotations

import math
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn

from cnnlab.core.errors import ConfigError, RunError
from cnnlab.data.tabletop import LocateData
from cnnlab.engine import runs
from cnnlab.engine.task import Context, Task, num_batches, stride
from cnnlab.tasks.locate.config import LocateConfig
from cnnlab.tasks.locate.metrics import frame, jitter, locate_loss

VAL_CHUNK = 256


class LocateTask(Task):
    """One position (and yaw) per image. `data` is a LocateData in memory, or None to read
    cfg.data."""

    name = "locate"
    command = "locate"
    help = ("find an object's position on a table in a camera image (CNN, CoordConv, heat "
            "map, MLP); writes runs/<name>/ (docs/robotics.md)")  # fmt: skip
    config_cls = LocateConfig
    data_type = LocateData
    channels_last = True
    monitor = "err_cm"  # the kept model: the lowest validation position error

    def __init__(self, cfg: LocateConfig, data: LocateData | None = None) -> None:
        self.cfg, self.data = cfg, data

    def setup(self, ctx: Context) -> None:
        super().setup(ctx)
        from cnnlab.data.tabletop import load_locate_data

        cfg = self.cfg
        if self.data is None:
            self.data = load_locate_data(cfg.data, cfg.size, cfg.seed, ctx.log)
        d = self.data
        if d.x["train"].ndim != 4 or d.x["train"].shape[1] != 3:
            raise ConfigError(f"locate needs colour images (N, 3, H, W), got {d.x['train'].shape}")
        keep = len(d.y["train"]) if cfg.n_train is None else min(cfg.n_train, len(d.y["train"]))
        self.x = {s: torch.from_numpy(np.ascontiguousarray(v)) for s, v in d.x.items()}
        self.y = {s: torch.from_numpy(np.asarray(v, np.float32)) for s, v in d.y.items()}
        self.x["train"], self.y["train"] = self.x["train"][:keep], self.y["train"][:keep]
        pixels = self.x["train"][:2000].float().div(255)
        self.mean = tuple(float(v) for v in pixels.mean((0, 2, 3)))
        self.std = tuple(max(float(v), 1e-3) for v in pixels.std((0, 2, 3)))
        self.centre, self.half = frame(d)
        self.use_yaw = d.has_yaw and cfg.yaw_weight > 0
        self.run_name = cfg.name or f"{cfg.model}-{Path(cfg.data).stem}"
        ctx.log(f"data: {d!r}")

    def meta(self, model: nn.Module | None = None) -> runs.ModelMeta:
        cfg, d = self.cfg, self.data
        return runs.ModelMeta(
            cfg.model, dict(cfg.model_args), 3, 4, d.size, ["x_cm", "y_cm", "sin2yaw", "cos2yaw"],
            self.mean, self.std, data=cfg.data, task="locate",
            extra={"centre": list(self.centre), "half": list(self.half), "yaw": self.use_yaw,
                   "camera": d.name == "tabletop"},
        )  # fmt: skip

    def build_model(self) -> nn.Module:
        torch.manual_seed(self.cfg.seed)
        return self.meta().build()

    def describe(self, model: nn.Module) -> str:
        return " / ".join(f"{len(self.y[s]):,} {s}" for s in ("train", "val")) + " images"

    def num_train_batches(self) -> int:
        return num_batches(len(self.y["train"]), self.cfg.batch_size, self.ctx)

    def train_batches(self, epoch: int) -> Iterator[tuple[torch.Tensor, torch.Tensor]]:
        g = torch.Generator().manual_seed(self.cfg.seed * 100_003 + epoch)
        order = torch.randperm(len(self.y["train"]), generator=g)
        for idx in stride(order, self.cfg.batch_size, self.ctx):
            x = self.x["train"][idx].float().div_(255)
            if self.cfg.augment:
                x = jitter(x, g)
            yield self._norm(x), self.y["train"][idx]

    def _norm(self, x: torch.Tensor) -> torch.Tensor:
        m = torch.tensor(self.mean).view(1, -1, 1, 1)
        s = torch.tensor(self.std).view(1, -1, 1, 1)
        x = (x - m) / s
        return x.contiguous(memory_format=torch.channels_last) if self.ctx.channels_last else x

    def val_batches(self) -> Iterator[tuple[torch.Tensor, torch.Tensor]]:
        n = len(self.y["val"])
        for idx in stride(torch.arange(n), VAL_CHUNK, self.ctx, drop_last=False):
            yield self._norm(self.x["val"][idx].float().div(255)), self.y["val"][idx]

    def step(self, model: nn.Module, batch: Any, stage: str):
        x, y = batch
        out = model(x).float()
        loss, stats = locate_loss(out, y, self.centre, self.half,
                                  self.cfg.yaw_weight if self.use_yaw else 0.0)  # fmt: skip
        return loss, stats

    def summarize(self, stage: str, sums: dict[str, torch.Tensor]) -> dict[str, float]:
        n = float(sums.get("n", 0))
        if n == 0:
            return {}
        row = {f"{stage}/loss": float(sums["loss"]) / n, f"{stage}/err_cm": float(sums["err"]) / n}
        if self.use_yaw:
            row[f"{stage}/yaw_deg"] = float(sums["yaw"]) / n
        return row

    @staticmethod
    def summary(result: Any) -> list[Any]:
        t = result.test
        if not t:
            return []
        rows = [["model", f"{t['mean_cm']:.2f}", f"{t['median_cm']:.2f}", f"{t['p95_cm']:.2f}",
                 f"{t['yaw_median_deg']:.1f}" if t.get("yaw_median_deg") is not None else "—"],
                ["centre (floor)", f"{t['floor_mean_cm']:.2f}", f"{t['floor_median_cm']:.2f}",
                 f"{t['floor_p95_cm']:.2f}", "—"]]  # fmt: skip
        return [
            ("test split: position error (cm)", ["predicting", "mean", "median", "95th pct",
                                                 "yaw median (deg)"], rows),
            f"{result.train_time_s:.0f} s of training; report: {result.folder / 'report.html'}",
        ]  # fmt: skip

    @classmethod
    def predict(cls, run: Path, files: list[str], **options: Any) -> list[str]:
        """Where the object is in each image: x, y (cm) and the grasp yaw (degrees)."""
        from cnnlab.data.sources import open_image
        from cnnlab.tasks.locate.results import predict

        model, meta = runs.load_model(run)
        h, w = meta.input_size
        lines = []
        for f in files:
            im = open_image(f).convert("RGB")
            x = np.asarray(im.resize((w, h)) if im.size != (w, h) else im).transpose(2, 0, 1)
            centre, half = meta.extra["centre"], meta.extra["half"]
            px, py, yaw = predict(model, x[None], meta.mean, meta.std, centre, half)[0]
            turn = f", grasp yaw {math.degrees(yaw):.0f} degrees" if meta.extra.get("yaw") else ""
            lines.append(f"{f}: x {px:.1f} cm, y {py:.1f} cm{turn}")
        return lines

    @staticmethod
    def report(folder: Path) -> Path:
        import json

        from cnnlab.tasks.locate.results import write_locate_report

        results = Path(folder) / "results.json"
        if not results.is_file():
            raise RunError(f"{folder} has no results.json; the run never finished its test")
        return write_locate_report(folder, json.loads(results.read_text()))

    def finish(self, folder: Path, model: nn.Module, result: Any) -> dict[str, float]:
        from cnnlab.tasks.locate.results import write_results

        t0 = time.perf_counter()
        test = write_results(folder, model, self, result.history, result.train_time_s,
                             result.best_epoch)  # fmt: skip
        self.ctx.log(f"test scored and figures drawn in {time.perf_counter() - t0:.1f} s")
        return test
