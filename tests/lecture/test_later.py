"""The book's sections on the later CNN slides (transfer learning, its guide, weight
initialization, autoencoders): their order, budgets and texts. Each is built at the test
suite's tiny level in test_whole_book.py, with the whole book."""

from __future__ import annotations

from cnnlab.lecture import later

TINY = later.TINY


def test_the_sections_follow_the_slides():
    keys = [s.key for s in later.SECTIONS]
    assert keys == ["transfer", "transfer-guide", "init", "autoencoders", "conv-autoencoders"]
    assert set(later.QUICK) == set(later.FULL) == set(keys) == set(TINY)
    for key in keys:  # the tiny budgets name the same options as the real ones
        assert set(TINY[key]) == set(later.QUICK[key]) == set(later.FULL[key])
    for budget in (later.QUICK["transfer"], later.FULL["transfer"]):  # reuse vs scratch
        assert {"head", "retrain"} <= set(budget["strategies"].split(","))
    for s in later.SECTIONS:
        assert s.part == "CNNs" and s.title and s.point and s.claim
        assert s.seconds[0] <= s.seconds[1]
    assert sum(s.seconds[0] for s in later.SECTIONS) <= 100  # the quick book's share
