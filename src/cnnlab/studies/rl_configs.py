"""The reinforcement-learning study's configuration, light (no torch, no gymnasium): `cnnlab
study rl --help` and a bad option answer at once. The study itself is studies/rl.py."""

from __future__ import annotations

from dataclasses import dataclass

from cnnlab.core.errors import ConfigError
from cnnlab.studies.configs import split_list

# what each variant changes in a run (everything else is the study's shared settings)
VARIANTS: dict[str, dict[str, object]] = {
    "dqn": {},
    "no-replay": {"buffer": 0},
    "no-target": {"target": False},
    "q-mlp": {"model": "q-mlp"},
    "no-double": {"double": False},
    "wide-cnn": {"model_args": {"channels": 32, "hidden": 256}},
}
VARIANT_HELP = {
    "dqn": "q-cnn with replay, a target network and Double DQN",
    "no-replay": "each learning step uses only the newest transitions (one per environment)",
    "no-target": "the online network makes its own targets",
    "q-mlp": "the fully connected Q-network on the flattened frame",
    "no-double": "the target network both picks and values the next action",
    "wide-cnn": "q-cnn with 32 channels and 256 hidden units (q-mlp's width)",
}


@dataclass(frozen=True)
class RLStudyConfig:
    """The MinAtar paper's ablation at our budget: DQN against DQN without experience replay,
    without a target network, and with a fully connected Q-network, on several games and
    seeds. Every run gets the same environment steps (the budget); each is a run folder
    of its own under OUT/runs/.

    Args:
        games: comma-separated environments (see cnnlab rl --help), e.g.
            minatar-breakout,minatar-space_invaders.
        variants: comma-separated variants, from dqn, no-replay, no-target, q-mlp, no-double.
        seeds: runs per game and variant (seeds 0..seeds-1); the table shows mean ± std and
            every seed.
        steps: environment steps of every run (the equal budget).
        eval_every: environment steps between evaluations (the points of the curves).
        eval_episodes: episodes per evaluation.
        test_episodes: episodes the kept agent (the best evaluated) is measured on at the end.
        num_envs: environments played side by side in each run.
        n_step: n-step returns of every variant.
        lr: learning rate of every variant.
        batch_size: transitions per learning step.
        epsilon_steps: environment steps over which exploration decays from 1.0 to
            epsilon_end.
        epsilon_end: the exploration rate after epsilon_steps.
        max_time: stop each run after this many seconds of training (default: steps only).
        jobs: runs trained at the same time, in separate processes, each with
            cores / jobs threads.
        resume: continue the study already in `out`: finished runs are read, stopped ones
            continue from their last evaluation (without it, a taken `out` gets -2, -3, ...).
        out: folder for runs/, result.json, table.md, figures/ and report.html.
    """

    games: str = "minatar-breakout,minatar-space_invaders"
    variants: str = "dqn,no-replay,no-target,q-mlp"
    seeds: int = 3
    steps: int = 150_000
    eval_every: int = 30_000
    eval_episodes: int = 10
    test_episodes: int = 30
    num_envs: int = 4
    n_step: int = 3
    lr: float = 1e-3
    batch_size: int = 32
    epsilon_steps: int = 100_000
    epsilon_end: float = 0.05
    max_time: float | None = None
    jobs: int = 1
    resume: bool = False
    out: str = "runs/rl-study"

    def __post_init__(self) -> None:
        for name in ("seeds", "steps", "eval_every", "eval_episodes", "test_episodes",
                     "num_envs", "n_step", "batch_size", "epsilon_steps", "jobs"):  # fmt: skip
            if getattr(self, name) < 1:
                raise ValueError(f"{name} must be >= 1, got {getattr(self, name)}")
        if not self.lr > 0:
            raise ValueError(f"lr must be > 0, got {self.lr}")
        if not 0 <= self.epsilon_end <= 1:
            raise ValueError(f"epsilon_end must be in [0, 1], got {self.epsilon_end}")
        if self.max_time is not None and not self.max_time > 0:
            raise ValueError(f"max_time must be > 0 seconds, got {self.max_time}")
        unknown = [v for v in self.variant_list if v not in VARIANTS]
        if unknown:
            raise ConfigError(f"unknown variant {', '.join(unknown)} in variants; use some of "
                              f"{', '.join(VARIANTS)}")  # fmt: skip
        self.game_list  # noqa: B018  # an empty list is an error now, not after a run

    @property
    def game_list(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys(split_list(self.games, "games")))

    @property
    def variant_list(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys(split_list(self.variants, "variants")))
