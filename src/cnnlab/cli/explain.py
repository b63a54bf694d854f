"""cnnlab explain conv / pool: an animated GIF and a PNG sheet of how each output cell is made."""

from __future__ import annotations

import re
import time
from pathlib import Path
from typing import Any

from jsonargparse import ArgumentParser

from cnnlab.cli.common import console, parser_for
from cnnlab.core.errors import ConfigError

# the Python API's argument names as the options a CLI user typed
FLAGS = {"input_size": "--input", "kernel": "--kernel", "stride": "--stride",
         "padding": "--padding", "dilation": "--dilation", "channels": "--channels",
         "kind": "--kind", "fps": "--fps"}  # fmt: skip


def register(sub: Any) -> dict:
    explain = ArgumentParser(
        description="animate how convolution and pooling compute each output cell",
        exit_on_error=False,
    )
    sub.add_subcommand("explain", explain, help="animate convolution or pooling (GIF + sheet)")
    esub = explain.add_subcommands(dest="what", required=True)
    conv = parser_for(help="a kernel sliding over the padded input, with every cell's sum")
    conv.add_argument("--input", type=int, default=7, help="input height = width (1..32)")
    conv.add_argument("--kernel", type=int, default=3, help="kernel height = width")
    conv.add_argument("--stride", type=int, default=1, help="how far the kernel moves each step")
    conv.add_argument("--padding", type=int, default=0, help="zero padding on each side")
    conv.add_argument("--channels", type=int, default=1, help="input planes (3 = R, G, B)")
    conv.add_argument("--dilation", type=int, default=1, help="spacing of the kernel taps")
    _common(conv, "conv")
    esub.add_subcommand("conv", conv, help="animate a convolution")
    pool = parser_for(help="a pooling window sliding over the input, with every cell's value")
    pool.add_argument("--kind", type=str, default="max", help="max or avg")
    pool.add_argument("--input", type=int, default=6, help="input height = width (1..32)")
    pool.add_argument("--kernel", type=int, default=2, help="window height = width")
    pool.add_argument("--stride", type=int | None, default=None, help="default: the kernel")
    pool.add_argument("--padding", type=int, default=0, help="at most kernel // 2, as in torch")
    _common(pool, "pool")
    esub.add_subcommand("pool", pool, help="animate max or average pooling")
    return {"explain": run_explain}


def _common(p: ArgumentParser, name: str) -> None:
    p.add_argument("--seed", type=int, default=0, help="seed of the small random integers")
    p.add_argument("--out", type=str, default="runs/explain", help="folder for the GIF and sheet")
    p.add_argument("--name", type=str, default=name, help="file names: NAME.gif, NAME-frames.png")
    p.add_argument("--fps", type=float, default=2.0, help="frames per second of the GIF")


def _as_flags(message: str) -> str:
    """'input_size must be ...' -> '--input must be ...': name what the user typed."""
    return re.sub(r"^(\w+)|\binput_size\b", lambda m: FLAGS.get(m.group(0), m.group(0)), message)


def run_explain(ns: Any) -> int:
    from cnnlab.viz.animate import (
        explain_conv,
        explain_pool,
        render_frames,
        render_gif,
        render_sheet,
    )

    a = ns[ns.what]
    if not a.fps > 0:
        raise ConfigError(f"--fps must be > 0, got {a.fps}")
    if not a.name or Path(a.name).name != a.name:
        raise ConfigError(f"--name must be a plain file name without folders, got {a.name!r}")
    out = Path(a.out)
    if out.exists() and not out.is_dir():
        raise ConfigError(f"--out {out} is a file; give a folder for the GIF and the sheet")
    try:
        if ns.what == "conv":
            expl = explain_conv(a.input, a.kernel, a.stride, a.padding, a.channels, a.dilation,
                                a.seed)  # fmt: skip
        else:
            expl = explain_pool(a.input, a.kernel, a.kind, a.stride, a.padding, a.seed)
    except ValueError as exc:
        raise ConfigError(_as_flags(str(exc))) from None
    t0 = time.perf_counter()
    console.print(expl.title, highlight=False)
    console.print(expl.formula, highlight=False)
    frames = render_frames(expl)
    gif = render_gif(expl, out / f"{a.name}.gif", a.fps, frames=frames)
    sheet = render_sheet(expl, out / f"{a.name}-frames.png", frames=frames)
    kb = gif.stat().st_size / 1024
    console.print(f"animation: {gif.resolve()}  ({len(frames)} frames, {kb:.0f} KB)",
                  highlight=False)  # fmt: skip
    console.print(f"frames sheet: {sheet.resolve()}  ({time.perf_counter() - t0:.1f} s)",
                  highlight=False)  # fmt: skip
    return 0
