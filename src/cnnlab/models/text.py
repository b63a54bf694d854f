"""Text classifiers over token ids: the lecture's CNN for sentences and its contrast.

- `text-cnn` (Kim, 2014, "Convolutional Neural Networks for Sentence Classification"):
  embedding, parallel 1-D convolutions of several widths, max over time, dropout, dense.
- `text-cnn-deep`: stacked 1-D conv-BatchNorm-ReLU blocks with max-pooling, then the max
  over what is left.
- `bow-mlp`: the mean of the token embeddings (a bag of words: order is lost) into an MLP,
  the non-convolutional contrast.

Every factory takes (vocab_size, num_classes, (max_len,), cfg), the registry's
(in_channels, out_channels, input_size, cfg). Inputs are int64 token ids (B, L), each text's
tokens first and then 0s as padding; padding never reaches a max or a mean.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn

from cnnlab.models.base import Classifier, check_positive
from cnnlab.nn.blocks import ConvNormAct

PAD = 0  # the token id of padding


def _embedding(vocab: int, num_classes: int, embed: int, dropout: float) -> nn.Embedding:
    """The token embedding every text model starts with (padding embeds to 0), after the
    checks they share."""
    for name, value in (("vocabulary size", vocab), ("num_classes", num_classes),
                        ("embed", embed)):  # fmt: skip
        check_positive(name, value)
    if not 0.0 <= dropout < 1.0:
        raise ValueError(f"dropout must be in [0, 1), got {dropout}")
    return nn.Embedding(vocab, embed, padding_idx=PAD)


def valid_windows(mask: torch.Tensor, width: int, out_len: int) -> torch.Tensor:
    """Which outputs of a width-`width` convolution (padding width // 2) the text alone would
    have: with n real tokens first, the first n + 2 (width // 2) - width + 1. Padding added
    after a text then never adds a window. Shapes: (B, L) bool -> (B, out_len) bool."""
    n = mask.sum(dim=1, keepdim=True)
    return torch.arange(out_len, device=mask.device)[None] < n + 2 * (width // 2) - width + 1


def _masked_max(h: torch.Tensor, valid: torch.Tensor) -> torch.Tensor:
    """Max over time of (B, C, L') over the positions `valid` (B, L') marks; a text of padding
    only gives zeros. Shapes: -> (B, C)."""
    out = h.masked_fill(~valid[:, None], float("-inf")).amax(dim=2)
    return torch.where(torch.isfinite(out), out, torch.zeros_like(out))


@dataclass(frozen=True)
class TextCNNConfig:
    """embed: embedding size; widths: the kernel widths (tokens) of the parallel convolutions;
    channels: filters per width; dropout before the head."""

    embed: int = 128
    widths: tuple[int, ...] = (2, 3, 4, 5)
    channels: int = 64
    dropout: float = 0.5


class TextCNN(Classifier):
    """Embedding -> one conv-ReLU per width, each max-pooled over time -> concat -> dropout ->
    Linear head."""

    def __init__(self, vocab: int, num_classes: int, input_size: tuple[int, ...],
                 cfg: TextCNNConfig) -> None:  # fmt: skip
        super().__init__()
        self.embedding = _embedding(vocab, num_classes, cfg.embed, cfg.dropout)
        check_positive("channels", cfg.channels)
        if not cfg.widths or min(cfg.widths) < 1:
            raise ValueError(f"widths must be kernel widths >= 1, got {cfg.widths}")
        self.convs = nn.ModuleList(
            [
                ConvNormAct(cfg.embed, cfg.channels, w, spatial_dims=1, norm="none")
                for w in cfg.widths
            ]  # fmt: skip
        )
        self.dropout = nn.Dropout(cfg.dropout)
        self.head = nn.Linear(cfg.channels * len(cfg.widths), num_classes)

    def feature_maps(self, x: torch.Tensor) -> list[torch.Tensor]:
        """Each width's conv-ReLU output before the max. Shapes: (B, L) -> [(B, C, L')]."""
        e = self.embedding(x).transpose(1, 2)  # (B, E, L)
        return [conv(e) for conv in self.convs]

    def forward_features(self, x: torch.Tensor) -> torch.Tensor:
        mask = x != PAD
        maps = self.feature_maps(x)
        pooled = [_masked_max(h, valid_windows(mask, conv[0].kernel_size[0], h.shape[2]))
                  for h, conv in zip(maps, self.convs, strict=True)]  # fmt: skip
        return self.dropout(torch.cat(pooled, dim=1))  # (B, channels * widths)


@dataclass(frozen=True)
class DeepTextCNNConfig:
    """embed: embedding size; widths: channels of the stacked conv blocks (kernel 3), each
    followed by max-pooling by 2; dropout before the head."""

    embed: int = 128
    widths: tuple[int, ...] = (128, 128, 256)
    dropout: float = 0.5


class DeepTextCNN(Classifier):
    """Embedding -> [conv3-BN-ReLU -> maxpool 2] per width -> max over time -> dropout ->
    Linear head."""

    def __init__(self, vocab: int, num_classes: int, input_size: tuple[int, ...],
                 cfg: DeepTextCNNConfig) -> None:  # fmt: skip
        super().__init__()
        self.embedding = _embedding(vocab, num_classes, cfg.embed, cfg.dropout)
        if not cfg.widths or min(cfg.widths) < 1:
            raise ValueError(f"widths must be channel counts >= 1, got {cfg.widths}")
        stages, width = [], cfg.embed
        for w in cfg.widths:
            stages.append(nn.Sequential(ConvNormAct(width, w, 3, spatial_dims=1),
                                        nn.MaxPool1d(2, ceil_mode=True)))  # fmt: skip
            width = w
        self.stages = nn.ModuleList(stages)
        self.dropout = nn.Dropout(cfg.dropout)
        self.head = nn.Linear(width, num_classes)

    def forward_features(self, x: torch.Tensor) -> torch.Tensor:
        mask = (x != PAD)[:, None]  # (B, 1, L)
        h = self.embedding(x).transpose(1, 2)
        for conv, pool in self.stages:
            h = conv(h.masked_fill(~mask, 0.0))  # padding reads as the conv's own zero padding
            h = pool(h.masked_fill(~mask, float("-inf")))  # and never wins a max
            mask = nn.functional.max_pool1d(mask.float(), 2, ceil_mode=True) > 0
            h = h.masked_fill(~mask, 0.0)
        return self.dropout(_masked_max(h, mask[:, 0]))


@dataclass(frozen=True)
class BowMLPConfig:
    """embed: embedding size; hidden: hidden layer sizes; dropout after each hidden layer."""

    embed: int = 128
    hidden: tuple[int, ...] = (128,)
    dropout: float = 0.3


class BowMLP(Classifier):
    """Embedding -> mean over the real tokens (order lost) -> [Linear-ReLU-Dropout] -> head."""

    def __init__(self, vocab: int, num_classes: int, input_size: tuple[int, ...],
                 cfg: BowMLPConfig) -> None:  # fmt: skip
        super().__init__()
        self.embedding = _embedding(vocab, num_classes, cfg.embed, cfg.dropout)
        layers: list[nn.Module] = []
        width = cfg.embed
        for h in cfg.hidden:
            check_positive("hidden size", h)
            layers += [nn.Linear(width, h), nn.ReLU(inplace=True), nn.Dropout(cfg.dropout)]
            width = h
        self.mlp = nn.Sequential(*layers)
        self.head = nn.Linear(width, num_classes)

    def forward_features(self, x: torch.Tensor) -> torch.Tensor:
        mask = (x != PAD).unsqueeze(2).float()  # (B, L, 1)
        mean = (self.embedding(x) * mask).sum(1) / mask.sum(1).clamp_min(1.0)
        return self.mlp(mean)
