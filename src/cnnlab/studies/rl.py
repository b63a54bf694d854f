"""The reinforcement-learning study (`cnnlab study rl`): games x variants x seeds, each a DQN run
folder of its own (OUT/runs/GAME-VARIANT-sSEED) trained with the same environment steps. A
finished run (results.json) is read, a stopped one (state.pt) continues with `--resume`, so a
long study survives being stopped. `jobs` > 1 trains runs side by side in separate processes.

The table: per game and variant, the kept agent's return over the test episodes (mean ± std
over seeds, and each seed's), the best and the last evaluation, and the steps per second; the
curves: evaluation return against environment steps, the seeds' mean and their range.
"""

from __future__ import annotations

import json
import math
import os
import shutil
import time
from collections.abc import Callable
from concurrent.futures import as_completed
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from cnnlab.core.pool import spawn_pool
from cnnlab.studies.rl_configs import VARIANTS, RLStudyConfig

__all__ = ["RLStudyConfig", "RLStudyResult", "run", "run_settings"]


@dataclass
class RLStudyResult:
    config: dict[str, Any]
    runs: list[dict[str, Any]] = field(default_factory=list)  # one per game, variant, seed

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> RLStudyResult:
        return cls(config=d["config"], runs=list(d["runs"]))

    def cell(self, game: str, variant: str) -> list[dict[str, Any]]:
        """The runs of one game and variant, by seed."""
        rs = [r for r in self.runs if r["game"] == game and r["variant"] == variant]
        return sorted(rs, key=lambda r: r["seed"])


def run_name(game: str, variant: str, seed: int) -> str:
    return f"{game}-{variant}-s{seed}"


def run_settings(cfg: RLStudyConfig, game: str, variant: str, seed: int) -> dict[str, Any]:
    """The RLConfig settings of one run: the study's shared settings, then the variant's."""
    settings: dict[str, Any] = {
        "env": game, "model": "q-cnn", "seed": seed, "steps": cfg.steps,
        "eval_every": cfg.eval_every, "eval_episodes": cfg.eval_episodes,
        "test_episodes": cfg.test_episodes, "num_envs": cfg.num_envs, "n_step": cfg.n_step,
        "lr": cfg.lr, "batch_size": cfg.batch_size, "epsilon": (1.0, cfg.epsilon_end),
        "epsilon_steps": cfg.epsilon_steps, "max_time": cfg.max_time,
        "learning_starts": min(5000, cfg.eval_every // 2, cfg.steps // 2),
        "progress": False, "runs_dir": str(Path(cfg.out) / "runs"),
        "name": run_name(game, variant, seed),
    }  # fmt: skip
    settings.update(VARIANTS[variant])
    return settings


def _train(settings: dict[str, Any], resume: str | None, threads: int | None) -> float:
    """Train one run (in this process or a worker), its lines into the run's train.log."""
    import torch
    from rich.console import Console

    from cnnlab.tasks.rl.run import rl

    if threads:
        torch.set_num_threads(threads)
    t0 = time.perf_counter()
    log = Path(settings["runs_dir"]) / f"{settings['name']}.log"
    log.parent.mkdir(parents=True, exist_ok=True)
    with log.open("a") as f:
        rl(settings, resume=resume, console=Console(file=f, width=120, soft_wrap=True))
    return time.perf_counter() - t0


def _summary(folder: Path, game: str, variant: str, seed: int) -> dict[str, Any]:
    """What the table and curves need from a finished run folder."""
    r = json.loads((folder / "results.json").read_text())
    evals = [list(e) for e in r["evaluations"]]
    return {
        "game": game, "variant": variant, "seed": seed, "model": r["model"],
        "parameters": r["parameters"], "test": r["test"]["return"],
        "test_std": r["test"]["return_std"], "random": r["test"]["random"],
        "evaluations": evals, "best_eval": max((e[2] for e in evals), default=math.nan),
        "last_eval": evals[-1][2] if evals else math.nan, "env_steps": r["env_steps"],
        "train_time_s": r["train_time_s"],
        "steps_per_s": r["env_steps"] / max(r["train_time_s"], 1e-9),
        "folder": str(folder),
    }  # fmt: skip


def _check_games(games: tuple[str, ...]) -> None:
    """Every game can be made (a typo or a missing package fails before any training)."""
    from cnnlab.tasks.rl.envs import make_env

    for g in games:
        make_env(g)


def run(cfg: RLStudyConfig, log: Callable[[str], None] = print) -> RLStudyResult:
    _check_games(cfg.game_list)
    runs_dir = Path(cfg.out) / "runs"
    todo, result = [], RLStudyResult(config=asdict(cfg))
    for game in cfg.game_list:
        for variant in cfg.variant_list:
            for seed in range(cfg.seeds):
                folder = runs_dir / run_name(game, variant, seed)
                if (folder / "results.json").is_file():
                    result.runs.append(_summary(folder, game, variant, seed))
                    continue
                resume = str(folder) if (folder / "state.pt").is_file() else None
                if resume is None and folder.exists():
                    shutil.rmtree(folder)  # a run that never finished an evaluation
                todo.append((game, variant, seed, resume))
    n, kept = len(todo), len(result.runs)
    log(f"rl study: {len(cfg.game_list)} game(s) x {len(cfg.variant_list)} variant(s) x "
        f"{cfg.seeds} seed(s), {cfg.steps:,} steps each; {kept} run(s) done before, {n} to "
        f"train ({cfg.jobs} at a time); each run's log: {runs_dir}/NAME.log")  # fmt: skip
    t0 = time.perf_counter()

    def done(i: int, game: str, variant: str, seed: int, seconds: float) -> None:
        s = _summary(runs_dir / run_name(game, variant, seed), game, variant, seed)
        result.runs.append(s)
        log(f"[{i}/{n}] {game} {variant} seed {seed}: kept agent {s['test']:.2f} "
            f"(random {s['random']:.2f}), {s['env_steps']:,} steps in {seconds:.0f} s; "
            f"{time.perf_counter() - t0:.0f} s so far")  # fmt: skip

    if cfg.jobs == 1 or n <= 1:
        for i, (game, variant, seed, resume) in enumerate(todo, 1):
            done(i, game, variant, seed, _train(run_settings(cfg, game, variant, seed), resume,
                                                None))  # fmt: skip
    else:
        threads = max(1, (os.cpu_count() or 2) // cfg.jobs)
        with spawn_pool(min(cfg.jobs, n), "the RL study", "--jobs 1") as pool:
            futures = {pool.submit(_train, run_settings(cfg, g, v, s), r, threads): (g, v, s)
                       for g, v, s, r in todo}  # fmt: skip
            for i, fut in enumerate(as_completed(futures), 1):
                done(i, *futures[fut], fut.result())
    order = {(g, v): i for i, (g, v) in enumerate(
        (g, v) for g in cfg.game_list for v in cfg.variant_list)}  # fmt: skip
    result.runs.sort(key=lambda r: (order[(r["game"], r["variant"])], r["seed"]))
    return result


def mean_std(values: list[float]) -> tuple[float, float]:
    a = np.asarray(values, dtype=float)
    return (float(a.mean()), float(a.std())) if len(a) else (math.nan, math.nan)
