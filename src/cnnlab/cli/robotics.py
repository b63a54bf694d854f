"""cnnlab grasp: a locate run's positions turned into grasps by the simulated arm."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from cnnlab.cli.common import console, parser_for, table
from cnnlab.core.errors import ConfigError
from cnnlab.core.io import check_run_folder


def register(sub: Any) -> dict:
    p = parser_for(help="grasp objects in new simulated scenes where a locate run says they "
                   "are, beside grasps at the true positions (ceiling) and at the table's "
                   "centre (floor); writes RUN/grasp.json and a GIF")  # fmt: skip
    p.add_argument("run", type=str, help="a run folder of cnnlab locate (or last, last:PREFIX)")
    p.add_argument("--trials", type=int, default=100, help="scenes, each grasped three ways")
    p.add_argument("--seed", type=int, default=0, help="seeds the scenes")
    p.add_argument(
        "--gif",
        type=str | None,
        default=None,
        help="an animation of the first trials (default RUN/grasp.gif; none: no GIF)",
    )
    sub.add_subcommand("grasp", p, help="grasp with a simulated arm where a locate run says")
    return {"grasp": grasp}


def grasp(ns: Any) -> int:
    from rich.progress import BarColumn, Progress, TextColumn, TimeRemainingColumn

    if ns.trials < 1:
        raise ConfigError(f"--trials must be >= 1, got {ns.trials}")
    if ns.gif is not None and ns.gif != "none" and not ns.gif.lower().endswith(".gif"):
        raise ConfigError(f"--gif {ns.gif} must name a .gif file (or none)")
    run = check_run_folder(Path(ns.run))
    from cnnlab.tasks.locate.grasp import MODES, check_locate_run, grasp_trials

    check_locate_run(run)
    gif = None if ns.gif == "none" else Path(ns.gif) if ns.gif else run / "grasp.gif"
    columns = (TextColumn("grasp"), BarColumn(), TextColumn("{task.completed}/{task.total} "
               "trials"), TimeRemainingColumn())  # fmt: skip
    with Progress(*columns, console=console, transient=True) as bar:
        task = bar.add_task("trials", total=ns.trials)
        step = lambda d, n: bar.update(task, completed=d)  # noqa: E731
        r = grasp_trials(run, ns.trials, ns.seed, gif, progress=step)
    names = {"model": "the model's positions", "true": "true positions (ceiling)",
             "centre": "the table's centre (floor)"}  # fmt: skip
    rows = [[names[m], f"{r.success[m]}/{r.trials}", f"{r.rate(m):.0%}"] for m in MODES]
    console.print(table(["grasping at", "lifted", "success"], rows,
                        f"{r.trials} new scenes of unseen objects, {r.seconds:.0f} s"))  # fmt: skip
    import numpy as np

    err = np.array([t["error_cm"] for t in r.per_trial])
    console.print(f"position error of the model in these scenes: median {np.median(err):.2f} cm,"
                  f" 95th percentile {np.percentile(err, 95):.2f} cm", highlight=False)  # fmt: skip
    console.print(f"results: {run / 'grasp.json'}" + (f"; GIF: {gif}" if gif else ""),
                  highlight=False)  # fmt: skip
    return 0
