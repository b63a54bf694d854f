"""`cnnlab serve`: the web app. One FastAPI application: the page (plain HTML, CSS and JS from
`app/static`, no build step, nothing from a CDN) and the JSON API it uses under /api/
(documented at /docs by FastAPI). Every file a request names goes through `runs.resolve`:
nothing outside the runs folder is ever read; the lecture's book (`cnnlab lecture`) is read
from its own folder, its files through `lecture.resolve_file`.

    app = create_app("runs", "lecture")  # then: uvicorn.run(app, host="127.0.0.1", port=8765)
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

from fastapi import Body, FastAPI, File, Form, HTTPException, Query, Request, UploadFile
from fastapi.responses import FileResponse, HTMLResponse, StreamingResponse
from fastapi.staticfiles import StaticFiles

from cnnlab.app import runs as run_files
from cnnlab.core.errors import CnnlabError, RunError

STATIC = Path(__file__).with_name("static")


def _array(a: Any) -> Any:
    """A numpy array as nested lists of numbers (-inf as None: JSON has no infinity)."""
    import numpy as np

    out = np.where(np.isfinite(a), a, np.nan).astype(float).tolist()

    def clean(v: Any) -> Any:
        if isinstance(v, list):
            return [clean(x) for x in v]
        return None if v != v else v  # NaN -> None

    return clean(out)


def explanation(e: Any) -> dict[str, Any]:
    """An Explanation (viz.explain) as JSON: inputs, kernel, padded input, output, frames."""
    return {
        "kind": e.kind, "title": e.title, "formula": e.formula, "kernel": e.kernel,
        "stride": e.stride, "padding": e.padding, "dilation": e.dilation,
        "x": _array(e.x[0]), "w": None if e.w is None else _array(e.w[0]),
        "padded": _array(e.padded[0]), "output": _array(e.output[0, 0]),
        "frames": [{"out": f.out_pos, "window": f.window, "text": f.text, "value": f.value}
                   for f in e.frames],
    }  # fmt: skip


def create_app(runs_dir: str | Path = "runs", lecture_dir: str | Path = "lecture") -> FastAPI:
    """The app, serving the run folders under `runs_dir` and the book in `lecture_dir`."""
    root = Path(runs_dir)
    book_dir = Path(lecture_dir)
    app = FastAPI(title="cnnlab", description="cnnlab's web app: the convolution explainer "
                  "and your own runs, opened up.", version="1")  # fmt: skip

    def guarded(fn: Any, *args: Any) -> Any:
        try:
            return fn(*args)
        except RunError as exc:
            raise HTTPException(404, str(exc)) from None
        except (CnnlabError, ValueError) as exc:
            raise HTTPException(400, str(exc)) from None

    @app.get("/", response_class=HTMLResponse, include_in_schema=False)
    def index() -> FileResponse:
        return FileResponse(STATIC / "index.html")

    @app.get("/api/health")
    def health() -> dict[str, Any]:
        return {"ok": True, "runs_dir": str(root)}

    @app.get("/api/runs")
    def list_runs() -> list[dict[str, Any]]:
        """Every run folder under the runs directory, newest first, as a card."""
        job = app.state.trainer.poll()
        return run_files.cards(root, {job.name: job.state} if job else None)

    @app.get("/api/run")
    def run_detail(id: str = Query(..., description="the run's path under the runs folder")):
        """One run: card, config, model, curves (metrics.csv), figures."""
        return guarded(run_files.detail, root, id)

    @app.get("/api/run/file")
    def run_file(id: str, name: str = Query(..., description="e.g. figures/curves.png")):
        """A figure (PNG) or the report (report.html) of a run."""
        folder = guarded(run_files.resolve, root, id)
        path = (folder / name).resolve()
        if folder not in path.parents or path.suffix not in (".png", ".html") or \
                not path.is_file():  # fmt: skip
            raise HTTPException(404, f"{id} has no file {name!r}")
        return FileResponse(path)

    @app.get("/api/explain/conv")
    def explain_conv(size: int = 5, kernel: int = 3, stride: int = 1, padding: int = 0,
                     dilation: int = 1, channels: int = 1, seed: int = 0) -> Any:  # fmt: skip
        """A convolution's numbers from the tested NumPy reference, with every output cell's
        arithmetic (one frame per cell; at most 256 cells, inputs up to 32)."""
        from cnnlab.viz import explain

        return explanation(guarded(explain.explain_conv, size, kernel, stride, padding, channels,
                                   dilation, seed))  # fmt: skip

    @app.get("/api/explain/pool")
    def explain_pool(size: int = 4, kernel: int = 2, kind: str = "max", stride: int | None = None,
                     padding: int = 0, seed: int = 0) -> dict[str, Any]:  # fmt: skip
        """Max or average pooling's numbers (kernel = size: global pooling)."""
        from cnnlab.viz import explain

        return explanation(guarded(explain.explain_pool, size, kernel, kind, stride, padding,
                                   seed))  # fmt: skip

    @app.get("/api/examples")
    def examples() -> list[dict[str, str]]:
        """The sample images that ship with cnnlab (as `cnnlab predict --example` uses)."""
        from cnnlab.data.examples import EXAMPLES

        return [{"file": e.file, "dataset": e.dataset, "label": e.label, "text": e.text}
                for e in EXAMPLES]  # fmt: skip

    @app.get("/api/example")
    def example(file: str) -> FileResponse:
        from cnnlab.data.examples import EXAMPLES

        found = [e for e in EXAMPLES if e.file == file]  # only the listed names: no paths
        if not found:
            raise HTTPException(404, f"no example {file!r}")
        return FileResponse(found[0].path)

    @app.post("/api/run/try")
    async def try_run(id: str, file: Annotated[UploadFile | None, File()] = None,
                      text: Annotated[str | None, Form()] = None, invert: str = "auto",
                      topk: int = 5) -> Any:  # fmt: skip
        """An input through a run, as `cnnlab predict` reads it: an image (upload or drawing)
        for a classification run (top classes, notes, every conv layer's feature maps with
        their kernels), a text for a text run (classes, each token's share), a WAV file for a
        keyword run (words, the log-mel heard), an image for a segmentation run (the mask's
        colour overlay, the share of pixels per class), an image for an autoencoder run (input,
        noisy input of a denoiser, reconstruction and difference, with MSE and PSNR)."""
        from cnnlab.app import trying

        folder = guarded(run_files.resolve, root, id)
        task = run_files.task_of(folder)
        if task == "text":
            return guarded(trying.try_text, folder, text or "")
        if file is None:
            raise HTTPException(400, "give a file to try (an image, or a WAV for a keyword run)")
        data = await file.read(trying.MAX_UPLOAD + 1)
        if task == "keywords":
            return guarded(trying.try_sound, folder, data, file.filename or "", topk)
        if task == "segment":
            return guarded(trying.try_mask, folder, data, file.filename or "")
        if invert not in ("false", "true", "auto"):
            raise HTTPException(400, f"invert must be false, true or auto, got {invert!r}")
        if task == "autoencode":
            return guarded(trying.try_reconstruct, folder, data, file.filename or "", invert)
        return guarded(trying.try_image, folder, data, file.filename or "", invert, topk)

    @app.get("/api/lecture")
    def lecture() -> dict[str, Any]:
        """The book that `cnnlab lecture` built: every built section in the lecture's order
        (point, claim, measured with its verdict, commands, figures, tables, notes, and how the
        page opens its live part), and the titles of the sections not built; `built` is false
        when the folder is missing or empty."""
        from cnnlab.app.lecture import book

        return book(book_dir)

    @app.get("/lecture/files/{name:path}")
    def lecture_file(name: str) -> FileResponse:
        """A file of the book (a figure, index.html): only from inside the book's folder."""
        from cnnlab.app.lecture import resolve_file

        path = resolve_file(book_dir, name)
        if path is None:
            raise HTTPException(404, f"the book has no file {name!r}")
        return FileResponse(path)

    from cnnlab.app.training import Trainer

    trainer = Trainer(root)
    app.state.trainer = trainer

    @app.post("/api/train")
    def train(task: Annotated[str, Body()], options: Annotated[dict, Body()]) -> Any:
        """Start `cnnlab <task>` with a few options (model, data, epochs, max_time,
        batch_size, lr, train_limit); one at a time (409 while one runs)."""
        try:
            job = trainer.start(task, options)
        except CnnlabError as exc:
            code = 409 if "is running" in str(exc) else 400
            raise HTTPException(code, str(exc)) from None
        return trainer.describe() | {"id": job.name}

    @app.get("/api/train")
    def training() -> Any:
        """The training started from the page (null when none was), with its log's tail."""
        return trainer.describe()

    @app.post("/api/train/stop")
    def stop_training() -> Any:
        """Stop the page's training; the run stays resumable from its last epoch."""
        guarded(trainer.stop)
        return trainer.describe()

    @app.get("/api/run/stream")
    async def stream(id: str, request: Request, after: int = 0) -> StreamingResponse:
        """Server-Sent Events: each new row of the run's metrics.csv (`row`), and its status
        (`status`) when it changes; ends when the run is no longer running."""
        import asyncio
        import json

        folder = guarded(run_files.resolve_or_new, root, id)

        async def events():
            sent, last = after, None
            while not await request.is_disconnected():
                rows = run_files.read_metrics(folder)
                for row in rows[sent:]:
                    yield f"event: row\ndata: {json.dumps(row)}\n\n"
                sent = max(sent, len(rows))
                job = trainer.poll()
                mine = job is not None and job.name == id
                state = job.state if mine else run_files.status(folder)
                if state != last:
                    yield f"event: status\ndata: {json.dumps({'status': state})}\n\n"
                    last = state
                if state != "running":
                    break
                await asyncio.sleep(0.25)

        return StreamingResponse(events(), media_type="text/event-stream",
                                 headers={"Cache-Control": "no-cache"})  # fmt: skip

    @app.get("/api/run/kernels")
    def kernels(id: str) -> Any:
        """The first conv layer's kernels (best weights so far) as one PNG grid, and its
        strongest feature maps for the test image that ships for the run's dataset."""
        from cnnlab.app.trying import first_maps, kernel_grid

        folder = guarded(run_files.resolve, root, id)
        return {"png": guarded(kernel_grid, folder), "maps": guarded(first_maps, folder)}

    app.mount("/static", StaticFiles(directory=STATIC), name="static")
    return app
