"""Prediction on image files and arrays, with the preprocessing the model was trained with."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch

from cnnlab.core.io import find_run
from cnnlab.data.loader import normalize
from cnnlab.engine.runs import ModelMeta, load_model
from cnnlab.models import Classifier
from cnnlab.tasks.classify.inputs import Prediction, prepare


def predict(
    run: str | Path | tuple[Classifier, ModelMeta],
    inputs: list[str | Path] | np.ndarray | torch.Tensor,
    topk: int = 3,
    invert: str = "false",
) -> list[Prediction]:
    """Top-k classes with probabilities for image files, .npy files or a uint8 array.

    `run` is a run folder (or `last`, `last:PREFIX`) or a loaded (model, meta) pair. Each
    Prediction has notes where the input is far from the training data (background, size);
    `invert` "true" inverts every input, "auto" those whose background is the opposite of the
    training images' (a dark shoe photographed on white paper, for a Fashion-MNIST model).
    Shapes: an array input is (N, C, H, W) or (C, H, W) uint8.
    """
    model, meta = load_model(find_run(run)) if isinstance(run, (str, Path)) else run
    if isinstance(inputs, torch.Tensor):
        inputs = inputs.numpy()
    names, batch, notes = prepare(inputs, meta, invert)
    x = torch.from_numpy(batch)  # (N, C, H, W) uint8
    with torch.inference_mode():
        probs = model.eval()(normalize(x, meta.mean, meta.std)).softmax(1)
    k = min(topk, probs.shape[1])
    values, idx = probs.topk(k, dim=1)
    return [
        Prediction(n, [(meta.classes[int(j)], float(v)) for v, j in zip(vs, js, strict=True)], ns)
        for n, vs, js, ns in zip(names, values, idx, notes, strict=True)
    ]
