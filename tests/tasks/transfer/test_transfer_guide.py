"""The transfer guide, measured: similarity of a target to the backbone's source data, the
quadrant and strategy it picks, and `cnnlab transfer`. The backbone is cnn-bn trained 1 epoch
on Fashion-MNIST classes 0-4 of the embedded subset; "similar" is classes 5-9, "different" is
the glyphs (letters)."""

from __future__ import annotations

import numpy as np
import pytest
import torch

import cnnlab
from cnnlab.cli import main
from cnnlab.core.errors import DataError
from cnnlab.tasks.transfer import Backbone, load_backbone
from cnnlab.tasks.transfer.guide import GUIDE, Diagnosis, diagnose, images_per_class
from cnnlab.tasks.transfer.similarity import L2, _logistic_error, features, similarity, source_data


@pytest.fixture(scope="module")
def source(fashion_source) -> cnnlab.ImageData:
    return fashion_source


@pytest.fixture(scope="module")
def similar(fashion_target) -> cnnlab.ImageData:
    return fashion_target


@pytest.fixture(scope="module")
def letters() -> cnnlab.ImageData:
    return cnnlab.load_dataset("glyphs", train_limit=1200, seed=0)  # 120 a class: large


@pytest.fixture(scope="module")
def run_dir(source_run):
    return source_run


@pytest.fixture(scope="module")
def backbone(run_dir) -> Backbone:
    return load_backbone(run_dir)


def limited(data: cnnlab.ImageData, per_class: int) -> cnnlab.ImageData:
    """The first `per_class` training images of each class (the rest of `data` unchanged)."""
    keep = torch.cat(
        [torch.nonzero(data.train_y == c)[:per_class, 0] for c in range(data.num_classes)]
    )
    return cnnlab.ImageData(**{**vars(data), "train_x": data.train_x[keep],
                               "train_y": data.train_y[keep]})  # fmt: skip


# ---- the measures --------------------------------------------------------------------------


def test_similarity_ranks_fashion_closer_than_glyphs(backbone, source, similar, letters):
    near = similarity(backbone, source.train_x, similar.train_x, n=400)
    far = similarity(backbone, source.train_x, letters.train_x, n=400)
    same = similarity(backbone, source.train_x[:500], source.train_x[500:], n=400)
    assert near.source_n == near.target_n == 400
    assert same.proxy_a_distance < near.proxy_a_distance < far.proxy_a_distance
    assert same.feature_gap < near.feature_gap < far.feature_gap
    # measured: same 0.3 / 0.2, near 1.4-1.6 / 0.4, far 1.94-2.0 / 1.5-1.7
    assert far.proxy_a_distance > 1.85 and near.proxy_a_distance < 1.75
    assert 0 <= same.proxy_a_distance <= 2
    # the classifier's test error is what the distance is made of
    err = near.details["classifier_test_error"]
    assert near.proxy_a_distance == pytest.approx(min(2, max(0, 2 * (1 - 2 * err))))


def test_feature_gap_formula(backbone, source, similar):
    s = similarity(backbone, source.train_x, similar.train_x, n=200, seed=3)
    gen = torch.Generator().manual_seed(3)  # the same draws as similarity()
    xs = source.train_x[torch.randperm(len(source.train_x), generator=gen)[:200]]
    xt = similar.train_x[torch.randperm(len(similar.train_x), generator=gen)[:200]]
    fs, ft = features(backbone, xs).numpy(), features(backbone, xt).numpy()
    spread = np.sqrt((np.trace(np.cov(fs.T)) + np.trace(np.cov(ft.T))) / 2)
    assert s.feature_gap == pytest.approx(np.linalg.norm(fs.mean(0) - ft.mean(0)) / spread)
    assert s.details["features"] == fs.shape[1] == 128  # cnn-bn end features


def newton_logistic(x: np.ndarray, y: np.ndarray, l2: float) -> np.ndarray:
    """Reference: mean BCE + l2 |w|^2 (bias free) minimized by Newton's method in float64.
    Returns [w, b]."""
    a = np.c_[x, np.ones(len(x))]
    pen = np.r_[np.full(x.shape[1], 2 * l2), 0.0]
    theta = np.zeros(a.shape[1])
    for _ in range(50):
        p = 1 / (1 + np.exp(-a @ theta))
        grad = a.T @ (p - y) / len(y) + pen * theta
        hess = (a * (p * (1 - p))[:, None]).T @ a / len(y) + np.diag(pen)
        theta -= np.linalg.solve(hess, grad)
    return theta


def test_logistic_error_matches_newton_reference():
    # two Gaussian clouds 0.45 apart per axis in 5 dimensions: they overlap
    g = torch.Generator().manual_seed(0)
    xs = torch.randn(300, 5, generator=g, dtype=torch.float64)
    xt = torch.randn(300, 5, generator=g, dtype=torch.float64) + 0.45
    train_err, test_err = _logistic_error(xs, xt, torch.Generator().manual_seed(1))
    g1 = torch.Generator().manual_seed(1)  # the same split as _logistic_error
    ps, pt = torch.randperm(300, generator=g1), torch.randperm(300, generator=g1)
    tr = torch.cat([xs[ps[:150]], xt[pt[:150]]]).numpy()
    te = torch.cat([xs[ps[150:]], xt[pt[150:]]]).numpy()
    y = np.r_[np.zeros(150), np.ones(150)]
    mu, sd = tr.mean(0), tr.std(0, ddof=1)
    theta = newton_logistic((tr - mu) / sd, y, L2)

    def err(x: np.ndarray) -> float:
        return float(np.mean(((np.c_[(x - mu) / sd, np.ones(len(x))] @ theta) > 0) != y))

    assert test_err == pytest.approx(err(te), abs=1 / 300)
    assert train_err == pytest.approx(err(tr), abs=1 / 300)
    assert 0.2 < test_err < 0.45  # overlapping clouds: neither chance nor separable


def test_source_data_reloads_the_run_classes(run_dir, source, no_system_data):
    data = source_data(run_dir)
    assert data.classes == source.classes  # the run's subset, found from model.json
    assert sorted(data.train_y.unique().tolist()) == [0, 1, 2, 3, 4]
    assert data.train_x.shape[1:] == (1, 28, 28)


# ---- the guide -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("which", "per_class", "quadrant", "strategy"),
    [
        ("similar", 20, "small + similar", "head"),
        ("letters", 20, "small + different", "early"),
        ("similar", None, "large + similar", "finetune"),
        ("letters", None, "large + different", "finetune"),
    ],
)
def test_diagnose_follows_the_guide(request, backbone, source, which, per_class, quadrant,
                                    strategy):  # fmt: skip
    target = request.getfixturevalue(which)
    if per_class is not None:
        target = limited(target, per_class)
    d = diagnose(backbone, target, source, n=300)
    assert isinstance(d, Diagnosis)
    assert d.images_per_class == (per_class or int(torch.bincount(target.train_y).min()))
    assert d.quadrant == quadrant and d.strategy == strategy == GUIDE[(d.size, d.similar)]
    text = d.text()
    assert quadrant in text and f"strategy {strategy}" in text
    assert f"{d.similarity.proxy_a_distance:.2f}" in text


def test_diagnose_without_source_is_size_only(backbone, similar):
    d = diagnose(backbone, limited(similar, 20), None)
    assert (d.size, d.similarity, d.similar, d.strategy) == ("small", None, None, "head")
    assert diagnose(backbone, similar, None).strategy == "finetune"
    assert "not measured" in d.text()
    assert diagnose(backbone, similar, None, small_below=1000).size == "small"
    with pytest.raises(ValueError, match="small_below"):
        diagnose(backbone, similar, None, small_below=0)
    with pytest.raises(ValueError, match="similar_below"):
        diagnose(backbone, similar, None, similar_below=3)


def test_class_with_one_image_is_an_error(similar):
    keep = torch.cat(
        [torch.nonzero(similar.train_y != 2)[:, 0], torch.nonzero(similar.train_y == 2)[:1, 0]]
    )
    one = cnnlab.ImageData(**{**vars(similar), "train_x": similar.train_x[keep],
                              "train_y": similar.train_y[keep]})  # fmt: skip
    with pytest.raises(DataError, match="fewer than 2") as e:
        images_per_class(one)
    assert "\n" not in str(e.value) and similar.classes[2] in str(e.value)


# ---- the command ---------------------------------------------------------------------------


def test_cli_explain_prints_the_quadrant(run_dir, no_system_data, capsys):
    rc = main(["transfer", "--from", str(run_dir), "--data", "fashion-mnist", "--classes",
               "5,6,7,8,9", "--train_limit", "100", "--explain"])  # fmt: skip
    out = capsys.readouterr().out
    assert rc == 0
    assert "20 -> small" in out  # --train_limit counts the kept classes only
    assert "small + similar" in out and "strategy head" in out
    assert "proxy A-distance" in out and "feature gap" in out
    assert "training" not in out  # --explain stops after the diagnosis


def test_cli_trains_the_chosen_strategy(run_dir, no_system_data, capsys, tmp_path):
    rc = main(["transfer", "--from", str(run_dir), "--data", "glyphs", "--train_limit", "200",
               "--strategy", "head", "--epochs", "1", "--runs_dir", str(tmp_path)])  # fmt: skip
    out = capsys.readouterr().out
    assert rc == 0
    assert "small + different" in out and "strategy early" in out  # the guide's choice ...
    assert "head: test accuracy" in out  # ... overridden by --strategy
    (folder,) = tmp_path.iterdir()  # saved as a run
    assert folder.name == "transfer-head-glyphs" and (folder / "report.html").is_file()


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--from", "torchvision:resnet19", "--data", "glyphs"], "unknown torchvision model"),
        (["--from", "RUN", "--data", "glyphs", "--cut", "body.9"], "unknown --cut 'body.9'"),
        (["--from", "RUN", "--data", "glyphs", "--strategy", "all"], "unknown --strategy"),
        (["--from", "NOTRUN", "--data", "glyphs"], "not a cnnlab run"),
        (["--from", "RUN", "--data", "glyphs", "--train_size", "4"], "--train_size must be >= 8"),
    ],
)
def test_cli_errors_are_one_line(run_dir, tmp_path, capsys, args, message):
    args = [str(run_dir) if a == "RUN" else str(tmp_path) if a == "NOTRUN" else a for a in args]
    assert main(["transfer", *args, "--explain"]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("cnnlab: error:") and message in err and "\n" not in err
