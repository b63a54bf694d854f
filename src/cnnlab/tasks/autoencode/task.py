"""Autoencoders as an engine task: batches of (input, target) in [0, 1], where the input is
the corrupted target when denoising; MSE (or the VAE's negative ELBO) to minimize; validation
loss, MSE and PSNR; the test report at the end."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import torch
import torch.nn.functional as F
from torch import nn

from cnnlab.data import ImageData
from cnnlab.data.datasets import load_dataset_of
from cnnlab.data.noise import Noise, parse_noise
from cnnlab.engine import runs
from cnnlab.engine.task import Context, Task, num_batches, stride
from cnnlab.models import build_for_input
from cnnlab.tasks.autoencode.config import TASK, AutoencodeConfig
from cnnlab.tasks.autoencode.metrics import psnr, recon_loss, to_unit, vae_loss
from cnnlab.tasks.autoencode.results import write_ae_results

VAL_CHUNK = 512  # validation images per forward pass


class AutoencodeTask(Task):
    """Reconstruct the image (from a corrupted copy when cfg.noise is set).

    Batch order and noise come from a generator seeded by (seed, epoch) only, so a resumed
    run sees exactly the batches of an uninterrupted one. The validation inputs are corrupted
    once, with a fixed generator, so val/psnr compares epochs on the same noisy images.
    `train_noise` replaces cfg.noise while training (a study's mix of levels) and `test_noise`
    while testing; `meta_extra` goes into model.json.
    """

    name = TASK
    command = "autoencode"
    help = ("train an autoencoder, a denoiser (--noise) or a VAE; writes runs/<name>/ with PSNR,"
            " SSIM, reconstruction figures and report.html")  # fmt: skip
    config_cls = AutoencodeConfig
    data_type = ImageData

    def __init__(
        self,
        cfg: AutoencodeConfig,
        data: ImageData | None = None,
        train_noise: Any = None,
        test_noise: Noise | None = None,
        meta_extra: dict[str, Any] | None = None,
    ) -> None:
        self.cfg, self.data = cfg, data
        self.kwargs = cfg.model_kwargs()  # unknown model or option: fails before the data
        self.noise = train_noise if train_noise is not None else parse_noise(cfg.noise)
        self.test_noise = test_noise or parse_noise(cfg.noise)
        self.meta_extra = meta_extra or {}
        self.is_vae = False

    def setup(self, ctx: Context) -> None:
        super().setup(ctx)
        cfg = self.cfg
        if self.data is None:
            self.data = load_dataset_of(cfg)
            ctx.log(f"data: {self.data.source}")
        self.run_name = cfg.name or f"{cfg.model}-{self.data.name}"
        self.val_y = to_unit(self.data.val_x)
        self.val_in = self.noise(self.val_y, torch.Generator().manual_seed(cfg.seed + 1))

    def build_model(self) -> nn.Module:
        torch.manual_seed(self.cfg.seed)
        shape = self.data.input_shape
        model = build_for_input(TASK, self.cfg.model, shape, shape[0], self.kwargs)
        self.is_vae = hasattr(model, "sample")
        return model

    def meta(self, model: nn.Module) -> runs.ModelMeta:
        c, h, w = self.data.input_shape
        return runs.ModelMeta(model=self.cfg.model, config=self.kwargs, in_channels=c,
                              num_classes=c, input_size=(h, w), classes=[], mean=(0.0,) * c,
                              std=(1.0,) * c, data=self.data.source, task=TASK,
                              extra=dict(self.meta_extra))  # fmt: skip

    def describe(self, model: nn.Module) -> str:
        code = "x".join(map(str, model.latent_shape))
        n, m = len(self.data.train_x), len(self.data.val_x)
        return f"code {code}, {n} train / {m} val images, noise {self.noise}"

    def num_train_batches(self) -> int:
        return num_batches(len(self.data.train_x), self.cfg.batch_size, self.ctx)

    def train_batches(self, epoch: int) -> Iterator[tuple[torch.Tensor, torch.Tensor]]:
        gen = torch.Generator().manual_seed(self.cfg.seed * 1_000_003 + epoch)
        order = torch.randperm(len(self.data.train_x), generator=gen)
        for idx in stride(order, self.cfg.batch_size, self.ctx):
            y = to_unit(self.data.train_x[idx])
            yield self.noise(y, gen), y

    def val_batches(self) -> Iterator[tuple[torch.Tensor, torch.Tensor]]:
        order = torch.arange(len(self.val_y))
        for idx in stride(order, VAL_CHUNK, self.ctx, drop_last=False):
            yield self.val_in[idx], self.val_y[idx]

    def step(self, model: nn.Module, batch: Any, stage: str):
        x, y = batch
        out = model(x).float()
        n = len(y)
        if self.is_vae:
            kl = model.kl.float()
            loss = vae_loss(out, y, kl, self.cfg.beta)
        else:
            loss = recon_loss(out, y)
        stats: dict[str, Any] = {"n": n, "loss": loss.detach() * n}
        if stage == "train":
            if self.is_vae:
                stats["mse"] = F.mse_loss(out.detach(), y) * n
                stats["kl"] = kl.detach() * n
            return loss, stats
        out = out.clamp(0, 1)
        stats["mse"] = F.mse_loss(out, y) * n
        stats["psnr"] = torch.tensor(psnr(out, y) * n)
        return loss, stats

    @staticmethod
    def summary(result: Any) -> list[Any]:
        from cnnlab.tasks.autoencode.figures import metrics_table

        r = result.extra.get("results")
        if not r:
            return []
        t = metrics_table(r)
        return [
            (f"test metrics ({t.caption})", t.headers, t.rows),
            f"code {r['latent_size']} values, compression {r['compression_ratio']:g} : 1, "
            f"{result.train_time_s:.1f} s training;  report: {result.folder / 'report.html'}",
        ]

    @classmethod
    def predict(cls, run: Path, files: list[str], out: str | None = None,
                noise: str | None = None, invert: str = "false",
                **options: Any) -> list[str]:  # fmt: skip
        """One reconstruction picture per input, with its MSE and PSNR."""
        from cnnlab.tasks.autoencode.predict import predict_lines

        return predict_lines(run, files, out, noise, invert)

    @staticmethod
    def report(folder: Path) -> Path:
        from cnnlab.tasks.autoencode.figures import ae_report

        return ae_report(folder)

    def finish(self, folder: Path, model: nn.Module, result: Any) -> dict[str, Any]:
        r = result
        results = write_ae_results(folder, model, self.data, self.cfg, self.test_noise,
                                   r.history, r.best_epoch, r.train_time_s)  # fmt: skip
        r.extra["results"] = results
        return results["test"]
