"""cnnlab sample: draw new images from a VAE run, interpolate between codes (cnnlab autoencode
itself is generated from TASKS, cli/tasks.py)."""

from __future__ import annotations

from typing import Any

from cnnlab.cli.common import console, parser_for
from cnnlab.core.errors import ConfigError
from cnnlab.tasks.autoencode.sample import sample_run

RESUMABLE = ("epochs", "progress", "patience", "max_time")


def register(sub: Any) -> dict:
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
    return {"sample": sample}


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
