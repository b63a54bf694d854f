"""cnnlab autoencode / sample: train an autoencoder into a run folder; draw from a VAE run."""

from __future__ import annotations

from typing import Any

from cnnlab.cli.common import config_from, console, given, parser_for, table
from cnnlab.core.errors import ConfigError
from cnnlab.tasks.autoencode.run import AutoencodeConfig, autoencode
from cnnlab.tasks.autoencode.sample import sample_run

RESUMABLE = ("epochs", "progress", "patience", "max_time")


def register(sub: Any) -> dict:
    p = parser_for(
        AutoencodeConfig,
        "train an autoencoder (denoising with --noise); writes runs/<name>/ with PSNR, SSIM, "
        "reconstruction figures and report.html",
    )
    p.add_argument(
        "--resume",
        type=str | None,
        default=None,
        help="continue the run folder RUN (its config; --epochs may extend it)",
    )
    p.add_argument(
        "--stop_after",
        type=int | None,
        default=None,
        help="pause after this many epochs of this call; --resume continues",
    )
    sub.add_subcommand("autoencode", p, help="train an autoencoder, a denoiser or a VAE")
    s = parser_for(help="new images from a vae-conv run, and a latent interpolation")
    s.add_argument("run", type=str, help="a run folder of cnnlab autoencode")
    s.add_argument("--n", type=int, default=64, help="how many new images (VAE only)")
    s.add_argument("--seed", type=int, default=0, help="seeds the codes drawn from N(0, I)")
    s.add_argument(
        "--out",
        type=str | None,
        default=None,
        help="PNG file for the samples (default RUN/figures/samples.png); the "
        "interpolation goes next to it as FILE-interpolation.png",
    )
    s.add_argument(
        "--interpolate",
        type=str | None,
        default=None,
        help="I,J: interpolate the codes of test images I and J (default 0,1 for "
        "a VAE; works for any autoencoder)",
    )
    s.add_argument("--steps", type=int, default=8, help="images in the interpolation")
    sub.add_subcommand("sample", s, help="draw new images from a VAE run; interpolate codes")
    return {"autoencode": run, "sample": sample}


def run(ns: Any) -> int:
    if ns.resume:
        # the saved config rules; only options typed now override it
        overrides = {k: v for k, v in ns.as_dict().items() if k in RESUMABLE and given(k)}
        result = autoencode(
            resume=ns.resume, stop_after=ns.stop_after, console=console, **overrides
        )
    else:
        cfg = config_from(ns, AutoencodeConfig)
        result = autoencode(cfg, stop_after=ns.stop_after, console=console)
    if not result.test:  # paused; autoencode said how to continue
        return 0
    from cnnlab.viz.autoencoders import metrics_table

    t = metrics_table(result.results)
    console.print(table(t.headers, t.rows, title=f"test metrics ({t.caption})"))
    r = result.results
    console.print(
        f"code {r['latent_size']} values, compression {r['compression_ratio']:g} : 1, "
        f"{result.train_time_s:.1f} s training;  report: {result.run_dir / 'report.html'}",
        highlight=False,
    )
    return 0


def _pair(text: str | None) -> tuple[int, int] | None:
    if text is None:
        return None
    parts = text.replace(" ", "").split(",")
    try:
        i, j = (int(p) for p in parts)
    except ValueError:
        raise ConfigError(
            f"--interpolate {text!r}: give two test image indices, e.g. 0,1"
        ) from None
    return i, j


def sample(ns: Any) -> int:
    written, notes = sample_run(
        ns.run, n=ns.n, seed=ns.seed, out=ns.out, pair=_pair(ns.interpolate), steps=ns.steps
    )
    for note in notes:
        console.print(note, highlight=False)
    for kind, path in written.items():
        console.print(f"{kind}: {path}", highlight=False)
    return 0
