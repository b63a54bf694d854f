"""Training from the web app: one `cnnlab` child process at a time, options checked before
anything starts, live rows over Server-Sent Events, stop leaves a resumable run."""

from __future__ import annotations

import json
import time

import pytest

pytest.importorskip("fastapi")
from fastapi.testclient import TestClient  # noqa: E402

from cnnlab.app.server import create_app  # noqa: E402
from cnnlab.app.training import Trainer  # noqa: E402
from cnnlab.core.errors import ConfigError  # noqa: E402


def test_options_are_checked_before_anything_starts(tmp_path):
    t = Trainer(tmp_path)
    argv = t.argv("classify", {"model": "cnn-bn", "epochs": "3", "max_time": ""}, "n")
    assert argv[3:5] == ["train", "--runs_dir"] and argv[-4:] == ["--model", "cnn-bn",
                                                                   "--epochs", "3"]  # fmt: skip
    for task, options, fragment in [
        ("hack", {}, "unknown task"),
        ("classify", {"config": "/etc/passwd"}, "unknown option 'config'"),
        ("classify", {"epochs": "many"}, "epochs must be a int"),
        ("classify", {"epochs": "-1"}, "must be > 0"),
        ("classify", {"model": "cnn-bn; rm -rf /"}, "characters"),
        ("classify", {"data": "--resume"}, None),  # allowed text, but a value, not an option
    ]:
        if fragment is None:
            assert t.argv(task, options, "n")[-2:] == ["--data", "--resume"]
            continue
        with pytest.raises(ConfigError, match=fragment):
            t.argv(task, options, "n")
    assert not (tmp_path / ".app").exists()


def events(client, run_id):
    """The (event, data) pairs of a run's stream, until it ends."""
    out, event = [], None
    with client.stream("GET", "/api/run/stream", params={"id": run_id}) as r:
        for line in r.iter_lines():
            if line.startswith("event: "):
                event = line[7:]
            elif line.startswith("data: "):
                out.append((event, json.loads(line[6:])))
    return out


def test_a_training_started_from_the_page_streams_its_rows_and_finishes(tmp_path, image_folder):
    c = TestClient(create_app(tmp_path / "runs"))
    options = {"model": "mlp", "data": str(image_folder), "epochs": 2, "batch_size": 8}
    r = c.post("/api/train", json={"task": "classify", "options": options})
    assert r.status_code == 200, r.text
    run_id = r.json()["id"]
    again = c.post("/api/train", json={"task": "classify", "options": options})
    assert again.status_code == 409 and "is running" in again.json()["detail"]
    got = events(c, run_id)
    rows = [d for e, d in got if e == "row"]
    assert [r["epoch"] for r in rows] == [1.0, 2.0] and "val/acc" in rows[0]
    assert got[-1] == ("status", {"status": "finished"})
    job = c.get("/api/train").json()
    assert job["state"] == "finished" and job["returncode"] == 0 and job["log"]
    card = next(x for x in c.get("/api/runs").json() if x["id"] == run_id)
    assert card["status"] == "finished" and card["weights"]
    assert not (tmp_path / "runs" / run_id / "running.json").exists()  # the engine's marker
    assert c.get("/api/run/kernels", params={"id": run_id}).status_code == 400  # an MLP


def test_stop_ends_the_process_and_the_run_stays_resumable(tmp_path, image_folder):
    c = TestClient(create_app(tmp_path / "runs"))
    options = {"model": "cnn-small", "data": str(image_folder), "epochs": 200, "batch_size": 4}
    run_id = c.post("/api/train", json={"task": "classify", "options": options}).json()["id"]
    folder = tmp_path / "runs" / run_id
    deadline = time.time() + 120
    while not (folder / "state.pt").is_file() and time.time() < deadline:
        time.sleep(0.2)
    assert (folder / "state.pt").is_file() and (folder / "running.json").is_file()
    stopped = c.post("/api/train/stop").json()
    assert stopped["state"] == "stopped"
    assert c.post("/api/train/stop").status_code == 400  # nothing runs now
    card = next(x for x in c.get("/api/runs").json() if x["id"] == run_id)
    assert card["status"] == "stopped" and card["epochs"] >= 1
    k = c.get("/api/run/kernels", params={"id": run_id})
    assert k.status_code == 200 and k.json()["png"].startswith("data:image/png")
    assert k.json()["maps"] is None  # no test image ships for a folder of shapes


def test_a_training_that_fails_is_reported_and_the_server_keeps_serving(tmp_path):
    c = TestClient(create_app(tmp_path / "runs"))
    r = c.post("/api/train", json={"task": "classify", "options": {"model": "no-such-model"}})
    assert r.status_code == 200  # the child process decides, and fails
    deadline = time.time() + 60
    while c.get("/api/train").json()["state"] == "running" and time.time() < deadline:
        time.sleep(0.2)
    job = c.get("/api/train").json()
    assert job["state"] == "failed" and job["returncode"] == 2
    assert any("no-such-model" in line for line in job["log"])
    assert c.get("/api/health").json()["ok"]
    again = c.post("/api/train", json={"task": "classify", "options": {"model": "x"}})
    assert again.status_code == 200  # a failed job does not block the next one
    c.post("/api/train/stop")
