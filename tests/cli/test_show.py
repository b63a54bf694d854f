"""Filters on an image, feature maps and kernels of a model: values by hand and against a
float64 loop, kernel files, the figures, the run report section and the `show` commands."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from matplotlib.figure import Figure
from PIL import Image

from cnnlab.core.errors import ConfigError, DataError, ModelError
from cnnlab.data.sources import read_image
from cnnlab.engine.runs import ModelMeta, load_model, save_model
from cnnlab.mechanics.kernels import (
    KERNELS,
    apply_kernel,
    filter_image,
    get_kernel,
    kernel_labels,
    kernel_names,
    max_pool,
    read_kernel,
    resolve_kernels,
)
from cnnlab.models import create_model
from cnnlab.tasks.classify.inside import conv_taps, feature_maps, first_conv
from cnnlab.tasks.classify.report import run_report
from cnnlab.viz.filters import plot_filters
from cnnlab.viz.inside import EXAMPLE, plot_feature_maps, plot_feature_overview, plot_kernels
from conftest import cli, one_line_error, save_png


def loop_correlate(image: np.ndarray, kernel: np.ndarray) -> np.ndarray:
    """'same' cross-correlation written out in float64: pad (k-1)//2 before, k//2 after."""
    kh, kw = kernel.shape
    padded = np.pad(image.astype(np.float64), (((kh - 1) // 2, kh // 2), ((kw - 1) // 2, kw // 2)))
    out = np.zeros(image.shape)
    for i in range(image.shape[0]):
        for j in range(image.shape[1]):
            out[i, j] = np.sum(padded[i : i + kh, j : j + kw] * kernel)
    return out


# ---- kernels and one convolutional stage ---------------------------------------------------


def test_sobel_x_on_a_vertical_step_edge_by_hand():
    a, b = 0.2, 0.9
    img = np.full((6, 8), a)
    img[:, 4:] = b  # dark left half, bright right half: a vertical edge between columns 3, 4
    out = apply_kernel(img, get_kernel("sobel-x"))
    # inside: (1 + 2 + 1) * (right neighbour - left neighbour); zero padding at the border
    expect = np.zeros((6, 8))
    expect[:, 3] = expect[:, 4] = 4 * (b - a)
    expect[:, 0] = 4 * a  # the left neighbour of column 0 is padding (0)
    expect[:, 7] = -4 * b  # the right neighbour of column 7 is padding
    expect[[0, -1]] *= 3 / 4  # top and bottom rows miss one kernel row (weight 1)
    np.testing.assert_allclose(out, expect, atol=1e-6)
    assert np.all(out[1:-1, 1:3] == 0) and np.all(out[1:-1, 5:7] == 0)  # flat areas
    # sobel-y sees no horizontal edge inside, and is sobel-x on the transposed image
    np.testing.assert_allclose(apply_kernel(img, get_kernel("sobel-y"))[1:-1, :], 0, atol=1e-6)
    np.testing.assert_allclose(apply_kernel(img.T, get_kernel("sobel-y")), out.T, atol=1e-6)


def test_laplacian_is_zero_on_a_ramp_and_blur_keeps_brightness():
    ramp = np.tile(np.linspace(0, 1, 9), (7, 1))  # (7, 9) linear in x
    np.testing.assert_allclose(apply_kernel(ramp, get_kernel("laplacian"))[1:-1, 1:-1], 0,
                               atol=1e-6)  # fmt: skip
    flat = np.full((5, 5), 0.4)
    assert apply_kernel(flat, get_kernel("blur"))[2, 2] == pytest.approx(0.4)
    np.testing.assert_allclose(apply_kernel(ramp, get_kernel("identity")), ramp, atol=1e-6)
    assert get_kernel("blur").sum() == pytest.approx(1.0)


@pytest.mark.parametrize("shape", [(3, 3), (2, 2), (4, 3), (1, 5), (5, 5)])
def test_apply_kernel_equals_a_float64_loop(shape):
    rng = np.random.default_rng(sum(shape))
    img, kernel = rng.random((9, 11)), rng.normal(size=shape)
    np.testing.assert_allclose(apply_kernel(img, kernel), loop_correlate(img, kernel), atol=1e-5)


def test_relu_and_max_pool():
    rng = np.random.default_rng(0)
    img = rng.random((9, 11))
    res = filter_image(img, get_kernel("laplacian"), "lap", pool=2)
    np.testing.assert_array_equal(res.relu, np.maximum(res.filtered, 0))
    assert res.pooled.shape == (4, 5)  # the last odd row and column are dropped, as torch does
    expect = res.relu[:8, :10].reshape(4, 2, 5, 2).max(axis=(1, 3))
    np.testing.assert_array_equal(res.pooled, expect)
    assert filter_image(img, get_kernel("blur"), pool=1).pooled.shape == (9, 11)
    torch_pool = F.max_pool2d(torch.tensor(res.relu)[None, None], 3)[0, 0].numpy()
    np.testing.assert_array_equal(max_pool(res.relu, 3), torch_pool)
    with pytest.raises(ValueError, match="pool must be >= 1"):
        filter_image(img, get_kernel("blur"), pool=0)
    with pytest.raises(ValueError, match="pool 12 is larger than the 9x11 image"):
        max_pool(img, 12)


def test_builtin_kernels_are_named_and_protected():
    assert kernel_names() == ["identity", "sobel-x", "sobel-y", "laplacian", "sharpen", "blur",
                              "emboss"]  # fmt: skip
    k = get_kernel("sobel-x")
    k[0, 0] = 99  # a copy: the registry keeps its kernel
    assert get_kernel("sobel-x")[0, 0] == -1
    with pytest.raises(ValueError):
        KERNELS.build("sobel-x")[0, 0] = 5  # the shared array is read-only
    with pytest.raises(
        ConfigError, match="unknown kernel 'sobl'; choose one of: identity, sobel-x"
    ):
        get_kernel("sobl")
    assert kernel_labels(get_kernel("blur")) == ([["1", "2", "1"], ["2", "4", "2"],
                                                  ["1", "2", "1"]], 16)  # fmt: skip
    assert kernel_labels(np.array([[0.3, -1.25, 2]])) == ([["0.3", "-1.25", "2"]], 1)
    assert kernel_labels(np.full((3, 3), 1 / 9)) == ([["1"] * 3] * 3, 9)  # a box blur


# ---- custom kernel files -------------------------------------------------------------------


def test_kernel_file_round_trip(tmp_path: Path):
    rng = np.random.default_rng(1)
    kernel = rng.normal(size=(5, 4))
    path = tmp_path / "k.txt"
    np.savetxt(path, kernel, header="a 5x4 kernel")  # '#' header, spaces, 18 digits
    np.testing.assert_allclose(read_kernel(path), kernel, rtol=1e-15)
    np.savetxt(path, kernel, delimiter=",")
    np.testing.assert_allclose(read_kernel(path), kernel, rtol=1e-15)
    hand = tmp_path / "hand.txt"
    hand.write_text("# my blur\n1/16, 2/16, 1/16\n\n 2/16 4/16 2/16  # centre\n1/16,2/16,1/16\n")
    np.testing.assert_allclose(read_kernel(hand), get_kernel("blur"))
    even = tmp_path / "even.txt"
    even.write_text("1 -1\n1 -1\n")
    assert read_kernel(even).shape == (2, 2)


@pytest.mark.parametrize(
    "text, message",
    [
        ("1 2 3\n4 five 6\n", "line 2: 'five' is not a number"),
        (
            "# header\n1 2 3\n\n4 5\n",
            "line 4 has 2 numbers but line 2 has 3; a kernel must be rectangular",
        ),
        ("# only a comment\n\n", "holds no numbers"),
        ("1 2\n1/0 3\n", "line 2: '1/0' is not a number"),
        ("nan 1\n", "line 1: 'nan' is not a number"),
        ("\n".join(" ".join(["1"] * 16) for _ in range(3)), "3x16 kernel; at most 15x15"),
    ],
    ids=["word", "ragged", "empty", "zero-division", "nan", "too-big"],
)
def test_malformed_kernel_files(tmp_path: Path, text: str, message: str):
    path = tmp_path / "bad.txt"
    path.write_text(text)
    with pytest.raises(DataError, match=str(path)) as info:
        read_kernel(path)
    assert message in str(info.value)


def test_resolve_kernels(tmp_path: Path):
    edge = tmp_path / "edge.txt"
    edge.write_text("-1 1\n")
    got = resolve_kernels(["sobel-x, blur", str(edge), "blur"])
    assert [n for n, _ in got] == ["sobel-x", "blur", "edge", "blur-2"]
    np.testing.assert_array_equal(got[2][1], [[-1, 1]])
    with pytest.raises(DataError, match=r"kernel file .*missing\.txt does not exist"):
        resolve_kernels([str(tmp_path / "missing.txt")])
    with pytest.raises(ConfigError, match="unknown kernel 'edges'.*or give a text file"):
        resolve_kernels(["sobel-x,edges"])


# ---- images and the filters figure ---------------------------------------------------------


@pytest.fixture(scope="module")
def photo(tmp_path_factory) -> Path:
    """A 40x30 RGB picture: a bright square on a tinted background (not grey)."""
    img = np.zeros((40, 30, 3), np.uint8)
    img[:] = (30, 60, 90)
    img[10:30, 8:22] = (250, 240, 200)
    return save_png(tmp_path_factory.mktemp("show") / "photo.png", img)


def test_read_image_colour_grey_and_size(photo: Path, tmp_path: Path):
    original, grey, colour = read_image(photo)
    assert colour and original.shape == (40, 30, 3) and grey.shape == (40, 30)
    expect = np.asarray(Image.open(photo).convert("L"), np.float32) / 255
    np.testing.assert_allclose(grey, expect)
    small = read_image(photo, max_size=20)
    assert small[1].shape == (20, 15)
    grey_file = save_png(tmp_path / "g.png", np.zeros((8, 8), np.uint8))
    assert read_image(grey_file)[2] is False
    bad = tmp_path / "bad.png"
    bad.write_text("not an image")
    with pytest.raises(DataError, match=r"cannot read image .*bad\.png"):
        read_image(bad)


def test_plot_filters_one_row_per_kernel(photo: Path):
    original, grey, colour = read_image(photo)
    results = [filter_image(grey, get_kernel(n), n) for n in ("sobel-x", "blur")]
    fig = plot_filters(original, results, colour)
    assert isinstance(fig, Figure)
    panels = [ax for ax in fig.axes if ax.get_label() != "<colorbar>"]
    assert len(panels) == 10  # 2 rows x (original, kernel, filtered, ReLU, pooled)
    assert panels[0].get_ylabel() == "sobel-x" and panels[5].get_ylabel() == "blur"
    assert panels[0].get_title() == "original (filtered in grey)"
    filtered = panels[2].get_images()[0]
    assert filtered.get_clim()[0] == -filtered.get_clim()[1]  # centred on zero
    assert [t.get_text() for t in panels[6].texts][:3] == ["1", "2", "1"]
    assert panels[6].get_xlabel() == "3x3, x 1/16"


# ---- inside a model ------------------------------------------------------------------------


def test_feature_maps_one_per_conv_layer_with_the_shapes_the_model_implies():
    model = create_model("cnn-bn", 1, 10, (28, 28))
    model.train()  # feature_maps runs in eval mode and gives the mode back
    x = torch.randn(2, 1, 28, 28)
    maps = feature_maps(model, x)
    convs = [n for n, m in model.named_modules() if isinstance(m, torch.nn.Conv2d)]
    assert list(maps) == convs == ["body.0.0", "body.1.0", "body.3.0", "body.5.0"]
    # stride-2 stem 28 -> 14, stage 1 keeps 14, each later stage after a 2x2 max-pool
    shapes = [tuple(t.shape) for t in maps.values()]
    assert shapes == [(2, 16, 14, 14), (2, 32, 14, 14), (2, 64, 7, 7), (2, 128, 3, 3)]
    assert model.training
    with torch.no_grad():
        expect = model.eval().body[0](x)  # conv -> BN -> ReLU of the stem block
    torch.testing.assert_close(maps["body.0.0"], expect)
    assert all(float(t.min()) >= 0 for t in maps.values())  # after ReLU


def test_feature_maps_of_a_plain_conv_are_taken_after_its_relu():
    model = create_model("cnn-small", 3, 4, (12, 12)).eval()
    x = torch.randn(1, 3, 12, 12)
    maps = feature_maps(model, x)
    assert [tuple(t.shape) for t in maps.values()] == [(1, 32, 12, 12), (1, 64, 6, 6)]
    with torch.no_grad():
        expect = torch.relu(model.conv[0](x))
    torch.testing.assert_close(maps["conv.0"], expect)  # not changed by the in-place ReLU
    labels = [t.label for t in conv_taps(model)]
    assert labels == ["conv 3->32 3x3 -> ReLU", "conv 32->64 3x3 -> ReLU"]


def test_resnet_taps_and_a_model_without_convolutions():
    model = create_model("resnet", 1, 10, (16, 16))
    taps = conv_taps(model)
    assert len(taps) == sum(isinstance(m, torch.nn.Conv2d) for m in model.modules())
    assert taps[0].label.endswith("-> BN -> ReLU")
    assert any(t.label.endswith("-> BN") and "ReLU" not in t.label for t in taps)
    assert len(feature_maps(model, torch.randn(1, 1, 16, 16))) == len(taps)
    with pytest.raises(ModelError, match="has no convolutional layer"):
        first_conv(create_model("mlp", 1, 10, (8, 8)))


@pytest.mark.parametrize("channels", [1, 3])
def test_plot_kernels_grey_and_colour(channels: int):
    conv = first_conv(create_model("cnn-bn", channels, 10, (16, 16))).conv
    fig = plot_kernels(conv.weight)
    (ax,) = fig.axes
    grid = ax.get_images()[0].get_array()
    if channels == 3:
        assert grid.ndim == 3 and grid.shape[2] == 3 and "colour" in ax.get_title()
    else:
        assert grid.ndim == 2 and "grey" in ax.get_title()
    assert "16 kernels 3x3" in ax.get_title() and "its own range" in ax.get_title()
    values = np.asarray(grid, dtype=np.float64)
    values = values[np.isfinite(values)]
    assert values.min() >= 0 and values.max() <= 1
    assert not ax.texts  # a number would hide a weight of a 3x3 patch
    assert "numbered row by row" in ax.get_title()
    with pytest.raises(ValueError, match="weight must have shape"):
        plot_kernels(torch.zeros(3, 3))


def test_plot_feature_maps_scales_and_limits():
    maps = torch.relu(torch.randn(40, 6, 6))
    fig = plot_feature_maps(maps, "layer", max_maps=16)
    ax = fig.axes[0]
    assert "16 of 40" not in ax.get_title() and "channels 0-15 of 40" in ax.get_title()
    assert ax.get_images()[0].get_clim() == (0.0, pytest.approx(float(maps[:16].max())))
    per_map = plot_feature_maps(maps, max_maps=4, scale="map")
    assert len(per_map.axes) == 1  # no colour bar: each map has its own range
    with pytest.raises(ValueError, match="max_maps must be >= 1"):
        plot_feature_maps(maps, max_maps=0)
    with pytest.raises(ValueError, match="scale must be 'layer' or 'map'"):
        plot_feature_maps(maps, scale="global")
    overview = plot_feature_overview({"a": maps[None], "b": -maps}, image=np.zeros((6, 6)))
    assert len(overview.axes) == 3
    assert overview.axes[2].get_images()[0].get_cmap().name == "RdBu_r"  # signed: diverging


# ---- run folders: report section and the show commands -------------------------------------


def make_run(folder: Path, model: str, channels: int = 1, size: int = 16) -> Path:
    """A run folder with untrained weights: enough for shapes, figures and errors."""
    meta = ModelMeta(model, {}, channels, 3, (size, size), ["a", "b", "c"], (0.5,) * channels,
                     (0.25,) * channels)  # fmt: skip
    torch.manual_seed(0)
    save_model(folder, meta.build(), meta)
    return folder


def test_training_stores_the_example_and_the_report_shows_inside(trained_run: Path, tiny_data):
    example = trained_run / "figures" / EXAMPLE
    with Image.open(example) as im:
        stored = np.asarray(im)
        label = im.text["label"]
    np.testing.assert_array_equal(stored, tiny_data.test_x[0].numpy().transpose(1, 2, 0))
    assert label == tiny_data.classes[int(tiny_data.test_y[0])]
    html = (trained_run / "report.html").read_text()
    assert "<h2>Inside the model</h2>" in html
    assert f"feature maps of the first test image (true class {label})" in html
    assert "learned kernels of the first conv layer (conv.0)" in html
    assert "input example" not in html.lower().split("other figures")[-1]  # not listed twice


def test_report_without_example_and_for_an_mlp(tmp_path: Path):
    cnn = make_run(tmp_path / "cnn", "cnn-small")
    html = run_report(cnn).read_text()
    assert "Inside the model" in html and "No input example is stored" in html
    mlp = make_run(tmp_path / "mlp", "mlp")
    assert "Inside the model" not in run_report(mlp).read_text()


def test_cli_show_filters_writes_the_figure_and_arrays(photo: Path, tmp_path: Path, capsys):
    custom = tmp_path / "diag.txt"
    custom.write_text("1 0\n0 -1\n")
    out = tmp_path / "out"
    rc, stdout, err = cli(capsys, "show", "filters", photo, "--kernel", "sobel-x,blur",
                          "--kernel", custom, "--pool", "2", "--out", out)  # fmt: skip
    assert rc == 0 and err == ""
    names = {p.name for p in out.iterdir()}
    assert names == {"filters.png"} | {f"{k}-{s}.png" for k in ("sobel-x", "blur", "diag")
                                       for s in ("filtered", "relu", "pooled")}  # fmt: skip
    assert "note: photo.png is a colour image" in stdout and "figure: " in stdout
    _, grey, _ = read_image(photo)
    filtered = apply_kernel(grey, get_kernel("sobel-x"))
    png = np.asarray(Image.open(out / "sobel-x-filtered.png"), np.float64)
    m = np.abs(filtered).max()
    np.testing.assert_allclose(png, np.round(127.5 + 127.5 * filtered / m), atol=1)
    assert Image.open(out / "sobel-x-pooled.png").size == (15, 20)  # (W, H) of 30x40 / 2


def test_cli_show_features_and_kernels(trained_run: Path, photo: Path, tmp_path: Path, capsys):
    out = tmp_path / "features"
    rc, stdout, err = cli(capsys, "show", "features", trained_run, photo, "--out", out,
                          "--max_maps", "4")  # fmt: skip
    assert rc == 0 and err == ""
    assert sorted(p.name for p in out.iterdir()) == ["01-conv.0.png", "02-conv.3.png",
                                                     "overview.png"]  # fmt: skip
    assert "conv.0 [32x12x12]" in stdout and "conv.3 [64x6x6]" in stdout
    assert "as 3x12x12, converted as `cnnlab predict` does" in stdout
    rc, stdout, _ = cli(capsys, "show", "features", trained_run, "--out", tmp_path / "ex")
    assert rc == 0 and f"input: {trained_run / 'figures' / EXAMPLE}" in stdout
    grey_run = make_run(tmp_path / "grey", "cnn-bn")
    rc, stdout, err = cli(capsys, "show", "kernels", grey_run)
    assert rc == 0 and err == "" and "body.0.0 weight [16x1x3x3]" in stdout
    assert (grey_run / "show" / "kernels.png").is_file()
    model, _ = load_model(grey_run)
    assert len(feature_maps(model, torch.zeros(1, 1, 16, 16))) == 4


def test_cli_errors_are_one_line(photo: Path, tmp_path: Path, capsys):
    bad_kernel = tmp_path / "bad.txt"
    bad_kernel.write_text("1 2\n3\n")
    text_png = tmp_path / "text.png"
    text_png.write_text("hello")
    mlp = make_run(tmp_path / "mlp", "mlp")
    cases = [
        (["filters", photo, "--kernel", "sobel"], ["unknown kernel 'sobel'", "sobel-x, sobel-y"]),
        (["filters", tmp_path / "none.png"], ["none.png does not exist"]),
        (["filters", text_png], ["cannot read image", "text.png"]),
        (["filters", photo, "--kernel", bad_kernel], [f"{bad_kernel} line 2 has 1 numbers"]),
        (["filters", photo, "--pool", "0"], ["pool must be >= 1"]),
        (["filters", photo, "--pool", "41"], ["pool 41 is larger than the 40x30 image"]),
        (["features", tmp_path, photo], ["is not a cnnlab run"]),
        (["features", mlp, photo], ["has no convolutional layer", "(model 'mlp')"]),
        (["features", mlp], ["has no convolutional layer"]),
        (["kernels", tmp_path / "nowhere"], ["is not a folder"]),
        (["features", make_run(tmp_path / "c", "cnn-small"), text_png], ["cannot read image"]),
        (["features", tmp_path / "c"], ["has no stored test image"]),
        (["features", tmp_path / "c", photo, "--max_maps", "0"], ["max_maps must be >= 1"]),
    ]
    for argv, fragments in cases:
        rc, _, err = cli(capsys, "show", *argv, "--out", tmp_path / "o")
        one_line_error(rc, err, *fragments)
