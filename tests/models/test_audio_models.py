"""The keyword models on a log-mel input (B, 1, 40 mels, 101 frames): shapes, what makes each
one what it is (depthwise convs, filters that span every band), and a task they learn in
seconds."""

from __future__ import annotations

import pytest
import torch

from cnnlab.models import count_parameters, create_task_model

NAMES = ("kws-cnn", "kws-ds-cnn", "kws-tc", "kws-mlp")


@pytest.mark.parametrize("name", NAMES)
def test_a_spectrogram_gives_one_logit_per_class(name):
    model = create_task_model("keywords", name, 1, 12, (40, 101)).eval()
    assert model(torch.randn(3, 1, 40, 101)).shape == (3, 12)


def test_the_ds_cnn_is_depthwise_and_far_smaller():
    ds = create_task_model("keywords", "kws-ds-cnn", 1, 12, (40, 101))
    depthwise = [m for m in ds.modules() if isinstance(m, torch.nn.Conv2d) and m.groups > 1]
    assert len(depthwise) == 4 and all(m.groups == m.in_channels == 64 for m in depthwise)
    cnn = create_task_model("keywords", "kws-cnn", 1, 12, (40, 101))
    assert count_parameters(ds) * 5 < count_parameters(cnn)


def test_the_temporal_conv_spans_every_band():
    tc = create_task_model("keywords", "kws-tc", 1, 12, (40, 101))
    first = next(m for m in tc.modules() if isinstance(m, torch.nn.Conv1d))
    assert first.in_channels == 40 and first.kernel_size == (9,)


@pytest.mark.parametrize("name", ["kws-cnn", "kws-ds-cnn", "kws-tc"])
def test_a_band_at_any_time_is_learned(name):
    """Class k: a bright band at mel rows 5 + 8k, at a random time. A conv model learns it in
    seconds and tells the classes apart at any time offset."""
    g = torch.Generator().manual_seed(0)

    def batch(n):
        y = torch.randint(0, 3, (n,), generator=g)
        x = torch.randn(n, 1, 40, 40, generator=g) * 0.3
        t = torch.randint(0, 30, (n,), generator=g)
        for i in range(n):
            x[i, 0, 5 + 8 * y[i] : 8 + 8 * y[i], t[i] : t[i] + 10] += 2.0
        return x, y

    torch.manual_seed(0)
    model = create_task_model("keywords", name, 1, 3, (40, 40))
    opt = torch.optim.AdamW(model.parameters(), 1e-2)
    for _ in range(30):
        x, y = batch(32)
        loss = torch.nn.functional.cross_entropy(model(x), y)
        opt.zero_grad()
        loss.backward()
        opt.step()
    x, y = batch(96)
    with torch.no_grad():
        acc = (model.eval()(x).argmax(1) == y).float().mean().item()
    # chance is 1/3; the depthwise-separable net (21k parameters) learns slower in 30 steps
    assert acc > (0.6 if name == "kws-ds-cnn" else 0.9), acc
