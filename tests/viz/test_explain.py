"""Explainer animations: the numbers drawn equal torch (float64), every frame's arithmetic adds
up to its output cell, and `cnnlab explain` writes a valid GIF and sheet or fails in one line."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from PIL import Image

from cnnlab.viz.animate import render_frames, sheet_indices
from cnnlab.viz.explain import PLANE_NAMES, Explanation, explain_conv, explain_pool
from conftest import cli, one_line_error

# (input_size, kernel, stride, padding, channels, dilation)
CONV_CASES = [
    (5, 3, 1, 0, 1, 1),
    (7, 3, 2, 1, 1, 1),
    (5, 3, 1, 1, 3, 1),
    (7, 3, 1, 0, 1, 2),
    (6, 3, 2, 2, 3, 2),
    (4, 2, 1, 0, 2, 1),
    (3, 1, 1, 1, 4, 1),
]


def t64(a: np.ndarray) -> torch.Tensor:
    return torch.from_numpy(np.asarray(a, dtype=np.float64))


def rhs(text: str) -> float:
    return float(text.rsplit("=", 1)[1])


def check_frames(e: Explanation) -> None:
    o = e.output.shape[-1]
    assert len(e.frames) == o * o + 1
    cells = e.frames[:-1]
    assert [f.out_pos for f in cells] == list(np.ndindex(o, o))  # row-major, each cell once
    assert e.frames[-1].out_pos is None and e.frames[-1].window is None
    for f in cells:
        i, j = f.out_pos
        assert f.value == e.output[0, 0, i, j]
        assert rhs(f.text) == pytest.approx(f.value, abs=0.006)
        rows, cols = f.window
        span = e.dilation * (e.kernel - 1)
        assert (rows[0], cols[0]) == (i * e.stride, j * e.stride)
        assert (rows[-1] - rows[0], cols[-1] - cols[0]) == (span, span)


@pytest.mark.parametrize("n,k,s,p,c,d", CONV_CASES)
def test_conv_numbers_equal_torch(n: int, k: int, s: int, p: int, c: int, d: int) -> None:
    e = explain_conv(n, k, s, p, channels=c, dilation=d, seed=1)
    assert e.x.shape == (1, c, n, n) and e.w.shape == (1, c, k, k)
    # small integers a student can add up: input 0..3, weights -1..1
    assert set(np.unique(e.x)) <= {0, 1, 2, 3} and set(np.unique(e.w)) <= {-1, 0, 1}
    want = F.conv2d(t64(e.x), t64(e.w), stride=s, padding=p, dilation=d)
    o = (n + 2 * p - d * (k - 1) - 1) // s + 1
    assert e.output.shape == (1, 1, o, o)
    np.testing.assert_array_equal(e.output, want.numpy())
    np.testing.assert_array_equal(e.padded, F.pad(t64(e.x), (p, p, p, p)).numpy())
    assert f"= {o}" in e.formula and e.formula.startswith("out = floor((")
    # the formula, as written, evaluates to the output size
    assert eval(e.formula.split("=")[1].replace("floor", "").replace("/", "//")) == o
    check_frames(e)
    for f in e.frames[:-1]:
        i, j = f.out_pos
        if c == 1:  # every product is written out: the left side evaluates to the value
            assert "..." not in f.text
            assert eval(f.text.split("=")[0]) == f.value
        else:  # per-plane partial sums, each the convolution of that plane alone
            parts = re.findall(r"(\w+): (-?[\d.]+)", f.text)
            assert tuple(name for name, _ in parts) == PLANE_NAMES[c]
            for ch, (_, part) in enumerate(parts):
                plane = F.conv2d(t64(e.x[:, ch : ch + 1]), t64(e.w[:, ch : ch + 1]), stride=s,
                                 padding=p, dilation=d)  # fmt: skip
                assert float(part) == plane[0, 0, i, j].item()
            assert sum(float(v) for _, v in parts) == f.value
            assert len(f.lines) == c + 1  # one line of products per plane, then the total


def test_conv_text_example_and_seed() -> None:
    e = explain_conv(7, 3, 2, 1)
    first = e.frames[0].text
    assert first.count("*") == 9 and first.count(" + ") == 8
    assert e.formula == "out = floor((7 + 2*1 - 3) / 2) + 1 = 4"
    assert "stride 2, padding 1" in e.title and "output 4x4" in e.title
    again, other = explain_conv(7, 3, 2, 1), explain_conv(7, 3, 2, 1, seed=5)
    np.testing.assert_array_equal(again.x, e.x)
    assert not np.array_equal(other.x, e.x)
    assert (
        explain_conv(5, 3, dilation=2).formula == "out = floor((5 + 2*0 - 2*(3-1) - 1) / 1) + 1 = 1"
    )


def test_long_sums_are_truncated_but_still_right() -> None:
    e = explain_conv(6, 5, 1, 0, seed=3)  # 25 products per cell
    for f in e.frames[:-1]:
        assert "..." in f.text and f.text.count("*") < 25
        assert rhs(f.text) == f.value
        assert len(f.lines) == 6  # but drawn in full: one line per kernel row, then "= value"
        assert eval("".join(f.lines).replace("=", "==")) is True


@pytest.mark.parametrize(
    "kind,n,k,s,p",
    [("max", 6, 2, None, 0), ("avg", 6, 2, None, 0), ("max", 5, 3, 2, 1), ("avg", 5, 3, 2, 1),
     ("max", 4, 3, 1, 1), ("avg", 7, 3, None, 0)],
)  # fmt: skip
def test_pool_numbers_equal_torch(kind: str, n: int, k: int, s: int | None, p: int) -> None:
    e = explain_pool(n, k, kind, s, p, seed=2)
    pool = F.max_pool2d if kind == "max" else F.avg_pool2d
    want = pool(t64(e.x), k, s, p)
    np.testing.assert_allclose(e.output, want.numpy(), rtol=0, atol=1e-12)
    assert e.stride == (k if s is None else s)
    check_frames(e)
    for f in e.frames[:-1]:
        if kind == "max":  # "max(1, 3, -inf, 2) = 3"
            inside = re.fullmatch(r"max\((.*)\) = (.*)", f.text).group(1)
            vals = [float(v) for v in inside.split(", ")]
            assert len(vals) == k * k and max(vals) == f.value
        else:  # "(1+3+0+2)/4 = 6/4 = 1.5": padding counts as 0, as torch does by default
            m = re.fullmatch(r"\((.*)\)/(\d+) = (.*)/\d+ = (.*)", f.text)
            vals = [float(v) for v in m.group(1).split("+")]
            assert int(m.group(2)) == k * k == len(vals)
            assert sum(vals) == float(m.group(3))
            assert sum(vals) / (k * k) == pytest.approx(f.value, abs=0.006)
    if kind == "max" and p:
        assert np.isneginf(e.padded[0, 0, 0]).all()  # max pooling's padding can never win


def test_pool_example_text() -> None:
    e = explain_pool(6, 2, "max")
    assert re.fullmatch(r"max\(\d, \d, \d, \d\) = \d", e.frames[0].text)
    assert e.formula == "out = floor((6 + 2*0 - 2) / 2) + 1 = 3"


@pytest.mark.parametrize(
    "kwargs,fragment",
    [
        ({"input_size": 5, "kernel": 9}, "kernel 9 is larger than the padded input 5"),
        ({"input_size": 5, "kernel": 3, "dilation": 3}, "dilation 3 spreads it over 7 cells"),
        ({"input_size": 5, "kernel": 3, "stride": 0}, "stride must be >= 1, got 0"),
        ({"input_size": 5, "kernel": 3, "padding": -1}, "padding must be >= 0, got -1"),
        ({"input_size": 5, "kernel": 3, "dilation": 0}, "dilation must be >= 1, got 0"),
        ({"input_size": 5, "kernel": 3, "channels": 5}, "channels must be between 1 and 4"),
        ({"input_size": 0, "kernel": 1}, "input_size must be between 1 and 32, got 0"),
        ({"input_size": 33, "kernel": 3}, "use input_size <= 32 for an animation"),
        ({"input_size": 30, "kernel": 1}, "900 frames (at most 256)"),
    ],
)
def test_conv_bad_arguments(kwargs: dict, fragment: str) -> None:
    with pytest.raises(ValueError, match=re.escape(fragment)):
        explain_conv(**kwargs)


def test_pool_bad_arguments() -> None:
    with pytest.raises(ValueError, match="kind must be 'max' or 'avg', got 'min'"):
        explain_pool(6, 2, "min")
    with pytest.raises(ValueError, match=r"padding must be at most half the kernel"):
        explain_pool(6, 2, "max", padding=2)


def test_frames_are_drawn_the_same_size_and_differ() -> None:
    e = explain_conv(4, 3, 1, 0, channels=3)
    frames = render_frames(e)
    assert len(frames) == 5 and len({f.size for f in frames}) == 1
    arrays = [np.asarray(f) for f in frames]
    assert all(not np.array_equal(a, b) for a, b in zip(arrays, arrays[1:], strict=False))
    assert sheet_indices(e) == [0, 1, 2, 3, 4]
    big = explain_conv(12, 3, 1, 1)  # 144 cells: 16 evenly chosen plus the final frame
    idx = sheet_indices(big)
    assert len(idx) == 17 and idx[0] == 0 and idx[-2] == 143 and idx[-1] == 144


# ---- the command line ----------------------------------------------------------------------


@pytest.mark.parametrize(
    "argv,name,n_frames",
    [
        (["conv", "--input", "4", "--kernel", "3", "--stride", "1", "--padding", "0"], "conv", 5),
        (["conv", "--input", "3", "--kernel", "2", "--channels", "3", "--name", "rgb"], "rgb", 5),
        (["pool", "--kind", "avg", "--input", "4", "--kernel", "2"], "pool", 5),
    ],
)
def test_cli_writes_gif_and_sheet(capsys, tmp_path: Path, argv: list[str], name: str,
                                  n_frames: int) -> None:  # fmt: skip
    rc, out, err = cli(capsys, "explain", *argv, "--out", tmp_path / "ex", "--fps", "4")
    assert rc == 0, err
    gif, sheet = tmp_path / "ex" / f"{name}.gif", tmp_path / "ex" / f"{name}-frames.png"
    assert str(gif.resolve()) in out and str(sheet.resolve()) in out
    assert "out = floor((" in out
    with Image.open(gif) as im:
        assert im.format == "GIF" and im.n_frames == n_frames
        assert im.info["duration"] == 250
        assert im.convert("RGB").getpixel((2, 2)) == (255, 255, 255)  # the palette kept white
    with Image.open(sheet) as im:
        assert im.format == "PNG" and im.width > 300


@pytest.mark.parametrize(
    "argv,fragments",
    [
        (["conv", "--stride", "0"], ["--stride must be >= 1, got 0"]),
        (["conv", "--padding", "-1"], ["--padding must be >= 0"]),
        (["conv", "--input", "5", "--kernel", "9"], ["--kernel 9 is larger", "(--input 5"]),
        (["conv", "--input", "5", "--dilation", "3"], ["dilation 3 spreads it over 7 cells"]),
        (["conv", "--channels", "5"], ["--channels must be between 1 and 4"]),
        (["conv", "--input", "40"], ["use --input <= 32 for an animation"]),
        (["conv", "--dilation", "0"], ["--dilation must be >= 1"]),
        (["conv", "--fps", "0"], ["--fps must be > 0"]),
        (["pool", "--kind", "min"], ["--kind must be 'max' or 'avg'"]),
        (["pool", "--kernel", "2", "--padding", "2"], ["--padding must be at most half"]),
        (["pool", "--stride", "0"], ["--stride must be >= 1"]),
    ],
)
def test_cli_bad_input_is_one_line(capsys, tmp_path: Path, argv: list[str],
                                   fragments: list[str]) -> None:  # fmt: skip
    rc, _, err = cli(capsys, "explain", *argv, "--out", tmp_path / "ex")
    one_line_error(rc, err, *fragments)
    assert not (tmp_path / "ex").exists()  # nothing written


def test_cli_out_is_a_file(capsys, tmp_path: Path) -> None:
    (tmp_path / "f").write_text("x")
    rc, _, err = cli(capsys, "explain", "conv", "--out", tmp_path / "f")
    one_line_error(rc, err, "is a file; give a folder")
