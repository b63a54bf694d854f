"""cnnlab rl: a DQN learns the built-in catch game in seconds (far above random play), its
run folder, exact resume, the replay memory and n-step returns against hand-computed values,
the environments' adapters, and one-line errors."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch
from rich.console import Console
from safetensors.torch import load_file

from cnnlab.tasks.rl.envs import Catch, make_env
from cnnlab.tasks.rl.replay import NStep, Replay
from cnnlab.tasks.rl.run import rl
from conftest import cli, one_line_error

QUIET = Console(quiet=True)
CATCH = dict(env="catch", eval_every=600, learning_starts=200, epsilon_steps=1000,
             target_every=100, lr=1e-3, eval_episodes=10, progress=False,
             console=QUIET)  # fmt: skip


@pytest.fixture(scope="module")
def catch_run(tmp_path_factory):
    return rl(steps=2400, runs_dir=tmp_path_factory.mktemp("rl"), name="catch", **CATCH).folder


def test_a_dqn_learns_catch_far_above_random_play(catch_run):
    folder = catch_run
    for f in ("config.yaml", "metrics.csv", "episodes.csv", "results.json", "report.html",
              "figures/curves.png", "model.safetensors", "model.json", "state.pt"):  # fmt: skip
        assert (folder / f).is_file(), f
    res = json.loads((folder / "results.json").read_text())
    assert res["env_steps"] == 2400 and len(res["evaluations"]) == 4
    assert res["test"]["random"] < 0.0  # random play misses more balls than it catches
    assert res["test"]["return"] > 0.6, res["test"]  # a catch is +1, a miss -1
    rows = (folder / "episodes.csv").read_text().splitlines()
    assert rows[0] == "env_step,seconds,return" and len(rows) > 200  # one drop is 9 steps


def test_resume_continues_to_the_weights_of_a_straight_run(tmp_path):
    kw = dict(steps=1200, seed=3, **CATCH)
    straight = rl(runs_dir=tmp_path / "a", name="s", **kw)
    first = rl(runs_dir=tmp_path / "b", name="s", stop_after=1, **kw)
    assert first.stopped == "paused"
    resumed = rl(resume=first.folder, console=QUIET)
    assert resumed.history[-1]["env_steps"] == 1200
    a = load_file(str(straight.folder / "model.safetensors"))
    b = load_file(str(resumed.folder / "model.safetensors"))
    for k, v in a.items():
        assert torch.equal(v, b[k]), k


def test_catch_rules():
    env = Catch()
    frame = env.reset(0)
    assert frame.shape == (2, 10, 10) and frame.dtype == np.uint8 and frame.sum() == 4
    col = env.ball[1]
    env.paddle = min(max(col - 1, 0), 7)  # under the ball: stay until it lands
    total, done, steps = 0.0, False, 0
    while not done:
        frame, r, done = env.step(1)
        total, steps = total + r, steps + 1
    assert steps == 9 and total == 1.0
    env.reset(1)
    env.paddle = 0 if env.ball[1] >= 5 else 7  # far from the ball, moving away
    done = False
    while not done:
        _, r, done = env.step(0 if env.paddle == 0 else 2)
    assert r == -1.0


def test_minatar_frames_and_random_play():
    pytest.importorskip("minatar")
    env = make_env("minatar-breakout")
    spec = env.spec()
    assert spec.shape == (4, 10, 10) and spec.actions == 3 and spec.scale == 1.0
    frame = env.reset(0)
    assert frame.dtype == np.uint8 and set(np.unique(frame)) <= {0, 1}
    rng, total, done = np.random.default_rng(0), 0.0, False
    while not done:
        frame, r, done = env.step(int(rng.integers(3)))
        total += r
    assert 0 <= total < 10


def test_replay_packs_binary_frames_and_samples_them_back():
    rng = np.random.default_rng(0)
    frames = rng.integers(0, 2, (5, 4, 10, 10)).astype(np.uint8)
    buf = Replay(4, (4, 10, 10), binary=True)
    assert buf.width == 50  # 400 pixels, 8 to a byte
    for i in range(5):  # one more than it holds: the first goes
        buf.add(frames[i], i, float(i), frames[(i + 1) % 5], i == 4, 0.99)
    assert buf.size == 4
    obs, action, ret, nxt, done, disc = buf.sample(64, rng)
    assert set(action.tolist()) == {1, 2, 3, 4}
    for o, a, n in zip(obs, action, nxt, strict=True):
        assert np.array_equal(o.numpy(), frames[a]) and np.array_equal(
            n.numpy(), frames[(a + 1) % 5]
        )
    latest = Replay(1, (4, 10, 10), binary=True)  # no replay: learn from the latest transition
    latest.add(frames[0], 0, 0.0, frames[1], False, 0.99)
    latest.add(frames[2], 2, 1.0, frames[3], False, 0.99)
    assert latest.sample(32, rng)[1].tolist() == [2]


def test_n_step_returns_equal_hand_computed_ones():
    f = [np.full((1, 2, 2), i, np.uint8) for i in range(5)]
    n = NStep(3, 0.5)
    out = []
    for t, r in enumerate([1.0, 2.0, 4.0, 8.0]):
        out += n.push(f[t], t, r, f[t + 1], done=t == 3)
    # (frame, action, return, next frame, done, discount): full windows, then the tail flushed
    assert [(o[0][0, 0, 0], o[1], o[2], o[3][0, 0, 0], o[4], o[5]) for o in out] == [
        (0, 0, 1 + 0.5 * 2 + 0.25 * 4, 3, False, 0.125),
        (1, 1, 2 + 0.5 * 4 + 0.25 * 8, 4, True, 0.125),
        (2, 2, 4 + 0.5 * 8, 4, True, 0.25),
        (3, 3, 8.0, 4, True, 0.5),
    ]


@pytest.mark.parametrize("args,fragments", [
    (["--env", "pong"], ["unknown environment 'pong'", "minatar-<game>"]),
    (["--env", "minatar-pong"], ["unknown MinAtar game 'pong'", "breakout"]),
    (["--env", "gym:CartPole-v1"], ["not images"]),
    (["--env", "gym:Pendulum-v1"], ["Box actions", "discrete actions"]),
    (["--env", "gym:NoSuchGame-v0"], ["gymnasium has no such environment"]),
    (["--env", "catch", "--learning_starts", "5000", "--eval_every", "1000"], ["learning_starts"]),
    (["--env", "catch", "--model", "resnet"], ["resnet"]),
])  # fmt: skip
def test_bad_options_are_one_line_and_leave_no_run(tmp_path, capsys, args, fragments):
    runs_dir = tmp_path / "runs"
    rc, _, err = cli(capsys, "rl", "--runs_dir", runs_dir, "--progress", "false", *args)
    one_line_error(rc, err, *fragments)
    assert not runs_dir.exists() or not any(runs_dir.iterdir())


def test_a_missing_package_names_the_extra(monkeypatch, capsys, tmp_path):
    import builtins

    real = builtins.__import__

    def no_minatar(name, *a, **k):
        if name.startswith("minatar"):
            raise ImportError(name)
        return real(name, *a, **k)

    monkeypatch.setattr(builtins, "__import__", no_minatar)
    rc, _, err = cli(capsys, "rl", "--env", "minatar-breakout", "--runs_dir", tmp_path)
    one_line_error(rc, err, "pip install 'cnnlab[rl]'")


def test_play_prints_the_returns_and_draws_a_gif(catch_run, capsys, tmp_path):
    from PIL import Image

    gif = tmp_path / "catch.gif"
    rc, out, err = cli(capsys, "play", catch_run, "--episodes", "4", "--gif", gif)
    assert rc == 0, err
    lines = out.splitlines()
    assert [line.split(":")[0] for line in lines[:4]] == [f"episode {i}" for i in range(1, 5)]
    mean = float(lines[4].split()[2])
    assert mean > 0.0 and "random play" in lines[4]  # catches more than it misses
    im = Image.open(gif)
    assert im.n_frames == 9 and im.size[0] > im.size[1]  # one drop: 9 steps; frame + Q panel


@pytest.mark.parametrize("args,fragments", [
    (["--episodes", "0"], ["--episodes must be >= 1"]),
    (["--gif", "x.png"], ["--gif x.png must name a .gif file"]),
])  # fmt: skip
def test_play_refuses_bad_options_in_one_line(catch_run, capsys, args, fragments):
    rc, _, err = cli(capsys, "play", catch_run, *args)
    one_line_error(rc, err, *fragments)


def test_play_refuses_a_run_of_another_task(trained_run, capsys):
    rc, _, err = cli(capsys, "play", trained_run, "--gif", "none")
    one_line_error(rc, err, "classify run", "cnnlab rl")


def test_show_features_draws_the_q_networks_maps_on_a_game_frame(catch_run, capsys, tmp_path):
    rc, out, err = cli(capsys, "show", "features", catch_run, "--out", tmp_path / "f")
    assert rc == 0, err
    assert out.startswith("a frame of catch; Q-values: left") and "conv.0 [16x8x8]" in out
    assert (tmp_path / "f" / "overview.png").is_file()
    mlp = rl(env="catch", model="q-mlp", steps=300, eval_every=300, learning_starts=100,
             eval_episodes=1, runs_dir=tmp_path, name="mlp", progress=False,
             console=QUIET).folder  # fmt: skip
    rc, _, err = cli(capsys, "show", "features", mlp)
    one_line_error(rc, err, "no convolutional layer")


def test_atari_frames_through_ale_train_pause_resume_and_play(tmp_path, capsys):
    """The ALE path end to end, a few hundred steps (learning Pong takes hours on 2 cores):
    Gymnasium's Atari preprocessing, the Nature network, a checkpoint whose environments
    cannot be saved (they restart), and play with a GIF."""
    pytest.importorskip("ale_py")
    pytest.importorskip("cv2")
    from PIL import Image

    kw = dict(env="ale-pong", model="nature-cnn", steps=400, eval_every=200, learning_starts=100,
              buffer=1000, batch_size=8, eval_episodes=1, test_episodes=1, progress=False,
              console=QUIET, runs_dir=tmp_path, name="pong")  # fmt: skip
    first = rl(stop_after=1, **kw)
    assert first.stopped == "paused"
    meta = json.loads((first.folder / "model.json").read_text())
    assert meta["in_channels"] == 4 and list(meta["input_size"]) == [84, 84]
    rl(resume=first.folder, console=QUIET)
    res = json.loads((first.folder / "results.json").read_text())
    assert res["env_steps"] == 400 and res["model"] == "nature-cnn" and len(res["evaluations"]) == 2
    assert -21 <= res["test"]["return"] <= 21  # a game of Pong: 21 points to either side
    gif = tmp_path / "pong.gif"
    rc, out, err = cli(capsys, "play", first.folder, "--episodes", "1", "--gif", gif,
                       "--gif_steps", "12")  # fmt: skip
    assert rc == 0, err
    assert out.startswith("episode 1:") and Image.open(gif).n_frames == 12
