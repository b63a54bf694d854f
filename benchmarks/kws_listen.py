"""How `cnnlab listen`'s defaults were chosen: a keyword run's window scores on five 60-s
recordings of the validation voices (seeds 0 to 4, as `listen --example` makes them from the
test voices), then smoothing x threshold x minimum duration: recall within 0.5 s and false
alarms per minute, pooled over the recordings. The test voices are not used for the choice.

    python benchmarks/kws_listen.py RUN
"""

from __future__ import annotations

import argparse
import itertools

import numpy as np
from _common import command, machine, write_section


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("run", help="a keyword run folder (its data's validation split is used)")
    ap.add_argument("--recordings", type=int, default=5)
    ap.add_argument("--no_write", action="store_true", help="print only, leave docs/ alone")
    args = ap.parse_args()
    from cnnlab.core.io import read_config
    from cnnlab.data.keyword_stream import make_stream
    from cnnlab.data.keywords import load_keywords
    from cnnlab.tasks.keywords.listen import Spoken, detect, score, smooth, window_probabilities
    from cnnlab.tasks.keywords.saved import KeywordModel

    km = KeywordModel.load(args.run)
    data = load_keywords(str(read_config(km.run).get("data", "keywords")))
    recordings = []
    for seed in range(args.recordings):
        wave, truth = make_stream(data, "val", 60.0, seed)
        times, probs = window_probabilities(km, wave, 0.1)
        recordings.append((times, probs, [Spoken(*t) for t in truth]))
    rows = []
    for sm, th, md in itertools.product((0.3, 0.5), (0.5, 0.6, 0.7, 0.8), (0.0, 0.2, 0.4)):
        scored = []
        for times, probs, truth in recordings:
            s = smooth(probs, max(1, round(sm / 0.1)) | 1)
            found = detect(times, s, km.classes, km.keyword_ids(), th, md)
            scored.append(score(found, truth, 60.0))
        recall = sum(s["found"] for s in scored) / sum(s["keywords"] for s in scored)
        fa = float(np.mean([s["false_alarms_per_min"] for s in scored]))
        rows.append((sm, th, md, recall, fa))
        print(f"smooth {sm} threshold {th} min_duration {md}: recall {recall:.1%}, "
              f"{fa:.1f} false alarms per minute", flush=True)  # fmt: skip
    lines = [
        "## Keywords: choosing listen's threshold",
        "",
        f"Machine: {machine()}. Command: `{command()}`. Run: {km.meta.model}, "
        f"{args.recordings} recordings of 60 s of the validation voices. Recall: keywords "
        "found within 0.5 s of their span; false alarms per minute, mean over the recordings.",
        "",
        "| --smooth (s) | --threshold | --min_duration (s) | recall | false alarms / min |",
        "|---|---|---|---|---|",
    ]
    lines += [f"| {sm} | {th} | {md} | {r:.1%} | {fa:.1f} |" for sm, th, md, r, fa in rows]
    body = "\n".join(lines)
    if not args.no_write:
        write_section("kws-listen", body, "docs/keywords.md")


if __name__ == "__main__":
    main()
