"""After a text run: the test metrics beside the TF-IDF baseline (results.json), the tokenizer
(tokenizer.json), report.html; and prediction on new texts with a saved run."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import torch

from cnnlab.core.errors import ConfigError, DataError, RunError
from cnnlab.core.io import atomic_write
from cnnlab.tasks.text.saved import load_text_run
from cnnlab.tasks.text.tokens import encode, save_tokenizer

WRONG = 10  # the most confidently wrong test texts shown


def probabilities(model: torch.nn.Module, ids: torch.Tensor, chunk: int = 512) -> np.ndarray:
    """Softmax of the model over token ids. Shapes: (N, L) -> (N, classes)."""
    model.eval()
    with torch.inference_mode():
        out = [model(ids[i : i + chunk]).float().softmax(1) for i in range(0, len(ids), chunk)]
    return torch.cat(out).numpy() if out else np.zeros((0, 0))


def scores(y: np.ndarray, pred: np.ndarray, classes: list[str]) -> dict[str, Any]:
    """Accuracy, macro-F1, per-class precision / recall / F1 / support and the confusion."""
    from sklearn.metrics import confusion_matrix, precision_recall_fscore_support

    k = len(classes)
    p, r, f, s = precision_recall_fscore_support(y, pred, labels=range(k), zero_division=0)
    return {
        "accuracy": float((y == pred).mean()),
        "macro_f1": float(np.mean(f)),
        "per_class": {
            c: {
                "precision": float(p[i]),
                "recall": float(r[i]),
                "f1": float(f[i]),
                "support": int(s[i]),
            }
            for i, c in enumerate(classes)
        },  # fmt: skip
        "confusion": confusion_matrix(y, pred, labels=range(k)).tolist(),
    }


def write_text_results(folder: Path, model: torch.nn.Module, task: Any, fit: Any) -> dict:
    """Test the best model; write tokenizer.json, results.json and report.html."""
    from cnnlab.models import count_parameters

    d, cfg = task.data, task.cfg
    probs = probabilities(model, task.test_x)
    pred = probs.argmax(1)
    test = scores(d.test_y, pred, d.classes)
    wrong = np.flatnonzero(pred != d.test_y)
    worst = wrong[np.argsort(-probs[wrong, pred[wrong]])][:WRONG]
    results: dict[str, Any] = {
        "task": "text",
        "test": {"accuracy": test["accuracy"], "macro_f1": test["macro_f1"]},
        "per_class": test["per_class"],
        "confusion": test["confusion"],
        "classes": list(d.classes),
        "wrong": [
            {
                "text": d.test_texts[i],
                "true": d.classes[d.test_y[i]],
                "predicted": d.classes[pred[i]],
                "p": float(probs[i, pred[i]]),
            }
            for i in worst
        ],  # fmt: skip
        "parameters": count_parameters(model),
        "vocab": task.vocab,
        "tokenizer": task.kind,
        "train_time_s": round(fit.train_time_s, 2),
        "data_source": d.source,
        "cleaning": d.cleaning,
        "texts": {"train": len(d.train_texts), "val": len(d.val_texts), "test": len(d.test_texts)},
    }
    if cfg.baseline:
        from cnnlab.tasks.text.baseline import tfidf_baseline

        b = tfidf_baseline(d, seed=cfg.seed)
        results["baseline"] = {"name": "TF-IDF + logistic regression", "accuracy": b.accuracy,
                               "macro_f1": b.macro_f1, "seconds": round(b.seconds, 2),
                               "features": b.features}  # fmt: skip
    save_tokenizer(task.tokenizer, folder / "tokenizer.json")
    results["seen"] = draw_seen(folder, model, task, probs, pred)
    atomic_write(folder / "results.json", json.dumps(results, indent=2))
    text_report(folder)
    return results


def draw_seen(folder: Path, model: torch.nn.Module, task: Any, probs: np.ndarray,
              pred: np.ndarray, longest: int = 140) -> list[dict[str, str]]:  # fmt: skip
    """For each class, the most confidently right test text (up to `longest` characters)
    with its token shares drawn: figures/seen-CLASS.png, for the report."""
    from cnnlab.tasks.text.inside import explain_text, headline
    from cnnlab.viz.figures import save_figure
    from cnnlab.viz.text import plot_token_scores

    d, seen = task.data, []
    short = np.array([0 < len(t) <= longest for t in d.test_texts])
    model = model.float().eval()
    for k, name in enumerate(d.classes):
        right = np.flatnonzero((pred == k) & (d.test_y == k) & short)
        if not len(right):
            continue
        i = int(right[np.argmax(probs[right, k])])
        try:
            v = explain_text(model, task.tokenizer, d.test_texts[i], task.cfg.max_len, d.classes)
        except DataError:  # a text without tokens: nothing to draw
            continue
        path = folder / "figures" / f"seen-{k}.png"
        save_figure(plot_token_scores(v.text, v.spans, v.scores, headline(v)), path)
        seen.append({"class": name, "text": v.text, "figure": str(path.relative_to(folder)),
                     "method": v.method})  # fmt: skip
    return seen


def _rows(results: dict[str, Any]) -> list[list[str]]:
    t = results["test"]
    rows = [["this model", f"{t['accuracy']:.2%}", f"{t['macro_f1']:.3f}",
             f"{results['train_time_s']:.1f} s"]]  # fmt: skip
    b = results.get("baseline")
    if b:
        rows.append([b["name"], f"{b['accuracy']:.2%}", f"{b['macro_f1']:.3f}",
                     f"{b['seconds']:.1f} s"])  # fmt: skip
    return rows


HEADERS = ["", "test accuracy", "macro-F1", "train time"]


def summary_lines(fit: Any) -> list[Any]:
    r = fit.extra.get("results")
    if not r:
        return []
    return [(f"test ({r['texts']['test']} texts)", HEADERS, _rows(r)),
            f"report: {fit.folder / 'report.html'}"]  # fmt: skip


def text_report(folder: Path) -> Path:
    """folder/report.html from results.json: the test table beside the baseline, per class,
    the confusion matrix and the most confidently wrong texts."""
    from cnnlab.engine.runs import read_results
    from cnnlab.viz.report import Image, Section, Table, write_report

    r = read_results(folder)
    path = Path(folder) / "results.json"
    try:
        classes = r["classes"]
        per = [[c, f"{v['precision']:.3f}", f"{v['recall']:.3f}", f"{v['f1']:.3f}",
                str(v["support"])] for c, v in r["per_class"].items()]  # fmt: skip
        confusion = [[classes[i], *map(str, row)] for i, row in enumerate(r["confusion"])]
        wrong = [[w["text"], w["true"], w["predicted"], f"{w['p']:.2f}"] for w in r["wrong"]]
        text = (f"{r['data_source']}; {r['texts']['train']} train / {r['texts']['val']} val / "
                f"{r['texts']['test']} test texts; tokenizer {r['tokenizer']} with "
                f"{r['vocab']:,} tokens; {r['parameters']:,} parameters.")  # fmt: skip
        rows = _rows(r)
        seen = [Image(f"{x['class']}: {x['text']}", (Path(folder) / x["figure"]).read_bytes())
                for x in r.get("seen", []) if (Path(folder) / x["figure"]).is_file()]  # fmt: skip
    except (KeyError, TypeError, ValueError, IndexError) as exc:
        raise RunError(f"{path} is damaged ({exc}); train the run again") from None
    sections = [
        Section("Test", text, tables=[Table(HEADERS, rows, "the baseline is fitted on the "
                                            "same training split")]),  # fmt: skip
        Section("Per class", tables=[Table(["class", "precision", "recall", "F1", "texts"], per),
                                     Table(["true \\ predicted", *classes], confusion)]),
        Section("The most confidently wrong test texts",
                tables=[Table(["text", "true", "predicted", "p"], wrong)]),
    ]  # fmt: skip
    if seen:
        sections.append(Section(
            "What the convolutions see",
            "For each class, the test text the model is surest of, rightly: each token coloured "
            "by its share of the predicted class's logit (orange for, blue against; "
            f"{r['seen'][0]['method']}). `cnnlab show features RUN --text \"...\"` draws any "
            "text.", images=seen))  # fmt: skip
    return write_report(Path(folder) / "report.html", "Text classification", sections)


def read_texts(files: list[str]) -> list[str]:
    """The lines of .txt files (one text per line; empty lines skipped), UTF-8."""
    texts: list[str] = []
    for f in files:
        path = Path(f)
        if not path.is_file():
            raise DataError(f"{path} does not exist; give a .txt file, one text per line, or "
                            "--text \"...\"")  # fmt: skip
        try:
            lines = path.read_bytes().decode("utf-8-sig").splitlines()
        except UnicodeDecodeError:
            raise DataError(f"{path} is not a UTF-8 text file; a text run reads .txt files, "
                            "one text per line") from None  # fmt: skip
        texts += [line.strip() for line in lines if line.strip()]
    return texts


def predict_lines(run: Path, files: list[str], texts: list[str], topk: int = 3) -> list[str]:
    """`cnnlab predict RUN --text ...` / `RUN texts.txt`: each text's classes, most likely
    first, with probabilities."""
    if topk < 1:
        raise ConfigError(f"--topk must be >= 1, got {topk}")
    texts = texts + read_texts(files)
    if not texts:
        raise ConfigError('give texts to classify: --text "..." or a .txt file, one per line')
    model, meta, tokenizer = load_text_run(run)
    ids = encode(tokenizer, texts, int(meta.input_size[0]))
    empty = np.flatnonzero(ids.max(axis=1, initial=0) == 0)
    if len(empty):
        raise DataError(f"the text {texts[empty[0]][:40]!r} has no tokens for this run's "
                        "tokenizer; give a text with words in it")  # fmt: skip
    probs = probabilities(model, torch.from_numpy(ids))
    k = min(topk, probs.shape[1])
    lines = []
    for t, p in zip(texts, probs, strict=True):
        order = np.argsort(-p, kind="stable")[:k]
        shown = t if len(t) <= 60 else t[:57] + "..."
        lines.append(f"{shown}: " + "  ".join(f"{meta.classes[j]} {p[j]:.1%}" for j in order))
    return lines
