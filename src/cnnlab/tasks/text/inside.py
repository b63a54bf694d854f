"""What a text model sees in one text: each token's contribution to the predicted class, the
text counterpart of feature maps (`cnnlab show features RUN --text "..."`).

For `text-cnn` the split is exact. The predicted class's logit is the bias plus, over every
max-over-time unit k, head weight[c, k] x the unit's value; that value is one convolution
window's output, so each unit's share goes, in equal parts, to the tokens of the window that
won its max. Token shares and the bias add up to the logit. The windows themselves, summed
over the units they won, are the n-grams the convolutions fired on.

Other text models (`text-cnn-deep`, `bow-mlp`) get gradient x input: the logit's gradient
with respect to each token's embedding, times that embedding, summed over its dimensions (a
first-order estimate, not an exact split).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import torch

from cnnlab.core.errors import DataError
from cnnlab.models.text import TextCNN, valid_windows

EXACT = "max-over-time windows (exact: token shares + bias = logit)"
GRADIENT = "gradient x embedding (a first-order estimate)"


@dataclass
class TokenView:
    """One text as the model saw it: token spans in `text`, each token's contribution to the
    predicted class's logit, and the strongest n-gram windows."""

    text: str
    spans: list[tuple[int, int]]  # (start, end) character offsets of each token in text
    scores: np.ndarray  # (tokens,) contribution to the predicted class's logit
    predicted: int
    probs: np.ndarray  # (classes,)
    classes: list[str]
    method: str
    bias: float = 0.0
    windows: list[tuple[str, int, float]] = field(default_factory=list)  # (n-gram, width, sum)
    cut: int = 0  # tokens after max_len that the model did not see

    @property
    def tokens(self) -> list[str]:
        return [self.text[a:b] for a, b in self.spans]


def _spans(text: str, offsets: list[tuple[int, int]]) -> list[tuple[int, int]]:
    """Token offsets without the leading space a byte-level token carries."""
    out = []
    for a, b in offsets:
        while a < b - 1 and text[a].isspace():
            a += 1
        out.append((a, b))
    return out


def explain_text(model: torch.nn.Module, tokenizer: Any, text: str, max_len: int,
                 classes: list[str], top: int = 5) -> TokenView:  # fmt: skip
    """Token contributions of `text` to the class `model` predicts; `top` n-gram windows."""
    enc = tokenizer.encode(text)
    if not enc.ids:
        raise DataError(f"the text {text[:40]!r} has no tokens for this run's tokenizer; give "
                        "a text with words in it")  # fmt: skip
    ids = enc.ids[:max_len]
    spans = _spans(text, enc.offsets[:max_len])
    x = torch.tensor([ids], dtype=torch.int64)
    model.eval()
    if isinstance(model, TextCNN):
        view = _exact(model, x, spans, top, text)
    else:
        view = _gradient(model, x)
    scores, logits, bias, windows = view
    probs = torch.softmax(logits, 0).numpy()
    return TokenView(text, spans, scores, int(probs.argmax()), probs, list(classes),
                     EXACT if isinstance(model, TextCNN) else GRADIENT, bias, windows,
                     cut=len(enc.ids) - len(ids))  # fmt: skip


def _exact(model: TextCNN, x: torch.Tensor, spans: list[tuple[int, int]], top: int, text: str):
    n = x.shape[1]
    with torch.no_grad():
        maps = model.feature_maps(x)
        values, starts, widths = [], [], []
        for h, conv in zip(maps, model.convs, strict=True):
            w = conv[0].kernel_size[0]
            valid = int(valid_windows(x != 0, w, h.shape[2]).sum())
            v, p = h[0, :, :valid].max(dim=1)  # (C,): each unit's value and winning window
            values.append(v)
            starts.append(p - w // 2)  # the window's first input position
            widths += [w] * len(v)
        f = torch.cat(values)
        logits = model.forward_head(f[None])[0]
        c = int(logits.argmax())
        share = model.head.weight[c] * f  # (units,): each unit's part of the logit
    scores = np.zeros(n)
    grams: dict[tuple[int, int], float] = {}
    for s, w, part in zip(torch.cat(starts).tolist(), widths, share.tolist(), strict=True):
        a, b = max(s, 0), min(s + w, n)  # the window's real tokens (the rest is padding)
        scores[a:b] += part / (b - a)
        grams[(a, b)] = grams.get((a, b), 0.0) + part
    best = sorted(grams.items(), key=lambda kv: -kv[1])[:top]
    windows = [(text[spans[a][0] : spans[b - 1][1]], b - a, g) for (a, b), g in best]
    return scores, logits, float(model.head.bias.detach()[c]), windows


def _gradient(model: torch.nn.Module, x: torch.Tensor):
    if not isinstance(getattr(model, "embedding", None), torch.nn.Embedding):
        raise DataError(f"{type(model).__name__} has no token embedding to explain")
    kept: list[torch.Tensor] = []

    def keep(module: Any, inputs: Any, out: torch.Tensor) -> torch.Tensor:
        out.retain_grad()
        kept.append(out)
        return out

    handle = model.embedding.register_forward_hook(keep)
    try:
        with torch.enable_grad():
            logits = model(x)[0]
            c = int(logits.argmax())
            logits[c].backward()
    finally:
        handle.remove()
        model.zero_grad(set_to_none=True)
    e = kept[0]
    scores = (e.grad * e).sum(-1)[0].detach().numpy().astype(np.float64)
    bias = getattr(getattr(model, "head", None), "bias", None)
    return scores, logits.detach(), float(bias.detach()[c]) if bias is not None else 0.0, []


def write_text_features(run: Any, texts: list[str], out: Any, dpi: int = 110):
    """Explain each text with the run's model: a PNG per text (out/text-NN.png) and one HTML
    page for all (out/text-features.html). Returns [(TokenView, png path)] and the page."""
    import html
    from pathlib import Path

    from cnnlab.core.io import atomic_write
    from cnnlab.tasks.text.saved import load_text_run
    from cnnlab.viz.figures import save_figure
    from cnnlab.viz.text import plot_token_scores, token_scores_html

    model, meta, tokenizer = load_text_run(Path(run))
    views = [explain_text(model, tokenizer, t, int(meta.input_size[0]), meta.classes)
             for t in texts]  # every text is checked before anything is written  # fmt: skip
    out, done, blocks = Path(out), [], []
    for i, v in enumerate(views, start=1):
        title = f"{headline(v)}   [{v.method}]"
        png = save_figure(plot_token_scores(v.text, v.spans, v.scores, title), out /
                          f"text-{i:02d}.png", dpi)  # fmt: skip
        done.append((v, png))
        grams = "".join(f"<li>{html.escape(g)!s} ({w} tokens): {s:+.3f}</li>"
                        for g, w, s in v.windows)  # fmt: skip
        blocks.append(f"<h2>{html.escape(headline(v))}</h2><p class=t>"
                      f"{token_scores_html(v.text, v.spans, v.scores)}</p>"
                      f"<p>{html.escape(v.method)}; bias {v.bias:+.3f}</p>"
                      + (f"<ul>{grams}</ul>" if grams else ""))  # fmt: skip
    page = out / "text-features.html"
    atomic_write(page, "<!doctype html><meta charset=utf-8><title>cnnlab: what the model "
                 "sees</title><style>body{font-family:sans-serif;max-width:52em;margin:2em auto}"
                 ".t{font:1.2em monospace;line-height:1.9}</style><p>Orange: for the predicted "
                 "class; blue: against it. Hover a token for its share of the logit.</p>"
                 + "".join(blocks))  # fmt: skip
    return done, page


def headline(v: TokenView) -> str:
    """'predicted: negative 91.2% (neutral 6.0%, positive 2.8%)'."""
    order = np.argsort(-v.probs, kind="stable")
    rest = ", ".join(f"{v.classes[j]} {v.probs[j]:.1%}" for j in order[1:])
    return f"predicted: {v.classes[order[0]]} {v.probs[order[0]]:.1%}" + (
        f" ({rest})" if rest else "")  # fmt: skip
