"""The environments an agent plays, all behind one small interface: `reset(seed)` and
`step(action)` on frames (C, H, W) uint8, a number of discrete actions, and the largest pixel
value (1 for grids, 255 for camera-like frames) the task scales by.

- `catch`: built in (no extra package): a ball falls down a 10x10 grid, one row per step,
  from a random column; a 3-cell paddle on the bottom row moves left, stays or moves right;
  +1 for a catch, -1 for a miss, one drop per episode. Random play scores about -0.4; a DQN
  learns to catch every ball in a few thousand steps.
- `minatar-<game>`: MinAtar (Young and Tian, 2019): breakout, space_invaders, asterix, freeway,
  seaquest as 10x10xC grids of 0/1, its minimal action sets, sticky actions (0.1) and
  difficulty ramping as the paper plays them. PyPI `minatar` (GPL), imported only here.
- `ale-<game>`: the Arcade Learning Environment (PyPI `ale-py`, GPL, ships the ROMs) through
  Gymnasium's Atari preprocessing: 84x84 grey frames, a stack of 4, frame skip 4.
- `gym:<id>`: any Gymnasium environment whose observations are images (H, W), (H, W, C) or
  (C, H, W) and whose actions are discrete.

Both GPL packages are optional (`pip install 'cnnlab[rl]'` brings Gymnasium, ale-py and OpenCV;
`pip install --no-deps minatar` MinAtar, whose declared dependencies only draw its own display);
the core never imports them.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

import numpy as np

from cnnlab.core.errors import ConfigError

MINATAR = ("breakout", "space_invaders", "asterix", "freeway", "seaquest")
INSTALL = "pip install 'cnnlab[rl]'"
KNOWN = "catch, minatar-<game> (" + ", ".join(MINATAR) + "), ale-<game> (e.g. ale-pong), gym:<id>"


@dataclass
class Spec:
    """What the task needs to know of an environment before it plays it."""

    name: str
    shape: tuple[int, int, int]  # (C, H, W)
    actions: int
    scale: float  # the largest pixel value: frames are divided by it
    action_names: list[str]


class Catch:
    """The built-in game (see the module's docstring). Frames (2, 10, 10): ball, paddle."""

    size, width = 10, 3
    action_names = ["left", "stay", "right"]

    def __init__(self) -> None:
        self.rng = np.random.default_rng(0)
        self.ball = (0, 0)
        self.paddle = 0

    def spec(self) -> Spec:
        return Spec("catch", (2, self.size, self.size), 3, 1.0, list(self.action_names))

    def _frame(self) -> np.ndarray:
        f = np.zeros((2, self.size, self.size), np.uint8)
        f[0, self.ball[0], self.ball[1]] = 1
        f[1, -1, self.paddle : self.paddle + self.width] = 1
        return f

    def reset(self, seed: int | None = None) -> np.ndarray:
        if seed is not None:
            self.rng = np.random.default_rng(seed)
        self.ball = (0, int(self.rng.integers(self.size)))
        self.paddle = int(self.rng.integers(self.size - self.width + 1))
        return self._frame()

    def step(self, action: int) -> tuple[np.ndarray, float, bool]:
        self.paddle = int(np.clip(self.paddle + int(action) - 1, 0, self.size - self.width))
        row, col = self.ball[0] + 1, self.ball[1]
        self.ball = (row, col)
        if row < self.size - 1:
            return self._frame(), 0.0, False
        caught = self.paddle <= col < self.paddle + self.width
        return self._frame(), 1.0 if caught else -1.0, True


class MinAtar:
    """A MinAtar game; frames (C, 10, 10) of 0/1."""

    def __init__(self, game: str) -> None:
        try:
            quiet = logging.getLogger().level
            logging.getLogger().setLevel(logging.ERROR)  # its "cannot import seaborn" warning
            try:
                from minatar import Environment
            finally:
                logging.getLogger().setLevel(quiet)
        except ImportError:
            raise ConfigError(f"minatar-{game} needs the minatar package: {INSTALL} && pip "
                              "install --no-deps minatar") from None  # fmt: skip
        self.game = game
        self.env = Environment(game, sticky_action_prob=0.1, difficulty_ramping=True)
        self.actions = self.env.minimal_action_set()

    def spec(self) -> Spec:
        h, w, c = self.env.state_shape()
        names = ["noop", "left", "up", "right", "down", "fire"]
        labels = [names[a] if a < len(names) else str(a) for a in self.actions]
        return Spec(f"minatar-{self.game}", (c, h, w), len(self.actions), 1.0, labels)

    def _frame(self) -> np.ndarray:
        return np.ascontiguousarray(self.env.state().transpose(2, 0, 1)).astype(np.uint8)

    def reset(self, seed: int | None = None) -> np.ndarray:
        if seed is not None:
            self.env.seed(seed)
        self.env.reset()
        return self._frame()

    def step(self, action: int) -> tuple[np.ndarray, float, bool]:
        reward, done = self.env.act(self.actions[int(action)])
        return self._frame(), float(reward), bool(done)


class GymImages:
    """A Gymnasium environment with image observations and discrete actions; frames made
    (C, H, W). An episode ends when it terminates or is truncated."""

    def __init__(self, env: Any, name: str) -> None:
        from gymnasium import spaces

        self.env, self.name = env, name
        space = env.observation_space
        if not isinstance(env.action_space, spaces.Discrete):
            raise ConfigError(f"{name} has {type(env.action_space).__name__} actions; a DQN "
                              "needs discrete actions (a Discrete action space)")  # fmt: skip
        shape = getattr(space, "shape", None) or ()
        if not isinstance(space, spaces.Box) or len(shape) not in (2, 3) or min(shape[:2]) < 4:
            raise ConfigError(f"{name} observes {space}, not images; cnnlab rl needs image "
                              "observations (H, W), (H, W, C) or (C, H, W)")  # fmt: skip
        self.channels_last = len(shape) == 3 and shape[2] <= 4 < shape[0]
        self.high = float(np.max(space.high)) if np.isfinite(np.max(space.high)) else 255.0

    def _frame(self, obs: Any) -> np.ndarray:
        a = np.asarray(obs)
        if a.ndim == 2:
            a = a[None]
        elif self.channels_last:
            a = a.transpose(2, 0, 1)
        return np.ascontiguousarray(a).astype(np.uint8)

    def spec(self) -> Spec:
        frame = self._frame(self.env.observation_space.sample())
        n = int(self.env.action_space.n)
        names = [str(i) for i in range(n)]
        try:
            names = list(self.env.unwrapped.get_action_meanings())[:n] or names
        except AttributeError:
            pass
        return Spec(self.name, tuple(frame.shape), n, max(1.0, self.high), names)  # type: ignore[arg-type]

    def reset(self, seed: int | None = None) -> np.ndarray:
        obs, _ = self.env.reset(seed=seed)
        return self._frame(obs)

    def step(self, action: int) -> tuple[np.ndarray, float, bool]:
        obs, reward, terminated, truncated, _ = self.env.step(int(action))
        return self._frame(obs), float(reward), bool(terminated or truncated)


def _gymnasium() -> Any:
    try:
        import gymnasium
    except ImportError:
        raise ConfigError(f"this environment needs gymnasium: {INSTALL}") from None
    return gymnasium


def _ale(game: str) -> GymImages:
    gym = _gymnasium()
    try:
        import ale_py
    except ImportError:
        raise ConfigError(f"ale-{game} needs the ale-py package (the Atari ROMs): {INSTALL}") \
            from None  # fmt: skip
    gym.register_envs(ale_py)
    title = "".join(part.title() for part in game.split("_"))
    try:
        env = gym.make(f"ALE/{title}-v5", frameskip=1, repeat_action_probability=0.25)
    except gym.error.Error as exc:
        raise ConfigError(f"ale-{game}: no such Atari game in ale-py ({exc})") from None
    try:
        from gymnasium.wrappers import AtariPreprocessing, FrameStackObservation
    except ImportError:  # an older gymnasium
        raise ConfigError(f"ale-{game} needs gymnasium >= 1.0: {INSTALL}") from None
    try:
        env = AtariPreprocessing(env, frame_skip=4, screen_size=84, grayscale_obs=True)
    except gym.error.DependencyNotInstalled:
        raise ConfigError(f"ale-{game} needs opencv for its frames: {INSTALL}") from None
    return GymImages(FrameStackObservation(env, 4), f"ale-{game}")


def make_env(name: str) -> Catch | MinAtar | GymImages:
    """The environment called `name` (see the module docstring); one ConfigError line naming
    what is wrong (an unknown name, a missing package, actions or observations a DQN cannot
    use)."""
    if name == "catch":
        return Catch()
    if name.startswith("minatar-"):
        game = name[len("minatar-") :].replace("-", "_")
        if game not in MINATAR:
            raise ConfigError(f"unknown MinAtar game {game!r}; choose one of: "
                              f"{', '.join(MINATAR)}")  # fmt: skip
        return MinAtar(game)
    if name.startswith("ale-"):
        return _ale(name[len("ale-") :].replace("-", "_"))
    if name.startswith("gym:"):
        gym = _gymnasium()
        env_id = name[len("gym:") :]
        try:
            env = gym.make(env_id)
        except gym.error.Error as exc:
            raise ConfigError(f"{name}: gymnasium has no such environment ({exc})") from None
        return GymImages(env, name)
    raise ConfigError(f"unknown environment {name!r}; choose {KNOWN}")
