"""The web app, measured in Debian's chromium through Playwright (issue goals: page load under
1 s, a prediction with feature maps under 200 ms end to end for cnn-bn, a metric written ->
shown under 1 s), with the server's memory at idle; it also takes the screenshots of
docs/app.md. The server runs as `cnnlab serve` in its own process, over a runs folder with a
cnn-bn and an mlp run (copied from runs/doc-tables/demo when there, else trained here) and
the lecture's book (`lecture/` when `cnnlab lecture` built it there, else a quick book of a
few sections built here) for the Lecture tab's screenshot.

    python benchmarks/app_speed.py [--repeats 10]
    python benchmarks/app_speed.py --only_lecture      # only docs/figures/app/lecture.png
"""

from __future__ import annotations

import argparse
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
from _common import command, machine, write_section

ROOT = Path(__file__).resolve().parents[1]
SHOTS = ROOT / "docs" / "figures" / "app"


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def runs_folder(tmp: Path) -> Path:
    runs = tmp / "runs"
    demo = ROOT / "runs" / "doc-tables" / "demo"
    for name in ("cnn-bn", "mlp"):
        if (demo / name / "model.safetensors").is_file():
            shutil.copytree(demo / name, runs / name)
        else:
            subprocess.run([sys.executable, "-m", "cnnlab", "train", "--model", name,
                            "--epochs", "2", "--runs_dir", str(runs), "--name", name],
                           check=True, capture_output=True)  # fmt: skip
    dae = ROOT / "runs" / "dae"  # docs/autoencoders.md's denoiser, when it was trained here
    if (dae / "model.safetensors").is_file():
        shutil.copytree(dae, runs / "dae")
    else:
        train = ["autoencode", "--model", "ae-conv", "--noise", "0.3", "--latent", "16",
                 "--epochs", "5", "--train_limit", "20000", "--name", "dae"]  # fmt: skip
        subprocess.run(
            [sys.executable, "-m", "cnnlab", *train, "--runs_dir", str(runs)],
            check=True,
            capture_output=True,
        )
    live = runs / "live"
    shutil.copytree(runs / "mlp", live)  # a run that is "being trained": rows are appended
    rows = (live / "metrics.csv").read_text().splitlines()
    (live / "metrics.csv").write_text("\n".join(rows[:2]) + "\n")
    for f in ("results.json", "report.html"):
        (live / f).unlink(missing_ok=True)
    import json
    import os

    (live / "running.json").write_text(json.dumps({"pid": os.getpid()}))  # "trained" by us
    return runs


LECTURE_SECTIONS = "stride,padding,pooling"  # the quick book's sections: about 20 s
LECTURE_SHOT = 1250  # px of the Lecture tab's top in its screenshot


def lecture_book(tmp: Path, given: str | None) -> Path:
    """The book the Lecture tab shows: `given`, else lecture/ when built, else a quick book
    of LECTURE_SECTIONS built in `tmp` as `cnnlab lecture --out lecture` (the server runs
    in `tmp`, so the page and the commands name the folder as a reader's would)."""
    if given:
        return Path(given).resolve()
    if (ROOT / "lecture" / "index.html").is_file():
        return ROOT / "lecture"
    subprocess.run([sys.executable, "-m", "cnnlab", "lecture", "--out", "lecture", "--sections",
                    LECTURE_SECTIONS, "--progress", "false"], check=True, cwd=tmp,
                   capture_output=True)  # fmt: skip
    return tmp / "lecture"


def shoot_lecture(page) -> None:
    """docs/figures/app/lecture.png: the Lecture tab's top (the book's line, the sections,
    the first sections with their measured sentence, command, figure and live part)."""
    page.click("nav button[data-tab=lecture]")
    page.wait_for_selector(".lesson")
    for img in page.query_selector_all(".lesson img"):  # lazy images: bring each into view
        img.scroll_into_view_if_needed()
    page.wait_for_function("[...document.querySelectorAll('.lesson img')]"
                           ".every(i => i.complete && i.naturalWidth > 0)")  # fmt: skip
    page.evaluate("window.scrollTo(0, 0)")
    tall = min(LECTURE_SHOT, page.evaluate("document.documentElement.scrollHeight"))
    page.screenshot(path=str(SHOTS / "lecture.png"), full_page=True,
                    clip={"x": 0, "y": 0, "width": DESK["width"], "height": tall})  # fmt: skip


DESK = {"width": 1100, "height": 820}
PHONE = {"width": 390, "height": 844}  # a phone held upright


def shoot(page, name: str, phone: bool = True) -> None:
    """docs/figures/app/NAME.png at the desktop size and, with `phone`, NAME-phone.png: the same
    page at 390 px wide (its first 1,600 px)."""
    page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)
    if phone:
        page.set_viewport_size(PHONE)
        time.sleep(0.3)  # the charts redraw at the new width
        tall = min(1600, page.evaluate("document.documentElement.scrollHeight"))
        page.screenshot(path=str(SHOTS / f"{name}-phone.png"), full_page=True,
                        clip={"x": 0, "y": 0, "width": PHONE["width"], "height": tall})  # fmt: skip
        page.set_viewport_size(DESK)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--repeats", type=int, default=10)
    ap.add_argument("--no_write", action="store_true", help="print only, leave docs/ alone")
    ap.add_argument(
        "--lecture",
        type=str,
        default=None,
        help="the book for the Lecture tab (default: lecture/, else a quick one)",
    )
    ap.add_argument(
        "--only_lecture",
        action="store_true",
        help="only the Lecture tab's screenshot (no runs, no measurements)",
    )
    args = ap.parse_args()
    from playwright.sync_api import sync_playwright

    from cnnlab.data.examples import EXAMPLES

    tmp = Path(tempfile.mkdtemp())
    book = lecture_book(tmp, args.lecture)
    runs = tmp / "runs" if args.only_lecture else runs_folder(tmp)
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    shown = book.name if book.parent == tmp else str(book)  # the folder as the page names it
    server = subprocess.Popen([sys.executable, "-m", "cnnlab", "serve", "--runs_dir", str(runs),
                               "--lecture", shown, "--port", str(port)], cwd=tmp,
                              stdout=subprocess.PIPE, text=True)  # fmt: skip
    url = f"http://127.0.0.1:{port}/"
    server.stdout.readline()  # the line with the URL: uvicorn starts right after
    time.sleep(1.5)
    idle_start = rss_mb(server.pid)
    loads, predicts, lives = [], [], []
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path="/usr/bin/chromium", args=["--no-sandbox"])
        if args.only_lecture:
            page = browser.new_page(viewport=DESK)
            page.goto(url)
            shoot_lecture(page)
            browser.close()
            server.terminate()
            server.wait(10)
            shutil.rmtree(tmp, ignore_errors=True)
            return
        for _ in range(args.repeats):
            page = browser.new_page()
            page.goto(url)
            page.wait_for_load_state("load")
            loads.append(page.evaluate(
                "performance.getEntriesByType('navigation')[0].loadEventEnd"))  # fmt: skip
            page.close()
        page = browser.new_page(viewport=DESK)
        page.goto(url)
        page.wait_for_selector("[data-testid=out-0-0]")
        page.click("#step")
        page.click("#step")
        page.screenshot(path=str(SHOTS / "explainer.png"))
        page.set_viewport_size(PHONE)
        page.screenshot(path=str(SHOTS / "explainer-phone.png"))
        page.set_viewport_size(DESK)
        example = EXAMPLES[0].path
        js = """async ([file]) => {
            const blob = await (await fetch(`/api/example?file=${file}`)).blob();
            const form = new FormData(); form.append('file', blob, file);
            const t = performance.now();
            const r = await fetch('/api/run/try?id=cnn-bn', {method: 'POST', body: form});
            await r.json();
            return performance.now() - t;
        }"""
        for _ in range(args.repeats + 2):
            predicts.append(page.evaluate(js, [example.name]))
        predicts = predicts[2:]  # the first calls load the model
        idle_after = rss_mb(server.pid)
        page.click("nav button[data-tab=runs]")
        page.wait_for_selector(".card")
        page.check("[data-testid='card-cnn-bn'] input")
        page.check("[data-testid='card-mlp'] input")
        page.wait_for_selector("#compare-chart .uplot")
        page.click("[data-testid='card-cnn-bn'] button")
        page.wait_for_selector("#run-chart .uplot")
        shoot(page, "runs")
        page.click("nav button[data-tab=try]")
        page.wait_for_function("document.querySelector('#try-run').options.length > 0")
        page.select_option("#try-run", "cnn-bn")
        page.click("#try-examples img >> nth=0")
        page.wait_for_selector("#try-classes li")
        page.click(".layer img >> nth=2")
        shoot(page, "try")
        page.select_option("#try-run", "dae")
        page.click("#try-examples img >> nth=0")
        page.wait_for_function("document.querySelector('#try-notes').textContent"
                               ".includes('PSNR')")  # fmt: skip
        shoot(page, "try-autoencoder", phone=False)
        page.click("nav button[data-tab=runs]")
        page.wait_for_selector("[data-testid='card-live']")
        page.evaluate("window.arrived = []; window.follow('live', r => arrived.push(Date.now()), "
                      "() => {}, 1)")  # fmt: skip
        csv = runs / "live" / "metrics.csv"
        full = ROOT / "runs" / "doc-tables" / "demo" / "mlp" / "metrics.csv"
        extra = full.read_text().splitlines()[2:] if full.is_file() else []
        for k, row in enumerate(extra[: args.repeats] or ["2,1,0.5,0.001,1,0.5,1,1"]):
            time.sleep(0.6)
            t0 = time.time() * 1000
            with csv.open("a") as f:
                f.write(row + "\n")
            page.wait_for_function(f"window.arrived.length > {k}", timeout=5000)
            lives.append(page.evaluate(f"window.arrived[{k}]") - t0)
        page.click("nav button[data-tab=train]")
        page.fill("#train-form input[name=epochs]", "4")
        page.fill("#train-form input[name=train_limit]", "3000")
        page.click("#train-start")
        page.wait_for_function("document.querySelector('#train-status').textContent"
                               ".includes('finished')", timeout=300_000)  # fmt: skip
        page.wait_for_function("document.querySelector('#train-kernels').src.length > 0")
        shoot(page, "train")
        shoot_lecture(page)
        browser.close()
    server.terminate()
    server.wait(10)
    lines = [
        "## The web app: speed and memory",
        "",
        f"Machine: {machine()}. Command: `{command()}`. Debian's chromium through Playwright; "
        f"the server is `cnnlab serve` in its own process. Medians of {args.repeats}.",
        "",
        "| what | median | worst | goal |",
        "|---|---|---|---|",
        f"| page load (navigation timing, loadEventEnd) | {np.median(loads):.0f} ms | "
        f"{max(loads):.0f} ms | < 1000 ms |",
        f"| prediction with every layer's feature maps, cnn-bn (fetch to JSON, in the page) | "
        f"{np.median(predicts):.0f} ms | {max(predicts):.0f} ms | < 200 ms |",
        f"| a metrics row written -> arrived in the page (Server-Sent Events) | "
        f"{np.median(lives):.0f} ms | {max(lives):.0f} ms | < 1000 ms |",
        f"| server memory (RSS), idle after start | {idle_start:.0f} MB | | |",
        f"| server memory (RSS), idle after the predictions | {idle_after:.0f} MB | | |",
    ]
    body = "\n".join(lines)
    print(body)
    if not args.no_write:
        write_section("app-speed", body, ROOT / "docs" / "app.md")
    shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
