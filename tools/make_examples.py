"""Write the sample inputs that ship with cnnlab (src/cnnlab/data/examples/), listed in
src/cnnlab/data/examples.py: test images of the embedded Fashion-MNIST subset, letters drawn
from this machine's fonts, and a "photo": a Fashion-MNIST sneaker turned into a dark object on
light, uneven paper at 4:3, as a phone picture of a shoe would be (what --invert auto is for).

python tools/make_examples.py
"""

from pathlib import Path

import numpy as np
from PIL import Image

from cnnlab.data.datasets import FASHION_CLASSES, load_embedded
from cnnlab.data.examples import EXAMPLES, FOLDER
from cnnlab.data.glyphs import glyph_arrays


def fashion(label: str) -> np.ndarray:
    z = load_embedded()
    index = FASHION_CLASSES.index(label)
    first = int(np.flatnonzero(z["test_y"] == index)[0])  # the first test image of the class
    return z["test_x"][first].reshape(28, 28)


def letter(label: str) -> np.ndarray:
    from cnnlab.data.glyphs import LETTERS

    arrays = glyph_arrays(letters=LETTERS, per_class=1, test_per_class=1, seed=0)
    first = int(np.flatnonzero(arrays["test_y"] == LETTERS.index(label))[0])
    return arrays["test_x"][first].reshape(28, 28)  # a test image (white on black)


def photo(label: str) -> np.ndarray:
    """The sneaker, 6x larger, dark on light paper with a soft shadow gradient and grain."""
    item = Image.fromarray(fashion(label)).resize((168, 168), Image.Resampling.BICUBIC)
    canvas = np.zeros((168, 224), np.float64)
    canvas[:, 28:196] = np.asarray(item, np.float64) / 255
    rng = np.random.default_rng(0)
    yy, xx = np.mgrid[0:168, 0:224]
    paper = 0.93 - 0.12 * (xx / 224) - 0.05 * (yy / 168) + rng.normal(0, 0.015, canvas.shape)
    out = paper * (1 - 0.85 * canvas)  # the object darkens the paper
    return (out.clip(0, 1) * 255).astype(np.uint8)


def main() -> None:
    FOLDER.mkdir(parents=True, exist_ok=True)
    make = {"fashion": fashion, "glyphs": letter, "photo": photo}
    for e in EXAMPLES:
        arr = make[e.kind](e.label)
        Image.fromarray(arr).save(FOLDER / e.file, optimize=True)
        print(f"{FOLDER / e.file}: {arr.shape[1]}x{arr.shape[0]}")
    Path(FOLDER / "README.md").write_text(
        "Sample inputs of `cnnlab predict RUN --example`, written by tools/make_examples.py "
        "and listed in ../examples.py.\n"
    )


if __name__ == "__main__":
    main()
