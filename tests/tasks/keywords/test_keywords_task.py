"""The keyword task end to end on a tiny generated set: a run folder with both test sets
scored clean and at fixed SNRs; bad data is one line and leaves no run."""

from __future__ import annotations

import json

from conftest import cli, needs_speech, one_line_error

pytestmark = needs_speech


def test_a_run_scores_both_test_sets_clean_and_at_each_snr(keyword_run):
    r = json.loads((keyword_run / "results.json").read_text())
    assert set(r["sets"]) == {"test", "flite"}
    for row in r["sets"].values():
        assert set(row) == {"noisy", "clean", "20 dB", "10 dB", "5 dB", "0 dB"}
        assert all(0.0 <= v <= 1.0 for v in row.values())
    assert len(r["confusion"]["test"]) == 12 and sum(map(sum, r["confusion"]["test"])) == 24
    assert (keyword_run / "figures" / "robustness.png").is_file()
    meta = json.loads((keyword_run / "model.json").read_text())
    assert meta["task"] == "keywords" and meta["input_size"] == [40, 101]


def test_missing_or_damaged_data_is_one_line_and_leaves_no_run(capsys, tmp_path):
    rc, _, err = cli(capsys, "keywords", "--data", tmp_path / "none.npz", "--runs_dir",
                     tmp_path / "runs")  # fmt: skip
    one_line_error(rc, err, "does not exist")
    (tmp_path / "bad.npz").write_bytes(b"garbage")
    rc, _, err = cli(capsys, "keywords", "--data", tmp_path / "bad.npz", "--runs_dir",
                     tmp_path / "runs")  # fmt: skip
    one_line_error(rc, err, "not a readable keyword set")
    assert not (tmp_path / "runs").exists()
