"""Frozen features computed once: head and early read them from the cache after the first
run, and train to the same model as when the backbone runs on every batch."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

from cnnlab.data import ImageData
from cnnlab.models import create_model
from cnnlab.models.transferred import adapt
from cnnlab.tasks.transfer.backbones import Backbone
from cnnlab.tasks.transfer.features import frozen_features
from cnnlab.tasks.transfer.task import train_transfer


@pytest.fixture
def cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("CNNLAB_CACHE", str(tmp_path / "cache"))
    return tmp_path / "cache" / "features"


def backbone() -> Backbone:
    torch.manual_seed(0)
    model = create_model("cnn-bn", 1, 4, (16, 16)).eval()
    return Backbone(model, (1, 16, 16), (0.3,), (0.3,), "test cnn-bn", spec={})


def images(n: int = 40, seed: int = 0) -> tuple[torch.Tensor, torch.Tensor]:
    g = torch.Generator().manual_seed(seed)
    x = torch.randint(0, 60, (n, 1, 16, 16), dtype=torch.uint8, generator=g)
    y = torch.arange(n) % 2
    x[y == 1, :, 4:12, 4:12] = 250  # class 1: a bright square
    return x, y


def test_features_are_the_frozen_forward_and_come_back_from_the_cache(cache: Path) -> None:
    b = backbone()
    x, _ = images()
    feats = frozen_features(b.model, b.input_shape, b.mean, b.std, x)
    with torch.no_grad():
        want = b.model.forward_features(adapt(x, b.input_shape, b.mean, b.std))
    torch.testing.assert_close(feats, want)
    assert len(list(cache.glob("*.pt"))) == 1

    def broken(*args, **kw):  # a second call must not run the network
        raise AssertionError("ran the backbone again")

    b.model.forward = broken
    again = frozen_features(b.model, b.input_shape, b.mean, b.std, x)
    torch.testing.assert_close(again, feats)
    del b.model.forward
    # other images, other weights or another input size: another entry
    frozen_features(b.model, b.input_shape, b.mean, b.std, images(seed=1)[0])
    with torch.no_grad():
        b.model.head.weight.mul_(1)  # the head is part of the module: unchanged weights
        next(b.model.parameters()).add_(0.1)
    frozen_features(b.model, b.input_shape, b.mean, b.std, x)
    frozen_features(b.model, (1, 20, 20), b.mean, b.std, x)
    assert len(list(cache.glob("*.pt"))) == 4


def test_a_damaged_cache_file_is_computed_again(cache: Path) -> None:
    b = backbone()
    x, _ = images()
    feats = frozen_features(b.model, b.input_shape, b.mean, b.std, x)
    (path,) = cache.glob("*.pt")
    path.write_bytes(b"not a tensor")
    torch.testing.assert_close(frozen_features(b.model, b.input_shape, b.mean, b.std, x), feats)
    assert torch.load(path, weights_only=True).shape == feats.shape  # replaced, whole


@pytest.mark.parametrize("strategy", ["head", "early"])
def test_cached_training_matches_running_the_backbone_every_batch(
    cache: Path, strategy: str
) -> None:
    x, y = images(48)
    data = ImageData(name="squares", classes=["a", "b"], train_x=x, train_y=y, val_x=x[:0],
                     val_y=y[:0], test_x=x, test_y=y, source="generated", mean=(0.3,),
                     std=(0.3,))  # fmt: skip
    extra = {}
    if strategy == "early":
        names = [n for n, _ in backbone().blocks()]
        extra = {"cut": names[1]}
    runs = [
        train_transfer(
            backbone(),
            data,
            strategy,
            epochs=6,
            lr=0.1,
            batch_size=16,
            cache_features=cached,
            **extra,
        )  # fmt: skip
        for cached in (False, True)
    ]
    plain, cached = runs
    assert list(cache.glob("*.pt"))  # the cached run wrote its features
    assert cached.accuracy == pytest.approx(plain.accuracy)
    assert cached.accuracy > 0.5  # a bright square against none: learned above chance
    torch.testing.assert_close(cached.model.head.weight, plain.model.head.weight,
                               rtol=1e-4, atol=1e-5)  # fmt: skip
    for a, b in zip(cached.history, plain.history, strict=True):
        assert a == pytest.approx(b, rel=1e-4)
