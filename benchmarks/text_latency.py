"""How long one text takes to classify after the run is loaded (issue goal: under 20 ms), for
each text model and for the TF-IDF + logistic regression baseline, side by side in one
process: tokenizing and the forward pass (what `cnnlab predict RUN --text` does per text),
median and 99th percentile of `--calls` calls, for a typical tweet and for a text of 100,000
characters (cut to the run's max_len tokens). Then the whole command, `cnnlab predict RUN
--text "..."`, as a fresh process (median of `--processes`).

The runs are trained for one epoch on 3,000 tweets: speed does not depend on how well the
weights are trained, only on the model and the tokenizer.

    python benchmarks/text_latency.py [--calls 300] [--processes 5]
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import torch
from _common import command, machine, median, timed, write_section
from rich.console import Console

MODELS = ("text-cnn", "text-cnn-deep", "bow-mlp")
LONG = "the flight was late again " * 3847  # 100,022 characters


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--calls", type=int, default=300)
    ap.add_argument("--processes", type=int, default=5)
    ap.add_argument("--no_write", action="store_true", help="print only, leave docs/ alone")
    args = ap.parse_args()
    from cnnlab.data.text import load_text_data
    from cnnlab.tasks.text.baseline import tfidf_baseline
    from cnnlab.tasks.text.results import probabilities
    from cnnlab.tasks.text.run import text
    from cnnlab.tasks.text.saved import load_text_run
    from cnnlab.tasks.text.tokens import encode

    data = load_text_data("tweets", train_limit=3000, seed=0)
    tweet = sorted(data.test_texts, key=len)[len(data.test_texts) // 2]  # the median length
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for name in MODELS:
            r = text(data=data, model=name, epochs=1, baseline=False, runs_dir=tmp, name=name,
                     progress=False, console=Console(quiet=True))  # fmt: skip
            model, meta, tok = load_text_run(r.folder)
            max_len = int(meta.input_size[0])

            def one(t: str, model=model, tok=tok, max_len=max_len) -> None:
                probabilities(model, torch.from_numpy(encode(tok, [t], max_len)))

            for label, t in (("tweet", tweet), ("100,000 characters", LONG)):
                ms = timed(lambda t=t, one=one: one(t), args.calls)
                rows.append([name, meta.extra.get("tokenizer", "?"), label, ms])
                print(f"{name:14} {label:20} p50 {np.median(ms):.3f} ms  p99 "
                      f"{np.percentile(ms, 99):.3f} ms", flush=True)  # fmt: skip
        base = tfidf_baseline(data).model
        for label, t in (("tweet", tweet), ("100,000 characters", LONG)):
            ms = timed(lambda t=t: base.predict_proba([t]), args.calls)
            rows.append(["TF-IDF + logistic regression", "word + char n-grams", label, ms])
            print(f"baseline {label:20} p50 {np.median(ms):.3f} ms", flush=True)
        run = str(Path(tmp) / "text-cnn")
        cli = [sys.executable, "-m", "cnnlab.cli", "predict", run, "--text", tweet]
        whole = []
        for _ in range(args.processes):
            t0 = time.perf_counter()
            subprocess.run(cli, check=True, capture_output=True)
            whole.append(time.perf_counter() - t0)
    lines = [
        "## Text: one text's latency",
        "",
        f"Machine: {machine()}. Command: `{command()}`. After the run is loaded: tokenizing and "
        f"the forward pass of one text, median and 99th percentile of {args.calls} calls. "
        f"The tweet is the test split's median-length one ({len(tweet)} characters); the long "
        f"text is cut to the run's max_len tokens. Goal: under 20 ms.",
        "",
        "| model | tokenizer | text | p50 (ms) | p99 (ms) |",
        "|---|---|---|---|---|",
    ]
    lines += [f"| {m} | {k} | {t} | {np.median(ms):.2f} | {np.percentile(ms, 99):.2f} |"
              for m, k, t, ms in rows]  # fmt: skip
    lines += [
        "",
        f'The whole command, `cnnlab predict RUN --text "..."` as a fresh process (text-cnn, '
        f"loading torch, the run and the tokenizer): {median(whole):.2f} s, median of "
        f"{args.processes}.",
    ]
    body = "\n".join(lines)
    print(body)
    if not args.no_write:
        write_section("text-latency", body)


if __name__ == "__main__":
    main()
