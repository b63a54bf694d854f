"""cnnlab export: a run folder's model as an ONNX file, checked with onnxruntime."""

from __future__ import annotations

from typing import Any, Literal

from cnnlab.cli.common import console, parser_for
from cnnlab.core.io import check_run_folder, find_run


def register(sub: Any) -> dict:
    p = parser_for(
        help="export a run's model (classify, segment, autoencode) as ONNX, with its "
        "preprocessing and class names in the metadata, checked with onnxruntime"
    )
    p.add_argument("run", type=str, help="run folder (or last, last:PREFIX: the newest run)")
    p.add_argument("--format", type=Literal["onnx"], default="onnx", help="file format")
    p.add_argument("--out", type=str | None, default=None,
                   help="the file to write (default RUN/model.onnx)")  # fmt: skip
    p.add_argument("--check_images", type=int, default=256,
                   help="test images run through onnxruntime and PyTorch to compare")  # fmt: skip
    sub.add_subcommand("export", p, help="export a run as ONNX, checked with onnxruntime")
    return {"export": export}


def export(ns: Any) -> int:
    run = check_run_folder(find_run(ns.run))  # before torch is imported
    from cnnlab.export.onnx_export import export_onnx

    result = export_onnx(run, ns.out, ns.format, ns.check_images)
    for line in result.lines():
        console.print(line, highlight=False)
    if result.task == "classify":
        console.print(f"predict with: cnnlab predict {result.path} IMAGE.png", highlight=False)
    return 0
