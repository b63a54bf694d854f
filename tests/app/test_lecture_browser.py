"""The Lecture tab in a real browser (Debian's chromium through Playwright, as test_browser.py
drives it): the book's sections with their figures, and a section's live part opening the
explainer with the slide's numbers. Skips where chromium or playwright is missing."""

from __future__ import annotations

import socket
import threading
import time

import pytest
from test_browser import CHROMIUM, _need, fits


@pytest.fixture(scope="module")
def lecture_site(tmp_path_factory):
    _need()
    pytest.importorskip("fastapi")
    import uvicorn
    from playwright.sync_api import sync_playwright
    from test_lecture_api import tiny_book

    from cnnlab.app.server import create_app

    book = tiny_book(tmp_path_factory)
    runs = tmp_path_factory.mktemp("lecture-site") / "runs"
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    server = uvicorn.Server(uvicorn.Config(create_app(runs, book), host="127.0.0.1", port=port,
                                           log_level="warning"))  # fmt: skip
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    while not server.started:
        time.sleep(0.02)
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        yield browser, f"http://127.0.0.1:{port}/"
        browser.close()
    server.should_exit = True
    thread.join(5)


def test_the_lecture_tab_shows_the_book_and_opens_the_explainer_with_the_slides_stride(
    lecture_site,
):
    browser, url = lecture_site
    page = browser.new_page()
    page.goto(url)
    page.click("nav button[data-tab=lecture]")
    page.wait_for_selector("#lecture-stride")
    assert page.eval_on_selector_all(".lesson h2", "h => h.map(x => x.textContent)") == [
        "Local connectivity",
        "Stride",
    ]
    assert "holds" in page.inner_text("#lecture-stride .badge")
    assert page.inner_text("#lecture-stride .cmd code").startswith("cnnlab explain conv")
    assert page.query_selector("#lecture-local-connectivity table") is not None
    gif = "#lecture-stride figure img"
    page.locator(gif).scroll_into_view_if_needed()  # lazy: loaded when it comes into view
    page.wait_for_function(f"document.querySelector('{gif}').complete && "
                           f"document.querySelector('{gif}').naturalWidth > 0")  # fmt: skip
    assert page.get_attribute(gif, "src").endswith(".gif")
    assert "Padding" in page.inner_text("#lecture-missing")
    page.click("#lecture-stride button.copy")
    page.wait_for_function("document.querySelector('#lecture-stride button.copy').textContent"
                           " == 'copied'")  # fmt: skip
    page.click("[data-testid=live-stride]")
    page.wait_for_function("document.querySelector('#explain').classList.contains('active') && "
                           "document.querySelector('#explain-title').textContent"
                           ".includes('stride 2')")  # fmt: skip
    assert page.input_value("#explain-form input[name=stride]") == "2"
    assert "input 7x7" in page.inner_text("#explain-title")
    assert page.is_visible("[data-testid=out-2-2]")  # a 3x3 output
    assert page.query_selector("[data-testid=out-3-3]") is None
    assert "Stride" in page.inner_text("#lecture-back")
    page.click("#lecture-back")
    assert page.is_visible("#lecture-stride") and page.is_hidden("#lecture-back")
    page.close()


def test_the_lecture_tab_fits_a_phone_and_says_how_to_build_a_missing_book(lecture_site):
    browser, url = lecture_site
    page = browser.new_page(viewport={"width": 390, "height": 844}, is_mobile=True,
                            has_touch=True)  # fmt: skip
    page.goto(url + "#lecture")  # the address opens the tab
    page.wait_for_selector("#lecture-stride")
    for img in page.query_selector_all(".lesson img"):  # lazy: each loaded, at its width
        img.scroll_into_view_if_needed()
    page.wait_for_function("[...document.querySelectorAll('.lesson img')]"
                           ".every(i => i.complete && i.naturalWidth > 0)")  # fmt: skip
    fits(page, "lecture")
    page.route("**/api/lecture", lambda r: r.fulfill(
        json={"built": False, "folder": "lecture", "index": False, "sections": [],
              "missing": ["Stride"]}))  # fmt: skip
    page.click("nav button[data-tab=lecture]")
    page.wait_for_function("document.querySelector('#lecture-head').textContent"
                           ".includes('cnnlab lecture --level full')")  # fmt: skip
    assert page.query_selector(".lesson") is None
    page.close()
