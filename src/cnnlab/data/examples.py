"""Sample inputs that ship with cnnlab, so a first `cnnlab predict RUN --example` has
something to read: a few test images per dataset and a photo-like picture. The files are
written by tools/make_examples.py; `cnnlab datasets --examples` lists them."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

FOLDER = Path(__file__).parent / "examples"


@dataclass(frozen=True)
class Example:
    file: str  # in FOLDER
    dataset: str  # the dataset whose models it suits
    label: str  # the true class
    kind: str  # how tools/make_examples.py makes it: fashion, glyphs or photo
    text: str = ""

    @property
    def path(self) -> Path:
        return FOLDER / self.file


EXAMPLES = [
    Example("fashion-mnist-ankle-boot.png", "fashion-mnist", "Ankle boot", "fashion",
            "a Fashion-MNIST test image (light object on black, 28x28)"),
    Example("fashion-mnist-trouser.png", "fashion-mnist", "Trouser", "fashion",
            "a Fashion-MNIST test image"),
    Example("fashion-mnist-bag.png", "fashion-mnist", "Bag", "fashion",
            "a Fashion-MNIST test image"),
    Example("sneaker-photo.png", "fashion-mnist", "Sneaker", "photo",
            "photo-like: a dark sneaker on light, unevenly lit paper, 224x168 (try --invert "
            "auto)"),
    Example("glyphs-A.png", "glyphs", "A", "glyphs", "a letter from this machine's fonts"),
    Example("glyphs-G.png", "glyphs", "G", "glyphs", "a letter from this machine's fonts"),
]  # fmt: skip


def examples_for(dataset: str) -> list[Example]:
    """The examples that suit models trained on `dataset` (a name such as fashion-mnist)."""
    return [e for e in EXAMPLES if e.dataset == dataset]
