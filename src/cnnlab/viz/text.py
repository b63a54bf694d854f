"""A text with its tokens coloured by a score (a token's contribution to a prediction): as a
figure, as HTML and as the colours a terminal shows. Orange: for the predicted class; blue:
against it; the stronger the colour, the larger the share."""

from __future__ import annotations

import html
import textwrap

import numpy as np
from matplotlib.figure import Figure

FOR = np.array([230, 97, 1]) / 255  # orange: supports the predicted class
AGAINST = np.array([33, 102, 172]) / 255  # blue: speaks against it
MONO = "DejaVu Sans Mono"


def drawable(text: str) -> str:
    """`text` with what a font cannot draw (control characters, emoji and other characters
    beyond the basic plane) as a middle dot: the same length, so token offsets still hold."""
    return "".join(c if c.isprintable() and ord(c) <= 0xFFFF else "\u00b7" for c in text)


def token_colors(scores: np.ndarray) -> np.ndarray:
    """RGB in [0, 1] per score: white at 0, full colour at the largest |score|.
    Shapes: (n,) -> (n, 3)."""
    s = np.asarray(scores, dtype=np.float64)
    top = float(np.abs(s).max()) if s.size else 0.0
    a = np.abs(s) / top if top > 0 else np.zeros_like(s)
    base = np.where(s[:, None] >= 0, FOR, AGAINST)
    return 1.0 - a[:, None] * (1.0 - base)


def _owner(text: str, spans: list[tuple[int, int]]) -> np.ndarray:
    """The token index of each character of `text`, -1 between tokens."""
    owner = np.full(len(text), -1)
    for i, (a, b) in enumerate(spans):
        owner[a:b] = i
    return owner


def _lines(text: str, width: int) -> list[tuple[int, int]]:
    """(start, end) character ranges of `text` wrapped at spaces to `width` columns."""
    out, start = [], 0
    for line in textwrap.wrap(text, width, drop_whitespace=False, replace_whitespace=False,
                              break_long_words=True) or [""]:  # fmt: skip
        out.append((start, start + len(line)))
        start += len(line)
    return out


def plot_token_scores(text: str, spans: list[tuple[int, int]], scores: np.ndarray,
                      title: str = "", width: int = 72) -> Figure:  # fmt: skip
    """The text in a monospaced font, each token on its colour, wrapped at `width` columns."""
    text = drawable(text.replace("\n", " "))
    colors, owner = token_colors(scores), _owner(text, spans)
    lines = _lines(text, width)
    cols = max(1, max(b - a for a, b in lines))
    # one column is one character's advance: 0.602 em of DejaVu Sans Mono at 11 pt
    fig = Figure(figsize=(11 * 0.602 / 72 * cols / 0.96 + 0.05, 0.3 * len(lines) + 0.5))
    ax = fig.add_axes((0.02, 0.02, 0.96, 0.96 - (0.6 / fig.get_figheight() if title else 0)))
    ax.set_xlim(0, cols)
    ax.set_ylim(len(lines), -0.6)
    ax.axis("off")
    for row, (a, b) in enumerate(lines):
        c = a
        while c < b:
            d = c
            while d < b and owner[d] == owner[c]:
                d += 1
            box = None
            if owner[c] >= 0 and text[c:d].strip():
                box = {"facecolor": colors[owner[c]], "edgecolor": "none", "pad": 1.5}
            ax.text(c - a, row, text[c:d], family=MONO, fontsize=11, va="center", ha="left",
                    bbox=box)  # fmt: skip
            c = d
    if title:
        fig.suptitle(title, fontsize=10, x=0.02, ha="left")
    return fig


def token_scores_html(text: str, spans: list[tuple[int, int]], scores: np.ndarray) -> str:
    """The text as HTML, each token a <span> on its colour with its score as a tooltip."""
    colors = token_colors(scores)
    parts, last = [], 0
    for (a, b), rgb, s in zip(spans, colors, scores, strict=True):
        if a < last:  # overlapping spans (never from our tokenizers): keep the text whole
            continue
        parts.append(html.escape(text[last:a]))
        r, g, bl = (int(round(255 * v)) for v in rgb)
        parts.append(f'<span style="background:rgb({r},{g},{bl})" title="{s:+.3f}">'
                     f"{html.escape(text[a:b])}</span>")  # fmt: skip
        last = b
    parts.append(html.escape(text[last:]))
    return "".join(parts)


def terminal_styles(scores: np.ndarray) -> list[str]:
    """A rich style per token ("on rgb(...)", black text) for the same colours."""
    return [f"black on rgb({int(255 * r)},{int(255 * g)},{int(255 * b)})"
            for r, g, b in token_colors(scores)]  # fmt: skip
