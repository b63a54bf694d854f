"""cnnlab models / datasets: what is registered and where data is found."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from cnnlab.cli.common import console, parser_for, table


def register(sub: Any) -> dict:
    p = parser_for(help="list the registered models with their parameter counts")
    p.add_argument("--in_channels", type=int, default=1, help="input channels (3 = colour)")
    p.add_argument("--num_classes", type=int, default=10, help="classes (outputs) of the models")
    p.add_argument("--input_size", type=int, default=28, help="square input size")
    sub.add_subcommand("models", p, help="list models and parameter counts")
    d = parser_for(help="list the named datasets and where each is found; `cnnlab datasets "
                   "make keywords` generates the synthetic keyword set, `cnnlab datasets make "
                   "tabletop` the simulated table-top scenes")  # fmt: skip
    d.add_argument("action", type=str | None, nargs="?", default=None,
                   help="make: generate a dataset into the cache")  # fmt: skip
    d.add_argument("name", type=str | None, nargs="?", default=None,
                   help="the dataset to make: keywords or tabletop")  # fmt: skip
    d.add_argument("--examples", action="store_true",
                   help="list the sample images that ship with cnnlab instead")  # fmt: skip
    d.add_argument("--voices", type=int | None, default=None,
                   help="make keywords: espeak-ng voices (default: all, about 100)")  # fmt: skip
    d.add_argument("--per_word", type=int, default=10,
                   help="make keywords: clips per word and voice")  # fmt: skip
    d.add_argument("--seed", type=int, default=0,
                   help="make: seeds voices and clips (keywords), scenes (tabletop)")  # fmt: skip
    d.add_argument("--out", type=str | None, default=None,
                   help="make: write the .npz here instead of the cache (then pass it to "
                   "--data); the cached set stays as it was")  # fmt: skip
    d.add_argument("--size", type=int, default=64, help="make tabletop: image side (pixels)")
    d.add_argument("--n_train", type=int, default=8000, help="make tabletop: training scenes")
    d.add_argument("--n_val", type=int, default=1000, help="make tabletop: validation scenes")
    d.add_argument("--n_test", type=int, default=1000, help="make tabletop: test scenes")
    d.add_argument(
        "--workers",
        type=int | None,
        default=None,
        help="make tabletop: rendering processes (default: one per core, <= 4)",
    )
    sub.add_subcommand("datasets", d, help="list datasets and where they are found")
    i = parser_for(help="list the weight-initialization schemes (for --init)")
    sub.add_subcommand("inits", i, help="list weight-initialization schemes")
    return {"models": models, "datasets": datasets, "inits": inits}


def models(ns: Any) -> int:
    from cnnlab.models import list_models

    size = (ns.input_size, ns.input_size)
    rows = list_models(ns.in_channels, ns.num_classes, size)
    title = f"models for {ns.in_channels}x{size[0]}x{size[1]} input, {ns.num_classes} classes"
    console.print(
        table(
            ["model", "parameters", "description"],
            [[r["name"], f"{r['parameters']:,}", r["help"]] for r in rows],
            title,
            text=(2,),
        )
    )
    from cnnlab.models import count_parameters, create_task_model, task_models

    c, k = ns.in_channels, ns.num_classes
    for task, what, out in (
        ("autoencode", "autoencoders (cnnlab autoencode)", c),
        ("segment", f"segmentation, 2-D (cnnlab segment), {k} classes", k),
    ):
        rows = [
            [e.name, f"{count_parameters(create_task_model(task, e.name, c, out, size)):,}", e.help]
            for e in task_models(task)
        ]
        console.print(table(["model", "parameters", "description"], rows, what, text=(2,)))
    vocab, length = 8000, 64  # the text task's defaults: most parameters are the embedding's
    built = {e.name: create_task_model("text", e.name, vocab, 3, (length,))
             for e in task_models("text")}  # fmt: skip
    rows = [[e.name, f"{count_parameters(built[e.name]):,}", e.help] for e in task_models("text")]
    console.print(table(["model", "parameters", "description"], rows,
                        f"text: {vocab:,}-token vocabulary, 3 classes", text=(2,)))  # fmt: skip
    spotters = {e.name: create_task_model("keywords", e.name, 1, 12, (40, 101))
                for e in task_models("keywords")}  # fmt: skip
    rows = [[n, f"{count_parameters(m):,}", task_models("keywords").get(n).help]
            for n, m in spotters.items()]  # fmt: skip
    console.print(table(["model", "parameters", "description"], rows,
                        "keywords (cnnlab keywords): 40 mel bands x 101 frames, 12 classes",
                        text=(2,)))  # fmt: skip
    return 0


def datasets(ns: Any) -> int:
    if ns.action is not None:
        return make(ns)
    if ns.examples:
        return examples()
    from cnnlab.data.datasets import DATASETS, EMBEDDED, locate

    rows = []
    for e in DATASETS:
        where, tried = locate(e.name, e.factory, None, download=False)  # only looks
        if where:
            found = str(where)
        elif e.factory.generate is not None:
            found = tried  # says it is generated on this machine
        else:
            found = "embedded subset" if e.name == "fashion-mnist" else "not found"
        rows.append([e.name, found, e.help])
    from cnnlab.data.text import EMBEDDED_TWEETS, find_tweets

    tweets = find_tweets()
    rows.append(["tweets", str(tweets) if tweets else f"embedded slice ({EMBEDDED_TWEETS.name})",
                 "about 38,000 tweets labelled negative / neutral / positive (text)"])  # fmt: skip
    from cnnlab.data.keywords import cached_keywords, has_espeak

    kw = cached_keywords()
    rows.append(["keywords", str(kw) if kw.is_file() else ("generated on first use (espeak-ng)"
                 if has_espeak() else "needs espeak-ng: apt-get install espeak-ng flite sox"),
                 "synthetic speech commands: 10 words, unknown, silence (audio)"])  # fmt: skip
    from cnnlab.data.tabletop import cached_tabletop

    tt = cached_tabletop()
    rows.append(["tabletop", str(tt) if tt.is_file() else "generated on first use (pybullet; "
                 "cnnlab datasets make tabletop)", "an object on a table seen by a camera, its "
                 "position in cm and yaw (robotics)"])  # fmt: skip
    console.print(table(["dataset", "found at", "description"], rows, text=(1, 2)))
    console.print(f"embedded default: {EMBEDDED}; any folder of class sub-folders also works")
    return 0


def make(ns: Any) -> int:
    """`cnnlab datasets make keywords`: generate the synthetic keyword set into the cache (or
    --out)."""
    import time

    from rich.progress import BarColumn, Progress, TextColumn, TimeRemainingColumn

    from cnnlab.core.errors import ConfigError
    from cnnlab.data.keywords import cached_keywords, make_keywords, read_keywords

    if ns.action != "make":
        raise ConfigError(f"unknown action {ns.action!r}: cnnlab datasets [make keywords|tabletop]")
    if ns.name == "tabletop":
        return make_tabletop(ns)
    if ns.name != "keywords":
        raise ConfigError(f"cnnlab datasets make knows keywords and tabletop; got {ns.name!r}")
    target = _target(ns.out, cached_keywords())
    t0 = time.perf_counter()
    columns = (TextColumn("keywords"), BarColumn(), TextColumn("{task.completed}/{task.total} "
               "clips"), TimeRemainingColumn())  # fmt: skip
    with Progress(*columns, console=console, transient=True) as bar:
        task = bar.add_task("clips", total=None)
        step = lambda d, n: bar.update(task, completed=d, total=n)  # noqa: E731
        path = make_keywords(target, ns.voices, ns.per_word, ns.seed, progress=step)
    data = read_keywords(path)
    console.print(data.source, highlight=False)
    sizes = ", ".join(f"{len(v):,} {k}" for k, v in data.y.items())
    console.print(f"{sizes} clips of 1 s at 16 kHz; {path.stat().st_size / 1e6:.0f} MB; "
                  f"{time.perf_counter() - t0:.0f} s", highlight=False)  # fmt: skip
    return 0


def _target(given: str | None, cached: Path) -> Path:
    """Where `datasets make` writes: --out (a file; its folder is made) or the cache."""
    from cnnlab.core.errors import ConfigError

    if given is None:
        return cached
    out = Path(given)
    if out.is_dir():
        raise ConfigError(f"--out {out} is a folder; give a file name such as {out / cached.name}")
    if out.suffix != ".npz":
        raise ConfigError(f"--out {out}: the set is written as .npz; give a name ending in .npz")
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
    except OSError as e:
        raise ConfigError(f"--out {out}: cannot make its folder ({e.strerror})") from None
    return out


def make_tabletop(ns: Any) -> int:
    """`cnnlab datasets make tabletop`: render the simulated scenes into the cache (or --out)."""
    import time

    from rich.progress import BarColumn, Progress, TextColumn, TimeRemainingColumn

    from cnnlab.data import tabletop

    path = _target(ns.out, tabletop.cached_tabletop(ns.size))
    t0 = time.perf_counter()
    sizes = {"train": ns.n_train, "val": ns.n_val, "test": ns.n_test}
    columns = (TextColumn("tabletop"), BarColumn(), TextColumn("{task.completed}/{task.total} "
               "scenes"), TimeRemainingColumn())  # fmt: skip
    with Progress(*columns, console=console, transient=True) as bar:
        task = bar.add_task("scenes", total=None)
        step = lambda d, n: bar.update(task, completed=d, total=n)  # noqa: E731
        tabletop.make_tabletop(path, sizes, ns.size, ns.seed, progress=step, workers=ns.workers)
    data = tabletop.read_tabletop(path)
    console.print(repr(data), highlight=False)
    console.print(f"{path.stat().st_size / 1e6:.0f} MB; {time.perf_counter() - t0:.0f} s",
                  highlight=False)  # fmt: skip
    return 0


def inits(ns: Any) -> int:
    import inspect

    from cnnlab.nn.init import INITS

    rows = []
    for e in INITS:
        params = list(inspect.signature(e.factory).parameters.values())[1:]
        shown = [(p.name, "1/sqrt(n)" if p.default is None else p.default) for p in params]
        settings = ", ".join(f"{k}={v}" for k, v in shown)
        rows.append([e.name, settings or "-", e.help])
    console.print(table(["scheme", "settings", "what it does"], rows, text=(1, 2)))
    console.print("use: cnnlab train --init kaiming-normal, or --init normal:std=0.1")
    return 0


def examples() -> int:
    from cnnlab.data.examples import EXAMPLES

    rows = [[e.dataset, e.label, str(e.path), e.text] for e in EXAMPLES]
    console.print(table(["dataset", "class", "file", "what it is"], rows, text=(1, 2, 3)))
    console.print("use: cnnlab predict RUN --example (the run's dataset), or any of these files")
    return 0
