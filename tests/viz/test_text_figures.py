"""Texts drawn with their tokens coloured: the colour scale, the HTML, undrawable characters."""

from __future__ import annotations

import warnings

import numpy as np

from cnnlab.viz.figures import fig_to_png
from cnnlab.viz.text import (
    AGAINST,
    FOR,
    drawable,
    plot_token_scores,
    token_colors,
    token_scores_html,
)


def test_colours_run_from_white_to_full_for_and_against():
    c = token_colors(np.array([0.0, 2.0, -1.0, -2.0]))
    assert np.allclose(c[0], 1.0) and np.allclose(c[1], FOR) and np.allclose(c[3], AGAINST)
    assert np.allclose(c[2], 1.0 - 0.5 * (1.0 - AGAINST))
    assert np.allclose(token_colors(np.zeros(3)), 1.0)  # nothing to show: all white


def test_html_keeps_the_text_and_escapes_it():
    text = "a <b> & c"
    page = token_scores_html(text, [(0, 1), (2, 5), (8, 9)], np.array([1.0, -1.0, 0.0]))
    assert page.count("<span") == 3 and "&lt;b&gt;" in page and "&amp;" in page
    assert 'title="+1.000"' in page and 'title="-1.000"' in page


def test_undrawable_characters_keep_offsets_and_raise_no_glyph_warning():
    text = "caf\x99 ok \U0001f600 fine"
    assert len(drawable(text)) == len(text) and drawable(text)[3] == "\u00b7"
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        png = fig_to_png(plot_token_scores(text, [(0, 4), (5, 7), (8, 9), (10, 14)],
                                           np.array([1.0, -1.0, 0.5, 0.2])))  # fmt: skip
    assert png[:4] == b"\x89PNG"
