"""Autoencoder denoising study: one denoising autoencoder per noise kind (trained on a mix
of its levels) against Gaussian blur and the median filter, whose settings are chosen on
validation images, never on the test images; PSNR/SSIM per kind x level x method."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import torch
from torch import nn

from cnnlab.data import ImageData
from cnnlab.data.noise import Noise
from cnnlab.studies.ae_baselines import gaussian_blur, median_filter
from cnnlab.studies.ae_configs import DenoisingStudyConfig, parse_numbers
from cnnlab.studies.autoencoder import (
    QUIET,
    STRIP,
    quality,
    study_data,
    trim,
    uint8_list,
)
from cnnlab.tasks.autoencode.metrics import psnr, to_unit

# ---- denoising -----------------------------------------------------------------------------


@dataclass(frozen=True)
class MixedNoise:
    """Noise of one kind at a level drawn per image from `levels`: one denoiser for all."""

    kind: str
    levels: tuple[float, ...]

    def __call__(self, x: torch.Tensor, generator: torch.Generator | None = None) -> torch.Tensor:
        """Shapes: (B, C, H, W) in [0, 1] -> same."""
        pick = torch.randint(len(self.levels), (len(x),), generator=generator)
        out = x.clone()
        for i, level in enumerate(self.levels):
            m = pick == i
            if m.any():
                out[m] = Noise(self.kind, level)(x[m], generator)
        return out

    def __str__(self) -> str:
        return f"{self.kind}:{'/'.join(f'{v:g}' for v in self.levels)} (mixed)"


@dataclass
class DenoisingRow:
    kind: str
    level: float
    method: str  # noisy input, gaussian blur, median, autoencoder
    setting: str  # the chosen filter setting ("sigma 1", "k 3") or ""
    psnr: float
    ssim: float


@dataclass
class DenoisingStudyResult:
    config: dict[str, Any]
    data_source: str
    test_images: int
    val_images: int
    rows: list[DenoisingRow] = field(default_factory=list)
    runs: dict[str, str] = field(default_factory=dict)  # kind -> run folder
    seconds: dict[str, float] = field(default_factory=dict)  # kind -> training seconds
    strips: dict[str, dict[str, Any]] = field(default_factory=dict)  # kind -> label -> images

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> DenoisingStudyResult:
        rows = [DenoisingRow(**r) for r in d["rows"]]
        keys = ("config", "data_source", "test_images", "val_images")
        return cls(*(d[k] for k in keys), rows, d["runs"], d["seconds"], d["strips"])


def choose_filters(
    clean: torch.Tensor,
    noisy: torch.Tensor,
    sigmas: tuple[float, ...],
    sizes: tuple[int, ...],
) -> tuple[float, int]:
    """The blur sigma and the median size with the best PSNR on these (validation) images.
    Shapes: clean, noisy (N, C, H, W) in [0, 1] -> (sigma, k)."""
    sigma = max(sigmas, key=lambda s: psnr(gaussian_blur(noisy, s), clean))
    k = max(sizes, key=lambda k: psnr(median_filter(noisy, k), clean))
    return sigma, k


def _train_denoiser(
    cfg: DenoisingStudyConfig, data: ImageData, noise: MixedNoise
) -> tuple[nn.Module, str, float]:
    """A denoising autoencoder trained on `noise` (levels mixed per image) on the task loop
    that `cnnlab autoencode` uses; its run folder is measured at the highest level."""
    from cnnlab.engine.config import LoopConfig
    from cnnlab.engine.loop import fit
    from cnnlab.tasks.autoencode.config import AutoencodeConfig
    from cnnlab.tasks.autoencode.task import AutoencodeTask

    top = f"{noise.kind}:{max(noise.levels):g}"  # config.yaml holds one spec: the hardest level
    ae = AutoencodeConfig(
        data=data.origin or data.name, model=cfg.model, latent=cfg.latent, noise=top,
        epochs=cfg.epochs, batch_size=cfg.batch_size, seed=cfg.seed, progress=False,
        runs_dir=str(Path(cfg.out) / "runs"), name=f"dae-{noise.kind}",
    )  # fmt: skip
    top_noise = Noise(noise.kind, max(noise.levels))
    task = AutoencodeTask(ae, data, train_noise=noise, test_noise=top_noise,
                          meta_extra={"noise": str(noise)})  # fmt: skip
    res = fit(task, LoopConfig.from_config(ae), runs_dir=ae.runs_dir, console=QUIET)
    best, folder = res.model, res.folder
    return best.eval(), str(folder), res.train_time_s


def run_denoising(
    cfg: DenoisingStudyConfig,
    data: ImageData | None = None,
    log: Callable[[str], None] = lambda s: None,
) -> DenoisingStudyResult:
    """One denoising autoencoder per noise kind (trained on a mix of its levels) against
    Gaussian blur and the median filter, whose settings are chosen on validation images.
    Shapes: data images (N, C, H, W) uint8."""
    data = (
        trim(data, cfg.test_images, cfg.val_images)
        if data is not None
        else study_data(cfg, cfg.val_images)
    )
    log(f"data: {data.source}")
    clean, val = to_unit(data.test_x), to_unit(data.val_x)
    result = DenoisingStudyResult(asdict(cfg), data.source, len(clean), len(val))
    sigmas = parse_numbers(cfg.blur_sigmas, "blur_sigmas")
    sizes = parse_numbers(cfg.median_sizes, "median_sizes", int)
    for ki, (kind, levels) in enumerate(cfg.kinds.items()):
        model, run_dir, seconds = _train_denoiser(cfg, data, MixedNoise(kind, levels))
        result.runs[kind], result.seconds[kind] = run_dir, seconds
        for li, level in enumerate(levels):
            noise = Noise(kind, level)
            # fixed generators: every method sees the same noisy images
            gen_val = torch.Generator().manual_seed(cfg.seed * 1000 + 100 + 10 * ki + li)
            gen_test = torch.Generator().manual_seed(cfg.seed * 1000 + 500 + 10 * ki + li)
            noisy_val, noisy = noise(val, gen_val), noise(clean, gen_test)
            sigma, k = choose_filters(val, noisy_val, sigmas, sizes)
            with torch.no_grad():
                ae_out = torch.cat([model(noisy[i : i + 500]) for i in range(0, len(noisy), 500)])
            outs = {
                ("noisy input", ""): noisy,
                ("gaussian blur", f"sigma {sigma:g}"): gaussian_blur(noisy, sigma),
                ("median", f"k {k}"): median_filter(noisy, k),
                ("autoencoder", ""): ae_out.clamp(0, 1),
            }
            for (method, setting), out in outs.items():
                p, s = quality(out, clean)
                result.rows.append(DenoisingRow(kind, level, method, setting, p, s))
            log(
                f"{kind:11s} {level:<5g} "
                + "  ".join(f"{m} {quality(o, clean)[0]:.2f}" for (m, _), o in outs.items())
            )
            if li == len(levels) // 2:  # the middle level shows in the example strip
                n = min(STRIP, len(clean))
                result.strips[kind] = {"clean": uint8_list(data.test_x[:n])} | {
                    f"{m} {st}".strip() + (f" ({kind} {level:g})" if m == "noisy input" else ""):
                    uint8_list(o[:n])
                    for (m, st), o in outs.items()
                }  # fmt: skip
    return result


__all__ = [
    "DenoisingRow",
    "DenoisingStudyConfig",
    "DenoisingStudyResult",
    "MixedNoise",
    "choose_filters",
    "run_denoising",
]
