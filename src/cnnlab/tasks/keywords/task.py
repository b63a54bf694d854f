"""Keyword spotting as an engine task: one-second clips, noise mixed in at a random SNR each
time a batch is drawn (white, pink or babble of other voices' words), log-mel features (or
MFCCs) normalised by the training set's mean and standard deviation, SpecAugment, and
cross-entropy over the 12 classes. At the end: both test sets (held-out espeak-ng voices and
flite), clean and at fixed SNRs, in results.json and report.html."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import torch
from torch import nn

from cnnlab.data import audio
from cnnlab.data.audio import NOISES, FeatureConfig, LogMel, mix_noise, spec_augment
from cnnlab.data.keywords import SILENCE, KeywordData, load_keywords
from cnnlab.engine import runs
from cnnlab.engine.task import Context, Task, label_step, num_batches, stride
from cnnlab.models import create_task_model, task_models
from cnnlab.tasks.keywords.config import TASK, KeywordsConfig

EVAL_BATCH = 256


class KeywordsTask(Task):
    """One word per clip. `data` is a KeywordData in memory, or None to read cfg.data."""

    name = TASK
    command = "keywords"
    help = "spot spoken keywords with a CNN on log-mel spectrograms; writes runs/<name>/"
    config_cls = KeywordsConfig
    data_type = KeywordData

    def __init__(self, cfg: KeywordsConfig, data: KeywordData | None = None) -> None:
        self.cfg, self.data = cfg, data
        task_models(TASK).get(cfg.model)  # an unknown model fails before the data is read

    def setup(self, ctx: Context) -> None:
        super().setup(ctx)
        cfg = self.cfg
        if self.data is None:
            self.data = load_keywords(cfg.data, cfg.train_limit, cfg.seed)
            ctx.log(f"data: {self.data.source}")
        d = self.data
        self.features = LogMel(FeatureConfig(mfcc=cfg.mfcc))
        self.x = {s: torch.from_numpy(v) for s, v in d.x.items()}
        self.y = {s: torch.from_numpy(v) for s, v in d.y.items()}
        silence = d.classes.index(SILENCE) if SILENCE in d.classes else -1
        words = self.y["train"] != silence
        self.speech = self.x["train"][words]  # babble is made of training voices only
        g = torch.Generator().manual_seed(cfg.seed)
        sample = self.x["train"][torch.randperm(len(self.y["train"]), generator=g)[:512]]
        f = self.raw_features(self.noisy(sample, g))
        self.mean, self.std = float(f.mean()), float(f.std())
        self.val_x = self.test_features("val", seed=cfg.seed + 1)
        self.run_name = cfg.name or f"{cfg.model}-{d.name}"

    def noisy(self, clips: torch.Tensor, g: torch.Generator, snr: float | None = None,
              clean: float = 0.0, augment: bool = False) -> torch.Tensor:  # fmt: skip
        """int16 clips -> float clips with noise: SNR drawn from cfg.snr (or `snr`), a random
        kind; a share `clean` left as it is. `augment`: time shift and low-pass first."""
        x = clips.float() / 32768
        if augment:
            x = audio.lowpass(audio.shift(x, self.cfg.shift, g), self.cfg.lowpass, generator=g)
        b = len(x)
        lo, hi = self.cfg.snr
        db = torch.full((b,), snr) if snr is not None else lo + (hi - lo) * torch.rand(
            b, generator=g)  # fmt: skip
        kinds = torch.randint(0, len(NOISES), (b,), generator=g)
        mixed = mix_noise(x, db, kinds, self.speech, g)
        keep = torch.rand(b, generator=g) < clean
        return torch.where(keep[:, None], x, mixed)

    def raw_features(self, wave: torch.Tensor) -> torch.Tensor:
        with torch.no_grad():
            return self.features(wave)

    def normalized(self, wave: torch.Tensor) -> torch.Tensor:
        return (self.raw_features(wave) - self.mean) / self.std

    def test_features(self, split: str, seed: int, snr: float | None = None) -> torch.Tensor:
        """A split's clips with seeded noise (random SNR in cfg.snr, or `snr`; inf: clean)."""
        g = torch.Generator().manual_seed(seed)
        out = []
        for i in range(0, len(self.y[split]), EVAL_BATCH):
            clips = self.x[split][i : i + EVAL_BATCH]
            wave = clips.float() / 32768 if snr == float("inf") else self.noisy(clips, g, snr)
            out.append(self.normalized(wave))
        return torch.cat(out)

    @property
    def input_size(self) -> tuple[int, int]:
        return tuple(self.val_x.shape[2:])  # type: ignore[return-value]

    def build_model(self) -> nn.Module:
        torch.manual_seed(self.cfg.seed)
        return create_task_model(TASK, self.cfg.model, 1, self.data.num_classes,
                                 self.input_size, **self.cfg.model_args)  # fmt: skip

    def meta(self, model: nn.Module) -> runs.ModelMeta:
        cfg, d = self.cfg, self.data
        return runs.ModelMeta(model=cfg.model, config=dict(cfg.model_args), in_channels=1,
                              num_classes=d.num_classes, input_size=self.input_size,
                              classes=list(d.classes), mean=(self.mean,), std=(self.std,),
                              data=d.source, task=TASK, extra={"mfcc": cfg.mfcc})  # fmt: skip

    def describe(self, model: nn.Module) -> str:
        bands, frames = self.input_size
        kind = f"{bands} MFCCs" if self.cfg.mfcc else f"{bands} mel bands"
        return (f"{kind} x {frames} frames, {len(self.y['train'])} train / "
                f"{len(self.y['val'])} val clips")  # fmt: skip

    def num_train_batches(self) -> int:
        return num_batches(len(self.y["train"]), self.cfg.batch_size, self.ctx)

    def train_batches(self, epoch: int) -> Iterator[tuple[torch.Tensor, torch.Tensor]]:
        cfg = self.cfg
        g = torch.Generator().manual_seed(cfg.seed * 1_000_003 + epoch)
        order = torch.randperm(len(self.y["train"]), generator=g)
        for idx in stride(order, cfg.batch_size, self.ctx):
            f = self.normalized(self.noisy(self.x["train"][idx], g, clean=cfg.clean, augment=True))
            f = audio.warp_mels(f, cfg.warp, generator=g)
            if cfg.spec_augment:
                f = spec_augment(f, generator=g)
            yield f, self.y["train"][idx]

    def val_batches(self) -> Iterator[tuple[torch.Tensor, torch.Tensor]]:
        n = len(self.y["val"])
        for idx in stride(torch.arange(n), EVAL_BATCH, self.ctx, drop_last=False):
            yield self.val_x[idx], self.y["val"][idx]

    def step(self, model: nn.Module, batch: Any, stage: str):
        return label_step(model, batch, stage, self.cfg.label_smoothing)

    def epoch_line(self, row: dict[str, float], epochs: int) -> str:
        return super().epoch_line(row, epochs).replace("img/s", "clips/s")

    @staticmethod
    def summary(result: Any) -> list[Any]:
        from cnnlab.tasks.keywords.results import summary_lines

        return summary_lines(result)

    @classmethod
    def predict(cls, run: Path, files: list[str], topk: int = 3, **options: Any) -> list[str]:
        from cnnlab.tasks.keywords.saved import predict_lines

        return predict_lines(run, files, topk)

    @staticmethod
    def report(folder: Path) -> Path:
        from cnnlab.tasks.keywords.results import keywords_report

        return keywords_report(folder)

    def finish(self, folder: Path, model: nn.Module, result: Any) -> dict[str, float]:
        from cnnlab.tasks.keywords.results import write_keyword_results

        results = write_keyword_results(folder, model, self, result)
        result.extra["results"] = results
        return {k: v for k, v in results["test"].items() if isinstance(v, float)}
