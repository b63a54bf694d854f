"""Draw docs/figures/transfer/glyphs.png: six training examples of each glyphs letter.

python tools/make_glyphs_figure.py
"""

from pathlib import Path

import numpy as np

import cnnlab
from cnnlab.viz.figures import image_grid, save_figure

data = cnnlab.load_dataset("glyphs")
x, y = data.train_x.numpy(), data.train_y.numpy()
pick = np.stack([np.flatnonzero(y == c)[:6] for c in range(10)], axis=1).ravel()  # letters across
captions = [data.classes[y[i]] if k < 10 else "" for k, i in enumerate(pick)]
figure = image_grid(x[pick], ncols=10, captions=captions)
save_figure(figure, Path("docs/figures/transfer/glyphs.png"), dpi=72)
