"""cnnlab listen: find keywords in a long recording with a keyword run."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from cnnlab.cli.common import console, parser_for
from cnnlab.core.errors import ConfigError
from cnnlab.core.io import check_run_folder


def register(sub: Any) -> dict:
    p = parser_for(help="streaming keyword detection: a one-second window slides over a "
                   "recording; prints the words found and their times; a timeline")  # fmt: skip
    p.add_argument("run", type=str, help="keyword run folder (or last, last:PREFIX)")
    p.add_argument("file", type=str | None, nargs="?", default=None,
                   help="a WAV file up to an hour long (any rate and channels)")  # fmt: skip
    p.add_argument("--hop", type=float, default=0.1, help="seconds between windows")
    p.add_argument("--smooth", type=float, default=0.3,
                   help="seconds of scores averaged before the threshold (0: none)")  # fmt: skip
    p.add_argument("--threshold", type=float, default=0.5,
                   help="a word is found where its smoothed score reaches this")  # fmt: skip
    p.add_argument("--min_duration", type=float, default=0.2,
                   help="seconds a score must stay above the threshold (drops blips)")  # fmt: skip
    p.add_argument("--truth", type=str | None, default=None,
                   help="CSV of the words spoken (word,start,end): scores the result")  # fmt: skip
    p.add_argument("--example", action="store_true",
                   help="make a 60-s recording of the run's held-out test words and noise, "
                   "with its truth, and listen to it")  # fmt: skip
    p.add_argument("--out", type=str | None, default=None,
                   help="the timeline figure (default RUN/listen/<file name>.png)")  # fmt: skip
    sub.add_subcommand("listen", p, help="find keywords in a long recording")
    return {"listen": listen}


def listen(ns: Any) -> int:
    from cnnlab.tasks.keywords import listen as kl
    from cnnlab.viz.figures import save_figure

    run = check_run_folder(Path(ns.run))
    if (ns.file is None) == (not ns.example):
        raise ConfigError("give a WAV file to listen to, or --example (not both)")
    truth_file = ns.truth
    if ns.example:
        file, made = kl.example_recording(run, run / "listen")
        truth_file = truth_file or made
        console.print(f"recording: {file} (60 s of held-out test words and noise)", highlight=False)
    else:
        file = Path(ns.file)
    truth = kl.read_truth(truth_file) if truth_file else []
    found = kl.listen(run, file, ns.hop, ns.smooth, ns.threshold, ns.min_duration)
    for note in found.notes:
        console.print(f"note: {note}", highlight=False)
    for d in found.detections:
        console.print(f"{d.time:8.2f} s  {d.word:<10} {d.score:.2f}", highlight=False)
    seconds = len(found.wave) / kl.RATE
    console.print(f"{len(found.detections)} words found in {seconds:.1f} s", highlight=False)
    if truth:
        s = kl.score(found.detections, truth, seconds)
        console.print(f"against {truth_file}: {s['found']}/{s['keywords']} keywords found "
                      f"within {kl.TOLERANCE} s (recall {s['recall']:.1%}), "
                      f"{s['false_alarms']} false alarms ({s['false_alarms_per_min']:.1f} per "
                      "minute)", highlight=False)  # fmt: skip
    out = Path(ns.out) if ns.out else run / "listen" / f"{Path(file).stem}.png"
    save_figure(kl.timeline(found, ns.threshold, truth), out)
    console.print(f"timeline: {out}", highlight=False)
    return 0
