"""The one model registry: every model of every task, registered here by name with its config
dataclass and its task (classify, autoencode, segment, transfer, text). No family module registers
itself; this file lists them all, so what exists is read in one place.

Every factory takes (in_channels, out_channels, input_size, cfg): out_channels is the number
of classes (classify, segment, transfer, text) or image channels (autoencode); for text,
in_channels is the vocabulary size and input_size (max_len,).
"""

from __future__ import annotations

import dataclasses
from typing import Any

from torch import nn

from cnnlab.core.errors import ModelError
from cnnlab.core.registry import Registry
from cnnlab.models.audio import (
    KwsCNN,
    KwsCNNConfig,
    KwsDSCNN,
    KwsDSCNNConfig,
    KwsMLP,
    KwsMLPConfig,
    KwsTC,
    KwsTCConfig,
)
from cnnlab.models.autoencoder import (
    Autoencoder,
    ConvAEConfig,
    ConvAutoencoder,
    ConvVAE,
    LinearAEConfig,
    LinearAutoencoder,
    UpsampleAEConfig,
    VAEConfig,
)
from cnnlab.models.base import Classifier
from cnnlab.models.cnn import (
    BNCNN,
    VGG,
    BNCNNConfig,
    PlainCNNConfig,
    SmallCNN,
    SmallCNNConfig,
    VGGConfig,
)
from cnnlab.models.efficientnet_lite import EfficientNetLite, EfficientNetLiteConfig
from cnnlab.models.locate import (
    LocateCNN,
    LocateCNNConfig,
    LocateCoordConv,
    LocateHeatmap,
    LocateHeatmapConfig,
    LocateMLPConfig,
)
from cnnlab.models.mlp import MLP, MLPConfig
from cnnlab.models.qnets import QCNN, QMLP, NatureCNN, NatureCNNConfig, QCNNConfig, QMLPConfig
from cnnlab.models.resnet import ResNet, ResNetConfig
from cnnlab.models.text import (
    BowMLP,
    BowMLPConfig,
    DeepTextCNN,
    DeepTextCNNConfig,
    TextCNN,
    TextCNNConfig,
)
from cnnlab.models.torchvision_zoo import torchvision_classifier
from cnnlab.models.transferred import TransferredConfig, build_transferred
from cnnlab.models.unet import FCN, FCNConfig, UNet, UNetConfig


def _transferred(in_channels: int, num_classes: int, input_size: tuple[int, ...], cfg):
    """A transferred model: its backbone's architecture (a registered model or a torchvision
    one, as model.json describes it) with the strategy's cut and new head."""
    spec = cfg.backbone
    if "torchvision" in spec:
        backbone = torchvision_classifier(spec["torchvision"])
    else:
        r = spec["run"]
        args = (r["model"], r["in_channels"], r["num_classes"], tuple(r["input_size"]))
        backbone = create_task_model(r.get("task", "classify"), *args, **r["config"])
    return build_transferred(in_channels, num_classes, input_size, cfg, backbone=backbone)


ALL_MODELS = Registry("model", ModelError)
for _name, _cfg, _help, _task, _factory in [
    ("mlp", MLPConfig, "multilayer perceptron on the flattened image", "classify", MLP),
    ("cnn-small", SmallCNNConfig, "two conv + pool and a dense layer, as the course",
     "classify", SmallCNN),
    ("cnn-bn", BNCNNConfig, "conv-BatchNorm-ReLU stages, global average pool", "classify",
     BNCNN),
    ("vgg", VGGConfig, 'VGG-style stack from a list like [32, "M", 64, "M"]', "classify", VGG),
    ("cnn-plain", PlainCNNConfig, "deep conv-ReLU stack without BatchNorm (init study)",
     "classify", VGG),
    ("resnet", ResNetConfig, "residual blocks in stages of doubling width", "classify", ResNet),
    ("efficientnet-lite", EfficientNetLiteConfig,
     "EfficientNet-Lite0/1/2 (timm's architecture; ImageNet weights: imagenet:efficientnet-lite0)",
     "classify", EfficientNetLite),
    ("ae-linear", LinearAEConfig,
     "flatten, one hidden (code) layer, sigmoid output, as the course", "autoencode",
     LinearAutoencoder),
    ("ae-conv", ConvAEConfig, "conv + max-pool encoder, transposed-conv decoder (course: 7x7x4)",
     "autoencode", ConvAutoencoder),
    ("ae-conv-upsample", UpsampleAEConfig,
     "conv encoder, upsample + conv decoder (no checkerboard)", "autoencode", ConvAutoencoder),
    ("vae-conv", VAEConfig, "variational autoencoder: conv encoder, Gaussian code, conv decoder",
     "autoencode", ConvVAE),
    ("unet", UNetConfig, "U-Net with skip connections, 2-D or 3-D", "segment", UNet),
    ("fcn", FCNConfig, "the U-Net's encoder-decoder without skip connections", "segment", FCN),
    ("transferred", TransferredConfig, "a backbone with a strategy's new head", "transfer",
     _transferred),
    ("text-cnn", TextCNNConfig,
     "Kim's sentence CNN: parallel 1-D convolutions of several widths, max over time", "text",
     TextCNN),
    ("text-cnn-deep", DeepTextCNNConfig, "stacked 1-D conv-BN-ReLU blocks with max-pooling",
     "text", DeepTextCNN),
    ("bow-mlp", BowMLPConfig, "mean of the token embeddings into an MLP (a bag of words)",
     "text", BowMLP),
    ("kws-cnn", KwsCNNConfig, "2-D conv-BN-ReLU stages over time x mel, global average pool",
     "keywords", KwsCNN),
    ("kws-ds-cnn", KwsDSCNNConfig,
     "depthwise-separable convolutions (Hello Edge's DS-CNN): few parameters and MACs",
     "keywords", KwsDSCNN),
    ("kws-tc", KwsTCConfig, "1-D temporal convolution, the mel bands as channels", "keywords",
     KwsTC),
    ("kws-mlp", KwsMLPConfig, "the flattened spectrogram into an MLP (no convolution)",
     "keywords", KwsMLP),
    ("q-cnn", QCNNConfig, "MinAtar's Q-network: one 3x3 conv (16), 128 hidden, a Q per action",
     "rl", QCNN),
    ("q-mlp", QMLPConfig, "the flattened frame through dense layers (no convolution)", "rl",
     QMLP),
    ("nature-cnn", NatureCNNConfig, "the Nature DQN network for 84x84 Atari frame stacks", "rl",
     NatureCNN),
    ("locate-cnn", LocateCNNConfig, "conv-BN-ReLU stages, flattened into dense layers: x, y, yaw",
     "locate", LocateCNN),
    ("locate-coordconv", LocateCNNConfig,
     "locate-cnn with coordinate channels into every convolution (CoordConv)", "locate",
     LocateCoordConv),
    ("locate-heatmap", LocateHeatmapConfig,
     "a small U-Net drawing a heat map; its soft-argmax is the position", "locate",
     LocateHeatmap),
    ("locate-mlp", LocateMLPConfig, "the flattened pixels into dense layers (no convolution)",
     "locate", MLP),
]:  # fmt: skip
    ALL_MODELS.register(_name, _cfg, _help, _task)(_factory)

# one view per task, made once: the names a task's --model accepts
KINDS = {"classify": "model", "autoencode": "autoencoder model", "segment": "segmentation model",
         "transfer": "transferred model", "text": "text model",
         "keywords": "keyword model", "rl": "Q-network", "locate": "locator model"}  # fmt: skip
TASK_MODELS: dict[str, Registry] = {t: ALL_MODELS.subset(KINDS[t], t) for t in KINDS}
MODELS = TASK_MODELS["classify"]  # the classifiers (cnnlab train --model)
AUTOENCODERS = TASK_MODELS["autoencode"]
SEGMENTERS = TASK_MODELS["segment"]


def task_models(task: str) -> Registry:
    """The model registry of a task: classify, autoencode, segment, transfer."""
    if task not in TASK_MODELS:
        raise ModelError(f"unknown task {task!r}; choose one of: {', '.join(TASK_MODELS)}")
    return TASK_MODELS[task]


def model_config(name: str, registry: Registry | None = None, **overrides: Any) -> Any:
    """The config dataclass of model `name` with `overrides`; unknown keys are an error."""
    entry = (registry or MODELS).get(name)
    assert entry.config is not None
    fields = {f.name: f for f in dataclasses.fields(entry.config)}
    for key, value in overrides.items():
        if key not in fields:
            raise ModelError(
                f"model {name!r} has no option {key!r}; its options: {', '.join(fields)}"
            )
        if isinstance(value, list):
            overrides[key] = tuple(value)
    return entry.config(**overrides)


def create_task_model(
    task: str,
    name: str,
    in_channels: int,
    out_channels: int,
    input_size: tuple[int, ...],
    **config: Any,
) -> nn.Module:
    """Build model `name` of `task`'s registry; `config` overrides its config dataclass."""
    registry = task_models(task)
    cfg = model_config(name, registry=registry, **config)
    return registry.build(name, in_channels, out_channels, tuple(input_size), cfg)


def create_model(
    name: str,
    in_channels: int = 1,
    num_classes: int = 10,
    input_size: tuple[int, int] = (28, 28),
    **config: Any,
) -> Classifier:
    """Build a registered classifier. `config` overrides fields of its config dataclass."""
    return create_task_model("classify", name, in_channels, num_classes, input_size, **config)  # type: ignore[return-value]


def autoencoder_config(name: str, **overrides: Any) -> Any:
    """The config dataclass of autoencoder `name` with `overrides`; unknown keys are an error."""
    return model_config(name, registry=AUTOENCODERS, **overrides)


def create_autoencoder(
    name: str, in_channels: int = 1, input_size: tuple[int, int] = (28, 28), **config: Any
) -> Autoencoder:
    """Build a registered autoencoder; `config` overrides fields of its config dataclass.

    Shapes: the model maps (B, in_channels, *input_size) to the same shape.
    """
    return create_task_model("autoencode", name, in_channels, in_channels, input_size, **config)  # type: ignore[return-value]
