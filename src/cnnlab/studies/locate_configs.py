"""The configuration of the locate study (cnnlab study locate): light, no torch."""

from __future__ import annotations

from dataclasses import dataclass

from cnnlab.core.errors import ConfigError

MODELS = ("locate-cnn", "locate-coordconv", "locate-heatmap", "locate-mlp")


@dataclass(frozen=True)
class LocateStudyConfig:
    """The CoordConv question, measured: a plain CNN, the same CNN with coordinate channels
    (CoordConv), a heat-map network and an MLP on pixels locate the object on the table with
    the same time budget and seeds; each run a folder of its own under OUT/runs/.

    Args:
        models: comma-separated locate models (cnnlab models).
        seeds: runs per model (seeds 0..seeds-1); the table shows mean ± std and every seed.
        max_time: training seconds of every run (the equal budget).
        epochs: at most this many epochs (the time budget usually ends a run first).
        data: tabletop, a .npz from cnnlab datasets make tabletop, or a positions folder.
        size: side of the tabletop images (pixels).
        n_train: training images to use (None: all).
        resume: continue the study already in `out`: finished runs are read, not retrained
            (without it, a taken `out` gets -2, -3, ...).
        out: folder for runs/, result.json, table.md, figures/ and report.html.
    """

    models: str = ",".join(MODELS)
    seeds: int = 3
    max_time: float = 180.0
    epochs: int = 200
    data: str = "tabletop"
    size: int = 64
    n_train: int | None = None
    resume: bool = False
    out: str = "runs/locate-study"

    def __post_init__(self) -> None:
        for name in ("seeds", "epochs"):
            if getattr(self, name) < 1:
                raise ValueError(f"{name} must be >= 1, got {getattr(self, name)}")
        if not self.max_time > 0:
            raise ValueError(f"max_time must be > 0, got {self.max_time}")
        from cnnlab.models import task_models

        names = [m.strip() for m in self.models.split(",") if m.strip()]
        if not names:
            raise ConfigError("models is empty; give some of " + ", ".join(MODELS))
        for m in names:
            task_models("locate").get(m)  # an unknown model: one line naming the known ones

    @property
    def model_list(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys(m.strip() for m in self.models.split(",") if m.strip()))
