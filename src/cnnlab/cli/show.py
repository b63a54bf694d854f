"""cnnlab show filters / features / kernels: convolution made visible, as figures."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from cnnlab.cli.common import console, parser_for

DEFAULT_KERNELS = "sobel-x,sobel-y,laplacian"


def register(sub: Any) -> dict:
    from cnnlab.mechanics.kernels import kernel_names

    names = "|".join(kernel_names())
    show = parser_for(help="convolution made visible: filters, feature maps, kernels")
    # jsonargparse wants the levels added top-down: the group first, then its commands
    sub.add_subcommand("show", show, help="filters on an image, feature maps, learned kernels")
    what = show.add_subcommands(dest="what", required=True)
    f = parser_for(help="apply classic or custom kernels to an image: filtered, ReLU, max-pooled")
    f.add_argument("image", type=str, help="any PNG or JPEG (colour is filtered in grey)")
    f.add_argument(
        "--kernel",
        action="append",
        type=str,
        help=f"{names} or a text file of numbers; repeat it or separate by commas "
        f"(default {DEFAULT_KERNELS})",
    )
    f.add_argument("--pool", type=int, default=2, help="max-pool size after ReLU (1: none)")
    f.add_argument("--max_size", type=int, default=512,
                   help="shrink larger images to this longer side first (0: keep)")  # fmt: skip
    f.add_argument("--dpi", type=int, default=110, help="resolution of the figures")
    f.add_argument("--out", type=str | None, default=None,
                   help="output folder (default runs/show/filters-<image name>)")  # fmt: skip
    what.add_subcommand("filters", f, help="classic kernels (Sobel, Laplacian, ...) on an image")

    m = parser_for(help="the feature maps of every conv layer of a trained run for one image; "
                   "for a text run, each token's share of the prediction (--text)")  # fmt: skip
    m.add_argument("run", type=str, help="run folder written by cnnlab train or cnnlab text")
    m.add_argument("image", type=str | None, nargs="?", default=None,
                   help="image file or .npy (default: the run's stored test image)")  # fmt: skip
    m.add_argument("--text", type=str, action="append", default=None,
                   help="text runs: a text to explain (repeatable)")  # fmt: skip
    m.add_argument("--max_maps", type=int, default=32, help="channels drawn per layer")
    m.add_argument("--scale", type=str, default="layer",
                   help="layer: one colour scale a layer; map: each map to its range")  # fmt: skip
    m.add_argument("--dpi", type=int, default=110, help="resolution of the figures")
    m.add_argument("--out", type=str | None, default=None,
                   help="output folder (default RUN/show/features-<image name>)")  # fmt: skip
    what.add_subcommand("features", m, help="feature maps of a trained model for an image")

    k = parser_for(help="the learned kernels of a run's first conv layer as a grid of patches")
    k.add_argument("run", type=str, help="run folder written by cnnlab train")
    k.add_argument("--dpi", type=int, default=110, help="resolution of the figures")
    k.add_argument("--out", type=str | None, default=None,
                   help="output folder (default RUN/show)")  # fmt: skip
    what.add_subcommand("kernels", k, help="first-layer kernels of a trained model")
    return {"show": run}


def run(ns: Any) -> int:
    handler = {"filters": filters, "features": features, "kernels": kernels}[ns.what]
    args = ns[ns.what]
    if not 20 <= args.dpi <= 600:
        raise ValueError(f"dpi must be between 20 and 600, got {args.dpi}")
    return handler(args)


def _out(path: Path) -> str:
    """A path as printed: relative to the working folder when it is inside it."""
    try:
        return str(path.resolve().relative_to(Path.cwd().resolve()))
    except ValueError:
        return str(path)


def filters(ns: Any) -> int:
    from cnnlab.data.sources import read_image
    from cnnlab.mechanics.kernels import filter_all, resolve_kernels
    from cnnlab.viz.figures import save_figure
    from cnnlab.viz.filters import plot_filters, save_filter_arrays

    if ns.pool < 1:
        raise ValueError(f"pool must be >= 1 (1 = no pooling), got {ns.pool}")
    if ns.max_size < 0:
        raise ValueError(f"max_size must be >= 0 (0 keeps the size), got {ns.max_size}")
    kernels = resolve_kernels(ns.kernel or [DEFAULT_KERNELS])  # bad names fail before reading
    image = Path(ns.image)
    original, grey, colour = read_image(image, ns.max_size)
    results = filter_all(grey, kernels, ns.pool)
    out = Path(ns.out) if ns.out else Path("runs") / "show" / f"filters-{image.stem}"
    figure = save_figure(plot_filters(original, results, colour), out / "filters.png", ns.dpi)
    arrays = save_filter_arrays(results, out)
    h, w = grey.shape
    if colour:
        console.print(f"note: {image.name} is a colour image; the kernels ran on its grey "
                      "version (0.299 R + 0.587 G + 0.114 B)", highlight=False)  # fmt: skip
    pool = f"{ns.pool}x{ns.pool} max-pool" if ns.pool > 1 else "no pooling"
    console.print(f"image: {h}x{w} pixels, {len(results)} kernel(s), {pool}", highlight=False)
    console.print(f"figure: {_out(figure)}", highlight=False)
    console.print(f"arrays: {len(arrays)} grey PNGs in {_out(out)}/ "
                  "(<kernel>-filtered.png: 128 = 0; -relu.png, -pooled.png: 0 = 0)",
                  highlight=False)  # fmt: skip
    return 0


def _image_for(run: Path, image: str | None) -> Path:
    from cnnlab.core.errors import DataError
    from cnnlab.viz.inside import EXAMPLE

    if image is not None:
        return Path(image)
    stored = run / "figures" / EXAMPLE
    if not stored.is_file():
        raise DataError(f"{run} has no stored test image ({stored}); give an image file")
    return stored


def features(ns: Any) -> int:
    import torch

    from cnnlab.data.loader import normalize
    from cnnlab.engine.runs import load_model
    from cnnlab.tasks.classify import inside as taps_of
    from cnnlab.tasks.classify.inputs import load_image_file
    from cnnlab.viz import inside
    from cnnlab.viz.figures import save_figure

    if ns.max_maps < 1:
        raise ValueError(f"max_maps must be >= 1, got {ns.max_maps}")
    if ns.scale not in ("layer", "map"):
        raise ValueError(f"scale must be 'layer' or 'map', got {ns.scale!r}")
    run = Path(ns.run)
    kind = _run_task(run)
    if ns.text or kind == "text":
        return text_features(ns, run)
    if kind == "keywords":
        return sound_features(ns, run)
    if kind == "rl":
        return agent_features(ns, run)
    from cnnlab.cli.runs import no_sound

    no_sound(run, kind, [ns.image] if ns.image else [])
    model, meta = load_model(run)
    taps_of.first_conv(model, f"run {run} (model {meta.model!r})")
    image = _image_for(run, ns.image)
    x = load_image_file(image, meta)  # (C, H, W) uint8, converted exactly as predict does
    batch = normalize(torch.from_numpy(x.copy())[None], meta.mean, meta.std)  # (1, C, H, W)
    maps = taps_of.feature_maps(model, batch)
    taps = {t.name: t for t in taps_of.conv_taps(model)}
    stem = "example" if ns.image is None else image.stem
    out = Path(ns.out) if ns.out else run / "show" / f"features-{stem}"
    written = []
    for i, (name, t) in enumerate(maps.items(), start=1):
        fig = inside.plot_feature_maps(t[0], f"{name}: {taps[name].label}", ns.max_maps, ns.scale)
        written.append(save_figure(fig, out / f"{i:02d}-{name}.png", ns.dpi))
    shown = x[0] if x.shape[0] == 1 else x.transpose(1, 2, 0)
    labels = {n: t.label for n, t in taps.items()}
    overview = inside.plot_feature_overview(maps, labels, shown, per_layer=8, scale=ns.scale)
    save_figure(overview, out / "overview.png", ns.dpi)
    c, h, w = x.shape
    console.print(f"input: {image} as {c}x{h}x{w}, converted as `cnnlab predict` does",
                  highlight=False)  # fmt: skip
    for path, (name, t) in zip(written, maps.items(), strict=True):
        shape = "x".join(str(s) for s in t.shape[1:])
        console.print(f"{name} [{shape}]: {_out(path)}", highlight=False)
    console.print(f"overview (8 maps per layer): {_out(out / 'overview.png')}", highlight=False)
    return 0


def _run_task(run: Path) -> str:
    from cnnlab.engine.runs import read_meta

    return read_meta(run).task


def agent_features(ns: Any, run: Path) -> int:
    """`cnnlab show features RL_RUN`: the Q-network's feature maps on a frame of its game (the
    frame after `--steps` steps of the agent's own play, seeded)."""
    from cnnlab.core.errors import ConfigError
    from cnnlab.tasks.classify import inside as taps_of
    from cnnlab.tasks.rl.play import game_frame
    from cnnlab.viz import inside
    from cnnlab.viz.figures import save_figure
    from cnnlab.viz.game import frame_rgb

    if ns.image or ns.text:
        raise ConfigError(f"{run} is an RL run: it shows a frame of its own game (no image or "
                          "text to give)")  # fmt: skip
    model, spec, frame, x, q = game_frame(run)
    taps_of.first_conv(model, f"run {run} (model {spec.name!r} agent)")
    maps = taps_of.feature_maps(model, x)
    labels = {t.name: t.label for t in taps_of.conv_taps(model)}
    best = spec.action_names[int(q.argmax())]
    out = Path(ns.out) if ns.out else run / "show" / "features-game"
    fig = inside.plot_feature_overview(maps, labels, frame_rgb(frame, spec.scale), per_layer=8,
                                       scale=ns.scale)  # fmt: skip
    path = save_figure(fig, out / "overview.png", ns.dpi)
    q_text = ", ".join(f"{n} {v:.2f}" for n, v in zip(spec.action_names, q, strict=False))
    console.print(f"a frame of {spec.name}; Q-values: {q_text} (best: {best})", highlight=False)
    for name, t in maps.items():
        console.print(f"{name} [{'x'.join(str(s) for s in t.shape[1:])}]", highlight=False)
    console.print(f"overview (8 maps per layer): {_out(path)}", highlight=False)
    return 0


def sound_features(ns: Any, run: Path) -> int:
    """`cnnlab show features RUN clip.wav`: the spectrogram and each conv stage's maps."""
    import torch

    from cnnlab.core.errors import ConfigError
    from cnnlab.tasks.keywords.saved import KeywordModel, example_clips, read_clip, stage_maps
    from cnnlab.viz.audio import clip_features_figure
    from cnnlab.viz.figures import save_figure

    if ns.text:
        raise ConfigError(f"{run} is a keyword run: give a WAV file, not --text")
    file = ns.image or example_clips(run)[0]
    clip, _, notes = read_clip(file)
    km = KeywordModel.load(run)
    spec, maps = stage_maps(km, clip)
    p = km.probabilities(torch.from_numpy(clip)[None])[0]
    title = f"{Path(file).name}: heard {km.classes[int(p.argmax())]} ({p.max():.0%})"
    out = Path(ns.out) if ns.out else run / "show" / f"features-{Path(file).stem}"
    per = min(8, ns.max_maps)
    path = save_figure(clip_features_figure(spec, maps, title, per), out / "overview.png", ns.dpi)
    console.print(title, highlight=False)
    for note in notes:
        console.print(f"note: {note}", highlight=False)
    for name, m in maps:
        console.print(f"{name} [{'x'.join(map(str, m.shape))}]", highlight=False)
    console.print(f"figure (spectrogram, {per} maps per stage): {_out(path)}", highlight=False)
    return 0


def text_features(ns: Any, run: Path) -> int:
    """`cnnlab show features RUN --text "..."`: each token's share of the prediction."""
    from rich.text import Text

    from cnnlab.core.errors import ConfigError
    from cnnlab.tasks.text.inside import headline, write_text_features
    from cnnlab.viz.text import terminal_styles

    if ns.image is not None:
        raise ConfigError(f"{run} is a text run: give texts with --text, not {ns.image}")
    if not ns.text:
        raise ConfigError(f'{run} is a text run: give a text to explain with --text "..."')
    out = Path(ns.out) if ns.out else run / "show"
    done, page = write_text_features(run, list(ns.text), out, ns.dpi)
    for view, png in done:
        console.print(headline(view), highlight=False, markup=False)
        line = Text(view.text.replace("\n", " "))
        for (a, b), style in zip(view.spans, terminal_styles(view.scores), strict=True):
            line.stylize(style, a, b)
        console.print(line)
        for gram, width, share in view.windows:
            tokens = f"{width} token" + "s" * (width > 1)
            console.print(f"  fired: {gram!r} ({tokens}) {share:+.3f}", highlight=False,
                          markup=False)  # fmt: skip
        if view.cut:
            console.print(f"  note: {view.cut} tokens after the first {len(view.spans)} were "
                          "cut (the run's --max_len)", highlight=False)  # fmt: skip
        console.print(f"  figure: {_out(png)}", highlight=False)
    console.print(f"page: {_out(page)} (orange: for the predicted class; blue: against; "
                  f"{done[0][0].method})", highlight=False)  # fmt: skip
    return 0


def kernels(ns: Any) -> int:
    from cnnlab.engine.runs import load_model
    from cnnlab.tasks.classify.inside import first_conv
    from cnnlab.viz.figures import save_figure
    from cnnlab.viz.inside import plot_kernels

    run = Path(ns.run)
    model, meta = load_model(run)
    first = first_conv(model, f"run {run} (model {meta.model!r})")
    out = Path(ns.out) if ns.out else run / "show"
    fig = plot_kernels(first.conv.weight, f"{first.name}: {first.label}")
    path = save_figure(fig, out / "kernels.png", ns.dpi)
    weight = "x".join(str(s) for s in first.conv.weight.shape)
    console.print(f"{first.name} weight [{weight}]: {_out(path)}", highlight=False)
    return 0
