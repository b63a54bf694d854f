"""The application sections on seeing and acting: computer vision (classification,
segmentation with the 2-D and 3-D U-Net), reinforcement learning and robotics. Each trains a
small model of that kind here and checks one claim against the measured numbers; the tabletop
set for robotics is rendered at 32 pixels in quick, a cache file of its own."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

from cnnlab.lecture.app_common import budget, capped
from cnnlab.lecture.book import Context, Outcome
from cnnlab.lecture.book import copy as _copy
from cnnlab.lecture.book import opts as _opts
from cnnlab.lecture.book import pct as _pct
from cnnlab.lecture.book import results as _results

# ---- computer vision: classification -----------------------------------------------------

LOOK_ALIKE = {"T-shirt/top", "Pullover", "Coat", "Shirt"}  # Fashion-MNIST's upper-body garments


def classification(ctx: Context) -> Outcome:
    b = budget(ctx, "classification")
    data = ctx.data("fashion-mnist")
    text = ctx.cli("train", "--data", data, "--recipe", "fast",
                   *_opts(epochs=b["epochs"], max_time=b["max_time"],
                          train_limit=b["train_limit"]),
                   "--runs_dir", ctx.path("runs"), "--name", "cnn")  # fmt: skip
    res = _results(ctx, "runs", "cnn", "results.json")
    acc = res["test"]["accuracy"]
    classes = [r["class"] for r in res["test"]["per_class"]]
    conf = res["test"]["confusion"]
    pairs = sorted(((conf[i][j], classes[i], classes[j]) for i in range(len(conf))
                    for j in range(len(conf)) if i != j), reverse=True)  # fmt: skip
    n, true, pred = pairs[0]
    total = sum(map(sum, conf))
    out = Outcome(measured="", verdict="shown")
    out.table(["true", "taken for", "test images"], [[t, p, c] for c, t, p in pairs[:5]],
              f"the five most frequent mistakes among {total:,} test images")  # fmt: skip
    epochs = f"{res['epochs_run']} epoch{'' if res['epochs_run'] == 1 else 's'}"
    images = f" of {b['train_limit']:,} images" if b["train_limit"] else ""
    out.measured = (
        f"a {res['parameters']:,}-parameter CNN trained for {res['train_time_s']:.0f} s "
        f"({epochs}{images}) names {_pct(acc)} of {total:,} test images right (chance 10 %); "
        f"its most frequent mistake is {true} taken for {pred} ({n} images)."
    )
    look_alike = {true, pred} <= LOOK_ALIKE
    out.verdict = "holds" if acc >= 0.8 and look_alike else "differs"
    if out.verdict == "differs":
        out.because = (
            capped(ctx, text, "cnn", b)
            + (
                f"{_pct(acc)} is below 80 %: at this budget the CNN is still learning"
                if acc < 0.8
                else f"its most frequent mistake ({true} for {pred}) is not between look-alike "
                "upper-body garments"
            )
            + "."
        )
    figs = "runs/cnn/figures"
    out.figures = [
        (_copy(ctx, f"{figs}/confusion.png", "confusion.png"),
         "confusion matrix: rows the true class, columns the predicted one"),
        (_copy(ctx, f"{figs}/mistakes.png", "mistakes.png"),
         "the test images it got most confidently wrong"),
    ]  # fmt: skip
    return out


# ---- computer vision: segmentation (2-D U-Net, 3-D U-Net) --------------------------------


def _segment(ctx: Context, key: str, data: str, dims: int,
             extra: list[str]) -> tuple[dict[str, Any], str]:  # fmt: skip
    b = budget(ctx, key)
    text = ctx.cli("segment", "--data", data, "--dims", str(dims), "--model", "unet",
                   *_opts(n_train=b["n_train"], n_val=b["n_val"], n_test=b["n_test"],
                          size=b.get("size"), epochs=b["epochs"], max_time=b["max_time"]),
                   *extra, "--runs_dir", ctx.path("runs"), "--name", "unet")  # fmt: skip
    return _results(ctx, "runs", "unet", "results.json"), capped(ctx, text, "unet", b)


def _per_class_table(out: Outcome, res: dict[str, Any], caption: str) -> None:
    out.table(["class", "IoU", "Dice"],
              [[r["class"], "-" if r["iou"] is None else f"{r['iou']:.3f}",
                "-" if r["dice"] is None else f"{r['dice']:.3f}"] for r in res["per_class"]],
              caption)  # fmt: skip


def _score(res: dict[str, Any], name: str, what: str = "dice") -> float:
    """Class `name`'s IoU or Dice on the test split (0 where it was never predicted)."""
    row = next(r for r in res["per_class"] if r["class"] == name)
    return row[what] or 0.0


def segmentation(ctx: Context) -> Outcome:
    ctx.data("fashion-mnist")  # the scenes are composed of Fashion-MNIST items
    goal = ["--batch_size", "16", "--optimizer", "sgd", "--lr", "0.1"]  # docs' goal run
    res, cap_note = _segment(ctx, "segmentation", "fashion-scenes", 2, [] if ctx.quick else goal)
    t = res["test"]
    # background's IoU: how well the items are told from the table, whatever their class;
    # calling every pixel background scores the background's share of the pixels
    bg, bg_floor = _score(res, "background", "iou"), t["baseline_pixel_acc"]
    out = Outcome(measured="", verdict="shown")
    _per_class_table(out, res, f"test scenes, per class ({res['epochs_run']} epochs, "
                     f"{res['train_time_s']:.0f} s of training)")  # fmt: skip
    out.measured = (
        f"after {res['train_time_s']:.0f} s of training the U-Net tells the clothing from "
        f"the background with a background IoU of {bg:.3f}, where calling every pixel "
        f"background scores {bg_floor:.3f}; naming each item's class is slower: mean IoU over "
        f"the 11 classes {t['miou']:.3f} (all background: {t['baseline_miou']:.3f})."
    )
    out.verdict = "holds" if 1 - bg <= (1 - bg_floor) / 2 else "differs"
    if out.verdict == "differs":
        out.because = cap_note + ("At this budget the U-Net has not got far beyond painting "
                                "everything background: it needs more steps to find the "
                                "items' outlines.")  # fmt: skip
    out.figures = [(_copy(ctx, "runs/unet/figures/overlays.png", "overlays.png"),
                    "test scenes: image, true mask, the U-Net's mask")]  # fmt: skip
    return out


def unet_3d(ctx: Context) -> Outcome:
    res, cap_note = _segment(ctx, "unet-3d", "volumes", 3, ["--batch_size", "2"])
    t = res["test"]
    seabed = _score(res, "seabed")
    objects = [_score(res, r["class"]) for r in res["per_class"]
               if r["class"] not in ("water", "seabed")]  # fmt: skip
    mean_obj = sum(objects) / len(objects) if objects else 0.0
    out = Outcome(measured="", verdict="shown")
    _per_class_table(out, res, f"test volumes, per class ({res['epochs_run']} epochs, "
                     f"{res['train_time_s']:.0f} s of training)")  # fmt: skip
    out.measured = (
        f"after {res['train_time_s']:.0f} s of training the 3-D U-Net finds the seabed in the "
        f"speckled test volumes with a Dice of {seabed:.3f}; the objects on it, a few voxels "
        f"across, {mean_obj:.3f} on average; over all five classes {t['mdice']:.3f}, where "
        f"calling every voxel water scores {t['baseline_mdice']:.3f}."
    )
    out.verdict = "holds" if seabed >= 0.8 else "differs"
    if out.verdict == "differs":
        out.because = cap_note + ("At this budget the 3-D U-Net has not yet learned where the "
                                "water ends: docs/segmentation.md's 10-minute run at 48x48x48 "
                                "reaches a mean Dice of 0.98, objects included.")  # fmt: skip
    figs = "runs/unet/figures"
    out.figures = [
        (_copy(ctx, f"{figs}/slices.png", "slices.png"),
         "raw volume, truth and the 3-D U-Net's dense segmentation: three orthogonal slices"),
        (_copy(ctx, f"{figs}/render.png", "render.png"),
         "the predicted objects in 3-D, the seabed in grey"),
    ]  # fmt: skip
    return out


# ---- reinforcement learning --------------------------------------------------------------


def rl(ctx: Context) -> Outcome:
    b = budget(ctx, "rl")
    run = ctx.path("runs", "q-cnn-catch")
    ctx.cli("rl", "--env", "catch", "--model", "q-cnn", "--steps", str(b["steps"]),
            "--eval_every", str(b["eval_every"]), "--learning_starts", "200",
            "--epsilon_steps", "1500", "--target_every", "100", "--lr", "1e-3",
            "--runs_dir", ctx.path("runs"), "--name", "q-cnn-catch")  # fmt: skip
    res = _results(ctx, "runs", "q-cnn-catch", "results.json")
    ctx.cli("play", run, "--episodes", str(b["episodes"]), "--gif", ctx.path("catch.gif"))
    t = res["test"]

    def caught(ret: float) -> float:  # catch: +1 a catch, -1 a miss, one ball an episode
        return (ret + 1) / 2

    out = Outcome(measured="", verdict="shown")
    out.table(["player", "mean return", "balls caught", "episodes"],
              [["DQN, q-cnn", f"{t['return']:.2f}", _pct(caught(t["return"])), t["episodes"]],
               ["random play", f"{t['random']:.2f}", _pct(caught(t["random"])),
                len(res["random_returns"])]],
              f"catch after {res['env_steps']:,} environment steps "
              f"({res['train_time_s']:.0f} s of training)")  # fmt: skip
    out.measured = (
        f"after {res['env_steps']:,} steps ({res['train_time_s']:.0f} s) of learning from the "
        f"10x10 frames alone, the agent catches {_pct(caught(t['return']))} of the balls "
        f"(mean return {t['return']:.2f}), random play {_pct(caught(t['random']))} "
        f"({t['random']:.2f})."
    )
    out.verdict = "holds" if caught(t["return"]) - caught(t["random"]) >= 0.25 else "differs"
    if out.verdict == "differs":
        out.because = (f"{res['env_steps']:,} steps were too few for the Q-network to learn "
                       "where the paddle must go; docs/rl.md's run catches nearly every ball "
                       "after about 2,000.")  # fmt: skip
    out.figures = [
        (_copy(ctx, "runs/q-cnn-catch/figures/curves.png", "curves.png"),
         "return against environment steps and seconds; random play dashed"),
        ("catch.gif", "the trained agent playing: the frame it sees and its Q-value per action"),
    ]  # fmt: skip
    return out


# ---- robotics ----------------------------------------------------------------------------


def robotics(ctx: Context) -> Outcome:
    from cnnlab.core.io import npz_format
    from cnnlab.data.tabletop import FORMAT, cached_tabletop

    b = budget(ctx, "robotics")
    sizes = _opts(n_train=b["n_train"], n_val=b["n_val"], n_test=b["n_test"])
    data: str | Path = "tabletop"
    if b["n_train"] is not None:  # a small set of its own, in the section's folder
        data = ctx.path("tabletop.npz")
        t0 = time.perf_counter()
        ctx.cli("datasets", "make", "tabletop", "--size", str(b["size"]), *sizes, "--out", data)
        ctx.notes.append(f"The {b['n_train']:,} training scenes ({b['size']}x{b['size']} "
                         f"pixels) were rendered with pybullet in {time.perf_counter() - t0:.0f}"
                         " s into the section's folder (--out), so the full set in your cache "
                         "is neither replaced nor used.")  # fmt: skip
    elif npz_format(cached_tabletop(b["size"])) != FORMAT:  # rendered once, then cached
        t0 = time.perf_counter()
        ctx.cli("datasets", "make", "tabletop", "--size", str(b["size"]))
        ctx.notes.append(f"The tabletop scenes ({b['size']}x{b['size']} pixels) were rendered "
                         f"with pybullet in {time.perf_counter() - t0:.0f} s and kept in the "
                         "cache for later builds.")  # fmt: skip
    run = ctx.path("runs", "locate")
    text = ctx.cli("locate", "--data", data, "--size", str(b["size"]),
                   "--model", "locate-coordconv",
                   *_opts(epochs=b["epochs"], max_time=b["max_time"]),
                   "--runs_dir", ctx.path("runs"), "--name", "locate")  # fmt: skip
    res = _results(ctx, "runs", "locate", "results.json")
    ctx.cli("grasp", run, "--trials", str(b["trials"]), "--gif", ctx.path("grasp.gif"))
    g = json.loads((run / "grasp.json").read_text())
    t, ok, n = res["test"], g["success"], g["trials"]
    out = Outcome(measured="", verdict="shown")
    out.table(["", "median error", "95th percentile", "within 2 cm"],
              [["the CNN", f"{t['median_cm']:.2f} cm", f"{t['p95_cm']:.2f} cm",
                _pct(t["within_2cm"])],
               ["the workspace's centre", f"{t['floor_median_cm']:.2f} cm",
                f"{t['floor_p95_cm']:.2f} cm", _pct(t["floor_within_2cm"])]],
              f"position on the table of {t['n']} test objects whose shapes were never seen "
              "in training (workspace 40 x 60 cm)")  # fmt: skip
    out.table(["grasp at", "objects lifted"],
              [["the CNN's position", f"{ok['model']}/{n}"],
               ["the true position", f"{ok['true']}/{n}"],
               ["the table's centre", f"{ok['centre']}/{n}"]],
              "the simulated arm grasps new scenes three ways")  # fmt: skip
    out.measured = (
        f"from one {b['size']}x{b['size']} camera image the CNN puts unseen objects "
        f"{t['median_cm']:.1f} cm (median) from where they are, against "
        f"{t['floor_median_cm']:.1f} cm for always answering the workspace's centre; the arm "
        f"lifted {ok['model']} of {n} objects at the CNN's positions, {ok['true']} at the true "
        f"ones and {ok['centre']} at the centre."
    )
    out.verdict = "holds" if t["median_cm"] <= t["floor_median_cm"] / 3 else "differs"
    if out.verdict == "differs":
        out.because = capped(ctx, text, "locate", b) + (
            "At this budget the CNN has not learned to find the object much better than "
            "guessing the middle of the table.")  # fmt: skip
    figs = "runs/locate/figures"
    out.figures = [
        (_copy(ctx, f"{figs}/examples.png", "examples.png"),
         "test images: the true position (circle) and the CNN's (cross)"),
        ("grasp.gif", "the arm grasping at the CNN's position"),
        (_copy(ctx, f"{figs}/errors.png", "errors.png"), "test position errors (cm)"),
    ]  # fmt: skip
    return out
