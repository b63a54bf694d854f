"""cnnlab play: a trained agent plays; the mean return beside random play, a GIF."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from cnnlab.cli.common import console, parser_for
from cnnlab.core.errors import ConfigError
from cnnlab.core.io import check_run_folder


def register(sub: Any) -> dict:
    p = parser_for(help="play episodes with a trained agent (cnnlab rl); prints the returns, "
                   "writes a GIF of the first episode with the Q-value of each action")  # fmt: skip
    p.add_argument("run", type=str, help="a run folder of cnnlab rl (or last, last:PREFIX)")
    p.add_argument("--episodes", type=int, default=10, help="episodes to play")
    p.add_argument("--epsilon", type=float | None, default=None,
                   help="share of random actions (default: the run's eval_epsilon)")  # fmt: skip
    p.add_argument("--seed", type=int, default=1, help="seeds the episodes")
    p.add_argument("--gif", type=str | None, default=None,
                   help="the first episode's GIF (default RUN/play.gif; none: no GIF)")  # fmt: skip
    p.add_argument("--gif_steps", type=int, default=400, help="steps drawn in the GIF at most")
    sub.add_subcommand("play", p, help="play with a trained agent (returns, a GIF)")
    return {"play": play}


def play(ns: Any) -> int:
    import numpy as np

    if ns.episodes < 1:
        raise ConfigError(f"--episodes must be >= 1, got {ns.episodes}")
    if ns.epsilon is not None and not 0 <= ns.epsilon <= 1:
        raise ConfigError(f"--epsilon must be in [0, 1], got {ns.epsilon}")
    if ns.gif is not None and ns.gif != "none" and not ns.gif.lower().endswith(".gif"):
        raise ConfigError(f"--gif {ns.gif} must name a .gif file (or none)")
    run = check_run_folder(Path(ns.run))
    from cnnlab.tasks.rl.play import play_run

    gif = None if ns.gif == "none" else Path(ns.gif) if ns.gif else run / "play.gif"
    returns, random, written = play_run(run, ns.episodes, ns.epsilon, ns.seed, gif, ns.gif_steps)
    for i, r in enumerate(returns, 1):
        console.print(f"episode {i}: return {r:g}", highlight=False)
    line = (f"mean return {np.mean(returns):.2f} +- {np.std(returns):.2f} over {len(returns)} "
            f"episodes (random play {random:.2f})")  # fmt: skip
    console.print(line, highlight=False)
    if written is not None:
        console.print(f"GIF: {written}", highlight=False)
    return 0
