"""Shared fixtures: tiny generated image folders, tiny in-memory datasets, a quiet console.

Everything here is small on purpose: the whole suite runs on 2 CPU cores in a few minutes.
"""

from __future__ import annotations

import gzip
import os
import shutil
import struct
from pathlib import Path

os.environ.setdefault("CNNLAB_OFFLINE", "1")  # never try a download from the tests
os.environ.setdefault("MPLBACKEND", "Agg")
if os.environ.get("PYTEST_XDIST_WORKER"):  # `make test` runs the tests in 2 processes:
    os.environ.setdefault("OMP_NUM_THREADS", "1")  # the `cnnlab` processes they start take a
    for _name in ("COLUMNS", "LINES"):  # thread each, and the worker's COLUMNS=80 must not
        os.environ.pop(_name, None)  # squeeze the tables a piped command prints

import numpy as np  # noqa: E402
import pytest  # noqa: E402
import torch  # noqa: E402
from PIL import Image  # noqa: E402
from rich.console import Console  # noqa: E402

import cnnlab  # noqa: E402
import cnnlab.data.datasets as datasets_mod  # noqa: E402

# The test machine has 2 cores shared with other work: one intra-op thread per process keeps
# the tiny models fast and, above all, steady (two threads fighting another job measured
# 0.3-17 s for the same 2-epoch MLP run). Runs that the tests compare bit for bit are made
# in the same process, so they share this setting.
torch.set_num_threads(1)

REAL_FASHION = Path("/usr/share/datasets/fashion-mnist")
REAL_FASHION_FILES = [
    "train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz",
    "t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz",
]  # fmt: skip


def has_real_fashion() -> bool:
    return all((REAL_FASHION / f).is_file() for f in REAL_FASHION_FILES)


needs_real_fashion = pytest.mark.skipif(
    not has_real_fashion(), reason=f"real Fashion-MNIST not installed in {REAL_FASHION}"
)


# ---- generated images ----------------------------------------------------------------------


def pattern(label: int, size: int, rng: np.random.Generator) -> np.ndarray:
    """A (size, size, 3) uint8 image whose structure and tint depend on the class:
    0 horizontal stripes (red), 1 vertical stripes (green), 2 a bright centre square (blue),
    3+ a diagonal. Random phase and noise make every image different."""
    yy, xx = np.mgrid[0:size, 0:size]
    phase = int(rng.integers(0, 2))
    k = label % 4
    if k == 0:
        g = ((yy + phase) // 2) % 2
    elif k == 1:
        g = ((xx + phase) // 2) % 2
    elif k == 2:
        q = size // 4
        g = ((yy >= q) & (yy < size - q) & (xx >= q) & (xx < size - q)).astype(int)
    else:
        g = (np.abs(yy - xx) <= 1).astype(int)
    base = 40 + 170 * g.astype(np.float64)
    img = np.repeat(base[:, :, None], 3, axis=2)
    img[:, :, label % 3] += 40  # class tint
    img += rng.normal(0, 12, img.shape)
    return np.clip(img, 0, 255).astype(np.uint8)


def write_image_folder(
    root: Path,
    classes: int = 3,
    per_class: int = 12,
    size: int = 12,
    mode: str = "RGB",
    seed: int = 0,
    names: list[str] | None = None,
) -> Path:
    """root/<class>/<i>.png, PIL-written, `per_class` images of each class."""
    rng = np.random.default_rng(seed)
    names = names or [f"class{c}" for c in range(classes)]
    for c, name in enumerate(names):
        d = root / name
        d.mkdir(parents=True, exist_ok=True)
        for i in range(per_class):
            im = Image.fromarray(pattern(c, size, rng), "RGB")
            if mode != "RGB":
                im = im.convert(mode)
            im.save(d / f"{i:03d}.png")
    return root


def write_idx(path: Path, array: np.ndarray, gz: bool = False) -> Path:
    """One unsigned-byte IDX file: magic 0 0 0x08 ndim, big-endian dims, raw bytes."""
    array = np.ascontiguousarray(array, dtype=np.uint8)
    raw = bytes([0, 0, 0x08, array.ndim]) + b"".join(struct.pack(">I", d) for d in array.shape)
    raw += array.tobytes()
    if gz:
        path = path.with_name(path.name + ".gz")
        path.write_bytes(gzip.compress(raw))
    else:
        path.write_bytes(raw)
    return path


def save_png(path: Path, array: np.ndarray, mode: str | None = None) -> Path:
    im = Image.fromarray(array)
    if mode is not None:
        im = im.convert(mode)
    path.parent.mkdir(parents=True, exist_ok=True)
    im.save(path)
    return path


def cli(capsys: pytest.CaptureFixture, *argv: str | Path) -> tuple[int, str, str]:
    """Run the command line in-process: (exit code, stdout, stderr)."""
    from cnnlab.cli import main

    rc = main([str(a) for a in argv])
    out = capsys.readouterr()
    return rc, out.out, out.err


def one_line_error(rc: int, err: str, *fragments: str) -> None:
    """What every bad input must give: exit code 2, one stderr line, no traceback."""
    assert rc == 2 and "Traceback" not in err, err
    lines = err.splitlines()
    assert len(lines) == 1 and lines[0].startswith("cnnlab: error: "), err
    for frag in fragments:
        assert frag in lines[0], (frag, lines[0])


# ---- fixtures ------------------------------------------------------------------------------


@pytest.fixture
def quiet() -> Console:
    return Console(quiet=True)


@pytest.fixture(scope="session")
def image_folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """3 classes x 20 RGB 12x12 PNGs with class-dependent patterns (read-only: do not edit)."""
    return write_image_folder(tmp_path_factory.mktemp("folder") / "shapes", per_class=20)


@pytest.fixture(scope="session")
def tiny_data(image_folder: Path) -> cnnlab.ImageData:
    """The image folder loaded in memory: 3x12x12 uint8, 3 classes."""
    return cnnlab.load_dataset(image_folder, seed=0)


@pytest.fixture(scope="session")
def fashion_small() -> cnnlab.ImageData:
    """2,000 training images of the embedded Fashion-MNIST subset (always shipped), its full
    1,000-image test split; the same on every machine."""
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(datasets_mod, "locate", lambda *a, **k: (None, "nowhere"))
        return cnnlab.load_dataset("fashion-mnist", train_limit=2000, seed=0)


@pytest.fixture
def no_system_data(monkeypatch: pytest.MonkeyPatch) -> None:
    """Named datasets find nothing on disk (the embedded subset remains)."""
    monkeypatch.setattr(datasets_mod, "locate", lambda *a, **k: (None, "nowhere"))


@pytest.fixture(scope="session")
def trained_run(tmp_path_factory: pytest.TempPathFactory, image_folder: Path) -> Path:
    """A finished run folder of cnn-small on the tiny RGB folder (shared, read-only: copy it
    before damaging it). Trained from the folder's path, so its config.yaml can resume it."""
    runs_dir = tmp_path_factory.mktemp("runs")
    result = cnnlab.train(
        data=str(image_folder), model="cnn-small", epochs=2, batch_size=16, precision="32",
        runs_dir=str(runs_dir), name="tiny", progress=False, console=Console(quiet=True),
    )  # fmt: skip
    return result.run_dir


@pytest.fixture(scope="session")
def fashion_source(fashion_small: cnnlab.ImageData) -> cnnlab.ImageData:
    """Classes 0-4 of `fashion_small`, relabelled 0-4: the transfer tests' source data."""
    from cnnlab.tasks.transfer import select_classes

    return select_classes(fashion_small, [0, 1, 2, 3, 4])


@pytest.fixture(scope="session")
def fashion_target(fashion_small: cnnlab.ImageData) -> cnnlab.ImageData:
    """Classes 5-9 of `fashion_small`, relabelled 0-4: a target similar to the source."""
    from cnnlab.tasks.transfer import select_classes

    return select_classes(fashion_small, [5, 6, 7, 8, 9])


@pytest.fixture(scope="session")
def source_run(fashion_source: cnnlab.ImageData, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A cnn-bn run trained 1 epoch on `fashion_source` (shared, read-only): a backbone."""
    result = cnnlab.train(
        data=fashion_source, model="cnn-bn", epochs=1, batch_size=64, precision="32",
        progress=False, runs_dir=str(tmp_path_factory.mktemp("runs")), name="src",
        console=Console(quiet=True),
    )  # fmt: skip
    return result.run_dir


# ---- speech tools: the keyword tests skip without them, except under CI (CI set): there a
# missing tool fails them (they run, and say what is missing) ------------------------------
SPEECH_MISSING = [t for t in ("espeak-ng", "flite") if shutil.which(t) is None]
SPEECH_HINT = f"{SPEECH_MISSING} not installed (apt-get install espeak-ng flite sox)"
needs_speech = pytest.mark.skipif(bool(SPEECH_MISSING) and not os.environ.get("CI"),
                                  reason=SPEECH_HINT)  # fmt: skip


def skip_without_speech() -> None:
    """Skip the calling test or fixture where espeak-ng / flite are missing (fail under CI)."""
    if SPEECH_MISSING:
        if os.environ.get("CI"):
            pytest.fail(f"CI needs {SPEECH_HINT}", pytrace=False)
        pytest.skip(SPEECH_HINT)


# ---- every task, tiny: the options of a one-epoch run of each registered task --------------
# Each entry takes the tiny image folder and a finished classifier run (a backbone). A new task
# adds its entry here; tests/engine/test_ddp.py fails until it does.
def tiny_keywords(root: Path) -> Path:
    """A tiny generated keyword set (5 voices, 1 clip per class and voice) in `root`, made
    once; skips the test where espeak-ng or flite is missing."""
    skip_without_speech()
    from cnnlab.data.keywords import make_keywords

    path = root / "keywords-tiny.npz"
    return path if path.is_file() else make_keywords(path, voices=5, per_word=1, seed=0)


@pytest.fixture(scope="session")
def keyword_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A keyword run (kws-cnn, 2 epochs) on a small generated set (5 voices, 2 clips per class
    and voice), shared and read-only."""
    from cnnlab.tasks.keywords.run import keywords

    skip_without_speech()
    root = tmp_path_factory.mktemp("kw")
    from cnnlab.data.keywords import make_keywords

    data = make_keywords(root / "k.npz", voices=5, per_word=2, seed=0)
    r = keywords(data=str(data), epochs=2, batch_size=32, precision="32", progress=False,
                 runs_dir=str(root / "runs"), name="k", console=Console(quiet=True))  # fmt: skip
    return r.folder


# ---- sound files -----------------------------------------------------------------------------
def tone(freq: float, seconds: float, rate: int = 16_000, amp: float = 0.5) -> np.ndarray:
    """A sine at `freq` Hz, float32."""
    t = np.arange(int(seconds * rate)) / rate
    return (amp * np.sin(2 * np.pi * freq * t)).astype(np.float32)


def word_folder(root: Path, words: tuple[str, ...] = ("hi", "lo", "mid"), speakers: int = 6,
                per: int = 3) -> Path:  # fmt: skip
    """A Speech-Commands-like folder: a tone per word (a speaker shifts it by 2 % each),
    SPEAKER_nohash_N.wav files, and a _background_noise_ folder that is not a word."""
    import soundfile as sf

    freqs = {"hi": 2000.0, "lo": 300.0, "mid": 900.0}
    for w in words:
        (root / w).mkdir(parents=True)
        for s in range(speakers):
            for k in range(per):
                sf.write(root / w / f"spk{s}_nohash_{k}.wav",
                         tone(freqs[w] * (1 + 0.02 * s), 0.6 + 0.1 * k), 16_000)  # fmt: skip
    (root / "_background_noise_").mkdir()
    sf.write(root / "_background_noise_" / "n.wav", tone(50, 2.0), 16_000)
    return root


def position_folder(root: Path, n: int = 120, size: int = 24, seed: int = 0) -> Path:
    """Images with a red 4x4 square on grey noise and positions.csv: the square's centre in
    "cm" (one pixel = 1 cm, from the image's centre) and its yaw (0 or 90 degrees, by the
    square's green stripe). Learnable in seconds; made once per root."""
    table = root / "positions.csv"
    if table.is_file():
        return root
    rng = np.random.default_rng(seed)
    (root / "images").mkdir(parents=True, exist_ok=True)
    rows = ["file,x,y,yaw"]
    for i in range(n):
        img = rng.integers(90, 140, (size, size, 3)).astype(np.uint8)
        r, c = rng.integers(2, size - 6, 2)
        img[r : r + 4, c : c + 4] = (220, 30, 30)
        yaw = int(rng.integers(0, 2)) * 90
        if yaw:
            img[r : r + 4, c + 1] = (30, 200, 30)
        else:
            img[r + 1, c : c + 4] = (30, 200, 30)
        save_png(root / "images" / f"{i:03d}.png", img)
        rows.append(f"images/{i:03d}.png,{r + 2 - size / 2},{c + 2 - size / 2},{yaw}")
    table.write_text("\n".join(rows) + "\n")
    return root


TASK_SMOKE = {
    "classify": lambda folder, run: ["--data", str(folder), "--model", "mlp", "--batch_size",
                                     "4", "--augment", "none"],
    "autoencode": lambda folder, run: ["--data", str(folder), "--model", "ae-linear",
                                       "--batch_size", "4"],
    "segment": lambda folder, run: ["--data", "fashion-scenes", "--n_train", "16", "--n_val",
                                    "6", "--n_test", "4", "--size", "32", "--batch_size", "4",
                                    "--augment", "false", "--model_args",
                                    '{"norm": "group", "depth": 2, "base_width": 8}'],
    "transfer": lambda folder, run: ["--from", str(run), "--data", str(folder), "--strategy",
                                     "head", "--batch_size", "4"],
    "text": lambda folder, run: ["--data", "tweets", "--train_limit", "60", "--batch_size", "8",
                                 "--vocab_size", "200", "--max_len", "16", "--baseline", "false"],
    "keywords": lambda folder, run: ["--data", str(tiny_keywords(folder.parent)),
                                     "--batch_size", "8", "--model", "kws-ds-cnn",
                                     "--model_args", '{"norm": "group"}'],
    "rl": lambda folder, run: ["--env", "catch", "--steps", "300", "--eval_every", "300",
                               "--learning_starts", "100", "--eval_episodes", "2",
                               "--test_episodes", "2"],
    "locate": lambda folder, run: ["--data", str(position_folder(folder.parent / "positions",
                                                                 n=30)),
                                   "--batch_size", "8", "--model", "locate-mlp", "--model_args",
                                   '{"hidden": [16]}'],  # no BatchNorm: DDP matches one process
}  # fmt: skip
