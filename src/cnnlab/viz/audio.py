"""Figures for sound: a recording's timeline for `cnnlab listen` (waveform with the words
found, log-mel spectrogram, every keyword's score over time) and a clip's spectrogram with
the feature maps of each conv stage for `cnnlab show features`."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
from matplotlib.figure import Figure

RATE = 16_000


def timeline_figure(wave: np.ndarray, logmel: np.ndarray, times: np.ndarray,
                    scores: np.ndarray, classes: Sequence[str], keywords: Sequence[int],
                    detections: Sequence[Any], threshold: float,
                    truth: Sequence[Any] = ()) -> Figure:  # fmt: skip
    """Three rows sharing the time axis. `logmel` (mels, frames) at 10 ms per frame; `scores`
    (W, classes) at `times`; detections and truth have .word, .start/.end (truth) or .time."""
    seconds = len(wave) / RATE
    fig = Figure(figsize=(min(24.0, 4.0 + seconds / 4), 6.4))
    ax_w, ax_s, ax_p = fig.subplots(3, 1, sharex=True, height_ratios=[1.0, 1.2, 1.4])
    t = np.arange(len(wave)) / RATE
    step = max(1, len(wave) // 20000)
    ax_w.plot(t[::step], wave[::step], lw=0.4, color="0.35")
    for s in truth:
        colour = "0.85" if s.word.startswith("_") else "#cfe3f5"
        ax_w.axvspan(s.start, s.end, color=colour, zorder=0)
    top = float(np.abs(wave).max() or 1.0)
    for d in detections:
        ax_w.axvline(d.time, color="tab:orange", lw=1.2)
        ax_w.text(d.time, top, d.word, ha="center", va="bottom", fontsize=8, color="tab:orange")
    ax_w.set_ylabel("wave")
    ax_w.set_title("words found (orange); spoken words shaded (blue: keywords, grey: others)"
                   if truth else "words found (orange)", fontsize=9)  # fmt: skip
    ax_s.imshow(logmel, aspect="auto", origin="lower", cmap="magma",
                extent=(0, logmel.shape[1] / 100, 0, logmel.shape[0]))  # fmt: skip
    ax_s.set_ylabel("mel band")
    cmap = _colours(len(keywords))
    for k, c in enumerate(keywords):
        ax_p.plot(times, scores[:, c], lw=1.0, color=cmap[k], label=classes[c])
    ax_p.axhline(threshold, color="0.4", ls=":", lw=1.0)
    ax_p.set_ylim(0, 1.02)
    ax_p.set_ylabel("score (smoothed)")
    ax_p.set_xlabel("time (s)")
    ax_p.set_xlim(0, seconds)
    ax_p.legend(fontsize=7, ncol=min(10, len(keywords)), loc="upper right", frameon=False)
    fig.tight_layout()
    return fig


def _colours(n: int) -> list[Any]:
    from matplotlib import colormaps

    cmap = colormaps["tab10" if n <= 10 else "tab20"]
    return [cmap(i % cmap.N) for i in range(n)]


def clip_features_figure(spec: np.ndarray, maps: Sequence[tuple[str, np.ndarray]],
                         title: str, per_stage: int = 8) -> Figure:  # fmt: skip
    """The clip's log-mel spectrogram (mels, frames) above `per_stage` maps of every stage;
    a map is (F, T) for 2-D stages or (T,) for 1-D ones (drawn as a strip)."""
    rows = 1 + len(maps)
    fig = Figure(figsize=(1.6 * per_stage, 1.5 * rows + 0.6))
    grid = fig.add_gridspec(rows, per_stage)
    ax = fig.add_subplot(grid[0, :])
    ax.imshow(spec, aspect="auto", origin="lower", cmap="magma")
    ax.set_title(title, fontsize=9)
    ax.set_ylabel("mel")
    ax.set_xlabel("frame (10 ms)")
    for r, (name, stack) in enumerate(maps, start=1):
        for j in range(min(per_stage, len(stack))):
            a = fig.add_subplot(grid[r, j])
            m = stack[j] if stack[j].ndim == 2 else stack[j][None]
            a.imshow(m, aspect="auto", origin="lower", cmap="viridis")
            a.set_xticks([])
            a.set_yticks([])
            if j == 0:
                a.set_ylabel(name, fontsize=7)
    fig.tight_layout()
    return fig
