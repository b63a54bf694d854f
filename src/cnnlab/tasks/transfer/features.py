"""Frozen features, computed once: `head` and `early` train only a Linear layer on what a
frozen backbone (or its first blocks) makes of each image, so running the backbone again every
epoch is wasted work. `frozen_features` runs it once per image set and keeps the result in
$CNNLAB_CACHE/features/, keyed by the frozen module's weights and structure, the input it is
fed (size, channels, mean/std) and the images' bytes: the next epoch, seed, strategy run or
command with the same backbone, size and data reads the file instead.
"""

from __future__ import annotations

import hashlib
import io
import time
from pathlib import Path

import torch
from torch import nn

from cnnlab.core.io import atomic_write, cache_dir
from cnnlab.models.base import Classifier
from cnnlab.models.transferred import adapt

FORMAT = 2  # bump when what is stored changes
BATCH = 64  # images per forward pass: enough for the kernels, small at 224 px


def feature_key(
    features: nn.Module,
    input_shape: tuple[int, int, int],
    mean: tuple[float, ...],
    std: tuple[float, ...],
    x: torch.Tensor,
) -> str:
    """A digest of everything the features depend on: the module's structure (its repr holds
    the layers and a Cut's pooling), every weight and buffer, the backbone's input, and the
    images (N, C, H, W) uint8."""
    h = hashlib.sha256(f"{FORMAT}|{input_shape}|{mean}|{std}|{x.shape}|{x.dtype}".encode())
    h.update(repr(features).encode())
    for name, t in features.state_dict().items():
        h.update(name.encode())
        h.update(t.detach().cpu().contiguous().reshape(-1).view(torch.uint8).numpy().tobytes())
    h.update(x.contiguous().view(torch.uint8).numpy().tobytes())
    return h.hexdigest()[:32]


@torch.no_grad()
def frozen_features(
    features: nn.Module,
    input_shape: tuple[int, int, int],
    mean: tuple[float, ...],
    std: tuple[float, ...],
    x: torch.Tensor,
    cache: bool = True,
    log=None,  # noqa: ANN001 (a callable taking one line, or None)
) -> torch.Tensor:
    """What the frozen `features` module (in eval mode) makes of images `x`, adapted to the
    backbone's input first; read from the cache when it was computed before.
    Shapes: x (N, C, H, W) uint8 -> (N, F) float32."""
    key = feature_key(features, input_shape, mean, std, x) if cache else ""
    path = cache_dir() / "features" / f"{key}.pt"
    if cache and path.is_file():
        try:
            feats = torch.load(path, map_location="cpu", weights_only=True)
            if isinstance(feats, torch.Tensor) and feats.ndim == 2 and len(feats) == len(x):
                return feats
        except Exception:  # noqa: BLE001 (a damaged file is computed again and replaced)
            pass
    was_training = features.training
    features.eval()
    t0 = time.perf_counter()
    # a whole backbone gives its end features (not its logits); a Cut its pooled map
    run = features.forward_features if isinstance(features, Classifier) else features
    out = [run(adapt(x[i : i + BATCH], input_shape, mean, std)).float()
           for i in range(0, len(x), BATCH)]  # fmt: skip
    features.train(was_training)
    feats = torch.cat(out) if out else torch.zeros(0, 0)
    seconds = time.perf_counter() - t0
    if log is not None and len(x):
        side = f"{input_shape[1]}x{input_shape[2]}"
        log(f"features of {len(x)} images at {side}: {seconds:.1f} s "
            f"({len(x) / max(seconds, 1e-9):.0f} images/s), kept for the next run")  # fmt: skip
    if cache:
        buf = io.BytesIO()
        torch.save(feats.clone(), buf)
        atomic_write(Path(path), buf.getvalue())
    return feats
