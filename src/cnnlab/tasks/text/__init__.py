"""CNNs for text (issue 20): tokenization, the TF-IDF baseline; the task comes next."""
