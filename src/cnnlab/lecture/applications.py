"""The book's sections on the lecture's \"Applications of CNNs\" slides."""

from __future__ import annotations

from cnnlab.lecture.book import Section

SECTIONS: list[Section] = []
