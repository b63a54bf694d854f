"""The book's "Applications of CNNs" sections: their order, budgets and texts. Each is built at
the test suite's tiny level in test_whole_book.py, with the whole book."""

from __future__ import annotations

from cnnlab.lecture import applications


def test_the_sections_follow_the_slides():
    keys = [s.key for s in applications.SECTIONS]
    assert keys == ["voice", "sentiment", "classification", "segmentation", "unet-3d", "rl",
                    "robotics"]  # fmt: skip
    budgets = applications.QUICK, applications.FULL, applications.TINY
    assert all(list(b) == keys for b in budgets)
    for key in keys:  # every level names the same options
        assert set(applications.TINY[key]) == set(applications.QUICK[key])
        assert set(applications.TINY[key]) == set(applications.FULL[key])
    for s in applications.SECTIONS:
        assert s.part == "Applications of CNNs" and s.title and s.point and s.claim
        assert s.seconds[0] <= s.seconds[1]
    assert {s.key: s.live for s in applications.SECTIONS if s.live} == {
        "voice": "audio", "sentiment": "text", "classification": "draw"}  # fmt: skip
