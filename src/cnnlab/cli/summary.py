"""cnnlab summary: the layer arithmetic of a model as a table (see cnnlab.mechanics.arithmetic)."""

from __future__ import annotations

import math
import re
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.measure import Measurement

from cnnlab.cli.common import console, given, parser_for, table
from cnnlab.core.errors import ConfigError

HEADERS = ["layer", "type", "output", "params", "MACs", "RF", "jump", "start", "dense equiv."]
RUN_OPTIONS = ("input", "num_classes", "model_args")


def register(sub: Any) -> dict:
    p = parser_for(
        help="per-layer output shape, parameters, multiply-accumulates (MACs) and receptive "
        "field of a model, and what a dense layer would cost instead of each conv layer"
    )
    p.add_argument("model", type=str, help="a registered model (see cnnlab models) or a run folder")
    p.add_argument("--input", type=str, default="1x28x28", help="input size CxHxW, e.g. 3x32x32")
    p.add_argument("--num_classes", type=int, default=10, help="outputs of the model's head")
    p.add_argument(
        "--model_args",
        type=dict[str, Any],
        default={},
        help='options of the model\'s config as JSON, e.g. {"widths": [32, 64]}',
    )
    sub.add_subcommand("summary", p, help="layer table: shapes, parameters, MACs, receptive field")
    return {"summary": summary}


def parse_input(text: str) -> tuple[int, int, int]:
    """'1x28x28' -> (1, 28, 28); anything else is a one-line error saying the format."""
    if not re.fullmatch(r"\s*\d+\s*x\s*\d+\s*x\s*\d+\s*", text, flags=re.IGNORECASE):
        raise ConfigError(
            f"--input must be CxHxW with three positive whole numbers, e.g. 1x28x28 (grey) or "
            f"3x32x32 (colour); got {text!r}"
        )
    c, h, w = (int(v) for v in text.lower().split("x"))
    if min(c, h, w) < 1:
        raise ConfigError(f"--input sizes must be >= 1, got {text!r}")
    return c, h, w


def summary(ns: Any) -> int:
    from cnnlab.mechanics.arithmetic import summarize
    from cnnlab.models import MODELS, create_model

    if ns.model not in MODELS and (Path(ns.model).exists() or "/" in ns.model):
        from cnnlab.engine.runs import read_meta

        typed = [f"--{o}" for o in RUN_OPTIONS if given(o)]
        if typed:
            raise ConfigError(
                f"{' and '.join(typed)} cannot change a run folder's model; its architecture "
                "and input size come from the run's model.json"
            )
        meta = read_meta(Path(ns.model))
        model, shape = meta.build(), (meta.in_channels, *meta.input_size)
        label = f"run {ns.model} ({meta.model})"
    else:
        shape = parse_input(ns.input)
        model = create_model(ns.model, shape[0], ns.num_classes, shape[1:], **ns.model_args)
        label = ns.model
    result = summarize(model, shape)
    rows = [
        [
            r.name,
            r.type,
            _shape(r.output_shape),
            f"{r.params:,}",
            f"{r.macs:,}",
            "all" if r.rf_whole else _axes(r.rf_size),
            _axes(r.rf_jump) if not r.rf_whole else "-",
            _axes(r.rf_start) if not r.rf_whole else "-",
            f"{r.dense_equivalent:,}" if r.dense_equivalent is not None else "",
        ]
        for r in result.rows
    ]
    t = table(HEADERS, rows, f"{label} on a {_shape(shape)} input")
    t.columns[1].justify = "left"  # layer types read as words, not numbers
    if console.is_terminal:
        console.print(t)  # fitted to the terminal's width
    else:  # a pipe or a file gets the whole table, never cells cut to "…"
        width = max(
            console.width, Measurement.get(console, console.options.update(width=1000), t).maximum
        )
        Console(file=console.file, width=width, soft_wrap=True, quiet=console.quiet).print(t)
    console.print(
        f"total: {result.total_params:,} parameters, {result.total_macs:,} multiply-accumulates "
        "per image. RF: receptive field of one unit in input pixels (size, jump between "
        "neighbouring units, centre of the first unit; 'all' = the whole input); dense equiv.: "
        "weights of a fully connected layer with the same input and output sizes.",
        highlight=False,
    )
    console.print(_connectivity_line(result), highlight=False)
    return 0


def _connectivity_line(result: Any) -> str:
    conv = result.first_conv
    if conv is None:
        return "no conv layer: every unit of the first dense layer sees (and weighs) every pixel."
    dense_biases = math.prod(conv.output_shape)  # one per output unit
    dense = conv.dense_equivalent + dense_biases
    return (
        f"local vs full connectivity, first conv layer {conv.name} ({_shape(conv.input_shape)} "
        f"-> {_shape(conv.output_shape)}): {conv.params:,} parameters; a fully connected layer "
        f"with the same input and output sizes needs {conv.dense_equivalent:,} weights + "
        f"{dense_biases:,} biases = {dense:,} ({dense / max(conv.params, 1):,.0f}x more)."
    )


def _shape(shape: tuple[int, ...]) -> str:
    return "x".join(str(v) for v in shape)


def _axes(values: tuple[float, ...] | None) -> str:
    """One number when all axes agree (the H value of a square field), else HxW; ? unknown."""
    if values is None:
        return "?"
    text = [f"{v:g}" for v in values]
    return text[0] if len(set(text)) == 1 else "x".join(text)
