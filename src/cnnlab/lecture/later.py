"""The book's sections on the lecture's later CNN slides: transfer learning and its guide,
weight initialization, autoencoders and convolutional autoencoders."""

from __future__ import annotations

from cnnlab.lecture.book import Section

SECTIONS: list[Section] = []
