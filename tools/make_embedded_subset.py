"""Build the Fashion-MNIST subset shipped inside the package (src/cnnlab/data/embedded/).

Run once from a machine with the full data: python tools/make_embedded_subset.py [FOLDER]
Takes a class-balanced, seeded sample of the official train and test splits.
"""

import sys
from pathlib import Path

import numpy as np

from cnnlab.data.sources import load_idx

PER_CLASS_TRAIN, PER_CLASS_TEST = 600, 100


def main() -> None:
    folder = Path(sys.argv[1] if len(sys.argv) > 1 else "/usr/share/datasets/fashion-mnist")
    a = load_idx(folder)
    rng = np.random.default_rng(2017)
    out = {}
    for split, k in (("train", PER_CLASS_TRAIN), ("test", PER_CLASS_TEST)):
        y = a[f"{split}_y"]
        idx = np.sort(
            np.concatenate(
                [rng.choice(np.flatnonzero(y == c), k, replace=False) for c in range(10)]
            )
        )
        out[f"{split}_x"], out[f"{split}_y"] = a[f"{split}_x"][idx], y[idx].astype(np.uint8)
    target = Path(__file__).parents[1] / "src/cnnlab/data/embedded/fashion-mnist-subset.npz"
    np.savez_compressed(target, **out)
    print(f"wrote {target} ({target.stat().st_size / 1e6:.2f} MB)")


if __name__ == "__main__":
    main()
