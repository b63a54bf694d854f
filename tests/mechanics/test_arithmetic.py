"""Layer arithmetic: the receptive-field recurrence against hand computations and against the
gradient-measured field of real models, parameter and MAC counts, local vs full connectivity,
and `cnnlab summary` (table, run folders, one-line errors)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch
import torch.nn.functional as F
from torch import nn

from cnnlab.core.errors import ModelError
from cnnlab.engine.runs import ModelMeta, save_model
from cnnlab.mechanics import (
    ReceptiveField,
    connectivity,
    measure_receptive_field,
    receptive_field,
    summarize,
)
from cnnlab.models import MODELS, count_parameters, create_model
from conftest import cli, one_line_error


def rows_by_name(model: nn.Module, shape: tuple[int, ...]) -> dict:
    return {r.name: r for r in summarize(model, shape).rows}


# ---- the recurrence by hand ----------------------------------------------------------------


def test_lecture_case_7x7_kernel_3_stride_2_pad_1():
    # out = (7 + 2 - 3) // 2 + 1 = 4 units, each seeing 3 pixels, 2 pixels apart; the first
    # window covers pixels -1..1 (one of them padding), so its centre is pixel 0
    (rf,) = receptive_field([(3, 2, 1, 1)])
    assert rf == ReceptiveField(size=3, jump=2, start=0)
    row = summarize(nn.Conv2d(1, 1, 3, stride=2, padding=1), (1, 7, 7)).rows[0]
    assert row.output_shape == (1, 4, 4)
    assert (row.rf_size, row.rf_jump, row.rf_start) == ((3, 3), (2, 2), (0, 0))


def test_conv_pool_conv_pool_stack():
    # conv3 pad1: r 3 j 1 start 0; pool2: r 3+1*1=4, j 2, start 0+0.5*1=0.5;
    # conv3 pad1: r 4+2*2=8, j 2, start 0.5; pool2: r 8+1*2=10, j 4, start 0.5+0.5*2=1.5
    rfs = receptive_field([(3, 1, 1), (2, 2), (3, 1, 1, 1), (2, 2, 0, 1)])
    assert [(r.size, r.jump, r.start) for r in rfs] == [
        (3, 1, 0), (4, 2, 0.5), (8, 2, 0.5), (10, 4, 1.5)
    ]  # fmt: skip


def test_dilation_and_valid_padding():
    # k_eff = 2*(3-1)+1 = 5; no padding moves the first centre to pixel 2
    (rf,) = receptive_field([(3, 1, 0, 2)])
    assert (rf.size, rf.jump, rf.start) == (5, 1, 2)
    rows = summarize(nn.Sequential(nn.Conv2d(1, 1, 3, dilation=2), nn.Conv2d(1, 1, 3)), (1, 9, 9))
    assert [r.rf_size for r in rows.rows] == [(5, 5), (7, 7)]
    assert rows.rows[1].rf_start == (3, 3)


@pytest.mark.parametrize(
    ("layers", "argument"),
    [([(0, 1)], "kernel"), ([(3, 0)], "stride"), ([(3, 1, -1)], "padding"),
     ([(3, 1, 0, 0)], "dilation"), ([(3,)], "layers[0]")],
)  # fmt: skip
def test_receptive_field_rejects_bad_geometry(layers, argument):
    with pytest.raises(ValueError, match=argument.replace("[", r"\[")):
        receptive_field(layers)


# ---- summarize on registered models --------------------------------------------------------


def test_cnn_small_rows_by_hand():
    s = summarize(create_model("cnn-small"), (1, 28, 28))
    assert [(r.name, r.type) for r in s.rows[:6]] == [
        ("conv.0", "Conv2d"), ("conv.1", "ReLU"), ("conv.2", "MaxPool2d"),
        ("conv.3", "Conv2d"), ("conv.4", "ReLU"), ("conv.5", "MaxPool2d"),
    ]  # fmt: skip
    rows = {r.name: r for r in s.rows}
    assert rows["conv.0"].output_shape == (32, 28, 28)
    assert rows["conv.5"].output_shape == (64, 7, 7)
    # MACs: output elements * C_in/groups * k*k
    assert rows["conv.0"].macs == 32 * 28 * 28 * 1 * 9 == 225_792
    assert rows["conv.3"].macs == 64 * 14 * 14 * 32 * 9
    assert rows["dense.1"].macs == 64 * 7 * 7 * 128 and rows["head"].macs == 128 * 10
    assert rows["conv.1"].macs == rows["conv.2"].macs == 0
    assert rows["conv.0"].params == 32 * 9 + 32
    # the same numbers as the pure recurrence of the plain stack
    by_hand = receptive_field([(3, 1, 1), (2, 2), (3, 1, 1), (2, 2)])
    for name, rf in zip(["conv.0", "conv.2", "conv.3", "conv.5"], by_hand, strict=True):
        assert rows[name].rf_size == (rf.size, rf.size)
        assert rows[name].rf_jump == (rf.jump, rf.jump)
        assert rows[name].rf_start == (rf.start, rf.start)
    # flatten and dense layers see the whole image
    assert rows["dense.0"].rf_whole and rows["dense.1"].rf_size == (28, 28)
    assert rows["dense.1"].rf_jump is None and not rows["conv.5"].rf_whole
    # dense equivalent: (C_in*H*W) * (C_out*H_out*W_out) weights, for conv layers only
    assert rows["conv.0"].dense_equivalent == 784 * 32 * 28 * 28
    assert rows["conv.3"].dense_equivalent == (32 * 14 * 14) * (64 * 14 * 14)
    assert rows["conv.2"].dense_equivalent is None
    assert s.total_macs == sum(r.macs for r in s.rows)
    assert s.first_conv is rows["conv.0"]


@pytest.mark.parametrize("name", MODELS.names())
def test_params_of_rows_add_up_to_the_model(name):
    model = create_model(name, 3, 10, (32, 32))
    s = summarize(model, (3, 32, 32))
    assert s.total_params == count_parameters(model) == sum(r.params for r in s.rows)
    json.dumps(s.to_dicts())  # plain data
    assert s.to_dicts()[0]["name"] == s.rows[0].name


def test_residual_block_takes_the_main_path():
    # stem 3; block 0: 3+2+2 = 7; block 1 (stride 2): 7+2 = 9, 9+2*2 = 13; its shortcut (1x1,
    # stride 2) sees only 7, and the sum after the block gets max(13, 7) = 13
    rows = rows_by_name(create_model("resnet"), (1, 28, 28))
    assert rows["stages.0.act"].rf_size == (7, 7)
    assert rows["stages.1.shortcut.0"].rf_size == (7, 7)
    assert rows["stages.1.act"].rf_size == (13, 13) and rows["stages.1.act"].rf_jump == (2, 2)
    assert rows["stages.2.act"].rf_size == (25, 25) and rows["stages.2.act"].rf_jump == (4, 4)
    assert rows["pool.0"].rf_whole


def test_summarize_restores_the_training_mode_and_checks_its_input():
    model = create_model("cnn-bn")
    model.train()
    model.body[1][1].eval()  # a frozen BN stays frozen
    summarize(model, (1, 28, 28))
    assert model.training and model.body[0][1].training and not model.body[1][1].training
    with pytest.raises(ValueError, match="input_shape"):
        summarize(model, (1, 0, 28))
    with pytest.raises(ModelError, match="cannot run on a 3x28x28 input"):
        summarize(model, (3, 28, 28))  # the model takes one channel


# ---- measured against computed -------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "layer", "size"),
    [("cnn-small", "conv.3", 8), ("cnn-small", "conv.5", 10), ("cnn-bn", "body.5.0", 37),
     ("vgg", "body.6.0", 24), ("resnet", "stages.2.act", 25)],
)  # fmt: skip
def test_gradient_measured_field_equals_the_computed_one(name, layer, size):
    model = create_model(name, 1, 10, (64, 64))
    computed = rows_by_name(model, (1, 64, 64))[layer].rf_size
    assert computed == (size, size)  # small enough to fit inside a 64x64 input
    assert measure_receptive_field(model, layer, (1, 64, 64)) == computed


class Odd(nn.Module):
    """Dilation, a strided non-square kernel, functional ReLUs (no modules) and a transposed
    convolution: the cases a plain stack of Conv2d does not show."""

    def __init__(self) -> None:
        super().__init__()
        self.a = nn.Conv2d(1, 4, 3, padding=2, dilation=2)
        self.b = nn.Conv2d(4, 4, (3, 5), stride=2)
        self.up = nn.ConvTranspose2d(4, 4, 4, stride=2, padding=1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.up(F.relu(self.b(F.relu(self.a(x)))))


def test_odd_layers_measured_and_by_hand():
    model = Odd()
    rows = rows_by_name(model, (1, 40, 40))
    # b: (7, 9) = 5 + (3-1, 5-1) * 1; up: each output unit takes 2 inputs of b (k=4, s=2),
    # one b unit apart: + 1 * 2 pixels; the jump halves back to 1
    assert rows["b"].rf_size == (7, 9) and rows["b"].rf_jump == (2, 2)
    assert rows["up"].rf_size == (9, 11) and rows["up"].rf_jump == (1, 1)
    assert rows["up"].macs == 4 * 19 * 18 * 4 * 16  # input elements * C_out * k*k
    for name in ("a", "b", "up"):
        assert measure_receptive_field(model, name, (1, 40, 40)) == rows[name].rf_size


def test_measure_rejects_an_unknown_layer():
    with pytest.raises(ValueError, match="layer_name 'conv.9'"):
        measure_receptive_field(create_model("cnn-small"), "conv.9", (1, 28, 28))


# ---- local vs full connectivity ------------------------------------------------------------


def test_connectivity_lecture_numbers():
    c = connectivity((1, 28, 28), 32, 3)
    assert c["output_shape"] == (32, 28, 28)
    assert (c["conv_weights"], c["conv_params"]) == (288, 320)
    assert c["dense_weights"] == 784 * 25_088 == 19_668_992
    assert c["dense_params"] == 19_668_992 + 25_088
    rgb = connectivity((3, 224, 224), 64, 3)
    assert rgb["conv_params"] == 64 * 27 + 64
    assert rgb["dense_weights"] == 150_528 * 64 * 224 * 224
    strided = connectivity((3, 32, 32), 16, 5, stride=2, padding=0)
    assert strided["output_shape"] == (16, 14, 14)
    assert strided["dense_weights"] == 3 * 32 * 32 * 16 * 14 * 14


@pytest.mark.parametrize(
    ("kwargs", "argument"),
    [({"kernel": 0}, "kernel"), ({"stride": 0, "padding": 0}, "stride"),
     ({"padding": -1}, "padding"), ({"out_channels": 0}, "out_channels"),
     ({"image_shape": (28, 28)}, "image_shape"), ({"kernel": 31, "padding": 0}, "kernel")],
)  # fmt: skip
def test_connectivity_rejects_bad_arguments(kwargs, argument):
    with pytest.raises(ValueError, match=argument):
        connectivity(**kwargs)


# ---- cnnlab summary ------------------------------------------------------------------------


def test_cli_prints_the_table_and_totals(capsys):
    rc, out, err = cli(capsys, "summary", "cnn-small")
    assert rc == 0 and err == ""
    total = count_parameters(create_model("cnn-small"))
    conv0 = next(line for line in out.splitlines() if "conv.0" in line)
    cells = [c.strip() for c in conv0.strip("│┃ ").split("│")]
    assert cells == ["conv.0", "Conv2d", "32x28x28", "320", "225,792", "3", "1", "0",
                     "19,668,992"]  # fmt: skip
    conv5 = next(line for line in out.splitlines() if "conv.5" in line)
    assert [c.strip() for c in conv5.strip("│ ").split("│")][5:8] == ["10", "4", "1.5"]
    assert f"total: {total:,} parameters" in out
    assert "19,668,992 weights + 25,088 biases" in out


def test_cli_input_and_model_args(capsys):
    rc, out, _ = cli(
        capsys, "summary", "cnn-bn", "--input", "3x32x32", "--model_args", '{"widths": [8, 16]}'
    )
    assert rc == 0
    assert "cnn-bn on a 3x32x32 input" in out
    assert "16x8x8" in out  # the last stage: 32 -> stem 16 -> pool 8
    assert f"{count_parameters(create_model('cnn-bn', 3, 10, (32, 32), widths=(8, 16))):,}" in out


def test_cli_run_folder(capsys, tmp_path: Path):
    model = create_model("cnn-small", 3, 5, (16, 16), channels=(4, 8))
    meta = ModelMeta("cnn-small", {"channels": [4, 8]}, 3, 5, (16, 16), list("abcde"),
                     (0.5,) * 3, (0.25,) * 3)  # fmt: skip
    save_model(tmp_path / "run", model, meta)
    rc, out, _ = cli(capsys, "summary", tmp_path / "run")
    assert rc == 0 and "3x16x16 input" in out and f"{count_parameters(model):,}" in out
    rc, _, err = cli(capsys, "summary", tmp_path / "run", "--input", "1x28x28")
    one_line_error(rc, err, "--input cannot change a run folder's model")
    (tmp_path / "empty").mkdir()
    rc, _, err = cli(capsys, "summary", tmp_path / "empty")
    one_line_error(rc, err, "is not a cnnlab run")


@pytest.mark.parametrize(
    ("argv", "fragments"),
    [(["alexnet"], ["unknown model 'alexnet'; choose one of: mlp"]),
     (["cnn-small", "--input", "1x28"], ["--input must be CxHxW", "e.g. 1x28x28", "'1x28'"]),
     (["cnn-small", "--input", "ax28x28"], ["--input must be CxHxW", "'ax28x28'"]),
     (["cnn-small", "--input", "1x0x28"], ["--input sizes must be >= 1"]),
     (["cnn-small", "--model_args", '{"width": 3}'], ["has no option 'width'"]),
     (["cnn-small", "--input", "1x2x2"], ["at least 4x4"])],
)  # fmt: skip
def test_cli_errors_are_one_line(capsys, argv, fragments):
    rc, out, err = cli(capsys, "summary", *argv)
    one_line_error(rc, err, *fragments)
    assert out == ""
