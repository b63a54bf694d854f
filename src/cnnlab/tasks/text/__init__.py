"""CNNs for text (docs/text.md): the task, its tokenizers, the TF-IDF baseline."""
