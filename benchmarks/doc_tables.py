"""The measured tables of docs/, regenerated: each job runs the command its page documents (in
a subprocess, writing into runs/doc-tables/JOB) and writes the table that command produced
into a generated section of the page (<!-- begin:NAME --> ... <!-- end:NAME -->), with the
command, the wall time and the machine. No figure in those tables is typed by hand;
tests/test_docs.py checks that every measured table of docs/ sits in such a section.

    python benchmarks/doc_tables.py                 # every job (about 3 hours on 2 cores)
    python benchmarks/doc_tables.py init-mlp demo   # some
    python benchmarks/doc_tables.py --list
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from types import SimpleNamespace

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import machine, write_section  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
SCRATCH = ROOT / "runs" / "doc-tables"
ALL_SCHEMES = ("zeros,ones,uniform,uniform-rule,normal,normal-rule,truncated-normal,xavier-uniform,"
               "xavier-normal,kaiming-uniform,kaiming-normal,default")  # fmt: skip


@dataclass(frozen=True)
class Job:
    """`argv`: the cnnlab command as the page shows it; `out`: the option that points it at the
    scratch folder; `table`: scratch folder -> the Markdown table. A job without argv computes
    its table in-process (`table` does the work)."""

    doc: str
    argv: tuple[str, ...]
    out: str
    table: Callable[[Path], str]
    note: str = ""
    figures: tuple[tuple[str, str], ...] = ()  # (in the scratch folder, under docs/figures/)
    redraw: Callable[[], None] | None = None  # figures drawn from several jobs' results


def table_md(folder: Path) -> str:
    """The table.md a study (or the demo) writes into its folder."""
    path = folder / "table.md"
    if not path.is_file():
        raise SystemExit(f"{path} is missing: did the command fail?")
    return path.read_text()


def study_and_picks(folder: Path) -> str:
    """The transfer study's table.md, then its picks.md (the pilot against the rule)."""
    picks = folder / "picks.md"
    if not picks.is_file():
        raise SystemExit(f"{picks} is missing: did the study run with --pilot true?")
    return f"{table_md(folder).rstrip()}\n\nThe pilot against the rule:\n\n{picks.read_text()}"


PILOT_FOLDS = 4


def pilot_folds_table(folder: Path) -> str:
    """The ImageNet study's pilots run again with PILOT_FOLDS-fold cross-validation (same
    targets, seeds and epochs; the full runs are not retrained), beside the study's own pilot
    (one 75/25 split), both scored against the study's full runs."""
    from cnnlab.studies.transfer import QUADRANTS, TransferStudyResult, repilot
    from cnnlab.viz.report import Table

    src = ROOT / "docs" / "figures" / "transfer" / "study-imagenet-result.json"
    one = TransferStudyResult.from_dict(json.loads(src.read_text()))
    cv = repilot(one, epochs=one.config["pilot_epochs"], folds=PILOT_FOLDS, log=print)
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "result.json").write_text(json.dumps(cv.to_dict(), indent=1))
    rows, ok = [], {"one": [0, 0, 0], "cv": [0, 0, 0]}  # quadrants ok, seeds ok, seeds
    for q in QUADRANTS:
        row = [q, one.winner(q)]
        for key, res in (("one", one), ("cv", cv)):
            c = res.pick_check(q)
            ok[key] = [ok[key][0] + c["pilot_ok"], ok[key][1] + c["pilot_seeds"],
                       ok[key][2] + c["seeds"]]  # fmt: skip
            row += [", ".join(c["pilot_picks"]), f"{100 * c['pilot_gap']:.1f}",
                    f"{c['pilot_seeds']}/{c['seeds']}"]  # fmt: skip
        rows.append(row)
    secs = {k: sum(p.seconds for p in r.pilots) for k, r in (("one", one), ("cv", cv))}
    rows.append(["all", ""] + [x for k in ("one", "cv") for x in (
        f"{secs[k]:.0f} s training", f"within 1 point in {ok[k][0]}/4 quadrants",
        f"{ok[k][1]}/{ok[k][2]}")])  # fmt: skip
    head = ["quadrant", "best", "one split: picks", "points below best", "seeds within 1",
            f"{PILOT_FOLDS} folds: picks", "points below best", "seeds within 1"]  # fmt: skip
    return Table(head, rows).markdown()


def autoencode_table(folder: Path) -> str:
    from cnnlab.viz.report import Table

    res = json.loads(next(folder.glob("*/results.json")).read_text())
    t, b = res["test"], res["baseline"]
    shape = "x".join(str(s) for s in res["latent_shape"])
    rows = [
        ["mean image (baseline)", "—", "—", "—", "—", f"{b['mse']:.4f}", f"{b['psnr']:.2f} dB",
         f"{b['ssim']:.3f}"],
        [f"ae-conv ({res['parameters']:,} parameters)", f"{shape} = {res['latent_size']} values",
         f"{res['compression_ratio']:g} : 1", str(res["epochs_run"]),
         f"{res['train_time_s']:.0f} s", f"{t['mse']:.4f}", f"{t['psnr']:.2f} dB",
         f"{t['ssim']:.3f}"],
    ]  # fmt: skip
    headers = ["model", "code", "compression", "epochs", "train time", "test MSE", "test PSNR",
               "test SSIM"]  # fmt: skip
    where = f"{res['data_source']}, {res['test_images']:,} test images."
    return Table(headers, rows).markdown() + "\n" + where


def jpeg_table(_folder: Path) -> str:
    import torch

    from cnnlab.data.datasets import load_embedded
    from cnnlab.studies.ae_baselines import jpeg_curve
    from cnnlab.viz.report import Table

    test_x = torch.from_numpy(load_embedded()["test_x"])
    rows = [
        [str(r.budget), f"{r.bytes:.0f}", f"{r.ratio:.2f}", f"{r.psnr:.2f}", f"{r.ssim:.3f}",
         f"{r.quality:.1f}"]
        for r in jpeg_curve(test_x, [196, 250, 300, 400, 600])
    ]  # fmt: skip
    headers = ["budget (bytes)", "mean bytes", "ratio", "PSNR (dB)", "SSIM", "mean quality"]
    return Table(headers, rows).markdown() + (
        f"\nThe {len(test_x):,} test images of cnnlab's embedded Fashion-MNIST subset."
    )


def redraw_init() -> None:
    """loss-curves.png and layer-scales.png of docs/initialization.md: both studies (mlp and
    cnn-plain) in one figure, drawn from their result.json."""
    from cnnlab.studies.init import InitStudyResult
    from cnnlab.studies.init_report import plot_layer_scales, plot_loss_curves
    from cnnlab.viz.figures import save_figure

    jobs = ("init-mlp", "init-cnn")
    parts = [json.loads((SCRATCH / j / "result.json").read_text()) for j in jobs]
    both = InitStudyResult.from_dict(parts[0])
    for other in parts[1:]:
        more = InitStudyResult.from_dict(other)
        both.runs += more.runs
        both.start.update(more.start)
    out = ROOT / "docs" / "figures" / "init"
    save_figure(plot_loss_curves(both), out / "loss-curves.png")
    save_figure(plot_layer_scales(both), out / "layer-scales.png")


def diagnosis_table(_folder: Path) -> str:
    """The four targets against the transfer study's backbone, split seeds 0 and 1."""
    from cnnlab.cli.transfer import _target
    from cnnlab.tasks.transfer import load_backbone
    from cnnlab.tasks.transfer.guide import diagnose
    from cnnlab.tasks.transfer.similarity import source_data
    from cnnlab.viz.report import Table

    folder = SCRATCH / "transfer-study" / "backbone"
    if not (folder / "model.json").is_file():
        raise SystemExit(f"{folder} is missing: run the transfer-study job first")
    backbone, source = load_backbone(folder), source_data(folder)
    targets = [
        ("Fashion-MNIST 5-9, `--train_limit 100`", "fashion-mnist", "5,6,7,8,9", 100),
        ("glyphs, `--train_limit 200`", "glyphs", "", 200),
        ("Fashion-MNIST 5-9", "fashion-mnist", "5,6,7,8,9", None),
        ("glyphs", "glyphs", "", None),
    ]
    rows = []
    for label, data, classes, limit in targets:
        ds = []
        for seed in (0, 1):
            ns = SimpleNamespace(data=data, classes=classes, train_limit=limit, seed=seed)
            ds.append(diagnose(backbone, _target(ns), source, seed=seed))
        pad = " / ".join(f"{d.similarity.proxy_a_distance:.2f}" for d in ds)
        gap = " / ".join(f"{d.similarity.feature_gap:.2f}" for d in ds)
        rows.append([label, f"{ds[0].images_per_class:,}", pad, gap,
                     f"{ds[0].quadrant} -> {ds[0].strategy}"])  # fmt: skip
    headers = ["target", "images per class", "proxy A-distance", "feature gap",
               "case -> strategy"]  # fmt: skip
    return Table(headers, rows).markdown()


def listen_table(folder: Path) -> str:
    """`cnnlab listen RUN --example` with the kws-cnn run of the keywords-compare job."""
    run = SCRATCH / "keywords-compare" / "kws-cnn"
    if not (run / "model.safetensors").is_file():
        raise SystemExit(f"{run} is missing: run the keywords-compare job first")
    folder.mkdir(parents=True, exist_ok=True)
    cmd = [sys.executable, "-m", "cnnlab", "listen", str(run), "--example", "--out",
           str(folder / "timeline.png")]  # fmt: skip
    out = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True)
    if out.returncode:
        raise SystemExit(f"keywords-listen: {out.stderr.strip()}")
    (folder / "output.txt").write_text(out.stdout)
    lines = [x.strip() for x in out.stdout.splitlines()]
    found = [x for x in lines if x.endswith(tuple("0123456789")) and " s  " in x]
    scored = next(x for x in lines if x.startswith("against "))
    body = ["```text", *found, "```", "", scored.split(": ", 1)[1] + "."]
    return "\n".join(body)


def tabletop_table(folder: Path) -> str:
    """The cached tabletop set: its sizes and generation time, and a figure of examples with
    the object's mask outlined."""
    import numpy as np
    from matplotlib.figure import Figure

    from cnnlab.data.tabletop import cached_tabletop, read_tabletop
    from cnnlab.viz.figures import save_figure
    from cnnlab.viz.report import Table

    path = cached_tabletop()
    if not path.is_file():
        raise SystemExit(f"{path} is missing: run cnnlab datasets make tabletop first")
    d = read_tabletop(path)
    fig = Figure(figsize=(12, 3.3))
    axes = fig.subplots(2, 8)
    for k, ax in enumerate(axes.ravel()):
        ax.imshow(d.x["train"][k].transpose(1, 2, 0), interpolation="nearest")
        ax.contour(d.mask["train"][k] == 1, levels=[0.5], colors="#00e5ff", linewidths=0.8)
        ax.contour(d.mask["train"][k] == 2, levels=[0.5], colors="white", linewidths=0.6)
        x, y, yaw = d.y["train"][k]
        ax.set_title(f"({x:.0f}, {y:.0f}) cm, {np.degrees(yaw):.0f}°", fontsize=7)
        ax.axis("off")
    fig.tight_layout()
    folder.mkdir(parents=True, exist_ok=True)
    save_figure(fig, folder / "examples.png", dpi=100)
    m = d.meta
    rows = [[s, f"{len(d.y[s]):,}", f"{len(set(d.mesh[s].tolist())):,}",
             f"{np.mean([(k == 2).any() for k in d.mask[s]]):.0%}"]
            for s in ("train", "val", "test")]  # fmt: skip
    body = Table(["split", "images", "distinct meshes", "with distractors"], rows).markdown()
    return (
        body + f"\n{m['size']}x{m['size']} pixels; rendered in {m['seconds']:.0f} s by "
        f"`cnnlab datasets make tabletop` ({path.stat().st_size / 1e6:.0f} MB)."
    )


def locate_goal_table(folder: Path) -> str:
    """The goal run (coordconv, under 10 minutes of training) and `cnnlab grasp` on it."""
    run = folder / "goal"
    res = json.loads((run / "results.json").read_text())
    cmd = [sys.executable, "-m", "cnnlab", "grasp", str(run), "--trials", "100", "--gif",
           str(folder / "grasp.gif")]  # fmt: skip
    print("$", " ".join(cmd[2:]), flush=True)
    if subprocess.run(cmd, cwd=ROOT).returncode:
        raise SystemExit("locate-goal: cnnlab grasp failed")
    g = json.loads((run / "grasp.json").read_text())
    t = res["test"]
    rows = [["position error, median (goal <= 1.0 cm)", f"{t['median_cm']:.2f} cm"],
            ["position error, 95th percentile (goal <= 3 cm)", f"{t['p95_cm']:.2f} cm"],
            ["position error, mean", f"{t['mean_cm']:.2f} cm"],
            ["within 1 cm / 2 cm", f"{t['within_1cm']:.0%} / {t['within_2cm']:.0%}"],
            ["yaw error, median", f"{t['yaw_median_deg']:.1f} degrees"],
            ["answering the centre (floor): median / 95th pct",
             f"{t['floor_median_cm']:.2f} / {t['floor_p95_cm']:.2f} cm"],
            ["training time (goal < 10 minutes)", f"{res['train_time_s']:.0f} s, "
             f"{res['epochs_run']} epochs"],
            ["grasps at the model's positions", f"{g['success']['model']}/{g['trials']}"],
            ["grasps at the true positions (ceiling)", f"{g['success']['true']}/{g['trials']}"],
            ["grasps at the table's centre (floor)", f"{g['success']['centre']}/{g['trials']}"],
            ["grasp trials' time", f"{g['seconds']:.0f} s"]]  # fmt: skip
    from cnnlab.viz.report import Table

    return Table(["measured", "value"], rows).markdown()


JOBS: dict[str, Job] = {
    "init-mlp": Job("docs/initialization.md",
                    ("study", "init", "--model", "mlp", "--schemes", ALL_SCHEMES, "--seeds", "3",
                     "--epochs", "2"), "--out", table_md,
                    figures=(("result.json", "init/result-mlp.json"),)),
    "init-cnn": Job("docs/initialization.md",
                    ("study", "init", "--model", "cnn-plain", "--train_limit", "12000", "--seeds",
                     "3", "--epochs", "2"), "--out", table_md,
                    figures=(("result.json", "init/result-cnn-plain.json"),
                             ("figures/activations-cnn-plain.png",
                              "init/activations-cnn-plain.png"),
                             ("figures/gradients-cnn-plain.png", "init/gradients-cnn-plain.png")),
                    redraw=redraw_init),
    "demo": Job("docs/mlp-vs-cnn.md", ("demo",), "--out", table_md,
                figures=(("figures/robustness.png", "mlp-vs-cnn.png"),
                         ("figures/examples.png", "mlp-vs-cnn-examples.png"),
                         ("cnn-bn/figures/confusion.png", "confusion.png"),
                         ("cnn-bn/figures/mistakes.png", "mistakes.png"))),
    "autoencode": Job("docs/autoencoders.md",
                      ("autoencode", "--model", "ae-conv", "--data", "fashion-mnist", "--epochs",
                       "5"), "--runs_dir", autoencode_table,
                      figures=(("ae-conv-fashion-mnist/figures/reconstructions.png",
                                "autoencoders/reconstructions.png"),)),
    "ae-compression": Job("docs/autoencoders.md", ("study", "autoencoder", "compression"),
                          "--out", table_md,
                          figures=(("figures/quality-vs-bytes.png",
                                    "autoencoders/study-compression.png"),
                                   ("figures/strip.png",
                                    "autoencoders/study-compression-strip.png"))),
    "ae-denoising": Job("docs/autoencoders.md", ("study", "autoencoder", "denoising"), "--out",
                        table_md,
                        figures=(("figures/denoising.png", "autoencoders/study-denoising.png"),
                                 ("figures/strip-gaussian.png",
                                  "autoencoders/study-denoising-strip-gaussian.png"),
                                 ("figures/strip-salt-pepper.png",
                                  "autoencoders/study-denoising-strip-salt-pepper.png"))),
    "ae-features": Job("docs/autoencoders.md", ("study", "autoencoder", "features"), "--out",
                       table_md,
                       figures=(("figures/accuracy-vs-labels.png",
                                 "autoencoders/study-features.png"),)),
    "ae-checkerboard": Job("docs/autoencoders.md", ("study", "autoencoder", "checkerboard"),
                           "--out", table_md,
                           figures=(("figures/strip.png", "autoencoders/checkerboard-strip.png"),)),
    "jpeg": Job("docs/autoencoders.md", (), "", jpeg_table,
                "in Python: `jpeg_curve(test_x, [196, 250, 300, 400, 600])`"),
    "transfer-study": Job("docs/transfer.md", ("study", "transfer"), "--out", table_md,
                          figures=(("figures/quadrants.png", "transfer/quadrants.png"),
                                   ("result.json", "transfer/study-result.json"))),
    "transfer-study-imagenet": Job(
        "docs/transfer.md",
        ("study", "transfer", "--backbone", "imagenet:efficientnet-lite0", "--train_size", "96",
         "--large", "100", "--test_limit", "1000", "--batch_size", "32",
         "--pilot", "true"),
        "--out", study_and_picks,
        figures=(("figures/quadrants.png", "transfer/quadrants-imagenet.png"),
                 ("result.json", "transfer/study-imagenet-result.json")),
    ),
    "transfer-pilot-folds": Job(
        "docs/transfer.md", (), "", pilot_folds_table,
        f"in Python: `repilot(study, epochs=3, folds={PILOT_FOLDS})` on the result.json of "
        "transfer-study-imagenet (the study's pilots again with cross-validation; its full runs "
        "are not retrained)",
        figures=(("result.json", "transfer/study-imagenet-pilot-folds.json"),),
    ),
    "transfer-diagnosis": Job("docs/transfer.md", (), "", diagnosis_table,
                              "in Python: `diagnose(backbone, target, source, seed=s)` for the "
                              "transfer study's backbone, s = 0 and 1"),
    "text-compare": Job("docs/text.md", ("compare", "text"), "--out", table_md,
                        figures=(("figures/text-compare.png", "text/compare.png"),)),
    "text-tokenizers": Job("docs/text.md", ("compare", "text", "--models", "text-cnn",
                                            "--tokenizer", "bpe,word,glove"), "--out", table_md),
    "keywords-compare": Job("docs/keywords.md", ("compare", "keywords"), "--out", table_md,
                            figures=(("figures/keywords-compare.png", "keywords/compare.png"),
                                     ("kws-cnn/figures/robustness.png",
                                      "keywords/robustness.png"))),
    "keywords-listen": Job("docs/keywords.md", (), "", listen_table,
                           "`cnnlab listen RUN --example` with the kws-cnn run of keywords-compare",
                           figures=(("timeline.png", "keywords/listen.png"),)),
    "rl-study": Job("docs/rl.md", ("study", "rl"),
                    "--out", table_md,
                    figures=(("figures/curves.png", "rl/study-curves.png"),
                             ("result.json", "rl/study-result.json"))),
    "tabletop": Job("docs/robotics.md", (), "", tabletop_table,
                    "the cached set of `cnnlab datasets make tabletop`",
                    figures=(("examples.png", "robotics/tabletop.png"),)),
    "locate-goal": Job("docs/robotics.md", ("locate", "--data", "tabletop", "--model",
                                            "locate-coordconv", "--max_time", "570", "--epochs",
                                            "200", "--progress", "false", "--name", "goal"),
                       "--runs_dir", locate_goal_table,
                       figures=(("goal/figures/examples.png", "robotics/examples.png"),
                                ("goal/figures/errors.png", "robotics/errors.png"),
                                ("goal/figures/error_map.png", "robotics/error-map.png"),
                                ("grasp.gif", "robotics/grasp.gif"))),
    "locate-study": Job("docs/robotics.md", ("study", "locate"), "--out", table_md,
                        figures=(("figures/cdf.png", "robotics/study-cdf.png"),
                                 ("result.json", "robotics/study-result.json"))),
}  # fmt: skip


def copy_figures(name: str, job: Job) -> None:
    """The job's figures (and result files) from its scratch folder into docs/figures/."""
    for src, dst in job.figures:
        path = SCRATCH / name / src
        if not path.is_file():
            raise SystemExit(f"{name}: {path} is missing; run the job again")
        target = ROOT / "docs" / "figures" / dst
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(path, target)
        print(f"copied {path.relative_to(ROOT)} -> {target.relative_to(ROOT)}")
    if job.redraw is not None:
        job.redraw()


def run_job(name: str, job: Job) -> None:
    scratch = SCRATCH / name
    shutil.rmtree(scratch, ignore_errors=True)  # a study writes into a fresh folder only
    t0 = time.perf_counter()
    if job.argv:
        cmd = [sys.executable, "-m", "cnnlab", *job.argv, job.out, str(scratch)]
        print("$", " ".join(cmd[2:]), flush=True)
        if subprocess.run(cmd, cwd=ROOT).returncode:
            raise SystemExit(f"{name}: the command failed; its section is left as it was")
        shown = "cnnlab " + " ".join(job.argv)
    else:
        shown = job.note
    body = job.table(scratch)
    wall = time.perf_counter() - t0
    how = f"`{shown}`" if job.argv else shown
    write_section(
        f"table:{name}",
        f"{body.rstrip()}\n\n*Generated by `python benchmarks/doc_tables.py {name}`: {how}, "
        f"{wall:.0f} s wall time; {machine()}.*",
        ROOT / job.doc,
    )
    copy_figures(name, job)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("jobs", nargs="*", help=f"jobs to run (default: all): {', '.join(JOBS)}")
    ap.add_argument("--list", action="store_true", help="list the jobs and their commands")
    ap.add_argument(
        "--figures_only",
        action="store_true",
        help="copy the figures of jobs already run (runs/doc-tables/JOB) into docs/",
    )
    args = ap.parse_args()
    if args.list:
        for name, job in JOBS.items():
            print(f"{name:20} {job.doc:24} cnnlab {' '.join(job.argv) or job.note}")
        return 0
    unknown = [j for j in args.jobs if j not in JOBS]
    if unknown:
        raise SystemExit(f"unknown job(s) {', '.join(unknown)}; --list shows them")
    for name in args.jobs or JOBS:
        if args.figures_only:
            copy_figures(name, JOBS[name])
        else:
            run_job(name, JOBS[name])
    return 0


if __name__ == "__main__":
    sys.exit(main())
