"""The configuration of a reinforcement-learning run (`cnnlab rl`): one frozen dataclass, saved
as config.yaml in the run folder. An "epoch" of the engine is `eval_every` environment steps
followed by evaluation episodes, so `epochs` follows from `steps`."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

from cnnlab.core.config import check_ranges, inherit_arg_docs, make_config
from cnnlab.engine.config import LoopConfig

TASK = "rl"


@inherit_arg_docs
@dataclass(frozen=True)
class RLConfig(LoopConfig):
    """Everything a DQN run needs; saved as config.yaml in the run folder.

    Args:
        env: catch (built in), minatar-<game> (breakout, space_invaders, asterix, freeway,
            seaquest), ale-<game> (e.g. ale-pong) or gym:<id> (image observations, discrete
            actions).
        agent: dqn (Double DQN with a target network and experience replay).
        model: q-cnn, q-mlp or nature-cnn (see cnnlab models).
        model_args: options of the model's config, e.g. {"channels": 32}.
        steps: environment steps to train for (over all environments).
        eval_every: environment steps between evaluations (an epoch of the run).
        eval_episodes: episodes per evaluation, played with eval_epsilon.
        eval_epsilon: the share of random actions when evaluating.
        test_episodes: episodes the kept agent, and random play, are measured on at the
            end.
        buffer: transitions the replay memory holds (frames stored as uint8, 0/1 frames
            packed 8 to a byte); 0 turns replay off: each learning step uses only the newest
            transitions, one per environment.
        batch_size: transitions per learning step.
        gamma: discount of future rewards.
        n_step: n-step returns (1: the one-step target of DQN).
        double: Double DQN (the online network picks the next action, the target net values
            it).
        target: use a target network (false: the online network makes its own targets).
        target_every: learning steps between copies of the online network into the target.
        learning_starts: environment steps of random play before learning starts.
        train_every: environment steps (per environment) between learning steps.
        epsilon: [start, end] of the exploration rate, decayed linearly over
            epsilon_steps.
        epsilon_steps: environment steps over which epsilon decays.
        num_envs: environments played side by side (one batched forward pass acts for all).
        epochs: set from steps / eval_every (not an option of its own).
    """

    env: str = "minatar-breakout"
    agent: str = "dqn"
    model: str = "q-cnn"
    model_args: dict[str, Any] = field(default_factory=dict)
    steps: int = 500_000
    eval_every: int = 25_000
    eval_episodes: int = 10
    eval_epsilon: float = 0.05
    test_episodes: int = 30
    buffer: int = 100_000
    batch_size: int = 32
    gamma: float = 0.99
    n_step: int = 1
    double: bool = True
    target: bool = True
    target_every: int = 1000
    learning_starts: int = 5000
    train_every: int = 1
    epsilon: tuple[float, float] = (1.0, 0.1)
    epsilon_steps: int = 100_000
    num_envs: int = 1
    lr: float = 2.5e-4
    weight_decay: float = 0.0
    schedule: str = "constant"
    precision: str = "32"

    def __post_init__(self) -> None:
        super().__post_init__()
        check_ranges(self, {
            "agent": ("dqn",), "steps": ">= 1", "eval_every": ">= 1", "eval_episodes": ">= 1",
            "test_episodes": ">= 1",
            "eval_epsilon": "[0, 1]", "buffer": ">= 0", "batch_size": ">= 1",
            "gamma": "[0, 1]", "n_step": ">= 1", "target_every": ">= 1",
            "learning_starts": ">= 0", "train_every": ">= 1", "epsilon_steps": ">= 1",
            "num_envs": ">= 1",
        })  # fmt: skip
        if len(self.epsilon) != 2 or not all(0 <= e <= 1 for e in self.epsilon):
            raise ValueError(f"epsilon must be [start, end] in [0, 1], got {self.epsilon}")
        if self.devices > 1 or self.num_nodes > 1:
            raise ValueError("cnnlab rl trains in one process; leave --devices and --num_nodes "
                             "at 1 (--num_envs plays several environments)")  # fmt: skip
        if self.learning_starts >= min(self.eval_every, self.steps):
            raise ValueError(f"learning_starts ({self.learning_starts:,}) must be below "
                             f"eval_every ({self.eval_every:,}) and steps ({self.steps:,}): "
                             "the first evaluation needs an agent that has learned")  # fmt: skip
        object.__setattr__(self, "epochs", math.ceil(self.steps / self.eval_every))


def make_rl_config(config: RLConfig | dict[str, Any] | None = None, **overrides: Any) -> RLConfig:
    """An RLConfig from a config, a dict and keyword overrides; unknown keys are an error."""
    return make_config(RLConfig, config, TASK, **overrides)
