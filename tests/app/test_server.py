"""The web app's API without a browser (FastAPI's TestClient): run cards and details read from
the files runs write, the one path guard (no request reaches outside the runs folder), the
explainer's numbers against the NumPy reference, the page and its vendored chart library."""

from __future__ import annotations

import json
import os
import subprocess
import time

import numpy as np
import pytest

pytest.importorskip("fastapi")
from fastapi.testclient import TestClient  # noqa: E402

from cnnlab.app.server import create_app  # noqa: E402
from cnnlab.mechanics.reference import avg_pool2d, conv2d_loop, max_pool2d  # noqa: E402


def fake_run(folder, task="classify", finished=True, rows=3):
    folder.mkdir(parents=True)
    (folder / "config.yaml").write_text("model: cnn-bn\ndata: fashion-mnist\nepochs: 3\n")
    (folder / "model.json").write_text(json.dumps({"model": "cnn-bn", "task": task,
                                                   "classes": ["a", "b"]}))  # fmt: skip
    lines = ["epoch,train/loss,val/acc,time"] + [f"{i},{1 / i:.3f},{0.5 + i / 10},{i}"
                                                   for i in range(1, rows + 1)]  # fmt: skip
    (folder / "metrics.csv").write_text("\n".join(lines) + "\n")
    (folder / "figures").mkdir()
    (folder / "figures" / "curves.png").write_bytes(b"\x89PNG fake")
    if finished:
        (folder / "results.json").write_text(json.dumps({"test": {"accuracy": 0.91,
                                                                  "note": "x"}}))  # fmt: skip
    return folder


@pytest.fixture
def client(tmp_path):
    fake_run(tmp_path / "runs" / "a")
    fake_run(tmp_path / "runs" / "study" / "b", finished=False, rows=2)
    (tmp_path / "secret.txt").write_text("do not serve")
    return TestClient(create_app(tmp_path / "runs")), tmp_path


def test_runs_are_listed_as_cards_with_status_and_headline_metrics(client):
    c, root = client
    old = time.time() - 3600
    os.utime(root / "runs" / "study" / "b" / "metrics.csv", (old, old))
    for f in ("config.yaml", "model.json"):
        os.utime(root / "runs" / "study" / "b" / f, (old, old))
    cards = {x["id"]: x for x in c.get("/api/runs").json()}
    assert set(cards) == {"a", "study/b"}
    assert cards["a"]["status"] == "finished" and cards["a"]["metrics"] == {"accuracy": 0.91}
    assert cards["study/b"]["status"] == "stopped" and cards["study/b"]["epochs"] == 2
    assert cards["a"]["model"] == "cnn-bn" and cards["a"]["data"] == "fashion-mnist"


def test_running_json_decides_running_or_stopped(client):
    c, root = client
    folder = root / "runs" / "study" / "b"

    def status():
        return next(x for x in c.get("/api/runs").json() if x["id"] == "study/b")["status"]

    (folder / "running.json").write_text(json.dumps({"pid": os.getpid()}))
    assert status() == "running"  # this process is alive
    dead = subprocess.Popen(["true"])
    dead.wait()
    (folder / "running.json").write_text(json.dumps({"pid": dead.pid}))
    assert status() == "stopped"  # killed mid-run: resumable
    (folder / "running.json").write_text(json.dumps({"pid": 1, "host": "elsewhere"}))
    assert status() == "running"  # another host: its files changed a moment ago


def test_a_run_detail_has_its_curves_figures_and_config(client):
    c, _ = client
    d = c.get("/api/run", params={"id": "a"}).json()
    assert [r["epoch"] for r in d["curves"]] == [1.0, 2.0, 3.0]
    assert d["curves"][1]["val/acc"] == pytest.approx(0.7)
    assert d["figures"] == ["figures/curves.png"] and d["config"]["epochs"] == 3
    r = c.get("/api/run/file", params={"id": "a", "name": "figures/curves.png"})
    assert r.status_code == 200 and r.content == b"\x89PNG fake"


@pytest.mark.parametrize("run_id", ["../secret.txt", "..", "/etc", "a/../../secret.txt",
                                    "nope", "study", "C:/x", "a/figures"])  # fmt: skip
def test_no_run_id_reaches_outside_the_runs_folder(client, run_id):
    c, _ = client
    r = c.get("/api/run", params={"id": run_id})
    assert r.status_code == 404 and "no run" in r.json()["detail"]


@pytest.mark.parametrize("name", ["../../secret.txt", "/etc/passwd", "config.yaml",
                                  "figures/../../../secret.txt", "nothing.png"])  # fmt: skip
def test_no_file_name_reaches_outside_its_run_or_beyond_pictures_and_reports(client, name):
    c, _ = client
    r = c.get("/api/run/file", params={"id": "a", "name": name})
    assert r.status_code == 404


def test_a_link_out_of_the_runs_folder_is_not_followed(client):
    c, root = client
    (root / "outside").mkdir()
    fake_run(root / "outside" / "run")
    (root / "runs" / "link").symlink_to(root / "outside" / "run")
    assert "link" not in {x["id"] for x in c.get("/api/runs").json()}
    assert c.get("/api/run", params={"id": "link"}).status_code == 404


@pytest.mark.parametrize(("size", "kernel", "stride", "padding", "dilation", "channels"),
                         [(5, 3, 1, 0, 1, 1), (7, 3, 2, 1, 1, 3), (6, 2, 1, 0, 2, 2)])  # fmt: skip
def test_the_explainer_numbers_are_the_references(client, size, kernel, stride, padding,
                                                  dilation, channels):  # fmt: skip
    c, _ = client
    e = c.get("/api/explain/conv", params={"size": size, "kernel": kernel, "stride": stride,
              "padding": padding, "dilation": dilation, "channels": channels}).json()  # fmt: skip
    x, w = np.array(e["x"])[None], np.array(e["w"])[None]
    want = conv2d_loop(x, w, None, stride, padding, dilation)[0, 0]
    assert np.array_equal(np.array(e["output"]), want)
    out = want.shape[0]
    assert len(e["frames"]) == out * out + 1 and e["frames"][-1]["out"] is None
    assert e["frames"][0]["text"].endswith(f"= {want[0, 0]:g}")
    assert f"= {out}" in e["formula"]


def test_pooling_and_global_pooling_are_the_references(client):
    c, _ = client
    e = c.get("/api/explain/pool", params={"size": 4, "kernel": 2, "kind": "max"}).json()
    assert np.array_equal(np.array(e["output"]), max_pool2d(np.array(e["x"])[None], 2)[0, 0])
    g = c.get("/api/explain/pool", params={"size": 4, "kernel": 4, "kind": "avg"}).json()
    assert np.allclose(np.array(g["output"]), avg_pool2d(np.array(g["x"])[None], 4)[0, 0])
    assert np.array(g["output"]).shape == (1, 1)
    p = c.get("/api/explain/pool", params={"size": 5, "kernel": 3, "kind": "max", "padding": 1,
                                           "stride": 2}).json()  # fmt: skip
    assert p["padded"][0][0][0] is None  # max pooling pads with -inf, sent as null


def test_explainer_settings_that_cannot_work_answer_400_with_the_reason(client):
    c, _ = client
    r = c.get("/api/explain/conv", params={"size": 3, "kernel": 5})
    assert r.status_code == 400 and "larger than the padded input" in r.json()["detail"]
    r = c.get("/api/explain/conv", params={"size": 40})
    assert r.status_code == 400 and "between 1 and 32" in r.json()["detail"]
    assert c.get("/api/explain/conv", params={"size": "x"}).status_code == 422


def test_the_page_its_script_and_the_vendored_chart_library_are_served(client):
    c, _ = client
    page = c.get("/")
    assert page.status_code == 200 and "/static/app.js" in page.text
    assert "http" not in page.text.replace("http-equiv", "")  # nothing from a CDN
    assert c.get("/static/app.js").status_code == 200
    lib = c.get("/static/vendor/uPlot.iife.min.js")
    assert lib.status_code == 200 and len(lib.content) > 40_000
    assert "MIT" in c.get("/static/vendor/uPlot-LICENSE.txt").text
    paths = c.get("/openapi.json").json()["paths"]
    assert {"/api/runs", "/api/run", "/api/run/file", "/api/explain/conv"} <= set(paths)


def test_trying_an_image_gives_predicts_top_class_and_every_layers_maps(source_run):
    from cnnlab.data.examples import EXAMPLES
    from cnnlab.tasks.classify.prediction import predict

    c = TestClient(create_app(source_run.parent))
    path = EXAMPLES[0].path
    r = c.post("/api/run/try", params={"id": source_run.name},
               files={"file": (path.name, path.read_bytes())})  # fmt: skip
    assert r.status_code == 200, r.text
    d = r.json()
    want = predict(source_run, [path], topk=5)[0].top
    assert [name for name, _ in d["top"]] == [name for name, _ in want]
    assert d["top"][0][1] == pytest.approx(want[0][1], abs=1e-5)
    assert len(d["layers"]) == 4 and all(len(x["maps"]) == len(x["kernels"]) for x in d["layers"])
    assert d["layers"][0]["shape"][0] == 16 and d["input"].startswith("data:image/png;base64,")
    live = c.get("/api/run/kernels", params={"id": source_run.name}).json()
    assert live["png"].startswith("data:image/png") and len(live["maps"]["maps"]) == 8


def test_bad_uploads_answer_400_with_the_reason_and_the_next_good_one_works(source_run):
    from cnnlab.data.examples import EXAMPLES

    c = TestClient(create_app(source_run.parent))
    q = {"id": source_run.name}
    bad = c.post("/api/run/try", params=q, files={"file": ("shoe.png", b"not an image")})
    assert bad.status_code == 400 and "'shoe.png'" in bad.json()["detail"]
    assert "/tmp" not in bad.json()["detail"]  # the temporary file is not shown
    assert c.post("/api/run/try", params=q, files={"file": ("a.exe", b"MZ")}).status_code == 400
    assert c.post("/api/run/try", params=q, files={"file": ("e.png", b"")}).status_code == 400
    big = c.post("/api/run/try", params=q, files={"file": ("b.png", b"0" * (9 * 1024 * 1024))})
    assert big.status_code == 400 and "limit" in big.json()["detail"]
    path = EXAMPLES[1].path
    good = c.post("/api/run/try", params=q, files={"file": (path.name, path.read_bytes())})
    assert good.status_code == 200
    other = c.post("/api/run/try", params={"id": "../x"}, files={"file": ("a.png", b"x")})
    assert other.status_code == 404


def test_a_text_run_tries_texts_with_each_tokens_share(tmp_path):
    from rich.console import Console

    from cnnlab.tasks.text.run import text

    words = "the a flight crew seat bag gate time day trip".split()
    rows = ["text,label"] + [f"{' '.join(words[i % 7 : i % 7 + 3])} "
                             f"{'great' if i % 2 else 'awful'} {words[i % 10]},"
                             f"{'good' if i % 2 else 'bad'}" for i in range(300)]  # fmt: skip
    (tmp_path / "t.csv").write_text("\n".join(rows) + "\n")
    text(data=str(tmp_path / "t.csv"), epochs=3, batch_size=32, vocab_size=200, max_len=12,
         precision="32", progress=False, runs_dir=str(tmp_path / "runs"), name="t",
         baseline=False, console=Console(quiet=True))  # fmt: skip
    c = TestClient(create_app(tmp_path / "runs"))
    d = c.post("/api/run/try", params={"id": "t"}, data={"text": "the crew was great"}).json()
    assert d["top"][0][0] == "good"
    shares = {d["text"][t["start"] : t["end"]]: t["score"] for t in d["tokens"]}
    assert max(shares, key=shares.get) == "great"
    assert c.post("/api/run/try", params={"id": "t"}, data={"text": " "}).status_code == 400
    assert c.post("/api/run/try", params={"id": "t"}).status_code == 400


def test_a_keyword_run_tries_wav_files_and_refuses_other_files(keyword_run):
    c = TestClient(create_app(keyword_run.parent))
    wav = (keyword_run / "examples" / "yes.wav").read_bytes()
    d = c.post("/api/run/try", params={"id": keyword_run.name},
               files={"file": ("yes.wav", wav)}).json()  # fmt: skip
    assert len(d["top"]) == 5 and abs(sum(p for _, p in d["top"])) <= 1.0001
    assert d["input"].startswith("data:image/png")
    bad = c.post("/api/run/try", params={"id": keyword_run.name},
                 files={"file": ("yes.png", wav)})  # fmt: skip
    assert bad.status_code == 400 and "not a sound file" in bad.json()["detail"]
    short = c.post("/api/run/try", params={"id": keyword_run.name},
                   files={"file": ("s.wav", wav[:2000])})  # fmt: skip
    assert short.status_code == 400 and "'s.wav'" in short.json()["detail"]


def test_a_segmentation_run_tries_an_image_and_gives_its_overlay(tmp_path):
    from PIL import Image
    from rich.console import Console

    from cnnlab.tasks.segment.run import segment

    segment(data="fashion-scenes", n_train=16, n_val=6, n_test=4, size=32, batch_size=4,
            epochs=1, augment=False, model_args={"norm": "group", "depth": 2, "base_width": 8},
            precision="32", progress=False, runs_dir=str(tmp_path / "runs"), name="s",
            console=Console(quiet=True))  # fmt: skip
    picture = tmp_path / "scene.png"
    Image.fromarray(np.random.default_rng(0).integers(0, 255, (48, 40), np.uint8)).save(picture)
    c = TestClient(create_app(tmp_path / "runs"))
    d = c.post("/api/run/try", params={"id": "s"},
               files={"file": ("scene.png", picture.read_bytes())}).json()  # fmt: skip
    assert sum(share for _, share in d["top"]) == pytest.approx(1.0)
    assert d["input"].startswith("data:image/png;base64,") and len(d["input"]) > 200
    assert d["notes"]  # 48x40 is larger than the 32x32 crops: sliding windows
    bad = c.post("/api/run/try", params={"id": "s"}, files={"file": ("x.png", b"nope")})
    assert bad.status_code == 400 and "'x.png'" in bad.json()["detail"]


def test_an_autoencoder_run_tries_an_image_as_predict_reconstructs_it(tmp_path, tiny_data,
                                                                      capsys):  # fmt: skip
    import base64
    import io
    import re

    from PIL import Image
    from rich.console import Console

    from cnnlab.tasks.autoencode.run import autoencode
    from conftest import cli

    autoencode(data=tiny_data, model="ae-linear", epochs=1, batch_size=16, precision="32",
               noise="0.2", progress=False, runs_dir=tmp_path / "runs", name="ae",
               console=Console(quiet=True))  # fmt: skip
    picture = tmp_path / "thing.png"
    Image.fromarray(tiny_data.test_x[0, 0].numpy()).save(picture)
    c = TestClient(create_app(tmp_path / "runs"))
    d = c.post("/api/run/try", params={"id": "ae", "invert": "false"},  # as predict's default
               files={"file": ("thing.png", picture.read_bytes())}).json()  # fmt: skip
    assert d["panels"] == ["input", "noisy input", "reconstruction", "|difference|"]
    strip = Image.open(io.BytesIO(base64.b64decode(d["input"].split(",", 1)[1])))
    h, w = tiny_data.test_x.shape[-2:]
    scale = -(-112 // h)
    assert strip.size[1] == h * scale and strip.size[0] > 4 * w * scale  # four panels
    rc, out, _ = cli(capsys, "predict", tmp_path / "runs" / "ae", picture)  # the same numbers
    assert rc == 0 and re.search(r"MSE [\d.]+, PSNR [\d.]+ dB \(noisy input", out)
    assert out.split(": ", 1)[1].splitlines()[0] == d["summary"]
    bad = c.post("/api/run/try", params={"id": "ae"}, files={"file": ("x.png", b"nope")})
    assert bad.status_code == 400 and "'x.png'" in bad.json()["detail"]


def test_serve_refuses_a_bad_port_in_one_line(capsys):
    from conftest import cli, one_line_error

    rc, _, err = cli(capsys, "serve", "--port", "0")
    one_line_error(rc, err, "--port must be 1 to 65535")
