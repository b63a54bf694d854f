"""The NumPy reference convolution and pooling against torch.nn.functional in float64.

Hypothesis draws hundreds of tiny valid cases (shapes, strides, paddings as ints, pairs,
"valid" and "same", dilations, groups) and both versions, loop and vectorised, must equal
torch to 1e-10. Each case torch rejects must be rejected by us too, with a ValueError naming
the argument, while torch raises on the very same arguments.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from hypothesis import given, settings
from hypothesis import strategies as st

from cnnlab.mechanics import reference as ref

TOL = 1e-10
CONVS = [ref.conv2d_loop, ref.conv2d_im2col]
MAX_POOLS = [ref.max_pool2d_loop, ref.max_pool2d]
AVG_POOLS = [ref.avg_pool2d_loop, ref.avg_pool2d]


def t64(a: np.ndarray | None) -> torch.Tensor | None:
    return None if a is None else torch.tensor(a, dtype=torch.float64)


def pair(draw: st.DrawFn, lo: int, hi: int) -> tuple[int, int]:
    return draw(st.integers(lo, hi)), draw(st.integers(lo, hi))


def as_arg(p: tuple[int, int], draw: st.DrawFn) -> int | tuple[int, int]:
    """Sometimes the int form when both axes agree, so both spellings are exercised."""
    return p[0] if p[0] == p[1] and draw(st.booleans()) else p


@st.composite
def conv_cases(draw: st.DrawFn) -> dict:
    """A valid conv2d call: the input size is drawn so that the dilated kernel fits."""
    groups = draw(st.integers(1, 2))
    c_in, c_out = groups * draw(st.integers(1, 2)), groups * draw(st.integers(1, 2))
    k, d = pair(draw, 1, 4), pair(draw, 1, 2)
    kind = draw(st.sampled_from(["int", "pair", "valid", "same"]))
    if kind == "same":
        padding, s, pad = "same", (1, 1), (0, 0)  # same: the output keeps H x W, any H fits
        if draw(st.booleans()):
            s = 1
    else:
        pad = (0, 0) if kind == "valid" else pair(draw, 0, 2)
        padding = "valid" if kind == "valid" else as_arg(pad, draw)
        s = as_arg(pair(draw, 1, 3), draw)
    span = [d[i] * (k[i] - 1) + 1 for i in range(2)]
    if kind != "same":
        # only sizes the kernel fits in: H + 2p >= d (k - 1) + 1
        lo = [max(1, span[i] - 2 * pad[i]) for i in range(2)]
    else:
        lo = [1, 1]
    h, w = draw(st.integers(lo[0], 9)), draw(st.integers(lo[1], 9))
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    return dict(
        x=rng.standard_normal((draw(st.integers(1, 2)), c_in, h, w)),
        w=rng.standard_normal((c_out, c_in // groups, *k)),
        b=rng.standard_normal(c_out) if draw(st.booleans()) else None,
        stride=s,
        padding=padding,
        dilation=as_arg(d, draw),
        groups=groups,
    )


@st.composite
def pool_cases(draw: st.DrawFn) -> dict:
    """A valid pooling call: padding at most half the window, the window fits."""
    k = pair(draw, 1, 4)
    pad = (draw(st.integers(0, k[0] // 2)), draw(st.integers(0, k[1] // 2)))
    stride = None if draw(st.booleans()) else as_arg(pair(draw, 1, 3), draw)
    h = draw(st.integers(max(1, k[0] - 2 * pad[0]), 9))
    w = draw(st.integers(max(1, k[1] - 2 * pad[1]), 9))
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    x = rng.standard_normal((draw(st.integers(1, 2)), draw(st.integers(1, 4)), h, w))
    return dict(x=x, kernel_size=as_arg(k, draw), stride=stride, padding=as_arg(pad, draw))


# ---- equality with torch ---------------------------------------------------------------------


@pytest.mark.filterwarnings("ignore:Using padding='same'")  # torch's note on its own speed
@settings(max_examples=200, deadline=None)
@given(conv_cases())
def test_conv2d_equals_torch(case: dict) -> None:
    args = {k: v for k, v in case.items() if k not in ("x", "w", "b")}
    want = F.conv2d(t64(case["x"]), t64(case["w"]), t64(case["b"]), **args).numpy()
    for conv in CONVS:
        got = conv(case["x"], case["w"], case["b"], **args)
        assert got.shape == want.shape, conv.__name__
        assert got.dtype == np.float64
        np.testing.assert_allclose(got, want, rtol=0, atol=TOL, err_msg=conv.__name__)


@settings(max_examples=200, deadline=None)
@given(pool_cases())
def test_pools_equal_torch(case: dict) -> None:
    x, args = case["x"], {k: v for k, v in case.items() if k != "x"}
    want_max = F.max_pool2d(t64(x), **args).numpy()
    want_avg = F.avg_pool2d(t64(x), **args).numpy()  # count_include_pad=True, the default
    for fn, want in [*((f, want_max) for f in MAX_POOLS), *((f, want_avg) for f in AVG_POOLS)]:
        got = fn(x, **args)
        assert got.shape == want.shape, fn.__name__
        np.testing.assert_allclose(got, want, rtol=0, atol=TOL, err_msg=fn.__name__)


@settings(max_examples=200, deadline=None)
@given(pool_cases())
def test_global_pools_equal_adaptive(case: dict) -> None:
    x = case["x"]
    got_avg, got_max = ref.global_avg_pool2d(x), ref.global_max_pool2d(x)
    assert got_avg.shape == got_max.shape == (*x.shape[:2], 1, 1)
    np.testing.assert_allclose(got_avg, F.adaptive_avg_pool2d(t64(x), 1).numpy(), atol=TOL)
    np.testing.assert_allclose(got_max, F.adaptive_max_pool2d(t64(x), 1).numpy(), atol=TOL)


@settings(max_examples=200, deadline=None)
@given(conv_cases())
def test_conv_output_size_matches_torch(case: dict) -> None:
    if isinstance(case["padding"], str):
        return  # the formula takes numbers; "same"/"valid" are covered by the conv test
    x, w = case["x"], case["w"]
    s, p, d = (np.broadcast_to(case[k], 2) for k in ("stride", "padding", "dilation"))
    want = F.conv2d(t64(x), t64(w), stride=case["stride"], padding=case["padding"],
                    dilation=case["dilation"], groups=case["groups"]).shape[2:]  # fmt: skip
    got = tuple(
        ref.conv_output_size(x.shape[2 + i], w.shape[2 + i], int(s[i]), int(p[i]), int(d[i]))
        for i in range(2)
    )
    assert got == tuple(want)


# ---- fixed cases a reader can check by hand ----------------------------------------------------


def test_worked_example_7x7_kernel3_stride2_padding1() -> None:
    """The lecture's example: a 7x7 input, 3x3 kernel, stride 2, padding 1 gives 4x4."""
    assert ref.conv_output_size(7, 3, stride=2, padding=1) == 4
    x = np.arange(49, dtype=np.float64).reshape(1, 1, 7, 7)
    w = np.ones((1, 1, 3, 3))
    out = ref.conv2d_loop(x, w, stride=2, padding=1)
    assert out.shape == (1, 1, 4, 4)
    # top-left output: the window covers the padded corner, so only x[0:2, 0:2] counts
    assert out[0, 0, 0, 0] == 0 + 1 + 7 + 8
    # (1, 1): the full window centred on x[2, 2] = 16 sums 9 * 16
    assert out[0, 0, 1, 1] == 9 * 16
    np.testing.assert_array_equal(ref.conv2d_im2col(x, w, stride=2, padding=1), out)


@pytest.mark.parametrize("k", [2, 3, 4])
@pytest.mark.parametrize("d", [1, 2])
def test_same_padding_is_asymmetric_like_torch(k: int, d: int) -> None:
    total = d * (k - 1)
    assert ref.resolve_padding("same", k, 1, d) == (
        total // 2, total - total // 2, total // 2, total - total // 2,
    )  # fmt: skip
    rng = np.random.default_rng(k * 10 + d)
    x, w = rng.standard_normal((1, 2, 6, 5)), rng.standard_normal((3, 2, k, k))
    want = F.conv2d(t64(x), t64(w), padding="same", dilation=d).numpy()
    for conv in CONVS:
        got = conv(x, w, padding="same", dilation=d)
        assert got.shape == (1, 3, 6, 5)
        np.testing.assert_allclose(got, want, atol=TOL)


def test_pad2d_shapes_and_values() -> None:
    x = np.arange(2 * 3 * 4 * 5, dtype=np.float64).reshape(2, 3, 4, 5)
    p = ref.pad2d(x, 2)
    assert p.shape == (2, 3, 8, 9)
    np.testing.assert_array_equal(p[:, :, 2:-2, 2:-2], x)
    assert p.sum() == x.sum()  # the border is zeros
    assert ref.pad2d(x, (1, 0)).shape == (2, 3, 6, 5)
    assert ref.pad2d(x, (0, 1, 2, 3)).shape == (2, 3, 5, 10)
    assert ref.pad2d(x[0, 0], 1).shape == (6, 7)  # any leading axes
    assert np.isneginf(ref.pad2d(x, 1, value=-np.inf)[0, 0, 0, 0])


def test_dtype_follows_the_input() -> None:
    x = np.ones((1, 2, 5, 5), dtype=np.float32)
    w = np.ones((3, 2, 3, 3), dtype=np.float32)
    for fn in CONVS:
        assert fn(x, w).dtype == np.float32
    for fn in [*MAX_POOLS, *AVG_POOLS]:
        assert fn(x, 2).dtype == np.float32
    assert ref.global_avg_pool2d(x).dtype == np.float32
    # an integer image works too (as float64), and max pooling never picks the -inf padding
    img = np.arange(16).reshape(1, 1, 4, 4)
    np.testing.assert_array_equal(ref.max_pool2d(img, 2, padding=1)[0, 0, 0], [0.0, 2.0, 3.0])
    assert ref.conv2d(img, np.ones((1, 1, 2, 2))).dtype == np.float64


def test_conv2d_is_the_im2col_version() -> None:
    assert ref.conv2d is ref.conv2d_im2col


# ---- errors: torch rejects it, we reject it with a ValueError naming the argument --------------

X = np.zeros((1, 2, 5, 5))
W = np.zeros((4, 2, 3, 3))

CONV_ERRORS = {
    "stride 0": (dict(x=X, w=W, stride=0), "stride"),
    "stride pair with 0": (dict(x=X, w=W, stride=(1, 0)), "stride"),
    "dilation 0": (dict(x=X, w=W, dilation=0), "dilation"),
    "negative padding": (dict(x=X, w=W, padding=-1), "padding"),
    "unknown padding string": (dict(x=X, w=W, padding="full"), "padding"),
    "same with stride 2": (dict(x=X, w=W, padding="same", stride=2), "stride 1"),
    "kernel larger than padded input": (dict(x=X, w=np.zeros((4, 2, 6, 6))), "kernel"),
    "dilated kernel too large": (dict(x=X, w=W, dilation=3), "dilation"),
    "in-channels mismatch": (dict(x=X, w=np.zeros((4, 3, 3, 3))), "input channels"),
    "in-channels vs groups": (dict(x=X, w=W, groups=2), "groups"),
    "C_out not divisible by groups": (
        dict(x=X, w=np.zeros((3, 1, 3, 3)), groups=2), "divide C_out"
    ),
    "groups 0": (dict(x=X, w=W, groups=0), "groups"),
    "x not 4-D": (dict(x=X[0, 0], w=W), "x must be a 4-D"),
    "x 5-D": (dict(x=X[None], w=W), "x must be a 4-D"),
    "w not 4-D": (dict(x=X, w=W[0]), "w must be a 4-D"),
    "bias length": (dict(x=X, w=W, b=np.zeros(3)), "b must have shape"),
}  # fmt: skip


@pytest.mark.parametrize("name", CONV_ERRORS)
@pytest.mark.parametrize("conv", CONVS, ids=lambda f: f.__name__)
def test_conv_errors_like_torch(name: str, conv: Callable) -> None:
    kwargs, words = CONV_ERRORS[name]
    args = dict(kwargs)
    x, w, b = args.pop("x"), args.pop("w"), args.pop("b", None)
    with pytest.raises((RuntimeError, ValueError)):
        F.conv2d(t64(x), t64(w), t64(b), **args)
    with pytest.raises(ValueError, match=words) as info:
        conv(x, w, b, **args)
    assert "\n" not in str(info.value)  # one line, as the CLI prints it


POOL_ERRORS = {
    "padding over half the kernel": (dict(kernel_size=3, padding=2), "at most half"),
    "padding over half, height only": (dict(kernel_size=3, padding=(2, 0)), "at most half"),
    "padding over half, width only": (dict(kernel_size=(4, 3), padding=(0, 2)), "at most half"),
    "negative padding": (dict(kernel_size=3, padding=-1), "padding"),
    "stride 0": (dict(kernel_size=3, stride=0), "stride"),
    "kernel 0": (dict(kernel_size=0), "kernel_size"),
    "window larger than input": (dict(kernel_size=6), "pooling window"),
    "window larger, one axis": (dict(kernel_size=(2, 8), padding=1), "pooling window"),
}


@pytest.mark.parametrize("name", POOL_ERRORS)
@pytest.mark.parametrize("kind", ["max", "avg"])
def test_pool_errors_like_torch(name: str, kind: str) -> None:
    args, words = POOL_ERRORS[name]
    torch_pool = F.max_pool2d if kind == "max" else F.avg_pool2d
    with pytest.raises((RuntimeError, ValueError)):
        torch_pool(t64(X), **args)
    for pool in MAX_POOLS if kind == "max" else AVG_POOLS:
        with pytest.raises(ValueError, match=words):
            pool(X, **args)


@pytest.mark.parametrize("bad", [X[0, 0], X[None]])
def test_pool_rejects_wrong_ndim_like_torch(bad: np.ndarray) -> None:
    with pytest.raises(RuntimeError):
        F.max_pool2d(t64(bad), 2)
    for fn in [*MAX_POOLS, *AVG_POOLS]:
        with pytest.raises(ValueError, match="x must be a 4-D"):
            fn(bad, 2)
    for fn in (ref.global_avg_pool2d, ref.global_max_pool2d):
        with pytest.raises(ValueError, match="x must be a 4-D"):
            fn(bad)


@pytest.mark.parametrize(
    "kwargs, words",
    [
        (dict(size=5, kernel=3, stride=0), "stride"),
        (dict(size=5, kernel=3, padding=-1), "padding"),
        (dict(size=5, kernel=3, dilation=0), "dilation"),
        (dict(size=5, kernel=0), "kernel"),
        (dict(size=5, kernel=6), "padded input has only 5"),
        (dict(size=5, kernel=3, stride=1.5), "stride must be an int"),
        (dict(size=5, kernel=3, stride=True), "stride must be an int"),
    ],
)
def test_conv_output_size_errors(kwargs: dict, words: str) -> None:
    with pytest.raises(ValueError, match=words):
        ref.conv_output_size(**kwargs)


def test_bad_types_name_the_argument() -> None:
    with pytest.raises(ValueError, match="stride must be an int or a pair"):
        ref.conv2d(X, W, stride=(1, 1, 1))
    with pytest.raises(ValueError, match="padding must be an int"):
        ref.conv2d(X, W, padding=1.5)
    with pytest.raises(ValueError, match="groups must be an int"):
        ref.conv2d(X, W, groups=1.0)


def test_errors_are_raised_before_computing(monkeypatch: pytest.MonkeyPatch) -> None:
    """A bad call never reaches the padding step (where the work starts)."""

    def boom(*a: object, **k: object) -> None:
        raise AssertionError("computed before checking")

    monkeypatch.setattr(ref, "pad2d", boom)
    for conv in CONVS:
        with pytest.raises(ValueError, match="b must have shape"):
            conv(X, W, np.zeros(2))
    with pytest.raises(ValueError, match="at most half"):
        ref.max_pool2d_loop(X, 3, padding=2)
