"""The text models: padding never changes an answer, the bag of words ignores order and the
CNN does not, and on a task decided by word order the CNN learns what the bag of words
cannot."""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F

from cnnlab.models import create_task_model

NAMES = ["text-cnn", "text-cnn-deep", "bow-mlp"]


def build(name: str, vocab: int = 30, classes: int = 2, length: int = 12, **cfg):
    torch.manual_seed(0)
    return create_task_model("text", name, vocab, classes, (length,), **cfg)


@pytest.mark.parametrize("name", NAMES)
def test_padding_never_changes_the_answer(name):
    model = build(name).eval()
    ids = torch.tensor([[3, 7, 9, 4, 11, 5, 8]])
    padded = F.pad(ids, (0, 9))  # the same text in a longer, padded batch
    with torch.no_grad():
        torch.testing.assert_close(model(ids), model(padded), atol=1e-5, rtol=1e-5)


def test_only_padding_gives_a_finite_answer():
    for name in NAMES:
        with torch.no_grad():
            assert torch.isfinite(build(name).eval()(torch.zeros(2, 12, dtype=torch.long))).all()


def test_the_bag_of_words_ignores_order_and_the_cnn_does_not():
    ids = torch.tensor([[3, 7, 9, 4, 11, 5]])
    flipped = ids.flip(1)
    with torch.no_grad():
        bow, cnn = build("bow-mlp").eval(), build("text-cnn").eval()
        torch.testing.assert_close(bow(ids), bow(flipped))
        assert not torch.allclose(cnn(ids), cnn(flipped))


def order_task(n: int, g: torch.Generator) -> tuple[torch.Tensor, torch.Tensor]:
    """Random texts of tokens 3..29 that contain the pair (1, 2) once: class 1 when it reads
    "1 2", class 0 when it reads "2 1". Only word order separates the classes."""
    x = torch.randint(3, 30, (n, 12), generator=g)
    y = torch.randint(0, 2, (n,), generator=g)
    at = torch.randint(0, 11, (n,), generator=g)
    rows = torch.arange(n)
    x[rows, at] = torch.where(y == 1, 1, 2)
    x[rows, at + 1] = torch.where(y == 1, 2, 1)
    return x, y


def test_word_order_is_learned_by_the_cnn_not_by_the_bag_of_words():
    g = torch.Generator().manual_seed(0)
    x, y = order_task(2000, g)
    tx, ty = order_task(500, g)
    acc = {}
    for name in ("text-cnn", "bow-mlp"):
        model = build(name, widths=(2,), channels=16) if name == "text-cnn" else build(name)
        opt = torch.optim.Adam(model.parameters(), lr=1e-2)
        for _ in range(4):
            for i in range(0, len(x), 50):
                loss = F.cross_entropy(model(x[i : i + 50]), y[i : i + 50])
                opt.zero_grad()
                loss.backward()
                opt.step()
        with torch.no_grad():
            acc[name] = (model.eval()(tx).argmax(1) == ty).float().mean().item()
    assert acc["text-cnn"] > 0.95, acc
    assert acc["bow-mlp"] < 0.65, acc  # the same words in both classes: chance


@pytest.mark.parametrize(("cfg", "message"), [({"widths": ()}, "widths"),
                                              ({"dropout": 1.0}, "dropout")])  # fmt: skip
def test_bad_settings_say_which(cfg, message):
    with pytest.raises(ValueError, match=message):
        build("text-cnn", **cfg)
