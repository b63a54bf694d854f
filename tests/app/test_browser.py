"""The page in a real browser: Playwright driving Debian's chromium (never `playwright install`).
The explainer's numbers on the page equal the NumPy reference; the runs tab shows a card per
run and draws a run's curve. Skips where chromium or playwright is missing, fails under CI."""

from __future__ import annotations

import os
import shutil
import socket
import threading
import time

import numpy as np
import pytest

from cnnlab.mechanics.reference import conv2d_loop

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"


def _need() -> None:
    missing = []
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        missing.append("playwright (pip install playwright)")
    if not os.path.exists(CHROMIUM):
        missing.append("chromium (apt-get install chromium)")
    if missing:
        if os.environ.get("CI"):
            pytest.fail(f"CI needs {', '.join(missing)}", pytrace=False)
        pytest.skip(f"{', '.join(missing)} not installed")


@pytest.fixture(scope="module")
def site(tmp_path_factory, source_run):
    _need()
    pytest.importorskip("fastapi")
    import uvicorn
    from playwright.sync_api import sync_playwright
    from test_server import fake_run

    from cnnlab.app.server import create_app

    runs = tmp_path_factory.mktemp("site") / "runs"
    shutil.copytree(source_run, runs / "cnn")  # a real classification run
    fake_run(runs / "first")
    fake_run(runs / "second", rows=5)
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    server = uvicorn.Server(uvicorn.Config(create_app(runs), host="127.0.0.1", port=port,
                                           log_level="warning"))  # fmt: skip
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    while not server.started:
        time.sleep(0.02)
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        yield browser, f"http://127.0.0.1:{port}/", runs
        browser.close()
    server.should_exit = True
    thread.join(5)


def read_output(page, n: int) -> np.ndarray:
    return np.array([[float(page.inner_text(f"[data-testid=out-{i}-{j}]")) for j in range(n)]
                     for i in range(n)])  # fmt: skip


def test_the_explainer_shows_the_references_numbers(site):
    browser, url, _ = site
    page = browser.new_page()
    page.goto(url)
    page.wait_for_selector("[data-testid=out-0-0]")
    for settings in ({"size": "6", "kernel": "3", "stride": "2", "padding": "1"},
                     {"size": "5", "kernel": "2", "stride": "1", "padding": "0"}):  # fmt: skip
        for name, value in settings.items():
            page.fill(f"input[name={name}]", value)
        page.dispatch_event("#explain-form", "change")
        page.wait_for_function("document.querySelector('#explain-title').textContent"
                               f".includes('input {settings['size']}x{settings['size']}, "
                               f"kernel {settings['kernel']}x')")  # fmt: skip
        data = page.evaluate("fetch(document.querySelector('#explain-form') && "
                             "explainQuery()).then(r => r.json())")  # fmt: skip
        x, w = np.array(data["x"])[None], np.array(data["w"])[None]
        want = conv2d_loop(x, w, None, int(settings["stride"]), int(settings["padding"]))[0, 0]
        page.fill("#scrub", str(len(data["frames"]) - 1))
        page.dispatch_event("#scrub", "input")
        assert np.array_equal(read_output(page, want.shape[0]), want)
    page.close()


def test_the_player_steps_one_output_cell_at_a_time(site):
    browser, url, _ = site
    page = browser.new_page()
    page.goto(url)
    page.wait_for_selector("[data-testid=out-0-0]")
    assert page.inner_text("#frame-no") == "1 / 10"
    page.click("#step")
    page.click("#step")
    assert page.inner_text("#frame-no") == "3 / 10"
    assert "now" in page.get_attribute("[data-testid=out-0-2]", "class")
    assert len(page.query_selector_all("#grid-in .tap")) == 9  # the 3x3 window it reads
    page.close()


def test_the_runs_tab_lists_runs_and_draws_a_runs_curve(site):
    browser, url, _ = site
    page = browser.new_page(viewport={"width": 390, "height": 844})  # a phone-sized screen
    page.goto(url)
    page.click("nav button[data-tab=runs]")
    page.wait_for_selector("[data-testid='card-second']")
    assert len(page.query_selector_all(".card")) == 3
    page.click("[data-testid='card-second'] button")
    page.wait_for_selector("#run-chart .uplot")
    assert page.inner_text("#run-title") == "second"
    assert page.input_value("#run-metric") == "val/acc"
    page.close()


def test_an_uploaded_image_gets_predicts_top_class_and_a_bad_one_an_error(site, tmp_path):
    from cnnlab.data.examples import EXAMPLES
    from cnnlab.tasks.classify.prediction import predict

    browser, url, runs = site
    page = browser.new_page()
    page.goto(url)
    page.click("nav button[data-tab=try]")
    page.wait_for_function("document.querySelector('#try-run').options.length > 0")
    assert page.eval_on_selector_all("#try-run option", "o => o.map(x => x.value)") == ["cnn"]
    (tmp_path / "broken.png").write_bytes(b"not a picture")
    page.set_input_files("#try-file", str(tmp_path / "broken.png"))
    page.wait_for_function("document.querySelector('#try-error').textContent.length > 0")
    assert "broken.png" in page.inner_text("#try-error")
    path = EXAMPLES[0].path
    page.set_input_files("#try-file", str(path))
    page.wait_for_selector("#try-classes li")
    assert page.input_value("#try-run") == "cnn"
    want = predict(runs / "cnn", [path], topk=1)[0].top[0][0]
    assert page.inner_text("#try-classes li >> nth=0").startswith(want)
    assert page.inner_text("#try-error") == ""
    assert len(page.query_selector_all("#try-layers .layer")) == 4
    page.close()


def test_a_training_from_the_page_shows_its_curve_growing_and_finishes(site, image_folder):
    browser, url, _ = site
    page = browser.new_page()
    page.goto(url)
    page.click("nav button[data-tab=train]")
    page.fill("#train-form input[name=model]", "mlp")
    page.fill("#train-form input[name=data]", str(image_folder))
    page.fill("#train-form input[name=epochs]", "3")
    page.fill("#train-form input[name=batch_size]", "8")
    page.click("#train-start")
    page.wait_for_function("document.querySelector('#train-status').textContent"
                           ".includes('finished')", timeout=60_000)  # fmt: skip
    assert "epoch 3/3" in page.inner_text("#train-status")
    assert page.evaluate("tr.rows.map(r => r.epoch)") == [1, 2, 3]  # one row per epoch, live
    assert page.query_selector("#train-chart .uplot") is not None
    assert "test accuracy" in page.inner_text("#train-log")
    page.close()


@pytest.mark.parametrize("tab", ["explain", "runs", "try", "train"])
def test_every_tab_fits_a_phone_sized_screen(site, tab):
    """At 390 px (a phone held upright) each tab, with its content shown, needs no sideways
    scrolling: the page is no wider than the screen."""
    browser, url, _ = site
    page = browser.new_page(viewport={"width": 390, "height": 844}, is_mobile=True,
                            has_touch=True)  # fmt: skip
    page.goto(url)
    page.click(f"nav button[data-tab={tab}]")
    if tab == "explain":
        page.fill("#explain-form input[name=size]", "7")  # a larger input, padded: wider grids
        page.fill("#explain-form input[name=padding]", "1")
        page.dispatch_event("#explain-form", "change")
        page.wait_for_selector("[data-testid=out-6-6]")
    elif tab == "runs":
        page.wait_for_selector("[data-testid='card-cnn']")
        page.check("[data-testid='card-first'] input")
        page.check("[data-testid='card-second'] input")
        page.click("[data-testid='card-cnn'] button")
        page.wait_for_selector("#run-chart .uplot")
        page.wait_for_selector("#compare-chart .uplot")
    elif tab == "try":
        page.wait_for_function("document.querySelector('#try-run').options.length > 0")
        page.select_option("#try-run", "cnn")
        page.click("#try-examples img >> nth=0")
        page.wait_for_selector("#try-layers .layer")
    assert page.is_visible(f"#{tab}")
    fits(page, tab)
    if tab == "runs":  # a window made narrow after drawing (a phone turned upright)
        page.set_viewport_size({"width": 1100, "height": 800})
        page.click("[data-testid='card-second'] button")
        page.wait_for_function("document.querySelector('#run-title').textContent == 'second'")
        page.set_viewport_size({"width": 390, "height": 844})
        page.wait_for_timeout(200)
        fits(page, "runs, made narrow,")
    page.close()


def fits(page, what: str, width: int = 390) -> None:
    """No sideways scrolling, and no chart, picture or canvas reaching past the screen's edge
    (a box that hides its overflow would not show in the scroll width)."""
    wide = page.evaluate("document.documentElement.scrollWidth")
    assert wide <= width, f"the {what} tab is {wide} px wide on a {width}-px screen"
    right = page.evaluate(
        "Math.max(0, ...[...document.querySelectorAll('.uplot, img, canvas')]"
        ".filter(e => e.offsetParent).map(e => e.getBoundingClientRect().right))"
    )
    assert right <= width + 0.5, f"in the {what} tab something reaches {right:.0f} px"
