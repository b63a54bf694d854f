"""Transfer learning: backbones (run folders, torchvision), input adaptation and the four
strategies. The source backbone is cnn-bn trained 1 epoch on Fashion-MNIST classes 0-4 of the
embedded subset; the target is classes 5-9."""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F
from torchvision.transforms.v2 import functional as TF

import cnnlab
from cnnlab.core.errors import ConfigError, ModelError, RunError
from cnnlab.tasks.transfer import (
    STRATEGIES,
    Backbone,
    adapt_input,
    build_strategy,
    early,
    finetune,
    head,
    load_backbone,
    retrain,
    select_classes,
    train_transfer,
)
from cnnlab.tasks.transfer.probe import probe_accuracy


@pytest.fixture(scope="module")
def source(fashion_source) -> cnnlab.ImageData:
    return fashion_source


@pytest.fixture(scope="module")
def target(fashion_target) -> cnnlab.ImageData:
    return fashion_target


@pytest.fixture(scope="module")
def backbone(source_run) -> Backbone:
    return load_backbone(source_run)


def one_line(exc: pytest.ExceptionInfo) -> str:
    msg = str(exc.value)
    assert "\n" not in msg and msg
    return msg


def steps(t, data, backbone, n: int = 3) -> torch.optim.Optimizer:
    """n Adam steps on the training images; returns the optimizer."""
    opt = torch.optim.Adam(t.param_groups)
    t.model.train()
    for i in range(n):
        x = adapt_input(data.train_x[i * 32 : (i + 1) * 32], backbone)
        loss = F.cross_entropy(t.model(x), data.train_y[i * 32 : (i + 1) * 32])
        opt.zero_grad()
        loss.backward()
        opt.step()
    return opt


def snapshot(module: torch.nn.Module) -> dict[str, torch.Tensor]:
    return {k: v.clone() for k, v in module.state_dict().items()}


# ---- data and backbones --------------------------------------------------------------------


def test_select_classes_relabels(fashion_small, target):
    assert target.classes == fashion_small.classes[5:]
    assert sorted(target.train_y.unique().tolist()) == [0, 1, 2, 3, 4]
    n7 = int((fashion_small.test_y == 7).sum())
    assert int((target.test_y == 2).sum()) == n7 and len(target.test_y) < len(fashion_small.test_y)
    first = int(torch.nonzero(fashion_small.train_y >= 5)[0])
    assert torch.equal(target.train_x[0], fashion_small.train_x[first])
    assert int(target.train_y[0]) == int(fashion_small.train_y[first]) - 5
    # names work too, and the given order decides the new labels
    by_name = select_classes(fashion_small, [fashion_small.classes[9], fashion_small.classes[5]])
    assert by_name.classes == [fashion_small.classes[9], fashion_small.classes[5]]
    assert int((by_name.train_y == 0).sum()) == int((fashion_small.train_y == 9).sum())
    with pytest.raises(ValueError, match="classes") as e:
        select_classes(fashion_small, [3, 3])
    one_line(e)
    with pytest.raises(ValueError, match="classes"):
        select_classes(fashion_small, [10])


def test_run_backbone(backbone, source):
    assert backbone.input_shape == (1, 28, 28)
    assert backbone.classes == source.classes
    assert backbone.mean == source.mean
    names = [n for n, _ in backbone.blocks()]
    # default cnn-bn: stem, 3 stages (pooled between them)
    assert names == ["body.0", "body.1", "body.2", "body.3", "body.4", "body.5"]
    x = torch.randn(2, *backbone.input_shape)
    y = x
    with torch.no_grad():
        for _, block in backbone.blocks():
            y = block(y)
        # the blocks in order are the whole feature extractor (before the global pool)
        assert torch.allclose(y.mean(dim=(2, 3)), backbone.model.eval().forward_features(x))


def test_not_a_run_is_one_line(tmp_path):
    with pytest.raises(RunError, match="not a cnnlab run") as e:
        load_backbone(tmp_path)
    one_line(e)


def test_torchvision_random_resnet18_adapts_grey(target):
    tv = load_backbone("torchvision:resnet18", weights="random", image_size=64)
    assert tv.input_shape == (3, 64, 64)
    assert tv.mean == pytest.approx((0.485, 0.456, 0.406))  # from the weights' transforms
    x = adapt_input(target.train_x[:4], tv)
    assert x.shape == (4, 3, 64, 64) and x.dtype == torch.float32
    # reference: torchvision's own grey->RGB, resize and normalize
    ref = target.train_x[:4].float().div(255).repeat(1, 3, 1, 1)
    ref = TF.normalize(TF.resize(ref, [64, 64], antialias=False), list(tv.mean), list(tv.std))
    assert torch.allclose(x, ref, atol=1e-5)
    assert [n for n, _ in tv.blocks()][-4:] == ["layer1", "layer2", "layer3", "layer4"]
    t = head(tv, 5)
    assert t.model(x).shape == (4, 5) and t.model.head.in_features == 512
    assert early(tv, 5).cut == "layer1"


def test_rgb_to_grey_is_luma():
    grey = Backbone(torch.nn.Identity(), (1, 8, 8), (0.5,), (0.25,), "test")  # type: ignore[arg-type]
    rgb = torch.randint(0, 256, (3, 3, 8, 8), dtype=torch.uint8)
    ref = TF.rgb_to_grayscale(rgb.double() / 255)
    # torchvision weighs red 0.2989, we 0.299 (PIL): 1e-4 of a pixel, x4 by the 1/std
    assert torch.allclose(adapt_input(rgb, grey).double(), (ref - 0.5) / 0.25, atol=1e-3)
    assert not torch.allclose(
        adapt_input(rgb, grey).double(),
        (rgb.double().mean(1, keepdim=True) / 255 - 0.5) / 0.25,
        atol=1e-2,
    )


def test_torchvision_errors_are_one_line(tmp_path, monkeypatch):
    with pytest.raises(ModelError, match="resnet18") as e:
        load_backbone("torchvision:resnet19")
    one_line(e)
    monkeypatch.setenv("CNNLAB_OFFLINE", "1")
    monkeypatch.setattr(torch.hub, "get_dir", lambda: str(tmp_path))
    with pytest.raises(ModelError, match="weights='random'") as e:
        load_backbone("torchvision:resnet18")
    assert "resnet18-" in one_line(e)  # names the file to download
    bad = tmp_path / "w.pth"
    bad.write_bytes(b"not a checkpoint")
    with pytest.raises(ModelError, match="does not fit") as e:
        load_backbone("torchvision:resnet18", weights=str(bad))
    one_line(e)


# ---- strategies ----------------------------------------------------------------------------


def test_head_freezes_weights_and_batchnorm(backbone, target):
    t = head(backbone, 5, lr=1e-2)
    before = snapshot(t.model.features)
    head_before = t.model.head.weight.clone()
    opt = steps(t, target, backbone)
    after = t.model.features.state_dict()
    for k, v in before.items():  # weights, BN running stats and num_batches_tracked
        assert torch.equal(v, after[k]), k
    assert not t.model.features.training  # frozen BN stays in eval while training
    assert not torch.equal(head_before, t.model.head.weight)
    head_params = {id(p) for p in t.model.head.parameters()}
    assert {id(p) for p in opt.state} == head_params
    assert all(not p.requires_grad for p in t.model.features.parameters())
    # the backbone itself is untouched: strategies work on a copy
    assert t.model.features is not backbone.model


def test_early_features_come_from_the_named_block(backbone, target):
    t = early(backbone, 5, cut="body.3")
    assert t.cut == "body.3"
    seen = {}
    hook = dict(backbone.blocks())["body.3"].register_forward_hook(
        lambda m, i, o: seen.setdefault("out", o.detach().clone())
    )
    x = adapt_input(target.test_x[:8], backbone)
    try:
        backbone.model.eval()(x)
    finally:
        hook.remove()
    t.model.eval()
    feats = t.model.forward_features(x)
    out = seen["out"]  # (8, 64, 7, 7): body.3 is the 64-channel stage
    assert feats.shape == (8, 64 * 4 * 4)  # pooled to a 4x4 grid, positions kept
    ref = torch.nn.functional.adaptive_avg_pool2d(out, 4).flatten(1)
    assert torch.allclose(feats, ref, atol=1e-6)
    flat = early(backbone, 5, cut="body.3", grid=0).model.eval().forward_features(x)
    assert torch.allclose(flat, out.mean(dim=(2, 3)), atol=1e-6)  # grid 0: global average
    assert early(backbone, 5).cut == "body.1"  # auto: the middle of the 4 conv blocks
    before = snapshot(t.model.features)
    opt = steps(t, target, backbone)
    for k, v in before.items():
        assert torch.equal(v, t.model.features.state_dict()[k]), k
    assert {id(p) for p in opt.state} == {id(p) for p in t.model.head.parameters()}


def test_early_chooses_its_cut_by_linear_probes(backbone, target):
    x, y = target.train_x[:300], target.train_y[:300]
    t = early(backbone, 5, probe=(x, y))
    blocks = [n for n, _ in backbone.blocks()]
    assert t.cut in blocks[: blocks.index("body.3")]  # an earlier block than the last
    assert "linear probe accuracy per block" in t.note and t.cut in t.note
    # the note's accuracies: the chosen block has the highest
    accs = dict(p.rsplit(" ", 1) for p in t.note.split(": ", 1)[1].split(", "))
    assert float(accs[t.cut].rstrip("%")) == max(float(a.rstrip("%")) for a in accs.values())
    with pytest.raises(ValueError, match="grid"):
        early(backbone, 5, grid=-1)


def test_probe_accuracy_tells_signal_from_noise():
    g = torch.Generator().manual_seed(0)
    y = torch.arange(200) % 4
    signal = torch.nn.functional.one_hot(y, 4).double() * 3 + torch.randn(200, 4, generator=g)
    noise = torch.randn(200, 16, generator=g)
    assert probe_accuracy(signal, y, 4, torch.Generator().manual_seed(1)) > 0.9
    assert probe_accuracy(noise, y, 4, torch.Generator().manual_seed(1)) < 0.5  # chance 0.25
    with pytest.raises(ValueError, match="at least 4"):
        probe_accuracy(noise[:3], y[:3], 4, g)


def test_unknown_cut_and_strategy_are_one_line(backbone):
    with pytest.raises(ConfigError, match="body.0, body.1") as e:
        early(backbone, 5, cut="layer9")
    one_line(e)
    with pytest.raises(ConfigError, match="head, early, finetune, retrain") as e:
        build_strategy("freeze-all", backbone, 5)
    one_line(e)
    assert STRATEGIES.names() == ["head", "early", "finetune", "retrain"]
    with pytest.raises(ValueError, match="backbone_lr_factor"):
        finetune(backbone, 5, backbone_lr_factor=0.0)
    with pytest.raises(ValueError, match="num_classes"):
        head(backbone, 1)


def test_finetune_param_groups(backbone, target):
    t = finetune(backbone, 5, lr=2e-3)
    lrs = {g["name"]: g["lr"] for g in t.param_groups}
    assert lrs == {"backbone": pytest.approx(2e-4), "head": 2e-3}
    assert finetune(backbone, 5, lr=1e-3, backbone_lr_factor=0.5).param_groups[0]["lr"] == 5e-4
    grouped = {id(p) for g in t.param_groups for p in g["params"]}
    used = {id(p) for n, p in t.model.named_parameters() if not n.startswith("features.head.")}
    assert grouped == used  # every used parameter, and not the old head
    conv = t.model.features.body[0][0].weight
    before = conv.clone()
    steps(t, target, backbone, n=1)
    assert t.model.features.training and not torch.equal(before, conv)
    assert torch.equal(before, backbone.model.body[0][0].weight)  # the backbone is untouched


def test_retrain_reinitializes(backbone):
    t = retrain(backbone, 5)
    old = dict(backbone.model.named_parameters())
    for name, p in t.model.features.named_parameters():
        assert p.shape == old[name].shape
        if p.ndim > 1:  # conv / linear weights are freshly drawn
            assert not torch.equal(p, old[name]), name
    bn = t.model.features.body[0][1]
    assert torch.equal(bn.running_mean, torch.zeros_like(bn.running_mean))
    assert int(bn.num_batches_tracked) == 0


@pytest.mark.parametrize("strategy", ["head", "early", "finetune", "retrain"])
def test_each_strategy_beats_chance(backbone, target, strategy):
    # ~1,000 target images, 2 epochs, chance is 20 %. Measured: head 64 %, early 41 % (32
    # average-pooled channels of a 1-epoch backbone), finetune 89 %, retrain 92 %
    r = train_transfer(backbone, target, strategy, epochs=2, lr=3e-3, batch_size=64)
    assert r.strategy == strategy and r.train_time_s > 0 and len(r.history) == 2
    assert r.history[-1] < r.history[0]
    assert r.accuracy > (0.3 if strategy == "early" else 0.45)
